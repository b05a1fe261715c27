"""A guest books: the server decides, the claim is atomic, the rest follows through the outbox.

Gather: the owner, the event type, live busy time from every conflict calendar (never a cache)
and the confirmed bookings. Decide: the asked start must be a slot availability offers now.
Apply: one Firestore transaction re-checks the ledger of the days the booking can touch and
writes the booking, its ledger entry and the outbox rows for its Google event (leased to this
request) and for the after-insert conflict check together; then the event row is delivered at
once (event, Meet link, emails) and, if Google is down, by resync, which also makes the conflict
check. The guest waits for two Google round trips, free/busy (every account at once) and the
insert, and for as few Firestore round trips as the guarantees allow (bench/booking.py counts
them; every read runs beside the abuse-limit count, fanout.gated).

One deadline covers every outside call of the request (the live free/busy and the first try of
the event and the emails, HTTP timeouts included). Once the booking is committed the answer is
201, whatever Google or SendGrid do: the outbox has what is left.

An idempotency key names the booking: every retry with it (even twenty at once) gets that
booking, 201 for the one that made it and 200 for the others, never 409; the key reused with
another event type, start or guest is a 422 that reveals nothing of the first booking.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking import fanout
from booking.adapters import firestore_bookings as bookings
from booking.adapters import firestore_outbox
from booking.deadline import Deadline, for_request
from booking.domain import holds
from booking.domain.availability import Booked
from booking.domain.booking_rules import (
    GuestInputError,
    GuestRequest,
    asks_questions,
    booking_id_for,
    parse_guest_request,
    request_fingerprint,
)
from booking.domain.intervals import Interval
from booking.domain.problems import Problem
from booking.errors import Conflict, DocumentMissing, InvalidInput, NotFound, Unprocessable
from booking.services import busy as busy_time
from booking.services import (
    calendar_writes,
    confirmations,
    event_types,
    limits,
    meetings,
    outbox,
    quotas,
    reminders,
)
from booking.services.stored import translating

LOCATION_TEXT = {"google_meet": "Google Meet", "phone": "Phone call", "in_person": "In person"}


def parse(fields: dict[str, Any], header_key: str | None) -> GuestRequest:
    try:
        return parse_guest_request(fields, header_key=header_key)
    except GuestInputError as exc:
        raise InvalidInput(exc.fields) from exc


@dataclass(frozen=True)
class _Read:
    """What a booking reads before Google is asked: two rounds, both beside the abuse-limit
    count (for_guest, then the rest at once)."""

    found: event_types.ForGuest
    booking_id: str
    fingerprint: str
    earlier: dict[str, Any] | None  # what this idempotency key already made
    booked: list[Booked]  # ours that can touch the asked time
    window: Interval
    docs: limits.Documents  # the ledger documents the claim reads and writes
    ledger: bookings.Ledger  # those it reads and the guest's, as they were: the claim starts there


@translating
def book(req: GuestRequest, now: datetime, deadline: Deadline | None = None,
         gate: Callable[[], None] | None = None) -> tuple[dict[str, Any], bool]:
    """Returns (the booking's public view, whether this call created it). `gate`, the
    abuse-limit count, runs beside the reads (fanout.gated)."""
    budget = deadline or for_request()
    read = fanout.gated(gate, functools.partial(_read, req, now))
    owner, event_type = read.found.owner, read.found.event_type
    if len(req.answers) > len(event_type.questions):
        raise InvalidInput("answers", asks_questions(len(event_type.questions)))
    if read.earlier is not None:
        return _shown(read.earlier, read.fingerprint), False
    try:
        return _book(req, now, budget, read)
    except Conflict:
        # A parallel retry with the same key may have won the slot meanwhile: that is this
        # request's booking, not a conflict.
        earlier = _earlier(owner.id, read.booking_id, read.fingerprint) \
            if req.idempotency_key else None
        if earlier is None:
            raise
        return earlier, False


def _read(req: GuestRequest, now: datetime) -> _Read:
    try:
        found = event_types.for_guest(req.owner_id, req.event_type)
    except NotFound:
        raise NotFound(event_types.NO_OWNER_OR_EVENT_TYPE) from None
    owner, rules = found.owner, found.event_type.rules
    booking_id = booking_id_for(owner.id, req.idempotency_key) if req.idempotency_key \
        else uuid.uuid4().hex
    window = busy_time.query_span(Interval(req.start, req.start + rules.duration),
                                  duration=timedelta(0), before=rules.buffer_before,
                                  after=rules.buffer_after)
    docs = limits.documents(found.event_type.slug, rules, req.start, ZoneInfo(owner.time_zone))
    claimed = limits.claim_arguments(docs)
    reads: list[Callable[[], Any]] = [
        functools.partial(_stored, owner.id, booking_id) if req.idempotency_key
        else (lambda: None),
        functools.partial(busy_time.booked, owner, window, found.event_type.slug, now,
                          reach=rules.limit_reach),
        # Read now rather than after Google answers: the claim's commit is conditional on
        # these documents' update times, so one that changed meanwhile makes it read again.
        functools.partial(bookings.read_ledger, owner.id,
                          [*claimed["days"], *claimed["watch"]], now, req.email)]
    earlier, booked, ledger = fanout.run_all(reads)
    return _Read(found, booking_id,
                 request_fingerprint(found.event_type.slug, req.start, req.email),
                 earlier, booked, window, docs, ledger)


def _stored(owner_id: str, booking_id: str) -> dict[str, Any] | None:
    try:
        return bookings.get(owner_id, booking_id)
    except DocumentMissing:
        return None


def _shown(stored: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    """The booking an idempotency key made, as its guest sees it; 422 if it was made for
    another request (and nothing of it is shown)."""
    if stored.get("request_fingerprint", fingerprint) != fingerprint:
        raise Unprocessable("idempotency_key", Problem(
            "guest.idempotency_key.reused", "was already used for a different booking request; "
            "use a new key for a new request"))
    return meetings.view(stored)


def _earlier(owner_id: str, booking_id: str, fingerprint: str) -> dict[str, Any] | None:
    """The booking an idempotency key already made, if any (see _shown)."""
    stored = _stored(owner_id, booking_id)
    return None if stored is None else _shown(stored, fingerprint)


def _book(req: GuestRequest, now: datetime, budget: Deadline,
          read: _Read) -> tuple[dict[str, Any], bool]:
    owner, event_type, connections = read.found.owner, read.found.event_type, \
        read.found.connections
    booking_id, fingerprint, booked = read.booking_id, read.fingerprint, read.booked
    cap = quotas.open_bookings_allowed(owner)
    rules = event_type.rules
    end = req.start + rules.duration
    # Live: this is the check that must never trust anything cached or sent by the client;
    # Google is asked only after our own bookings said yes (no quota for a time they refuse).
    busy_time.check_live(
        rules, event_type.seats, req.start, booked=booked, now=now,
        owner_daily_cap=owner.max_bookings_per_day,
        live=lambda: busy_time.LiveGoogleBusy(connections).busy(owner, read.window, now,
                                                                budget))

    docs = read.docs
    new = Booked(Interval(req.start, end), rules.buffer_before, rules.buffer_after)
    seats = event_type.seats

    def decide(ledger: bookings.Ledger) -> dict[str, Any] | None:
        joined = limits.settle(ledger, new, docs.day, event_type.slug, rules, owner, seats)
        # Inside the claim: simultaneous requests for one email cannot pass the cap together.
        if ledger.guest_open() >= cap:
            raise Conflict(Problem("booking.guest_cap",
                                   "This email already has %(cap)s upcoming booking(s) with "
                                   "%(owner)s; cancel one to book another.", cap=cap,
                                   owner=owner.name))
        # A seat starts a group slot named after itself, or joins the one there.
        return {"group_id": joined or booking_id} if seats > 1 else None

    doc = {**_document(owner, event_type, req, booking_id, end, now, list(docs.days)),
           "request_fingerprint": fingerprint}
    held: list[tuple[str, dict[str, Any]]] = []
    if event_type.confirm_by_email:
        # A hold: the slot is ours for a few minutes, and the guest gets one email with the
        # confirm link; nothing goes to Google or the owner before they confirm.
        until = holds.hold_until(now, event_type.hold_minutes)
        # Unconfirmed, it is deleted by Firestore's TTL a day after it lapsed (infra/).
        doc.update({"status": "pending", "google_status": "held", "hold_until": until,
                    "expire_at": until + holds.KEEP_LAPSED})
        held = [confirmations.request_row(owner, {"id": booking_id, **doc}, now)]
    else:
        doc["next_reminder_at"] = reminders.next_at(doc)
    made: list[tuple[str, dict[str, Any]]] = []

    def rows(written: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if held:
            return held
        found = calendar_writes.rows_for_new(owner.id, booking_id, written.get("group_id"), now)
        # The event's row is written leased to this request, which delivers it at once (a
        # claim in the same commit).
        found[0] = (found[0][0], firestore_outbox.leased(found[0][1], now))
        made[:] = found
        return found
    stored, created = bookings.claim(owner.id, booking_id, doc, decide=decide, outbox_rows=rows,
                                     **limits.claim_arguments(docs), now=now,
                                     ledger=read.ledger)
    if not created:
        earlier = _earlier(owner.id, booking_id, fingerprint)
        return earlier or meetings.view(stored), False
    written = stored.pop(bookings.WRITTEN)
    if not held:
        # Committed: from here on the answer is 201. The first try never raises (the outbox
        # records any failure on the row); it holds the owner, the booking and the connections
        # already, and leaves the booking as it wrote it (its Meet link) for the answer.
        row_id, row = made[0]
        first = calendar_writes.FirstWrite(owner, stored, connections, written)
        outbox.deliver(row_id, now, budget, handler=first,
                       claimed={**row, firestore_outbox.WRITTEN: written})
        return meetings.view(first.booking), True
    # Committed: from here on the answer is 201. The first try never raises (the outbox records
    # any failure on the row), and a failed re-read falls back to what was stored.
    outbox.deliver(held[0][0], now, budget)
    try:
        return meetings.view(bookings.get(owner.id, booking_id)), True
    except Exception:  # noqa: BLE001 - the booking stands; its Meet link is in the emails
        return meetings.view(stored), True


def _document(owner: Any, event_type: Any, req: GuestRequest, booking_id: str, end: datetime,
              now: datetime, days: list[str]) -> dict[str, Any]:
    rules = event_type.rules
    return {
        "owner_id": owner.id,
        "event_type": event_type.slug,
        "title": event_type.title,
        "description": event_type.description,
        "location": event_type.location,
        "location_text": event_type.location_details or LOCATION_TEXT.get(event_type.location, ""),
        "meet": owner.meet_enabled and event_type.location == "google_meet",
        "reminders": [dict(r) for r in event_type.reminders],
        "questions": list(event_type.questions),
        "answers": list(req.answers),
        "start": req.start,
        "end": end,
        "buffer_before_minutes": rules.buffer_before_minutes,
        "buffer_after_minutes": rules.buffer_after_minutes,
        "status": "confirmed",
        "guest": {"name": req.name, "email": req.email, "time_zone": req.time_zone,
                  "locale": req.locale},
        "notes": req.notes,
        "calendar": owner.default_calendar.to_dict() if owner.default_calendar else None,
        "google_status": "pending",
        "ledger_day": days[1],
        "ledger_days": days,
        "sequence": 0,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
