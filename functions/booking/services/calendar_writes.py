"""Google Calendar writes for bookings, delivered through the outbox (so retried until done).

Every write brings the Google event to the booking's state as it is when the write runs,
whatever the row's action says: a booking that is cancelled by then has its event deleted
(by the id derived from the booking, so even an event whose insert is still on its way, or
whose record was lost with a worker, is found); a confirmed one gets its event made if
missing, then moved to the booking's time. So a late, repeated or out-of-order write is
harmless, and a cancel racing the first create never leaves an event behind: the create reads
the booking again after its insert and deletes what it made if the booking was cancelled
meanwhile.

    create   the event (id from the booking id, Meet, alerts, the guest as attendee), then the
             confirmation emails (whether busy time slipped in meanwhile is conflict_check's
             job, later and off the guest's path)
    update   the same event (same id, same Meet link), moved after a reschedule
    delete   the event removed after a cancellation
    meet     a Meet room Google is still making (`pending`): polled until it is ready (then
             both people get the link) or given up on

A seat of a group event (domain.seats) owes a write of its GROUP's one event instead, whatever
its action: the row names the group, and its delivery brings that event to the group's seats as
they are then (made if missing, every confirmed seat's guest an attendee, at the seats' time;
deleted once no seat is left). It reads the seats again after its write and writes again if
they changed meanwhile, so two seats' rows delivered at once still leave every guest on it.

When the confirmation had to go without the Meet link (Google down at booking time, or the
room still pending), both people get one follow-up with the link and the updated invitation.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from booking.adapters import firestore_bookings as bookings
from booking.adapters import firestore_outbox, google_calendar
from booking.adapters import firestore_owners as owners_store
from booking.config import get_settings
from booking.deadline import Deadline
from booking.domain import seats as seat_rules
from booking.domain.booking_rules import event_id_for
from booking.domain.event_body import event_body, meet_link
from booking.domain.model import Connection, Owner
from booking.errors import AwaitingReconnect, PermanentError, ReauthRequired, TransientError
from booking.services import google_access, meetings
from booking.services.stored import translating

MEET_POLL_DELAY = timedelta(seconds=10)
GROUP_ROUNDS = 5


def row_id(booking_id: str, action: str, sequence: int, group: str | None = None) -> str:
    from booking.services.outbox import item_id

    return item_id("google_event", booking_id, action, str(sequence), *([group] if group else []))


def row(owner_id: str, booking_id: str, action: str, sequence: int,
        now: datetime, *, group: str | None = None) -> tuple[str, dict[str, Any]]:
    """(id, row) of a Google write owed for the booking's `sequence`, for the same commit as
    the change that owes it; for a seat, the write of its `group`'s event."""
    from booking.services.outbox import OwedFor

    payload = {"owner_id": owner_id, "booking_id": booking_id, "action": action,
               **({"group_id": group} if group else {})}
    return row_id(booking_id, action, sequence, group), firestore_outbox.new_row(
        "google_event", owner_id, payload, now,
        owed_for=OwedFor(owner_id, booking_id, sequence, "google").to_dict())


@translating
def rows_for_new(owner_id: str, booking_id: str, group: str | None,
                 now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """What a booking owes once it is confirmed: its event (its group's, for a seat), then,
    left to resync off the guest's path, the check whether busy time slipped in before our
    insert (not for a seat joining a group: that event was checked when it was made)."""
    from booking.services import conflict_check

    found = [row(owner_id, booking_id, "create", 0, now, group=group)]
    if group in (None, booking_id):
        found.append(conflict_check.row(owner_id, booking_id, now))
    return found


@translating  # a booking gone before its row is delivered is the owner's NotFound
def deliver(payload: dict[str, Any], oid: str, deadline: Deadline) -> dict[str, Any]:
    owner = owners_store.get_owner(payload["owner_id"])
    booking = bookings.get(owner.id, payload["booking_id"])
    return _deliver(payload, deadline, owner, booking, None)[0]


class FirstWrite:
    """The create row's first delivery, by the request that has just made the booking: it
    holds what `deliver` would read (the owner, the booking as committed, the connections),
    and keeps the booking as the write left it (`booking`, with its Meet link) for the guest's
    answer.

    `written`, the time of the commit that made the booking and the row (leased to this
    request), lets the insert be recorded in one commit conditional on it: the event on the
    booking, the row finished and the confirmation emails owed (leased, sent at once). If
    that commit fails, something wrote the booking since (a cancel that raced the insert):
    the booking is read again, as any delivery does."""

    def __init__(self, owner: Owner, booking: dict[str, Any],
                 connections: list[Connection], written: Any = None) -> None:
        self.owner, self.booking, self.connections = owner, booking, connections
        self.written = written

    def __call__(self, payload: dict[str, Any], oid: str, deadline: Deadline) -> dict[str, Any]:
        result, self.booking = _deliver(payload, deadline, self.owner, self.booking,
                                        self.connections,
                                        (oid, self.written) if self.written else None)
        return result


def _deliver(payload: dict[str, Any], deadline: Deadline, owner: Owner, booking: dict[str, Any],
             connections: list[Connection] | None,
             committed: tuple[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the row's result, the booking afterwards)."""
    action = payload["action"]
    if action not in ("create", "update", "delete", "meet"):
        raise PermanentError("google", f"unknown action {action!r}")
    if payload.get("group_id") and action != "meet":
        result = _sync_group(owner, booking, str(payload["group_id"]), deadline)
        return result, bookings.get(owner.id, booking["id"])  # as the group's write left it
    if booking["status"] != "confirmed":
        return _delete(owner, booking, deadline), booking
    if action == "meet":
        return _poll_meet(owner, booking, deadline), booking
    return _sync(owner, booking, deadline, move=action == "update", connections=connections,
                 committed=committed if action == "create" else None)


@translating
def give_up(payload: dict[str, Any], error: str) -> None:
    """The event could not be made for good: the booking stands, so its emails still go out
    (without a Meet link) and the owner sees the failure."""
    owner = owners_store.get_owner(payload["owner_id"])
    booking = bookings.get(owner.id, payload["booking_id"])
    if payload["action"] == "meet":
        bookings.update(owner.id, booking["id"], {"meet_status": "failed"})
        return
    bookings.update(owner.id, booking["id"], {"google_status": "failed", "google_error": error})
    if booking["status"] == "confirmed":
        _owe_confirmation(owner, booking, None)


def _connection(owner: Owner, booking: dict[str, Any],
                connections: list[Connection] | None = None) -> tuple[Connection, str]:
    ref = booking.get("calendar")
    if not ref:
        raise PermanentError("google", "the owner has no default calendar")
    conn = owners_store.find_connection(owner.id, ref["connection_id"]) if connections is None \
        else next((c for c in connections if c.id == ref["connection_id"]), None)
    if conn is None:
        raise PermanentError("google", "the default calendar's account was disconnected")
    if not conn.healthy:
        raise AwaitingReconnect("google", f"{conn.email} needs to be reconnected")
    return conn, str(ref["calendar_id"])


def _guarded(owner: Owner, conn: Connection, action: Any) -> Any:
    try:
        return action()
    except ReauthRequired as exc:
        google_access.reconnect_needed(owner, conn, datetime.now(UTC))
        # Worth retrying: the owner was told and may reconnect before we give up.
        raise AwaitingReconnect("google", f"{conn.email} needs to be reconnected") from exc


def _details(owner: Owner, booking: dict[str, Any]) -> str:
    """The event's description. Google reads it as HTML ("Can contain HTML", Event.description
    in calendar.v3.json) and shows it so, so every piece of text is escaped: a guest's tags must
    not become links in the owner's calendar, and "<ann@example.org>" must not vanish as one."""
    def escape(text: str) -> str:
        return html.escape(text, quote=False)  # quotes mean nothing outside a tag

    guest = booking["guest"]
    lines = [escape(booking.get("description", "").strip()), "",
             escape(f"Booked by {guest['name']} <{guest['email']}> "
                    f"(time zone {guest['time_zone']}).")]
    if booking.get("notes"):
        lines += ["", "Notes:", escape(booking["notes"])]
    for question, answer in zip(booking.get("questions", []), booking.get("answers", []),
                                strict=False):
        lines += ["", escape(f"{question}"), escape(answer)]
    # The owner's own page, never the guest's Cancel or Reschedule link: those are bearer links,
    # and anyone who can see event details on this calendar (assistants, shared calendars,
    # the guest's copy) could use them.
    lines += ["", f"Manage this booking: {get_settings().function_url('owner')}"
                  f"/bookings/{booking['id']}", f"Booking {booking['id']}"]
    return "\n".join(lines).strip()


def _body(owner: Owner, booking: dict[str, Any], connections: list[Connection]) -> dict[str, Any]:
    return event_body(
        event_id=event_id_for(booking["id"]), booking_id=booking["id"], title=booking["title"],
        guest_name=booking["guest"]["name"], guest_email=booking["guest"]["email"],
        start=booking["start"], end=booking["end"], time_zone=owner.time_zone,
        details=_details(owner, booking), meet=bool(booking.get("meet")),
        reminders=booking.get("reminders", []),
        owner_addresses={owner.email, *(c.email for c in connections)},
        location=booking.get("location_text", ""),
        ical_uid=meetings.meeting_of(owner, booking, with_links=False).uid,
    )


def _sync(owner: Owner, booking: dict[str, Any], deadline: Deadline, *, move: bool,
          connections: list[Connection] | None,
          committed: tuple[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """`committed`: (this row's id, the time of the commit that wrote it and the booking), for
    the first write of a new booking (FirstWrite)."""
    first = not booking.get("event_id")
    if not first and not move:
        return {"event_id": booking["event_id"]}, booking  # made already (a repeated create)
    if connections is None:
        connections = owners_store.list_connections(owner.id)
    try:
        conn, calendar_id = _connection(owner, booking, connections)
        event: dict[str, Any] | None = None
        if first:
            event = _guarded(owner, conn, lambda: google_calendar.insert_event(
                conn, calendar_id, _body(owner, booking, connections),
                conference=bool(booking.get("meet")), deadline=deadline))
    except TransientError:
        if first:
            # Google is down or the account needs reconnecting: the event will follow, but the
            # guest learns now that the booking stands (the Meet link follows with it).
            _owe_confirmation(owner, booking, deadline)
        raise
    if event is None or _start_of(event) != booking["start"]:
        # A move, or an insert that met the event an earlier try made at an older time.
        event = _guarded(owner, conn, lambda: google_calendar.patch_event(
            conn, calendar_id, booking.get("event_id") or event_id_for(booking["id"]),
            _move(owner, booking), deadline=deadline))
    link = meet_link(event) or booking.get("meet_link")
    # What we wrote, so the echo of this write (or of a later one still on its way) is known
    # for ours when it comes back through a sync.
    fields = {"event_id": event["id"], "html_link": event.get("htmlLink"), "meet_link": link,
              "google_status": "created" if first else "updated",
              "written_start": booking["start"], "written_end": booking["end"]}
    if first and committed is not None and (link or not booking.get("meet")):
        recorded = _record_first(owner, booking, fields, event, committed, deadline)
        if recorded is not None:
            return recorded
    # Recorded and read again at once: the read only has to come after the insert (a cancel
    # committed before it is seen here; one committed after it deletes the event itself).
    from booking import fanout

    writes: list[Callable[[], Any]] = [
        functools.partial(bookings.update, owner.id, booking["id"], fields),
        functools.partial(bookings.get, owner.id, booking["id"])]
    after = {**fanout.run_all(writes)[1], **fields}
    if after["status"] != "confirmed":
        # Cancelled while our insert was on its way: what we made must not outlive it.
        return _delete(owner, after, deadline), after
    if first:
        _owe_confirmation(owner, after, deadline, fresh=True)
    _meet_followup(owner, after, event, deadline)
    return {"event_id": event["id"], "moved": move}, after


def _record_first(owner: Owner, booking: dict[str, Any], fields: dict[str, Any],
                  event: dict[str, Any], committed: tuple[str, Any],
                  deadline: Deadline) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A new booking's insert recorded in one commit with what it owes next, if nothing wrote
    the booking since it was made (None otherwise): the event on the booking, the create row
    finished, the confirmation emails owed, leased to this request and then sent.

    The condition does what reading the booking again after the insert does: a cancel
    committed before this commit fails it (and the caller's re-read sees the cancel); one
    committed after it deletes the event, which exists by then. A booking with a Meet room
    Google is still making takes the caller's path (its emails owe a follow-up)."""
    from booking.services import outbox
    from booking.services.notifications import confirmation_emails

    row_id, written = committed
    now = datetime.now(UTC)
    after = {**booking, **fields}
    result = {"event_id": event["id"], "moved": False}
    emails = meetings.email_rows(
        owner, after, confirmation_emails(meetings.meeting_of(owner, after), stamp=now),
        f"{booking['id']}:confirmation", now)
    at = bookings.record(owner.id, booking["id"], fields, unchanged_since=written,
                         outbox_changes=[(row_id, firestore_outbox.finished(now, result))],
                         outbox_rows=emails)
    if at is None:
        return None
    outbox.deliver_written(emails, at, now, deadline, booking=after)
    return outbox.Recorded(result), after


def _start_of(event: dict[str, Any]) -> datetime | None:
    value = (event.get("start") or {}).get("dateTime")
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _move(owner: Owner, booking: dict[str, Any]) -> dict[str, Any]:
    return {"start": {"dateTime": _rfc3339(booking["start"]), "timeZone": owner.time_zone},
            "end": {"dateTime": _rfc3339(booking["end"]), "timeZone": owner.time_zone},
            "description": _details(owner, booking)}


def _meet_status(event: dict[str, Any]) -> str:
    request = (event.get("conferenceData") or {}).get("createRequest") or {}
    return str((request.get("status") or {}).get("statusCode") or "")


def _meet_followup(owner: Owner, after: dict[str, Any], event: dict[str, Any],
                   deadline: Deadline, *, seats: tuple[int, int] | None = None) -> None:
    """If the emails of the booking's current version went without the Meet link and the link
    is known now, both get one follow-up with it; a room Google is still making is polled.
    `seats`: a group seat's (taken, seats), for the owner's copy."""
    if not after.get("meet"):
        return
    if not after.get("meet_link"):
        if _meet_status(event) == "pending":
            now = datetime.now(UTC)
            oid, poll = row(owner.id, after["id"], "meet", int(after.get("sequence", 0)), now)
            poll["owed_for"] = None  # polled whatever the version: the event keeps its room
            poll["due_at"] = now + MEET_POLL_DELAY
            firestore_outbox.add(oid, poll)
        return
    sequence = int(after.get("sequence", 0))
    if after.get("without_link_at") != sequence or after.get("followed_up_at") == sequence:
        return  # every email of this version carried the link, or the follow-up is owed
    from booking.services.notifications import meet_link_emails

    now = datetime.now(UTC)
    # The invitation goes again, so its SEQUENCE must rise: one revision per follow-up. Owed
    # first (its key makes a repeat harmless), recorded after, so a crash between the two
    # owes the same email again rather than none.
    revision = int(after.get("ics_revision", 0)) + 1
    told = {**after, "ics_revision": revision}
    previous = f"{after['id']}:confirmation" if sequence == 0 else \
        f"{after['id']}:reschedule:{sequence}"
    meetings.owe_emails(owner, told, meet_link_emails(meetings.meeting_of(owner, told,
                                                                          seats=seats),
                                                      stamp=now),
                        f"{after['id']}:meet:{sequence}", now, after=previous,
                        deadline=deadline)
    bookings.update(owner.id, after["id"], {"ics_revision": revision,
                                            "followed_up_at": sequence})


def _poll_meet(owner: Owner, booking: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
    if booking.get("meet_link") or not booking.get("event_id"):
        return {"skipped": "nothing to poll"}
    conn, calendar_id = _connection(owner, booking)
    event = _guarded(owner, conn, lambda: google_calendar.get_event(
        conn, calendar_id, booking["event_id"], deadline=deadline))
    link = meet_link(event)
    if link is None:
        status = _meet_status(event)
        if status == "pending":
            raise TransientError("google", "the Meet room is still being made")
        bookings.update(owner.id, booking["id"], {"meet_status": status or "missing"})
        return {"meet": status or "missing"}
    bookings.update(owner.id, booking["id"], {"meet_link": link})
    after = bookings.get(owner.id, booking["id"])
    if after["status"] == "confirmed":
        _meet_followup(owner, after, event, deadline)
    return {"meet_link": True}


def _delete(owner: Owner, booking: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
    if not booking.get("calendar"):
        return {"skipped": "no calendar"}
    conn, calendar_id = _connection(owner, booking)
    # By the derived id, not only the recorded one: an insert still on its way, or one whose
    # worker died before recording it, made an event with exactly this id.
    event_id = booking.get("event_id") or event_id_for(booking["id"])
    _guarded(owner, conn, lambda: google_calendar.delete_event(conn, calendar_id, event_id,
                                                                deadline=deadline))
    bookings.update(owner.id, booking["id"], {"google_status": "deleted"})
    return {"deleted": event_id}


def _sync_group(owner: Owner, booking: dict[str, Any], group_id: str,
                deadline: Deadline) -> dict[str, Any]:
    """Brings the group's one event to its seats; see the module docstring."""
    for _ in range(GROUP_ROUNDS):
        seats = bookings.group(owner.id, group_id)
        here = [s for s in seats if s["status"] == "confirmed"]
        if not here:
            return _delete_group(owner, group_id, seats, deadline)
        try:
            event = _write_group(owner, group_id, seats, here, deadline)
        except TransientError:
            if booking["status"] == "confirmed" and not booking.get("event_id"):
                # As for a one-guest booking: the guest learns now that the seat stands.
                _owe_confirmation(owner, booking, deadline,
                                  seats=_seats_of_slot(owner, booking, len(here)))
            raise
        if _seat_state(bookings.group(owner.id, group_id)) != _seat_state(seats):
            continue  # a seat came or went during our write: write again
        link = meet_link(event) or next((s["meet_link"] for s in here if s.get("meet_link")),
                                        None)
        # How full the slot is, for the owner's emails: read once, and only if one is owed.
        slot = functools.cache(functools.partial(_seats_of_slot, owner, here[0], len(here)))
        for seat in here:
            fields = {"event_id": event["id"], "html_link": event.get("htmlLink"),
                      "meet_link": link, "written_start": seat["start"],
                      "written_end": seat["end"],
                      "google_status": "updated" if seat.get("event_id") else "created"}
            if any(seat.get(k) != v for k, v in fields.items() if k != "google_status"):
                bookings.update(owner.id, seat["id"], fields)
            if not seat.get("event_id"):
                _owe_confirmation(owner, {**seat, **fields}, deadline, seats=slot())
            if seat.get("meet") and not seat.get("meet_link"):
                _meet_followup(owner, {**seat, **fields}, event, deadline, seats=slot())
        return {"event_id": event["id"], "seats": len(here)}
    raise TransientError("google", "the group's seats kept changing during the write")


def _seats_of_slot(owner: Owner, seat: dict[str, Any], taken: int) -> tuple[int, int]:
    """(taken, seats) of a group slot, for the owner's email about one seat."""
    from booking.errors import NotFound
    from booking.services import event_types

    try:
        return taken, max(event_types.load(owner, seat["event_type"]).seats, taken)
    except NotFound:  # the event type was deleted meanwhile
        return taken, taken


def _seat_state(seats: list[dict[str, Any]]) -> list[tuple[str, str, datetime]]:
    return [(s["id"], s["status"], s["start"]) for s in seats]


def _write_group(owner: Owner, group_id: str, seats: list[dict[str, Any]],
                 here: list[dict[str, Any]], deadline: Deadline) -> dict[str, Any]:
    """The event made if missing, then patched to the seats' guests and time if it differs
    (keeping each staying guest's answer: Google replaces the whole attendee list)."""
    lead = here[0]  # the first seat still booked: the group's calendar, title and Meet
    conn, calendar_id = _connection(owner, lead)
    event_id = event_id_for(group_id)
    wanted = seat_rules.attendees([seat_rules.Guest(s["guest"]["email"], s["guest"]["name"])
                                   for s in here], _owner_addresses(owner))
    body = _group_body(owner, group_id, lead, here, wanted)
    event: dict[str, Any]
    if not any(s.get("event_id") for s in seats):
        event = _guarded(owner, conn, lambda: google_calendar.insert_event(
            conn, calendar_id, body, conference=bool(lead.get("meet")), deadline=deadline))
    else:
        event = _guarded(owner, conn, lambda: google_calendar.get_event(
            conn, calendar_id, event_id, deadline=deadline))
    attendees = event.get("attendees") or []
    if seat_rules.same_attendees(attendees, wanted) and _start_of(event) == here[0]["start"] \
            and event.get("summary") == body["summary"]:
        return event
    known = {str(a.get("email", "")).lower(): a for a in attendees}
    change = {key: body[key] for key in ("summary", "description", "start", "end")}
    change["attendees"] = [known.get(g.email.lower()) or
                           {"email": g.email, "displayName": g.name,
                            "responseStatus": "needsAction"} for g in wanted]
    return dict(_guarded(owner, conn, lambda: google_calendar.patch_event(
        conn, calendar_id, event_id, change, deadline=deadline)))


def _group_body(owner: Owner, group_id: str, lead: dict[str, Any],
                here: list[dict[str, Any]], wanted: list[seat_rules.Guest]) -> dict[str, Any]:
    details = "\n\n".join(_details(owner, seat) for seat in here)
    body = event_body(
        event_id=event_id_for(group_id), booking_id=group_id, title=lead["title"],
        guest_name="", guest_email="", start=here[0]["start"], end=here[0]["end"],
        time_zone=owner.time_zone, details=details, meet=bool(lead.get("meet")),
        reminders=lead.get("reminders", []), owner_addresses=(),
        location=lead.get("location_text", ""),
        ical_uid=meetings.meeting_of(owner, {**lead, "id": group_id}, with_links=False).uid,
        attendees=[(g.email, g.name) for g in wanted],
        summary=f"{lead['title']} ({len(here)} booked)")
    body["extendedProperties"]["private"]["group_id"] = group_id
    return body


def _delete_group(owner: Owner, group_id: str, seats: list[dict[str, Any]],
                  deadline: Deadline) -> dict[str, Any]:
    """No seat is left: the group's event goes (by its derived id, like a booking's)."""
    if seats and seats[0].get("calendar") and any(
            s.get("google_status") != "deleted" for s in seats):
        conn, calendar_id = _connection(owner, seats[0])
        event_id = event_id_for(group_id)
        _guarded(owner, conn, lambda: google_calendar.delete_event(
            conn, calendar_id, event_id, deadline=deadline))
    for seat in seats:
        if seat.get("google_status") != "deleted":
            bookings.update(owner.id, seat["id"], {"google_status": "deleted"})
    return {"deleted": event_id_for(group_id)}


def _owner_addresses(owner: Owner) -> set[str]:
    return {owner.email, *(c.email for c in owners_store.list_connections(owner.id))}


def _owe_confirmation(owner: Owner, booking: dict[str, Any], deadline: Deadline | None, *,
                      fresh: bool = False, seats: tuple[int, int] | None = None) -> None:
    """The confirmation of a new booking; once it has been moved, its reschedule emails told
    everything instead. `fresh`: `booking` was read just now, after the event was written;
    `seats`: a group seat's (taken, seats)."""
    from booking.services.notifications import confirmation_emails

    if int(booking.get("sequence", 0)) != 0:
        return
    now = datetime.now(UTC)
    if booking.get("meet") and not booking.get("meet_link"):
        # Remembered before the email is owed, so the link, whenever it comes, follows it.
        bookings.update(owner.id, booking["id"], {"without_link_at": 0})
    emails = confirmation_emails(meetings.meeting_of(owner, booking, seats=seats), stamp=now)
    meetings.owe_emails(owner, booking, emails, f"{booking['id']}:confirmation", now,
                        deadline=deadline, fresh=fresh)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
