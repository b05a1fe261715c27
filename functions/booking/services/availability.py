"""The free slots a guest sees: rules from the event type, busy time from bookings and every
conflict calendar, computed by the pure core and grouped by the guest's local day."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking import fanout
from booking.adapters import firestore_event_types as event_types_store
from booking.adapters import firestore_owners as owners_store
from booking.domain import ids
from booking.domain import seats as seat_rules
from booking.domain.availability import (
    Booked,
    bookable_dates,
    compute_slots,
    group_by_local_day,
    local_instant,
)
from booking.domain.booking_rules import MAX_YEAR, MIN_YEAR, REQUIRED
from booking.domain.intervals import Interval
from booking.domain.problems import Problem
from booking.errors import DocumentMissing, InvalidInput, NotFound
from booking.services import busy as busy_time
from booking.services import event_types

MAX_RANGE_DAYS = 62


@dataclass(frozen=True)
class Query:
    owner_id: str
    slug: str
    start: date
    end: date  # inclusive, in the guest's zone
    zone: ZoneInfo


def parse_query(params: dict[str, str]) -> Query:
    """Validates the public query; InvalidInput names every bad field."""
    problems: dict[str, Problem] = {}
    owner_id = params.get("owner", "").strip()
    slug = params.get("event_type", "").strip()
    for field, kind, value in (("owner", "owner", owner_id), ("event_type", "event_type", slug)):
        if not value:
            problems[field] = REQUIRED
        elif not ids.valid(kind, value):
            problems[field] = ids.problem(kind)
    start = _date(params.get("start", ""), "start", problems)
    end = _date(params.get("end", ""), "end", problems)
    zone_name = params.get("time_zone", "").strip()
    zone: ZoneInfo | None = None
    try:
        zone = ZoneInfo(zone_name) if zone_name else None
    except (ZoneInfoNotFoundError, ValueError, OSError):
        zone = None
    if zone is None:
        problems["time_zone"] = Problem("guest.time_zone",
                                         "must be an IANA time zone such as %(example)s",
                                         example="America/New_York")
    if start and end:
        if end < start:
            problems["end"] = Problem("availability.end_before_start",
                                      "must not be before start")
        elif (end - start).days + 1 > MAX_RANGE_DAYS:
            problems["end"] = Problem("availability.too_long",
                                      "the range may span at most %(n)s days", n=MAX_RANGE_DAYS)
    if problems:
        raise InvalidInput(problems)
    assert start and end and zone
    return Query(owner_id, slug, start, end, zone)


def _date(value: str, field: str, problems: dict[str, Problem]) -> date | None:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        problems[field] = Problem("availability.date", "must be a date such as %(example)s",
                                  example="2026-12-01")
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        problems[field] = Problem("instant.years", "must be between the years %(low)s and "
                                                  "%(high)s", low=MIN_YEAR, high=MAX_YEAR)
        return None
    return day


def span_of(query: Query) -> Interval:
    """The guest's days as one UTC span: their first midnight to the midnight after the last."""
    first = datetime.combine(query.start, datetime.min.time(), query.zone)
    after = datetime.combine(query.end + timedelta(days=1), datetime.min.time(), query.zone)
    return Interval(first.astimezone(UTC), after.astimezone(UTC))


def slots(query: Query, now: datetime, busy_source: busy_time.BusySource | None = None,
          gate: Callable[..., None] | None = None) -> dict[str, Any]:
    """`gate(owner=...)`, the abuse-limit count, runs beside every read (fanout.gated) and is
    given the owner from the request's own first read (owner and event type in one batch,
    made once for both): Google is asked only once it passed, at once for every account whose
    cache is not fresh."""
    first = fanout.once(functools.partial(event_types_store.get_with_owner, query.owner_id,
                                          query.slug))
    count = functools.partial(gate, owner=lambda: first()[0]) if gate else None
    guest, found, prepared = fanout.gated(
        count, functools.partial(_read, query, now, busy_source, first))
    owner, event_type = guest.owner, guest.event_type
    left: dict[datetime, int] = {}
    if prepared is not None:
        source, span, window, booked = prepared
        found, left = seat_rules.slots_with_seats(
            event_type.rules, event_type.seats, span=span, busy=source.busy(owner, window, now),
            booked=booked, now=now, owner_daily_cap=owner.max_bookings_per_day)
    days = group_by_local_day(found, query.zone)
    seats: dict[str, Any] = {}
    if event_type.seats > 1:
        # Seats left at each start (the keys are the starts as `days` lists them).
        seats = {"seats": event_type.seats,
                 "seats_left": {moment.isoformat(): left.get(moment, event_type.seats)
                                for moments in days.values() for moment in moments}}
    return {
        "owner": owner.id,
        "event_type": event_type.slug,
        "title": event_type.title,
        "duration_minutes": event_type.rules.duration_minutes,
        "owner_time_zone": owner.time_zone,
        "time_zone": query.zone.key,
        "days": {day: [moment.isoformat() for moment in moments]
                 for day, moments in days.items()},
        **seats,
    }


def _read(query: Query, now: datetime, busy_source: busy_time.BusySource | None,
          first: Callable[[], event_types.OwnerAndType] | None = None) -> tuple[
        event_types.ForGuest, list[Interval],
        tuple[busy_time.BusySource, Interval, Interval, list[Booked]] | None]:
    """(owner, event type and connections; the slots the rules alone leave; what the final
    answer still needs, or None when the rules alone leave nothing): Firestore only."""
    try:
        guest = event_types.for_guest(query.owner_id, query.slug, first)
    except NotFound:
        raise NotFound(event_types.NO_OWNER_OR_EVENT_TYPE) from None
    owner, event_type = guest.owner, guest.event_type
    rules = event_type.rules
    span = span_of(query)
    # Nothing past the booking window can be offered, so Google is not asked about it.
    horizon = local_instant(bookable_dates(rules, now)[1] + timedelta(days=2), 0, rules.zone)
    if span.start >= horizon or span.end <= now:
        return guest, [], None
    span = Interval(max(span.start, now - timedelta(days=1)), min(span.end, horizon))
    # The rules alone first, without I/O: when they leave nothing (a closed week, a span past
    # the window), neither Firestore nor Google is asked. Otherwise our bookings and the busy
    # caches are read at once, and Google is asked after (for accounts not cached).
    found = compute_slots(rules, span=span, busy=[], booked=[], now=now,
                          owner_daily_cap=owner.max_bookings_per_day)
    if not found:
        return guest, [], None
    source = busy_source or busy_time.CachedBusy(guest.connections)
    window = busy_time.query_span(span, duration=rules.duration,
                                  before=rules.buffer_before, after=rules.buffer_after)
    reads: list[Callable[[], Any]] = [
        functools.partial(busy_time.booked, owner, window, event_type.slug, now,
                          reach=rules.limit_reach),
        functools.partial(source.read, owner) if isinstance(source, busy_time.CachedBusy)
        else (lambda: None)]
    booked, _ = fanout.run_all(reads)
    return guest, found, (source, span, window, booked)


@dataclass(frozen=True)
class PublicEventType:
    """What a booking page may show of an owner and one of their active event types."""

    owner_id: str
    owner_name: str
    owner_time_zone: str
    slug: str
    title: str
    description: str
    duration_minutes: int
    questions: tuple[str, ...]
    location: str
    embed_origins: tuple[str, ...]
    last_day: date  # the last owner-local day a meeting may start on (the booking window)


def public_event_type(owner_id: str, slug: str, now: datetime) -> PublicEventType:
    try:
        owner = owners_store.get_owner(owner_id)
        event_type = event_types.load(owner, slug)
    except (NotFound, DocumentMissing, InvalidInput):
        raise NotFound(event_types.NO_OWNER_OR_EVENT_TYPE) from None
    if not event_type.active:
        raise NotFound(event_types.PAUSED)
    return PublicEventType(owner.id, owner.name, owner.time_zone, event_type.slug,
                           event_type.title, event_type.description,
                           event_type.rules.duration_minutes, event_type.questions,
                           event_type.location, tuple(owner.allowed_origins),
                           bookable_dates(event_type.rules, now)[1])


@dataclass(frozen=True)
class Month:
    """The free starts of one month as the guest's local days ({"2026-12-04": [09:00, ...]})
    and, for an event type with seats, the seats left at each start."""

    days: dict[str, list[datetime]]
    seats_left: dict[datetime, int]


def month_slots(owner_id: str, slug: str, month: date, zone: ZoneInfo,
                now: datetime) -> Month:
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    found = slots(Query(owner_id, slug, first, last, zone), now)
    return Month({day: [datetime.fromisoformat(s) for s in starts]
                  for day, starts in found["days"].items()},
                 {datetime.fromisoformat(s): n
                  for s, n in found.get("seats_left", {}).items()})
