"""Slots from rules and busy time: behaviour by example, then properties against a brute force.

The examples use the owner zone UTC unless the behaviour is about zones, so that 09:00 reads as
09:00Z; tests/unit/test_availability_dst.py has the days clocks change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from booking.domain.availability import (
    Booked,
    blocked_time,
    bookable_dates,
    bookable_days,
    compute_slots,
    group_by_local_day,
    local_instant,
    owner_day,
    slot_is_offered,
    slot_starts,
    working_ranges,
)
from booking.domain.intervals import Interval
from booking.domain.rules import AvailabilityRules, DateOverride, TimeRange, WeeklyHours

MONDAY = date(2026, 6, 1)
LONG_AGO = datetime(2026, 5, 20, tzinfo=UTC)
MIN = timedelta(minutes=1)


def utc(day: date, clock: str = "00:00") -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=UTC)


def on(offset_days: int, clock: str = "00:00") -> datetime:
    """An instant in the test week: ``on(0, "09:00")`` is Monday 2026-06-01 09:00Z."""
    return utc(MONDAY + timedelta(days=offset_days), clock)


def tr(start: str, end: str) -> TimeRange:
    def minutes(text: str) -> int:
        hours, mins = text.split(":")
        return int(hours) * 60 + int(mins)

    return TimeRange(minutes(start), minutes(end))


def weekly(*ranges: tuple[str, str], days: Sequence[int] = range(5)) -> WeeklyHours:
    return WeeklyHours.of({day: [tr(*r) for r in ranges] for day in days})


def make_rules(**changes: Any) -> AvailabilityRules:
    fields: dict[str, Any] = {
        "time_zone": "UTC",
        "weekly_hours": weekly(("09:00", "17:00")),
        "duration_minutes": 60,
    }
    fields.update(changes)
    return AvailabilityRules(**fields)


def slots(
    rules: AvailabilityRules,
    *,
    span: Interval | None = None,
    busy: Sequence[Interval] = (),
    booked: Sequence[Booked] = (),
    now: datetime = LONG_AGO,
    owner_daily_cap: int | None = None,
) -> list[Interval]:
    return compute_slots(
        rules,
        span=span or Interval(on(0), on(7)),
        busy=busy,
        booked=booked,
        now=now,
        owner_daily_cap=owner_daily_cap,
    )


def labels(found: Sequence[Interval], zone: str = "UTC") -> list[str]:
    return [f"{s.start.astimezone(ZoneInfo(zone)):%a %H:%M}" for s in found]


def day_labels(found: Sequence[Interval], weekday: str) -> list[str]:
    return [label[4:] for label in labels(found) if label.startswith(weekday)]


def busy(start: datetime, end: datetime) -> Interval:
    return Interval(start, end)


# --- Working hours and overrides -----------------------------------------------------------


def test_weekday_hours_give_hourly_slots_on_weekdays_only() -> None:
    found = slots(make_rules())
    assert len(found) == 5 * 8
    assert day_labels(found, "Mon") == [f"{h:02d}:00" for h in range(9, 17)]
    assert not day_labels(found, "Sat") and not day_labels(found, "Sun")
    assert all(s.duration == timedelta(hours=1) for s in found)


def test_several_ranges_a_day_leave_the_gap_between_them_alone() -> None:
    r = make_rules(weekly_hours=weekly(("09:00", "12:00"), ("13:00", "17:00")))
    assert day_labels(slots(r), "Tue") == [
        "09:00",
        "10:00",
        "11:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
    ]


def test_touching_ranges_align_each_to_its_own_start() -> None:
    r = make_rules(weekly_hours=weekly(("09:00", "10:30"), ("10:30", "12:00")))
    # A slot may not straddle the 10:30 boundary: the owner asked for two ranges.
    assert day_labels(slots(r), "Mon") == ["09:00", "10:30"]


def test_closed_override_empties_that_date_only() -> None:
    r = make_rules(overrides=(DateOverride(MONDAY + timedelta(days=2)),))
    found = slots(r)
    assert day_labels(found, "Wed") == []
    assert len(day_labels(found, "Thu")) == 8


def test_override_with_other_hours_replaces_the_weekday() -> None:
    r = make_rules(
        overrides=(
            DateOverride(MONDAY, (tr("07:00", "09:00"), tr("20:00", "21:00"))),
            DateOverride(MONDAY + timedelta(days=5), (tr("10:00", "12:00"),)),  # a Saturday
        )
    )
    found = slots(r)
    assert day_labels(found, "Mon") == ["07:00", "08:00", "20:00"]
    assert day_labels(found, "Sat") == ["10:00", "11:00"]
    assert day_labels(found, "Sun") == []


def test_range_that_ends_at_midnight_offers_its_last_hour() -> None:
    r = make_rules(weekly_hours=weekly(("22:00", "24:00"), days=[0]))
    assert labels(slots(r)) == ["Mon 22:00", "Mon 23:00"]


# --- Slot interval and alignment -----------------------------------------------------------


def test_slot_interval_shorter_than_duration_overlaps_slots() -> None:
    r = make_rules(weekly_hours=weekly(("09:00", "11:00"), days=[0]), slot_interval_minutes=15)
    assert labels(slots(r)) == ["Mon 09:00", "Mon 09:15", "Mon 09:30", "Mon 09:45", "Mon 10:00"]


def test_slot_interval_longer_than_duration_leaves_gaps() -> None:
    r = make_rules(
        weekly_hours=weekly(("09:00", "12:00"), days=[0]),
        duration_minutes=30,
        slot_interval_minutes=45,
    )
    assert labels(slots(r)) == ["Mon 09:00", "Mon 09:45", "Mon 10:30", "Mon 11:15"]


def test_starts_after_busy_time_stay_on_the_range_grid() -> None:
    r = make_rules(
        weekly_hours=weekly(("09:00", "12:00"), days=[0]),
        duration_minutes=30,
        slot_interval_minutes=45,
    )
    found = slots(r, busy=[busy(on(0, "08:00"), on(0, "09:50"))])
    # 09:50 rounds up to 10:30 (09:00 + 2 x 45), the docstring's worked example.
    assert labels(found) == ["Mon 10:30", "Mon 11:15"]


# --- Busy time -----------------------------------------------------------------------------


def test_busy_time_that_only_touches_a_slot_leaves_it() -> None:
    found = slots(make_rules(), busy=[busy(on(0, "10:00"), on(0, "11:00"))])
    assert day_labels(found, "Mon") == [
        "09:00",
        "11:00",
        "12:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
    ]


def test_busy_time_overlapping_by_a_minute_removes_the_slot() -> None:
    found = slots(make_rules(), busy=[busy(on(0, "09:59"), on(0, "10:01"))])
    assert day_labels(found, "Mon")[:2] == ["11:00", "12:00"]


def test_busy_interval_spanning_several_days() -> None:
    found = slots(make_rules(), busy=[busy(on(0, "12:00"), on(2, "12:30"))])
    assert day_labels(found, "Mon") == ["09:00", "10:00", "11:00"]
    assert day_labels(found, "Tue") == []
    assert day_labels(found, "Wed") == ["13:00", "14:00", "15:00", "16:00"]


def test_all_day_busy_event_empties_the_owner_day() -> None:
    # Google reports an all-day event in the owner's zone as that local day, midnight to midnight.
    zone = ZoneInfo("Europe/Ljubljana")
    r = make_rules(time_zone="Europe/Ljubljana")
    all_day = busy(local_instant(MONDAY, 0, zone), local_instant(MONDAY, 1440, zone))
    found = slots(r, busy=[all_day], span=Interval(on(-1), on(3)))
    assert [s.start.date() for s in found].count(MONDAY) == 0
    assert len(found) == 2 * 8


def test_unsorted_overlapping_busy_intervals_from_several_calendars() -> None:
    calendars = [
        busy(on(0, "13:30"), on(0, "14:10")),
        busy(on(0, "09:00"), on(0, "09:30")),
        busy(on(0, "13:00"), on(0, "13:45")),
        busy(on(0, "09:15"), on(0, "10:00")),
    ]
    assert day_labels(slots(make_rules(), busy=calendars), "Mon") == [
        "10:00",
        "11:00",
        "12:00",
        "15:00",
        "16:00",
    ]


# --- Buffers -------------------------------------------------------------------------------


def test_new_slot_before_buffer_keeps_away_from_busy_time_that_ends_before_it() -> None:
    r = make_rules(buffer_before_minutes=15, slot_interval_minutes=15)
    found = slots(r, busy=[busy(on(0, "09:00"), on(0, "10:00"))])
    assert day_labels(found, "Mon")[0] == "10:15"


def test_new_slot_after_buffer_keeps_away_from_busy_time_that_starts_after_it() -> None:
    r = make_rules(buffer_after_minutes=15, slot_interval_minutes=15)
    found = slots(r, busy=[busy(on(0, "12:00"), on(0, "17:00"))])
    assert day_labels(found, "Mon")[-1] == "10:45"


def test_buffers_may_reach_outside_working_hours() -> None:
    # Buffers guard against other commitments, not working hours: 09:00 stays bookable with a
    # 15-minute before-buffer, unless something is busy at 08:45.
    r = make_rules(buffer_before_minutes=15)
    monday = Interval(on(0), on(1))
    assert day_labels(slots(r, span=monday), "Mon")[0] == "09:00"
    early = busy(on(0, "08:00"), on(0, "08:50"))
    assert day_labels(slots(r, span=monday, busy=[early]), "Mon")[0] == "10:00"


def test_after_buffer_reaches_busy_time_after_the_last_range() -> None:
    r = make_rules(buffer_after_minutes=15)
    monday = Interval(on(0), on(1))
    assert day_labels(slots(r, span=monday), "Mon")[-1] == "16:00"
    late = busy(on(0, "17:10"), on(0, "18:00"))
    assert day_labels(slots(r, span=monday, busy=[late]), "Mon")[-1] == "15:00"


def test_booking_keeps_its_own_buffers() -> None:
    r = make_rules(duration_minutes=30, slot_interval_minutes=15)
    booking = Booked(
        Interval(on(0, "10:00"), on(0, "11:00")),
        buffer_before=timedelta(minutes=30),
        buffer_after=timedelta(minutes=15),
    )
    assert booking.blocked == Interval(on(0, "09:30"), on(0, "11:15"))
    # 09:00-09:30 just touches the booking's before-buffer; 09:15 would run into it.
    assert day_labels(slots(r, booked=[booking]), "Mon")[:2] == ["09:00", "11:15"]


def test_buffers_of_booking_and_new_slot_add_up() -> None:
    r = make_rules(buffer_before_minutes=10, slot_interval_minutes=5, duration_minutes=30)
    booking = Booked(Interval(on(0, "10:00"), on(0, "11:00")), buffer_after=timedelta(minutes=15))
    mon = day_labels(slots(r, booked=[booking]), "Mon")
    assert "11:20" not in mon and "11:25" in mon


def test_external_busy_time_carries_no_buffer_of_its_own() -> None:
    r = make_rules()
    found = slots(r, busy=[busy(on(0, "10:00"), on(0, "11:00"))])
    assert "11:00" in day_labels(found, "Mon")


def test_booking_buffers_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        Booked(Interval(on(0, "10:00"), on(0, "11:00")), buffer_before=-MIN)
    with pytest.raises(ValueError, match="must not be negative"):
        Booked(Interval(on(0, "10:00"), on(0, "11:00")), buffer_after=-MIN)


# --- Notice, window, span -----------------------------------------------------------------


def test_minimum_notice_drops_starts_too_soon_and_keeps_the_grid() -> None:
    r = make_rules(minimum_notice_minutes=60, slot_interval_minutes=30)
    found = slots(r, now=on(0, "09:10"))
    # 09:10 + 60 min = 10:10; the grid is 09:00, 09:30, ..., so the first is 10:30.
    assert day_labels(found, "Mon")[0] == "10:30"


def test_a_start_exactly_at_now_plus_notice_is_offered() -> None:
    found = slots(make_rules(minimum_notice_minutes=60), now=on(0, "09:00"))
    assert day_labels(found, "Mon")[0] == "10:00"


def test_notice_of_days_skips_whole_days() -> None:
    found = slots(make_rules(minimum_notice_minutes=2 * 1440), now=on(0, "12:00"))
    assert day_labels(found, "Mon") == day_labels(found, "Tue") == []
    assert day_labels(found, "Wed")[0] == "12:00"


def test_nothing_is_offered_in_the_past() -> None:
    assert slots(make_rules(), now=on(7)) == []


def test_window_counts_whole_owner_days_from_today() -> None:
    # Tuesday 00:30 in Ljubljana is still Monday in UTC; the window starts on the owner's Tuesday.
    r = make_rules(time_zone="Europe/Ljubljana", booking_window_days=1)
    now = on(0, "22:30")
    found = slots(r, now=now)
    zone = ZoneInfo("Europe/Ljubljana")
    assert {s.start.astimezone(zone).date() for s in found} == {MONDAY + timedelta(days=1)}
    assert len(found) == 8  # the whole of Tuesday, however late the guest looks


def test_window_of_seven_days_ends_on_the_sixth_day_after_today() -> None:
    r = make_rules(weekly_hours=weekly(("09:00", "10:00"), days=range(7)), booking_window_days=7)
    found = slots(r, now=on(0, "08:00"), span=Interval(on(0), on(14)))
    assert [s.start.date() for s in found] == [MONDAY + timedelta(days=d) for d in range(7)]


def test_span_selects_by_start_and_does_not_move_the_grid() -> None:
    r = make_rules(slot_interval_minutes=30)
    found = slots(r, span=Interval(on(0, "10:10"), on(0, "12:00")))
    # 11:30-12:30 starts inside the span, so it is in; 10:10 is not a grid point.
    assert labels(found) == ["Mon 10:30", "Mon 11:00", "Mon 11:30"]


def test_span_outside_working_hours_is_empty() -> None:
    assert slots(make_rules(), span=Interval(on(5), on(7))) == []


# --- Daily limit ---------------------------------------------------------------------------


def test_day_at_the_limit_offers_nothing() -> None:
    r = make_rules(max_bookings_per_day=2)
    two = [
        Booked(Interval(on(0, "09:00"), on(0, "10:00"))),
        Booked(Interval(on(0, "15:00"), on(0, "16:00"))),
    ]
    found = slots(r, booked=two)
    assert day_labels(found, "Mon") == []
    assert len(day_labels(found, "Tue")) == 8
    one_left = day_labels(slots(r, booked=two[:1]), "Mon")
    assert one_left == [f"{h:02d}:00" for h in range(10, 17)]


def test_bookings_of_other_event_types_block_time_but_not_the_quota() -> None:
    r = make_rules(max_bookings_per_day=1)
    other = Booked(Interval(on(0, "09:00"), on(0, "10:00")), counts_toward_limit=False)
    assert day_labels(slots(r, booked=[other]), "Mon")[0] == "10:00"
    assert day_labels(slots(r, booked=[replace(other, counts_toward_limit=True)]), "Mon") == []


def test_a_window_of_business_days_skips_closed_days() -> None:
    # Weekdays open, Wednesday closed by an override: 3 business days from Monday are Monday,
    # Tuesday and Thursday.
    closed = DateOverride(MONDAY + timedelta(days=2), ())
    r = make_rules(booking_window_days=3, booking_window_unit="business_days", overrides=(closed,))
    found = slots(r, now=on(0, "08:00"), span=Interval(on(0), on(14)))
    assert sorted({s.start.strftime("%a") for s in found}) == ["Mon", "Thu", "Tue"]
    # From Saturday, the weekend does not count: Mon, Tue, Thu again.
    found = slots(r, now=on(-2, "08:00"), span=Interval(on(-2), on(14)))
    assert sorted({s.start.strftime("%a") for s in found}) == ["Mon", "Thu", "Tue"]
    assert bookable_dates(r, on(0, "08:00")) == (MONDAY, MONDAY + timedelta(days=3))


def test_business_days_with_no_working_day_end_at_a_bound() -> None:
    r = make_rules(
        weekly_hours=weekly(), booking_window_days=2, booking_window_unit="business_days"
    )
    assert bookable_dates(r, on(0)) == (MONDAY, MONDAY + timedelta(days=21))


def test_a_fixed_date_range_cuts_both_ends() -> None:
    r = make_rules(
        bookable_from=MONDAY + timedelta(days=1), bookable_until=MONDAY + timedelta(days=2)
    )
    found = slots(r, now=LONG_AGO)
    assert sorted({s.start.strftime("%a") for s in found}) == ["Tue", "Wed"]


@pytest.mark.parametrize(
    ("hours", "policy", "expected"),
    [
        (("07:45", "12:00"), "range_start", ["07:45", "08:45", "09:45", "10:45"]),
        (("07:45", "12:00"), "on_the_clock", ["08:00", "09:00", "10:00", "11:00"]),
        (("07:45", "12:00"), "on_the_clock_if_no_loss", ["08:00", "09:00", "10:00", "11:00"]),
        (("09:30", "11:30"), "on_the_clock", ["10:00"]),
        (("09:30", "11:30"), "on_the_clock_if_no_loss", ["09:30", "10:30"]),
        (("09:00", "11:00"), "on_the_clock_if_no_loss", ["09:00", "10:00"]),
    ],
)
def test_start_time_policies(hours: tuple[str, str], policy: str, expected: list[str]) -> None:
    r = make_rules(weekly_hours=weekly(hours), start_times=policy)
    assert day_labels(slots(r), "Mon") == expected


def test_on_the_clock_follows_the_local_hour_in_a_half_hour_zone() -> None:
    # Kolkata is UTC+05:30: its 09:15-11:15 range steps from 09:00 local, i.e. 03:30Z; hour-long
    # meetings every half hour start at 09:30 and 10:00 IST (10:30 would end past 11:15).
    r = make_rules(
        time_zone="Asia/Kolkata",
        weekly_hours=weekly(("09:15", "11:15")),
        slot_interval_minutes=30,
        start_times="on_the_clock",
    )
    assert day_labels(slots(r), "Mon") == ["04:00", "04:30"]


def test_a_night_shift_runs_past_midnight_and_its_late_slots_count_on_the_next_day() -> None:
    # Friday 22:00 to Saturday 02:00 ("26:00" here: minutes past Friday's midnight), hourly.
    night = WeeklyHours.of({4: [tr("22:00", "26:00")]})
    r = make_rules(weekly_hours=night, max_bookings_per_day=1)
    assert labels(slots(r, span=Interval(on(0), on(7)))) == [
        "Fri 22:00", "Fri 23:00", "Sat 00:00", "Sat 01:00"
    ]
    # A Friday booking fills Friday only; the night's Saturday hours stay bookable.
    friday = Booked(Interval(on(4, "22:00"), on(4, "23:00")))
    assert labels(slots(r, booked=[friday])) == ["Sat 00:00", "Sat 01:00"]
    assert slot_is_offered(r, on(5, "01:00"), busy=[], booked=[friday], now=LONG_AGO)


def test_a_meeting_may_span_touching_ranges_of_consecutive_days() -> None:
    # Friday 20:00-24:00 and Saturday 00:00-03:00: a three-hour meeting may start at 23:00.
    hours = WeeklyHours.of({4: [tr("20:00", "24:00")], 5: [tr("00:00", "03:00")]})
    r = make_rules(weekly_hours=hours, duration_minutes=180)
    assert labels(slots(r)) == ["Fri 20:00", "Fri 23:00", "Sat 00:00"]
    # Within one day, touching ranges stay apart: 09:00-12:00 and 12:00-17:00 never join.
    same_day = make_rules(weekly_hours=weekly(("09:00", "12:00"), ("12:00", "17:00")),
                          duration_minutes=240)
    assert day_labels(slots(same_day), "Mon") == ["12:00"]


def test_a_whole_day_meeting_of_24_hours() -> None:
    every_day = weekly(("00:00", "24:00"), days=range(7))
    r = make_rules(weekly_hours=every_day, duration_minutes=1440)
    assert labels(slots(r, span=Interval(on(0), on(2)))) == ["Mon 00:00", "Tue 00:00"]


def test_an_override_under_the_night_before_starts_when_the_night_ends() -> None:
    night = WeeklyHours.of({6: [tr("22:00", "27:00")]})  # Sunday 22:00 to Monday 03:00
    early = DateOverride(MONDAY + timedelta(days=7), (tr("01:00", "05:00"),))
    r = make_rules(weekly_hours=night, overrides=(early,))
    found = labels(slots(r, span=Interval(on(6), on(8))))
    assert found == ["Sun 22:00", "Sun 23:00", "Mon 00:00", "Mon 01:00", "Mon 02:00",
                     "Mon 03:00", "Mon 04:00"]


def test_an_override_wholly_under_the_night_before_adds_nothing() -> None:
    night = WeeklyHours.of({6: [tr("22:00", "30:00")]})  # Sunday 22:00 to Monday 06:00
    under = DateOverride(MONDAY + timedelta(days=7), (tr("02:00", "05:00"),))
    r = make_rules(weekly_hours=night, overrides=(under,))
    found = labels(slots(r, span=Interval(on(6), on(8))))
    assert found == ["Sun 22:00", "Sun 23:00", "Mon 00:00", "Mon 01:00", "Mon 02:00",
                     "Mon 03:00", "Mon 04:00", "Mon 05:00"]


def test_no_slot_starts_at_or_before_now_even_without_notice() -> None:
    r = make_rules()
    assert labels(slots(r, now=on(0, "10:00")))[:1] == ["Mon 11:00"]
    assert labels(slots(r, now=on(0, "09:59")))[:1] == ["Mon 10:00"]
    assert not slot_is_offered(r, on(0, "10:00"), busy=[], booked=[], now=on(0, "10:00"))


def test_owner_daily_cap_counts_bookings_of_every_event_type() -> None:
    r = make_rules(max_bookings_per_day=5)
    others = [
        Booked(Interval(on(0, "09:00"), on(0, "10:00")), counts_toward_limit=False),
        Booked(Interval(on(0, "12:00"), on(0, "13:00")), counts_toward_limit=False),
    ]
    assert day_labels(slots(r, booked=others, owner_daily_cap=2), "Mon") == []
    assert day_labels(slots(r, booked=others[:1], owner_daily_cap=2), "Mon")[0] == "10:00"
    assert len(day_labels(slots(r, booked=others, owner_daily_cap=2), "Tue")) == 8
    assert not slot_is_offered(
        r, on(0, "14:00"), busy=[], booked=others, now=LONG_AGO, owner_daily_cap=2
    )


def test_weekly_limit_fills_the_rest_of_the_week_from_the_owners_week_start() -> None:
    every_day = weekly(("09:00", "17:00"), days=range(7))
    two = [
        Booked(Interval(on(0, "09:00"), on(0, "10:00"))),
        Booked(Interval(on(1, "09:00"), on(1, "10:00"))),
    ]
    # Monday 2026-06-01 starts the week: Mon..Sun are full, the next Monday is open.
    r = make_rules(weekly_hours=every_day, max_bookings_per_week=2)
    found = slots(r, booked=two, span=Interval(on(-1), on(8)))
    assert sorted({s.start.date() for s in found}) == [MONDAY - timedelta(days=1),
                                                       MONDAY + timedelta(days=7)]
    # With weeks from Sunday (en-US) the Sunday 2026-06-07 starts a new week.
    r = make_rules(weekly_hours=every_day, max_bookings_per_week=2, week_start=6)
    found = slots(r, booked=two, span=Interval(on(-1), on(8)))
    assert sorted({s.start.date() for s in found}) == [MONDAY + timedelta(days=6),
                                                       MONDAY + timedelta(days=7)]


def test_monthly_limit_and_booked_minutes() -> None:
    june = Booked(Interval(on(0, "09:00"), on(0, "11:00")))  # 120 minutes
    r = make_rules(max_bookings_per_month=1)
    assert slots(r, booked=[june]) == []
    assert slots(r, booked=[june], span=Interval(on(30), on(31)))  # 1 July is a new month
    # 180 minutes a day: after 120, one more hour fits, then nothing.
    r = make_rules(max_minutes_per_day=180)
    assert day_labels(slots(r, booked=[june]), "Mon")[0] == "11:00"
    r = make_rules(max_minutes_per_day=179)
    assert day_labels(slots(r, booked=[june]), "Mon") == []
    assert day_labels(slots(r, booked=[june]), "Tue")
    # 150 minutes a week: 30 are left, so a half-hour meeting fits any day of that week.
    r = make_rules(max_minutes_per_week=150, duration_minutes=30)
    assert len(day_labels(slots(r, booked=[june]), "Fri")) == 16
    r = make_rules(max_minutes_per_week=149, duration_minutes=30)
    assert day_labels(slots(r, booked=[june]), "Fri") == []
    r = make_rules(max_minutes_per_month=120, duration_minutes=30)
    assert slots(r, booked=[june]) == []


def test_limits_reach_as_far_as_their_longest_period() -> None:
    assert make_rules().limit_reach == timedelta(days=2)
    assert make_rules(max_minutes_per_week=60).limit_reach == timedelta(days=8)
    assert make_rules(max_bookings_per_week=1).limit_reach == timedelta(days=8)
    assert make_rules(max_bookings_per_month=1).limit_reach == timedelta(days=32)
    assert make_rules(max_minutes_per_month=60).limit_reach == timedelta(days=32)


def test_daily_limit_counts_by_the_owner_day() -> None:
    # 22:30Z on Monday is Tuesday 00:30 in Ljubljana: it fills Tuesday, not Monday.
    r = make_rules(time_zone="Europe/Ljubljana", max_bookings_per_day=1)
    late = Booked(Interval(on(0, "22:30"), on(0, "23:00")))
    found = slots(r, booked=[late], span=Interval(on(0), on(2)))
    zone = ZoneInfo("Europe/Ljubljana")
    assert {s.start.astimezone(zone).date() for s in found} == {MONDAY}


# --- slot_is_offered -----------------------------------------------------------------------


def test_slot_is_offered_for_a_listed_start_only() -> None:
    r = make_rules(slot_interval_minutes=30)
    taken = [busy(on(0, "11:00"), on(0, "12:00"))]
    assert slot_is_offered(r, on(0, "09:30"), busy=taken, booked=[], now=LONG_AGO)
    assert not slot_is_offered(r, on(0, "09:31"), busy=taken, booked=[], now=LONG_AGO)
    assert not slot_is_offered(r, on(0, "10:30"), busy=taken, booked=[], now=LONG_AGO)
    assert not slot_is_offered(r, on(5, "09:00"), busy=taken, booked=[], now=LONG_AGO)


def test_slot_is_offered_takes_any_aware_start() -> None:
    r = make_rules()
    in_ljubljana = on(0, "09:00").astimezone(ZoneInfo("Europe/Ljubljana"))
    assert slot_is_offered(r, in_ljubljana, busy=[], booked=[], now=LONG_AGO)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 6, 1, 9)
    with pytest.raises(ValueError, match="start must be an aware"):
        slot_is_offered(make_rules(), naive, busy=[], booked=[], now=LONG_AGO)
    with pytest.raises(ValueError, match="now must be an aware"):
        slots(make_rules(), now=naive)
    with pytest.raises(ValueError, match="instant must be an aware"):
        owner_day(naive, ZoneInfo("UTC"))


# --- Pipeline pieces -----------------------------------------------------------------------


def test_bookable_days_cut_to_notice_window_and_limit() -> None:
    r = make_rules(minimum_notice_minutes=1440, booking_window_days=5, max_bookings_per_day=1)
    full = Booked(Interval(on(2, "09:00"), on(2, "10:00")))
    days = bookable_days(r, span=Interval(on(-3), on(30)), booked=[full], now=on(0, "12:00"))
    assert days == [MONDAY + timedelta(days=d) for d in (1, 3, 4)]


def test_working_ranges_in_utc_across_days() -> None:
    r = make_rules(time_zone="Asia/Kathmandu", weekly_hours=weekly(("09:00", "17:00")))
    assert working_ranges(r, [MONDAY, MONDAY + timedelta(days=5)]) == [
        Interval(on(0, "03:15"), on(0, "11:15"))
    ]


def test_blocked_time_keeps_only_what_reaches_near() -> None:
    near = Interval(on(0, "09:00"), on(0, "17:00"))
    far = busy(on(2, "09:00"), on(2, "10:00"))
    edge = busy(on(0, "08:00"), on(0, "09:00"))
    inside = busy(on(0, "12:00"), on(0, "13:00"))
    booking = Booked(Interval(on(0, "17:10"), on(0, "18:00")), buffer_before=timedelta(minutes=15))
    far_booking = Booked(Interval(on(1, "10:00"), on(1, "11:00")))
    assert blocked_time([far, inside, edge], [booking, far_booking], near=near) == [
        inside,
        Interval(on(0, "16:55"), on(0, "18:00")),
    ]


def test_slot_starts_docstring_example() -> None:
    found = slot_starts(
        [Interval(on(0, "09:00"), on(0, "12:00"))],
        [Interval(on(0, "09:50"), on(0, "12:00"))],
        duration=timedelta(minutes=30),
        step=timedelta(minutes=45),
        earliest=on(0),
        latest=on(1),
    )
    assert labels(found) == ["Mon 10:30", "Mon 11:15"]


# --- Guests in other zones -----------------------------------------------------------------


def test_guest_across_the_date_line_sees_the_next_day() -> None:
    r = make_rules(
        time_zone="America/Los_Angeles", weekly_hours=weekly(("09:00", "17:00"), days=[0])
    )
    found = slots(r, span=Interval(on(0), on(2)))
    by_day = group_by_local_day(found, ZoneInfo("Pacific/Kiritimati"))
    assert list(by_day) == ["2026-06-02"]
    assert [f"{t:%H:%M}" for t in by_day["2026-06-02"]] == [f"{h:02d}:00" for h in range(6, 14)]
    assert by_day["2026-06-02"][0].utcoffset() == timedelta(hours=14)
    assert list(group_by_local_day(found, ZoneInfo("America/Los_Angeles"))) == ["2026-06-01"]


def test_owner_in_auckland_is_a_day_ahead_of_a_guest_in_los_angeles() -> None:
    r = make_rules(time_zone="Pacific/Auckland", weekly_hours=weekly(("09:00", "17:00"), days=[0]))
    found = slots(r, span=Interval(on(-1), on(1)))
    by_day = group_by_local_day(found, ZoneInfo("America/Los_Angeles"))
    # Monday 09:00 NZST (+12) is Sunday 21:00Z, Sunday 14:00 PDT (-7).
    assert list(by_day) == ["2026-05-31"]
    assert f"{by_day['2026-05-31'][0]:%H:%M}" == "14:00"


@pytest.mark.parametrize(
    ("guest_zone", "first", "last"),
    [("Asia/Kolkata", "14:30", "21:30"), ("Asia/Kathmandu", "14:45", "21:45")],
)
def test_guests_with_half_and_quarter_hour_offsets(guest_zone: str, first: str, last: str) -> None:
    found = slots(make_rules(weekly_hours=weekly(("09:00", "17:00"), days=[0])))
    by_day = group_by_local_day(found, ZoneInfo(guest_zone))
    times = [f"{t:%H:%M}" for t in by_day["2026-06-01"]]
    assert (times[0], times[-1], len(times)) == (first, last, 8)


def test_group_by_local_day_splits_one_owner_day_over_two_guest_days() -> None:
    found = slots(make_rules(weekly_hours=weekly(("09:00", "17:00"), days=[0])))
    by_day = group_by_local_day(found, ZoneInfo("Australia/Adelaide"))  # +09:30 in June
    assert {day: len(times) for day, times in by_day.items()} == {"2026-06-01": 6, "2026-06-02": 2}


# --- Properties against a brute force ------------------------------------------------------
#
# The reference below is deliberately naive and shares no code with the pipeline: its own
# wall-clock conversion (offsets tried, then a minute-by-minute walk over a gap), every
# candidate start checked against every busy interval, O(n * m).

ZONES = [
    "UTC",
    "Europe/Ljubljana",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
    "Pacific/Apia",
]
# Days on which the zones above change their clocks, and ordinary days.
INTERESTING_DAYS = [
    date(2026, 3, 8),
    date(2026, 3, 29),
    date(2026, 4, 5),
    date(2026, 9, 27),
    date(2026, 10, 4),
    date(2026, 10, 25),
    date(2026, 11, 1),
    date(2010, 11, 7),
    date(2011, 12, 30),
    date(2026, 6, 1),
    date(2027, 1, 13),
]


def ref_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    guess = wall.replace(tzinfo=UTC)
    offsets = {(guess + timedelta(days=k)).astimezone(zone).utcoffset() for k in (-2, 0, 2)}
    exact = []
    for offset in offsets:
        assert offset is not None
        candidate = guess - offset
        if candidate.astimezone(zone).replace(tzinfo=None) == wall:
            exact.append(candidate)
    if exact:
        return min(exact)
    # In a gap: walk from before it until the clock shows a later reading.
    moment = guess - max(o for o in offsets if o is not None)
    while moment.astimezone(zone).replace(tzinfo=None) < wall:
        moment += MIN
    return moment


def ref_owner_day(instant: datetime, zone: ZoneInfo) -> date:
    shown = instant.astimezone(zone).date()
    for day in (shown - timedelta(days=1), shown, shown + timedelta(days=1)):
        if ref_instant(day, 0, zone) <= instant < ref_instant(day + timedelta(days=1), 0, zone):
            return day
    raise AssertionError(f"no owner day for {instant}")


def ref_grid(
    anchor: datetime, start: datetime, end: datetime, rules: AvailabilityRules
) -> list[datetime]:
    """Every anchor + k * step in [start, end) whose meeting ends by `end`, walked one by one."""
    step = timedelta(minutes=rules.slot_interval_minutes or rules.duration_minutes)
    moment = anchor
    while moment < start:
        moment += step
    found: list[datetime] = []
    while moment + timedelta(minutes=rules.duration_minutes) <= end:
        found.append(moment)
        moment += step
    return found


def ref_first_start(
    rules: AvailabilityRules, day: date, start: datetime, end: datetime
) -> datetime:
    zone = ZoneInfo(rules.time_zone)
    minute = 0
    for local in rules.ranges_on(day):
        if ref_instant(day, local.start, zone) == start:
            minute = local.start
    hour = ref_instant(day, minute // 60 * 60, zone)
    # How many whole meetings each grid fits into the range itself decides no-loss.
    clock, own = ref_grid(hour, start, end, rules), ref_grid(start, start, end, rules)
    use_clock = rules.start_times == "on_the_clock" or (
        rules.start_times == "on_the_clock_if_no_loss" and len(clock) >= len(own)
    )
    moment = hour if use_clock else start
    step = timedelta(minutes=rules.slot_interval_minutes or rules.duration_minutes)
    while moment < start:
        moment += step
    return moment


def reference_slots(
    rules: AvailabilityRules,
    span: Interval,
    busy_times: Sequence[Interval],
    booked: Sequence[Booked],
    now: datetime,
    owner_cap: int | None = None,
) -> list[Interval]:
    zone = ZoneInfo(rules.time_zone)
    duration = timedelta(minutes=rules.duration_minutes)
    step = timedelta(minutes=rules.slot_interval_minutes or rules.duration_minutes)
    before = timedelta(minutes=rules.buffer_before_minutes)
    after = timedelta(minutes=rules.buffer_after_minutes)
    earliest = now + timedelta(minutes=rules.minimum_notice_minutes)
    today = ref_owner_day(now, zone)
    blocks = [(b.start, b.end) for b in busy_times] + [
        (b.interval.start - b.buffer_before, b.interval.end + b.buffer_after) for b in booked
    ]
    ours = [
        (ref_owner_day(b.interval.start, zone), b.interval.duration)
        for b in booked
        if b.counts_toward_limit
    ]
    all_per_day = Counter(ref_owner_day(b.interval.start, zone) for b in booked)

    def week_of(day: date) -> date:
        while day.weekday() != rules.week_start:
            day -= timedelta(days=1)
        return day

    def same(period: str, one: date, other: date) -> bool:
        if period == "day":
            return one == other
        if period == "week":
            return week_of(one) == week_of(other)
        return (one.year, one.month) == (other.year, other.month)

    def below_limits(day: date) -> bool:
        for period in ("day", "week", "month"):
            most = getattr(rules, f"max_bookings_per_{period}")
            minutes = getattr(rules, f"max_minutes_per_{period}")
            inside = [length for home, length in ours if same(period, home, day)]
            if most is not None and len(inside) >= most:
                return False
            if minutes is not None and sum(inside, timedelta()) + duration > minutes * MIN:
                return False
        return owner_cap is None or all_per_day[day] < owner_cap
    window_first, window_last = today, today + timedelta(days=rules.booking_window_days - 1)
    if rules.booking_window_unit == "business_days":
        working = [
            today + timedelta(days=n)
            for n in range(7 * (rules.booking_window_days + len(rules.overrides) + 1))
            if rules.ranges_on(today + timedelta(days=n))
        ]
        window_last = (
            working[rules.booking_window_days - 1]
            if len(working) >= rules.booking_window_days
            else today + timedelta(days=7 * (rules.booking_window_days + len(rules.overrides) + 1))
        )
    if rules.bookable_from is not None:
        window_first = max(window_first, rules.bookable_from)
    if rules.bookable_until is not None:
        window_last = min(window_last, rules.bookable_until)
    # Every range of the days around the span, as instants: clipped where the night before
    # still runs, with the anchor of its unclipped self.
    segments: list[tuple[date, datetime, datetime, datetime]] = []  # day, start, end, first
    day = span.start.astimezone(zone).date() - timedelta(days=3)
    while day <= span.end.astimezone(zone).date() + timedelta(days=4):
        before_day = rules.ranges_on(day - timedelta(days=1))
        night_end = (
            ref_instant(day - timedelta(days=1), before_day[-1].end, zone) if before_day else None
        )
        for local in rules.ranges_on(day):
            start = ref_instant(day, local.start, zone)
            end = ref_instant(day, local.end, zone)
            if start >= end:
                continue
            first = ref_first_start(rules, day, start, end)
            if night_end is not None and night_end > start:
                start = night_end
            if start < end:
                segments.append((day, start, end, first))
        day += timedelta(days=1)

    def reach_of(end: datetime, home: date) -> datetime:
        # A meeting may run on into a range of another day that starts where this one ends.
        for other_day, start, other_end, _ in segments:
            if other_day != home and start == end:
                return reach_of(other_end, other_day)
        return end

    found: list[Interval] = []
    for home, range_start, range_end, start in segments:
        reach = reach_of(range_end, home)
        while start < range_end and start + duration <= reach:
            on = ref_owner_day(start, zone)
            clear = all(
                not (start - before < b_end and b_start < start + duration + after)
                for b_start, b_end in blocks
            )
            if (
                clear
                and start >= range_start
                and window_first <= on <= window_last
                and below_limits(on)
                and start >= earliest
                and start > now
                and span.start <= start < span.end
            ):
                found.append(Interval(start, start + duration))
            start += step
    return sorted(found, key=lambda s: s.start)


@st.composite
def ranges_of_a_day(draw: st.DrawFn) -> tuple[TimeRange, ...]:
    # Mostly open days (a closed one now and then), ranges on the quarter hour.
    least = draw(st.sampled_from([0, 2, 2, 2]))
    points = draw(st.lists(st.integers(0, 96), unique=True, min_size=least, max_size=6))
    points.sort()
    ranges = [TimeRange(points[i] * 15, points[i + 1] * 15) for i in range(0, len(points) - 1, 2)]
    # Now and then the last range runs on past midnight (a night shift).
    night = draw(st.sampled_from([0, 0, 0, 0, 60, 120, 360]))
    if ranges and night and ranges[-1].start < 1440:
        last = ranges[-1]
        ranges[-1] = TimeRange(last.start, min(max(last.end, 1440) + night, last.start + 1440))
    return tuple(ranges)


def week_of_days(days: list[tuple[TimeRange, ...]]) -> WeeklyHours:
    """The drawn days, less any night shift that would run into the next day's first range."""
    fixed = list(days)
    for index, ranges in enumerate(fixed):
        following = fixed[(index + 1) % 7]
        if ranges and following and following[0].start < ranges[-1].end - 1440:
            last = ranges[-1]
            fixed[index] = (*ranges[:-1], TimeRange(last.start, min(last.end, 1440)))
    return WeeklyHours(tuple(fixed))


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    zone = draw(st.sampled_from(ZONES))
    base = draw(st.sampled_from(INTERESTING_DAYS) | st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    origin = datetime.combine(base, time(), tzinfo=UTC)

    def moment(low_hours: int, high_hours: int) -> datetime:
        return origin + draw(st.integers(low_hours * 12, high_hours * 12)) * 5 * MIN

    override_days = draw(
        st.lists(
            st.integers(-2, 2).map(lambda d: base + timedelta(days=d)), unique=True, max_size=2
        )
    )
    rules = AvailabilityRules(
        time_zone=zone,
        weekly_hours=week_of_days([draw(ranges_of_a_day()) for _ in range(7)]),
        overrides=tuple(DateOverride(d, draw(ranges_of_a_day())) for d in override_days),
        duration_minutes=draw(
            st.integers(1, 36).map(lambda n: n * 5) | st.sampled_from([600, 1440])
        ),
        slot_interval_minutes=draw(st.none() | st.integers(1, 36).map(lambda n: n * 5)),
        buffer_before_minutes=draw(st.sampled_from([0, 0, 5, 10, 15, 30, 60])),
        buffer_after_minutes=draw(st.sampled_from([0, 0, 5, 10, 15, 30, 60])),
        minimum_notice_minutes=draw(st.sampled_from([0, 0, 30, 240, 1440, 2000])),
        booking_window_days=draw(st.integers(1, 6)),
        max_bookings_per_day=draw(st.none() | st.integers(1, 3)),
        max_bookings_per_week=draw(st.none() | st.integers(1, 4)),
        max_bookings_per_month=draw(st.none() | st.integers(1, 5)),
        max_minutes_per_day=draw(st.none() | st.integers(1, 48).map(lambda n: n * 5)),
        max_minutes_per_week=draw(st.none() | st.integers(1, 96).map(lambda n: n * 5)),
        max_minutes_per_month=draw(st.none() | st.integers(1, 96).map(lambda n: n * 5)),
        week_start=draw(st.integers(0, 6)),
        booking_window_unit=draw(st.sampled_from(["calendar_days", "business_days"])),
        start_times=draw(
            st.sampled_from(["range_start", "on_the_clock", "on_the_clock_if_no_loss"])
        ),
        bookable_from=draw(st.none() | st.integers(-2, 3).map(lambda d: base + timedelta(days=d))),
        bookable_until=draw(st.none() | st.integers(3, 6).map(lambda d: base + timedelta(days=d))),
    )
    busy_times = []
    for _ in range(draw(st.integers(0, 12))):
        start = moment(-48, 96)
        busy_times.append(Interval(start, start + draw(st.integers(1, 120)) * 5 * MIN))
    booked = []
    for _ in range(draw(st.integers(0, 5))):
        start = moment(-48, 96)
        booked.append(
            Booked(
                Interval(start, start + draw(st.integers(1, 24)) * 5 * MIN),
                buffer_before=draw(st.sampled_from([0, 10, 30])) * MIN,
                buffer_after=draw(st.sampled_from([0, 15, 45])) * MIN,
                counts_toward_limit=draw(st.booleans()),
            )
        )
    span_start = moment(-36, 48)
    span = Interval(span_start, span_start + draw(st.integers(1, 96)) * timedelta(hours=1))
    return {
        "rules": rules,
        "span": span,
        "busy": busy_times,
        "booked": booked,
        "now": moment(-72, 24) + draw(st.integers(0, 59)) * timedelta(seconds=1),
        "owner_cap": draw(st.none() | st.integers(1, 3)),
    }


PROPERTIES = settings(max_examples=400, deadline=None, database=None)


def run(scenario: dict[str, Any]) -> list[Interval]:
    return compute_slots(
        scenario["rules"],
        span=scenario["span"],
        busy=scenario["busy"],
        booked=scenario["booked"],
        now=scenario["now"],
        owner_daily_cap=scenario["owner_cap"],
    )


@PROPERTIES
@given(scenarios())
def test_compute_slots_equals_the_brute_force(scenario: dict[str, Any]) -> None:
    expected = reference_slots(
        scenario["rules"],
        scenario["span"],
        scenario["busy"],
        scenario["booked"],
        scenario["now"],
        scenario["owner_cap"],
    )
    assert run(scenario) == expected


@PROPERTIES
@given(scenarios())
def test_slots_are_sorted_unique_and_clear_of_busy_time_and_buffers(
    scenario: dict[str, Any],
) -> None:
    rules: AvailabilityRules = scenario["rules"]
    found = run(scenario)
    starts = [s.start for s in found]
    assert starts == sorted(set(starts))
    blocks = [*scenario["busy"], *(b.blocked for b in scenario["booked"])]
    for slot in found:
        guarded = Interval(slot.start - rules.buffer_before, slot.end + rules.buffer_after)
        assert not any(guarded.overlaps(block) for block in blocks), slot
        assert slot.start >= scenario["now"] + rules.minimum_notice
        assert slot.start > scenario["now"]
        assert scenario["span"].start <= slot.start < scenario["span"].end
        assert slot.duration == rules.duration


@PROPERTIES
@given(scenarios())
def test_every_slot_starts_in_working_hours_of_its_owner_day_or_the_night_before(
    scenario: dict[str, Any],
) -> None:
    rules: AvailabilityRules = scenario["rules"]
    zone = rules.zone
    for slot in run(scenario):
        day = ref_owner_day(slot.start, zone)
        night_before, own = (
            [
                (ref_instant(home, r.start, zone), ref_instant(home, r.end, zone), r)
                for r in rules.ranges_on(home)
            ]
            for home in (day - timedelta(days=1), day)
        )
        assert any(start <= slot.start < end for start, end, _ in night_before + own), slot
        # On a day without a clock change, a slot wholly inside one of the day's own ranges
        # reads inside it on the wall clock too.
        inside = [r for start, end, r in own if start <= slot.start and slot.end <= end]
        midnight = datetime.combine(day, time())
        if inside and all(
            (midnight + timedelta(hours=h)).replace(tzinfo=zone).utcoffset()
            == midnight.replace(tzinfo=zone).utcoffset()
            for h in (12, 24, 36)
        ):
            first = slot.start.astimezone(zone).replace(tzinfo=None) - midnight
            last = slot.end.astimezone(zone).replace(tzinfo=None) - midnight
            assert any(r.start * MIN <= first and last <= r.end * MIN for r in inside), slot


@PROPERTIES
@given(scenarios(), st.data())
def test_slot_is_offered_agrees_with_compute_slots(
    scenario: dict[str, Any], data: st.DataObject
) -> None:
    found = run(scenario)
    offered = {s.start for s in found}
    span: Interval = scenario["span"]
    probes = [s.start for s in found[:10]]
    probes += [s.start + 5 * MIN for s in found[:5]]
    probes += data.draw(
        st.lists(
            st.integers(0, int(span.duration / (5 * MIN)) - 1).map(
                lambda n: span.start + n * 5 * MIN
            ),
            max_size=10,
        )
    )
    for start in probes:
        if not span.start <= start < span.end:
            continue
        answer = slot_is_offered(
            scenario["rules"],
            start,
            busy=scenario["busy"],
            booked=scenario["booked"],
            now=scenario["now"],
            owner_daily_cap=scenario["owner_cap"],
        )
        assert answer == (start in offered), start


@settings(max_examples=100, deadline=None, database=None)
@given(
    st.sampled_from(ZONES),
    st.sampled_from(INTERESTING_DAYS) | st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    st.integers(0, 1440),
)
@example("Pacific/Apia", date(2011, 12, 30), 600)
@example("America/New_York", date(2026, 3, 8), 150)
@example("Australia/Lord_Howe", date(2026, 10, 4), 135)
def test_local_instant_equals_the_brute_force(zone_name: str, day: date, minute: int) -> None:
    zone = ZoneInfo(zone_name)
    assert local_instant(day, minute, zone) == ref_instant(day, minute, zone)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.sampled_from(ZONES),
    st.sampled_from(INTERESTING_DAYS) | st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    st.integers(-24 * 60, 48 * 60),
)
@example("America/St_Johns", date(2010, 11, 7), 180)  # 23:30 on the 6th, after the 7th began
def test_owner_day_equals_the_brute_force(zone_name: str, day: date, minutes: int) -> None:
    zone = ZoneInfo(zone_name)
    instant = datetime.combine(day, time(), tzinfo=UTC) + minutes * MIN
    assert owner_day(instant, zone) == ref_owner_day(instant, zone)


def test_reference_agrees_on_a_hand_checked_case() -> None:
    # Guards the brute force itself, so that agreeing with it means something. Hourly slots
    # every 30 minutes, 15-minute before-buffer, 30 minutes' notice from 08:45, busy 10-11:
    # 09:00 is too soon, 09:30 to 10:30 run into the busy hour, 11:00's buffer starts at 10:45.
    r = make_rules(buffer_before_minutes=15, slot_interval_minutes=30, minimum_notice_minutes=30)
    busy_times = [busy(on(0, "10:00"), on(0, "11:00"))]
    expected = reference_slots(r, Interval(on(0), on(1)), busy_times, [], on(0, "08:45"))
    assert labels(expected) == [f"Mon {h // 60:02d}:{h % 60:02d}" for h in range(690, 961, 30)]
    assert slots(r, span=Interval(on(0), on(1)), busy=busy_times, now=on(0, "08:45")) == expected
