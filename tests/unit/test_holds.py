"""Pending holds and the guest cap: a hold lapses by itself, passed bookings stop counting, and a
confirm link's POST is decided from the booking alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booking.domain import holds

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_a_hold_lives_until_its_instant_and_a_confirmed_entry_for_good() -> None:
    until = holds.hold_until(NOW, 10)
    assert until == NOW + 10 * MIN
    assert holds.live({"hold_until": until}, until - MIN)
    assert not holds.live({"hold_until": until}, until)
    assert holds.live({"start": NOW}, NOW + timedelta(days=999))
    assert holds.live({"hold_until": None}, NOW)


def test_guest_keys_ignore_case_and_space_and_make_valid_ids() -> None:
    assert holds.guest_key(" Ana@Example.org ") == holds.guest_key("ana@example.org")
    assert holds.guest_key("a/b@c") != holds.guest_key("ab@c")
    assert all(c in "0123456789abcdef" for c in holds.guest_key("x/../y"))


def test_only_open_bookings_leave_a_guest_entry() -> None:
    start = NOW + timedelta(days=1)
    assert holds.guest_entry({"status": "confirmed", "start": start}) == {
        "start": start, "hold_until": None}
    assert holds.guest_entry({"status": "pending", "start": start, "hold_until": NOW}) == {
        "start": start, "hold_until": NOW}
    assert holds.guest_entry({"status": "cancelled", "start": start}) is None


def test_passed_bookings_and_lapsed_holds_do_not_count_toward_the_cap() -> None:
    entries = {
        "future": {"start": NOW + timedelta(days=1), "hold_until": None},
        "held": {"start": NOW + timedelta(days=2), "hold_until": NOW + MIN},
        "lapsed": {"start": NOW + timedelta(days=3), "hold_until": NOW},
        "passed": {"start": NOW - MIN, "hold_until": None},
        "now": {"start": NOW, "hold_until": None},
    }
    assert holds.open_count(entries, NOW) == 2
    assert holds.stale(entries, NOW) == ["lapsed", "now", "passed"]
    assert holds.open_count({}, NOW) == 0


@pytest.mark.parametrize(("booking", "verdict"), [
    (None, "expired"),
    ({"status": "confirmed"}, "confirmed"),
    ({"status": "pending", "hold_until": NOW + MIN}, "confirm"),
    ({"status": "pending", "hold_until": NOW}, "expired"),
    ({"status": "cancelled"}, "cancelled"),
])
def test_a_confirm_post_is_decided_from_the_booking(booking: dict[str, Any] | None,
                                                    verdict: str) -> None:
    assert holds.confirm_verdict(booking, NOW) == verdict


@pytest.mark.parametrize(("value", "found"), [
    (10, 10), (2, 2), (60, 60), (1, None), (61, None), (True, None), ("10", None), (None, None),
])
def test_hold_minutes_are_whole_minutes_in_bounds(value: Any, found: int | None) -> None:
    assert holds.parse_hold_minutes(value) == found
