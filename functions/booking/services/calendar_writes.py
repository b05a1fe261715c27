"""Google Calendar writes for bookings, delivered through the outbox (so retried until done).

    create   the event on the owner's default calendar (id from the booking id, Meet, alerts,
             the guest as attendee), then the confirmation emails (whether busy time slipped in
             meanwhile is conflict_check's job, later and off the guest's path)
    update   move the same event (same id, same Meet link) after a reschedule
    delete   remove it after a cancellation

Each step is idempotent: a retried insert meets Google's 409 for our id and reads the event
back; a retried delete meets 410; emails are owed under keys, once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from booking.adapters import firestore_bookings as bookings
from booking.adapters import firestore_owners as owners_store
from booking.adapters import google_calendar
from booking.config import get_settings
from booking.domain.booking_rules import event_id_for
from booking.domain.event_body import event_body, meet_link
from booking.domain.model import Connection, Owner
from booking.errors import PermanentError, ReauthRequired, TransientError
from booking.services import google_access, meetings


def row_id(booking_id: str, action: str, sequence: int) -> str:
    from booking.services.outbox import item_id

    return item_id("google_event", booking_id, action, str(sequence))


def deliver(payload: dict[str, Any], oid: str) -> dict[str, Any]:
    owner = owners_store.get_owner(payload["owner_id"])
    booking = bookings.get(owner.id, payload["booking_id"])
    action = payload["action"]
    if action == "create":
        return _create(owner, booking)
    if action == "update":
        return _update(owner, booking)
    if action == "delete":
        return _delete(owner, booking)
    raise PermanentError("google", f"unknown action {action!r}")


def give_up(payload: dict[str, Any], error: str) -> None:
    """The event could not be made for good: the booking stands, so its emails still go out
    (without a Meet link) and the owner sees the failure."""
    owner = owners_store.get_owner(payload["owner_id"])
    booking = bookings.get(owner.id, payload["booking_id"])
    bookings.update(owner.id, booking["id"], {"google_status": "failed", "google_error": error})
    if payload["action"] == "create" and booking["status"] == "confirmed":
        _owe_confirmation(owner, booking)


def _connection(owner: Owner, booking: dict[str, Any]) -> tuple[Connection, str]:
    ref = booking.get("calendar")
    if not ref:
        raise PermanentError("google", "the owner has no default calendar")
    conn = owners_store.find_connection(owner.id, ref["connection_id"])
    if conn is None:
        raise PermanentError("google", "the default calendar's account was disconnected")
    if not conn.healthy:
        raise TransientError("google", f"{conn.email} needs to be reconnected")
    return conn, str(ref["calendar_id"])


def _guarded(owner: Owner, conn: Connection, action: Any) -> Any:
    try:
        return action()
    except ReauthRequired as exc:
        google_access.reconnect_needed(owner, conn, datetime.now(UTC))
        # Worth retrying: the owner was told and may reconnect before we give up.
        raise TransientError("google", f"{conn.email} needs to be reconnected") from exc


def _details(owner: Owner, booking: dict[str, Any]) -> str:
    guest = booking["guest"]
    lines = [booking.get("description", "").strip(), "",
             f"Booked by {guest['name']} <{guest['email']}> (time zone {guest['time_zone']})."]
    if booking.get("notes"):
        lines += ["", "Notes:", booking["notes"]]
    for question, answer in zip(booking.get("questions", []), booking.get("answers", []),
                                strict=False):
        lines += ["", f"{question}", answer]
    # The owner's own page, never the guest's Cancel or Reschedule link: those are bearer links,
    # and anyone who can see event details on this calendar (assistants, shared calendars,
    # the guest's copy) could use them.
    lines += ["", f"Manage this booking: {get_settings().function_url('owner')}"
                  f"/bookings/{booking['id']}", f"Booking {booking['id']}"]
    return "\n".join(lines).strip()


def _create(owner: Owner, booking: dict[str, Any]) -> dict[str, Any]:
    if booking["status"] != "confirmed":
        return {"skipped": "booking is no longer confirmed"}
    body = event_body(
        event_id=event_id_for(booking["id"]), booking_id=booking["id"], title=booking["title"],
        guest_name=booking["guest"]["name"], guest_email=booking["guest"]["email"],
        start=booking["start"], end=booking["end"], time_zone=owner.time_zone,
        details=_details(owner, booking), meet=bool(booking.get("meet")),
        reminders=booking.get("reminders", []),
        owner_addresses=_owner_addresses(owner), location=booking.get("location_text", ""),
        ical_uid=meetings.meeting_of(owner, booking, with_links=False).uid,
    )
    try:
        conn, calendar_id = _connection(owner, booking)
        event = _guarded(owner, conn, lambda: google_calendar.insert_event(
            conn, calendar_id, body, conference=bool(booking.get("meet"))))
    except TransientError:
        # Google is down or the account needs reconnecting: the event will follow, but the
        # guest learns now that the booking stands (the Meet link is in the calendar event).
        _owe_confirmation(owner, booking)
        raise
    # What we wrote, so the echo of this write (or of a later one still on its way) is known
    # for ours when it comes back through a sync.
    fields = {"event_id": event["id"], "html_link": event.get("htmlLink"),
              "meet_link": meet_link(event), "google_status": "created",
              "written_start": booking["start"], "written_end": booking["end"]}
    bookings.update(owner.id, booking["id"], fields)
    booking.update(fields)
    _owe_confirmation(owner, booking)
    return {"event_id": event["id"]}


def _update(owner: Owner, booking: dict[str, Any]) -> dict[str, Any]:
    if not booking.get("event_id"):
        return _create(owner, booking)
    conn, calendar_id = _connection(owner, booking)
    patch = {"start": {"dateTime": _rfc3339(booking["start"]), "timeZone": owner.time_zone},
             "end": {"dateTime": _rfc3339(booking["end"]), "timeZone": owner.time_zone},
             "description": _details(owner, booking)}
    event = _guarded(owner, conn, lambda: google_calendar.patch_event(
        conn, calendar_id, booking["event_id"], patch))
    bookings.update(owner.id, booking["id"], {"html_link": event.get("htmlLink"),
                                              "google_status": "updated",
                                              "written_start": booking["start"],
                                              "written_end": booking["end"]})
    return {"event_id": event["id"]}


def _delete(owner: Owner, booking: dict[str, Any]) -> dict[str, Any]:
    if not booking.get("event_id"):
        return {"skipped": "no event was made"}
    conn, calendar_id = _connection(owner, booking)
    _guarded(owner, conn, lambda: google_calendar.delete_event(conn, calendar_id,
                                                                booking["event_id"]))
    bookings.update(owner.id, booking["id"], {"google_status": "deleted"})
    return {"deleted": booking["event_id"]}


def _owner_addresses(owner: Owner) -> set[str]:
    return {owner.email, *(c.email for c in owners_store.list_connections(owner.id))}


def _owe_confirmation(owner: Owner, booking: dict[str, Any]) -> None:
    from booking.services.notifications import confirmation_emails

    now = datetime.now(UTC)
    emails = confirmation_emails(meetings.meeting_of(owner, booking), stamp=now)
    meetings.owe_emails(owner, emails, f"{booking['id']}:confirmation", now)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
