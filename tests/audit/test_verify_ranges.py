"""The verifier's walk in ranges of positions (audit/verify.py, `RANGE`), each walked on its own from the
state its first event implies and joined by the parent, finds exactly what one walk finds: every
tampering, checkpoint and prune test of the access log again, with ranges of two positions (so every
join is tried, and every attack falls at or next to one), on this process's connection (a pool's
processes would not see the test's transaction; bench/verify_speed.py runs the pool).
"""

import pytest

from audit import verify
from tests.audit import test_checkpoints, test_prune, test_tampering

pytestmark = pytest.mark.django_db

directory = test_checkpoints.directory
old_and_new = test_prune.old_and_new
for _module in (test_tampering, test_checkpoints, test_prune):
    globals().update({name: test for name, test in vars(_module).items() if name.startswith("test_")})


@pytest.fixture(autouse=True)
def ranges_of_two(monkeypatch):
    monkeypatch.setattr(verify, "RANGE_EVENTS", 2)
