"""What the service keeps about Koha: each consortium's connection, and the receipts of the views Koha reported.

The connection says where a consortium's Koha is and how this service logs in to it.

The secret (the OAuth2 client secret, or the Basic password) is kept encrypted (koha/crypto.py) and is
never shown back: not in the admin, a command's output, a log line, an error, `str` or `repr`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from koha import crypto
from koha.client import KohaClient
from staff.models import Consortium, MachineKey
from staff.scoping import ConsortiumScopedQuerySet


class AuthMethod(models.TextChoices):
    OAUTH2 = "oauth2", _("OAuth2 client credentials (an API key of a Koha patron)")
    BASIC = "basic", _("Basic (user name and password; Koha's RESTBasicAuth)")


class KohaConnection(models.Model):
    consortium_lookup = "consortium_id"

    consortium = models.OneToOneField(
        Consortium, on_delete=models.PROTECT, related_name="koha_connection", verbose_name=_("consortium")
    )
    base_url = models.URLField(
        _("Koha's address"), max_length=200, help_text=_("Without /api/v1, e.g. https://koha.example.fi")
    )
    # Where staff open a patron in Koha (koha.selectors.koha_staff_patron_url): Koha's staff interface often has
    # its own host (koha-staff.example.fi, or a port), which the REST API's address above need not be.
    staff_url = models.URLField(
        _("Koha's staff interface address"),
        max_length=200,
        blank=True,
        help_text=_("E.g. https://koha-staff.example.fi; empty: the same as Koha's address."),
    )
    auth = models.CharField(_("authentication"), max_length=10, choices=AuthMethod.choices, default=AuthMethod.OAUTH2)
    client_id = models.CharField(
        _("client id or user name"),
        max_length=200,
        help_text=_("The OAuth2 client id of the API key, or the Basic user name."),
    )
    secret_key_id = models.CharField(max_length=32, editable=False)
    secret_nonce = models.BinaryField(editable=False)
    secret_ciphertext = models.BinaryField(editable=False)
    secret_changed_at = models.DateTimeField(_("secret changed at"), null=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("Koha connection")
        verbose_name_plural = _("Koha connections")

    def __str__(self) -> str:
        return str(self.base_url)

    @sensitive_variables("secret")
    def secret_set(self, secret: str) -> None:
        """Encrypt `secret` into the row (not saved here)."""
        self.secret_key_id, self.secret_nonce, self.secret_ciphertext = crypto.secret_encrypt(
            secret, consortium_id=self.consortium_id
        )

    def secret(self) -> str:
        return crypto.secret_decrypt(
            key_id=self.secret_key_id,
            nonce=self.secret_nonce,
            ciphertext=self.secret_ciphertext,
            consortium_id=self.consortium_id,
        )

    @sensitive_variables("secret")
    def client(self) -> KohaClient:
        """A client of this Koha, logged in with the stored secret."""
        return KohaClient(base_url=self.base_url, auth=self.auth, client_id=self.client_id, secret=self.secret())


class KohaViewReceipt(models.Model):
    """One view of a patron in Koha's staff interface, received once: the reason a repeat is not logged twice.

    Koha's plugin names each view with an event id of its own making and sends a batch again when it did not
    get the answer; the unique (consortium, event id) makes the second time a no-op. Per consortium rather than
    per key, so a rotated key's client resending a batch is still recognised. Written in the same transaction
    as the view's access event, which it points to.
    """

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, verbose_name=_("consortium"))
    event_id = models.CharField(_("Koha's event id"), max_length=64)
    key = models.ForeignKey(MachineKey, on_delete=models.PROTECT, verbose_name=_("machine client key"))
    viewed_at = models.DateTimeField(_("viewed in Koha at"))
    received_at = models.DateTimeField(_("received"))
    access_event_id = models.BigIntegerField(_("access event"))

    class Meta:
        verbose_name = _("view reported by Koha")
        verbose_name_plural = _("views reported by Koha")
        default_permissions = []
        # The named permissions a machine client key can hold (staff.models.MachineKey.permissions).
        permissions = [
            ("view_privacy_status", _("Can read a patron's privacy status (machine clients)")),
            ("record_views", _("Can report patron views made in Koha (machine clients)")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "event_id"], name="kohaviewreceipt_unique_event"),
        ]

    def __str__(self) -> str:
        return f"{_('view reported by Koha')} #{self.pk}"


class SyncKind(models.TextChoices):
    FULL = "full", _("Full")
    INCREMENTAL = "incremental", _("Changes since the last sync")


class SyncStatus(models.TextChoices):
    RUNNING = "running", _("Running or interrupted")
    FAILED = "failed", _("Stopped by an error")
    COMPLETED = "completed", _("Completed")


class SyncRun(models.Model):
    """One `koha_sync` of a consortium: where it got to, so that an interrupted run is resumed, not restarted.

    Pages are read by Koha patron id (`after_patron_id` is the last id of the last page written): the next
    invocation of a run that crashed or met a Koha outage continues after it, with the same `since`. The
    `since` of an incremental run is the start of the last completed one, less an overlap (clocks differ).
    """

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="koha_sync_runs", verbose_name=_("consortium")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=SyncKind.choices)
    since = models.DateTimeField(_("changes since"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    pages_done = models.PositiveIntegerField(_("pages written"), default=0)
    after_patron_id = models.PositiveBigIntegerField(_("last Koha patron id written"), default=0)
    total = models.PositiveIntegerField(_("patrons in Koha to read"), default=0)
    # created, updated, unchanged, refused, flagged, marked_removed, libraries_matched, libraries_unmatched.
    counts = models.JSONField(_("counts"), default=dict)
    # Koha patron ids only (never a name): the records refused, and the guarantor links waiting for their
    # guarantor's record (ward's Koha id, guarantor's card number, relationship).
    refused_ids = models.JSONField(_("refused Koha patron ids"), default=list)
    pending_guardians = models.JSONField(default=list)
    error_code = models.CharField(_("error"), max_length=30, blank=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("Koha sync")
        verbose_name_plural = _("Koha syncs")
        ordering = ["-started_at", "-id"]
        default_permissions = []
        indexes = [models.Index(fields=["consortium", "status", "-started_at"], name="syncrun_latest_idx")]

    def __str__(self) -> str:
        return f"{_('Koha sync')} #{self.pk}"


class KohaDeparture(models.Model):
    """A patron of ours whose Koha record is gone (a full sync found its Koha id missing and Koha said 404).

    Flagged when something of ours is still open about the patron (a ban in force or in procedure, an
    unanswered data-subject request: `open_matters`), else marked: the record waits for the DPO's erasure,
    the one path that removes a patron with its ledger entry and access event. Removed when Koha has the
    patron again.
    """

    consortium_lookup = "patron__consortium_id"

    patron = models.OneToOneField(
        "patrons.Patron", on_delete=models.CASCADE, related_name="koha_departure", verbose_name=_("patron")
    )
    noticed_at = models.DateTimeField(_("noticed gone from Koha"))
    open_matters = models.JSONField(_("open matters"), default=list, help_text=_("Flagged when not empty."))

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("patron gone from Koha")
        verbose_name_plural = _("patrons gone from Koha")
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('patron gone from Koha')} #{self.pk}"

    @property
    def flagged(self) -> bool:
        return bool(self.open_matters)


class ImportFindingKind(models.TextChoices):
    INVALID = "invalid", _("Koha held an invalid identity code; it was removed from Koha and not stored")
    DIFFERS = "differs", _("Koha held another identity code than the one stored here; the stored one was kept")


class IdentityCodeImportFinding(models.Model):
    """A code in Koha's identity-code attribute that koha_import_identity_codes could not store: billing's list.

    Never the code: which patron, what was wrong, when. Koha's value was replaced by the patron's key all
    the same (koha.identity_import), so no code stays in Koha; billing asks the patron for the code and
    stores it, and the row leaves the list once a code is stored. Deleted with the patron (erasure).
    """

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="+", verbose_name=_("consortium"))
    patron = models.OneToOneField(
        "patrons.Patron", on_delete=models.CASCADE, related_name="+", verbose_name=_("patron")
    )
    kind = models.CharField(_("finding"), max_length=10, choices=ImportFindingKind.choices)
    found_at = models.DateTimeField(_("found"), auto_now=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("identity code found in Koha")
        verbose_name_plural = _("identity codes found in Koha")
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('identity code found in Koha')} #{self.pk}"


class ErasedKohaPatron(models.Model):
    """A Koha patron id whose patron this service erased: `koha_sync` never brings that patron back.

    When Koha keeps the patron after an erasure here (loans not returned, a debt: its 409), or deletes it only
    later, its record would otherwise return with the next sync as a new patron, and the erasure (GDPR Art. 17)
    would be undone silently. Only the opaque Koha id and the day are kept: the least that keeps the erasure.
    Written by koha/privacy.py's erasure inside the erasure's transaction; Koha never reuses a patron id.
    """

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="+", verbose_name=_("consortium"))
    koha_patron_id = models.PositiveBigIntegerField(_("Koha patron id"))
    erased_on = models.DateField(_("erased on"))

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("patron erased here, by Koha id")
        verbose_name_plural = _("patrons erased here, by Koha id")
        default_permissions = []
        constraints = [
            models.UniqueConstraint(fields=["consortium", "koha_patron_id"], name="erasedkohapatron_unique"),
        ]

    def __str__(self) -> str:
        return f"{_('patron erased here, by Koha id')} #{self.pk}"


class KohaRestriction(models.Model):
    """A ban or access prohibition this service keeps in Koha as a patron restriction (debarment), by its ref.

    Holds what was last put into Koha (the fields of the plugin's PUT), whether Koha has it now, and the
    back-off after failures: the push (koha.restrictions) compares what is in force today with these rows,
    puts the missing or changed ones and deletes the ones no longer in force, then the row goes. Ids and
    dates only: no name, no ban reason or text.

    A row outlives its patron: the erasure (or any deletion of the patron) detaches it (`patron` NULL), which
    marks it to be removed from Koha; it goes once Koha confirms the removal (the plugin's DELETE, or Koha's
    deletion of the patron), and until then each push retries it, so an erased patron is never left restricted
    at Koha's desk with nothing here that remembers it.
    """

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="+", verbose_name=_("consortium"))
    patron = models.ForeignKey(
        "patrons.Patron",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patron"),
        help_text=_("Empty once the patron is erased: the restriction is then to be removed from Koha."),
    )
    ref = models.CharField(_("reference"), max_length=40, help_text=_("ban-<id> or prohibition-<id>"))
    koha_patron_id = models.PositiveBigIntegerField(_("Koha patron id"))
    kind = models.CharField(_("kind"), max_length=20)
    library_id = models.CharField(_("Koha library id"), max_length=10)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    koha_restriction_id = models.PositiveBigIntegerField(_("Koha's restriction id"), null=True, blank=True)
    in_koha = models.BooleanField(_("in Koha"), default=False)
    attempts = models.PositiveIntegerField(_("failed attempts in a row"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error_code = models.CharField(_("last error"), max_length=40, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("restriction in Koha")
        verbose_name_plural = _("restrictions in Koha")
        default_permissions = []
        constraints = [
            models.UniqueConstraint(fields=["consortium", "ref"], name="koharestriction_unique_ref"),
        ]

    def __str__(self) -> str:
        return self.ref


class PushAction(models.TextChoices):
    PUT = "put", _("put into Koha")
    DELETE = "delete", _("removed from Koha")


class PushOutcome(models.TextChoices):
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class KohaRestrictionPush(models.Model):
    """One call of the restriction push to Koha and its outcome: the record that says what Koha was told and
    when. Written once, never changed (nothing updates it; the admin is read-only); kept for
    KOHA_PUSH_RECORD_RETENTION (koha/privacy.py). The ref, never a name or a text."""

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="+", verbose_name=_("consortium"))
    ref = models.CharField(_("reference"), max_length=40)
    action = models.CharField(_("action"), max_length=10, choices=PushAction.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=PushOutcome.choices)
    http_status = models.PositiveSmallIntegerField(_("Koha's HTTP status"), null=True, blank=True)
    error_code = models.CharField(_("error"), max_length=40, blank=True)
    at = models.DateTimeField(_("at"), db_index=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("restriction push to Koha")
        verbose_name_plural = _("restriction pushes to Koha")
        ordering = ["-at", "-id"]
        default_permissions = []

    def __str__(self) -> str:
        return f"{self.ref} {self.action} {self.outcome}"
