"""Sync decisions: what a page of changed Google events means here. Pure: no I/O, no clock.

Gather (an incremental sync page), decide (this module), apply (services/sync.py). Every action
is idempotent where it is applied, because pushes repeat and syncs overlap.

An event is one of ours when its id is `bk<booking id>` (deleted events in an incremental sync
carry only their id, so the id is what we can always read). For one of ours:

    Google says                          booking here        action
    cancelled, on the booking's calendar confirmed           Cancelled (or Followed when the same
                                                             event now lives on another calendar)
    times differ from the booking and    confirmed           Moved
      from what we last wrote
    times equal what we last wrote       confirmed, moved    nothing: our own write is on its way
                                           here meanwhile
    the guest declined                   not yet marked      Declined
    the guest no longer declines         marked declined     Answered (they accepted after
                                                             all, or Google reset the answer
                                                             when the time changed)
    only title or description changed    any                 nothing
    anything                             cancelled / absent  nothing (the echo of our own cancel)
    cancelled, or moved to a time that   confirmed, ended    nothing: the meeting took place
      has passed too                                         (owners clear old events out)

Every event, ours or not, also updates the calendar's busy cache: busy unless cancelled,
transparent, or declined by the calendar's own person (`self`), as free/busy would count it.
A recurring series comes as its master (with `recurrence`) and its changed or cancelled
occurrences (with `recurringEventId`); a changed master is expanded again (`Expand`: Google's
own expansion, exceptions included), and a cleared id takes its occurrences (`<id>_<start>`)
with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking.domain.intervals import Interval
from booking.domain.model import CalendarRef

OUR_EVENT_ID = re.compile(r"bk([0-9a-f]{32})")
# A cache older than three resync ticks, or a push unsynced for a minute, is not trusted.
MAX_AGE = timedelta(minutes=15)
MAX_DIRTY = timedelta(seconds=60)


@dataclass(frozen=True)
class Change:
    """One event as an events.list page reports it."""

    id: str
    cancelled: bool
    span: Interval | None  # None for a deleted event (only its id is guaranteed)
    busy: bool
    booking_id: str | None
    declined_by: frozenset[str] = frozenset()  # attendees' addresses, lower case
    recurring: bool = False  # a series' master: its occurrences are what is busy
    ical_uid: str | None = None


@dataclass(frozen=True)
class StoredBooking:
    """What decisions need of a booking: its state, where its event lives, what we wrote."""

    id: str
    status: str
    span: Interval
    guest_email: str
    calendar: CalendarRef | None
    written: Interval | None = None  # the times of our last successful Google write
    guest_declined: bool = False


@dataclass(frozen=True)
class SetBusy:
    event_id: str
    span: Interval


@dataclass(frozen=True)
class ClearBusy:
    event_id: str


@dataclass(frozen=True)
class Expand:
    series_id: str
    ical_uid: str


@dataclass(frozen=True)
class Moved:
    booking_id: str
    span: Interval


@dataclass(frozen=True)
class Cancelled:
    booking_id: str


@dataclass(frozen=True)
class Declined:
    booking_id: str


@dataclass(frozen=True)
class Answered:
    """The guest who had declined answers otherwise now: the mark is lifted, so a later
    decline (of the new time, say) is told again."""

    booking_id: str


@dataclass(frozen=True)
class Followed:
    booking_id: str
    calendar: CalendarRef


Action = SetBusy | ClearBusy | Expand | Moved | Cancelled | Declined | Answered | Followed


def booking_id_of(event_id: str) -> str | None:
    found = OUR_EVENT_ID.fullmatch(event_id)
    return found.group(1) if found else None


def _moment(value: Mapping[str, Any] | None, zone: ZoneInfo) -> datetime | None:
    """An EventDateTime as an instant; an all-day `date` starts at midnight in the calendar's
    zone, as Google's free/busy counts it."""
    if not value:
        return None
    if value.get("dateTime"):
        parsed = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)
    if value.get("date"):
        return datetime.combine(date.fromisoformat(str(value["date"])), time(), zone) \
            .astimezone(UTC)
    return None


def parse(item: Mapping[str, Any], zone: ZoneInfo) -> Change:
    """A Change from an events.list item of a calendar in `zone`."""
    event_id = str(item["id"])
    cancelled = item.get("status") == "cancelled"
    start, end = _moment(item.get("start"), zone), _moment(item.get("end"), zone)
    span = Interval(start, end) if start and end and start < end else None
    attendees = item.get("attendees") or []
    self_declined = any(a.get("self") and a.get("responseStatus") == "declined"
                        for a in attendees)
    declined = frozenset(str(a.get("email", "")).lower() for a in attendees
                         if a.get("responseStatus") == "declined")
    busy = (not cancelled and span is not None and item.get("transparency") != "transparent"
            and not self_declined)
    return Change(id=event_id, cancelled=cancelled, span=span, busy=busy,
                  booking_id=booking_id_of(event_id), declined_by=declined,
                  recurring=bool(item.get("recurrence")),
                  ical_uid=str(item["iCalUID"]) if item.get("iCalUID") else None)


def decide(calendar: CalendarRef, changes: Sequence[Change],
           bookings: Mapping[str, StoredBooking],
           elsewhere: Mapping[str, CalendarRef], *, now: datetime) -> list[Action]:
    """The actions for one page of changes to `calendar`.

    `bookings` holds the stored bookings named by the changes' event ids; `elsewhere` maps a
    booking id to another calendar of the owner where its event now lives (looked up only for
    events deleted from the booking's own calendar: Google's "move" shows there as a delete).
    """
    actions: list[Action] = []
    for change in changes:
        if change.recurring and not change.cancelled and change.ical_uid:
            actions.append(Expand(change.id, change.ical_uid))
        elif change.busy and change.span is not None:
            actions.append(SetBusy(change.id, change.span))
        else:
            actions.append(ClearBusy(change.id))
        booking = bookings.get(change.booking_id or "")
        if booking is None or booking.status != "confirmed":
            continue
        actions.extend(_for_booking(calendar, change, booking, elsewhere, now))
    return actions


def _for_booking(calendar: CalendarRef, change: Change, booking: StoredBooking,
                 elsewhere: Mapping[str, CalendarRef], now: datetime) -> list[Action]:
    # A meeting that has ended is history: deleting its event (clearing last month out of a
    # calendar) or filing it at another past time cancels nothing and mails nobody. Moved to
    # a time still to come, it is a meeting again (a missed one, rescheduled).
    over = booking.span.end <= now
    if change.cancelled or change.span is None:
        if booking.calendar != calendar or over:
            return []  # gone from a calendar it had left (the other half of a move), or past
        moved_to = elsewhere.get(booking.id)
        return [Followed(booking.id, moved_to)] if moved_to else [Cancelled(booking.id)]
    found: list[Action] = []
    if booking.calendar != calendar:
        found.append(Followed(booking.id, calendar))
    if change.span != booking.span and change.span != booking.written and \
            (not over or change.span.end > now):
        found.append(Moved(booking.id, change.span))
    if over:
        return found
    declines = booking.guest_email.lower() in change.declined_by
    if declines and not booking.guest_declined:
        found.append(Declined(booking.id))
    elif booking.guest_declined and not declines:
        found.append(Answered(booking.id))
    return found


def declined_seats(change: Change, seats: Sequence[StoredBooking]) -> list[Declined]:
    """A group slot's one event: each confirmed seat whose guest declined there, not yet
    marked, is declined for itself (the others keep their seats)."""
    return [Declined(seat.id) for seat in seats
            if seat.status == "confirmed" and not seat.guest_declined
            and seat.guest_email.lower() in change.declined_by]


def clip(span: Interval, window: Interval) -> Interval | None:
    """The part of `span` inside `window`, if any: the cache keeps only what can be offered."""
    start, end = max(span.start, window.start), min(span.end, window.end)
    return Interval(start, end) if start < end else None


def fresh(*, channel_expires_at: datetime | None, synced_at: datetime | None,
          dirty_since: datetime | None, covered: Interval | None, span: Interval,
          now: datetime, max_age: timedelta, max_dirty: timedelta) -> bool:
    """Whether a calendar's busy cache may stand in for free/busy over `span`: its channel is
    alive, a sync finished within `max_age`, no push has waited longer than `max_dirty` for
    its sync, and the cache covers the span."""
    if channel_expires_at is None or channel_expires_at <= now:
        return False
    if synced_at is None or now - synced_at > max_age:
        return False
    if dirty_since is not None and now - dirty_since > max_dirty:
        return False
    return covered is not None and covered.start <= span.start and span.end <= covered.end


def within(intervals: Sequence[Interval], span: Interval) -> list[Interval]:
    """The busy intervals that overlap `span`, as free/busy would return them."""
    return [i for i in intervals if i.start < span.end and span.start < i.end]


def renewal_due(expires_at: datetime | None, now: datetime, ahead: timedelta) -> bool:
    """A channel is renewed once it expires within `ahead` (Google never extends one)."""
    return expires_at is None or expires_at - now <= ahead
