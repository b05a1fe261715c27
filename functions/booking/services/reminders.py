"""Reminder emails before meetings, owed by the scheduled resync when due.

A reminder is owed at each of the booking's reminder offsets (its event type's alerts: by
default 24 hours and 1 hour before). Each booking carries `next_reminder_at`, the moment its
next reminder is due (set when it is booked or moved, removed when it is cancelled or has no
reminder left), so resync finds the due ones with one indexed query instead of scanning every
booking. Each due reminder is an outbox row like every other email: keyed by the booking's
sequence and the offset (once each), owed for that sequence (dropped if the booking moved or
was cancelled before it went out), and counted only when it was sent. A reminder whose moment
had passed before the booking was made or moved is not owed (a booking made 30 minutes ahead
gets no "in 1 hour" mail).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from booking import log
from booking.adapters import firestore_bookings as bookings
from booking.adapters import firestore_outbox
from booking.adapters import firestore_owners as owners_store
from booking.errors import DocumentMissing
from booking.services import meetings, outbox

DEFAULT_OFFSETS = (1440, 60)


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


def next_at(booking: dict[str, Any], after: datetime | None = None) -> datetime | None:
    """When the booking's next reminder is due: the earliest offset moment not before the
    booking took its time (and later than `after`); None when no reminder is left."""
    start = booking["start"]
    since = booking.get("rescheduled_at") or booking["created_at"]
    moments = [start - timedelta(minutes=m) for m in offsets(booking)]
    left = [t for t in moments if t >= since and (after is None or t > after) and t < start]
    return min(left) if left else None


def send_due(now: datetime) -> int:
    """Owes every reminder due now; returns how many were sent by this run."""
    from booking.services.notifications import reminder_email

    sent = 0
    owners: dict[str, Any] = {}
    for booking, read_at in bookings.due_for_reminders(now):
        owner_id = booking["owner_id"]
        minutes = due(booking, now) if booking.get("status") == "confirmed" else None
        if minutes is not None:
            try:
                owner = owners.get(owner_id) or owners_store.get_owner(owner_id)
            except DocumentMissing:
                log.warning("booking of a deleted owner", booking=booking["id"])
                bookings.set_next_reminder(owner_id, booking["id"], None, read_at)
                continue
            owners[owner_id] = owner
            email = reminder_email(meetings.meeting_of(owner, booking), minutes_before=minutes,
                                   stamp=now)
            sequence = int(booking.get("sequence", 0))
            oid, row = outbox.email_row(
                f"{booking['id']}:reminder:{sequence}:{minutes}:guest", owner_id, email, now,
                owed_for=outbox.OwedFor(owner_id, booking["id"], sequence))
            if firestore_outbox.add(oid, row) and outbox.deliver(oid, now) == "sent":
                sent += 1
        later = next_at(booking, after=now) if booking.get("status") == "confirmed" else None
        bookings.set_next_reminder(owner_id, booking["id"], later, read_at)
    return sent
