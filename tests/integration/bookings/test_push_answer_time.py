"""Google waits a few seconds for a push's answer (the stand-in, like Google, `push_timeout` =
5 s); an answer later than that counts as no answer at all. The intake syncs inside that wait
only as long as leaves it time to record the outcome and answer: a slow Google makes it answer
503 (Google retries; resync is the net) well inside the window, never after it."""

from __future__ import annotations

import time

from tests.conftest import Stack
from tests.integration.bookings.conftest import B
from tests.integration.bookings.test_google_sync import _our_channel, _push
from tests.integration.helpers import google


def test_a_push_whose_sync_is_slow_is_answered_inside_googles_push_timeout(
        stack: Stack, owner_key: str) -> None:
    g = google(stack)
    g.flush_push()
    window = float(g.calendar_settings()["push_timeout"])
    channel = _our_channel(stack, B)
    g.set_calendar_latency("calendar.events.list", window + 2)  # a page that comes too late
    started = time.monotonic()
    answer = _push(stack, channel, 10**6)
    took = time.monotonic() - started
    assert answer.status_code == 503 and answer.json()["sync"] == "failed"
    assert took < window, f"answered after {took:.2f} s; Google waits {window} s"
