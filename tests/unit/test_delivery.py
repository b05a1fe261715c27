"""What is still owed at delivery (domain/delivery), the one deadline of a request
(booking.deadline), and what an idempotency key promises (booking_rules.request_fingerprint)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.deadline import MIN_TIMEOUT, Deadline
from booking.domain.booking_rules import request_fingerprint
from booking.domain.delivery import stale_because, waiting_for


def test_a_current_email_goes_only_while_the_booking_is_confirmed_at_its_sequence() -> None:
    assert stale_because("current", 0, "confirmed", 0) is None
    assert "sequence 0 -> 1" in (stale_because("current", 0, "confirmed", 1) or "")
    # A reminder retried after the cancellation (which raised the sequence) is dropped.
    assert stale_because("current", 1, "cancelled", 2) is not None
    assert stale_because("current", 2, "cancelled", 2) == "the booking is cancelled"


@pytest.mark.parametrize("rule", ["final", "google"])
def test_cancellations_and_google_writes_are_never_dropped(rule: str) -> None:
    assert stale_because(rule, 0, "cancelled", 5) is None


def test_a_row_waits_only_for_existing_unfinished_rows() -> None:
    statuses = {"a": "sent", "b": "pending", "c": "sending", "d": "dropped", "e": "failed"}
    assert waiting_for(["a", "b", "c", "d", "e", "missing"], statuses) == ["b", "c"]
    assert waiting_for([], statuses) == []


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_deadline_bounds_retries_and_http_timeouts() -> None:
    clock = Clock()
    budget = Deadline.within(5.0, clock)
    assert budget.remaining() == 5.0 and budget.timeout(15.0) == 5.0
    assert budget.allows(4.0) and not budget.allows(5.0)
    clock.now += 4.0
    assert budget.timeout(15.0) == 1.0 and budget.timeout(0.5) == 0.5
    child = budget.child(10.0)
    assert child.ends_at == budget.ends_at  # a child never outlives its parent
    assert budget.child(0.5).remaining() == 0.5
    clock.now += 2.0
    assert budget.expired() and budget.remaining() == 0.0
    assert budget.timeout(15.0) == MIN_TIMEOUT  # never 0, which a socket reads as non-blocking


def test_a_fingerprint_names_event_type_instant_and_guest() -> None:
    start = datetime(2030, 5, 7, 9, 0, tzinfo=ZoneInfo("Europe/Ljubljana"))
    same = request_fingerprint("intro", start.astimezone(UTC), "Ana@Example.org")
    assert request_fingerprint("intro", start, "ana@example.org") == same
    assert request_fingerprint("deep", start, "ana@example.org") != same
    assert request_fingerprint("intro", start + timedelta(minutes=30), "ana@example.org") != same
    assert request_fingerprint("intro", start, "bob@example.org") != same
