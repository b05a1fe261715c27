"""The emails a booking sends, rendered and ready for the outbox. Pure: no I/O, no clock.

Each email is written for one reader (`Reader`): times in the reader's own zone, the other
party as reply-to, and only the links that reader may hold. The guest's cancel and reschedule
links are bearer tokens, so the owner's copy (email and .ics alike) never carries them; the
owner's Google Calendar link is useless to the guest, so only the owner gets it. Templates see
the reader's view, never the whole `Meeting`, so a template cannot leak a link by mistake.

HTML goes through the autoescaping environment and user text is never marked safe; plain text
is rendered unescaped. Subjects are one line whatever the title or names hold, since a CR or LF
there would be a header break.

The attachment's type is plain ``text/calendar``: SendGrid refuses ``;`` in an attachment's
type, so ``method=REQUEST`` cannot ride on it; the METHOD inside the .ics says the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from booking.domain.email import Attachment, Email
from booking.domain.ics import Wording, invitation, one_line
from booking.domain.meeting import (
    Meeting,
    format_clock,
    format_duration,
    format_range,
    zone_info,
)
from booking.i18n import t, tn
from booking.rendering import render, render_text

Role = Literal["guest", "owner"]
ICS_FILENAME = "invite.ics"
ICS_MIME_TYPE = "text/calendar"
# Below this lead a reminder says "in 2 hours"; from it on, "today" / "tomorrow" / "in 3 days",
# counted in the guest's calendar days, which is how people read a reminder the evening before.
RELATIVE_LEAD_LIMIT_MINUTES = 12 * 60


@dataclass(frozen=True)
class Reader:
    """The meeting as one recipient sees it: their zone, the other party, their links only."""

    role: Role
    locale: str
    name: str
    email: str
    zone: str
    other_name: str
    other_email: str
    title: str
    when: str
    short_start: str
    duration: str
    join_url: str | None
    location: str
    description: str
    notes: str
    answers: tuple[tuple[str, str], ...]
    cancel_url: str | None = None
    reschedule_url: str | None = None
    event_link: str | None = None
    seats: str = ""  # the owner's "2 of 5 taken" for a seat of a group event


def _web_url(url: str | None) -> str | None:
    """The URL when it is http(s), else None: only web links become hrefs and buttons."""
    if not url:
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("http", "https") else None


def _lines(text: str) -> str:
    """CRLF and lone CR as LF, outer blank space trimmed: what the templates split on."""
    return "\n".join(text.splitlines()).strip()


def _place(text: str, locale: str) -> str:
    """A booking stores where it happens as text at booking time ("Phone call" when the owner
    wrote no details): the standard words are read in the reader's language, the owner's own
    details as they wrote them."""
    return {"Phone call": t(locale, "Phone call"),
            "In person": t(locale, "In person")}.get(text.strip(), text)


def reader(m: Meeting, role: Role) -> Reader:
    if role == "guest":
        name, email, zone = m.guest_name, m.guest_email, m.guest_time_zone
        other_name, other_email, locale = m.owner_name, m.owner_email, m.guest_locale
    else:
        name, email, zone = m.owner_name, m.owner_email, m.owner_time_zone
        other_name, other_email, locale = m.guest_name, m.guest_email, m.owner_locale
    return Reader(
        role=role,
        locale=locale,
        name=name,
        email=email,
        zone=zone,
        other_name=other_name,
        other_email=other_email,
        title=m.title,
        when=m.when(zone, locale),
        short_start=m.short_start(zone, locale),
        duration=format_duration(m.duration_minutes, locale),
        join_url=_web_url(m.meet_link),
        location=one_line(_place(m.location, locale)),
        description=_lines(m.description),
        # The guest's address is whatever the form said: their copy carries no text from the
        # request, or anyone could have our sender mail their words to anyone (issue 14).
        notes=_lines(m.notes) if role == "owner" else "",
        answers=tuple((one_line(q), _lines(a)) for q, a in m.answers
                      if a.strip() and role == "owner"),
        cancel_url=_web_url(m.cancel_url) if role == "guest" else None,
        reschedule_url=_web_url(m.reschedule_url) if role == "guest" else None,
        event_link=_web_url(m.event_link) if role == "owner" else None,
        seats=t(locale, "%(taken)s of %(seats)s taken", taken=m.seats_taken, seats=m.seats)
        if role == "owner" and m.seats > 1 else "",
    )


def _readers(m: Meeting) -> list[Reader]:
    return [reader(m, "guest"), reader(m, "owner")]


def _subject(kind: str, r: Reader, lead: str = "") -> str:
    """``Confirmed: Intro call with Ana Novak — Tue 1 Dec 09:00``, on one line whatever it holds."""
    prefix = {
        "confirmation": t(r.locale, "Confirmed"),
        "reschedule": t(r.locale, "Rescheduled"),
        "cancellation": t(r.locale, "Cancelled"),
        "reminder": t(r.locale, "Reminder"),
        "conflict": t(r.locale, "Conflict"),
        "declined": t(r.locale, "Declined"),
        "check": t(r.locale, "Check"),
        "meet_link": t(r.locale, "Video link"),
        "confirm_request": t(r.locale, "Please confirm"),
    }[kind]
    with_other = t(r.locale, "%(title)s with %(other)s", title=r.title, other=r.other_name)
    return one_line(f"{prefix}: {with_other} {lead} — {r.short_start}")


def _invite(m: Meeting, r: Reader, *, method: str, stamp: datetime) -> Attachment:
    # The owner's copy of the .ics must not carry the guest's cancel and reschedule tokens; the
    # guest's carries no text from the request (see `reader`).
    seen = replace(m, notes="", answers=()) if r.role == "guest" else \
        replace(m, cancel_url=None, reschedule_url=None)
    # The reader's calendar entry names the other person, in the reader's language, as the
    # email it came with does.
    wording = Wording(
        summary=t(r.locale, "%(title)s with %(other)s", title=r.title, other=r.other_name),
        notes=t(r.locale, "Notes"),
        join=t(r.locale, "Join the video call"),
        changes=t(r.locale, "Need to make a change?"),
        cancel=t(r.locale, "Cancel"),
        reschedule=t(r.locale, "Reschedule"),
    )
    return Attachment(ICS_FILENAME, ICS_MIME_TYPE,
                      invitation(seen, method=method, stamp=stamp, wording=wording))


def _email(
    r: Reader,
    *,
    template: str,
    subject: str,
    category: str,
    attachment: Attachment | None = None,
    reply_to: bool = True,
    **extra: Any,
) -> Email:
    context = {"v": r, "subject": subject, **extra}
    return Email(
        to_email=r.email,
        to_name=one_line(r.name),
        subject=subject,
        text=render_text(f"email/{template}.txt", r.locale, **context),
        html=render(f"email/{template}.html", r.locale, **context),
        attachments=(attachment,) if attachment else (),
        category=category,
        reply_to=r.other_email if reply_to else None,
    )


def confirmation_emails(m: Meeting, *, stamp: datetime) -> list[tuple[str, Email]]:
    """[("guest", email), ("owner", email)] for a new booking, each with the REQUEST .ics."""
    return [
        (
            r.role,
            _email(
                r,
                template="confirmation",
                subject=_subject("confirmation", r),
                category="confirmation",
                attachment=_invite(m, r, method="REQUEST", stamp=stamp),
            ),
        )
        for r in _readers(m)
    ]


def confirm_request_email(m: Meeting, *, confirm_url: str, hold_until: datetime) -> Email:
    """The one email a booking that waits for confirmation sends: to the guest, with the
    signed confirm link. The address is not confirmed yet, so it carries nothing the request
    wrote, not even the guest's name (only the owner's event type, the time and the owner), and
    no invitation: nothing is booked until the guest confirms."""
    r = replace(reader(m, "guest"), name="", join_url=None)
    return _email(r, template="confirm_request", subject=_subject("confirm_request", r),
                  category="confirm_request", reply_to=False, confirm_url=_web_url(confirm_url),
                  until=format_clock(hold_until, r.zone))


def reschedule_emails(
    m: Meeting, *, previous_start: datetime, previous_end: datetime, stamp: datetime,
    moved_by: Role | None = None,
) -> list[tuple[str, Email]]:
    """Both parties: the old time struck through, the new one, and the updated .ics; who moved
    it (`moved_by`, "guest" or "owner") when known, so neither wonders whether they did.

    `m` is the booking after the move, its `sequence` already raised by the caller; the UID is
    unchanged, so calendars move the existing entry instead of adding a second one.
    """
    if previous_end <= previous_start:
        raise ValueError("previous_end must be after previous_start")
    if moved_by not in (None, "guest", "owner"):
        raise ValueError(f"moved_by must be 'guest' or 'owner', got {moved_by!r}")
    return [
        (
            r.role,
            _email(
                r,
                template="reschedule",
                subject=_subject("reschedule", r),
                category="reschedule",
                attachment=_invite(m, r, method="REQUEST", stamp=stamp),
                previous_when=format_range(previous_start, previous_end, r.zone, r.locale),
                by_reader=moved_by == r.role, by_other=moved_by not in (None, r.role),
            ),
        )
        for r in _readers(m)
    ]


def meet_link_emails(m: Meeting, *, stamp: datetime) -> list[tuple[str, Email]]:
    """Both parties, when the Meet link came after the confirmation: the link and the updated
    invitation (the caller raised `m.sequence`, so calendars replace the entry)."""
    if not m.meet_link:
        raise ValueError("meet_link_emails needs a meeting with its Meet link")
    return [
        (
            r.role,
            _email(
                r,
                template="meet_link",
                subject=_subject("meet_link", r),
                category="meet_link",
                attachment=_invite(m, r, method="REQUEST", stamp=stamp),
            ),
        )
        for r in _readers(m)
    ]


def cancellation_emails(
    m: Meeting, *, reason: str, cancelled_by: str, stamp: datetime
) -> list[tuple[str, Email]]:
    """Both parties, with a METHOD:CANCEL .ics; `cancelled_by` is "guest" or "owner"."""
    if cancelled_by not in ("guest", "owner"):
        raise ValueError(f"cancelled_by must be 'guest' or 'owner', got {cancelled_by!r}")
    emails: list[tuple[str, Email]] = []
    for full in _readers(m):
        # Nothing left to join, cancel, reschedule or open.
        r = replace(full, join_url=None, cancel_url=None, reschedule_url=None, event_link=None)
        emails.append(
            (
                r.role,
                _email(
                    r,
                    template="cancellation",
                    subject=_subject("cancellation", r),
                    category="cancellation",
                    attachment=_invite(m, r, method="CANCEL", stamp=stamp),
                    by_reader=cancelled_by == r.role,
                    reason=_lines(reason),
                ),
            )
        )
    return emails


def reminder_lead(minutes_before: int, start: datetime, stamp: datetime, zone: str,
                  locale: str = "en") -> str:
    """How soon, in words: ``in 1 hour`` for short leads, else ``today`` / ``tomorrow`` /
    ``in 2 days`` by the reader's calendar days between `stamp` and `start`.

    Short leads use the configured `minutes_before`, not ``start - stamp``, so a reminder job
    that runs a minute late still says "in 1 hour" rather than "in 59 minutes".
    """
    if minutes_before <= 0:
        raise ValueError(f"minutes_before must be positive, got {minutes_before}")
    if minutes_before < RELATIVE_LEAD_LIMIT_MINUTES:
        # Whole units, so each language can inflect them (Slovenian: "čez 1 uro", "čez 2 uri").
        if minutes_before % 60 == 0:
            hours = minutes_before // 60
            return tn(locale, "in %(num)s hour", "in %(num)s hours", hours)
        return tn(locale, "in %(num)s minute", "in %(num)s minutes", minutes_before)
    tz = zone_info(zone)
    days = (start.astimezone(tz).date() - stamp.astimezone(tz).date()).days
    if days <= 0:
        return t(locale, "today")
    if days == 1:
        return t(locale, "tomorrow")
    return tn(locale, "in %(num)s day", "in %(num)s days", days)


def reminder_email(m: Meeting, *, minutes_before: int, stamp: datetime) -> Email:
    """The guest's reminder, with the join link and the cancel button."""
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ValueError(f"stamp must be timezone-aware, got {stamp!r}")
    r = reader(m, "guest")
    lead = reminder_lead(minutes_before, m.start, stamp, r.zone, r.locale)
    return _email(
        r,
        template="reminder",
        subject=_subject("reminder", r, lead),
        category="reminder",
        lead=lead,
    )


def conflict_email(m: Meeting, *, conflicts: list[str]) -> Email:
    """Tells the owner that busy time now overlaps a confirmed booking.

    `conflicts` names each overlapping event, e.g. ``"Dentist (Personal calendar)"``. The guest
    is not told; deciding what to do is the owner's.
    """
    names = [one_line(c) for c in conflicts if c.strip()]
    if not names:
        raise ValueError("conflict_email needs at least one conflicting event")
    r = reader(m, "owner")
    return _email(
        r,
        template="conflict",
        subject=_subject("conflict", r),
        category="conflict",
        reply_to=False,
        conflicts=names,
    )


def declined_email(m: Meeting) -> Email:
    """Tells the owner that the guest declined the invitation in their calendar. The booking
    stands until someone cancels it; the owner decides."""
    r = reader(m, "owner")
    return _email(r, template="declined", subject=_subject("declined", r), category="declined")


def changed_in_google_email(m: Meeting, *, problems: list[str]) -> Email:
    """Tells the owner that a meeting they moved in Google Calendar now breaks their own
    rules or overlaps another booking (`problems`: "overlap", "hours"). Google's time
    stands; the owner decides."""
    r = reader(m, "owner")
    texts = {"overlap": t(r.locale, "overlaps another booking"),
             "hours": t(r.locale, "is outside your working hours for this event type")}
    names = [texts[p] for p in problems]
    if not names:
        raise ValueError("changed_in_google_email needs at least one problem")
    return _email(r, template="moved_conflict", subject=_subject("check", r),
                  category="conflict", reply_to=False, problems=names)
