"""Production mode refuses to start without real secrets and passes Django's deployment checks."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "PRIVACY_SERVICE_ENV": "production",
    "SECRET_KEY": "k2q9v7w1x8z3c6b5n4m0a1s2d3f4g5h6j7k8l9p0o1i2u3y4t5r6e7w8q9",
    "ALLOWED_HOSTS": "privacy.example.fi",
    "DATABASE_URL": "sqlite:////tmp/production-check.sqlite3",
    "SOTU_DATABASE_URL": "sqlite:////tmp/production-check-sotu.sqlite3",
    "SOTU_ENCRYPTION_KEYS": "k2:" + "A" * 43 + "=,k1:" + "B" * 43 + "=",
    "SOTU_INDEX_KEY": "C" * 43 + "=",
    "AUDIT_CHAIN_KEY": "c2:" + "D" * 43 + "=,c1:" + "E" * 43 + "=",
    "AUDIT_CHECKPOINT_SIGNING_KEY": "s1:" + "F" * 43 + "=",
    "AUDIT_CHECKPOINT_DIR": "/var/lib/privacy-service/checkpoints",
    "KOHA_CREDENTIAL_KEYS": "q2:" + "G" * 43 + "=,q1:" + "H" * 43 + "=",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # The service's own settings (manage.py's default), not the suite's tests/settings.py.
    dropped = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("missing_or_bad", "complaint"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "django-insecure-short"}, "SECRET_KEY must be a long random value"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
        ({"DATABASE_URL": ""}, "DATABASE_URL must be set"),
        ({"SOTU_DATABASE_URL": ""}, "SOTU_DATABASE_URL must be set"),
        ({"SOTU_ENCRYPTION_KEYS": ""}, "SOTU_ENCRYPTION_KEYS must be set"),
        ({"SOTU_INDEX_KEY": ""}, "SOTU_INDEX_KEY must be set"),
        ({"SOTU_INDEX_KEY": "A" * 43 + "="}, "SOTU_INDEX_KEY must not be one of the encryption keys"),
        ({"SOTU_ENCRYPTION_KEYS": "k1:c2hvcnQ="}, "must be at least 32 bytes"),
        ({"AUDIT_CHAIN_KEY": ""}, "AUDIT_CHAIN_KEY must be set"),
        ({"AUDIT_CHECKPOINT_SIGNING_KEY": ""}, "AUDIT_CHECKPOINT_SIGNING_KEY must be set"),
        ({"AUDIT_CHECKPOINT_DIR": ""}, "AUDIT_CHECKPOINT_DIR must be set"),
        ({"AUDIT_CHAIN_KEY": "c1:c2hvcnQ="}, "must be at least 32 bytes"),
        ({"AUDIT_CHECKPOINT_SIGNING_KEY": "s1:" + "F" * 42 + "=="}, "must be exactly 32 bytes"),
        # Equal to a silo key, to SECRET_KEY (its bytes as a key) or to the signing key: refused.
        ({"AUDIT_CHAIN_KEY": "c1:" + "B" * 43 + "="}, "AUDIT_CHAIN_KEY must differ from SECRET_KEY"),
        ({"AUDIT_CHAIN_KEY": "c1:" + "C" * 43 + "="}, "AUDIT_CHAIN_KEY must differ from SECRET_KEY"),
        (
            {"AUDIT_CHAIN_KEY": "c1:" + base64.b64encode(PRODUCTION["SECRET_KEY"].encode()).decode()},
            "AUDIT_CHAIN_KEY must differ from SECRET_KEY",
        ),
        ({"AUDIT_CHECKPOINT_SIGNING_KEY": "s1:" + "A" * 43 + "="}, "AUDIT_CHECKPOINT_SIGNING_KEY must differ"),
        ({"AUDIT_CHECKPOINT_SIGNING_KEY": "s1:" + "E" * 43 + "="}, "AUDIT_CHAIN_KEY and AUDIT_CHECKPOINT_SIGNING_KEY"),
        ({"AUDIT_CHAIN_KEY": "c2:" + "D" * 43 + "=,c1:" + "D" * 43 + "="}, "the same key under two ids"),
        ({"KOHA_CREDENTIAL_KEYS": ""}, "KOHA_CREDENTIAL_KEYS must be set"),
        ({"KOHA_CREDENTIAL_KEYS": "q1:c2hvcnQ="}, "must be exactly 32 bytes"),
        ({"KOHA_CREDENTIAL_KEYS": "q1:" + "B" * 43 + "="}, "KOHA_CREDENTIAL_KEYS must differ"),
        ({"KOHA_CREDENTIAL_KEYS": "q1:" + "D" * 43 + "="}, "must differ"),
        ({"AUDIT_CHAIN_KEY_PREVIOUS_UNTIL": "tomorrow"}, "AUDIT_CHAIN_KEY_PREVIOUS_UNTIL is an ISO 8601 time"),
        ({"AUDIT_CHAIN_KEY_PREVIOUS_UNTIL": "2026-12-05T12:00:00"}, "needs its UTC offset"),
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"TRUSTED_PROXIES": "10.0.0.0/8,bogus"}, "'bogus' is not an IP network"),
        ({"TRUSTED_PROXY_HEADER": "X-Real-IP"}, "TRUSTED_PROXY_HEADER must be"),
    ],
)
def test_production_refuses_to_start_without_real_secrets(missing_or_bad, complaint):
    result = manage("check", env={**PRODUCTION, **missing_or_bad})
    assert result.returncode != 0
    assert complaint in result.stderr


def test_development_defaults_need_nothing():
    result = manage("check", env={"PRIVACY_SERVICE_ENV": "development"})
    assert result.returncode == 0, result.stderr


def test_the_service_hashes_passwords_with_pbkdf2_not_the_suites_cheap_hasher():
    """tests/settings.py swaps in MD5 for speed; the service's own settings, which manage.py, wsgi and asgi
    load, must not."""
    from django.conf import global_settings

    import privacy_service.settings as service_settings

    hashers = getattr(service_settings, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)
    assert hashers[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    for entry_point in ("manage.py", "privacy_service/wsgi.py", "privacy_service/asgi.py"):
        assert '"DJANGO_SETTINGS_MODULE", "privacy_service.settings"' in (ROOT / entry_point).read_text()
