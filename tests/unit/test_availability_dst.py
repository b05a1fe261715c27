"""The days clocks change, in the owner's zone and the guest's, to the exact UTC instant."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.domain.availability import (
    Booked,
    compute_slots,
    group_by_local_day,
    local_instant,
    owner_day,
    slot_is_offered,
)
from booking.domain.intervals import Interval
from booking.domain.rules import AvailabilityRules, DateOverride, TimeRange, WeeklyHours


def z(text: str) -> datetime:
    """``z("2026-03-29T01:00")`` is that instant in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def rules_in(
    zone: str,
    ranges: Sequence[tuple[str, str]] = (("00:00", "24:00"),),
    days: Sequence[int] = range(7),
    **changes: Any,
) -> AvailabilityRules:
    fields: dict[str, Any] = {
        "time_zone": zone,
        "weekly_hours": WeeklyHours.of(
            {day: [TimeRange(minutes(a), minutes(b)) for a, b in ranges] for day in days}
        ),
        "duration_minutes": 60,
        "booking_window_days": 730,
    }
    fields.update(changes)
    return AvailabilityRules(**fields)


def owner_days(rules: AvailabilityRules, first: date, last: date) -> Interval:
    """The UTC span of owner-local days first..last, so the tests ask in the owner's terms."""
    return Interval(
        local_instant(first, 0, rules.zone), local_instant(last + timedelta(days=1), 0, rules.zone)
    )


def slots_on(
    rules: AvailabilityRules,
    day: date,
    *,
    now: datetime | None = None,
    booked: Sequence[Booked] = (),
) -> list[Interval]:
    return compute_slots(
        rules,
        span=owner_days(rules, day, day),
        busy=[],
        booked=booked,
        now=now or datetime.combine(day - timedelta(days=7), datetime.min.time(), tzinfo=UTC),
    )


def starts(found: Sequence[Interval]) -> list[datetime]:
    return [s.start for s in found]


def readings(found: Sequence[Interval], zone: str) -> list[str]:
    return [f"{s.start.astimezone(ZoneInfo(zone)):%H:%M}" for s in found]


# --- Europe/Ljubljana: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET


def test_ljubljana_spring_forward_day_has_23_hourly_slots() -> None:
    found = slots_on(rules_in("Europe/Ljubljana"), date(2026, 3, 29))
    assert len(found) == 23
    assert starts(found)[:4] == [
        z("2026-03-28T23:00"),
        z("2026-03-29T00:00"),
        z("2026-03-29T01:00"),
        z("2026-03-29T02:00"),
    ]
    assert starts(found)[-1] == z("2026-03-29T21:00")
    assert readings(found, "Europe/Ljubljana")[:4] == ["00:00", "01:00", "03:00", "04:00"]


def test_ljubljana_fall_back_day_has_25_hourly_slots_and_two_at_02_00() -> None:
    found = slots_on(rules_in("Europe/Ljubljana"), date(2026, 10, 25))
    assert len(found) == 25
    assert starts(found)[0] == z("2026-10-24T22:00")
    assert starts(found)[-1] == z("2026-10-25T22:00")
    assert readings(found, "Europe/Ljubljana")[:5] == ["00:00", "01:00", "02:00", "02:00", "03:00"]
    assert starts(found)[2:4] == [z("2026-10-25T00:00"), z("2026-10-25T01:00")]


@pytest.mark.parametrize(
    ("first_day", "last_day", "before_utc", "after_utc"),
    [
        (date(2026, 3, 27), date(2026, 3, 30), "08:00", "07:00"),
        (date(2026, 10, 23), date(2026, 10, 26), "07:00", "08:00"),
    ],
    ids=["spring", "autumn"],
)
def test_ljubljana_office_hours_keep_their_local_time_across_the_change(
    first_day: date, last_day: date, before_utc: str, after_utc: str
) -> None:
    rules = rules_in("Europe/Ljubljana", [("09:00", "17:00")], days=range(5))
    found = compute_slots(
        rules,
        span=owner_days(rules, first_day, last_day),
        busy=[],
        booked=[],
        now=z("2026-01-01T00:00"),
    )
    # Friday before the change and Monday after it; the weekend in between is closed.
    assert len(found) == 16
    assert set(readings(found, "Europe/Ljubljana")) == {f"{h:02d}:00" for h in range(9, 17)}
    assert f"{found[0].start:%H:%M}" == before_utc
    assert f"{found[8].start:%H:%M}" == after_utc


@pytest.mark.parametrize(
    ("local_range", "duration", "interval", "expected"),
    [
        (("01:00", "04:00"), 60, None, ["00:00", "01:00"]),
        (("01:00", "04:00"), 90, 30, ["00:00", "00:30"]),
        (("02:30", "03:30"), 30, None, ["01:00"]),
        (("02:15", "02:45"), 15, None, []),
        (("02:00", "03:00"), 15, None, []),
    ],
    ids=["spans-jump", "long-slot-spans-jump", "starts-in-gap", "inside-gap", "the-missing-hour"],
)
def test_ljubljana_night_ranges_on_the_spring_forward_day(
    local_range: tuple[str, str], duration: int, interval: int | None, expected: list[str]
) -> None:
    rules = rules_in(
        "Europe/Ljubljana",
        [local_range],
        duration_minutes=duration,
        slot_interval_minutes=interval,
    )
    found = slots_on(rules, date(2026, 3, 29))
    assert starts(found) == [z(f"2026-03-29T{clock}") for clock in expected]


@pytest.mark.parametrize(
    ("local_range", "duration", "expected"),
    [
        # 02:00 first shows at 00:00Z (CEST); 03:00 shows once, at 02:00Z (CET): two hours.
        (("02:00", "03:00"), 60, ["2026-10-25T00:00", "2026-10-25T01:00"]),
        (
            ("01:00", "04:00"),
            60,
            ["2026-10-24T23:00", "2026-10-25T00:00", "2026-10-25T01:00", "2026-10-25T02:00"],
        ),
        (("02:30", "03:00"), 30, ["2026-10-25T00:30", "2026-10-25T01:00", "2026-10-25T01:30"]),
    ],
    ids=["the-repeated-hour", "spans-the-repeat", "starts-in-the-repeat"],
)
def test_ljubljana_night_ranges_on_the_fall_back_day(
    local_range: tuple[str, str], duration: int, expected: list[str]
) -> None:
    rules = rules_in("Europe/Ljubljana", [local_range], duration_minutes=duration)
    assert starts(slots_on(rules, date(2026, 10, 25))) == [z(text) for text in expected]


# --- America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST


def test_new_york_spring_forward_day() -> None:
    found = slots_on(rules_in("America/New_York"), date(2026, 3, 8))
    assert len(found) == 23
    assert starts(found)[:3] == [
        z("2026-03-08T05:00"),
        z("2026-03-08T06:00"),
        z("2026-03-08T07:00"),
    ]
    assert readings(found, "America/New_York")[:3] == ["00:00", "01:00", "03:00"]
    assert starts(found)[-1] == z("2026-03-09T03:00")


def test_new_york_fall_back_day() -> None:
    found = slots_on(rules_in("America/New_York"), date(2026, 11, 1))
    assert len(found) == 25
    assert starts(found)[:4] == [
        z("2026-11-01T04:00"),
        z("2026-11-01T05:00"),
        z("2026-11-01T06:00"),
        z("2026-11-01T07:00"),
    ]
    assert readings(found, "America/New_York")[:4] == ["00:00", "01:00", "01:00", "02:00"]
    assert starts(found)[-1] == z("2026-11-02T04:00")


def test_new_york_range_inside_the_repeated_hour_runs_until_its_end_first_shows() -> None:
    rules = rules_in("America/New_York", [("01:30", "02:30")], duration_minutes=30)
    assert starts(slots_on(rules, date(2026, 11, 1))) == [
        z("2026-11-01T05:30"),  # 01:30 EDT
        z("2026-11-01T06:00"),  # 01:00 EST
        z("2026-11-01T06:30"),  # 01:30 EST
        z("2026-11-01T07:00"),  # 02:00 EST
    ]


def test_new_york_missing_hour_offers_nothing() -> None:
    rules = rules_in("America/New_York", [("02:00", "03:00")], duration_minutes=15)
    assert slots_on(rules, date(2026, 3, 8)) == []
    assert len(slots_on(rules, date(2026, 3, 15))) == 4


# --- Half-hour zones and half-hour DST -----------------------------------------------------


def test_adelaide_owner_spring_forward_day_seen_from_kolkata() -> None:
    # 2026-10-04 02:00 ACST (+09:30) -> 03:00 ACDT (+10:30) at 16:30Z on the 3rd.
    found = slots_on(rules_in("Australia/Adelaide"), date(2026, 10, 4))
    assert len(found) == 23
    assert starts(found)[:4] == [
        z("2026-10-03T14:30"),
        z("2026-10-03T15:30"),
        z("2026-10-03T16:30"),
        z("2026-10-03T17:30"),
    ]
    guest = group_by_local_day(found, ZoneInfo("Asia/Kolkata"))
    assert {day: len(times) for day, times in guest.items()} == {"2026-10-03": 4, "2026-10-04": 19}
    assert f"{guest['2026-10-03'][0]:%H:%M %z}" == "20:00 +0530"


def test_adelaide_owner_fall_back_day() -> None:
    # 2026-04-05 03:00 ACDT (+10:30) -> 02:00 ACST (+09:30) at 16:30Z on the 4th.
    found = slots_on(rules_in("Australia/Adelaide"), date(2026, 4, 5))
    assert len(found) == 25
    assert starts(found)[0] == z("2026-04-04T13:30")
    assert readings(found, "Australia/Adelaide")[:5] == [
        "00:00",
        "01:00",
        "02:00",
        "02:00",
        "03:00",
    ]


@pytest.mark.parametrize(
    ("day", "count"),
    [(date(2026, 10, 4), 47), (date(2026, 4, 5), 49)],
    ids=["half-hour-forward", "half-hour-back"],
)
def test_lord_howe_moves_its_clock_by_half_an_hour(day: date, count: int) -> None:
    rules = rules_in("Australia/Lord_Howe", duration_minutes=30)
    found = slots_on(rules, day)
    assert len(found) == count
    assert all(
        b.start - a.start == timedelta(minutes=30) for a, b in zip(found, found[1:], strict=False)
    )


def test_kathmandu_guest_sees_ljubljana_office_hours_move_with_european_dst() -> None:
    rules = rules_in("Europe/Ljubljana", [("09:00", "17:00")], days=range(5))
    found = compute_slots(
        rules,
        span=owner_days(rules, date(2026, 3, 27), date(2026, 3, 30)),
        busy=[],
        booked=[],
        now=z("2026-03-01T00:00"),
    )
    guest = group_by_local_day(found, ZoneInfo("Asia/Kathmandu"))
    assert [f"{times[0]:%H:%M}" for times in guest.values()] == ["13:45", "12:45"]
    assert list(guest) == ["2026-03-27", "2026-03-30"]


# --- Across the date line ------------------------------------------------------------------


def test_los_angeles_guest_sees_auckland_monday_on_sunday_and_its_dst_shift() -> None:
    rules = rules_in("Pacific/Auckland", [("09:00", "17:00")], days=[0])
    found = compute_slots(
        rules,
        span=owner_days(rules, date(2026, 9, 21), date(2026, 9, 28)),
        busy=[],
        booked=[],
        now=z("2026-09-01T00:00"),
    )
    guest = group_by_local_day(found, ZoneInfo("America/Los_Angeles"))
    # NZ moves to +13 on 2026-09-27; Los Angeles stays on -7.
    assert {day: f"{times[0]:%a %H:%M}" for day, times in guest.items()} == {
        "2026-09-20": "Sun 14:00",
        "2026-09-27": "Sun 13:00",
    }


def test_apia_skipped_2011_12_30_entirely() -> None:
    # Samoa crossed the date line: 2011-12-29 23:59 (-10) was followed by 2011-12-31 00:00 (+14).
    rules = rules_in("Pacific/Apia", [("09:00", "17:00")])
    found = compute_slots(
        rules,
        span=owner_days(rules, date(2011, 12, 29), date(2011, 12, 31)),
        busy=[],
        booked=[],
        now=z("2011-12-20T00:00"),
    )
    zone = ZoneInfo("Pacific/Apia")
    per_owner_day = Counter(owner_day(s.start, zone) for s in found)
    assert per_owner_day == {date(2011, 12, 29): 8, date(2011, 12, 31): 8}
    by_day = group_by_local_day(found, zone)
    assert {day: len(times) for day, times in by_day.items()} == {
        "2011-12-29": 8,
        "2011-12-31": 8,
    }
    assert by_day["2011-12-29"][0].astimezone(UTC) == z("2011-12-29T19:00")
    assert by_day["2011-12-31"][0].astimezone(UTC) == z("2011-12-30T19:00")


# --- A clock that fell back across midnight ------------------------------------------------


def test_st_johns_2010_11_07_repeated_hour_belongs_to_the_new_day() -> None:
    # At 00:01 NDT (-02:30) on the 7th the clock went back to 23:01 NST (-03:30) on the 6th.
    # Owner day 7 began at 02:30Z; the instants that then read 23:01-24:00 on the 6th are its.
    zone = ZoneInfo("America/St_Johns")
    sunday_only = rules_in(
        "America/St_Johns",
        [("00:00", "01:00")],
        days=[6],
        duration_minutes=30,
        overrides=(DateOverride(date(2010, 11, 6), (TimeRange(minutes("23:00"), 1440),)),),
    )
    now = z("2010-11-01T00:00")
    found = compute_slots(
        sunday_only,
        span=Interval(z("2010-11-07T00:00"), z("2010-11-08T00:00")),
        busy=[],
        booked=[],
        now=now,
    )
    # Saturday 23:00-24:00 is the single hour 01:30Z-02:30Z; Sunday 00:00-01:00 is two hours.
    assert starts(found) == [
        z("2010-11-07T01:30"),
        z("2010-11-07T02:00"),
        z("2010-11-07T02:30"),
        z("2010-11-07T03:00"),
        z("2010-11-07T03:30"),
        z("2010-11-07T04:00"),
    ]
    repeated = z("2010-11-07T03:00")
    assert f"{repeated.astimezone(zone):%Y-%m-%d %H:%M}" == "2010-11-06 23:30"
    assert owner_day(repeated, zone) == date(2010, 11, 7)
    assert slot_is_offered(sunday_only, repeated, busy=[], booked=[], now=now)

    limited = AvailabilityRules(
        time_zone="America/St_Johns",
        weekly_hours=sunday_only.weekly_hours,
        overrides=sunday_only.overrides,
        duration_minutes=30,
        max_bookings_per_day=1,
        booking_window_days=730,
    )
    booking = Booked(Interval(repeated, repeated + timedelta(minutes=30)))
    left = compute_slots(
        limited,
        span=Interval(z("2010-11-07T00:00"), z("2010-11-08T00:00")),
        busy=[],
        booked=[booking],
        now=now,
    )
    # The booking filled Sunday, the day that offered it, and left Saturday's hour alone.
    assert starts(left) == [z("2010-11-07T01:30"), z("2010-11-07T02:00")]
