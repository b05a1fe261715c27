"""Pending holds ("confirm by email") and the cap on a guest's open bookings: pure decisions.

An event type may ask guests to confirm by email. Its booking request then claims the slot as a
*hold*: a pending booking whose ledger entry carries `hold_until`. Until then it blocks the slot
and counts toward every limit like a confirmed booking; from then on it is simply not there.
Nothing has to run for a hold to lapse: every reader (availability, the claim, a change) asks
`live(entry, now)`, and writers drop lapsed entries as they pass.

    >>> from datetime import datetime, timedelta, UTC
    >>> now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    >>> live({"hold_until": now + timedelta(minutes=1)}, now), live({"hold_until": now}, now)
    (True, False)

A guest's open bookings with one owner (upcoming, confirmed or held) are kept in one document
per owner and guest email, read and written inside the same conditional commit as the slot's
ledger, so simultaneous requests cannot pass the cap by their number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

# The link's purpose, inside its MAC: a confirm link never passes as a cancel link or a session.
CONFIRM_PURPOSE = "confirm_booking"
DEFAULT_HOLD_MINUTES = 10
HOLD_MINUTES_BOUNDS = (2, 60)
# How long a lapsed hold's booking is kept (for its link's page) before Firestore's TTL
# deletes it; a confirmed booking loses the TTL field.
KEEP_LAPSED = timedelta(days=1)


def hold_until(now: datetime, minutes: int) -> datetime:
    return now + timedelta(minutes=minutes)


def live(entry: Mapping[str, Any], now: datetime) -> bool:
    """Whether a ledger or guest entry still holds its time: a confirmed one always, a hold
    until its `hold_until` (exclusive)."""
    until = entry.get("hold_until")
    return until is None or now < until


def guest_key(email: str) -> str:
    """The document id of a guest's open bookings with one owner: an email never names a
    document, and any address makes a valid id (emails compare case-insensitively here)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]


def guest_entry(booking: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a booking leaves in its guest's document: its start and hold, while it is open."""
    if booking.get("status") not in ("confirmed", "pending"):
        return None
    return {"start": booking["start"], "hold_until": booking.get("hold_until")}


def open_count(entries: Mapping[str, Mapping[str, Any]], now: datetime) -> int:
    """Upcoming bookings (held or confirmed) among a guest's entries: passed ones and lapsed
    holds no longer count, so nothing has to decrement them."""
    return sum(1 for e in entries.values() if e["start"] > now and live(e, now))


def stale(entries: Mapping[str, Mapping[str, Any]], now: datetime) -> list[str]:
    """Entries a writer may drop as it passes: started, or a hold that lapsed."""
    return sorted(bid for bid, e in entries.items() if e["start"] <= now or not live(e, now))


def confirm_verdict(booking: Mapping[str, Any] | None, now: datetime) -> str:
    """What a confirm link's POST does to the booking it names:
    `confirm` a live hold; `confirmed` already (a double click, a retry: answered the same);
    `expired` a hold that lapsed, or a booking no longer there (a lapsed hold may be deleted);
    `cancelled` one that was confirmed and then cancelled."""
    if booking is None:
        return "expired"
    status = booking.get("status")
    if status == "confirmed":
        return "confirmed"
    if status == "pending":
        return "confirm" if live(booking, now) else "expired"
    return "cancelled"


def parse_hold_minutes(value: Any) -> int | None:
    """An event type's `confirm_by_email.hold_minutes`; None when it is not a whole number in
    bounds."""
    low, high = HOLD_MINUTES_BOUNDS
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value
