"""Reminder timing: which offset is due now, at most one at a time, never one already missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.services import reminders
from booking.services.reminders import due, offsets

START = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
LONG_AGO = START - timedelta(days=30)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def booking(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"start": START, "created_at": LONG_AGO}
    data.update(changes)
    return data


# --- offsets ----------------------------------------------------------------------------------


def test_default_offsets_are_a_day_and_an_hour() -> None:
    assert reminders.DEFAULT_OFFSETS == (1440, 60)
    assert offsets(booking()) == [1440, 60]
    assert offsets(booking(reminders=[])) == [1440, 60]


def test_offsets_come_from_the_reminders_largest_first_without_repeats() -> None:
    alerts = [{"method": "popup", "minutes": 10}, {"method": "email", "minutes": 120},
              {"method": "email", "minutes": 10}, {"method": "popup", "minutes": "30"}]
    assert offsets(booking(reminders=alerts)) == [120, 30, 10]


def test_an_alert_at_the_start_is_not_an_offset() -> None:
    alerts = [{"method": "popup", "minutes": 0}, {"method": "email", "minutes": 15}]
    assert offsets(booking(reminders=alerts)) == [15]


# --- due ------------------------------------------------------------------------------------


@pytest.mark.parametrize("before_start, expected", [
    (minutes(24 * 60 + 1), None),
    (minutes(24 * 60), 1440),
    (minutes(24 * 60 - 1), 1440),
    (minutes(61), 1440),
    (minutes(60), 60),  # the day-ahead window ends where the hour-ahead one begins
    (minutes(30), 60),
    (timedelta(microseconds=1), 60),
    (timedelta(0), None),  # the meeting has started
    (-minutes(1), None),
    (-timedelta(days=1), None),
])
def test_default_windows(before_start: timedelta, expected: int | None) -> None:
    assert due(booking(), START - before_start) == expected


def test_custom_offsets_own_their_windows() -> None:
    alerts = [{"method": "email", "minutes": 30}, {"method": "popup", "minutes": 10}]
    b = booking(reminders=alerts)
    assert due(b, START - minutes(31)) is None
    assert due(b, START - minutes(30)) == 30
    assert due(b, START - minutes(11)) == 30
    assert due(b, START - minutes(10)) == 10
    assert due(b, START - minutes(1)) == 10
    assert due(b, START) is None


def test_a_single_offset_runs_until_the_start() -> None:
    b = booking(reminders=[{"method": "email", "minutes": 120}])
    assert due(b, START - minutes(121)) is None
    assert due(b, START - minutes(120)) == 120
    assert due(b, START - minutes(1)) == 120
    assert due(b, START) is None


def test_after_a_long_outage_only_the_nearest_reminder_is_sent() -> None:
    # The resync was down through the day-ahead moment; 40 minutes before, only "in 1 hour".
    assert due(booking(), START - minutes(40)) == 60


def test_a_booking_made_30_minutes_ahead_gets_no_reminder() -> None:
    b = booking(created_at=START - minutes(30))
    for before in (30, 20, 1):
        assert due(b, START - minutes(before)) is None


def test_a_booking_made_two_hours_ahead_gets_only_the_hour_reminder() -> None:
    b = booking(created_at=START - minutes(120))
    assert due(b, START - minutes(90)) is None
    assert due(b, START - minutes(60)) == 60


def test_a_booking_made_right_at_the_moment_still_gets_it() -> None:
    b = booking(created_at=START - minutes(60))
    assert due(b, START - minutes(60)) == 60


def test_a_booking_made_just_after_the_moment_does_not() -> None:
    b = booking(created_at=START - minutes(60) + timedelta(seconds=1))
    assert due(b, START - minutes(59)) is None


def test_a_moved_booking_counts_from_the_move() -> None:
    # Made long ago, moved three hours before its new start: the day-ahead moment passed
    # before the move, the hour-ahead one did not.
    b = booking(rescheduled_at=START - minutes(180))
    assert due(b, START - minutes(120)) is None
    assert due(b, START - minutes(60)) == 60


def test_a_booking_moved_30_minutes_ahead_gets_no_reminder() -> None:
    b = booking(rescheduled_at=START - minutes(30))
    assert due(b, START - minutes(20)) is None


def test_a_booking_moved_well_ahead_gets_both() -> None:
    b = booking(created_at=START - minutes(90), rescheduled_at=START - timedelta(days=3))
    assert due(b, START - minutes(24 * 60)) == 1440
    assert due(b, START - minutes(60)) == 60


def test_no_rescheduled_at_uses_created_at() -> None:
    b = booking(created_at=START - minutes(90), rescheduled_at=None)
    assert due(b, START - minutes(24 * 60)) is None
    assert due(b, START - minutes(60)) == 60


alert_lists = st.lists(st.fixed_dictionaries({
    "method": st.sampled_from(["email", "popup"]),
    "minutes": st.integers(0, 40320),
}), max_size=5)


@settings(deadline=None)  # a busy shared machine, not slow code
@given(alert_lists, st.integers(-3000, 50000), st.integers(0, 60000))
def test_what_is_due_lies_in_its_window(alerts: list[dict[str, Any]], before: int,
                                        made_before: int) -> None:
    b = booking(reminders=alerts, created_at=START - minutes(made_before))
    now = START - minutes(before)
    found = due(b, now)
    if found is None:
        return
    assert found in offsets(b)
    assert START - minutes(found) <= now < START
    assert b["created_at"] <= START - minutes(found)
    nearer = [m for m in offsets(b) if m < found]
    assert not nearer or now < START - minutes(max(nearer))


short_alert_lists = st.lists(st.fixed_dictionaries({
    "method": st.sampled_from(["email", "popup"]),
    "minutes": st.integers(0, 1500),
}), max_size=5)


# Each example walks ~1600 minutes: on a shared, busy machine that can pass the 200 ms default.
@settings(deadline=None)
@given(short_alert_lists, st.integers(0, 1600))
def test_each_offset_is_due_in_one_stretch_and_in_order(alerts: list[dict[str, Any]],
                                                         made_before: int) -> None:
    # Walking towards the start minute by minute, each owed offset shows up in one unbroken
    # stretch, larger offsets first: one mail per offset, never two at a time.
    b = booking(reminders=alerts, created_at=START - minutes(made_before))
    seen: list[int] = []
    for before in range(max(offsets(b)) + 2, -3, -1):
        found = due(b, START - minutes(before))
        if found is not None and (not seen or seen[-1] != found):
            seen.append(found)
    assert seen == sorted(set(seen), reverse=True)
    owed = [m for m in offsets(b) if m <= made_before]
    assert seen == owed


# --- next_at: the indexed moment resync looks for -----------------------------------------------


def test_next_reminder_is_the_earliest_offset_moment_still_ahead() -> None:
    b = booking(reminders=[{"minutes": 1440}, {"minutes": 60}])
    assert reminders.next_at(b) == START - minutes(1440)
    assert reminders.next_at(b, after=START - minutes(1440)) == START - minutes(60)
    assert reminders.next_at(b, after=START - minutes(60)) is None


def test_no_next_reminder_for_a_moment_that_passed_before_the_booking_took_its_time() -> None:
    late = booking(created_at=START - minutes(30))
    assert reminders.next_at(late) is None
    moved = booking(rescheduled_at=START - minutes(120))
    assert reminders.next_at(moved) == START - minutes(60)


@settings(deadline=None)
@given(alert_lists, st.integers(0, 60000))
def test_every_due_offset_is_found_by_following_next_at(alerts: list[dict[str, Any]],
                                                        age: int) -> None:
    """Following next_at from the booking's creation meets each owed offset's window exactly
    once, in order: nothing due() would send is skipped by the index."""
    b = booking(reminders=alerts, created_at=START - minutes(age))
    seen, at = [], reminders.next_at(b)
    while at is not None:
        seen.append(due(b, at))
        at = reminders.next_at(b, after=at)
    owed = [m for m in offsets(b) if START - minutes(m) >= b["created_at"]]
    assert seen == owed
