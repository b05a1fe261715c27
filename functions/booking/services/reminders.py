"""Reminder emails before meetings, sent by the scheduled resync when due.

A reminder is owed at each of the booking's reminder offsets (its event type's alerts: by
default 24 hours and 1 hour before). Its outbox key carries the booking's sequence, so a
reschedule re-times every reminder and a cancelled booking is never reminded; a reminder whose
moment had passed before the booking was made or moved is skipped (a booking made 30 minutes
ahead gets no "in 1 hour" mail).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from booking import log
from booking.adapters import firestore_bookings as bookings
from booking.adapters import firestore_owners as owners_store
from booking.errors import NotFound
from booking.services import meetings

DEFAULT_OFFSETS = (1440, 60)
LOOKAHEAD = timedelta(days=28)  # Google's longest alert; no reminder is owed earlier


def offsets(booking: dict[str, Any]) -> list[int]:
    found = sorted({int(r["minutes"]) for r in booking.get("reminders", [])
                    if int(r["minutes"]) > 0}, reverse=True)
    return found or list(DEFAULT_OFFSETS)


def due(booking: dict[str, Any], now: datetime) -> int | None:
    """The offset due now, if any. Offset m owns [start - m, start - next smaller offset): so at
    most one is due at a time, and a resync that was down for a while sends one reminder, not
    "tomorrow" and "in 1 hour" together. An offset whose moment passed before the booking took
    its time is not owed."""
    start = booking["start"]
    since = booking.get("rescheduled_at") or booking["created_at"]
    minutes = offsets(booking)
    for m, nearer in zip(minutes, [*minutes[1:], 0], strict=True):
        begins = start - timedelta(minutes=m)
        if begins <= now < start - timedelta(minutes=nearer) and since <= begins:
            return m
    return None


def send_due(now: datetime) -> int:
    from booking.services.notifications import reminder_email

    sent = 0
    owners: dict[str, Any] = {}
    for booking in bookings.due_for_reminders(now, now + LOOKAHEAD):
        minutes = due(booking, now)
        if minutes is None:
            continue
        owner_id = booking["owner_id"]
        try:
            owner = owners.setdefault(owner_id, owners_store.get_owner(owner_id))
        except NotFound:
            log.warning("booking of a deleted owner", booking=booking["id"])
            continue
        email = reminder_email(meetings.meeting_of(owner, booking), minutes_before=minutes,
                               stamp=now)
        key = f"{booking['id']}:reminder:{booking.get('sequence', 0)}:{minutes}"
        meetings.owe_emails(owner, [("guest", email)], key, now)
        sent += 1
    return sent
