"""Group events: several guests book seats of one slot.

A group slot is the seats of one event type that share a start; each seat is a booking of its
own (its guest, emails, links, version), and every seat carries the group's id. Together the
seats keep their time from every other event type like one booking, count as ONE booking (of
the meeting's length) for every limit, as peers count them, and share one Google event with
every guest as an attendee. The slot is offered while a seat is free:

    seats 3, two taken   -> offered, 1 seat left
    seats 3, three taken -> not offered; a fourth guest racing for it is told it is full
    the last seat goes   -> the group and its Google event are gone; the time is free again

An event type with one seat (the default) never makes groups: its bookings are as before.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from booking.domain.availability import Booked, compute_slots, slot_is_offered
from booking.domain.intervals import Interval, normalise, subtract
from booking.domain.problems import Problem
from booking.domain.rules import AvailabilityRules

MAX_SEATS = 100
FULL = Problem("booking.seats_full",
               "That time is full: every seat is taken. Please pick another time.")


@dataclass(frozen=True)
class Group:
    """One group slot of this event type: its id, its time and how many seats are taken."""

    id: str
    interval: Interval
    taken: int


def groups(booked: Sequence[Booked]) -> list[Group]:
    """The group slots among `booked` that are this event type's (seats counting toward its
    limits), with their seats taken, by start."""
    found: dict[str, Group] = {}
    for seat in booked:
        if seat.group is None or not seat.counts_toward_limit:
            continue
        known = found.get(seat.group)
        found[seat.group] = Group(seat.group, seat.interval, 1 if known is None
                                  else known.taken + 1)
    return sorted(found.values(), key=lambda g: (g.interval.start, g.id))


def without(booked: Sequence[Booked], group_id: str) -> list[Booked]:
    """`booked` less the seats of one group (a seat joining it must not clash with them)."""
    return [b for b in booked if b.group != group_id]


@dataclass(frozen=True)
class Placement:
    """Where a new seat at one time goes: into `group` (unless it is `full`), or into a new
    group slot when `group` is None."""

    group: Group | None
    full: bool = False


def place(interval: Interval, seats: int, booked: Sequence[Booked]) -> Placement:
    """A seat at exactly `interval` joins this event type's group slot there, if there is one
    (same start and end); a full one refuses it. Elsewhere it starts a new group slot."""
    for group in groups(booked):
        if group.interval == interval:
            return Placement(group, group.taken >= seats)
    return Placement(None)


def open_seats(rules: AvailabilityRules, seats: int, *, span: Interval,
               busy: Sequence[Interval], booked: Sequence[Booked], now: datetime,
               owner_daily_cap: int | None = None) -> list[tuple[Interval, int]]:
    """The group slots starting in `span` a guest may still join, with the seats left.

    A group slot is joinable when a seat is free, it is as long as the event type's meetings
    are now, and its start would be offered were the group not there: the rules, notice,
    window, busy time and every other booking apply as to any slot, and its own seats are left
    out of the limits because joining adds no booking to them. Its own Google event is taken
    out of `busy` (as a reschedule does for a booking's own event).
    """
    found: list[tuple[Interval, int]] = []
    for group in groups(booked):
        start = group.interval.start
        if not span.start <= start < span.end or group.taken >= seats \
                or group.interval.duration != rules.duration:
            continue
        if slot_is_offered(rules, start, busy=subtract(normalise(busy), [group.interval]),
                           booked=without(booked, group.id), now=now,
                           owner_daily_cap=owner_daily_cap):
            found.append((group.interval, seats - group.taken))
    return found


def slots_with_seats(rules: AvailabilityRules, seats: int, *, span: Interval,
                     busy: Sequence[Interval], booked: Sequence[Booked], now: datetime,
                     owner_daily_cap: int | None = None
                     ) -> tuple[list[Interval], dict[datetime, int]]:
    """The slots a guest is offered, sorted, and for an event type with seats how many are
    left at each start: every seat of a free slot, fewer in a group slot with guests."""
    found = compute_slots(rules, span=span, busy=busy, booked=booked, now=now,
                          owner_daily_cap=owner_daily_cap)
    if seats <= 1:
        return found, {}
    left = {slot.start: seats for slot in found}
    for interval, free in open_seats(rules, seats, span=span, busy=busy, booked=booked,
                                     now=now, owner_daily_cap=owner_daily_cap):
        left[interval.start] = free
        found.append(interval)
    return sorted(found, key=lambda slot: slot.start), left


@dataclass(frozen=True)
class Guest:
    email: str
    name: str


def attendees(guests: Sequence[Guest], owner_addresses: Collection[str]) -> list[Guest]:
    """Who the group's one Google event invites: every seat's guest once (a guest with two
    seats is one attendee), never the owner's own addresses, in booking order. Empty means no
    seat is left, or only the owner booked one (the event stays while any seat does)."""
    owners = {a.lower() for a in owner_addresses}
    seen: set[str] = set()
    found: list[Guest] = []
    for guest in guests:
        key = guest.email.lower()
        if key in owners or key in seen:
            continue
        seen.add(key)
        found.append(guest)
    return found


def same_attendees(event: Sequence[dict[str, object]], wanted: Sequence[Guest]) -> bool:
    """Whether an event's attendees are exactly the wanted guests (addresses, any case)."""
    return {str(a.get("email", "")).lower() for a in event} == \
        {g.email.lower() for g in wanted}
