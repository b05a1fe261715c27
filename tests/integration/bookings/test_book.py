"""Booking end to end: the book function over HTTP, Firestore emulator, Google and SendGrid
stand-ins, the outbox, and the emails a guest and an owner receive."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import requests

from tests.conftest import Stack
from tests.integration.bookings.conftest import (
    A,
    B,
    at,
    book,
    bookings,
    next_tuesday,
    our_events,
    race,
)
from tests.integration.helpers import google, google_calls


def test_a_meet_room_google_is_still_making_reaches_the_emails(
    stack: Stack, owner_key: str
) -> None:
    """Create events guide, conferencing (developers.google.com/calendar/api/guides/
    create-events#conferencing): conference creation is asynchronous; the insert may answer
    createRequest status "pending" and a later read "success" with the link."""
    google(stack).calendar_settings(conference_status="pending", conference_delay=0.5)

    resp = book(stack, at(next_tuesday(), "10:00"))

    assert resp.status_code == 201, resp.text
    link = resp.json()["booking"]["meet_link"]
    assert link and link.startswith("https://meet.google.com/")
    assert all(link in m["text"] for m in stack.sendgrid.messages())
    assert len(stack.sendgrid.messages()) == 2


def test_happy_path_event_meet_and_two_emails_with_local_times_and_ics(
    stack: Stack, owner_key: str
) -> None:
    day = next_tuesday()
    start = at(day, "10:00")
    resp = book(stack, start, notes="Bring <b>ideas</b>", answers=["Pricing & plans"])
    assert resp.status_code == 201, resp.text
    booking = resp.json()["booking"]
    assert booking["status"] == "confirmed"
    assert booking["meet_link"].startswith("https://meet.google.com/")
    assert booking["meet_pending"] is False
    # The instants in UTC, and the same in the zone the guest booked in, for a client to show.
    ny = ZoneInfo("America/New_York")
    assert datetime.fromisoformat(booking["start"]).utcoffset() == timedelta(0)
    assert booking["start"] == start.astimezone(UTC).isoformat()
    assert booking["time_zone"] == "America/New_York"
    assert booking["local_start"] == start.astimezone(ny).isoformat()
    assert booking["local_end"] == (start + timedelta(minutes=30)).astimezone(ny).isoformat()
    assert booking["local_start"].endswith("-05:00")  # 04:00 in New York in winter

    events = our_events(stack, B)
    assert len(events) == 1 and our_events(stack, A) == []
    event = events[0]
    assert event["attendees"] == [{"email": "guest@example.org", "displayName": "Guest Person",
                                   "responseStatus": "needsAction"}]
    assert event["reminders"] == {"useDefault": False, "overrides": [
        {"method": "email", "minutes": 1440}, {"method": "popup", "minutes": 10}]}
    assert event["extendedProperties"]["private"]["booking_id"] == booking["id"]
    assert event["hangoutLink"] == booking["meet_link"]
    assert "Intro call" in event["summary"]

    mails = stack.sendgrid.messages()
    assert sorted(m["to"][0] for m in mails) == ["guest@example.org", "mia@owner.test"]
    guest_mail = next(m for m in mails if m["to"] == ["guest@example.org"])
    owner_mail = next(m for m in mails if m["to"] == ["mia@owner.test"])
    guest_local = start.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
    assert guest_local in guest_mail["text"] and "10:00" in owner_mail["text"]
    assert booking["meet_link"] in guest_mail["text"]
    assert "&lt;b&gt;ideas&lt;/b&gt;" in owner_mail["html"]
    assert "ideas" not in guest_mail["html"] + guest_mail["text"]  # no request text to the guest
    ics = next(a for a in guest_mail["attachments"] if a["filename"].endswith(".ics"))
    cal = icalendar.Calendar.from_ical(ics["content"])
    vevent = next(c for c in cal.walk("VEVENT"))
    assert vevent.decoded("DTSTART") == start.astimezone(UTC)
    assert vevent.decoded("DTEND") == (start + timedelta(minutes=30)).astimezone(UTC)
    assert str(cal["METHOD"]) == "REQUEST"

    cancel_url = next(word for word in guest_mail["text"].split() if "/cancel?token=" in word)
    page = requests.get(cancel_url, timeout=30)
    assert page.status_code == 200
    assert "Intro call" in page.text and "Confirm" in page.text
    assert bookings()[0]["status"] == "confirmed"  # opening the link changed nothing


def test_busy_event_added_after_listing_makes_booking_409(stack: Stack, owner_key: str) -> None:
    day = next_tuesday()
    listed = requests.get(f"{stack.base_url}/availability", timeout=30, params={
        "owner": "mia", "event_type": "intro", "start": day.isoformat(), "end": day.isoformat(),
        "time_zone": "Europe/Ljubljana"}).json()
    assert any("T11:00" in s for s in listed["days"][day.isoformat()])
    google(stack).add_event(A, {"summary": "Dentist",
                                "start": {"dateTime": at(day, "11:00").isoformat()},
                                "end": {"dateTime": at(day, "12:00").isoformat()}})
    resp = book(stack, at(day, "11:00"))
    assert resp.status_code == 409
    assert "no longer available" in resp.json()["message"]
    assert bookings() == [] and stack.sendgrid.messages() == []


def test_fifty_concurrent_requests_for_one_slot_and_overlapping_types_make_one_booking(
    stack: Stack, owner_key: str
) -> None:
    day = next_tuesday()

    def attempt(i: int) -> int:
        # Half ask for intro at 14:00, half for the hour-long deep dive at 14:00: they overlap.
        slug = "intro" if i % 2 else "deep"
        return book(stack, at(day, "14:00"), event_type=slug, email=f"g{i}@example.org")\
            .status_code

    results = race(attempt)
    assert sorted(set(results)) == [201, 409], results
    assert results.count(201) == 1
    assert len([b for b in bookings() if b["status"] == "confirmed"]) == 1
    assert len(our_events(stack, B)) == 1


def test_a_burst_of_bookings_meets_googles_write_rate_limit_and_every_event_is_made_once(
    stack: Stack, owner_key: str
) -> None:
    """Usage limits (developers.google.com/calendar/api/guides/quota, "operational limits":
    writing to one calendar in quick succession) and the errors page (403 rateLimitExceeded:
    retry with exponential backoff). Here the stand-in allows one write a second."""
    from booking.services import outbox

    google(stack).calendar_settings(quota_calendar_writes_per_second=1)
    day, hours = next_tuesday(), ["09:00", "10:00", "11:00", "12:00"]
    results = race(lambda i: book(stack, at(day, hours[i]), email=f"g{i}@example.org")
                   .status_code, count=len(hours))
    # A booking that waited past its first try is confirmed now; its event follows from resync.
    outbox.drain(datetime.now(UTC) + timedelta(minutes=10))

    assert results == [201] * len(hours)
    refused = [r for r in google(stack).calendar_requests("events.insert") if r["status"] == 403]
    assert refused and {r["response"]["error"]["errors"][0]["reason"] for r in refused} == {
        "rateLimitExceeded"}
    assert len(our_events(stack, B)) == len(hours)
    owner_mails = [m for m in stack.sendgrid.messages() if m["to"] == ["mia@owner.test"]]
    assert len([m for m in owner_mails if m["subject"].startswith("Confirmed")]) == len(hours)
    # A confirmation that went before its event (and Meet link) existed is followed by one
    # email with the link (issue 12), and only then.
    without_link = [m for m in owner_mails if m["subject"].startswith("Confirmed")
                    and "meet.google.com" not in m["text"]]
    assert len([m for m in owner_mails if m["subject"].startswith("Video link")]) == \
        len(without_link)


def test_google_500_then_success_gives_one_event(stack: Stack, owner_key: str) -> None:
    google(stack).inject_calendar_fault("calendar.events.insert", status=500,
                                        reason="backendError", count=1)
    resp = book(stack, at(next_tuesday(), "09:00"))
    assert resp.status_code == 201
    assert len(our_events(stack, B)) == 1
    assert len(stack.sendgrid.messages()) == 2


def test_sendgrid_down_sends_the_emails_later_exactly_once(stack: Stack, owner_key: str) -> None:
    from booking.services import outbox

    stack.sendgrid.fail_next(2, 503)
    resp = book(stack, at(next_tuesday(), "15:00"))
    assert resp.status_code == 201
    assert stack.sendgrid.messages() == []
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert outbox.drain(later) == {"sent": 3}  # the two emails, and the conflict check
    assert outbox.drain(later + timedelta(hours=1)) == {}
    assert len(stack.sendgrid.messages()) == 2


def test_scheduled_resync_delivers_what_is_due(stack: Stack, owner_key: str) -> None:
    stack.sendgrid.fail_next(2, 429)
    assert book(stack, at(next_tuesday(), "16:00")).status_code == 201
    # Not due yet (backoff): resync, called as Cloud Scheduler would, sends nothing now.
    resp = requests.post(f"{stack.base_url}/resync", timeout=60)
    assert resp.status_code == 200
    assert stack.sendgrid.messages() == []


def test_same_idempotency_key_twice_gives_one_of_everything(stack: Stack, owner_key: str) -> None:
    start = at(next_tuesday(), "12:00")
    first = book(stack, start, idempotency_key="form-submit-123")
    second = book(stack, start, idempotency_key="form-submit-123")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["booking"]["id"] == second.json()["booking"]["id"]
    assert first.json()["booking"]["local_start"] == second.json()["booking"]["local_start"]
    assert len(bookings()) == 1
    assert len(our_events(stack, B)) == 1
    assert len(stack.sendgrid.messages()) == 2


def test_html_form_post_redirects_to_the_owners_thank_you_page(
    stack: Stack, owner_key: str
) -> None:
    resp = requests.post(f"{stack.base_url}/book", timeout=60, allow_redirects=False, data={
        "owner": "mia", "event_type": "intro",
        "start": at(next_tuesday(), "13:00").isoformat(), "name": "Form Guest",
        "email": "form@example.org", "time_zone": "Europe/Ljubljana", "answer_0": "Hello",
        "redirect": "https://mia.example/thanks"}, headers={"Origin": "https://mia.example"})
    assert resp.status_code == 303
    assert resp.headers["Location"].startswith("https://mia.example/thanks?booking=")


@pytest.mark.parametrize(("field", "value"), [
    ("name", "<script>alert(1)</script>"),
    ("email", "guest@example.org\r\nBcc: victim@example.org"),
    ("email", "not-an-email"),
    ("start", "tomorrow at nine"),
    ("start", "2026-12-01T09:00:00"),
    ("time_zone", "Mars/Base"),
    ("name", ""),
])
def test_bad_fields_give_400_naming_the_field_and_store_nothing(
    stack: Stack, owner_key: str, field: str, value: str
) -> None:
    resp = book(stack, at(next_tuesday(), "10:00"), **{field: value})
    assert resp.status_code == 400
    assert field in resp.json()["fields"]
    assert bookings() == [] and stack.sendgrid.messages() == []


def test_oversized_body_is_413_and_unknown_owner_404(stack: Stack, owner_key: str) -> None:
    big = book(stack, at(next_tuesday(), "10:00"), notes="x" * 100_000)
    assert big.status_code == 413
    assert book(stack, at(next_tuesday(), "10:00"), owner="nobody").status_code == 404
    assert bookings() == []


def test_a_time_that_is_not_a_slot_is_refused(stack: Stack, owner_key: str) -> None:
    day = next_tuesday()
    saturday = day + timedelta(days=4)
    # Not on the grid, outside working hours, a closed day: a 400 that says so, not "taken".
    for when in (at(day, "10:07"), at(day, "18:00"), at(saturday, "10:00")):
        resp = book(stack, when)
        assert resp.status_code == 400, resp.text
        assert "not one of the offered times" in resp.json()["fields"]["start"]


def test_busy_event_slipping_in_during_the_insert_is_reported_to_the_owner_by_resync(
    stack: Stack, owner_key: str
) -> None:
    from booking.services import outbox

    day = next_tuesday()
    google(stack).set_calendar_latency("calendar.events.insert", 1.0)

    def sneak_in() -> None:
        google(stack).add_event(A, {"summary": "Surprise call",
                                    "start": {"dateTime": at(day, "09:00").isoformat()},
                                    "end": {"dateTime": at(day, "09:30").isoformat()}})

    timer = threading.Timer(0.4, sneak_in)
    timer.start()
    mark = len(stack.google.state.requests)
    resp = book(stack, at(day, "09:00"))
    timer.join()
    assert resp.status_code == 201  # the check before the claim saw a free slot
    # The guest did not wait for the re-check: it is the outbox's, after the event.
    assert [r["method"] for r in google_calls(stack, mark) if r["service"] == "calendar"] \
        == ["calendar.freebusy.query"] * 2 + ["calendar.events.insert"]

    def warnings() -> list[dict[str, Any]]:
        return [m for m in stack.sendgrid.messages() if m["to"] == ["mia@owner.test"]
                and "Surprise call" in m["text"]]

    assert warnings() == []
    assert outbox.drain(datetime.now(UTC) + timedelta(minutes=10)) == {"sent": 1}
    assert len(warnings()) == 1
    assert not any("Surprise call" in m["text"] for m in stack.sendgrid.messages()
                   if m["to"] == ["guest@example.org"])
    assert outbox.drain(datetime.now(UTC) + timedelta(hours=1)) == {}  # told once


def test_google_refusing_the_event_for_good_still_confirms_and_shows_the_owner(
    stack: Stack, owner_key: str
) -> None:
    from tests.drivers import owner_api

    google(stack).inject_calendar_fault("calendar.events.insert", status=403,
                                        reason="forbidden", count=5)
    resp = book(stack, at(next_tuesday(), "11:30"))
    assert resp.status_code == 201
    assert resp.json()["booking"]["status"] == "confirmed"
    assert resp.json()["booking"]["meet_link"] is None
    assert our_events(stack, B) == []
    assert len(stack.sendgrid.messages()) == 2  # the emails still went out
    failed = owner_api(stack.base_url, owner_key, "GET", "/outbox/failed").json()["failed"]
    assert [f["kind"] for f in failed] == ["google_event"]
    assert "403" in failed[0]["error"]
    listed = owner_api(stack.base_url, owner_key, "GET", "/bookings").json()["bookings"]
    assert listed[0]["google_status"] == "failed"


def test_cors_answers_only_the_owners_allowed_origins(stack: Stack, owner_key: str) -> None:
    day = next_tuesday()
    body = {"owner": "mia", "event_type": "intro", "start": at(day, "16:30").isoformat(),
            "name": "Cors Guest", "email": "cors@example.org", "time_zone": "UTC"}
    allowed = requests.post(f"{stack.base_url}/book", json=body, timeout=60,
                            headers={"Origin": "https://mia.example"})
    assert allowed.status_code == 201
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://mia.example"
    taken = requests.post(f"{stack.base_url}/book", json=body, timeout=60,
                          headers={"Origin": "https://mia.example"})
    assert taken.status_code == 409  # and the owner's page may read why
    assert taken.headers["Access-Control-Allow-Origin"] == "https://mia.example"
    other = requests.post(f"{stack.base_url}/book", json=body, timeout=60,
                          headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_google_down_confirms_by_email_now_and_makes_the_event_later_once(
    stack: Stack, owner_key: str
) -> None:
    from booking.services import outbox

    google(stack).inject_calendar_fault("calendar.events.insert", status=503,
                                        reason="backendError", count=1000)
    resp = book(stack, at(next_tuesday(), "14:30"))
    assert resp.status_code == 201
    assert our_events(stack, B) == []
    assert len(stack.sendgrid.messages()) == 2  # nobody waits for Google to come back
    google(stack).clear_calendar_faults()
    # The event, then the conflict check that waited for it.
    assert outbox.drain(datetime.now(UTC) + timedelta(minutes=10)) == {"sent": 2}
    assert len(our_events(stack, B)) == 1
    # The confirmation went without a Meet link: both get one follow-up with it and the
    # invitation again, SEQUENCE raised so calendars update the entry they have.
    link = our_events(stack, B)[0]["hangoutLink"]
    mails = stack.sendgrid.messages()
    follow = [m for m in mails if m["subject"].startswith("Video link")]
    assert sorted(m["to"][0] for m in follow) == ["guest@example.org", "mia@owner.test"]
    assert all(link in m["text"] for m in follow)
    assert all(link not in m["text"] for m in mails if m not in follow)
    sequences = [icalendar.Calendar.from_ical(m["attachments"][0]["content"])
                 .walk("VEVENT")[0]["SEQUENCE"] for m in mails]
    assert sequences == [0, 0, 1, 1]
    assert outbox.drain(datetime.now(UTC) + timedelta(hours=2)) == {}
    assert len(stack.sendgrid.messages()) == 4
