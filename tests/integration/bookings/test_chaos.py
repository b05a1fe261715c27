"""The seeded chaos run (tests/chaos.py) in the normal suite: a fixed seed, small enough to
stay well under a minute. bench/chaos.py runs it longer with random seeds."""

from __future__ import annotations

import pytest

from tests.chaos import Driver, World
from tests.conftest import Stack
from tests.integration.bookings.conftest import B
from tests.integration.helpers import google

SEED = 12
OPERATIONS = 26
KILLS = 1


def test_under_random_faults_every_owed_email_and_event_arrives_once_and_in_order(
    stack: Stack, owner_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking.config import get_settings

    # A hanging Google call (tests/chaos.py HANG, 3 s) outlasts a guest's deadline.
    monkeypatch.setenv("REQUEST_DEADLINE_SECONDS", "2")
    get_settings.cache_clear()
    world = World(base_url=stack.base_url, owner_id="mia", api_key=owner_key,
                  owner_email="mia@owner.test", event_type="intro", zone="Europe/Ljubljana",
                  calendar_id=B, google=google(stack), sendgrid=stack.sendgrid)
    report = Driver(world, SEED).run(OPERATIONS, kills=KILLS)
    print(report.figures())
    assert report.problems == []
    assert (report.duplicated, report.lost, report.out_of_order) == (0, 0, 0)
    assert report.events_found == report.events_expected and report.events_wrong == 0
    # The run did meet trouble: faults of every kind, and work the booking moved past.
    assert sum(report.faults.values()) >= 10 and report.faults["worker killed after commit"]
    assert report.confirmed and report.cancelled
    # Changes made in Google Calendar came back, one of them through resync (its push lost).
    assert report.operations["move in google"] + report.operations["delete in google"] >= 2
    assert report.faults["push lost"] >= 1 and report.faults["push doubled"] >= 1
