"""Confirm by email: a request for such an event type holds its slot; the guest's link books it.

The request's claim (services/booking.py) writes a *pending* booking with `hold_until` into the
ledger like any other, so nobody else can take the slot and every limit counts it; its only
outbox row is one email to the guest with a signed link (purpose `confirm_booking`, expiring
with the hold). Nothing reaches Google or the owner before the guest confirms.

Opening the link (GET) only shows the booking and a Confirm button: mail scanners open links by
themselves. The POST is one conditional transition of the booking: pending and still held ->
confirmed, written with the outbox rows every new booking owes (the Google event with Meet, the
after-insert conflict check; the event's delivery then owes both confirmation emails). A double
click or a retry finds the booking confirmed and is answered the same, with no second row. A
hold that lapsed frees its slot by itself (booking.domain.holds) and cannot be confirmed.

The booking page's answer (booked, or held) can be opened again, e.g. in the other language
from its language switch: a signed link (purpose `booked`, expiring when the meeting starts)
names the booking, and opening it only reads.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from booking import log
from booking.adapters import firestore_bookings as bookings
from booking.adapters import firestore_owners as owners_store
from booking.adapters import signing_keys
from booking.adapters.firestore_bookings import DELETE_FIELD, Transition
from booking.config import get_settings
from booking.deadline import Deadline, for_request
from booking.domain import holds, tokens
from booking.domain import seats as seat_rules
from booking.domain.availability import Booked
from booking.domain.booking_rules import TAKEN, clashes
from booking.domain.intervals import Interval
from booking.domain.locales import DEFAULT_LOCALE
from booking.domain.model import Owner
from booking.domain.problems import Problem
from booking.errors import Conflict, DocumentMissing, Gone, NotFound
from booking.services import calendar_writes, meetings, outbox, reminders
from booking.services.stored import translating

EXPIRED = Problem("hold.expired",
                  "This hold has expired and the time was released. Please book again.")
CANCELLED = Problem("hold.cancelled", "This booking was cancelled.")
BOOKED_PURPOSE = "booked"


@dataclass(frozen=True)
class Hold:
    owner: Owner
    booking: dict[str, Any]
    confirmed: bool  # already (a second click): nothing more to do


class _AlreadyConfirmed(Exception):
    """Inside the transition: another click confirmed it first."""


def confirm_url(owner_id: str, booking: dict[str, Any]) -> str:
    """The guest's link: signed for this one purpose and booking. It outlives the hold by as
    long as a lapsed hold is kept (holds.KEEP_LAPSED), so a guest who comes back late is told
    the hold lapsed, with a way back to the booking page; it confirms only while the hold
    holds (holds.confirm_verdict)."""
    token = tokens.sign(signing_keys.links(), holds.CONFIRM_PURPOSE,
                        {"o": owner_id, "b": booking["id"], "n": secrets.token_urlsafe(16)},
                        expires_at=int((booking["hold_until"] + holds.KEEP_LAPSED).timestamp()))
    lang = booking["guest"].get("locale", DEFAULT_LOCALE)
    return f"{get_settings().function_url('book')}/confirm?" \
        f"{urlencode({'token': token, 'lang': lang})}"


def request_row(owner: Owner, booking: dict[str, Any],
                now: datetime) -> tuple[str, dict[str, Any]]:
    """The hold's one outbox row: the email with the confirm link, to the guest only."""
    from booking.services.notifications import confirm_request_email

    email = confirm_request_email(meetings.meeting_of(owner, booking, with_links=False),
                                  confirm_url=confirm_url(owner.id, booking),
                                  hold_until=booking["hold_until"])
    return outbox.email_row(f"{booking['id']}:confirm_request:guest", owner.id, email, now)


@translating
def open_hold(token: str, now: datetime) -> Hold:
    """The booking a confirm link names, for its page; 404 for a link that is not ours (or of
    another purpose), 410 for one whose hold lapsed or whose booking was cancelled."""
    try:
        claims = signing_keys.verify(signing_keys.LINKS, holds.CONFIRM_PURPOSE, token,
                                     now=now.timestamp())
    except tokens.TokenError as exc:
        if exc.expired:
            raise Gone(EXPIRED) from exc
        raise NotFound(tokens.LINK_INVALID) from exc
    try:
        owner = owners_store.get_owner(str(claims["o"]))
    except (DocumentMissing, KeyError):
        raise NotFound(tokens.LINK_INVALID) from None
    try:
        booking: dict[str, Any] | None = bookings.get(owner.id, str(claims.get("b", "")))
    except DocumentMissing:
        booking = None  # a lapsed hold may have been deleted
    verdict = holds.confirm_verdict(booking, now)
    if verdict == "expired":
        raise Gone(EXPIRED, again=_book_again(owner, booking))
    if verdict == "cancelled" or booking is None:
        raise Gone(CANCELLED)
    return Hold(owner, booking, confirmed=verdict == "confirmed")


def _book_again(owner: Owner, booking: dict[str, Any] | None) -> str | None:
    """The booking page of a lapsed hold's event type, in the guest's language and zone."""
    if booking is None:
        return None
    guest = booking["guest"]
    return f"{get_settings().function_url('book')}/{owner.id}/{booking['event_type']}?" \
        f"{urlencode({'lang': guest.get('locale', DEFAULT_LOCALE), 'tz': guest['time_zone']})}"


def booked_token(owner_id: str, booking_id: str, start: datetime) -> str:
    """The guest's way back to the page that answered their booking (booked or held)."""
    return tokens.sign(signing_keys.links(), BOOKED_PURPOSE, {"o": owner_id, "b": booking_id},
                       expires_at=int(start.timestamp()))


@translating
def open_booked(token: str, owner_id: str, slug: str, now: datetime) -> Hold:
    """The booking a `booked_token` names, as its page shows it: `confirmed` True once booked,
    False while held for confirmation by email. 404 for a link that is not ours or not of this
    owner's event type; 410 once the meeting started, the hold lapsed or it was cancelled."""
    try:
        claims = signing_keys.verify(signing_keys.LINKS, BOOKED_PURPOSE, token,
                                     now=now.timestamp())
    except tokens.TokenError as exc:
        if exc.expired:
            raise Gone(tokens.LINK_EXPIRED) from exc
        raise NotFound(tokens.LINK_INVALID) from exc
    if claims.get("o") != owner_id:
        raise NotFound(tokens.LINK_INVALID)
    try:
        owner = owners_store.get_owner(owner_id)
    except DocumentMissing:
        raise NotFound(tokens.LINK_INVALID) from None
    try:
        booking: dict[str, Any] | None = bookings.get(owner.id, str(claims.get("b", "")))
    except DocumentMissing:
        booking = None  # a lapsed hold may have been deleted
    if booking is not None and booking.get("event_type") != slug:
        raise NotFound(tokens.LINK_INVALID)
    verdict = holds.confirm_verdict(booking, now)
    if verdict == "expired" or booking is None:
        raise Gone(EXPIRED, again=_book_again(owner, booking))
    if verdict == "cancelled":
        raise Gone(CANCELLED)
    return Hold(owner, booking, confirmed=verdict == "confirmed")


@translating
def confirm(token: str, now: datetime, deadline: Deadline | None = None) -> Hold:
    """Books the held slot, once: a second call finds it confirmed and changes nothing."""
    hold = open_hold(token, now)
    if hold.confirmed:
        return hold
    owner, booking_id = hold.owner, hold.booking["id"]
    group = hold.booking.get("group_id")
    owed = calendar_writes.rows_for_new(owner.id, booking_id, group, now)
    row_id = owed[0][0]

    def decide(booking: dict[str, Any], ledger: bookings.Ledger) -> Transition:
        verdict = holds.confirm_verdict(booking, now)
        if verdict == "confirmed":
            raise _AlreadyConfirmed
        if verdict != "confirm":
            raise Gone(EXPIRED if verdict == "expired" else CANCELLED)
        own = Booked(Interval(booking["start"], booking["end"]),
                     timedelta(minutes=int(booking.get("buffer_before_minutes", 0))),
                     timedelta(minutes=int(booking.get("buffer_after_minutes", 0))))
        others = ledger.booked(exclude=booking_id)
        if group:
            others = seat_rules.without(others, group)  # a seat's own group is no clash
        if clashes(own, others):
            raise Conflict(TAKEN)  # cannot happen while the hold held; never book over one
        confirmed = {**booking, "status": "confirmed", "created_at": now}
        return Transition(
            fields={"status": "confirmed", "hold_until": DELETE_FIELD, "expire_at": DELETE_FIELD,
                    "confirmed_at": now,
                    "google_status": "pending", "updated_at": now,
                    "next_reminder_at": reminders.next_at(confirmed) or DELETE_FIELD},
            # Its entries again, without the hold: from now on it holds its time for good.
            add=tuple(booking["ledger_days"]),
            outbox_rows=tuple(owed))

    try:
        after = bookings.transition(owner.id, booking_id, lambda b: b["ledger_days"], decide,
                                    now=now)
    except _AlreadyConfirmed:
        return Hold(owner, bookings.get(owner.id, booking_id), confirmed=True)
    # The first try, within the guest's request (event, Meet, both emails); resync has the rest.
    outbox.deliver(row_id, now, deadline or for_request())
    try:
        after = bookings.get(owner.id, booking_id)  # as the first try left it: its Meet link
    except Exception as exc:  # noqa: BLE001 - it is confirmed all the same; the link is emailed
        log.warning("confirmed booking not read again", booking_id=booking_id,
                    error=f"{type(exc).__name__}: {exc}")
    return Hold(owner, after, confirmed=False)
