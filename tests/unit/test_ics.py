"""The invitation .ics: what a calendar client reads back from it, parsed with icalendar."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from booking.domain.ics import PRODID, Wording, invitation
from booking.domain.meeting import Meeting

STAMP = datetime(2026, 11, 20, 12, 0, 5, tzinfo=UTC)


def meeting(**changes: Any) -> Meeting:
    fields: dict[str, Any] = {
        "booking_id": "bk_123",
        "sequence": 0,
        "title": "Intro call",
        "description": "A first chat about the project.",
        "start": datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        "end": datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        "owner_name": "Maja Kovač",
        "owner_email": "maja@example.com",
        "owner_time_zone": "Europe/Ljubljana",
        "guest_name": "Ana Novak",
        "guest_email": "ana@example.org",
        "guest_time_zone": "America/New_York",
        "notes": "Let's talk about pricing.",
        "answers": (("Company", "Acme"),),
        "meet_link": "https://meet.google.com/abc-defg-hij",
        "location": "Google Meet",
        "cancel_url": "https://book.example.com/cancel?t=tok.en",
        "reschedule_url": "https://book.example.com/reschedule?t=tok.en",
        "uid_domain": "book.example.com",
    }
    fields.update(changes)
    return Meeting(**fields)


def parse(data: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(data)
    events = calendar.events
    assert len(events) == 1
    return calendar, events[0]


def test_request_reads_back_with_the_same_instants_uid_and_sequence() -> None:
    m = meeting()
    calendar, event = parse(invitation(m, stamp=STAMP))

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == PRODID
    assert str(event["UID"]) == "bk_123@book.example.com" == m.uid
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == m.start
    assert event.decoded("DTEND") == m.end
    assert event.decoded("DTSTAMP") == STAMP
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Intro call with Ana Novak"


def test_times_are_written_in_utc_whatever_zone_they_came_in() -> None:
    ljubljana = ZoneInfo("Europe/Ljubljana")
    m = meeting(
        start=datetime(2026, 12, 1, 9, 0, tzinfo=ljubljana),
        end=datetime(2026, 12, 1, 9, 30, tzinfo=ljubljana),
    )
    raw = invitation(m, stamp=STAMP.astimezone(ZoneInfo("Asia/Kathmandu"))).decode()

    assert "DTSTART:20261201T080000Z\r\n" in raw
    assert "DTEND:20261201T083000Z\r\n" in raw
    assert "DTSTAMP:20261120T120005Z\r\n" in raw
    assert "TZID" not in raw


def test_organizer_is_the_owner_and_the_guest_a_required_attendee_asked_for_no_reply() -> None:
    _, event = parse(invitation(meeting(), stamp=STAMP))

    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:maja@example.com"
    assert organizer.params["CN"] == "Maja Kovač"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:ana@example.org"
    assert dict(attendee.params) == {
        "CN": "Ana Novak",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "FALSE",
    }


def test_description_carries_description_notes_meet_link_and_cancel_link() -> None:
    _, event = parse(invitation(meeting(), stamp=STAMP))
    description = str(event["DESCRIPTION"])

    assert "A first chat about the project." in description
    assert "Notes from Ana Novak:\nLet's talk about pricing." in description
    assert "https://meet.google.com/abc-defg-hij" in description
    assert "Cancel: https://book.example.com/cancel?t=tok.en" in description
    assert "Reschedule: https://book.example.com/reschedule?t=tok.en" in description


def test_location_and_url_are_the_meet_link_when_there_is_one() -> None:
    _, event = parse(invitation(meeting(), stamp=STAMP))

    assert str(event["LOCATION"]) == "https://meet.google.com/abc-defg-hij"
    assert str(event["URL"]) == "https://meet.google.com/abc-defg-hij"


def test_without_a_meet_link_the_location_is_the_text_and_there_is_no_url() -> None:
    _, event = parse(
        invitation(meeting(meet_link=None, location="Trubarjeva 5, Ljubljana"), stamp=STAMP)
    )

    assert str(event["LOCATION"]) == "Trubarjeva 5, Ljubljana"
    assert "URL" not in event
    assert "meet.google.com" not in str(event["DESCRIPTION"])


def test_without_any_place_there_is_no_location() -> None:
    _, event = parse(invitation(meeting(meet_link=None, location=""), stamp=STAMP))

    assert "LOCATION" not in event


def test_request_has_a_display_alarm_before_the_start() -> None:
    _, event = parse(invitation(meeting(), stamp=STAMP))

    [alarm] = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=10)


def test_alarms_follow_the_event_types_reminders() -> None:
    _, event = parse(invitation(meeting(alarm_minutes=(1440, 30)), stamp=STAMP))
    triggers = [a.decoded("TRIGGER") for a in event.walk("VALARM")]
    assert triggers == [-timedelta(days=1), -timedelta(minutes=30)]


def test_cancel_has_method_cancel_status_cancelled_and_the_same_uid() -> None:
    m = meeting(sequence=2)
    calendar, event = parse(invitation(m, method="CANCEL", stamp=STAMP))

    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == m.uid
    assert event["SEQUENCE"] == 2
    assert event.decoded("DTSTART") == m.start
    assert str(event["ORGANIZER"]) == "mailto:maja@example.com"
    assert str(event["ATTENDEE"]) == "mailto:ana@example.org"
    assert event.walk("VALARM") == []
    description = str(event["DESCRIPTION"])
    assert "cancel?t=" not in description
    assert "reschedule?t=" not in description
    assert "Join" not in description


def test_a_reschedule_keeps_the_uid_and_carries_the_raised_sequence() -> None:
    before = meeting()
    after = replace(
        before,
        sequence=1,
        start=before.start + timedelta(days=1),
        end=before.end + timedelta(days=1),
    )
    _, old = parse(invitation(before, stamp=STAMP))
    _, new = parse(invitation(after, stamp=STAMP + timedelta(hours=1)))

    assert str(old["UID"]) == str(new["UID"])
    assert (old["SEQUENCE"], new["SEQUENCE"]) == (0, 1)
    assert new.decoded("DTSTART") == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_commas_semicolons_backslashes_and_newlines_survive_the_round_trip() -> None:
    m = meeting(
        guest_name='Ana "Ani" Novak, Jr.; PhD',
        notes="Line one, with; punctuation\\\r\nLine two",
        title="Intro, call",
    )
    raw = invitation(m, stamp=STAMP)
    _, event = parse(raw)

    assert str(event["SUMMARY"]) == 'Intro, call with Ana "Ani" Novak, Jr.; PhD'
    assert "Line one, with; punctuation\\\nLine two" in str(event["DESCRIPTION"])
    assert event["ATTENDEE"].params["CN"] == 'Ana "Ani" Novak, Jr.; PhD'
    assert b"SUMMARY:Intro\\, call with Ana \"Ani\" Novak\\, Jr.\\; PhD\r\n" in raw


def test_newlines_in_title_and_names_cannot_start_a_new_property() -> None:
    m = meeting(title="Intro\r\nX-INJECTED:1", guest_name="Ana\nATTENDEE:mailto:evil@x.test")
    raw = invitation(m, stamp=STAMP)
    _, event = parse(raw)

    assert str(event["SUMMARY"]) == "Intro X-INJECTED:1 with Ana ATTENDEE:mailto:evil@x.test"
    assert event["ATTENDEE"].params["CN"] == "Ana ATTENDEE:mailto:evil@x.test"
    assert b"\r\nX-INJECTED" not in raw
    assert b"\r\nATTENDEE:mailto:evil" not in raw


def test_a_backslash_in_a_name_cannot_swallow_the_next_parameter() -> None:
    _, event = parse(invitation(meeting(guest_name="ACME\\ana\\"), stamp=STAMP))

    assert event["ATTENDEE"].params["CN"] == "ACME/ana/"
    assert event["ATTENDEE"].params["PARTSTAT"] == "NEEDS-ACTION"


def test_long_lines_are_folded_at_75_octets_without_splitting_characters() -> None:
    raw = invitation(meeting(description="Čšž " * 80), stamp=STAMP)

    for line in raw.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # a fold inside a multi-byte character would not decode
    _, event = parse(raw)
    assert str(event["DESCRIPTION"]).startswith(("Čšž " * 80).strip())


def test_the_same_inputs_give_the_same_bytes() -> None:
    assert invitation(meeting(), stamp=STAMP) == invitation(meeting(), stamp=STAMP)


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        invitation(meeting(), method="PUBLISH", stamp=STAMP)


def test_a_naive_stamp_is_refused() -> None:
    with pytest.raises(ValueError, match="stamp"):
        invitation(meeting(), stamp=datetime(2026, 11, 20, 12, 0))


# Text a person may type: any printable character, newlines included; no other control codes.
typed_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n"), max_size=120
)


@settings(deadline=None)  # a shared 2-core machine makes timing noise, not slow code
@given(name=typed_text.filter(lambda s: s.strip()), notes=typed_text)
def test_any_typed_name_and_notes_read_back_unchanged(name: str, notes: str) -> None:
    m = meeting(guest_name=name, notes=notes)
    _, event = parse(invitation(m, stamp=STAMP))

    one_line_name = " ".join(name.split())
    assert event["ATTENDEE"].params["CN"] == one_line_name.replace("\\", "/")
    assert dict(event["ATTENDEE"].params)["PARTSTAT"] == "NEEDS-ACTION"
    assert str(event["SUMMARY"]) == f"Intro call with {one_line_name}"
    if notes.strip():
        assert "\n".join(notes.splitlines()).strip() in str(event["DESCRIPTION"])


def test_a_typed_backslash_n_stays_text_and_never_becomes_a_line_break() -> None:
    # icalendar alone writes a typed "\N" as an escaped newline (found by the property test below).
    m = meeting(guest_name="Ana \\N", notes="Saved in C:\\Notes\\new")
    raw = invitation(m, stamp=STAMP)
    _, event = parse(raw)

    assert str(event["SUMMARY"]) == "Intro call with Ana \\N"
    assert "Saved in C:\\Notes\\new" in str(event["DESCRIPTION"])
    assert b"SUMMARY:Intro call with Ana \\\\N\r\n" in raw


def test_each_reader_gets_their_own_words_in_summary_alarms_and_description() -> None:
    wording = Wording(summary="Intro call z osebo Maja Kovač", notes="Opombe",
                      join="Pridruži se videoklicu", changes="Želite kaj spremeniti?",
                      cancel="Odpovej", reschedule="Prestavi")
    _, event = parse(invitation(meeting(), stamp=STAMP, wording=wording))

    assert str(event["SUMMARY"]) == "Intro call z osebo Maja Kovač"
    assert [str(a["DESCRIPTION"]) for a in event.walk("VALARM")] == \
        ["Intro call z osebo Maja Kovač"] * len(meeting().alarm_minutes)
    description = str(event["DESCRIPTION"])
    assert "Opombe:\nLet's talk about pricing." in description
    assert "Pridruži se videoklicu: https://meet.google.com/abc-defg-hij" in description
    assert "Želite kaj spremeniti?\nOdpovej: https://book.example.com/cancel?t=tok.en\n" \
           "Prestavi: https://book.example.com/reschedule?t=tok.en" in description
