"""Cancelling and rescheduling, by the guest (signed link) or the owner (API).

A link names one booking, one action and the booking's version; any change raises the version,
so a used or outdated link is refused. Opening a link (GET) only reads: mail scanners open links
by themselves. The change itself is one transaction over the booking and the ledger, and it
writes the Google update and the emails as outbox rows in the same transaction, so a crash
right after it loses nothing: resync delivers what is left.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking.adapters import firestore_bookings as bookings
from booking.adapters import firestore_owners as owners_store
from booking.adapters import signing_keys
from booking.adapters.firestore_bookings import DELETE_FIELD, Transition
from booking.deadline import Deadline, for_request
from booking.domain import seats as seat_rules
from booking.domain import tokens
from booking.domain.availability import Booked
from booking.domain.booking_rules import (
    CONTROL,
    at_most_characters,
    has_control,
)
from booking.domain.event_types import EventType
from booking.domain.intervals import Interval, normalise, subtract
from booking.domain.model import Owner
from booking.domain.problems import Problem
from booking.errors import Conflict, DocumentMissing, Gone, InvalidInput, NotFound
from booking.services import busy as busy_time
from booking.services import calendar_writes, event_types, limits, meetings, outbox, reminders
from booking.services.stored import translating

MAX_REASON = 1000
SAME_TIME = Problem("reschedule.same_time", "is the booking's current time already: pick "
                    "another time to reschedule to")
CANCELLED = Problem("booking.cancelled", "This booking was already cancelled.")
# The owner deleted the booking's event type: its rules (hours, duration) are gone with it.
KIND_GONE = Problem("reschedule.event_type_gone",
                    "This kind of meeting is no longer offered, so it cannot be moved to another "
                    "time here. The booking stands: keep it, or cancel it.")


@dataclass(frozen=True)
class Opened:
    owner: Owner
    booking: dict[str, Any]


def open_link(token: str, action: str, now: datetime) -> Opened:
    """The booking a link is for, if the link still works; raises NotFound (404) for a link
    that is not ours and Gone (410) for one that was used, replaced or has expired."""
    try:
        claims = signing_keys.verify(signing_keys.LINKS, action, token, now=now.timestamp())
    except tokens.TokenError as exc:
        if exc.expired:
            raise Gone(tokens.LINK_EXPIRED) from exc
        raise NotFound(tokens.LINK_INVALID) from exc
    try:
        owner = owners_store.get_owner(str(claims["o"]))
        booking = bookings.get(owner.id, str(claims["b"]))
    except (DocumentMissing, KeyError):
        raise NotFound(tokens.LINK_INVALID) from None
    if booking["status"] != "confirmed":
        raise Gone(CANCELLED)
    if int(booking.get("version", 1)) != int(claims.get("v", -1)):
        raise Gone(Problem("link.replaced", "This link was replaced by a newer one: please use "
                                            "the link in your most recent email."))
    return Opened(owner, booking)


def _reason(text: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_REASON:
        raise InvalidInput("reason", at_most_characters(MAX_REASON))
    if has_control(text, multiline=True):
        raise InvalidInput("reason", CONTROL)
    return text


def email_rows(owner: Owner, emails: list[tuple[str, Any]], key: str,
               now: datetime, *,
               owed_for: outbox.OwedFor | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(id, row) of each (recipient kind, Email) owed under `key:recipient`, for the same
    commit as the change that owes them; `owed_for` is the booking version they describe."""
    return [outbox.email_row(f"{key}:{recipient}", owner.id, email, now, owed_for=owed_for)
            for recipient, email in emails]


def _unchanged(booking: dict[str, Any], *, version: int | None, sequence: int) -> None:
    """Inside a change: the booking is still what the change was prepared from (the emails
    were rendered for `sequence`), and still what the link was issued for (`version`)."""
    if booking["status"] != "confirmed":
        raise Gone(CANCELLED)
    if version is not None and int(booking.get("version", 1)) != version:
        raise Gone(Problem("link.outdated", "This booking changed since this link was sent."))
    if int(booking.get("sequence", 0)) + 1 != sequence:
        raise Conflict(Problem("booking.changed_meanwhile",
                               "The booking changed meanwhile; please try again."))


def _deliver(rows: list[tuple[str, dict[str, Any]]], now: datetime, budget: Deadline) -> None:
    """The first try, within the person's request; resync has the rest."""
    for row_id, _ in rows:
        outbox.deliver(row_id, now, budget)


@translating
def cancel(owner: Owner, booking_id: str, *, version: int | None, reason: str, by: str,
           now: datetime, google: bool = True,
           deadline: Deadline | None = None) -> dict[str, Any]:
    """Cancels, releasing the slot in the same transaction; the Google event is deleted and
    both parties are told. `version` (from a link) must still be current. `google=False` when
    the event is gone already (the owner deleted it in Google Calendar)."""
    from booking.services.notifications import cancellation_emails

    reason = _reason(reason)
    current = bookings.get(owner.id, booking_id)
    sequence = int(current.get("sequence", 0)) + 1
    staged = {**current, "status": "cancelled", "sequence": sequence}
    emails = cancellation_emails(meetings.meeting_of(owner, staged, with_links=False,
                                                     seats=_seats_left(owner, current)),
                                 reason=reason, cancelled_by=by, stamp=now)
    rows = [*([calendar_writes.row(owner.id, booking_id, "delete", sequence, now,
                                   group=current.get("group_id"))] if google else []),
            *email_rows(owner, emails, f"{booking_id}:cancellation", now,
                        owed_for=outbox.OwedFor(owner.id, booking_id, sequence, "final"))]
    gone = {} if google else {"google_status": "deleted", "cancelled_in": "google"}

    def decide(booking: dict[str, Any], _: bookings.Ledger) -> Transition:
        _unchanged(booking, version=version, sequence=sequence)
        return Transition(
            fields={"status": "cancelled", "sequence": sequence,
                    "next_reminder_at": DELETE_FIELD,
                    "version": int(booking.get("version", 1)) + 1, "cancelled_at": now,
                    "cancelled_by": by, "cancel_reason": reason, "updated_at": now, **gone},
            remove=tuple(booking["ledger_days"]), outbox_rows=tuple(rows))

    after = bookings.transition(owner.id, booking_id, lambda b: b["ledger_days"], decide,
                                now=now)
    _deliver(rows, now, deadline or for_request())
    return after


def _seats_left(owner: Owner, seat: dict[str, Any]) -> tuple[int, int] | None:
    """A group seat's slot once it is cancelled: (seats still taken, seats); None for a
    meeting of its own."""
    group = seat.get("group_id")
    if not group:
        return None
    taken = sum(1 for s in bookings.group(owner.id, str(group))
                if s["status"] == "confirmed" and s["id"] != seat["id"])
    try:
        capacity = event_types.load(owner, seat["event_type"]).seats
    except NotFound:  # the event type was deleted meanwhile
        capacity = taken + 1
    return taken, max(capacity, taken + 1)


def _busy_without(owner: Owner, booking: dict[str, Any], window: Interval, now: datetime,
                  deadline: Deadline | None = None) -> list[Interval]:
    """Live busy time, less the booking's own time: its own Google event must not block the
    move (an event hidden exactly under it was a conflict already)."""
    busy = normalise(busy_time.LiveGoogleBusy().busy(owner, window, now, deadline))
    return subtract(busy, [Interval(booking["start"], booking["end"])])


def _event_type_of(owner: Owner, booking: dict[str, Any]) -> EventType:
    """The rules a booking moves by; 410 once its event type was deleted (not the 404 of a
    wrong link: the booking and its link are fine)."""
    try:
        return event_types.load(owner, booking["event_type"])
    except NotFound:
        raise Gone(KIND_GONE) from None


def free_slots(opened: Opened, start: datetime, end: datetime,
               now: datetime) -> list[Interval]:
    """The slots a booking may move to: its own time does not block them, and is not one."""
    owner, booking = opened.owner, opened.booking
    event_type = _event_type_of(owner, booking)
    rules = event_type.rules
    span = Interval(start, end)
    window = busy_time.query_span(span, duration=rules.duration, before=rules.buffer_before,
                                  after=rules.buffer_after)
    booked = busy_time.booked(owner, window, booking["event_type"], now,
                              exclude=booking["id"], reach=rules.limit_reach)
    found, _ = seat_rules.slots_with_seats(
        rules, _seats(booking, event_type.seats), span=span,
        busy=_busy_without(owner, booking, window, now), booked=booked, now=now,
        owner_daily_cap=owner.max_bookings_per_day)
    return [slot for slot in found if slot.start != booking["start"]]


def _seats(booking: dict[str, Any], seats: int) -> int:
    """A seat of a group event moves between group slots of its event type; a booking made
    without seats stays one of its own (as when it was made)."""
    return max(seats, 1) if booking.get("group_id") else 1


@translating
def reschedule(owner: Owner, booking_id: str, new_start: datetime, *, version: int | None,
               by: str, now: datetime, deadline: Deadline | None = None) -> dict[str, Any]:
    """Moves the booking: the new slot must be offered (live check), the old interval is
    released and the new one claimed in one transaction; the same Google event is moved and
    both parties get the old and the new time."""
    from booking.services.notifications import reschedule_emails

    budget = deadline or for_request()
    current = bookings.get(owner.id, booking_id)
    if current["status"] != "confirmed":
        raise Gone(CANCELLED)
    event_type = _event_type_of(owner, current)
    rules = event_type.rules
    if new_start.tzinfo is None:
        raise InvalidInput("start", Problem("start.offset", "must carry an offset"))
    new_start = new_start.astimezone(UTC)
    if new_start == current["start"]:
        # Nothing would change but two emails about nothing.
        raise InvalidInput("start", SAME_TIME)
    new_end = new_start + rules.duration
    window = busy_time.query_span(Interval(new_start, new_end), duration=timedelta(0),
                                  before=rules.buffer_before, after=rules.buffer_after)
    booked = busy_time.booked(owner, window, current["event_type"], now,
                              exclude=booking_id, reach=rules.limit_reach)
    seats = _seats(current, event_type.seats)
    busy_time.check_live(
        rules, seats, new_start, booked=booked, now=now,
        owner_daily_cap=owner.max_bookings_per_day,
        live=lambda: _busy_without(owner, current, window, now, budget))

    docs = limits.documents(current["event_type"], rules, new_start,
                            ZoneInfo(owner.time_zone))
    days = list(docs.days)
    sequence = int(current.get("sequence", 0)) + 1
    staged = {**current, "start": new_start, "end": new_end, "sequence": sequence,
              "version": int(current.get("version", 1)) + 1}
    old_group = current.get("group_id")
    if old_group:
        # A seat leaves its group slot's event for another's (or a new one): that event's
        # Meet link follows in one more email once it is written.
        staged["meet_link"] = None
    # A seat: how full the slot it moves to will be (as read now; the claim may still see
    # another seat come or go), for the owner's email.
    place = seat_rules.place(Interval(new_start, new_end), seats, booked) if old_group else None
    taken = (place.group.taken if place and place.group else 0) + 1
    emails = reschedule_emails(meetings.meeting_of(owner, staged, seats=(taken, seats)
                                                   if old_group else None),
                               previous_start=current["start"],
                               previous_end=current["end"], stamp=now,
                               moved_by="guest" if by == "guest" else "owner")
    mails = email_rows(owner, emails, f"{booking_id}:reschedule:{sequence}", now,
                       owed_for=outbox.OwedFor(owner.id, booking_id, sequence))
    rows = [calendar_writes.row(owner.id, booking_id, "update", sequence, now), *mails]
    moved = Booked(Interval(new_start, new_end), rules.buffer_before, rules.buffer_after)

    def decide(booking: dict[str, Any], ledger: bookings.Ledger) -> Transition:
        nonlocal rows
        _unchanged(booking, version=version, sequence=sequence)
        joined = limits.settle(ledger, moved, docs.day, booking["event_type"], rules, owner,
                               seats, exclude=booking_id)
        group: dict[str, Any] = {}
        if old_group:
            # Out of the old group's event, into the joined group's (or a new group's).
            group = {"group_id": joined or uuid.uuid4().hex, "event_id": DELETE_FIELD,
                     "meet_link": DELETE_FIELD, "html_link": DELETE_FIELD}
            # The emails first: the new event's Meet link is owed after them, and goes at
            # once when they went.
            rows = [*mails, *(calendar_writes.row(owner.id, booking_id, "update", sequence,
                                                  now, group=gid)
                              for gid in (old_group, group["group_id"]))]
        return Transition(
            fields={"start": new_start, "end": new_end, "sequence": sequence,
                    "version": staged["version"], "ledger_day": days[1], "ledger_days": days,
                    "rescheduled_at": now, "rescheduled_by": by, "updated_at": now,
                    "previous_start": booking["start"], **group,
                    "next_reminder_at": reminders.next_at({**booking, "start": new_start,
                                                           "rescheduled_at": now}),
                    # Emails rendered before the Meet link was known: it follows them.
                    **({"without_link_at": sequence}
                       if booking.get("meet") and not staged.get("meet_link") else {})},
            remove=tuple(booking["ledger_days"]), add=tuple(days), outbox_rows=tuple(rows))

    after = bookings.transition(owner.id, booking_id,
                                lambda b: sorted({*days, *docs.watch, *b["ledger_days"]}),
                                decide, now=now)
    _deliver(rows, now, budget)
    return after


@translating
def owner_view(owner: Owner, booking_id: str) -> Opened:
    """One of the owner's own bookings, for the owner's pages (another owner's is a 404)."""
    return Opened(owner, bookings.get(owner.id, booking_id))


def recent(owner: Owner) -> list[dict[str, Any]]:
    """The owner's latest bookings, newest start first. Holds waiting for a guest's
    confirmation by email are not the owner's business until confirmed."""
    return [b for b in bookings.list_recent(owner.id) if b.get("status") != "pending"]


def bookings_of(owner: Owner, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(upcoming soonest first, past most recent first), cancelled ones included."""
    latest = recent(owner)
    upcoming = sorted((b for b in latest if b["end"] > now), key=lambda b: b["start"])
    past = [b for b in latest if b["end"] <= now]
    return upcoming, past
