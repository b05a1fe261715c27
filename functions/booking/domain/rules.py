"""An event type's scheduling rules: weekly hours, date overrides, zone, length, buffers, limits.

Rules are frozen and checked when built, so code that holds an `AvailabilityRules` never meets
a bad one. Every check raises `RuleError`, whose `field` is a path into the stored form
(``weekly_hours.mon[1]``, ``overrides.2026-12-24[0]``, ``duration_minutes``), so a form can put
the message next to the input that caused it::

    ValueError
    └── RuleError(field, message)    the one error of this module; `message` is a Problem
                                     (booking.domain.problems): English text, message id

Times of day are whole minutes after the owner's local midnight, 0..1440, where 1440 is the
midnight that ends the day ("24:00"). A range may run past midnight into the next day (a night
shift, Friday 22:00 to Saturday 02:00): written ``["22:00", "02:00"]``, an end at or before the
start, and held as minutes past 1440 (22:00-02:00 is 1320..1560), at most 24 hours long.
Turning these wall-clock minutes into instants is availability.py's job, because only there is
the date, and with it the day's DST, known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from booking.domain.problems import Problem

__all__ = [
    "WEEKDAYS",
    "AvailabilityRules",
    "DateOverride",
    "RuleError",
    "TimeRange",
    "WeeklyHours",
    "parse_rules",
    "rules_to_dict",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60

DURATION_MINUTES = (5, 1440)
SLOT_INTERVAL_MINUTES = (5, 1440)
BUFFER_MINUTES = (0, 240)
# A year: notice longer than that could never be met inside the longest booking window.
NOTICE_MINUTES = (0, 365 * MINUTES_PER_DAY)
BOOKING_WINDOW_DAYS = (1, 730)
DEFAULT_BOOKING_WINDOW_DAYS = 60
MAX_BOOKINGS = (1, 1000)  # per day, week or month
MAX_MINUTES = (5, 31 * MINUTES_PER_DAY)  # of booked time per day, week or month
PERIODS = ("day", "week", "month")
WINDOW_UNITS = ("calendar_days", "business_days")
# The first is what a stored rule without the field means (how slots always started); new
# event types get NEW_START_TIMES (services/event_types.py).
START_TIMES = ("range_start", "on_the_clock", "on_the_clock_if_no_loss")
NEW_START_TIMES = "on_the_clock_if_no_loss"

_CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


MINUTES = Problem("unit.minutes", "minutes")
DAYS = Problem("unit.days", "days")
BOOKINGS = Problem("unit.bookings", "bookings")
DAYS_AFTER_MONDAY = Problem("unit.days_after_monday", "days after Monday")
ZONE_NEEDED = Problem("rules.time_zone.type", "must be an IANA time zone name such as "
                      "Europe/Ljubljana")
# Which end of a range a reason is about, as "%(part)s %(reason)s" says it.
_PARTS = {"start": Problem("rules.range.start", "start"), "end": Problem("rules.range.end", "end")}


def _one_of(choices: Sequence[str], value: object = None) -> Problem:
    listed = ", ".join(choices)
    if value is None:
        return Problem("rules.choice", "must be one of %(choices)s", choices=listed)
    return Problem("rules.choice.got", "must be one of %(choices)s, got %(value)s",
                   choices=listed, value=repr(value))


class RuleError(ValueError):
    """A rule that cannot be: `field` names where (a path into the stored form), `message` why."""

    def __init__(self, field: str, message: Problem) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def within(self, prefix: str) -> RuleError:
        """The same error seen from the enclosing object: ``mon[1]`` within weekly_hours."""
        return RuleError(f"{prefix}.{self.field}", self.message)


def format_clock(minutes: int) -> str:
    """``570`` -> ``"09:30"``; ``1440`` -> ``"24:00"``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Owner-local wall-clock minutes ``start <= m < end`` from one day's midnight;
    0 <= start < 1440 and start < end <= start + 1440: an end past 1440 is the next day's.

    ``TimeRange(540, 1020)`` is 09:00-17:00; ``TimeRange(1320, 1440)`` is 22:00 to midnight;
    ``TimeRange(1320, 1560)`` is 22:00 to 02:00 the next morning.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if type(getattr(self, name)) is not int:
                raise RuleError(name, Problem("rules.time.whole_minutes",
                                                "must be whole minutes after midnight"))
        if self.start < 0:
            raise RuleError("start", Problem("rules.time.negative", "must be 00:00 or later"))
        if self.start >= MINUTES_PER_DAY:
            raise RuleError("start", Problem("rules.time.too_late", "must be before 24:00"))
        if self.end <= self.start:
            raise RuleError(
                "end",
                Problem("rules.range.end_before_start",
                        "must be after start (%(end)s <= %(start)s)",
                        end=format_clock(self.end), start=format_clock(self.start)),
            )
        if self.end > self.start + MINUTES_PER_DAY:
            raise RuleError("end", Problem("rules.range.too_long",
                                           "a range lasts at most 24 hours"))

    @property
    def overnight(self) -> bool:
        return self.end > MINUTES_PER_DAY

    @property
    def written_end(self) -> int:
        """The end as the owner writes it: 02:00 for a 22:00 range that runs into the night."""
        return self.end - MINUTES_PER_DAY if self.overnight else self.end

    def __str__(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.written_end)}"


def _check_ranges(label: str, ranges: Sequence[TimeRange]) -> None:
    # Ascending and apart, checked in the order given rather than sorted first, so the error
    # names the index the owner typed. Touching ranges are allowed: 09:00-12:00 and 12:00-13:00
    # stay two ranges, and slots align to each one's start.
    for index in range(1, len(ranges)):
        previous, current = ranges[index - 1], ranges[index]
        if current.start < previous.end:
            other = f"{label}[{index - 1}] {previous}"
            raise RuleError(
                f"{label}[{index}]",
                Problem("rules.range.overlap",
                        "%(range)s starts before %(other)s ends;"
                        " ranges must be in order and must not overlap",
                        range=str(current), other=other),
            )


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Working ranges for each weekday: ``days[0]`` is Monday .. ``days[6]`` Sunday; () = closed."""

    days: tuple[tuple[TimeRange, ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != len(WEEKDAYS):
            raise RuleError("days", Problem("rules.weekly_hours.days",
                                            "must have 7 entries, Monday first, got %(n)s",
                                            n=len(self.days)))
        for label, ranges in zip(WEEKDAYS, self.days, strict=True):
            _check_ranges(label, ranges)
        # A night shift may not run into the next day's first range (Sunday's into Monday's).
        for index, ranges in enumerate(self.days):
            following = self.days[(index + 1) % len(WEEKDAYS)]
            if ranges and following and following[0].start < ranges[-1].end - MINUTES_PER_DAY:
                label = WEEKDAYS[(index + 1) % len(WEEKDAYS)]
                raise RuleError(
                    f"{label}[0]",
                    Problem("rules.range.overlap_night",
                            "%(range)s starts before %(day)s's %(other)s ends",
                            range=str(following[0]), day=WEEKDAYS[index],
                            other=str(ranges[-1])),
                )

    @classmethod
    def of(cls, by_weekday: Mapping[int, Sequence[TimeRange]]) -> WeeklyHours:
        """``WeeklyHours.of({0: [TimeRange(540, 1020)]})``: Mondays 09:00-17:00, else closed."""
        for weekday in by_weekday:
            if weekday not in range(len(WEEKDAYS)):
                raise RuleError(str(weekday), Problem(
                    "rules.weekday", "is not a weekday (0 = Monday .. 6 = Sunday)"))
        return cls(tuple(tuple(by_weekday.get(day, ())) for day in range(len(WEEKDAYS))))

    def on(self, weekday: int) -> tuple[TimeRange, ...]:
        return self.days[weekday]


@dataclass(frozen=True, slots=True)
class DateOverride:
    """One owner-local date whose ranges replace that weekday's hours; no ranges = closed."""

    day: date
    ranges: tuple[TimeRange, ...] = ()

    def __post_init__(self) -> None:
        _check_ranges(self.day.isoformat(), self.ranges)

    @property
    def closed(self) -> bool:
        return not self.ranges


def _override_day(override: DateOverride) -> date:
    return override.day


def _check_whole(name: str, value: object, bounds: tuple[int, int], unit: Problem) -> None:
    low, high = bounds
    # bool is an int to Python; True minutes is a bug upstream, not a duration.
    if type(value) is not int:
        raise RuleError(name, Problem("rules.whole.type", "must be a whole number of %(unit)s",
                                      unit=unit))
    if not low <= value <= high:
        raise RuleError(name, Problem(
            "rules.whole.range", "must be between %(low)s and %(high)s %(unit)s, got %(value)s",
            low=low, high=high, unit=unit, value=value))


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        # KeyError is ZoneInfoNotFoundError; ValueError a malformed key such as "../x" or "";
        # OSError a folder of the database, such as "America".
        raise RuleError("time_zone", Problem("rules.time_zone.unknown",
                                             "%(name)s is not an IANA time zone name",
                                             name=repr(name))) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilityRules:
    """Everything that decides an event type's slots, apart from who is busy when.

    `slot_interval_minutes` None means "same as the duration", kept as None rather than copied
    so that changing the duration later moves the interval with it.
    The booking window is `booking_window_days` calendar days from today, or that many of the
    owner's working days (days with hours) with `booking_window_unit` "business_days"; starts
    must also lie within `bookable_from` .. `bookable_until` (owner-local dates, inclusive).
    Limits (`max_bookings_per_*`, `max_minutes_per_*`) count this event type's bookings by
    the owner day of their start; None means unlimited. A week starts on `week_start`
    (0 = Monday .. 6 = Sunday), which comes from the owner's locale.
    """

    time_zone: str
    weekly_hours: WeeklyHours
    duration_minutes: int
    slot_interval_minutes: int | None = None
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    minimum_notice_minutes: int = 0
    booking_window_days: int = DEFAULT_BOOKING_WINDOW_DAYS
    max_bookings_per_day: int | None = None
    max_bookings_per_week: int | None = None
    max_bookings_per_month: int | None = None
    max_minutes_per_day: int | None = None
    max_minutes_per_week: int | None = None
    max_minutes_per_month: int | None = None
    week_start: int = 0
    booking_window_unit: str = "calendar_days"
    start_times: str = "range_start"
    bookable_from: date | None = None
    bookable_until: date | None = None
    overrides: tuple[DateOverride, ...] = ()
    _by_day: Mapping[date, DateOverride] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if not isinstance(self.time_zone, str):
            raise RuleError("time_zone", ZONE_NEEDED)
        _check_zone(self.time_zone)
        _check_whole("duration_minutes", self.duration_minutes, DURATION_MINUTES, MINUTES)
        if self.slot_interval_minutes is not None:
            _check_whole(
                "slot_interval_minutes",
                self.slot_interval_minutes,
                SLOT_INTERVAL_MINUTES,
                MINUTES,
            )
        _check_whole("buffer_before_minutes", self.buffer_before_minutes, BUFFER_MINUTES, MINUTES)
        _check_whole("buffer_after_minutes", self.buffer_after_minutes, BUFFER_MINUTES, MINUTES)
        _check_whole(
            "minimum_notice_minutes", self.minimum_notice_minutes, NOTICE_MINUTES, MINUTES
        )
        _check_whole("booking_window_days", self.booking_window_days, BOOKING_WINDOW_DAYS, DAYS)
        for period in PERIODS:
            for name, bounds, unit in (
                (f"max_bookings_per_{period}", MAX_BOOKINGS, BOOKINGS),
                (f"max_minutes_per_{period}", MAX_MINUTES, MINUTES),
            ):
                value = getattr(self, name)
                if value is not None:
                    _check_whole(name, value, bounds, unit)
        _check_whole("week_start", self.week_start, (0, 6), DAYS_AFTER_MONDAY)
        if self.booking_window_unit not in WINDOW_UNITS:
            raise RuleError("booking_window_unit", _one_of(WINDOW_UNITS))
        if self.start_times not in START_TIMES:
            raise RuleError("start_times", _one_of(START_TIMES))
        first, last = self.bookable_from, self.bookable_until
        if first is not None and last is not None and last < first:
            raise RuleError("bookable_until", Problem(
                "rules.bookable_until.before_from",
                "must not be before bookable_from (%(first)s)", first=str(first)))
        by_day: dict[date, DateOverride] = {}
        for override in self.overrides:
            if override.day in by_day:
                raise RuleError(f"overrides.{override.day.isoformat()}",
                                Problem("rules.overrides.twice", "date given twice"))
            by_day[override.day] = override
        # Kept in date order so that two rules with the same overrides compare equal however
        # they were listed (and the stored form round-trips to an equal object).
        object.__setattr__(self, "overrides", tuple(sorted(self.overrides, key=_override_day)))
        object.__setattr__(self, "_by_day", by_day)

    @property
    def zone(self) -> ZoneInfo:
        # ZoneInfo caches instances by key, so this is a dictionary look-up after the first call.
        return ZoneInfo(self.time_zone)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def slot_interval(self) -> timedelta:
        minutes = self.slot_interval_minutes
        return timedelta(minutes=self.duration_minutes if minutes is None else minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    @property
    def minimum_notice(self) -> timedelta:
        return timedelta(minutes=self.minimum_notice_minutes)

    def limits(self, period: str) -> tuple[int | None, int | None]:
        """(max bookings, max minutes) of this event type per `period` (day, week or month)."""
        bookings: int | None = getattr(self, f"max_bookings_per_{period}")
        minutes: int | None = getattr(self, f"max_minutes_per_{period}")
        return bookings, minutes

    @property
    def limit_reach(self) -> timedelta:
        """How far from a day bookings can count toward its limits (its month, its week, or
        the neighbouring days that a booking's buffers can reach)."""
        if self.max_bookings_per_month or self.max_minutes_per_month:
            return timedelta(days=32)
        if self.max_bookings_per_week or self.max_minutes_per_week:
            return timedelta(days=8)
        return timedelta(days=2)

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """The working ranges of an owner-local date: its override if any, else its weekday's."""
        override = self._by_day.get(day)
        if override is not None:
            return override.ranges
        return self.weekly_hours.on(day.weekday())


# --- The stored form -------------------------------------------------------------------------
#
# {"time_zone": "Europe/Ljubljana",
#  "weekly_hours": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [], ...},
#  "overrides": {"2026-12-24": [], "2026-12-31": [["10:00", "12:00"]]},
#  "duration_minutes": 30, "slot_interval_minutes": null, "buffer_before_minutes": 0,
#  "buffer_after_minutes": 10, "minimum_notice_minutes": 240, "booking_window_days": 60,
#  "max_bookings_per_day": null, "max_bookings_per_week": 10, "max_minutes_per_day": 240,
#  "week_start": "mon"}
#
# Weekdays left out are closed. Unknown keys are errors rather than ignored: a typo such as
# "bufer_after_minutes" would otherwise silently mean no buffer.

_KNOWN = frozenset(
    {
        "time_zone",
        "weekly_hours",
        "overrides",
        "duration_minutes",
        "slot_interval_minutes",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "minimum_notice_minutes",
        "booking_window_days",
        "max_bookings_per_day",
        "max_bookings_per_week",
        "max_bookings_per_month",
        "max_minutes_per_day",
        "max_minutes_per_week",
        "max_minutes_per_month",
        "week_start",
        "booking_window_unit",
        "bookable_from",
        "bookable_until",
        "start_times",
    }
)


def _required(data: Mapping[str, object], name: str) -> object:
    if name not in data:
        raise RuleError(name, Problem("rules.required", "is required"))
    return data[name]


def _whole(data: Mapping[str, object], name: str, default: int | None = None) -> int:
    """The whole number at `name`; `default` when absent, or required when there is none."""
    if name not in data and default is not None:
        return default
    value = _required(data, name)
    if type(value) is not int:
        raise RuleError(name, Problem("rules.whole.not_a_number",
                                      "must be a whole number, got %(value)s", value=repr(value)))
    return value


def _whole_or_none(data: Mapping[str, object], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    return _whole(data, name)


def _parse_clock(path: str, which: str, text: object) -> int:
    if not isinstance(text, str) or not _CLOCK.fullmatch(text):
        raise RuleError(path, Problem("rules.range.clock",
                                      "%(which)s must be a time HH:MM from 00:00 to 24:00, "
                                      "got %(value)s", which=which, value=repr(text)))
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _parse_range(path: str, pair: object) -> TimeRange:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        raise RuleError(
            path, Problem("rules.range.pair", "must be a pair [start, end] such as %(example)s, "
                          "got %(value)s", example="['09:00', '17:00']", value=repr(pair))
        )
    start = _parse_clock(path, "start", pair[0])
    end = _parse_clock(path, "end", pair[1])
    if end <= start:
        # ["22:00", "02:00"] runs into the next morning; ["09:00", "09:00"] is a whole 24 h.
        end += MINUTES_PER_DAY
    try:
        return TimeRange(start, end)
    except RuleError as exc:
        raise RuleError(path, Problem("rules.range.part", "%(part)s %(reason)s",
                                      part=_PARTS[exc.field], reason=exc.message)) from None


def _parse_ranges(path: str, value: object) -> tuple[TimeRange, ...]:
    if not isinstance(value, list | tuple):
        raise RuleError(path, Problem("rules.ranges.list",
                                      "must be a list of [start, end] pairs, got %(value)s",
                                      value=repr(value)))
    return tuple(_parse_range(f"{path}[{index}]", pair) for index, pair in enumerate(value))


def _parse_weekly(value: object) -> WeeklyHours:
    if not isinstance(value, Mapping):
        raise RuleError("weekly_hours", Problem("rules.weekly_hours.shape",
                                                "must map weekdays (mon..sun) to lists of ranges"))
    by_weekday: dict[int, tuple[TimeRange, ...]] = {}
    for key, ranges in value.items():
        if key not in WEEKDAYS:
            raise RuleError(f"weekly_hours.{key}", Problem(
                "rules.weekly_hours.weekday", "is not one of %(choices)s",
                choices=", ".join(WEEKDAYS)))
        by_weekday[WEEKDAYS.index(key)] = _parse_ranges(f"weekly_hours.{key}", ranges)
    try:
        return WeeklyHours.of(by_weekday)
    except RuleError as exc:
        raise exc.within("weekly_hours") from None


def _parse_overrides(value: object) -> tuple[DateOverride, ...]:
    if not isinstance(value, Mapping):
        raise RuleError("overrides", Problem("rules.overrides.shape",
                                             "must map dates YYYY-MM-DD to lists of ranges"))
    overrides = []
    for key, ranges in value.items():
        path = f"overrides.{key}"
        day = _parse_date(path, key)
        parsed = _parse_ranges(path, ranges)
        try:
            overrides.append(DateOverride(day, parsed))
        except RuleError as exc:
            raise exc.within("overrides") from None
    return tuple(overrides)


def _parse_date(path: str, key: object) -> date:
    # fromisoformat alone would also take "20261224" and "2026-W52-4"; the stored form has one
    # spelling so that two keys can never name the same day.
    if isinstance(key, str) and _ISO_DATE.fullmatch(key):
        try:
            return date.fromisoformat(key)
        except ValueError:
            pass
    raise RuleError(path, Problem("rules.date", "is not a date YYYY-MM-DD"))


def parse_rules(data: Mapping[str, object]) -> AvailabilityRules:
    """Rules from their stored JSON form (see above); a `RuleError` names the bad path."""
    unknown = sorted(str(key) for key in data if key not in _KNOWN)
    if unknown:
        raise RuleError(unknown[0], Problem("rules.unknown_field", "is not a rule field"))
    time_zone = _required(data, "time_zone")
    if not isinstance(time_zone, str):
        raise RuleError("time_zone", ZONE_NEEDED)
    weekly = _parse_weekly(_required(data, "weekly_hours"))
    return AvailabilityRules(
        time_zone=time_zone,
        weekly_hours=weekly,
        overrides=_parse_overrides(data.get("overrides", {})),
        duration_minutes=_whole(data, "duration_minutes"),
        slot_interval_minutes=_whole_or_none(data, "slot_interval_minutes"),
        buffer_before_minutes=_whole(data, "buffer_before_minutes", 0),
        buffer_after_minutes=_whole(data, "buffer_after_minutes", 0),
        minimum_notice_minutes=_whole(data, "minimum_notice_minutes", 0),
        booking_window_days=_whole(data, "booking_window_days", DEFAULT_BOOKING_WINDOW_DAYS),
        max_bookings_per_day=_whole_or_none(data, "max_bookings_per_day"),
        max_bookings_per_week=_whole_or_none(data, "max_bookings_per_week"),
        max_bookings_per_month=_whole_or_none(data, "max_bookings_per_month"),
        max_minutes_per_day=_whole_or_none(data, "max_minutes_per_day"),
        max_minutes_per_week=_whole_or_none(data, "max_minutes_per_week"),
        max_minutes_per_month=_whole_or_none(data, "max_minutes_per_month"),
        week_start=_weekday(data, "week_start"),
        booking_window_unit=_choice(data, "booking_window_unit", WINDOW_UNITS),
        bookable_from=_date_or_none(data, "bookable_from"),
        bookable_until=_date_or_none(data, "bookable_until"),
        start_times=_choice(data, "start_times", START_TIMES),
    )


def _choice(data: Mapping[str, object], name: str, choices: tuple[str, ...]) -> str:
    value = data.get(name, choices[0])
    if value not in choices:
        raise RuleError(name, _one_of(choices, value))
    return str(value)


def _date_or_none(data: Mapping[str, object], name: str) -> date | None:
    value = data.get(name)
    return None if value is None else _parse_date(name, value)


def _weekday(data: Mapping[str, object], name: str) -> int:
    value = data.get(name, WEEKDAYS[0])
    if value not in WEEKDAYS:
        raise RuleError(name, _one_of(WEEKDAYS, value))
    return WEEKDAYS.index(str(value))


def _ranges_to_list(ranges: Sequence[TimeRange]) -> list[list[str]]:
    return [[format_clock(r.start), format_clock(r.written_end)] for r in ranges]


def rules_to_dict(rules: AvailabilityRules) -> dict[str, object]:
    """The stored form; ``parse_rules(rules_to_dict(r)) == r``. All seven weekdays are written."""
    return {
        "time_zone": rules.time_zone,
        "weekly_hours": {
            label: _ranges_to_list(rules.weekly_hours.on(index))
            for index, label in enumerate(WEEKDAYS)
        },
        "overrides": {
            override.day.isoformat(): _ranges_to_list(override.ranges)
            for override in rules.overrides
        },
        "duration_minutes": rules.duration_minutes,
        "slot_interval_minutes": rules.slot_interval_minutes,
        "buffer_before_minutes": rules.buffer_before_minutes,
        "buffer_after_minutes": rules.buffer_after_minutes,
        "minimum_notice_minutes": rules.minimum_notice_minutes,
        "booking_window_days": rules.booking_window_days,
        "max_bookings_per_day": rules.max_bookings_per_day,
        "max_bookings_per_week": rules.max_bookings_per_week,
        "max_bookings_per_month": rules.max_bookings_per_month,
        "max_minutes_per_day": rules.max_minutes_per_day,
        "max_minutes_per_week": rules.max_minutes_per_week,
        "max_minutes_per_month": rules.max_minutes_per_month,
        "week_start": WEEKDAYS[rules.week_start],
        "booking_window_unit": rules.booking_window_unit,
        "start_times": rules.start_times,
        "bookable_from": rules.bookable_from.isoformat() if rules.bookable_from else None,
        "bookable_until": rules.bookable_until.isoformat() if rules.bookable_until else None,
    }
