"""One koha_sync of a consortium at a time: a second one, started while the first runs, refuses at its start.

The attack is two syncs at once (overlapping cron lines, an operator starting one by hand): two threads, each
with its own database connection, as two processes would have.
"""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import translation

from koha import sync
from koha.errors import KohaUnreachable, unreachable
from koha.models import SyncRun, SyncStatus
from staff.models import Consortium

pytestmark = pytest.mark.django_db


class OutageKoha:
    """A Koha that is down: a sync that gets past the lock stops at its first request."""

    def libraries(self):
        raise unreachable("https://koha.example/api/v1/libraries")


def first_sync_running(consortium: Consortium) -> tuple[threading.Thread, threading.Event]:
    """A sync in progress in another thread, with its own database connection: it holds the consortium's
    sync lock (the one koha_sync_run takes) until released. It writes nothing, so the test's own transaction
    stays the only writer."""
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        try:
            with sync._one_sync_at_a_time(consortium):
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert holding.wait(timeout=30)
    return thread, release


@translation.override("en")
def test_a_second_sync_of_the_consortium_refuses_while_the_first_runs():
    consortium = Consortium.objects.get(slug="lapin-kirjastot")
    other = Consortium.objects.get(slug="mikkelin-seutukirjasto")
    thread, release = first_sync_running(consortium)
    try:
        with pytest.raises(sync.SyncAlreadyRunning, match="Another Koha sync of lapin-kirjastot is running"):
            sync.koha_sync_run(consortium=consortium, full=True, client=OutageKoha())
        with pytest.raises(CommandError, match="Another Koha sync of lapin-kirjastot is running"):
            call_command("koha_sync", "lapin-kirjastot", "--full", verbosity=0)
        assert not SyncRun.objects.filter(consortium=consortium).exists()  # refused before writing anything
        # Another consortium's sync is not held up: it gets past the lock and meets its own Koha's outage.
        with pytest.raises(KohaUnreachable):
            sync.koha_sync_run(consortium=other, full=True, client=OutageKoha())
    finally:
        release.set()
        thread.join(timeout=30)


def test_the_lock_is_free_again_when_a_sync_has_ended():
    consortium = Consortium.objects.get(slug="lapin-kirjastot")
    thread, release = first_sync_running(consortium)
    release.set()
    thread.join(timeout=30)
    with pytest.raises(KohaUnreachable):
        sync.koha_sync_run(consortium=consortium, full=True, client=OutageKoha())
    assert SyncRun.objects.get(consortium=consortium).status == SyncStatus.FAILED


def test_a_dry_run_reads_beside_a_running_sync():
    consortium = Consortium.objects.get(slug="lapin-kirjastot")
    thread, release = first_sync_running(consortium)
    try:
        with pytest.raises(KohaUnreachable):
            sync.koha_sync_run(consortium=consortium, full=True, dry_run=True, client=OutageKoha())
    finally:
        release.set()
        thread.join(timeout=30)
