"""Settings for the patron privacy service, read from the environment.

Development defaults work with nothing set (`make run`). With
`PRIVACY_SERVICE_ENV=production` the service refuses to start unless every
secret is given, and the security settings pass `manage.py check --deploy`.
"""

import datetime
import ipaddress
import os
from pathlib import Path
from typing import overload

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


@overload
def env(name: str) -> str | None: ...
@overload
def env(name: str, default: str) -> str: ...
def env(name: str, default: str | None = None) -> str | None:
    """The variable's value, or `default` when it is unset or empty (so a given default means a str)."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


ENVIRONMENT = env("PRIVACY_SERVICE_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured("PRIVACY_SERVICE_ENV must be 'development' or 'production'.")
PRODUCTION = ENVIRONMENT == "production"


def required_in_production(name: str, development_default: str) -> str:
    value = env(name)
    if value is None:
        if PRODUCTION:
            raise ImproperlyConfigured(f"{name} must be set when PRIVACY_SERVICE_ENV=production.")
        return development_default
    return value


SECRET_KEY = required_in_production(
    "SECRET_KEY", "django-insecure-development-only-key-never-use-in-production-0123456789"
)
if PRODUCTION and (SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY must be a long random value in production.")

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1],testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production.")

# Reverse proxies (CIDRs) whose forwarded header is believed, and the one header they set
# ("X-Forwarded-For" or "Forwarded"); see staff/client_ip.py. A typo must stop the start, not every request.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
for _cidr in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_cidr!r} is not an IP network.") from _error
TRUSTED_PROXY_HEADER = env("TRUSTED_PROXY_HEADER", "X-Forwarded-For")
if TRUSTED_PROXY_HEADER.lower() not in {"x-forwarded-for", "forwarded"}:
    raise ImproperlyConfigured("TRUSTED_PROXY_HEADER must be 'X-Forwarded-For' or 'Forwarded'.")

INSTALLED_APPS = [
    "privacy_service.apps.PrivacyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Its abstract key model lives in the module of its concrete one, which needs the app installed; the
    # service's keys are staff.MachineKey, the package's own table stays empty.
    "rest_framework_api_key",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "privacy_service.apps.PrivacyServiceConfig",
    "core",
    "audit",
    "staff",
    "patrons",
    "bans",
    "sotu_silo",
    "dpo",
    "koha",
    "accounts",
    "demo",
]

MIDDLEWARE = [
    # A load balancer's /healthz probe (no session cookie) is answered here, past nothing (privacy_service/health.py).
    "privacy_service.health.HealthCheckMiddleware",
    "privacy_service.cache_control.NoStoreMiddleware",
    "privacy_service.logging.PlainNotFoundMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "privacy_service.locale.FinnishFirstLocaleMiddleware",
    # Before anything reads the session or a form: a NUL byte anywhere is a 400 (privacy_service/nul_guard.py).
    "privacy_service.nul_guard.NulCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The user's consortium's language when they have not chosen one (privacy_service/locale.py).
    "privacy_service.locale.ConsortiumLanguageMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "staff.ip_allowlist.IPAllowListMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A view's NotFound and Refused (core.errors) answer the 404 and 403 pages (core/error_pages.py).
    "core.error_pages.ErrorVocabularyMiddleware",
    # Last, as django-axes asks; our log-in view shapes the lockout answer itself (accounts/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "privacy_service.urls"
WSGI_APPLICATION = "privacy_service.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "privacy_service.context_processors.briefing_reminder",
            ],
        },
    },
]

# Databases: SQLite by default, PostgreSQL through DATABASE_URL.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        required_in_production("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=60,
        # A kept connection is checked before a request reuses it: after a restart of the database each
        # worker's old connection would otherwise fail its first query (bench/faults.py measured it).
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions serialise writers up front, which the access log's
    # hash chain relies on; WAL lets readers go on meanwhile.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # recursive_triggers: without it, the deletes of INSERT OR REPLACE fire no DELETE trigger, and
        # a replaced access event would slip past the append-only triggers (audit/triggers.py).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA recursive_triggers=ON;",
    }
    DATABASES["default"]["TEST"] = {"NAME": env("SQLITE_TEST_NAME")}
# The runtime role on PostgreSQL: migrations grant it what it needs and no
# UPDATE/DELETE/TRUNCATE on the access log (see audit/grants.py).
DATABASE_APP_ROLE = env("DATABASE_APP_ROLE")

# The sotu-silo: identity codes in a database of their own (a second SQLite file, or on
# PostgreSQL the schema SOTU_SCHEMA owned by the role in SOTU_DATABASE_URL, which no other role
# may read). The router (sotu_silo/router.py) keeps the silo's models there and
# nothing else.
SOTU_SCHEMA = env("SOTU_SCHEMA", "sotu")
DATABASES["sotu"] = dj_database_url.parse(
    required_in_production("SOTU_DATABASE_URL", f"sqlite:///{VAR_DIR / 'sotu.sqlite3'}"),
    conn_max_age=60,
    conn_health_checks=True,
)
if DATABASES["sotu"]["ENGINE"] == "django.db.backends.postgresql":
    # Only the silo's schema: the main application's tables in "public" are not the silo's business.
    DATABASES["sotu"]["OPTIONS"] = {"options": f"-c search_path={SOTU_SCHEMA}"}
    # Its own test database (created by the silo role), so tests never mix the two roles.
    DATABASES["sotu"]["TEST"] = {"NAME": f"test_{DATABASES['sotu']['NAME']}_sotu"}
else:
    DATABASES["sotu"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DATABASE_ROUTERS = ["sotu_silo.router.SotuSiloRouter"]

# Keys for the silo, never SECRET_KEY: SOTU_ENCRYPTION_KEYS is "key-id:base64-32-bytes,..."
# newest first (AES-256-GCM); SOTU_INDEX_KEY is base64, at least 32 bytes (HMAC-SHA256 blind
# index). In development both are generated once into var/sotu-dev-keys.json (git-ignored).
if PRODUCTION:
    SOTU_ENCRYPTION_KEYS = required_in_production("SOTU_ENCRYPTION_KEYS", "")
    SOTU_INDEX_KEY = required_in_production("SOTU_INDEX_KEY", "")
else:
    from privacy_service.dev_keys import development_sotu_keys

    _dev_keys = development_sotu_keys(VAR_DIR / "sotu-dev-keys.json")
    SOTU_ENCRYPTION_KEYS = env("SOTU_ENCRYPTION_KEYS", _dev_keys["encryption_keys"])
    SOTU_INDEX_KEY = env("SOTU_INDEX_KEY", _dev_keys["index_key"])
if SECRET_KEY in {SOTU_ENCRYPTION_KEYS, SOTU_INDEX_KEY} or SOTU_ENCRYPTION_KEYS == SOTU_INDEX_KEY:
    raise ImproperlyConfigured("SECRET_KEY, SOTU_ENCRYPTION_KEYS and SOTU_INDEX_KEY must all differ.")

# The keys of each consortium's Koha client secret (koha/crypto.py): KOHA_CREDENTIAL_KEYS is
# "key-id:base64-32-bytes,..." newest first (AES-256-GCM). The newest encrypts, the older ones still
# decrypt until `manage.py koha_rotate_keys` has re-encrypted every secret. Every key differs from every
# other secret (checked below). In development it is generated once into var/koha-dev-keys.json.
if PRODUCTION:
    KOHA_CREDENTIAL_KEYS = required_in_production("KOHA_CREDENTIAL_KEYS", "")
else:
    from privacy_service.dev_keys import development_koha_keys

    KOHA_CREDENTIAL_KEYS = env("KOHA_CREDENTIAL_KEYS", development_koha_keys(VAR_DIR / "koha-dev-keys.json"))
# Calls to Koha (koha/client.py): the timeout of one request (connect and read, seconds), how many times
# a failed call is retried (connection errors, 5xx, 429) and the first back-off delay, doubled each time.
KOHA_TIMEOUT_SECONDS = float(env("KOHA_TIMEOUT_SECONDS", "10"))
KOHA_RETRIES = int(env("KOHA_RETRIES", "4"))
KOHA_RETRY_BASE_DELAY_SECONDS = float(env("KOHA_RETRY_BASE_DELAY_SECONDS", "0.5"))
# The restriction push right after a ban step or prohibition commits runs in the decider's request: one
# attempt per ref with this timeout (seconds), so a hanging Koha delays the page by at most this much per ref
# (the cron's push retries with the full timeout).
KOHA_PUSH_AFTER_COMMIT_TIMEOUT_SECONDS = float(env("KOHA_PUSH_AFTER_COMMIT_TIMEOUT_SECONDS", "3"))
# koha_sync: the extended attribute (type code) on a child's Koha record holding the guarantor's card number
# (Koha's REST API has no guarantor list); empty turns guarantor links off. An incremental sync asks for
# changes since the last completed one started, less this overlap (Koha's clock and ours differ).
KOHA_GUARANTOR_ATTRIBUTE = env("KOHA_GUARANTOR_ATTRIBUTE", "GUARANTOR")
# The Koha patron category (categorycode) of a patron registered here and created in Koha.
KOHA_PATRON_CATEGORY = env("KOHA_PATRON_CATEGORY", "PT")
KOHA_SYNC_OVERLAP_SECONDS = int(env("KOHA_SYNC_OVERLAP_SECONDS", "60"))

# The access log's keys (audit/keys.py), never in the database: AUDIT_CHAIN_KEY ("key-id:base64,...",
# newest first, 32 bytes or more) keys each event's link (HMAC-SHA256); AUDIT_CHECKPOINT_SIGNING_KEY
# ("key-id:base64-32-byte-Ed25519-seed", newest first) signs the checkpoints of the chain's head;
# AUDIT_CHECKPOINT_VERIFY_KEYS lists public keys of retired signing keys. In development the first two
# are generated once into var/audit-dev-keys.json. Every key must differ from every other secret.
if PRODUCTION:
    AUDIT_CHAIN_KEY = required_in_production("AUDIT_CHAIN_KEY", "")
    AUDIT_CHECKPOINT_SIGNING_KEY = required_in_production("AUDIT_CHECKPOINT_SIGNING_KEY", "")
else:
    from privacy_service.dev_keys import development_audit_keys

    _audit_keys = development_audit_keys(VAR_DIR / "audit-dev-keys.json")
    AUDIT_CHAIN_KEY = env("AUDIT_CHAIN_KEY", _audit_keys["chain_key"])
    AUDIT_CHECKPOINT_SIGNING_KEY = env("AUDIT_CHECKPOINT_SIGNING_KEY", _audit_keys["checkpoint_signing_key"])
AUDIT_CHECKPOINT_VERIFY_KEYS = env("AUDIT_CHECKPOINT_VERIFY_KEYS", "")
# During a chain key's rotation: until when the sealer still seals events whose content the writer signed under
# the key before the newest (workers not yet restarted). An ISO 8601 time with its offset; empty: never.
AUDIT_CHAIN_KEY_PREVIOUS_UNTIL = env("AUDIT_CHAIN_KEY_PREVIOUS_UNTIL", "")
try:
    from audit.keys import (
        KeyConfigurationError,
        check_distinct,
        parse_grace_until,
        parse_key_list,
        parse_public_keys,
        parse_signing_keys,
        secret_bytes,
    )

    check_distinct(
        chain_keys=AUDIT_CHAIN_KEY,
        signing_keys=AUDIT_CHECKPOINT_SIGNING_KEY,
        secret_key=SECRET_KEY,
        others=(SOTU_ENCRYPTION_KEYS, SOTU_INDEX_KEY, AUDIT_CHECKPOINT_VERIFY_KEYS, KOHA_CREDENTIAL_KEYS),
    )
    parse_signing_keys(AUDIT_CHECKPOINT_SIGNING_KEY)
    parse_grace_until(AUDIT_CHAIN_KEY_PREVIOUS_UNTIL)
    parse_public_keys(AUDIT_CHECKPOINT_VERIFY_KEYS)
    _koha_keys = parse_key_list(KOHA_CREDENTIAL_KEYS, name="KOHA_CREDENTIAL_KEYS", size=32)
    if not _koha_keys:
        raise KeyConfigurationError("KOHA_CREDENTIAL_KEYS has no keys.")
    if set(_koha_keys.values()) & set(
        secret_bytes(SECRET_KEY, SOTU_ENCRYPTION_KEYS, SOTU_INDEX_KEY, AUDIT_CHAIN_KEY, AUDIT_CHECKPOINT_SIGNING_KEY)
    ):
        raise KeyConfigurationError("KOHA_CREDENTIAL_KEYS must differ from SECRET_KEY, the silo's and the log's keys.")
except KeyConfigurationError as _error:
    raise ImproperlyConfigured(str(_error)) from _error
# Where signed checkpoints of the chain's head go (audit/checkpoints.py): a directory on the
# application's host that the database (and its owner) cannot reach. Required in production.
AUDIT_CHECKPOINT_DIR = Path(required_in_production("AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")))
# The writer signs a checkpoint after a commit when the newest is older than this (0: only the
# `access_log_checkpoint` command writes them).
AUDIT_CHECKPOINT_INTERVAL_SECONDS = int(env("AUDIT_CHECKPOINT_INTERVAL_SECONDS", "60"))
# How far an event's time may run back behind the latest time before it (clock steps between servers);
# anything further back is named a backdated event by verify_access_log.
AUDIT_MAX_CLOCK_STEP_BACK_SECONDS = int(env("AUDIT_MAX_CLOCK_STEP_BACK_SECONDS", "60"))
# Sealing (audit/sealing.py): an event is written unsealed with the data it records and sealed (given its
# position and link) moments later, in batches, after the commit. At once, in the writer's own transaction,
# where writers are serialised anyway (SQLite, development) or where no commit hook runs (the test suite).
ACCESS_LOG_SEAL_AT_ONCE = env_bool("ACCESS_LOG_SEAL_AT_ONCE", DATABASES["default"]["ENGINE"].endswith("sqlite3"))
# An event still unsealed this long after its time is an alarm (verify_access_log, /healthz, the DPO).
ACCESS_LOG_SEAL_ALARM_SECONDS = int(env("ACCESS_LOG_SEAL_ALARM_SECONDS", "60"))
# After a commit, each process seals at most once in this many seconds (audit/sealing.py, `_worth_trying`): what
# every request of the moment wrote in one batch, and not a transaction with its fsync for each read.
ACCESS_LOG_SEAL_INTERVAL_SECONDS = float(env("ACCESS_LOG_SEAL_INTERVAL_SECONDS", "1"))
# /healthz asks the database at most this often per worker process and answers the same meanwhile (0: every probe).
HEALTH_CHECK_CACHE_SECONDS = float(env("HEALTH_CHECK_CACHE_SECONDS", "1"))

# Temporary identity codes (individual number 900-999) are refused unless a library needs them.
SOTU_ALLOW_TEMPORARY_CODES = env_bool("SOTU_ALLOW_TEMPORARY_CODES", False)
# How long the billing view shows a revealed code before hiding it (seconds).
SOTU_REVEAL_SECONDS = int(env("SOTU_REVEAL_SECONDS", "60"))
# How many identity codes one user may store in an hour (desk and billing alike; counted in the access
# log, so across processes). Storing more is refused with 429 until the hour has passed.
IDENTITY_CODE_STORE_RATE_PER_HOUR = int(env("IDENTITY_CODE_STORE_RATE_PER_HOUR", "30"))

# Exceptional circumstances (extend_expired_cards): a card that expired at most this many days before the closure
# began is extended with the cards that expire during it; one that expired earlier belongs to a dormant patron and
# is not revived (patrons.services.closures.cards_to_extend).
CARD_EXTENSION_EXPIRED_SINCE_DAYS = int(env("CARD_EXTENSION_EXPIRED_SINCE_DAYS", "365"))
# How long an ended ban's decision stays in the decision archive (the municipality's archive plan decides).
BAN_DECISION_RETENTION_YEARS = int(env("BAN_DECISION_RETENTION_YEARS", "2"))
# How long an erasure keeps the identity code of a patron with an open claim (a legal hold, GDPR Art. 17(3)(e)):
# the general limitation period of a debt (Finland: Act 728/2003 s. 4, three years). The DPO lifts it sooner.
LEGAL_CLAIM_HOLD_YEARS = int(env("LEGAL_CLAIM_HOLD_YEARS", "3"))
# The daily access review (dpo/review.py) flags a staff member whose patron reads on a day exceed
# ACCESS_REVIEW_FACTOR times their usual daily volume, when they are at least ACCESS_REVIEW_MIN_READS.
ACCESS_REVIEW_FACTOR = float(env("ACCESS_REVIEW_FACTOR", "3"))
ACCESS_REVIEW_MIN_READS = int(env("ACCESS_REVIEW_MIN_READS", "20"))
# A staff member's identity-code stores (refused ones too) within any 60 minutes of the day that make a
# finding of the day's access review: someone testing codes against the register.
ACCESS_REVIEW_STORE_BURST = int(env("ACCESS_REVIEW_STORE_BURST", "10"))
# Whether a patron's access report names the staff who processed their data (usernames and names);
# without it, staff are shown by role and library only.
ACCESS_REPORT_STAFF_NAMES = env_bool("ACCESS_REPORT_STAFF_NAMES", False)
# Retention (dpo/retention.py, `manage.py apply_retention`): how long a removed note's removal record
# (who, when, why; its text is erased at removal) and an answered data-subject request are kept.
NOTE_REMOVAL_RECORD_RETENTION_YEARS = int(env("NOTE_REMOVAL_RECORD_RETENTION_YEARS", "2"))
SUBJECT_REQUEST_RETENTION_YEARS = int(env("SUBJECT_REQUEST_RETENTION_YEARS", "5"))
# Behaviour notes (GDPR Art. 5(1)(e)) go this many days after the incident, unless a ban decision still kept
# cites them: they serve supervising library use, and a ban needs repeated disturbance now, so two years
# covers the longest pattern a decider weighs and matches the decision archive (BAN_DECISION_RETENTION_YEARS).
BEHAVIOUR_NOTE_RETENTION_DAYS = int(env("BEHAVIOUR_NOTE_RETENTION_DAYS", "730"))
if BEHAVIOUR_NOTE_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("BEHAVIOUR_NOTE_RETENTION_DAYS must be at least 1.")
# Access events older than this are removed by `manage.py prune_access_log`, run with the owner's
# credentials: the runtime role can never delete them (audit/prune.py).
ACCESS_LOG_RETENTION_MONTHS = int(env("ACCESS_LOG_RETENTION_MONTHS", "24"))
if ACCESS_LOG_RETENTION_MONTHS < 1:
    # The database refuses a prune of the last month whatever this says (audit/triggers.py).
    raise ImproperlyConfigured("ACCESS_LOG_RETENTION_MONTHS must be at least 1.")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # each role's landing page (accounts.landing)
LOGOUT_REDIRECT_URL = "login"

# Log-in lockout (django-axes, accounts/lockout.py): after LOGIN_FAILURE_LIMIT failures a username, and
# separately a client address, is locked for LOGIN_COOLOFF_MINUTES; wrong two-factor codes count too.
# The database handler, so every worker process sees the same counts.
AUTHENTICATION_BACKENDS = ["accounts.lockout.LockoutBackend", "staff.backends.StaffModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(env("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.lockout_address"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# A success must not reset the counts: it would also reset the address's, letting anyone with one valid
# account spray guesses at others from that address. The cool-off runs from the locking failure.
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Log-ins, failures and lockouts are access events (accounts/services/login.py); axes keeps only its counts,
# with nothing a user typed except an existing username (see lockout_username).
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "next", "code", "csrfmiddlewaretoken"]

# Sessions end after SESSION_IDLE_MINUTES without a request, SESSION_IDLE_MINUTES_PRIVILEGED for billing,
# DPO and superusers (accounts/middleware.py), and in any case SESSION_COOKIE_AGE after the log-in.
# How long a worker keeps configuration its pages read on every request (a consortium's Koha address, its libraries
# for the note form's choices): a change reaches the other workers within this time (core/process_cache.py).
CONFIGURATION_CACHE_SECONDS = int(env("CONFIGURATION_CACHE_SECONDS", "30"))
SESSION_IDLE_MINUTES = int(env("SESSION_IDLE_MINUTES", "30"))
SESSION_IDLE_MINUTES_PRIVILEGED = int(env("SESSION_IDLE_MINUTES_PRIVILEGED", "15"))

# Two-factor authentication (django-otp): TOTP plus recovery codes for billing, DPO and superusers.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Patron privacy service")

# Internationalisation: Finnish first, Swedish and English switchable.
LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))]
# locale/: the project's catalogues (makemessages writes there, the first path); locale/sv is Sweden's Swedish,
# locale/sv_FI the hand-kept Finland-Swedish override (privacy_service/locale.py). locale_django/: Django's own
# messages that Django ships untranslated in fi or sv, hand-kept (locale_django/README.md).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_django"]
# One date format per language (privacy_service/formats/): fi and sv-fi 03.12.2026, sv 2026-12-03, en 3 Dec 2026.
FORMAT_MODULE_PATH = ["privacy_service.formats"]
TIME_ZONE = "Europe/Helsinki"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/pico", BASE_DIR / "node_modules" / "@picocss" / "pico" / "css"),
]
WHITENOISE_USE_FINDERS = True

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions: short-lived, HTTP-only, never readable by scripts. In the database (Django's store; its read per
# request without the ORM's query building: accounts/session_store.py).
SESSION_ENGINE = "accounts.session_store"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if TRUSTED_PROXIES:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "core.api_errors.api_exception_handler",
    # Every API request counts against its client address (staff.client_ip), per kind of caller.
    "DEFAULT_THROTTLE_CLASSES": ["staff.throttling.ClientAddressThrottle"],
}
# Requests per client address: `machine` for machine clients' API keys (Koha batches its views and asks a
# privacy status per patron page), `user` for logged-in staff, `anon` for everyone else. DRF's rate syntax.
API_THROTTLE_RATES = {
    "machine": env("API_THROTTLE_MACHINE", "6000/minute"),
    "user": env("API_THROTTLE_USER", "1200/minute"),
    "anon": env("API_THROTTLE_ANON", "300/minute"),
}
# A machine client key works for this long unless its expiry is set otherwise in the admin.
MACHINE_KEY_LIFETIME = datetime.timedelta(days=int(env("MACHINE_KEY_LIFETIME_DAYS", "365")))
# The named permissions the admin offers for machine client keys (staff.admin.MachineKeyAdmin).
MACHINE_KEY_PERMISSIONS = ["koha.view_privacy_status", "koha.record_views"]
# At most this many views in one POST /api/v1/koha/views/.
KOHA_VIEWS_BATCH_MAX = 500
# The oldest Koha plugin (koha-plugin/) this service works with: GET /api/v1/koha/service/ tells the plugin
# whether its version (header X-Patron-Privacy-Plugin) is supported. Raise it when the machine API changes.
KOHA_PLUGIN_MIN_VERSION = "1.0.0"
SPECTACULAR_SETTINGS = {
    "TITLE": "Patron privacy service API",
    "DESCRIPTION": (
        "Patrons, their access log and the identity-code silo for Koha libraries. Every read of a "
        "patron's data is recorded as an access event; identity codes are write-only except for "
        "billing's reveal and lookup, each with a stated reason."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # `<id:...>` in URLs (core.bounds.IdConverter): 1 to 2**63 - 1, the ids a 64-bit column holds.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}},
    # One name per choice set that several fields share (the model's field and a step's body field).
    "ENUM_NAME_OVERRIDES": {
        "RequestKindEnum": "dpo.models.RequestKind",
        "DeliveryMethodEnum": "dpo.models.DeliveryMethod",
        "FeeDecisionEnum": "dpo.models.FeeDecision",
        "RefusalGroundEnum": "dpo.models.RefusalGround",
        "KeepingGroundEnum": "dpo.models.KeepingGround",
        "Art34ExemptionEnum": "dpo.models.Art34Exemption",
        "AppealOutcomeEnum": "bans.models.AppealOutcome",
        "ProhibitionCourtOutcomeEnum": "bans.models.CourtOutcome",
        "NotificationMethodEnum": "bans.models.NotificationMethod",
        "RestrictionGroundEnum": "patrons.models.RestrictionGround",
    },
}

# Logging: request data and bodies never go to the log; see privacy_service/logging.py.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_query_strings": {"()": "privacy_service.logging.RedactQueryStringFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_query_strings"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # WeasyPrint logs every step of every PDF at INFO; its warnings are worth seeing.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # django-axes logs every attempt at INFO; the access log has them (without what was typed).
        "axes": {"level": "WARNING"},
    },
}
DEFAULT_EXCEPTION_REPORTER = "privacy_service.logging.PersonalDataExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "privacy_service.logging.PersonalDataReporterFilter"
