"""The silo benchmark's "without access log" series must write no access event, or it measures nothing.

The series switches off the one place the silo writes its events (sotu_silo.events); when those moved
there from sotu_silo.services, the benchmark went on patching the old name and stopped with an error.
"""

import pytest

from audit.actor import Actor
from audit.models import AccessEvent, Action
from bench.silo import access_log
from sotu_silo.events import code_event_allowed
from tests.factories import PatronFactory

pytestmark = pytest.mark.django_db


def test_the_silo_benchmark_switches_the_silo_events_off_and_on_again():
    patron = PatronFactory()
    actor = Actor(user_id=None, username="bench", municipality_id=None, consortium_id=None, client_ip=None)
    before = AccessEvent.objects.count()
    with access_log(False):
        code_event_allowed(actor, Action.IDENTITY_CODE_REVEAL, patron.pk, "invoice")
    assert AccessEvent.objects.count() == before
    with access_log(True):
        code_event_allowed(actor, Action.IDENTITY_CODE_REVEAL, patron.pk, "invoice")
    assert AccessEvent.objects.count() == before + 1
