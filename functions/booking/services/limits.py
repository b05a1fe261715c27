"""Booking limits, checked inside the atomic claim (book and reschedule share it).

Availability hides a full day before a guest picks it; this is the check that cannot be raced:
it runs on the ledger the claim read, and the claim commits only if that ledger is unchanged.
"""

from __future__ import annotations

from booking.adapters.firestore_bookings import Ledger
from booking.domain.model import Owner
from booking.domain.rules import AvailabilityRules
from booking.errors import Conflict

DAY_FULL = "That day is fully booked. Please pick another day."


def refuse_if_full(ledger: Ledger, day: str, slug: str, rules: AvailabilityRules, owner: Owner,
                   exclude: str | None = None) -> None:
    """The event type's own daily limit counts its own bookings only; the owner's daily cap
    counts every booking of the day. `exclude` is a booking being moved."""
    limit = rules.max_bookings_per_day
    if limit is not None and ledger.count_on(day, event_type=slug, exclude=exclude) >= limit:
        raise Conflict(DAY_FULL)
    cap = owner.max_bookings_per_day
    if cap is not None and ledger.count_on(day, exclude=exclude) >= cap:
        raise Conflict(DAY_FULL)
