"""From a stored booking to what people are told: the Meeting, its signed links, its emails.

Link tokens are signed with our key, name one booking and one action, carry the booking's
version (a reschedule or cancel raises it, so every older link stops working) and expire when
the meeting starts.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from booking.adapters import signing_keys
from booking.config import get_settings
from booking.deadline import Deadline
from booking.domain import tokens
from booking.domain.locales import DEFAULT_LOCALE
from booking.domain.meeting import Meeting
from booking.domain.model import Owner

ACTIONS = ("cancel", "reschedule")


def link_token(owner_id: str, booking: dict[str, Any], action: str) -> str:
    import secrets

    return tokens.sign(signing_keys.links(), action,
                       {"o": owner_id, "b": booking["id"], "v": int(booking.get("version", 1)),
                        "n": secrets.token_urlsafe(16)},
                       expires_at=int(booking["start"].timestamp()))


def link(owner_id: str, booking: dict[str, Any], action: str) -> str:
    """The guest's link; it opens its page in the language the guest booked in."""
    token = link_token(owner_id, booking, action)
    lang = booking["guest"].get("locale", DEFAULT_LOCALE)
    return f"{get_settings().function_url(action)}?{urlencode({'token': token, 'lang': lang})}"


def meeting_of(owner: Owner, booking: dict[str, Any], *, with_links: bool = True,
               seats: tuple[int, int] | None = None) -> Meeting:
    """`seats`: for a seat of a group event, (seats taken, seats) of its slot."""
    guest = booking["guest"]
    answers = tuple((q, a) for q, a in zip(booking.get("questions", []),
                                           booking.get("answers", []), strict=False))
    host = urlsplit(get_settings().need("base_url")).hostname or "booking.local"
    return Meeting(
        booking_id=booking["id"],
        # A Meet-link follow-up re-sends the invitation without a new booking version: its
        # revision keeps the .ics SEQUENCE rising all the same.
        sequence=int(booking.get("sequence", 0)) + int(booking.get("ics_revision", 0)),
        title=booking["title"],
        description=booking.get("description", ""),
        start=booking["start"],
        end=booking["end"],
        owner_name=owner.name,
        owner_email=owner.email,
        owner_time_zone=owner.time_zone,
        guest_name=guest["name"],
        guest_email=guest["email"],
        guest_time_zone=guest["time_zone"],
        notes=booking.get("notes", ""),
        answers=answers,
        meet_link=booking.get("meet_link"),
        location=booking.get("location_text", ""),
        event_link=booking.get("html_link"),
        cancel_url=link(owner.id, booking, "cancel") if with_links else None,
        reschedule_url=link(owner.id, booking, "reschedule") if with_links else None,
        uid_domain=host,
        guest_locale=guest.get("locale", DEFAULT_LOCALE),
        owner_locale=owner.language,
        alarm_minutes=tuple(sorted({int(r["minutes"]) for r in booking.get("reminders", [])},
                                   reverse=True)) or (10,),
        seats_taken=seats[0] if seats else 0,
        seats=seats[1] if seats else 1,
    )


def owe_emails(owner: Owner, booking: dict[str, Any], emails: list[tuple[str, Any]], key: str,
               now: datetime, *, rule: str = "current", after: str | None = None,
               deadline: Deadline | None = None, fresh: bool = False) -> None:
    """Each (recipient kind, Email) is owed once under `key:recipient`, for the booking's
    current sequence (see domain/delivery), after `after:recipient` if given. The recipients
    differ, so their emails are sent at once: the guest's answer waits for one send, not one
    each (within one deadline). `fresh`: `booking` was read just now, so whether the emails
    are still owed is judged from it, not from another read."""
    from booking import fanout
    from booking.services import outbox

    owed = outbox.OwedFor(owner.id, booking["id"], int(booking.get("sequence", 0)), rule)
    fanout.run_all([functools.partial(
        outbox.owe_email, f"{key}:{recipient}", owner.id, email, now, owed_for=owed,
        after=[f"{after}:{recipient}"] if after else [], deadline=deadline,
        booking=booking if fresh else None)
        for recipient, email in emails])


def email_rows(owner: Owner, booking: dict[str, Any], emails: list[tuple[str, Any]], key: str,
               now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """The rows owe_emails would write (rule "current", no email before them), for the caller
    to write in a commit of its own, leased to itself, and deliver (outbox.deliver_written)."""
    from booking.adapters import firestore_outbox
    from booking.services import outbox

    owed = outbox.OwedFor(owner.id, booking["id"], int(booking.get("sequence", 0)))
    return [(oid, firestore_outbox.leased(row, now)) for oid, row in (
        outbox.email_row(f"{key}:{recipient}", owner.id, email, now, owed_for=owed)
        for recipient, email in emails)]


def view(booking: dict[str, Any]) -> dict[str, Any]:
    """What a guest's booking request is answered with (no owner-internal fields): the
    instants in UTC, and again in the zone the guest booked in (`local_*`), so a client shows
    the guest's time without a zone database of its own."""
    zone = ZoneInfo(booking["guest"]["time_zone"])
    return {
        "id": booking["id"],
        "status": booking["status"],
        "event_type": booking["event_type"],
        "title": booking["title"],
        "start": booking["start"].isoformat(),
        "end": booking["end"].isoformat(),
        "time_zone": zone.key,
        "local_start": booking["start"].astimezone(zone).isoformat(),
        "local_end": booking["end"].astimezone(zone).isoformat(),
        "meet_link": booking.get("meet_link"),
        # Booked with Meet, and Google is still making the room (or the event): the link
        # follows by email. False once there is a link, or Google gave none for good.
        "meet_pending": booking["status"] == "confirmed" and bool(booking.get("meet"))
        and not booking.get("meet_link") and not booking.get("meet_status")
        and booking.get("google_status") != "failed",
        # A hold waiting for the guest's confirmation by email: until when it holds.
        **({"hold_until": booking["hold_until"].isoformat()}
           if booking["status"] == "pending" else {}),
    }
