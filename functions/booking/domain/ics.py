"""The iCalendar (RFC 5545) invitation attached to booking emails, as iTIP (RFC 5546) messages.

Built with the icalendar library rather than by joining strings, because the format is easy to
get almost right: TEXT values need ``\\``, ``;``, ``,`` and newlines escaped; parameter values
such as CN need quoting, and RFC 6868 caret-encoding for quotes and newlines; lines longer than
75 octets must be folded without splitting a UTF-8 character; DATE-TIME values must be written
in UTC with the ``Z`` suffix. A guest's name with a comma or a note with a newline is exactly
where hand-written output breaks Outlook or Google Calendar.

The UID is the booking's own (`Meeting.uid`), so every later message about the booking updates
the same calendar entry: a reschedule is a REQUEST with a higher SEQUENCE, a cancellation a
CANCEL with STATUS:CANCELLED. `stamp` (DTSTAMP) is an argument, so the output is a pure
function of its inputs.

Each copy is written for its reader (`Wording`): the guest's calendar entry is about meeting
the host, the owner's about meeting the guest, each in the reader's own language. The defaults
are the owner's English words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from booking.domain.meeting import Meeting

PRODID = "-//Booking//Booking invitations 1.0//EN"
METHODS = ("REQUEST", "CANCEL")


class PersonText(vText):
    """A TEXT value escaped exactly as RFC 5545 says.

    icalendar's own escaping first reads a literal ``\\N`` as an already-escaped line break, so
    a guest who types ``\\N`` in their name or notes would get a line break in every reader.
    Text a person typed is never pre-escaped.
    """

    def to_ical(self) -> bytes:
        text = str(self).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        return text.replace("\r\n", "\n").replace("\n", "\\n").encode("utf-8")


def one_line(text: str) -> str:
    """Any run of whitespace, newlines included, as one space: for summaries and names."""
    return " ".join(text.split())


def common_name(name: str) -> str:
    """A CN parameter value: one line, and no backslash.

    RFC 5545 gives ``\\`` no meaning in parameter values, and icalendar writes it bare, but
    readers still take it as an escape (icalendar's own parser, collective/icalendar#1497; older
    ical.js, kewisch/ical.js#536): a name ending in ``\\`` swallows the ``;`` after it and the
    next parameter with it. A display name loses nothing by showing ``/`` instead.
    """
    return one_line(name).replace("\\", "/")


def summary(m: Meeting) -> str:
    return one_line(f"{m.title} with {m.guest_name}")


@dataclass(frozen=True)
class Wording:
    """The words of one reader's copy, already in their language. `summary` None is the
    owner's English "<title> with <guest>"; `notes` None is "Notes from <guest>"."""

    summary: str | None = None
    notes: str | None = None
    join: str = "Join the video call"
    changes: str = "Need to make a change?"
    cancel: str = "Cancel"
    reschedule: str = "Reschedule"


def _description(m: Meeting, method: str, w: Wording) -> str:
    parts = []
    if m.description.strip():
        parts.append("\n".join(m.description.splitlines()).strip())
    notes = "\n".join(m.notes.splitlines()).strip()
    if notes:
        heading = w.notes if w.notes is not None else f"Notes from {one_line(m.guest_name)}"
        parts.append(f"{heading}:\n{notes}")
    if method == "REQUEST":
        # A cancelled meeting has nothing to join and nothing left to change.
        if m.meet_link:
            parts.append(f"{w.join}: {m.meet_link}")
        changes = [
            f"{label}: {url}"
            for label, url in ((w.cancel, m.cancel_url), (w.reschedule, m.reschedule_url))
            if url
        ]
        if changes:
            parts.append(w.changes + "\n" + "\n".join(changes))
    return "\n\n".join(parts)


def invitation(m: Meeting, *, method: str = "REQUEST", stamp: datetime,
               wording: Wording = Wording()) -> bytes:
    """The .ics bytes for `m`: a VCALENDAR with METHOD `method` and one VEVENT.

    REQUEST is a new or updated booking (STATUS:CONFIRMED, with a display alarm at each of
    `m.alarm_minutes`);
    CANCEL withdraws it (STATUS:CANCELLED, no alarm, no join or cancel links). A REQUEST's
    DESCRIPTION carries whatever links `m` has, so give a reader who must not hold the guest's
    cancel link a copy without `cancel_url` and `reschedule_url`.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ValueError(f"stamp must be timezone-aware, got {stamp!r}")
    cancel = method == "CANCEL"

    organizer = vCalAddress.new(f"mailto:{m.owner_email}", cn=common_name(m.owner_name))
    attendee = vCalAddress.new(
        f"mailto:{m.guest_email}",
        cn=common_name(m.guest_name),
        role="REQ-PARTICIPANT",
        partstat="NEEDS-ACTION",
        rsvp=False,
    )
    event = Event()
    event.add("uid", m.uid)
    event.add("sequence", m.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", m.start)
    event.add("dtend", m.end)
    title = one_line(wording.summary) if wording.summary is not None else summary(m)
    event.add("summary", PersonText(title))
    description = _description(m, method, wording)
    if description:
        event.add("description", PersonText(description))
    location = m.meet_link or one_line(m.location)
    if location:
        event.add("location", PersonText(location))
    event.add("organizer", organizer)
    event.add("attendee", attendee)
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    if m.meet_link:
        event.add("url", m.meet_link)
    for minutes in () if cancel else m.alarm_minutes:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", PersonText(title))
        alarm.add("trigger", -timedelta(minutes=minutes))
        event.add_component(alarm)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
