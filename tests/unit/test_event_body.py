"""The Google Calendar event of a booking: attendee, Meet request, alerts, ids and times."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from booking.domain.booking_rules import booking_id_for, event_id_for
from booking.domain.event_body import event_body, meet_link

BOOKING_ID = booking_id_for("owner-1", "key-12345")
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
END = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def body(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "event_id": event_id_for(BOOKING_ID),
        "booking_id": BOOKING_ID,
        "title": "Intro call",
        "guest_name": "Ada Lovelace",
        "guest_email": "ada@example.com",
        "start": START,
        "end": END,
        "time_zone": "Europe/Ljubljana",
        "details": "Booked by Ada",
        "meet": False,
        "reminders": [{"method": "email", "minutes": 1440}, {"method": "popup", "minutes": 60}],
        "owner_addresses": ["owner@example.com", "Owner.Alias@Example.com"],
        "ical_uid": f"{BOOKING_ID}@bookings.example.com",
    }
    args.update(changes)
    return event_body(**args)


def test_the_guest_is_the_only_attendee() -> None:
    assert body()["attendees"] == [
        {"email": "ada@example.com", "displayName": "Ada Lovelace",
         "responseStatus": "needsAction"}]


@pytest.mark.parametrize("guest", ["owner@example.com", "OWNER@EXAMPLE.COM",
                                   "owner.alias@example.com", "Owner.Alias@Example.com"])
def test_an_owner_booking_themself_is_not_invited(guest: str) -> None:
    assert body(guest_email=guest)["attendees"] == []


def test_owner_addresses_are_compared_whole() -> None:
    attendees = body(guest_email="someowner@example.com")["attendees"]
    assert [a["email"] for a in attendees] == ["someowner@example.com"]


def test_no_owner_addresses_keeps_the_guest() -> None:
    assert len(body(owner_addresses=[])["attendees"]) == 1


def test_meet_is_requested_with_the_booking_id() -> None:
    event = body(meet=True)
    assert event["conferenceData"] == {"createRequest": {
        "requestId": BOOKING_ID, "conferenceSolutionKey": {"type": "hangoutsMeet"}}}


def test_no_meet_request_without_meet() -> None:
    assert "conferenceData" not in body(meet=False)


def test_reminder_overrides_carry_method_and_minutes() -> None:
    event = body(reminders=[{"method": "popup", "minutes": "15"},
                            {"method": "email", "minutes": 2880, "extra": "ignored"}])
    assert event["reminders"] == {"useDefault": False, "overrides": [
        {"method": "popup", "minutes": 15}, {"method": "email", "minutes": 2880}]}


def test_no_reminders_means_no_alerts_not_the_calendar_default() -> None:
    assert body(reminders=[])["reminders"] == {"useDefault": False, "overrides": []}


def test_ids_and_the_booking_id_property() -> None:
    event = body()
    assert event["id"] == event_id_for(BOOKING_ID)
    assert event["iCalUID"] == f"{BOOKING_ID}@bookings.example.com"
    assert event["extendedProperties"] == {"private": {"booking_id": BOOKING_ID}}


def test_times_are_rfc3339_utc_with_z_and_the_owner_zone() -> None:
    event = body()
    assert event["start"] == {"dateTime": "2026-12-01T08:00:00Z", "timeZone": "Europe/Ljubljana"}
    assert event["end"] == {"dateTime": "2026-12-01T08:30:00Z", "timeZone": "Europe/Ljubljana"}
    rfc3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
    assert rfc3339.fullmatch(event["start"]["dateTime"])
    assert rfc3339.fullmatch(event["end"]["dateTime"])


def test_summary_description_and_status() -> None:
    event = body()
    assert event["summary"] == "Intro call with Ada Lovelace"
    assert event["description"] == "Booked by Ada"
    assert event["status"] == "confirmed"
    assert event["transparency"] == "opaque"


def test_location_only_when_given() -> None:
    assert "location" not in body()
    assert body(location="Trubarjeva 1, Ljubljana")["location"] == "Trubarjeva 1, Ljubljana"


# --- meet_link --------------------------------------------------------------------------------


def test_meet_link_reads_the_video_entry_point() -> None:
    event = {
        "hangoutLink": "https://meet.google.com/old-link",
        "conferenceData": {"entryPoints": [
            {"entryPointType": "phone", "uri": "tel:+1-555-0100"},
            {"entryPointType": "video", "uri": "https://meet.google.com/abc-defg-hij"},
        ]},
    }
    assert meet_link(event) == "https://meet.google.com/abc-defg-hij"


def test_meet_link_falls_back_to_the_hangout_link() -> None:
    event = {"hangoutLink": "https://meet.google.com/abc-defg-hij",
             "conferenceData": {"entryPoints": [{"entryPointType": "phone",
                                                 "uri": "tel:+1-555-0100"}]}}
    assert meet_link(event) == "https://meet.google.com/abc-defg-hij"
    assert meet_link({"hangoutLink": "https://meet.google.com/xyz"}) == (
        "https://meet.google.com/xyz")


def test_a_video_entry_point_without_a_uri_is_skipped() -> None:
    event = {"hangoutLink": "https://meet.google.com/fallback",
             "conferenceData": {"entryPoints": [{"entryPointType": "video", "uri": ""}]}}
    assert meet_link(event) == "https://meet.google.com/fallback"


@pytest.mark.parametrize("event", [
    {},
    {"conferenceData": {}},
    {"conferenceData": {"createRequest": {"status": {"statusCode": "pending"}}}},
    {"conferenceData": {"entryPoints": [{"entryPointType": "phone", "uri": "tel:1"}]}},
    {"hangoutLink": ""},
    {"conferenceData": None, "hangoutLink": None},
])
def test_meet_link_is_none_without_a_room(event: dict[str, Any]) -> None:
    assert meet_link(event) is None
