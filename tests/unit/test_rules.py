"""Scheduling rules: every bad value is refused with the field that holds it."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain.rules import (
    START_TIMES,
    WEEKDAYS,
    AvailabilityRules,
    DateOverride,
    RuleError,
    TimeRange,
    WeeklyHours,
    format_clock,
    parse_rules,
    rules_to_dict,
)

NINE_TO_FIVE = TimeRange(9 * 60, 17 * 60)
WEEKDAYS_NINE_TO_FIVE = WeeklyHours.of({day: [NINE_TO_FIVE] for day in range(5)})


def stored(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "time_zone": "Europe/Ljubljana",
        "weekly_hours": {
            "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
            "fri": [["09:00", "13:00"]],
        },
        "overrides": {"2026-12-24": [], "2026-12-31": [["10:00", "12:00"]]},
        "duration_minutes": 30,
        "slot_interval_minutes": 15,
        "buffer_before_minutes": 5,
        "buffer_after_minutes": 10,
        "minimum_notice_minutes": 240,
        "booking_window_days": 30,
        "max_bookings_per_day": 4,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not DROP}


DROP = object()


def rules(**changes: Any) -> AvailabilityRules:
    fields: dict[str, Any] = {
        "time_zone": "Europe/Ljubljana",
        "weekly_hours": WEEKDAYS_NINE_TO_FIVE,
        "duration_minutes": 30,
    }
    fields.update(changes)
    return AvailabilityRules(**fields)


def field_of(error: pytest.ExceptionInfo[RuleError]) -> str:
    return error.value.field


# --- RuleError -----------------------------------------------------------------------------


def test_rule_error_is_a_value_error_that_names_its_field() -> None:
    error = RuleError("duration_minutes", "must be between 5 and 720 minutes, got 4")
    assert isinstance(error, ValueError)
    assert str(error) == "duration_minutes: must be between 5 and 720 minutes, got 4"
    nested = RuleError("mon[1]", "overlaps").within("weekly_hours")
    assert (nested.field, nested.message) == ("weekly_hours.mon[1]", "overlaps")


# --- TimeRange -----------------------------------------------------------------------------


def test_a_range_may_run_past_midnight_for_up_to_24_hours() -> None:
    r = parse_rules({"time_zone": "UTC", "duration_minutes": 60,
                     "weekly_hours": {"fri": [["22:00", "02:00"]], "sat": [["09:00", "09:00"]]}})
    assert r.weekly_hours.on(4) == (TimeRange(1320, 1560),)
    assert r.weekly_hours.on(5) == (TimeRange(540, 1980),)  # a whole 24 hours
    assert str(TimeRange(1320, 1560)) == "22:00-02:00"
    assert rules_to_dict(r)["weekly_hours"]["fri"] == [["22:00", "02:00"]]  # type: ignore[index]
    assert parse_rules(rules_to_dict(r)) == r


def test_time_range_spans_the_whole_day_up_to_24_00() -> None:
    assert str(TimeRange(0, 1440)) == "00:00-24:00"
    assert format_clock(570) == "09:30"


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (True, 60, "start", "whole minutes"),
        (0, 60.0, "end", "whole minutes"),
        (-5, 60, "start", "00:00 or later"),
        (0, 1445, "end", "at most 24 hours"),
        (1440, 1500, "start", "before 24:00"),
        (600, 600, "end", "after start (10:00 <= 10:00)"),
        (600, 540, "end", "after start (09:00 <= 10:00)"),
    ],
)
def test_time_range_refuses(start: Any, end: Any, field: str, message: str) -> None:
    with pytest.raises(RuleError, match=re.escape(message)) as error:
        TimeRange(start, end)
    assert field_of(error) == field


# --- WeeklyHours and DateOverride ----------------------------------------------------------


def test_weekly_hours_of_fills_missing_days_as_closed() -> None:
    hours = WeeklyHours.of({0: [NINE_TO_FIVE], 6: [TimeRange(600, 660)]})
    assert hours.on(0) == (NINE_TO_FIVE,)
    assert hours.on(3) == ()
    assert hours.on(6) == (TimeRange(600, 660),)


def test_weekly_hours_needs_seven_days() -> None:
    with pytest.raises(RuleError, match="7 entries") as error:
        WeeklyHours(((NINE_TO_FIVE,),) * 6)
    assert field_of(error) == "days"


@pytest.mark.parametrize("weekday", [-1, 7])
def test_weekly_hours_of_refuses_a_day_outside_the_week(weekday: int) -> None:
    with pytest.raises(RuleError, match="not a weekday") as error:
        WeeklyHours.of({weekday: [NINE_TO_FIVE]})
    assert field_of(error) == str(weekday)


def test_weekly_hours_allows_touching_ranges() -> None:
    hours = WeeklyHours.of({1: [TimeRange(540, 720), TimeRange(720, 780)]})
    assert len(hours.on(1)) == 2


@pytest.mark.parametrize(
    "ranges",
    [
        [TimeRange(540, 720), TimeRange(700, 780)],  # overlapping
        [TimeRange(780, 840), TimeRange(540, 720)],  # out of order
    ],
    ids=["overlap", "out-of-order"],
)
def test_weekly_hours_names_the_offending_range(ranges: list[TimeRange]) -> None:
    with pytest.raises(RuleError, match="must be in order and must not overlap") as error:
        WeeklyHours.of({1: ranges})
    assert field_of(error) == "tue[1]"


def test_date_override_without_ranges_closes_the_day() -> None:
    assert DateOverride(date(2026, 12, 24)).closed
    assert not DateOverride(date(2026, 12, 31), (TimeRange(600, 720),)).closed


def test_date_override_names_the_date_and_index() -> None:
    with pytest.raises(RuleError) as error:
        DateOverride(date(2026, 12, 24), (TimeRange(600, 720), TimeRange(660, 780)))
    assert field_of(error) == "2026-12-24[1]"


# --- AvailabilityRules ---------------------------------------------------------------------


def test_rules_defaults_and_derived_durations() -> None:
    r = rules(buffer_before_minutes=5, buffer_after_minutes=10, minimum_notice_minutes=90)
    assert r.slot_interval_minutes is None
    assert r.slot_interval == r.duration == timedelta(minutes=30)
    assert (r.buffer_before, r.buffer_after) == (timedelta(minutes=5), timedelta(minutes=10))
    assert r.minimum_notice == timedelta(minutes=90)
    assert r.booking_window_days == 60
    assert r.max_bookings_per_day is None
    assert r.zone.key == "Europe/Ljubljana"
    assert rules(slot_interval_minutes=45).slot_interval == timedelta(minutes=45)


def test_rules_override_replaces_the_weekday_hours() -> None:
    christmas_eve = date(2026, 12, 24)  # a Thursday
    short_day = DateOverride(date(2026, 12, 31), (TimeRange(600, 720),))
    r = rules(overrides=(short_day, DateOverride(christmas_eve)))
    assert r.ranges_on(christmas_eve) == ()
    assert r.ranges_on(date(2026, 12, 31)) == (TimeRange(600, 720),)
    assert r.ranges_on(date(2026, 12, 23)) == (NINE_TO_FIVE,)
    assert r.ranges_on(date(2026, 12, 26)) == ()  # Saturday, no override, closed weekly


def test_rules_equal_however_the_overrides_were_listed() -> None:
    a = DateOverride(date(2026, 12, 24))
    b = DateOverride(date(2026, 12, 31), (TimeRange(600, 720),))
    assert rules(overrides=(b, a)) == rules(overrides=(a, b))
    assert rules(overrides=(b, a)).overrides == (a, b)


def test_rules_refuse_a_date_overridden_twice() -> None:
    twice = (DateOverride(date(2026, 12, 24)), DateOverride(date(2026, 12, 24)))
    with pytest.raises(RuleError, match="twice") as error:
        rules(overrides=twice)
    assert field_of(error) == "overrides.2026-12-24"


@pytest.mark.parametrize(
    "zone",
    ["Nope/Nowhere", "europe/ljubljana", "", "../etc/passwd", "America", "Europe/Ljubljana "],
)
def test_rules_refuse_a_zone_that_is_not_iana(zone: str) -> None:
    with pytest.raises(RuleError, match="not an IANA time zone") as error:
        rules(time_zone=zone)
    assert field_of(error) == "time_zone"


def test_rules_refuse_a_zone_that_is_not_text() -> None:
    with pytest.raises(RuleError, match="IANA time zone name") as error:
        rules(time_zone=1)
    assert field_of(error) == "time_zone"


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [
        ("duration_minutes", 4, 5),
        ("duration_minutes", 1441, 1440),
        ("slot_interval_minutes", 4, 5),
        ("slot_interval_minutes", 1441, 1440),
        ("buffer_before_minutes", -1, 0),
        ("buffer_before_minutes", 241, 240),
        ("buffer_after_minutes", -1, 0),
        ("buffer_after_minutes", 241, 240),
        ("minimum_notice_minutes", -1, 0),
        ("minimum_notice_minutes", 365 * 1440 + 1, 365 * 1440),
        ("booking_window_days", 0, 1),
        ("booking_window_days", 731, 730),
        ("max_bookings_per_day", 0, 1),
        ("max_bookings_per_day", 1001, 1000),
        ("max_bookings_per_week", 0, 1),
        ("max_bookings_per_month", 1001, 1000),
        ("max_minutes_per_day", 4, 5),
        ("max_minutes_per_week", 31 * 1440 + 1, 31 * 1440),
        ("max_minutes_per_month", 0, 5),
    ],
)
def test_rules_bounds_name_the_field(field: str, bad: int, good: int) -> None:
    assert getattr(rules(**{field: good}), field) == good
    with pytest.raises(RuleError, match=f"between .* got {bad}") as error:
        rules(**{field: bad})
    assert field_of(error) == field


@pytest.mark.parametrize("bad", [True, 30.0, "30"])
def test_rules_refuse_numbers_that_are_not_whole(bad: Any) -> None:
    with pytest.raises(RuleError, match="whole number") as error:
        rules(duration_minutes=bad)
    assert field_of(error) == "duration_minutes"


# --- The stored form -----------------------------------------------------------------------


def test_parse_rules_reads_the_stored_form() -> None:
    r = parse_rules(stored())
    assert r.time_zone == "Europe/Ljubljana"
    assert r.weekly_hours.on(0) == (TimeRange(540, 720), TimeRange(780, 1020))
    assert r.weekly_hours.on(4) == (TimeRange(540, 780),)
    assert r.weekly_hours.on(2) == ()
    assert r.ranges_on(date(2026, 12, 24)) == ()
    assert r.ranges_on(date(2026, 12, 31)) == (TimeRange(600, 720),)
    assert (r.duration_minutes, r.slot_interval_minutes) == (30, 15)
    assert (r.buffer_before_minutes, r.buffer_after_minutes) == (5, 10)
    assert (r.minimum_notice_minutes, r.booking_window_days, r.max_bookings_per_day) == (
        240,
        30,
        4,
    )


def test_parse_rules_fills_defaults_for_optional_fields() -> None:
    r = parse_rules(
        {"time_zone": "UTC", "weekly_hours": {"sun": [["00:00", "24:00"]]}, "duration_minutes": 60}
    )
    assert r == AvailabilityRules(
        time_zone="UTC",
        weekly_hours=WeeklyHours.of({6: [TimeRange(0, 1440)]}),
        duration_minutes=60,
    )


def test_parse_rules_takes_null_for_the_optional_numbers() -> None:
    r = parse_rules(stored(slot_interval_minutes=None, max_bookings_per_day=None))
    assert r.slot_interval_minutes is None and r.max_bookings_per_day is None


def test_stored_form_round_trips_through_json() -> None:
    r = parse_rules(stored())
    assert parse_rules(json.loads(json.dumps(rules_to_dict(r)))) == r
    assert rules_to_dict(r)["weekly_hours"] == {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
        "tue": [],
        "wed": [],
        "thu": [],
        "fri": [["09:00", "13:00"]],
        "sat": [],
        "sun": [],
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"bufer_after_minutes": 10}, "bufer_after_minutes", "not a rule field"),
        ({"time_zone": DROP}, "time_zone", "is required"),
        ({"weekly_hours": DROP}, "weekly_hours", "is required"),
        ({"duration_minutes": DROP}, "duration_minutes", "is required"),
        ({"duration_minutes": None}, "duration_minutes", "whole number, got None"),
        ({"duration_minutes": "30"}, "duration_minutes", "whole number"),
        ({"duration_minutes": 30.0}, "duration_minutes", "whole number"),
        ({"buffer_after_minutes": True}, "buffer_after_minutes", "whole number"),
        ({"slot_interval_minutes": "15"}, "slot_interval_minutes", "whole number"),
        ({"max_bookings_per_day": 0}, "max_bookings_per_day", "between 1 and 1000"),
        ({"booking_window_days": 1000}, "booking_window_days", "between 1 and 730"),
        ({"max_minutes_per_week": "240"}, "max_minutes_per_week", "whole number"),
        ({"week_start": "monday"}, "week_start", "one of mon, tue"),
        ({"week_start": 0}, "week_start", "one of mon, tue"),
        ({"booking_window_unit": "weeks"}, "booking_window_unit", "calendar_days, business"),
        ({"start_times": "rounded"}, "start_times", "range_start, on_the_clock"),
        ({"bookable_from": "2026-13-01"}, "bookable_from", "not a date"),
        ({"bookable_until": 20261201}, "bookable_until", "not a date"),
        (
            {"bookable_from": "2026-12-02", "bookable_until": "2026-12-01"},
            "bookable_until",
            "not be before bookable_from",
        ),
        ({"time_zone": ["Europe/Ljubljana"]}, "time_zone", "IANA"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not an IANA"),
        ({"weekly_hours": [["09:00", "17:00"]]}, "weekly_hours", "map weekdays"),
        ({"weekly_hours": {"monday": []}}, "weekly_hours.monday", "mon, tue"),
        ({"weekly_hours": {"mon": "09:00-17:00"}}, "weekly_hours.mon", "list of"),
        ({"weekly_hours": {"mon": [["09:00"]]}}, "weekly_hours.mon[0]", "pair"),
        ({"weekly_hours": {"mon": ["09:00-17:00"]}}, "weekly_hours.mon[0]", "pair"),
        ({"weekly_hours": {"tue": [["9:00", "17:00"]]}}, "weekly_hours.tue[0]", "start must"),
        ({"weekly_hours": {"tue": [["09:00", "24:30"]]}}, "weekly_hours.tue[0]", "end must"),
        ({"weekly_hours": {"tue": [["09:00", 1020]]}}, "weekly_hours.tue[0]", "end must"),
        ({"weekly_hours": {"wed": [["24:00", "24:00"]]}}, "weekly_hours.wed[0]", "start must be"),
        (
            {"weekly_hours": {"mon": [["22:00", "03:00"]], "tue": [["02:00", "05:00"]]}},
            "weekly_hours.tue[0]",
            "starts before mon's 22:00-03:00 ends",
        ),
        (
            {"weekly_hours": {"sun": [["23:00", "01:00"]], "mon": [["00:30", "05:00"]]}},
            "weekly_hours.mon[0]",
            "starts before sun's",
        ),
        (
            {"weekly_hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
            "weekly_hours.mon[1]",
            "must not overlap",
        ),
        ({"overrides": [["2026-12-24"]]}, "overrides", "map dates"),
        ({"overrides": {"2026-13-01": []}}, "overrides.2026-13-01", "YYYY-MM-DD"),
        ({"overrides": {"20261224": []}}, "overrides.20261224", "YYYY-MM-DD"),
        ({"overrides": {"2026-12-24": None}}, "overrides.2026-12-24", "list of"),
        (
            {"overrides": {"2026-12-24": [["10:00", "12:00"], ["11:00", "13:00"]]}},
            "overrides.2026-12-24[1]",
            "must not overlap",
        ),
        (
            {"overrides": {"2026-12-24": [["20:00", "02:00"], ["21:00", "22:00"]]}},
            "overrides.2026-12-24[1]",
            "must not overlap",
        ),
    ],
)
def test_parse_rules_errors_name_the_path(
    changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(RuleError, match=message) as error:
        parse_rules(stored(**changes))
    assert field_of(error) == field


def test_parse_rules_refuses_a_date_key_that_is_not_text() -> None:
    with pytest.raises(RuleError, match="YYYY-MM-DD") as error:
        parse_rules(stored(overrides={20261224: []}))
    assert field_of(error) == "overrides.20261224"


# --- Round trip, for any valid rules -------------------------------------------------------


@pytest.mark.parametrize("field", ["booking_window_unit", "start_times"])
def test_choices_are_checked_when_built_too(field: str) -> None:
    with pytest.raises(RuleError) as error:
        rules(**{field: "weeks"})
    assert field_of(error) == field


@st.composite
def day_ranges(draw: st.DrawFn) -> tuple[TimeRange, ...]:
    points = draw(st.lists(st.integers(0, 288), unique=True, max_size=6).map(sorted))
    return tuple(TimeRange(points[i] * 5, points[i + 1] * 5) for i in range(0, len(points) - 1, 2))


@st.composite
def any_rules(draw: st.DrawFn) -> AvailabilityRules:
    days = draw(st.lists(st.dates(date(2025, 1, 1), date(2028, 12, 31)), unique=True, max_size=4))
    return AvailabilityRules(
        time_zone=draw(st.sampled_from(["UTC", "Europe/Ljubljana", "Asia/Kathmandu"])),
        weekly_hours=WeeklyHours(tuple(draw(day_ranges()) for _ in WEEKDAYS)),
        duration_minutes=draw(st.integers(5, 720)),
        slot_interval_minutes=draw(st.none() | st.integers(5, 720)),
        buffer_before_minutes=draw(st.integers(0, 240)),
        buffer_after_minutes=draw(st.integers(0, 240)),
        minimum_notice_minutes=draw(st.integers(0, 365 * 1440)),
        booking_window_days=draw(st.integers(1, 730)),
        max_bookings_per_day=draw(st.none() | st.integers(1, 1000)),
        max_bookings_per_week=draw(st.none() | st.integers(1, 1000)),
        max_bookings_per_month=draw(st.none() | st.integers(1, 1000)),
        max_minutes_per_day=draw(st.none() | st.integers(5, 1440)),
        max_minutes_per_week=draw(st.none() | st.integers(5, 31 * 1440)),
        max_minutes_per_month=draw(st.none() | st.integers(5, 31 * 1440)),
        week_start=draw(st.integers(0, 6)),
        booking_window_unit=draw(st.sampled_from(["calendar_days", "business_days"])),
        start_times=draw(st.sampled_from(START_TIMES)),
        bookable_from=draw(st.none() | st.dates(date(2026, 1, 1), date(2026, 6, 30))),
        bookable_until=draw(st.none() | st.dates(date(2026, 7, 1), date(2027, 6, 30))),
        overrides=tuple(DateOverride(day, draw(day_ranges())) for day in days),
    )


@settings(max_examples=200, deadline=None, database=None)
@given(any_rules())
def test_any_rules_round_trip_through_the_stored_form(r: AvailabilityRules) -> None:
    assert parse_rules(json.loads(json.dumps(rules_to_dict(r)))) == r
