"""Group events: seats of one slot counted, joined, refused when full; one booking for limits;
one Google event with every guest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.availability import Booked, Limits, compute_slots
from booking.domain.event_body import event_body
from booking.domain.event_types import EventTypeError, parse_event_type
from booking.domain.intervals import Interval
from booking.domain.rules import parse_rules
from booking.domain.seats import (
    FULL,
    MAX_SEATS,
    Guest,
    attendees,
    groups,
    open_seats,
    place,
    same_attendees,
    slots_with_seats,
    without,
)

NOW = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # a Monday
RULES = parse_rules({"weekly_hours": {"mon": [["09:00", "12:00"]]}, "duration_minutes": 60,
                     "time_zone": "UTC", "start_times": "range_start"})
NINE = Interval(datetime(2026, 12, 7, 9, tzinfo=UTC), datetime(2026, 12, 7, 10, tzinfo=UTC))
TEN = Interval(NINE.end, NINE.end + timedelta(hours=1))
DAY = Interval(datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 8, tzinfo=UTC))


def seat(interval: Interval, group: str | None, *, ours: bool = True) -> Booked:
    return Booked(interval, counts_toward_limit=ours, group=group)


def test_seats_of_one_group_are_counted_and_other_types_groups_are_not_ours() -> None:
    booked = [seat(TEN, "b"), seat(NINE, "a"), seat(NINE, "a"), seat(NINE, "x", ours=False),
              Booked(TEN)]
    found = groups(booked)
    assert [(g.id, g.interval, g.taken) for g in found] == [("a", NINE, 2), ("b", TEN, 1)]
    assert without(booked, "a") == [seat(TEN, "b"), seat(NINE, "x", ours=False), Booked(TEN)]


def test_a_seat_joins_the_group_at_its_time_until_it_is_full() -> None:
    two = [seat(NINE, "a"), seat(NINE, "a")]
    assert place(NINE, 3, two).group is not None and not place(NINE, 3, two).full
    assert place(NINE, 2, two).full
    assert place(TEN, 3, two).group is None  # elsewhere: a new group slot
    # A group of another length (the owner changed the duration) is not the same slot.
    assert place(Interval(NINE.start, NINE.start + timedelta(minutes=30)), 3, two).group is None
    assert "full" in FULL


def test_a_group_slot_with_free_seats_is_offered_with_seats_left_and_not_when_full() -> None:
    two = [seat(NINE, "a"), seat(NINE, "a")]
    plain = compute_slots(RULES, span=DAY, busy=[NINE], booked=two, now=NOW)
    assert NINE not in plain  # its own seats and event block it like any booking
    found, left = slots_with_seats(RULES, 3, span=DAY, busy=[NINE], booked=two, now=NOW)
    assert NINE in found and left[NINE.start] == 1 and left[TEN.start] == 3
    assert [s.start for s in found] == sorted(s.start for s in found)
    full, _ = slots_with_seats(RULES, 2, span=DAY, busy=[NINE], booked=two, now=NOW)
    assert NINE not in full


def test_one_seat_event_types_get_no_seat_counts() -> None:
    found, left = slots_with_seats(RULES, 1, span=DAY, busy=[], booked=[], now=NOW)
    assert len(found) == 3 and left == {}


def test_a_group_slot_follows_every_rule_of_a_new_slot() -> None:
    group = [seat(NINE, "a")]
    # Outside the asked span, or too soon: not offered.
    assert open_seats(RULES, 3, span=Interval(TEN.start, DAY.end), busy=[], booked=group,
                      now=NOW) == []
    assert open_seats(RULES, 3, span=DAY, busy=[], booked=group, now=NINE.start) == []
    # Busy time next to it, inside its buffer, keeps it closed; busy time under its own
    # time is its own Google event (as a reschedule reads a booking's own event).
    buffered = parse_rules({"weekly_hours": {"mon": [["09:00", "12:00"]]},
                            "duration_minutes": 60, "time_zone": "UTC",
                            "buffer_after_minutes": 15})
    after = Interval(NINE.end, NINE.end + timedelta(minutes=10))
    assert open_seats(buffered, 3, span=DAY, busy=[NINE, after], booked=group, now=NOW) == []
    assert open_seats(buffered, 3, span=DAY, busy=[NINE], booked=group, now=NOW) == [(NINE, 2)]
    # The owner made meetings longer since: the old group takes nobody new.
    longer = parse_rules({"weekly_hours": {"mon": [["09:00", "12:00"]]},
                          "duration_minutes": 90, "time_zone": "UTC"})
    assert open_seats(longer, 3, span=DAY, busy=[], booked=group, now=NOW) == []
    assert open_seats(RULES, 3, span=DAY, busy=[NINE], booked=group, now=NOW) == [(NINE, 2)]


def test_a_group_counts_as_one_booking_for_limits_so_joining_it_adds_none() -> None:
    limited = parse_rules({"weekly_hours": {"mon": [["09:00", "12:00"]]},
                           "duration_minutes": 60, "time_zone": "UTC",
                           "max_bookings_per_day": 2, "max_minutes_per_day": 120})
    three_seats = [seat(NINE, "a")] * 3
    assert not Limits(limited, three_seats, owner_daily_cap=2).reached_on(NINE.start.date())
    full = [*three_seats, seat(TEN, "b")]
    assert Limits(limited, full, owner_daily_cap=None).reached_on(NINE.start.date())
    # The day is full for a new slot, yet each group still takes guests.
    found, left = slots_with_seats(limited, 5, span=DAY, busy=[], booked=full, now=NOW)
    assert [s.start for s in found] == [NINE.start, TEN.start]
    assert left == {NINE.start: 2, TEN.start: 4}


def test_the_group_event_invites_each_guest_once_and_never_the_owner() -> None:
    guests = [Guest("ana@example.com", "Ana"), Guest("owner@example.com", "Me"),
              Guest("ANA@example.com", "Ana again"), Guest("bo@example.com", "Bo")]
    wanted = attendees(guests, {"Owner@example.com"})
    assert wanted == [Guest("ana@example.com", "Ana"), Guest("bo@example.com", "Bo")]
    assert same_attendees([{"email": "Bo@example.com"}, {"email": "ana@example.com"}], wanted)
    assert not same_attendees([{"email": "ana@example.com"}], wanted)


def test_the_group_event_body_carries_every_attendee_and_its_own_summary() -> None:
    body = event_body(event_id="bkg", booking_id="g", title="Yoga", guest_name="",
                      guest_email="", start=NINE.start, end=NINE.end, time_zone="UTC",
                      details="", meet=False, reminders=[], owner_addresses=(),
                      ical_uid="g@x", attendees=[("a@x.test", "A"), ("b@x.test", "B")],
                      summary="Yoga (2 booked)")
    assert [a["email"] for a in body["attendees"]] == ["a@x.test", "b@x.test"]
    assert body["summary"] == "Yoga (2 booked)"


@pytest.mark.parametrize("value", [0, MAX_SEATS + 1, "3", True, 2.5, None])
def test_seats_out_of_range_are_refused_naming_the_field(value: object) -> None:
    data = {"slug": "yoga", "title": "Yoga", "seats": value,
            "rules": {"weekly_hours": {"mon": [["09:00", "12:00"]]}, "duration_minutes": 60}}
    with pytest.raises(EventTypeError) as caught:
        parse_event_type(data, "UTC")
    assert caught.value.fields == {"seats": f"must be 1 to {MAX_SEATS}"}


def test_seats_default_to_one_and_are_stored() -> None:
    data = {"slug": "yoga", "title": "Yoga",
            "rules": {"weekly_hours": {"mon": [["09:00", "12:00"]]}, "duration_minutes": 60}}
    assert parse_event_type(data, "UTC").seats == 1
    assert parse_event_type({**data, "seats": MAX_SEATS}, "UTC").to_dict()["seats"] == MAX_SEATS
