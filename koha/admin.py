"""The Koha connections in the admin: superusers only, their own consortium's only.

The secret is a write-only field: the form never renders it (not even as dots), an empty field keeps the
stored one, and the save goes through koha.services.koha_connection_save, which logs every change (fields
named, values never) as an access event.
"""

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from koha.models import KohaConnection, KohaDeparture, KohaRestriction, KohaRestrictionPush, SyncRun
from koha.services import koha_base_url_clean, koha_connection_save
from staff.actor import actor_from_request
from staff.admin import OwnConsortiumChoices
from staff.admin_bounds import BoundedInputsAdmin
from staff.scoping import ConsortiumScopedQuerySet
from staff.selectors import consortium_id_of

DPO_PERMISSION = "dpo.manage_subject_requests"

COUNT_LABELS = {
    "created": _("created"),
    "updated": _("updated"),
    "unchanged": _("unchanged"),
    "restricted": _("processing restricted, not overwritten"),
    "refused": _("refused"),
    "erased_here": _("erased here, not brought back"),
    "flagged": _("gone, flagged"),
    "marked_removed": _("gone, marked removed"),
    "libraries_matched": _("libraries matched"),
    "libraries_unmatched": _("libraries unmatched"),
}
# The codes of core.privacy_contract.open_matters, as the DPO reads them.
MATTER_LABELS = {
    "ban": _("a ban in procedure or in force"),
    "access_prohibition": _("an access prohibition in force"),
    "subject_request": _("an unanswered data-subject request"),
}


class KohaConnectionForm(forms.ModelForm):
    new_secret = forms.CharField(
        label=_("client secret or password"),
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Never shown. Leave empty to keep the stored secret."),
    )

    class Meta:
        model = KohaConnection
        fields = ["consortium", "base_url", "staff_url", "auth", "client_id", "enabled"]

    def clean_base_url(self) -> str:
        return koha_base_url_clean(self.cleaned_data["base_url"])

    def clean_staff_url(self) -> str:
        staff_url = self.cleaned_data["staff_url"]
        return koha_base_url_clean(staff_url) if staff_url else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None and not cleaned.get("new_secret"):
            self.add_error("new_secret", _("A new connection needs its secret."))
        return cleaned


@admin.register(KohaConnection)
class KohaConnectionAdmin(OwnConsortiumChoices, BoundedInputsAdmin):
    form = KohaConnectionForm
    list_display = ["consortium", "base_url", "auth", "client_id", "enabled", "secret_changed_at", "updated_at"]
    list_select_related = ["consortium"]
    readonly_fields = ["secret_changed_at", "created_at", "updated_at"]

    def get_fields(self, request, obj=None):
        return [
            "consortium",
            "base_url",
            "staff_url",
            "auth",
            "client_id",
            "new_secret",
            "enabled",
            *self.readonly_fields,
        ]

    def get_readonly_fields(self, request, obj=None):
        # The secret is bound to its consortium (koha/crypto.py): a connection does not move.
        return [*self.readonly_fields, "consortium"] if obj is not None else self.readonly_fields

    def get_queryset(self, request):
        return cast(ConsortiumScopedQuerySet, super().get_queryset(request)).of_consortium(
            consortium_id_of(request.user)
        )

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_change_permission = has_view_permission

    def has_delete_permission(self, request, obj=None):
        return False  # turned off (`enabled`) instead, which is logged like every other change

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def save_model(self, request, obj, form, change):
        cleaned = form.cleaned_data
        saved, _changed = koha_connection_save(
            actor=actor_from_request(request),
            consortium=obj.consortium,
            base_url=cleaned["base_url"],
            auth=cleaned["auth"],
            client_id=cleaned["client_id"],
            secret=cleaned.get("new_secret") or None,
            enabled=cleaned["enabled"],
            staff_url=cleaned["staff_url"],
        )
        for field in KohaConnection._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))


class KohaReadOnlyAdmin(BoundedInputsAdmin):
    """What the sync recorded, for the DPO (`dpo.manage_subject_requests`) and superusers of the consortium.

    Read-only: the sync writes these rows, and a departure goes only by the DPO's erasure or when Koha has the
    patron again. The permission is named as a string: koha/ does not import dpo/.
    """

    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm(DPO_PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SyncRun)
class SyncRunAdmin(KohaReadOnlyAdmin):
    list_display = ["id", "kind", "status", "started_at", "finished_at", "pages_done", "counts_column", "error_code"]
    list_filter = ["kind", "status"]
    # Not `pending_guardians`: it holds card numbers, and the DPO needs none of them here.
    fields = (
        "kind",
        "status",
        "since",
        "started_at",
        "finished_at",
        "pages_done",
        "after_patron_id",
        "total",
        "counts_column",
        "error_code",
        "refused_column",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncRun]:
        return SyncRun.objects.of_consortium(consortium_id_of(request.user))

    @admin.display(description=_("counts"))
    def counts_column(self, run: SyncRun) -> str:
        return ", ".join(f"{COUNT_LABELS.get(name, name)} {value}" for name, value in run.counts.items() if value)

    @admin.display(description=_("refused Koha patron ids"))
    def refused_column(self, run: SyncRun) -> str:
        return ", ".join(map(str, sorted(run.refused_ids)))


class FlaggedFilter(admin.SimpleListFilter):
    title = _("open matters")
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Flagged: open matters here")), ("no", _("Marked removed: waiting for an erasure"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[KohaDeparture]) -> QuerySet[KohaDeparture]:
        if self.value() == "yes":
            return queryset.exclude(open_matters=[])
        if self.value() == "no":
            return queryset.filter(open_matters=[])
        return queryset


@admin.register(KohaDeparture)
class KohaDepartureAdmin(KohaReadOnlyAdmin):
    """The patrons gone from Koha: those marked removed wait for the DPO's erasure (a subject request)."""

    list_display = ["patron_column", "noticed_at", "state_column", "matters_column"]
    list_filter = [FlaggedFilter]
    search_fields = ["=patron__id"]
    search_help_text = _("A patron id.")
    fields = ("patron_column", "noticed_at", "state_column", "matters_column")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[KohaDeparture]:
        return KohaDeparture.objects.of_consortium(consortium_id_of(request.user)).order_by("-noticed_at", "-id")

    @admin.display(description=_("patron"), ordering="patron_id")
    def patron_column(self, departure: KohaDeparture) -> str:
        # The id only: a name would put every departed patron's name on one page.
        return format_html(
            '<a href="{}">{}</a>', reverse("patrons:detail", args=[departure.patron_id]), departure.patron_id
        )

    @admin.display(description=_("state"))
    def state_column(self, departure: KohaDeparture) -> str:
        return str(
            _("Flagged: open matters here") if departure.flagged else _("Marked removed: waiting for an erasure")
        )

    @admin.display(description=_("open matters"))
    def matters_column(self, departure: KohaDeparture) -> str:
        return ", ".join(str(MATTER_LABELS.get(code, code)) for code in departure.open_matters)


@admin.register(KohaRestriction)
class KohaRestrictionAdmin(KohaReadOnlyAdmin):
    """The bans and access prohibitions this service keeps in Koha as restrictions, and those waiting to be retried:
    refs, ids and dates only."""

    list_display = [
        "ref",
        "koha_patron_id",
        "library_id",
        "starts_on",
        "ends_on",
        "in_koha",
        "to_remove_column",
        "attempts",
        "next_attempt_at",
        "last_error_code",
    ]
    list_filter = ["in_koha", "kind", ("patron", admin.EmptyFieldListFilter)]
    search_fields = ["=ref", "=koha_patron_id"]
    fields = (
        "ref",
        "kind",
        "koha_patron_id",
        "koha_restriction_id",
        "library_id",
        "starts_on",
        "ends_on",
        "in_koha",
        "attempts",
        "next_attempt_at",
        "last_error_code",
        "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[KohaRestriction]:
        return KohaRestriction.objects.of_consortium(consortium_id_of(request.user)).order_by("ref")

    @admin.display(description=_("patron erased: to be removed"), boolean=True)
    def to_remove_column(self, row: KohaRestriction) -> bool:
        # The erasure detaches the row; it stays until Koha confirms the removal (last error: why not yet).
        return row.patron_id is None


@admin.register(KohaRestrictionPush)
class KohaRestrictionPushAdmin(KohaReadOnlyAdmin):
    """Each call of the restriction push and its outcome: what Koha was told, and when."""

    list_display = ["at", "ref", "action", "outcome", "http_status", "error_code"]
    list_filter = ["action", "outcome"]
    search_fields = ["=ref"]
    fields = ("at", "ref", "action", "outcome", "http_status", "error_code")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[KohaRestrictionPush]:
        return KohaRestrictionPush.objects.of_consortium(consortium_id_of(request.user))
