"""From an event type's rules and the owner's busy time to the starts a guest may book.

`compute_slots` is the pipeline, one small function a step:

    days          bookable_days     the owner-local days the asked span reaches, cut to notice and
                                    window, less the days already at the daily limit
    ranges        working_ranges    each day's ranges (its override, else its weekday's) as UTC
    blocked       blocked_time      busy time plus bookings widened by their own buffers, merged
    keep-out      widen(...)        blocked time widened by the new slot's buffers, swapped (below)
    free          subtract(...)     working ranges less keep-out, still split by working range
    slots         slot_starts       every slot-interval from each working range's start, whole
                                    slot in a free piece, start in [now + notice, span end)

Sorting happens once (the blocked time); every later step is a linear sweep, so n busy
intervals and m slots cost O(n log n + m). `slot_is_offered` runs the same pipeline over the
one day of the asked start, so the booking check can never disagree with the list a guest saw.

The choices, each with the reason:

Span. Callers ask for the slots whose *start* lies in a UTC span [start, end): a guest's week
in the guest's zone is a UTC span, and a slot that starts inside it but ends after it still
belongs to that week. The owner-local days are derived from the span, never taken as input.

Owner day. Every instant belongs to one owner-local day: the day whose ranges could contain it
(see `owner_day`). A slot, like a booking, is on the day its start is on (a night shift's
00:30 is on the next day) and counts toward that day; "today" is the day `now` is on.

Nights and long meetings. A range may run past midnight (22:00-02:00), and a range that ends
where the next day's begins (24:00 and 00:00, or a night shift's 02:00 and a 02:00 range)
joins it: a meeting may start in one and run on into the other, up to 24 hours long. So the
days around the asked ones are built too (the night before, the two after) and only starts on
the asked days are kept.

Notice and window. A start must be at or after ``now + minimum_notice`` (to the microsecond),
and always after `now`: a slot starting this very instant can never be booked in time, so even
without notice it is not offered.
The window counts owner-local days: a window of N days offers today and the N - 1 days after,
whole; a window of N business days ends on the N-th day with working hours (today counted when
it has some). A fixed date range (`bookable_from` .. `bookable_until`) cuts both ends further.
Counting N * 24 h from now instead would cut the last day at whatever time the guest
happened to look, so the same page would show a different last afternoon each hour.

Buffers. A candidate [s, s + d) needs [s - buffer_before, s + d + buffer_after) clear of busy
time, and each existing booking additionally keeps its own buffers (its event type's). Buffers
add up: after a booking with a 15-minute after-buffer, a slot with a 10-minute before-buffer
starts 25 minutes after that booking ends at the earliest. External busy time (Google free/busy)
carries no buffers of its own; only the new slot's buffers keep away from it.

Alignment. Starts step by the slot interval from each working range's anchor, not from the
edge of free time: a meeting that ends at 10:05 does not turn the rest of the morning into
10:05, 10:20, ... Steps are elapsed time, so across a clock change the local labels follow the
clock (see DST).

Start times. The anchor is the event type's `start_times` choice:
    range_start              the range's own start: 07:45-12:00 hourly gives 07:45 .. 10:45
    on_the_clock             the whole hour at or before it: 08:00 .. 11:00 (and a 09:30-11:30
                             range hourly gives only 10:00: 09:30-10:30 is lost)
    on_the_clock_if_no_loss  the hour when that fits as many meetings into the range as its
                             start does, else the start: 07:45-12:00 -> 08:00 .. 11:00, but
                             09:30-11:30 -> 09:30, 10:30
Counting ignores busy time, so a range keeps one grid whatever is booked.

Limits. Bookings of this event type (those of `booked` that count toward the limit) count by
the owner day of their start toward that day, its week (starting on `week_start`) and its
month. A day offers nothing at all once one more booking would pass any of the limits on
them: `max_bookings_per_*` bookings already, or `max_minutes_per_*` less than one more
meeting's length left. Nor does a day holding `owner_daily_cap` bookings of any of the owner's
event types (every `booked`).

DST. A wall-clock range [a, b) on day D runs from the first instant the owner's clock reads a
on D, or has jumped past it, to the same instant for b (`local_instant`). Worked out for
Europe/Ljubljana:

    Sun 2026-03-29, 02:00 CET jumps to 03:00 CEST at 01:00Z (the day has 23 hours)
        00:00-24:00   [03-28 23:00Z, 03-29 22:00Z)                                   23 h
        01:00-04:00   [00:00Z, 02:00Z); hourly slots at 01:00 CET and 03:00 CEST      2 h
        02:30-03:30   02:30 never shows: the clock passes it at 03:00, so [01:00Z, 01:30Z)
        02:15-02:45   wholly inside the jump: no instants, no slots
    Sun 2026-10-25, 03:00 CEST falls back to 02:00 CET at 01:00Z (the day has 25 hours)
        00:00-24:00   [10-24 22:00Z, 10-25 23:00Z)                                   25 h
        02:00-03:00   02:00 first shows at 00:00Z (CEST); 03:00 shows once, at 02:00Z
                      (CET): 2 h, hourly slots at 02:00 CEST and 02:00 CET

Ambiguous readings therefore take their first occurrence (fold=0) at both ends, which keeps a
range that lies inside the repeated hour its written length. Readings in a gap cannot use
zoneinfo's fold=0 as they are, because PEP 495 resolves them with the offset from before the
jump, landing them *after* it by the gap's length (02:30 -> 03:30 CEST): 02:30-03:15 would
then end before it began. Mapping every skipped reading to the jump instead keeps the mapping
monotonic, so ranges stay in order on every day, and Pacific/Apia's missing 2011-12-30 simply
has no instants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from booking.domain.intervals import Interval, normalise, subtract, widen
from booking.domain.rules import AvailabilityRules

__all__ = [
    "Booked",
    "Limits",
    "blocked_time",
    "bookable_dates",
    "bookable_days",
    "compute_slots",
    "group_by_local_day",
    "limit_periods",
    "local_instant",
    "owner_day",
    "slot_is_offered",
    "slot_starts",
    "anchored_ranges",
    "working_ranges",
]

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
# The resolution of datetime: a span of one tick holds exactly one possible start.
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Booked:
    """A confirmed booking: its time and the buffers its own event type keeps around it.

    `counts_toward_limit` is False for a booking of another of the owner's event types: it
    still blocks its time and buffers, but does not use up this event type's daily quota.
    `group` names the group slot a seat of a group event belongs to: its seats together are
    one booking for every limit (see `seats`).
    """

    interval: Interval
    buffer_before: timedelta = _ZERO
    buffer_after: timedelta = _ZERO
    counts_toward_limit: bool = True
    group: str | None = None

    def __post_init__(self) -> None:
        if self.buffer_before < _ZERO or self.buffer_after < _ZERO:
            raise ValueError(
                "booking buffers must not be negative,"
                f" got {self.buffer_before} before and {self.buffer_after} after"
            )

    @property
    def blocked(self) -> Interval:
        """The time this booking keeps from others: itself and its buffers."""
        return Interval(
            self.interval.start - self.buffer_before, self.interval.end + self.buffer_after
        )


def _require_aware(name: str, moment: datetime) -> datetime:
    # A naive datetime would be read in the server's zone by astimezone(): refuse it outright.
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _reading(instant: datetime, zone: tzinfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def local_instant(day: date, minute: int, zone: tzinfo) -> datetime:
    """The first instant (UTC) at which the clock in `zone` reads `minute` after midnight of
    `day`, or has jumped past that reading. See the module docstring for worked DST days.

    ``local_instant(date(2026, 3, 29), 150, ZoneInfo("Europe/Ljubljana"))`` -> 01:00Z, the
    moment 02:00 CET became 03:00 CEST, since 02:30 never showed that night.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    # fold=0 is the first of two readings when the clock falls back: the one we want.
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if _reading(instant, zone) == wall:
        return instant
    return _jump_past(wall, instant, zone)


def _jump_past(wall: datetime, after: datetime, zone: tzinfo) -> datetime:
    """The instant the clock jumped over `wall`, found by bisection.

    zoneinfo does not publish its transitions. fold=0 placed `after` later than the jump by
    the gap's length; fold=1 places `before` earlier than it (where the clock reads wall - gap).
    The jump is the first instant between them whose reading is at or past `wall`. Offsets and
    transitions are whole seconds, so bisecting seconds finds it exactly, in about 12 steps for
    an hour's gap.
    """
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while after - before > _ONE_SECOND:
        middle = before + (after - before) // _ONE_SECOND // 2 * _ONE_SECOND
        if _reading(middle, zone) >= wall:
            after = middle
        else:
            before = middle
    return after


def owner_day(instant: datetime, zone: tzinfo) -> date:
    """The owner-local day whose ranges can hold `instant`: the day D with
    ``local_instant(D, 0) <= instant < local_instant(D + 1, 0)``.

    That is the date the clock shows, except where a clock fell back across midnight: in
    America/St_Johns on 2010-11-07 the clock reached 00:01 and went back to 23:01 on the 6th.
    The instants then reading 23:01-24:00 on the 6th come after the 7th began, and belong to it,
    so a slot there is counted and checked on the day that offered it.
    """
    moment = _require_aware("instant", instant)
    shown = moment.astimezone(zone).date()
    following = shown + _ONE_DAY
    if moment >= local_instant(following, 0, zone):
        return following
    return shown


def bookable_dates(rules: AvailabilityRules, now: datetime) -> tuple[date, date]:
    """The first and last owner-local days a slot may start on: today (or `bookable_from`)
    to the window's last day (or `bookable_until`). The first may lie after the last."""
    today = owner_day(now, rules.zone)
    if rules.booking_window_unit == "business_days":
        last = _nth_working_day(rules, today, rules.booking_window_days)
    else:
        last = today + timedelta(days=rules.booking_window_days - 1)
    first = today if rules.bookable_from is None else max(today, rules.bookable_from)
    if rules.bookable_until is not None:
        last = min(last, rules.bookable_until)
    return first, last


def _nth_working_day(rules: AvailabilityRules, today: date, count: int) -> date:
    """The `count`-th day from today (today included) with working hours. Closed overrides
    push it later; without enough working days it stops a week per day asked (and override)
    ahead, so a schedule of overrides alone cannot make it search for ever."""
    day = today
    bound = today + timedelta(days=7 * (count + len(rules.overrides) + 1))
    while day < bound:
        if rules.ranges_on(day):
            count -= 1
            if count == 0:
                return day
        day += _ONE_DAY
    return bound


def bookable_days(
    rules: AvailabilityRules,
    *,
    span: Interval,
    booked: Sequence[Booked],
    now: datetime,
    owner_daily_cap: int | None = None,
) -> list[date]:
    """The owner-local days, ascending, on which a slot starting inside `span` may be offered."""
    zone = rules.zone
    opens, closes = bookable_dates(rules, now)
    first = max(owner_day(max(span.start, now + rules.minimum_notice), zone), opens)
    last = min(owner_day(span.end - _TICK, zone), closes)
    full = Limits(rules, booked, owner_daily_cap)
    days: list[date] = []
    day = first
    while day <= last:
        if not full.reached_on(day):
            days.append(day)
        day += _ONE_DAY
    return days


def limit_periods(day: date, week_start: int) -> tuple[tuple[str, date], ...]:
    """The periods a day belongs to, each named by its first day: the day itself, its week
    (weeks start on `week_start`, 0 = Monday) and its month."""
    week = day - timedelta(days=(day.weekday() - week_start) % 7)
    return (("day", day), ("week", week), ("month", day.replace(day=1)))


class Limits:
    """This event type's bookings and booked time per owner day, week and month, and every
    booking per day (for the owner's cap), counted once so each day's check is a look-up.
    The seats of one group slot count as one booking of its length, as peers count them."""

    def __init__(
        self, rules: AvailabilityRules, booked: Sequence[Booked], owner_daily_cap: int | None
    ) -> None:
        self.rules = rules
        self.owner_daily_cap = owner_daily_cap
        self.count: Counter[tuple[str, date]] = Counter()
        self.time: dict[tuple[str, date], timedelta] = {}
        self.everyone: Counter[date] = Counter()
        groups: set[str] = set()
        for booking in booked:
            if booking.group is not None:
                if booking.group in groups:
                    continue
                groups.add(booking.group)
            day = owner_day(booking.interval.start, rules.zone)
            self.everyone[day] += 1
            if booking.counts_toward_limit:
                for key in self._periods(day):
                    self.count[key] += 1
                    self.time[key] = self.time.get(key, _ZERO) + booking.interval.duration

    def _periods(self, day: date) -> tuple[tuple[str, date], ...]:
        return limit_periods(day, self.rules.week_start)

    def reached_on(self, day: date) -> bool:
        """Whether one more booking starting on `day` would pass any limit."""
        cap = self.owner_daily_cap
        if cap is not None and self.everyone[day] >= cap:
            return True
        for key in self._periods(day):
            most, minutes = self.rules.limits(key[0])
            if most is not None and self.count[key] >= most:
                return True
            # A booking fits only whole: 30 minutes left of a day's 240 take no 45-minute one.
            booked = self.time.get(key, _ZERO)
            if minutes is not None and booked + self.rules.duration > timedelta(minutes=minutes):
                return True
        return False


def working_ranges(rules: AvailabilityRules, days: Sequence[date]) -> list[Interval]:
    """Each day's working ranges as UTC intervals: sorted, apart or touching, never merged.

    Touching ranges stay separate (09:00-12:00 and 12:00-17:00, or one day's 24:00 and the
    next day's 00:00) because slots align to each range's own start.
    """
    return anchored_ranges(rules, days)[0]


def anchored_ranges(
    rules: AvailabilityRules, days: Sequence[date]
) -> tuple[list[Interval], list[datetime]]:
    """`working_ranges` and, for each, the instant its slots step from (see Start times)."""
    ranges, anchors, _ = _day_ranges(rules, days)
    return ranges, anchors


def _day_ranges(
    rules: AvailabilityRules, days: Sequence[date]
) -> tuple[list[Interval], list[datetime], list[bool]]:
    """The ranges, their anchors, and for each whether it continues the one before it from
    the previous day (touching at midnight, or where a night shift ends): a meeting may run
    on from one into the other. A day's range that starts while the night before still runs
    (a date override under Sunday's night shift) starts when that shift ends."""
    zone = rules.zone
    ranges: list[Interval] = []
    anchors: list[datetime] = []
    joins: list[bool] = []
    previous_day: date | None = None
    for day in days:
        for local in rules.ranges_on(day):
            start = local_instant(day, local.start, zone)
            end = local_instant(day, local.end, zone)
            # Equal when the whole range lies in a spring-forward gap: it has no instants.
            if start >= end:
                continue
            anchor = _anchor(rules, Interval(start, end), day, local.start)
            if ranges and start < ranges[-1].end:
                start = ranges[-1].end
                if start >= end:
                    continue
            joins.append(bool(ranges) and ranges[-1].end == start and previous_day != day)
            ranges.append(Interval(start, end))
            anchors.append(anchor)
            previous_day = day
    return ranges, anchors, joins


def _joined(ranges: Sequence[Interval], joins: Sequence[bool]) -> list[Interval]:
    """Ranges with every continuation across a day joined to the one it continues."""
    joined: list[Interval] = []
    for interval, join in zip(ranges, joins, strict=True):
        if join:
            joined[-1] = Interval(joined[-1].start, interval.end)
        else:
            joined.append(interval)
    return joined


def _anchor(rules: AvailabilityRules, home: Interval, day: date, minute: int) -> datetime:
    policy = rules.start_times
    if policy == "range_start" or minute % 60 == 0:
        return home.start
    hour = local_instant(day, minute - minute % 60, rules.zone)
    if policy == "on_the_clock":
        return hour
    # on_the_clock_if_no_loss: the tidy grid unless it fits fewer meetings into the range.
    step, duration = rules.slot_interval, rules.duration
    if _fitting(hour, home, step, duration) >= _fitting(home.start, home, step, duration):
        return hour
    return home.start


def _fitting(anchor: datetime, home: Interval, step: timedelta, duration: timedelta) -> int:
    """How many starts anchor + k * step, within `home`, fit a whole meeting into it."""
    first = anchor - ((anchor - home.start) // step) * step
    if first + duration > home.end:
        return 0
    return (home.end - duration - first) // step + 1


def blocked_time(
    busy: Sequence[Interval], booked: Sequence[Booked], *, near: Interval
) -> list[Interval]:
    """Busy time and bookings with their own buffers, sorted and merged, keeping only what
    overlaps `near`: filtering before the sort keeps a one-day check cheap against a year of
    busy events."""
    reaching = [interval for interval in busy if interval.overlaps(near)]
    for booking in booked:
        kept = booking.blocked
        if kept.overlaps(near):
            reaching.append(kept)
    return normalise(reaching)


def slot_starts(
    ranges: Sequence[Interval],
    free: Sequence[Interval],
    *,
    duration: timedelta,
    step: timedelta,
    earliest: datetime,
    latest: datetime,
    anchors: Sequence[datetime] | None = None,
) -> list[Interval]:
    """Slots of `duration` starting every `step` from the start of their working range, lying
    wholly inside one free piece, with ``earliest <= start < latest``.

    `free` is `ranges` less keep-out, so every piece lies in exactly one range; both are sorted
    and walked together. With a 09:00-12:00 range, 30-minute slots every 45 minutes and the
    free piece [09:50, 12:00): 09:50 rounds up to 10:30 (09:00 + 2 x 45), then 11:15; 12:00
    would end at 12:30, past the piece.
    """
    slots: list[Interval] = []
    owner = 0
    for piece in free:
        while ranges[owner].end <= piece.start:
            owner += 1
        # A piece lies in one range, or in ranges joined across midnight: a start belongs to
        # the range it lies in, and its meeting may run on to the end of the piece.
        index = owner
        while index < len(ranges) and ranges[index].start < piece.end:
            home = ranges[index]
            anchor = home.start if anchors is None else anchors[index]
            first = max(piece.start, home.start, earliest)
            # Round up to the next whole step after the anchor: -(a // b) is ceil(-a / b).
            start = anchor - ((anchor - first) // step) * step
            stop = min(home.end, latest)
            while start < stop and start + duration <= piece.end:
                slots.append(Interval(start, start + duration))
                start += step
            index += 1
    return slots


def _starting_on(
    slots: Sequence[Interval], days: Sequence[date], zone: tzinfo
) -> list[Interval]:
    """The slots whose start lies on one of `days` (ascending), in one sweep."""
    allowed: list[Interval] = []
    for day in days:
        start, end = local_instant(day, 0, zone), local_instant(day + _ONE_DAY, 0, zone)
        if start == end:  # Pacific/Apia's 2011-12-30 has no instants
            continue
        if allowed and allowed[-1].end == start:
            allowed[-1] = Interval(allowed[-1].start, end)
        else:
            allowed.append(Interval(start, end))
    kept: list[Interval] = []
    index = 0
    for slot in slots:
        while index < len(allowed) and allowed[index].end <= slot.start:
            index += 1
        if index < len(allowed) and allowed[index].start <= slot.start:
            kept.append(slot)
    return kept


def compute_slots(
    rules: AvailabilityRules,
    *,
    span: Interval,
    busy: Sequence[Interval],
    booked: Sequence[Booked],
    now: datetime,
    owner_daily_cap: int | None = None,
) -> list[Interval]:
    """The bookable slots whose start lies in `span`, sorted; see the module docstring.

    `busy` is the owner's external busy time (any order, may overlap); `booked` the confirmed
    bookings, with their own buffers. Both may reach outside the span; what cannot matter is
    dropped before sorting.
    """
    now = _require_aware("now", now)
    days = bookable_days(
        rules, span=span, booked=booked, now=now, owner_daily_cap=owner_daily_cap
    )
    # A night shift of the day before, or a long meeting's end in the days after, reach the
    # asked days: their ranges are built too, and only starts on the asked days are kept.
    reach = sorted({day + timedelta(days=d) for day in days for d in (-1, 0, 1, 2)})
    ranges, anchors, joins = _day_ranges(rules, reach)
    if not ranges:
        return []
    # A blocked interval matters when its keep-out, which reaches buffer_after before it and
    # buffer_before after it, touches a working range.
    near = Interval(ranges[0].start - rules.buffer_before, ranges[-1].end + rules.buffer_after)
    blocked = blocked_time(busy, booked, near=near)
    # [s - before, s + d + after) misses [b0, b1)  <=>  [s, s + d) misses [b0 - after, b1 + before):
    # widening the blocked time by the slot's buffers, swapped, lets one subtract check every
    # slot. Example: buffers before 10, after 15; blocked [10:00, 11:05) (a booking with its
    # own 5-minute after-buffer) keeps out [09:45, 11:15): a 30-minute slot may run 09:15-09:45,
    # its after-buffer reaching 10:00, or start at 11:15, its before-buffer starting at 11:05.
    keep_out = widen(blocked, before=rules.buffer_after, after=rules.buffer_before)
    free = subtract(_joined(ranges, joins), keep_out)
    found = slot_starts(
        ranges,
        free,
        duration=rules.duration,
        step=rules.slot_interval,
        earliest=max(span.start, now + max(rules.minimum_notice, _TICK)),
        latest=span.end,
        anchors=anchors,
    )
    return _starting_on(found, days, rules.zone)


def slot_is_offered(
    rules: AvailabilityRules,
    start: datetime,
    *,
    busy: Sequence[Interval],
    booked: Sequence[Booked],
    now: datetime,
    owner_daily_cap: int | None = None,
) -> bool:
    """Whether `compute_slots` offers a slot starting exactly at `start`.

    It is `compute_slots` over a span one microsecond long, not a second implementation:
    alignment comes from the working range, not the span, so the answer is the same as in any
    longer list, and only the one owner day is built.
    """
    moment = _require_aware("start", start)
    probe = Interval(moment, moment + _TICK)
    return bool(
        compute_slots(
            rules, span=probe, busy=busy, booked=booked, now=now, owner_daily_cap=owner_daily_cap
        )
    )


def group_by_local_day(slots: Sequence[Interval], zone: tzinfo) -> dict[str, list[datetime]]:
    """Slot starts in the guest's zone, keyed by the guest's ISO date, days in order.

    Across the date line the keys are not the owner's: Monday 09:00 in Los Angeles (16:00Z) is
    Tuesday 06:00 in Pacific/Kiritimati.
    """
    days: dict[str, list[datetime]] = {}
    for slot in slots:
        local = slot.start.astimezone(zone)
        days.setdefault(local.date().isoformat(), []).append(local)
    return days
