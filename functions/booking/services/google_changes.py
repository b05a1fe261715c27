"""Changes the owner made in Google Calendar, applied to bookings here (the "apply" of sync).

Google wins: a meeting moved there is moved here even onto a clash or outside the rules (the
owner is then told); deleted there is cancelled here. Each function is idempotent: it re-reads
the booking and does nothing when the booking already says what Google says, and every email
is owed under a key, in the same transaction as the change, so a repeated push or an overlapping
sync has one effect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booking import log
from booking.adapters import firestore_bookings as bookings
from booking.adapters.firestore_bookings import Transition
from booking.domain import seats as seat_rules
from booking.domain.availability import Booked, owner_day, working_ranges
from booking.domain.booking_rules import clashes, ledger_days
from booking.domain.intervals import Interval
from booking.domain.model import CalendarRef, Owner
from booking.domain.rules import AvailabilityRules
from booking.errors import Conflict, Gone, NotFound
from booking.services import changes, event_types, meetings, outbox, reminders

ATTEMPTS = 3


class _Stale(Exception):
    """The booking changed between preparing the emails and the commit: prepare again."""


def _rules(owner: Owner, booking: dict[str, Any]) -> AvailabilityRules | None:
    try:
        return event_types.load(owner, booking["event_type"]).rules
    except NotFound:
        return None


def moved(owner: Owner, booking_id: str, span: Interval, now: datetime) -> bool:
    """Reschedules to Google's time; both people get the reschedule emails (same UID,
    SEQUENCE + 1). No Google write: the event is already there."""
    for _ in range(ATTEMPTS):
        try:
            return _moved(owner, booking_id, span, now)
        except _Stale:
            continue
    raise Conflict("the booking kept changing while a Google move was applied")


def _moved(owner: Owner, booking_id: str, span: Interval, now: datetime) -> bool:
    from booking.services.notifications import changed_in_google_email, reschedule_emails

    current = bookings.get(owner.id, booking_id)
    if current["status"] != "confirmed" or (current["start"], current["end"]) == \
            (span.start, span.end):
        return False
    rules = _rules(owner, current)
    zone = rules.zone if rules else _owner_zone(owner)
    days = ledger_days(span.start, zone)
    sequence = int(current.get("sequence", 0)) + 1
    staged = {**current, "start": span.start, "end": span.end, "sequence": sequence,
              "version": int(current.get("version", 1)) + 1}
    meeting = meetings.meeting_of(owner, staged)
    rows = changes.email_rows(owner, reschedule_emails(
        # Moved in the owner's Google Calendar: by the owner (or someone they let edit it).
        meeting, previous_start=current["start"], previous_end=current["end"], stamp=now,
        moved_by="owner"),
        f"{booking_id}:reschedule:{sequence}", now,
        owed_for=outbox.OwedFor(owner.id, booking_id, sequence))
    moved_to = Booked(span, _minutes(current, "buffer_before_minutes"),
                      _minutes(current, "buffer_after_minutes"))
    owed = [row_id for row_id, _ in rows]

    def decide(booking: dict[str, Any], ledger: bookings.Ledger) -> Transition:
        if booking["status"] != "confirmed" or int(booking.get("sequence", 0)) + 1 != sequence:
            raise _Stale
        problems = []
        others = ledger.booked(exclude=booking_id)
        if booking.get("group_id"):
            # The group's other seats move with it (each its own transition).
            others = seat_rules.without(others, booking["group_id"])
        if clashes(moved_to, others):
            problems.append("overlap")
        if rules is not None and not _in_working_hours(rules, span):
            problems.append("hours")
        extra = []
        if problems:
            email = changed_in_google_email(meetings.meeting_of(owner, staged, with_links=False),
                                            problems=problems)
            extra = changes.email_rows(owner, [("owner", email)],
                                       f"{booking_id}:moved_conflict:{sequence}", now,
                                       owed_for=outbox.OwedFor(owner.id, booking_id, sequence))
            owed.extend(row_id for row_id, _ in extra)
        return Transition(
            fields={"start": span.start, "end": span.end, "sequence": sequence,
                    "version": staged["version"], "ledger_day": days[1], "ledger_days": days,
                    "rescheduled_at": now, "rescheduled_by": "google", "updated_at": now,
                    "previous_start": booking["start"], "written_start": span.start,
                    "written_end": span.end,
                    # The reminders follow the new time (resync finds them by this moment):
                    # moved earlier, the old moment would come after the meeting.
                    "next_reminder_at": reminders.next_at({**booking, "start": span.start,
                                                           "rescheduled_at": now})},
            remove=tuple(booking["ledger_days"]), add=tuple(days),
            outbox_rows=(*rows, *extra))

    after = bookings.transition(owner.id, booking_id,
                                lambda b: sorted({*days, *b["ledger_days"]}), decide, now=now)
    _deliver(list(dict.fromkeys(owed)), now)
    log.info("booking moved in google", owner=owner.id, booking=booking_id,
             start=after["start"].isoformat())
    return True


def cancelled(owner: Owner, booking_id: str, now: datetime) -> bool:
    """Cancels a booking whose event the owner deleted in Google; both people are told."""
    for _ in range(ATTEMPTS):
        try:
            changes.cancel(owner, booking_id, version=None, reason="", by="owner", now=now,
                           google=False)
        except Gone:
            return False  # cancelled already: by us, or by an earlier sync of this change
        except Conflict:
            continue
        log.info("booking cancelled in google", owner=owner.id, booking=booking_id)
        return True
    return False


def declined(owner: Owner, booking_id: str, now: datetime) -> bool:
    """The guest declined in their calendar: the booking is marked and the owner told, once
    per decline (a repeated push or an overlapping sync owes the same email, under the same
    key; a decline after the guest had answered otherwise is a new one)."""
    from booking.services.notifications import declined_email

    booking = bookings.get(owner.id, booking_id)
    if booking["status"] != "confirmed" or booking.get("guest_response") == "declined":
        return False
    count = int(booking.get("guest_declines", 0)) + 1
    email = declined_email(meetings.meeting_of(owner, booking, with_links=False))
    meetings.owe_emails(owner, booking, [("owner", email)],
                        f"{booking_id}:declined:{booking.get('sequence', 0)}:{count}", now)
    bookings.update(owner.id, booking_id, {"guest_response": "declined",
                                           "guest_declined_at": now, "guest_declines": count})
    return True


def answered(owner: Owner, booking_id: str) -> bool:
    """The guest who had declined no longer does (accepted after all, or Google reset the
    answer when the meeting moved: "start time/date/timezone" changes reset RSVPs): the mark
    is lifted, so their next decline is told."""
    booking = bookings.get(owner.id, booking_id)
    if booking.get("guest_response") != "declined":
        return False
    bookings.update(owner.id, booking_id, {"guest_response": "answered"})
    return True


def followed(owner: Owner, booking_id: str, calendar: CalendarRef, now: datetime) -> bool:
    """The owner moved the event to another of their calendars: later writes go there, and a
    calendar we did not watch is watched from now on, so a later move or delete there comes
    back too."""
    booking = bookings.get(owner.id, booking_id)
    if booking.get("calendar") == calendar.to_dict():
        return False
    bookings.update(owner.id, booking_id, {"calendar": calendar.to_dict()})
    _watch(owner, calendar, now)
    return True


def _watch(owner: Owner, calendar: CalendarRef, now: datetime) -> None:
    from booking.adapters import firestore_owners
    from booking.services import watch
    from booking.services.sync import watched_calendars

    conn = firestore_owners.find_connection(owner.id, calendar.connection_id)
    if conn is None or calendar.calendar_id in watched_calendars(owner, conn):
        return
    firestore_owners.add_booking_calendar(owner.id, conn.id, calendar.calendar_id)
    watch.reconcile(firestore_owners.get_owner(owner.id), now)


def _in_working_hours(rules: AvailabilityRules, span: Interval) -> bool:
    day = owner_day(span.start, rules.zone)
    return any(r.contains(span) for r in working_ranges(rules, [day]))


def _minutes(booking: dict[str, Any], name: str) -> Any:
    from datetime import timedelta

    return timedelta(minutes=int(booking.get(name, 0)))


def _owner_zone(owner: Owner) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(owner.time_zone)


def _deliver(row_ids: list[str], now: datetime) -> None:
    for row_id in row_ids:
        outbox.deliver(row_id, now)
