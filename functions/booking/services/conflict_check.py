"""After a booking's event is made: did busy time slip in between our live check and our
insert? Peers ignore this race; we look once more and tell the owner, never the guest.

It runs from the outbox (kind "conflict_check", written with the booking), not on the guest's
path: the guest's request costs two Google round trips (free/busy, insert) and the scheduled
resync makes this check. The calendars are listed at once, one round trip in all.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from booking import fanout, log
from booking.adapters import firestore_bookings as bookings
from booking.adapters import firestore_owners as owners_store
from booking.adapters import google_calendar
from booking.deadline import Deadline
from booking.domain.model import Connection
from booking.errors import PermanentError, TransientError
from booking.services import meetings
from booking.services.stored import translating

KIND = "conflict_check"
# Due this long after the booking, so a drain delivers the event row first, even when the
# inline insert failed and that row waits for its first retry (outbox.backoff(1): 1 minute).
AFTER = timedelta(minutes=2)


def row_id(booking_id: str) -> str:
    from booking.services.outbox import item_id

    return item_id(KIND, booking_id)


def row(owner_id: str, booking_id: str, now: datetime) -> tuple[str, dict[str, Any]]:
    """(id, row) of the check, written with the booking and due AFTER it."""
    from booking.adapters import firestore_outbox

    check = firestore_outbox.new_row(KIND, owner_id, {"owner_id": owner_id,
                                                      "booking_id": booking_id}, now)
    check["due_at"] = now + AFTER
    return row_id(booking_id), check


@translating
def deliver(payload: dict[str, Any], oid: str, deadline: Deadline) -> dict[str, Any]:
    owner = owners_store.get_owner(payload["owner_id"])
    booking = bookings.get(owner.id, payload["booking_id"])
    if booking["status"] != "confirmed":
        return {"skipped": "booking is no longer confirmed"}
    if not booking.get("event_id"):
        if booking.get("google_status") == "failed":
            return {"skipped": "no event was made"}
        # Our insert has not happened yet (Google was down): look after it has.
        raise TransientError("google", "the booking's event is not made yet")
    calendars = [(conn, calendar_id) for conn in owners_store.list_connections(owner.id)
                 if conn.healthy for calendar_id in conn.conflict_calendar_ids]
    listed = fanout.run_all([functools.partial(_overlapping, conn, calendar_id, booking,
                                               deadline)
                             for conn, calendar_id in calendars])
    found = [f"{ev.get('summary') or 'Busy'} ({calendar_id})"
             for (_, calendar_id), events in zip(calendars, listed, strict=True)
             for ev in events if _blocks(ev, booking["event_id"])]
    if found:
        from booking.services.notifications import conflict_email

        email = conflict_email(meetings.meeting_of(owner, booking, with_links=False),
                               conflicts=found)
        meetings.owe_emails(owner, booking, [("owner", email)], f"{booking['id']}:conflict",
                            datetime.now(UTC), deadline=deadline)
    return {"conflicts": len(found)}


def _overlapping(conn: Connection, calendar_id: str, booking: dict[str, Any],
                 deadline: Deadline) -> list[dict[str, Any]]:
    """Events overlapping the booking; a calendar Google no longer shows us has none. A
    transient failure raises, so the outbox tries the whole check again later."""
    try:
        return google_calendar.events_between(conn, calendar_id, booking["start"],
                                               booking["end"], deadline=deadline)
    except PermanentError as exc:
        log.warning("conflict re-check skipped a calendar", connection=conn.id,
                    error=str(exc))
        return []


def _blocks(event: dict[str, Any], our_event_id: str) -> bool:
    declined = any(a.get("self") and a.get("responseStatus") == "declined"
                   for a in event.get("attendees", []))
    return not (event.get("id") == our_event_id or event.get("status") == "cancelled"
                or event.get("transparency") == "transparent" or declined)
