"""The verifier's walk in ranges of positions (audit/verify.py, `RANGE`), each walked on its own from the
state its first event implies and joined by the parent, finds exactly what one walk finds: every
tampering, checkpoint and prune test of the access log again, with ranges of two positions (so every
join is tried, and every attack falls at or next to one), on this process's connection (a pool's
processes would not see the test's transaction; bench/verify_speed.py runs the pool).
"""

import pytest

from audit import verify
from audit.models import AccessEvent, AccessEventPatron
from tests.audit import test_checkpoints, test_prune, test_tampering
from tests.audit.test_access_log import Tampering

pytestmark = pytest.mark.django_db

directory = test_checkpoints.directory
old_and_new = test_prune.old_and_new
for _module in (test_tampering, test_checkpoints, test_prune):
    globals().update({name: test for name, test in vars(_module).items() if name.startswith("test_")})


@pytest.fixture(autouse=True)
def ranges_of_two(monkeypatch):
    monkeypatch.setattr(verify, "RANGE_EVENTS", 2)
    monkeypatch.setattr(verify, "PARALLEL_MIN_EVENTS", 0)
    monkeypatch.setattr(verify, "WORKERS", 2)  # within the test's transaction: walked here, range by range


def test_an_intact_chain_is_joined_range_by_range_and_no_range_is_walked_twice(monkeypatch):
    test_tampering.record(7)
    resumed = []
    walk_range = verify.walk_range

    def spy(walk, lo, hi, state=None):
        resumed.append(state is not None)
        return walk_range(walk, lo, hi, state)

    monkeypatch.setattr(verify, "walk_range", spy)
    report = verify.verify_access_log(use_checkpoints=False)
    assert report.intact and report.events >= 7
    assert resumed[0] and not any(resumed[1:]) and len(resumed) >= 4, "only the first range goes on from the walk"


def test_an_event_removed_at_a_range_boundary_walks_that_range_again_with_the_findings_of_one_walk(monkeypatch):
    test_tampering.record(6)
    first = AccessEvent.objects.filter(seq__isnull=False).order_by("seq").first()
    assert first is not None and first.seq is not None
    victim = AccessEvent.objects.get(seq=first.seq + 2)  # the first event of the second range
    with Tampering():
        AccessEventPatron.objects.filter(event=victim).delete()
        victim.delete()
    resumed = []
    walk_range = verify.walk_range

    def spy(walk, lo, hi, state=None):
        resumed.append(state is not None)
        return walk_range(walk, lo, hi, state)

    monkeypatch.setattr(verify, "walk_range", spy)
    in_ranges = verify.verify_access_log(use_checkpoints=False)
    assert resumed[:3] == [True, False, True], "the range after the gap is walked again from the walk's state"
    monkeypatch.setattr(verify, "WORKERS", 1)
    one_walk = verify.verify_access_log(use_checkpoints=False)
    assert in_ranges.findings == one_walk.findings and {f.kind for f in one_walk.findings} >= {"link", "sequence"}
