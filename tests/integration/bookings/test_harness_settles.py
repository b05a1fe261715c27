"""The harness waits for a test's background work before it wipes the services (issue 19).

Google gives a web hook `push_timeout` to answer, then counts the push as unanswered and
retries it; our intake answers the retry at once (the message number is already recorded), so
Google's queue is empty while the first intake is still syncing. On a loaded machine that
happened at the end of a test: the stand-ins and Firestore were wiped and the environment
switched to the next test's project under the running sync, whose busy events (10:00, which
every test books) then landed in the next test's busy cache and refused its first booking.
`settle` (tests/conftest.py) waits for both the pushes and the functions answering them.
"""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Stack, settle
from tests.integration.bookings.conftest import B, at, next_tuesday
from tests.integration.helpers import firestore_docs, google
from tests.standins.server import StandinServer

# Seconds events.list takes: far longer than Google waits for the web hook here (0.2 s), and
# well inside the intake's sync budget (booking.services.watch.INTAKE_BUDGET, 4 s).
SLOW_LIST = 2.0


def test_a_sync_still_running_after_google_gave_up_on_its_push_finishes_before_the_wipe(
        stack: Stack, owner_key: str, functions_server: StandinServer) -> None:
    g = google(stack)
    settle(stack.google.state, functions_server)  # the first syncs after connecting
    g.calendar_settings(push_timeout=0.2)
    g.set_calendar_latency("events.list", SLOW_LIST)
    start = at(next_tuesday(), "10:00")
    g.add_busy(B, start.isoformat(), (start + timedelta(minutes=30)).isoformat())

    g.flush_push(timeout=SLOW_LIST)
    # Google is done with the push, yet its intake is still syncing: what the old teardown
    # (flush_push alone) left running into the next test.
    assert functions_server.active >= 1
    settle(stack.google.state, functions_server)
    assert functions_server.active == 0
    # The sync finished inside this test: the busy event is in this test's cache.
    caches = [d for p, d in firestore_docs() if p.startswith("calendar_sync/")
              and d.get("calendar_id") == B]
    assert caches and any(caches[0]["busy"].values()), caches
    g.set_calendar_latency("events.list", 0)
