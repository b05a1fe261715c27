"""Booking emails as each reader gets them: their own zone, their own links, nothing unescaped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

import pytest
from icalendar import Calendar, Event

from booking.domain.email import Email
from booking.domain.meeting import Meeting, format_duration, format_range, format_short
from booking.services.notifications import (
    cancellation_emails,
    confirm_request_email,
    confirmation_emails,
    conflict_email,
    meet_link_emails,
    reminder_email,
    reminder_lead,
    reschedule_emails,
)

STAMP = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CANCEL_URL = "https://book.example.com/cancel?t=tok.en&x=1"
RESCHEDULE_URL = "https://book.example.com/reschedule?t=tok.en&x=1"
EVENT_LINK = "https://www.google.com/calendar/event?eid=abc123&ctz=UTC"
MEET_LINK = "https://meet.google.com/abc-defg-hij"
SCRIPT = "<script>alert(1)</script>"


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def meeting(**changes: Any) -> Meeting:
    fields: dict[str, Any] = {
        "booking_id": "bk_123",
        "sequence": 0,
        "title": "Intro call",
        "description": "A first chat.",
        "start": z("2026-12-01T08:00"),
        "end": z("2026-12-01T08:30"),
        "owner_name": "Maja Kovač",
        "owner_email": "maja@example.com",
        "owner_time_zone": "Europe/Ljubljana",
        "guest_name": "Ana Novak",
        "guest_email": "ana@example.org",
        "guest_time_zone": "America/New_York",
        "notes": "",
        "answers": (),
        "meet_link": MEET_LINK,
        "location": "Google Meet",
        "event_link": EVENT_LINK,
        "cancel_url": CANCEL_URL,
        "reschedule_url": RESCHEDULE_URL,
    }
    fields.update(changes)
    return Meeting(**fields)


def by_role(emails: list[tuple[str, Email]]) -> dict[str, Email]:
    assert [role for role, _ in emails] == ["guest", "owner"]
    return dict(emails)


def all_four(m: Meeting) -> list[tuple[str, list[tuple[str, Email]]]]:
    """Every two-party email kind, for the checks that hold for each of them."""
    return [
        ("confirmation", confirmation_emails(m, stamp=STAMP)),
        (
            "reschedule",
            reschedule_emails(
                m,
                previous_start=m.start - timedelta(days=1),
                previous_end=m.end - timedelta(days=1),
                stamp=STAMP,
            ),
        ),
        ("cancellation", cancellation_emails(m, reason="", cancelled_by="guest", stamp=STAMP)),
    ]


def invite(email: Email) -> tuple[Calendar, Event]:
    [attachment] = email.attachments
    assert attachment.filename == "invite.ics"
    calendar = Calendar.from_ical(attachment.content)
    [event] = calendar.events
    return calendar, event


def everything(email: Email) -> str:
    """All a recipient can read: subject, both parts and the attachments."""
    parts = [email.subject, email.text, email.html]
    parts += [a.content.decode() for a in email.attachments]
    return "\n".join(parts)


# --- times as each reader sees them ------------------------------------------------------------


def test_confirmation_shows_each_reader_their_own_wall_clock() -> None:
    emails = by_role(confirmation_emails(meeting(), stamp=STAMP))
    guest, owner = emails["guest"], emails["owner"]

    new_york = "Tuesday, 1 December 2026, 03:00–03:30 (America/New_York, GMT-05:00)"
    ljubljana = "Tuesday, 1 December 2026, 09:00–09:30 (Europe/Ljubljana, GMT+01:00)"
    assert new_york in guest.text and new_york in guest.html
    assert ljubljana in owner.text and ljubljana in owner.html
    assert ljubljana not in guest.text and new_york not in owner.text
    assert guest.subject == "Confirmed: Intro call with Maja Kovač — Tue 1 Dec 03:00"
    assert owner.subject == "Confirmed: Intro call with Ana Novak — Tue 1 Dec 09:00"


@pytest.mark.parametrize(
    ("start", "guest_when", "owner_when"),
    [
        # Both zones on winter time: six hours apart.
        (
            "2026-03-02T13:00",
            "Monday, 2 March 2026, 08:00–08:30 (America/New_York, GMT-05:00)",
            "Monday, 2 March 2026, 14:00–14:30 (Europe/Ljubljana, GMT+01:00)",
        ),
        # The US sprang forward on 8 March, Europe waits until 29 March: five hours apart.
        (
            "2026-03-09T13:00",
            "Monday, 9 March 2026, 09:00–09:30 (America/New_York, GMT-04:00)",
            "Monday, 9 March 2026, 14:00–14:30 (Europe/Ljubljana, GMT+01:00)",
        ),
        (
            "2026-03-27T13:00",
            "Friday, 27 March 2026, 09:00–09:30 (America/New_York, GMT-04:00)",
            "Friday, 27 March 2026, 14:00–14:30 (Europe/Ljubljana, GMT+01:00)",
        ),
        # Europe's change day itself: 02:00 CET became 03:00 CEST at 01:00 UTC.
        (
            "2026-03-29T13:00",
            "Sunday, 29 March 2026, 09:00–09:30 (America/New_York, GMT-04:00)",
            "Sunday, 29 March 2026, 15:00–15:30 (Europe/Ljubljana, GMT+02:00)",
        ),
        # Both on summer time: six hours apart again.
        (
            "2026-03-30T13:00",
            "Monday, 30 March 2026, 09:00–09:30 (America/New_York, GMT-04:00)",
            "Monday, 30 March 2026, 15:00–15:30 (Europe/Ljubljana, GMT+02:00)",
        ),
    ],
)
def test_local_times_across_the_weeks_the_two_zones_change_clocks_apart(
    start: str, guest_when: str, owner_when: str
) -> None:
    m = meeting(start=z(start), end=z(start) + timedelta(minutes=30))
    for _kind, emails in all_four(m):
        guest, owner = by_role(emails)["guest"], by_role(emails)["owner"]
        assert guest_when in guest.text and guest_when in guest.html
        assert owner_when in owner.text and owner_when in owner.html
        _, event = invite(guest)
        assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (m.start, m.end)


def test_a_guest_in_kathmandu_sees_the_quarter_hour_offset() -> None:
    m = meeting(guest_time_zone="Asia/Kathmandu")
    guest = by_role(confirmation_emails(m, stamp=STAMP))["guest"]

    assert "Tuesday, 1 December 2026, 13:45–14:15 (Asia/Kathmandu, GMT+05:45)" in guest.text
    assert guest.subject.endswith("— Tue 1 Dec 13:45")


def test_a_meeting_past_local_midnight_names_both_days() -> None:
    m = meeting(start=z("2026-12-01T04:30"), end=z("2026-12-01T05:30"))
    guest = by_role(confirmation_emails(m, stamp=STAMP))["guest"]

    assert (
        "Monday, 30 November 2026, 23:30 – Tuesday, 1 December 2026, 00:30 "
        "(America/New_York, GMT-05:00)"
    ) in guest.text


def test_a_range_over_a_clock_change_gives_each_end_its_own_offset() -> None:
    # 25 October 2026 in Ljubljana: 03:00 CEST falls back to 02:00 CET at 01:00 UTC.
    text = format_range(z("2026-10-25T00:30"), z("2026-10-25T01:30"), "Europe/Ljubljana")

    assert text == "Sunday, 25 October 2026, 02:30 GMT+02:00 – 02:30 GMT+01:00 (Europe/Ljubljana)"


def test_short_start_and_duration_wording() -> None:
    assert format_short(z("2026-12-01T08:00"), "Europe/Ljubljana") == "Tue 1 Dec 09:00"
    assert [format_duration(n) for n in (15, 60, 90, 1440, 1500)] == [
        "15 minutes", "1 hour", "1 hour 30 minutes", "1 day", "1 day 1 hour",
    ]


def test_a_meeting_needs_aware_ordered_times_and_known_zones() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        meeting(start=datetime(2026, 12, 1, 8, 0))
    with pytest.raises(ValueError, match="after"):
        meeting(end=z("2026-12-01T08:00"))
    with pytest.raises(ValueError, match="guest_time_zone"):
        meeting(guest_time_zone="Mars/Olympus_Mons")
    assert meeting().duration_minutes == 30
    assert meeting().uid == "bk_123@booking.local"


# --- confirmation ------------------------------------------------------------------------------


def test_confirmation_carries_the_request_invite_and_replies_go_to_the_other_party() -> None:
    emails = by_role(confirmation_emails(meeting(), stamp=STAMP))

    for role, other in (("guest", "maja@example.com"), ("owner", "ana@example.org")):
        email = emails[role]
        assert email.category == "confirmation"
        assert email.reply_to == other
        [attachment] = email.attachments
        # SendGrid refuses ";" in an attachment type, so no method=REQUEST parameter here.
        assert attachment.mime_type == "text/calendar"
        calendar, event = invite(email)
        assert str(calendar["METHOD"]) == "REQUEST"
        assert str(event["UID"]) == "bk_123@booking.local"
        assert Email.from_dict(email.to_dict()) == email
    assert emails["guest"].to_email == "ana@example.org"
    assert emails["owner"].to_email == "maja@example.com"


def test_confirmation_shows_duration_meet_link_notes_and_answers() -> None:
    m = meeting(
        notes="First line\r\nSecond line",
        answers=(("Company", "Acme & Sons"), ("Topic", "Pricing\nand terms")),
    )
    emails = by_role(confirmation_emails(m, stamp=STAMP))
    for email in emails.values():
        assert "30 minutes" in email.text and "30 minutes" in email.html
        assert MEET_LINK in email.text
        assert f'href="{MEET_LINK}"' in email.html
    # The guest's address is unconfirmed: the guest's copy holds no text from the request.
    assert "First line" not in everything(emails["guest"]) and "Acme" not in everything(
        emails["guest"])
    for email in (emails["owner"],):
        assert "First line\nSecond line" in email.text
        assert "First line<br>Second line" in email.html
        assert "Company" in email.text and "Acme & Sons" in email.text
        assert "Acme &amp; Sons" in email.html
        assert "Pricing<br>and terms" in email.html


def test_without_a_meet_link_the_location_is_shown() -> None:
    m = meeting(meet_link=None, location="Trubarjeva 5, Ljubljana")
    for email in by_role(confirmation_emails(m, stamp=STAMP)).values():
        assert "Trubarjeva 5, Ljubljana" in email.text
        assert "Trubarjeva 5, Ljubljana" in email.html
        assert "meet.google.com" not in everything(email)


def test_cancel_and_reschedule_links_reach_the_guest_only() -> None:
    emails = by_role(confirmation_emails(meeting(), stamp=STAMP))
    guest, owner = emails["guest"], emails["owner"]

    assert f'href="{escape(CANCEL_URL)}"' in guest.html
    assert f'href="{escape(RESCHEDULE_URL)}"' in guest.html
    assert CANCEL_URL in guest.text and RESCHEDULE_URL in guest.text
    assert "Cancel booking" in guest.html
    _, guest_event = invite(guest)
    assert CANCEL_URL in str(guest_event["DESCRIPTION"])
    # The owner's copy, .ics included, holds neither token.
    for secret in ("tok.en", "/cancel", "/reschedule"):
        assert secret not in everything(owner)


def test_the_calendar_event_link_reaches_the_owner_only() -> None:
    emails = by_role(confirmation_emails(meeting(), stamp=STAMP))

    assert f'href="{escape(EVENT_LINK)}"' in emails["owner"].html
    assert EVENT_LINK in emails["owner"].text
    assert "eid=abc123" not in everything(emails["guest"])


def test_without_an_event_link_the_owner_gets_no_calendar_button() -> None:
    owner = by_role(confirmation_emails(meeting(event_link=None), stamp=STAMP))["owner"]

    assert "Open in Google Calendar" not in owner.html
    assert "Open in Google Calendar" not in owner.text


def test_links_that_are_not_web_addresses_never_become_hrefs() -> None:
    m = meeting(meet_link="javascript:alert(1)", cancel_url="data:text/html,x", location="")
    guest = by_role(confirmation_emails(m, stamp=STAMP))["guest"]

    assert "javascript:" not in guest.html
    assert "data:text/html" not in guest.html


# --- escaping ----------------------------------------------------------------------------------


def test_script_in_user_text_is_escaped_in_html_and_verbatim_in_text() -> None:
    m = meeting(
        guest_name=f"Ana {SCRIPT}",
        owner_name=f"Maja {SCRIPT}",
        title=f"Intro {SCRIPT}",
        description=f"About {SCRIPT}",
        notes=f"Notes {SCRIPT}\nmore",
        answers=((f"Q {SCRIPT}", f"A {SCRIPT}"),),
        location=f"Room {SCRIPT}",
        meet_link=None,
    )
    emails = [e for _kind, pair in all_four(m) for _role, e in pair]
    emails += [
        reminder_email(m, minutes_before=60, stamp=STAMP),
        conflict_email(m, conflicts=[f"Dentist {SCRIPT}"]),
    ]
    for email in emails:
        assert "<script" not in email.html.lower()
        assert escape(SCRIPT) in email.html
        assert SCRIPT in email.text
    for email in (by_role(confirmation_emails(m, stamp=STAMP))["owner"],):
        for value in (f"Notes {SCRIPT}", f"Q {SCRIPT}", f"A {SCRIPT}", f"Room {SCRIPT}"):
            assert value in email.text
            assert escape(value) in email.html


def test_subjects_are_one_line_even_when_title_and_names_are_not() -> None:
    m = meeting(title="Intro\r\ncall\nBcc: victim@example.com", guest_name="Ana\rNovak")
    emails = [e for _kind, pair in all_four(m) for _role, e in pair]
    emails += [
        reminder_email(m, minutes_before=60, stamp=STAMP),
        conflict_email(m, conflicts=["Dentist"]),
    ]
    for email in emails:
        assert "\r" not in email.subject and "\n" not in email.subject
        assert "Intro call Bcc: victim@example.com with" in email.subject
        assert "\r" not in email.to_name and "\n" not in email.to_name


# --- reschedule --------------------------------------------------------------------------------


def test_reschedule_strikes_the_old_time_and_shows_the_new_one_in_each_zone() -> None:
    m = meeting(sequence=1, start=z("2026-12-02T14:00"), end=z("2026-12-02T14:30"))
    emails = by_role(
        reschedule_emails(
            m,
            previous_start=z("2026-12-01T08:00"),
            previous_end=z("2026-12-01T08:30"),
            stamp=STAMP,
        )
    )
    guest, owner = emails["guest"], emails["owner"]

    old = "Tuesday, 1 December 2026, 03:00–03:30 (America/New_York, GMT-05:00)"
    new = "Wednesday, 2 December 2026, 09:00–09:30 (America/New_York, GMT-05:00)"
    assert f"<s style=\"color:#57606a;\">{old}</s>" in guest.html
    assert new in guest.html and new in guest.text and old in guest.text
    assert guest.subject == "Rescheduled: Intro call with Maja Kovač — Wed 2 Dec 09:00"
    assert "Tuesday, 1 December 2026, 09:00–09:30 (Europe/Ljubljana" in owner.html
    assert "Wednesday, 2 December 2026, 15:00–15:30 (Europe/Ljubljana" in owner.html
    for email in emails.values():
        assert email.category == "reschedule"
        calendar, event = invite(email)
        assert str(calendar["METHOD"]) == "REQUEST"
        assert str(event["UID"]) == "bk_123@booking.local"
        assert event["SEQUENCE"] == 1
        assert event.decoded("DTSTART") == z("2026-12-02T14:00")
    assert CANCEL_URL in guest.text
    assert "tok.en" not in everything(owner)


def test_reschedule_refuses_a_previous_range_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError, match="previous_end"):
        reschedule_emails(
            meeting(), previous_start=z("2026-12-01T09:00"), previous_end=z("2026-12-01T08:00"),
            stamp=STAMP,
        )


# --- cancellation ------------------------------------------------------------------------------


def test_cancellation_sends_method_cancel_to_both_and_no_links_to_a_dead_booking() -> None:
    m = meeting(sequence=1)
    emails = by_role(cancellation_emails(m, reason="", cancelled_by="guest", stamp=STAMP))

    for email in emails.values():
        assert email.category == "cancellation"
        assert email.subject.startswith("Cancelled: Intro call with ")
        calendar, event = invite(email)
        assert str(calendar["METHOD"]) == "CANCEL"
        assert str(event["STATUS"]) == "CANCELLED"
        assert str(event["UID"]) == m.uid
        assert event["SEQUENCE"] == 1
        for gone in ("tok.en", "eid=abc123", "Cancel booking", "Reason"):
            assert gone not in everything(email)


def test_cancellation_says_who_cancelled_and_why() -> None:
    emails = by_role(
        cancellation_emails(
            meeting(), reason="Ill today.\nSorry <3", cancelled_by="owner", stamp=STAMP
        )
    )

    assert "You cancelled your meeting with Ana Novak" in emails["owner"].text
    assert "Maja Kovač cancelled your meeting" in emails["guest"].text
    for email in emails.values():
        assert "Ill today.\nSorry <3" in email.text
        assert "Ill today.<br>Sorry &lt;3" in email.html


def test_cancellation_refuses_an_unknown_canceller() -> None:
    with pytest.raises(ValueError, match="cancelled_by"):
        cancellation_emails(meeting(), reason="", cancelled_by="admin", stamp=STAMP)


# --- reminder ----------------------------------------------------------------------------------


def test_reminder_goes_to_the_guest_with_join_link_and_cancel_button() -> None:
    m = meeting()
    email = reminder_email(m, minutes_before=60, stamp=m.start - timedelta(hours=1))

    assert email.to_email == "ana@example.org"
    assert email.category == "reminder"
    assert email.subject == "Reminder: Intro call with Maja Kovač in 1 hour — Tue 1 Dec 03:00"
    assert f'href="{MEET_LINK}"' in email.html
    assert f'href="{escape(CANCEL_URL)}"' in email.html
    assert "Cancel booking" in email.html
    assert CANCEL_URL in email.text
    assert "eid=abc123" not in everything(email)


@pytest.mark.parametrize(
    ("minutes_before", "stamp", "lead"),
    [
        (15, "2026-12-01T07:45", "in 15 minutes"),
        (60, "2026-12-01T07:00", "in 1 hour"),
        (120, "2026-12-01T06:00", "in 2 hours"),
        # The meeting is at 03:00 in New York; a day before, it is 03:00 the day before there.
        (1440, "2026-11-30T08:00", "tomorrow"),
        (1440, "2026-11-30T08:05", "tomorrow"),
        (2880, "2026-11-29T08:00", "in 2 days"),
        # 18 hours before 03:00 is 09:00 the day before, still "tomorrow" on the guest's calendar.
        (18 * 60, "2026-11-30T14:00", "tomorrow"),
    ],
)
def test_reminder_lead_wording(minutes_before: int, stamp: str, lead: str) -> None:
    m = meeting()
    assert reminder_lead(minutes_before, m.start, z(stamp), m.guest_time_zone) == lead
    email = reminder_email(m, minutes_before=minutes_before, stamp=z(stamp))
    assert f" {lead} — Tue 1 Dec 03:00" in email.subject


def test_reminder_today_is_by_the_guests_calendar_not_utc() -> None:
    # 23:00 on 1 Dec in New York is 04:00 UTC on 2 Dec; at 10:00 New York time that is today.
    m = meeting(start=z("2026-12-02T04:00"), end=z("2026-12-02T04:30"))

    assert reminder_lead(13 * 60, m.start, z("2026-12-01T15:00"), "America/New_York") == "today"
    assert reminder_lead(13 * 60, m.start, z("2026-12-01T15:00"), "Europe/Ljubljana") == (
        "tomorrow"
    )


def test_reminder_refuses_a_lead_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="minutes_before"):
        reminder_email(meeting(), minutes_before=0, stamp=STAMP)


# --- conflict ----------------------------------------------------------------------------------


def test_conflict_tells_the_owner_which_events_overlap() -> None:
    m = meeting()
    email = conflict_email(m, conflicts=["Dentist (Personal)", "Board meeting (Work)"])

    assert email.to_email == "maja@example.com"
    assert email.category == "conflict"
    assert email.attachments == ()
    assert email.subject == "Conflict: Intro call with Ana Novak — Tue 1 Dec 09:00"
    for name in ("Dentist (Personal)", "Board meeting (Work)"):
        assert f"<li style=\"margin:0 0 4px;\">{name}</li>" in email.html
        assert f"- {name}" in email.text
    assert "overlaps 2 events" in email.html
    assert f'href="{escape(EVENT_LINK)}"' in email.html
    assert "tok.en" not in everything(email)


def test_conflict_needs_at_least_one_event() -> None:
    with pytest.raises(ValueError, match="at least one"):
        conflict_email(meeting(), conflicts=[" "])


def test_a_booking_without_links_offers_no_cancel_or_reschedule() -> None:
    m = replace(meeting(), cancel_url=None, reschedule_url=None, event_link=None)
    emails = by_role(confirmation_emails(m, stamp=STAMP))

    assert "Cancel booking" not in emails["guest"].html
    assert "Reschedule" not in emails["guest"].text


def test_the_meet_link_follow_up_gives_both_the_link_and_the_raised_invitation() -> None:
    emails = by_role(meet_link_emails(meeting(sequence=1), stamp=STAMP))
    for role, email in emails.items():
        assert MEET_LINK in email.text and MEET_LINK in email.html, role
        _, event = invite(email)
        assert event["SEQUENCE"] == 1 and str(event["URL"]) == MEET_LINK
    assert CANCEL_URL in emails["guest"].text and CANCEL_URL not in emails["owner"].text
    slovene = by_role(meet_link_emails(meeting(guest_locale="sl"), stamp=STAMP))["guest"]
    assert slovene.subject.startswith("Povezava za video:")
    assert "Povezava za video srečanje" in slovene.text
    with pytest.raises(ValueError, match="Meet link"):
        meet_link_emails(meeting(meet_link=None), stamp=STAMP)


# --- confirm by email -------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "sl"])
def test_a_confirm_request_carries_the_link_and_nothing_the_request_wrote(locale: str) -> None:
    """To an address nobody has confirmed: no name, notes or answers (a script could have our
    sender mail its words to anyone), no invitation, no Meet link, no cancel link."""
    m = meeting(guest_name="Buy pills at spam.example", notes=f"Call now {SCRIPT}",
                answers=(("Topic?", "cheap pills"),), guest_locale=locale)
    email = confirm_request_email(m, confirm_url="https://book.example.com/book/confirm?token=t",
                                  hold_until=z("2026-11-20T12:10"))
    text = everything(email)
    assert "https://book.example.com/book/confirm?token=t" in email.text
    assert 'href="https://book.example.com/book/confirm?token=t"' in email.html
    for word in ("pills", "Call now", "script", MEET_LINK, CANCEL_URL, RESCHEDULE_URL):
        assert word not in text
    assert email.to_email == "ana@example.org" and email.to_name == ""
    assert not email.attachments and email.reply_to is None
    assert "07:10 (America/New_York)" in email.text  # the hold's end, in the guest's zone
    assert email.subject.startswith("Please confirm" if locale == "en" else "Potrdite")
