"""The JSON API for registering a patron (POST /api/v1/patrons/) and recording a PIN given by phone.

Thin: the actor comes from staff.access, the rules live in patrons.services; a broken rule is a 400
`{"detail", "code", "rule"}` (core.api_errors).
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import api_fields
from core.bounds import column_length
from patrons.models import GuardianRelationship, Patron
from patrons.selectors import PatronRecord, notice_recipient_ids
from patrons.serializers import OpenedNoteSerializer, PatronDetailSerializer
from patrons.services.closures import PIN_DETAILS_MAX_LENGTH, PinVerification, pin_by_phone_record
from patrons.services.registration import patron_register
from staff.access import patron_data_actor


class PatronRegisterSerializer(serializers.Serializer):
    """A new patron. Rules (registration frozen, card number taken, guardian...) answer 400 with `rule`;
    blank values are the service's to refuse, so that they too name their rule."""

    cardnumber = serializers.CharField(max_length=column_length(Patron, "cardnumber"), allow_blank=True)
    first_name = serializers.CharField(max_length=column_length(Patron, "first_name"), allow_blank=True)
    last_name = serializers.CharField(max_length=column_length(Patron, "last_name"), allow_blank=True)
    date_of_birth = api_fields.DateField(required=False, allow_null=True, default=None)
    home_library = serializers.CharField(help_text="Koha library_id (branchcode) of the home library")
    email = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=column_length(Patron, "email")
    )
    phone = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=column_length(Patron, "phone")
    )
    street_address = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=column_length(Patron, "street_address")
    )
    postal_code = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=column_length(Patron, "postal_code")
    )
    city = serializers.CharField(required=False, allow_blank=True, default="", max_length=column_length(Patron, "city"))
    language = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="fi, sv or en; default: the consortium's language"
    )
    loan_history = api_fields.CountField(
        required=False,
        default=2,
        help_text="Koha's privacy: 0 keep, 1 library default, 2 do not keep (the default: keeping is an opt-in)",
    )
    guardian = api_fields.IdField(
        required=False, allow_null=True, default=None, help_text="The guardian's patron id (under 15: required)"
    )
    guardian_cardnumber = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Or the guardian's card number"
    )
    relationship = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=f"The guardian's relationship: {', '.join(GuardianRelationship.values)} (default guardian)",
    )
    koha_patron_id = api_fields.IdField(required=False, allow_null=True, default=None)


register_schema = extend_schema(
    operation_id="patrons_register",
    summary="Register a new patron",
    description="A patron of the caller's consortium. Refused (400 with `rule`) while a closure period freezes "
    "registration (`registration_frozen`), and for `library_unknown`, `cardnumber_taken`, "
    "`date_of_birth_required`, `date_of_birth_in_future`, `guardian_required` (under 15), `guardian_unknown`, "
    "`guardian_not_adult`, and `identity_code_in_text` for a personal identity code in a name, the address, the "
    "email address or the phone number (nothing of it is echoed). A patron under 15 is registered with a guardian, and "
    "`data_provided_by_guardian` is true. Logged as `patron_register`.",
    request=PatronRegisterSerializer,
    responses={201: PatronDetailSerializer},
)


def patron_register_response(request: Request) -> Response:
    """POST /api/v1/patrons/ (PatronListApi.post): register, and answer the new patron as the detail JSON."""
    actor = patron_data_actor(request)
    body = PatronRegisterSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    patron = patron_register(actor=actor, **body.validated_data)
    # Only what the caller has just written; the registration's own access event covers it.
    record = PatronRecord(patron=patron, notices_to=notice_recipient_ids(patron))
    headers = {"Location": reverse("api:patron-detail", kwargs={"patron_id": patron.pk})}
    return Response(PatronDetailSerializer(patron, context={"record": record}).data, status=201, headers=headers)


class PinByPhoneSerializer(serializers.Serializer):
    verification = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=f"How the caller's identity was verified: {', '.join(PinVerification.values)}",
    )
    details = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=PIN_DETAILS_MAX_LENGTH, help_text="Optional"
    )


class PinByPhoneApi(APIView):
    @extend_schema(
        operation_id="patron_pin_by_phone_record",
        summary="Record a PIN given by phone",
        description="Allowed only while a closure period that allows it is in force (`pin_by_phone_not_allowed`); "
        "`verification` is required (`verification_required`, `verification_unknown`). Becomes a note of "
        "category `pin_by_phone` in the consortium's language, the note a Koha sync shows in Koha's patron "
        "messages.",
        request=PinByPhoneSerializer,
        responses={201: OpenedNoteSerializer},
    )
    def post(self, request: Request, patron_id: int) -> Response:
        actor = patron_data_actor(request)
        body = PinByPhoneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = pin_by_phone_record(actor=actor, patron_id=patron_id, **body.validated_data)
        return Response(OpenedNoteSerializer(note).data, status=201)
