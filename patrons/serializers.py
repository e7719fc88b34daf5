from typing import cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core import api_fields
from core.api_pages import page_serializer
from core.bounds import COUNT_MAX, column_length
from patrons.models import (
    Guardianship,
    LoanHistoryChooser,
    Note,
    NoteCategory,
    NoteRevision,
    Patron,
    Trusteeship,
)

RESTRICTED_HELP = (
    "Processing of the patron's data is restricted (GDPR Art. 18): the data is only stored; every write, billing and "
    "Koha sync of the patron is refused (403 `processing_restricted`) until the data protection officer lifts it."
)


class PatronListSerializer(api_fields.FieldsBuiltOnce, api_fields.ModelSerializer):
    home_library = serializers.CharField(source="home_library.koha_library_id", read_only=True)
    processing_restricted = serializers.SerializerMethodField(help_text=RESTRICTED_HELP)

    def get_processing_restricted(self, patron) -> bool:
        return patron.processing_restricted  # annotated by patrons.selectors.patron_search

    class Meta:
        model = Patron
        fields = [
            "id",
            "koha_patron_id",
            "cardnumber",
            "first_name",
            "last_name",
            "home_library",
            "processing_restricted",
        ]
        read_only_fields = fields


class GuardianSerializer(api_fields.FieldsBuiltOnce, api_fields.ModelSerializer):
    guardian_id = serializers.IntegerField(source="guardian.id", read_only=True)

    class Meta:
        model = Guardianship
        fields = ["guardian_id", "relationship"]
        read_only_fields = fields


class ActiveBanSerializer(serializers.Serializer):
    """A ban or access prohibition in force, as the patron JSON lists it (patrons.restrictions.RestrictionInForce)."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    library = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class RegisterMembershipSerializer(serializers.Serializer):
    register = serializers.CharField()
    joined_on = serializers.DateField()
    consent_on = serializers.DateField(allow_null=True)


class PatronDetailSerializer(PatronListSerializer):
    """One patron; the context's `record` (a patrons.selectors.PatronRecord) adds bans, notices and registers."""

    guardians = GuardianSerializer(source="guardianships", many=True, read_only=True)
    notices_to = serializers.SerializerMethodField(help_text="Patron ids notices go to: guardians until 18")
    active_bans = serializers.SerializerMethodField()
    registers = serializers.SerializerMethodField()
    under_guardianship = serializers.SerializerMethodField(
        help_text="An adult under guardianship (edunvalvonta); the guardian's contact has its own URL"
    )
    loan_history_confirmation_due = serializers.SerializerMethodField(
        help_text="15 or 18: the patron has turned that age since their loan-history choice was recorded and is "
        "asked to confirm it (POST .../loan-history/confirm/); null when nothing awaits confirmation"
    )

    def _record(self):
        return self.context["record"]

    def get_notices_to(self, patron) -> list[int]:
        return self._record().notices_to

    @extend_schema_field(ActiveBanSerializer(many=True))
    def get_active_bans(self, patron) -> list[dict]:
        return cast(list[dict], ActiveBanSerializer(self._record().in_force, many=True).data)  # a ReturnList

    @extend_schema_field(RegisterMembershipSerializer(many=True))
    def get_registers(self, patron) -> list[dict]:
        return cast(list[dict], RegisterMembershipSerializer(self._record().registers, many=True).data)  # a ReturnList

    def get_under_guardianship(self, patron) -> bool:
        return self._record().under_trusteeship

    def get_loan_history_confirmation_due(self, patron) -> int | None:
        return self._record().loan_history_confirmation_due

    def get_processing_restricted(self, patron) -> bool:
        return self._record().processing_restriction is not None

    class Meta(PatronListSerializer.Meta):
        fields = [
            *PatronListSerializer.Meta.fields,
            "date_of_birth",
            "email",
            "phone",
            "street_address",
            "postal_code",
            "city",
            "card_expires_on",
            "status",
            "language",
            "loan_history",
            "loan_history_chosen_on",
            "loan_history_chosen_by",
            "loan_history_confirmation_due",
            "data_provided_by_guardian",
            "guardians",
            "notices_to",
            "active_bans",
            "registers",
            "under_guardianship",
        ]
        read_only_fields = fields


COUNT_EXACT_HELP = (
    "False when more than `count` patrons match: a search counts its matches up to 1,000 "
    "(patrons.selectors.SEARCH_COUNT_LIMIT), and its pages stop there."
)


class PatronPageSerializer(page_serializer("PatronPageBaseSerializer", PatronListSerializer)):  # type: ignore[misc]
    """One page of a patron search: `next` and `previous` are the neighbouring pages' URLs, null at either end;
    `count` stops at 1,000 (`count_exact` false: more match)."""

    count = serializers.IntegerField(help_text="How many match, up to 1,000.")
    count_exact = serializers.BooleanField(help_text=COUNT_EXACT_HELP)


class PatronSearchSerializer(serializers.Serializer):
    """The body of a search sent by POST, so the search never becomes part of a URL."""

    search = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="", help_text="Words to match; empty lists all."
    )
    page = serializers.IntegerField(
        required=False, min_value=1, max_value=COUNT_MAX, default=1, help_text="Page number, 25 per page."
    )


class PatronSearchPageSerializer(serializers.Serializer):
    """A page of a POSTed search: `next` and `previous` are page numbers to POST again with the same search
    (a URL would have to carry the search), null at either end."""

    count = serializers.IntegerField(help_text="How many match, up to 1,000.")
    count_exact = serializers.BooleanField(help_text=COUNT_EXACT_HELP)
    next = serializers.IntegerField(allow_null=True, help_text="The next page's number, or null on the last page.")
    previous = serializers.IntegerField(
        allow_null=True, help_text="The previous page's number, or null on the first page."
    )
    results = PatronListSerializer(many=True)


class NoteSerializer(api_fields.FieldsBuiltOnce, api_fields.ModelSerializer):
    """A note. `text` is null for a sensitive note in a list (open it by its own URL) and for a removed one."""

    sensitive = serializers.BooleanField(read_only=True)
    text = serializers.SerializerMethodField()
    removed = serializers.SerializerMethodField()
    library = serializers.CharField(source="library.koha_library_id", read_only=True)

    class Meta:
        model = Note
        fields = [
            "id",
            "category",
            "sensitive",
            "text",
            "library",
            "incident_on",
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
            "removed",
            "removed_at",
            "removed_by",
            "removal_reason",
        ]
        read_only_fields = fields

    def get_text(self, note: Note) -> str | None:
        if note.removed_at is not None:
            return None
        if hasattr(note, "listed_text"):  # from a list: sensitive texts were not read
            return None if note.sensitive else note.listed_text
        return note.text

    def get_removed(self, note: Note) -> bool:
        return note.removed_at is not None


class NoteRevisionSerializer(api_fields.ModelSerializer):
    class Meta:
        model = NoteRevision
        fields = ["text", "written_at", "written_by", "replaced_at"]
        read_only_fields = fields


class OpenedNoteSerializer(NoteSerializer):
    revisions = NoteRevisionSerializer(many=True, read_only=True)

    class Meta(NoteSerializer.Meta):
        fields = [*NoteSerializer.Meta.fields, "revisions"]
        read_only_fields = fields


class NoteCreateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=NoteCategory.choices)
    text = serializers.CharField(trim_whitespace=True)
    library = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Koha library_id of the library where the incident happened (default: the patron's home library)",
    )
    incident_on = api_fields.DateField(
        required=False, allow_null=True, default=None, help_text="Date of the incident (default: today)"
    )


class NoteUpdateSerializer(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=True)


class NoteRemoveSerializer(serializers.Serializer):
    reason = serializers.CharField(
        trim_whitespace=True, allow_blank=True, default="", max_length=column_length(Note, "removal_reason")
    )


class PatronChoicesSerializer(serializers.Serializer):
    """The patron's own choices; a field left out stays as it is."""

    loan_history = api_fields.CountField(required=False, help_text="Koha privacy: 0 keep, 1 default, 2 never")
    loan_history_chosen_by = serializers.ChoiceField(
        choices=LoanHistoryChooser.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Who chose the loan history: needed when it changes (a guardian only for a child under 13)",
    )
    newsletter = serializers.BooleanField(required=False, help_text="Email only; joining records the consent date")
    home_service = serializers.BooleanField(required=False)
    interlibrary_loans = serializers.BooleanField(required=False)


class LoanHistoryConfirmSerializer(serializers.Serializer):
    chosen_by = serializers.ChoiceField(
        choices=[LoanHistoryChooser.PATRON, LoanHistoryChooser.PATRON_ONLINE],
        required=False,
        default=LoanHistoryChooser.PATRON,
        help_text="The patron at the desk (default) or online: only the patron confirms",
    )


class LoanHistoryConfirmationSerializer(PatronListSerializer):
    """A patron on the "confirm loan-history choice" list."""

    class Meta(PatronListSerializer.Meta):
        fields = [
            *PatronListSerializer.Meta.fields,
            "loan_history",
            "loan_history_chosen_on",
            "loan_history_chosen_by",
        ]
        read_only_fields = fields


LoanHistoryConfirmationPageSerializer = page_serializer(
    "LoanHistoryConfirmationPageSerializer", LoanHistoryConfirmationSerializer
)


class TrusteeshipSerializer(api_fields.ModelSerializer):
    class Meta:
        model = Trusteeship
        fields = ["guardian_name", "guardian_phone", "guardian_email", "recorded_at", "recorded_by"]
        read_only_fields = ["recorded_at", "recorded_by"]
