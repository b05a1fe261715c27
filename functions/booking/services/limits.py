"""Booking limits, checked inside the atomic claim (book and reschedule share it).

Availability hides a full day before a guest picks it; this is the check that cannot be raced:
it runs on the ledger documents the claim read, and the claim commits only if none of them
changed. The days' documents hold every booking of those days (the owner's daily cap, and the
event type's daily limits); the event type's month documents hold its bookings for weekly and
monthly limits, and are read under the condition only when such limits are set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking.adapters.firestore_bookings import Ledger, tally_key
from booking.domain import seats as seat_rules
from booking.domain.availability import Booked, Limits, limit_periods, owner_day
from booking.domain.booking_rules import TAKEN, clashes, ledger_days
from booking.domain.model import Owner
from booking.domain.problems import Problem
from booking.domain.rules import AvailabilityRules
from booking.errors import Conflict

DAY_FULL = Problem("booking.day_full", "That day is fully booked. Please pick another day.")


@dataclass(frozen=True)
class Documents:
    """The ledger documents a booking starting on `day` is written to and checked against."""

    day: date  # the day its limits count it on
    days: tuple[str, ...]  # its owner day and both neighbours, then its month document
    watch: tuple[str, ...]  # other month documents its weekly limit must read
    unconditional: bool  # no weekly or monthly limit: its month document is only written


def documents(slug: str, rules: AvailabilityRules, start: datetime,
              owner_zone: ZoneInfo) -> Documents:
    """Days are the owner's, in the owner's zone, for every event type: two bookings of types
    kept in different zones must still meet in one ledger document. Limits count in the event
    type's own zone (`rules.zone`), and the month documents are the event type's own."""
    day = owner_day(start, rules.zone)
    own = tally_key(slug, day)
    periods = dict(limit_periods(day, rules.week_start))
    needed: set[str] = set()
    if any(rules.limits("month")):
        needed.add(own)
    if any(rules.limits("week")):
        first = periods["week"]
        needed |= {tally_key(slug, first), tally_key(slug, first + timedelta(days=6))}
    return Documents(day, (*ledger_days(start, owner_zone), own),
                     tuple(sorted(needed - {own})), not needed)


def claim_arguments(docs: Documents) -> dict[str, tuple[str, ...]]:
    """How `firestore_bookings.claim` reads and writes them."""
    if docs.unconditional:
        return {"days": docs.days[:-1], "also": docs.days[-1:], "watch": ()}
    return {"days": docs.days, "also": (), "watch": docs.watch}


def refuse_if_full(ledger: Ledger, day: date, slug: str, rules: AvailabilityRules,
                   owner: Owner, exclude: str | None = None) -> None:
    """The event type's own limits count its own bookings only; the owner's daily cap counts
    every booking of the day. `exclude` is a booking being moved."""
    counted = Limits(rules, ledger.counted(slug, exclude), owner.max_bookings_per_day)
    if counted.reached_on(day):
        raise Conflict(DAY_FULL)


def settle(ledger: Ledger, new: Booked, day: date, slug: str, rules: AvailabilityRules,
           owner: Owner, seats: int, *, exclude: str | None = None,
           taken: str = TAKEN) -> str | None:
    """Inside the claim, for a booking (or a booking being moved, `exclude`) at `new`: refuses
    a clash or a limit, and with `seats` above one finds the group slot it joins. A seat
    joining a group clashes with nothing of its group and adds no booking to any limit (the
    group counts once); a full group refuses it. Returns the id of the group joined, None for
    a booking of its own (a new group slot when it has seats)."""
    if seats > 1:
        where = seat_rules.place(new.interval, seats, ledger.counted(slug, exclude))
        if where.full:
            raise Conflict(seat_rules.FULL)
        if where.group is not None:
            if clashes(new, seat_rules.without(ledger.booked(exclude), where.group.id)):
                raise Conflict(taken)
            return where.group.id
    if clashes(new, ledger.booked(exclude)):
        raise Conflict(taken)
    refuse_if_full(ledger, day, slug, rules, owner, exclude)
    return None
