"""The machine API's bodies: the privacy status Koha reads and the views it reports."""

import ipaddress

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from audit.models import Outcome
from core import api_fields
from koha.selectors import TRUSTEESHIP_MARK
from patrons.models import SENSITIVE_NOTE_CATEGORIES, LoanHistoryChooser, LoanHistoryPreference
from staff.client_ip import IPAddress

EVENT_ID = RegexValidator(
    r"\A[A-Za-z0-9._:-]{1,64}\Z", _("Give the event id as 1 to 64 letters, digits or . _ : -"), code="invalid_event_id"
)
PAGE = RegexValidator(
    r"\A[A-Za-z0-9._/-]{1,60}\Z", _("Give the page as 1 to 60 letters, digits or . _ / -"), code="invalid_page"
)


class RestrictionSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="`library_use_ban` (Finland) or `access_prohibition` (Sweden).")
    library = serializers.CharField(help_text="Koha's library_id (branchcode) of the library it concerns.")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class PrivacyStatusLinksSerializer(serializers.Serializer):
    patron = serializers.CharField(help_text="The patron's page in this service, a path relative to its address.")
    billing = serializers.CharField(
        allow_null=True,
        help_text="Billing's page to reveal the identity code (billing clerks only), when one is stored and the "
        "patron's processing is not restricted; else null.",
    )


class PrivacyStatusSerializer(serializers.Serializer):
    koha_patron_id = serializers.IntegerField()
    restrictions = RestrictionSerializer(many=True, help_text="Bans and access prohibitions in force today.")
    sensitive_marks = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted([*SENSITIVE_NOTE_CATEGORIES, TRUSTEESHIP_MARK])),
        help_text="Categories of the sensitive marks present (never their text).",
    )
    notices_to_guardians = serializers.BooleanField(help_text="Notices go to the guardians (a minor with guardians).")
    processing_restricted = serializers.BooleanField(
        help_text="The patron's processing is restricted (GDPR Art. 18): the data may only be stored, so Koha's staff "
        "must not change or bill it until the data protection officer lifts the restriction."
    )
    loan_history = serializers.ChoiceField(
        choices=LoanHistoryPreference.choices,
        help_text="Koha's `privacy` value: 0 kept, 1 library default, 2 not kept. The patron's choice only when "
        "`loan_history_chosen_on` is set.",
    )
    loan_history_chosen_on = serializers.DateField(
        allow_null=True,
        help_text="The day the patron's (or, under 13, a guardian's) choice of `loan_history` was recorded; null: not "
        "a recorded choice (a value from Koha, or nobody asked).",
    )
    loan_history_chosen_by = serializers.ChoiceField(
        choices=LoanHistoryChooser.choices,
        allow_null=True,
        help_text="Who made the recorded choice; null when `loan_history_chosen_on` is.",
    )
    loan_history_confirmation_due = serializers.IntegerField(
        allow_null=True,
        help_text="15 or 18: the patron has turned that age since the choice was recorded and is asked to confirm "
        "it; null when nothing awaits confirmation.",
    )
    identity_code_stored = serializers.BooleanField(
        help_text="Whether the silo holds an identity code (never the code)."
    )
    links = PrivacyStatusLinksSerializer()


class ServiceSerializer(serializers.Serializer):
    service = serializers.CharField(help_text="Always `patron-privacy`.")
    api_version = serializers.IntegerField(help_text="The machine API's version (1).")
    plugin_min_version = serializers.CharField(help_text="The oldest Koha plugin version this service works with.")
    plugin_supported = serializers.BooleanField(
        help_text="Whether the version in `X-Patron-Privacy-Plugin` is at least `plugin_min_version` (false when "
        "the header is missing or not a version)."
    )
    consortium = serializers.CharField(help_text="The short name of the key's consortium.")
    permissions = serializers.ListField(child=serializers.CharField(), help_text="The key's permissions.")


class ReportedViewSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=64, validators=[EVENT_ID], help_text="The client's own id of the view.")
    koha_patron_id = api_fields.IdField()
    staff_userid = serializers.CharField(max_length=75, help_text="The staff member's Koha user id.")
    staff_address = serializers.IPAddressField(help_text="The staff member's client address as Koha saw it.")
    page = serializers.CharField(max_length=60, validators=[PAGE], help_text="Koha's page, e.g. `moremember`.")
    viewed_at = api_fields.DateTimeField()

    def validate_staff_address(self, value: str) -> IPAddress:
        """An address object as the allow-list takes it; an IPv4-mapped IPv6 address is its IPv4 one."""
        address = ipaddress.ip_address(value)
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        return mapped or address


class ReportedViewsSerializer(serializers.Serializer):
    views = serializers.ListField(
        child=ReportedViewSerializer(), min_length=1, max_length=settings.KOHA_VIEWS_BATCH_MAX
    )


class ViewAnswerSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["recorded", "duplicate", "unknown_patron"])
    staff_user_known = serializers.BooleanField(
        allow_null=True, help_text="Recorded views: whether the Koha user id matched a staff member."
    )
    network_allowed = serializers.BooleanField(
        allow_null=True,
        help_text=f"Recorded views: whether the staff address is allowed; if not, the view is `{Outcome.REPORTED}`.",
    )


class ViewAnswersSerializer(serializers.Serializer):
    views = ViewAnswerSerializer(many=True)
