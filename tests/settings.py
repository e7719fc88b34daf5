"""The test suite's settings: the service's own, with a cheap password hasher.

Django's PBKDF2 (1.2 million iterations) costs about 0.45 s per hash on the CI machine, and the suite hashes
thousands of passwords: every user a factory makes, every attempt of the lockout tests, the demo users of
each end-to-end server. Nothing the tests check depends on a hash's cost (a wrong password is refused, a
locked account stays locked, whichever hasher made the hash), so the suite uses MD5 here. The service's
own hasher is the settings' default, and the production server's test (tests/privacy_service/
test_production_server.py) runs with `privacy_service.settings` itself.
"""

from privacy_service.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The suite runs in transactions that never commit, so no after-commit hook would seal an access event:
# the writer seals at once (audit/sealing.py); tests/audit checks the after-commit sealing itself.
ACCESS_LOG_SEAL_AT_ONCE = True

# Rolled-back transactions send no signal a per-process cache could be cleared on: the suite keeps none (the
# request-cost test turns it on for itself, core/process_cache.py).
CONFIGURATION_CACHE_SECONDS = 0
# Every /healthz asks the database (tests change the access log between probes; privacy_service/views.py).
HEALTH_CHECK_CACHE_SECONDS = 0
