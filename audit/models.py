"""The access log: one append-only, hash-chained row for every read or refusal.

An event says who (user id and username as it was, their municipality), from
where (client address), what (action, data categories, reason) and whose data
(opaque patron ids), and whether it was allowed. It never holds the data
itself: no names, no identity codes, no search terms.

Append-only is enforced by the database (triggers on SQLite and PostgreSQL,
and on PostgreSQL the runtime role has no UPDATE/DELETE/TRUNCATE grant), not
by this module. Tampering that gets past the database anyway is detected: see
audit/chain.py for the keyed chain and audit/checkpoints.py for the signed
checkpoints of its head.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.free_text_fields import FreeTextCharField


class Action(models.TextChoices):
    """What an access event records: the vocabulary the writer (audit.services.access_event_record) accepts.

    Not the model field's choices, so that a new action needs no migration; the admin, the API and the
    access report show the label from here.
    """

    LOGIN = "login", _("Log-in")
    REQUEST = "request", _("Request")
    PATRON_SEARCH = "patron_search", _("Patron search")
    PATRON_VIEW = "patron_view", _("Patron record viewed")
    ACCESS_LOG_VIEW = "access_log_view", _("Patron's access log viewed")
    IDENTITY_CODE_STORE = "identity_code_store", _("Identity code stored")
    IDENTITY_CODE_REVEAL = "identity_code_reveal", _("Identity code revealed")
    IDENTITY_CODE_LOOKUP = "identity_code_lookup", _("Patron looked up by identity code")
    SENSITIVE_READ = "sensitive_read", _("Sensitive information opened")
    PATRON_REGISTER = "patron_register", _("Patron registered")
    PATRON_UPDATE = "patron_update", _("Patron data changed")
    BAN_ARCHIVE_VIEW = "ban_archive_view", _("Ban decision archive read")
    BAN_QUEUE_VIEW = "ban_queue_view", _("Bans awaiting a decider's step listed")
    CARDS_EXTENDED = "cards_extended", _("Expired cards extended")
    SUBJECT_REQUEST = "subject_request", _("Data-subject request handled")
    ACCESS_REPORT = "access_report", _("Access report made")
    ERASURE_PLAN = "erasure_plan", _("Erasure planned: what it would remove listed (nothing erased)")
    PATRON_ERASE = "patron_erase", _("Patron's data erased")
    ERASURE_REAPPLIED = "erasure_reapplied", _("Erasures re-applied after a restore")
    BREACH_CONTACTS = "breach_contacts", _("Contacts of people concerned by a breach listed")
    ACCESS_REVIEW = "access_review", _("Access review read")
    RETENTION_APPLIED = "retention_applied", _("Retention applied")
    LOGOUT = "logout", _("Log-out")
    TWO_FACTOR = "two_factor", _("Two-factor authentication")
    ROLE_CHANGE = "role_change", _("Role granted or removed")
    IDENTITY_CODE_CONFLICT = "identity_code_conflict", _("Identity code conflict handled")
    ACCOUNT_CHANGE = "account_change", _("User account created or its password set")
    KOHA_CONNECTION_CHANGE = "koha_connection_change", _("Koha connection set up or changed")
    KOHA_PRIVACY_STATUS = "koha_privacy_status", _("Privacy status read by Koha")
    KOHA_PATRON_VIEW = "koha_patron_view", _("Patron record viewed in Koha")
    KOHA_VIEWS_RECEIVED = "koha_views_received", _("Views in Koha received")
    KOHA_READ = "koha_read", _("Patron's data read from Koha")
    KOHA_PATRON_DELETE = "koha_patron_delete", _("Patron deleted in Koha")
    KOHA_SYNC = "koha_sync", _("Patrons synced from Koha")
    MACHINE_KEY_CHANGE = "machine_key_change", _("Machine client key created, changed or revoked")
    KOHA_CODE_FINDING = "koha_code_finding", _("Identity code found in Koha listed or checked")


class Outcome(models.TextChoices):
    ALLOWED = "allowed", _("Allowed")
    DENIED = "denied", _("Denied")
    # Report mode of a municipality's allow-list: let through, but it would have been denied.
    REPORTED = "reported", _("Allowed (would be denied)")


class DataCategory(models.TextChoices):
    """What kind of a patron's data was shown; the report a patron gets names these."""

    LISTING = "listing", _("Name and card number in a list")
    BASIC = "basic", _("Basic details (name, card, date of birth, library)")
    CONTACT = "contact", _("Contact details")
    GUARDIANS = "guardians", _("Guardians")
    PREFERENCES = "preferences", _("Language and loan history choice")
    ACCESS_LOG = "access_log", _("Access log")
    IDENTITY_CODE = "identity_code", _("Personal identity code")
    NOTES = "notes", _("Notes (non-sensitive)")
    SENSITIVE_NOTE = "sensitive_note", _("Sensitive note (behaviour, guardianship, accessibility)")
    TRUSTEESHIP = "trusteeship", _("Adult guardianship and the guardian's contact")
    BANS = "bans", _("Library-use bans and access prohibitions")
    BAN_DECISION = "ban_decision", _("Ban decision and its procedure")
    REGISTERS = "registers", _("Register memberships and consents")
    PRIVACY_STATUS = (
        "privacy_status",
        _(
            "Privacy status (bans in force, sensitive marks by category, notices, loan history choice, whether an "
            "identity code is stored)"
        ),
    )
    LIBRARY_SYSTEM = "library_system", _("Data in the library system (Koha): record, loans, holds, fees, its log")


class AccessEventQuerySet(models.QuerySet):
    def about_patron(self, patron_id: int) -> "AccessEventQuerySet":
        """The events that concern one patron: "who processed my data", the access report, the DPO's browser.

        Joined on the patron index row's time as well as its event: on PostgreSQL the events are partitioned
        by time (audit/partitions.py), and the time lets each event be looked up in its own month's partition
        instead of in every one.
        """
        return self.filter(subjects__patron_id=patron_id, subjects__at=models.F("at"))


class AccessEvent(models.Model):
    # On PostgreSQL the partition key (audit/partitions.py): the database's index on it is BRIN there.
    at = models.DateTimeField(_("time"), db_index=True)
    actor_id = models.BigIntegerField(_("user id"), null=True, blank=True)
    actor_username = models.CharField(_("user"), max_length=150, blank=True)
    actor_municipality_id = models.BigIntegerField(_("user's municipality id"), null=True, blank=True)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=40)  # a value of Action
    resource = models.CharField(_("resource"), max_length=100, blank=True, help_text=_("The URL name, not the URL."))
    patron_ids = models.JSONField(_("patrons"), default=list, blank=True)
    data_categories = models.JSONField(_("data categories"), default=list, blank=True)
    reason = FreeTextCharField(_("stated reason"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    detail = models.CharField(_("detail"), max_length=100, blank=True)
    # The seal (audit/sealing.py): all four empty until the sealer gives the event its position and link;
    # seq and key_id also empty on events written before the chain key (plain SHA-256 links, audit/chain.py).
    prev_hash = models.CharField(_("previous event's hash"), max_length=64, null=True, blank=True)
    hash = models.CharField(_("hash"), max_length=64, null=True, blank=True)
    seq = models.BigIntegerField(_("position in the chain"), null=True, blank=True)
    key_id = models.CharField(_("chain key"), max_length=32, null=True, blank=True)
    # The writer's word that it wrote the row: "<chain key id>:<nonce>:<HMAC-SHA256 hex>"; the sealer
    # seals only a row whose MAC checks (audit/sealing.py). Empty on events written before it existed.
    content_mac = models.CharField(_("content MAC"), max_length=120, null=True, blank=True)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-id"]
        default_permissions = []
        permissions = [
            ("view_access_log", _("Can read the access log")),
            ("review_access", _("Can see the daily access review")),
        ]
        constraints = [
            # A constraint, not unique=True: on PostgreSQL the latter adds a pattern-matching index
            # that nothing uses and every write pays for.
            models.UniqueConstraint(fields=["hash"], name="accessevent_unique_hash"),
            # One event a position: two sealers can never both extend the chain from the same head.
            models.UniqueConstraint(fields=["seq"], name="accessevent_unique_seq"),
            # A genuine event's content and MAC copied into a new row (a replay) is refused at the insert.
            models.UniqueConstraint(
                fields=["content_mac"],
                condition=models.Q(content_mac__isnull=False),
                name="accessevent_unique_content_mac",
            ),
            # Unsealed (all four empty), from before the chain key (a link, no position or key), or sealed.
            models.CheckConstraint(
                condition=models.Q(hash__isnull=True, prev_hash__isnull=True, seq__isnull=True, key_id__isnull=True)
                | models.Q(hash__isnull=False, prev_hash__isnull=False, seq__isnull=True, key_id__isnull=True)
                | models.Q(hash__isnull=False, prev_hash__isnull=False, seq__isnull=False, key_id__isnull=False),
                name="accessevent_seal_complete",
            ),
        ]
        indexes = [
            # The DPO's browser: one consortium's staff, or one user, newest first.
            models.Index(fields=["actor_municipality_id", "-id"], name="accessevent_municipality_idx"),
            models.Index(fields=["actor_username", "-id"], name="accessevent_actor_idx"),
            # The sealer's queue: the few events not sealed yet, oldest first.
            models.Index(fields=["id"], condition=models.Q(hash__isnull=True), name="accessevent_unsealed_idx"),
            # The verifier's walk over the events without a position (those from before the chain key).
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="accessevent_unpositioned_idx"),
        ]

    def __str__(self) -> str:
        return f"{_('access event')} #{self.pk}"

    @property
    def action_label(self) -> str:
        """The action in words; the value itself for one no longer in Action (an old event outlives it)."""
        return str(Action(self.action).label) if self.action in Action.values else self.action


class AccessEventPatron(models.Model):
    """One patron an event concerns: the index behind "who processed my data".

    The patron id is opaque and kept without a foreign key, so the log outlives an
    erased patron until the log's own retention ends. The event's time is repeated here: on PostgreSQL
    both tables are partitioned by it in the same months and pruned together (audit/partitions.py), and
    a patron's events are found by (patron, time) and each looked up in its own month. No foreign key to
    the event in the database either (one to a partitioned table would need the time in it, and would
    tie the two tables' partitions together at the prune): the writer inserts both in one transaction
    (audit/services.py), and the triggers keep both append-only.
    """

    # The composite key (event, patron) is the event-side index; no surrogate id to store.
    pk = models.CompositePrimaryKey("event", "patron_id")
    event = models.ForeignKey(
        AccessEvent, on_delete=models.DO_NOTHING, related_name="subjects", db_index=False, db_constraint=False
    )
    patron_id = models.BigIntegerField()
    # The event's time. Nullable in the model so that SQLite adds the column in place (no rebuild that would
    # drop the triggers); migration 0015 fills it, and on PostgreSQL it is NOT NULL (the partition key).
    at = models.DateTimeField(_("time"), null=True, blank=True)

    class Meta:
        default_permissions = []
        indexes = [models.Index(fields=["patron_id", "at"], name="accessevent_patron_idx")]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.patron_id}"


class AccessLogPrune(models.Model):
    """One removal of the access log's oldest events, the record that vouches for the missing prefix.

    Written only by the privileged path (audit/prune.py, `manage.py prune_access_log`, run as the
    tables' owner). `anchor_hash` is the prev_hash of the first event kept: verification starts from it
    instead of the genesis hash, so a prefix removed by a prune passes and any other gap still breaks
    the chain. Append-only like the events themselves.
    """

    pruned_at = models.DateTimeField(_("pruned"))
    cutoff = models.DateTimeField(_("events before"))
    removed_events = models.PositiveBigIntegerField(_("events removed"))
    first_kept_event_id = models.BigIntegerField(_("first event kept"))
    anchor_hash = models.CharField(_("hash the first kept event links to"), max_length=64)

    class Meta:
        verbose_name = _("access log pruning")
        verbose_name_plural = _("access log prunings")
        ordering = ["-id"]
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('access log pruning')} #{self.pk}"
