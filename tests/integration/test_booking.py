"""Booking end to end: the book function over HTTP, Firestore emulator, Google and SendGrid
stand-ins, the outbox, and the emails a guest and an owner receive."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import requests

from tests.conftest import Stack
from tests.drivers import connect_google_account, owner_api
from tests.integration.helpers import firestore_docs, google, make_owner

ZONE = ZoneInfo("Europe/Ljubljana")
CONCURRENT = int(__import__("os").environ.get("BOOKING_CONCURRENCY", "50"))
A = "mia@gmail.test"
B = "mia.work@example.test"


def _rules(**extra: Any) -> dict[str, Any]:
    return {"weekly_hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "duration_minutes": 30, **extra}


def _next_tuesday() -> date:
    today = datetime.now(ZONE).date()
    return today + timedelta(days=(1 - today.weekday()) % 7 + 7)


def _at(day: date, hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=ZONE)


@pytest.fixture
def owner_key(stack: Stack) -> str:
    g = google(stack)
    g.create_account(A, "Mia", time_zone="Europe/Ljubljana")
    g.create_account(B, "Mia at work", time_zone="Europe/Ljubljana")
    key = make_owner("mia", email="mia@owner.test")
    for email in (A, B):
        assert connect_google_account(stack.base_url, key, stack.google_url, email)\
            .status_code == 303
    conns = owner_api(stack.base_url, key, "GET", "/connections").json()["connections"]
    # Bookings land in the second account's calendar; both primaries are checked.
    resp = owner_api(stack.base_url, key, "PATCH", "/settings", json={
        "default_calendar": {"connection_id": conns[1]["id"], "calendar_id": B},
        "redirect_urls": ["https://mia.example/thanks"],
        "allowed_origins": ["https://mia.example"]})
    assert resp.status_code == 200, resp.text
    for body in (
        {"slug": "intro", "title": "Intro call", "description": "Let's meet.",
         "questions": ["What would you like to talk about?"],
         "reminders": [{"method": "email", "minutes": 1440}, {"method": "popup", "minutes": 10}],
         "rules": _rules(buffer_after_minutes=15)},
        {"slug": "deep", "title": "Deep dive", "rules": _rules(duration_minutes=60)},
    ):
        created = owner_api(stack.base_url, key, "POST", "/event-types", json=body)
        assert created.status_code == 201, created.text
    return key


def _book(stack: Stack, when: datetime, **fields: Any) -> requests.Response:
    body = {"owner": "mia", "event_type": "intro", "start": when.isoformat(),
            "name": "Guest Person", "email": "guest@example.org",
            "time_zone": "America/New_York", **fields}
    return requests.post(f"{stack.base_url}/book", json=body, timeout=60)


def _bookings() -> list[dict[str, Any]]:
    return [d for p, d in firestore_docs() if "/bookings/" in p]


def _our_events(stack: Stack, calendar: str) -> list[dict[str, Any]]:
    return [e for e in google(stack).list_events(calendar)
            if (e.get("extendedProperties") or {}).get("private", {}).get("booking_id")
            and e.get("status") != "cancelled"]


def test_happy_path_event_meet_and_two_emails_with_local_times_and_ics(
    stack: Stack, owner_key: str
) -> None:
    day = _next_tuesday()
    start = _at(day, "10:00")
    resp = _book(stack, start, notes="Bring <b>ideas</b>", answers=["Pricing & plans"])
    assert resp.status_code == 201, resp.text
    booking = resp.json()["booking"]
    assert booking["status"] == "confirmed"
    assert booking["meet_link"].startswith("https://meet.google.com/")

    events = _our_events(stack, B)
    assert len(events) == 1 and _our_events(stack, A) == []
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
    assert "&lt;b&gt;ideas&lt;/b&gt;" in guest_mail["html"]
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
    assert _bookings()[0]["status"] == "confirmed"  # opening the link changed nothing


def test_busy_event_added_after_listing_makes_booking_409(stack: Stack, owner_key: str) -> None:
    day = _next_tuesday()
    listed = requests.get(f"{stack.base_url}/availability", timeout=30, params={
        "owner": "mia", "event_type": "intro", "start": day.isoformat(), "end": day.isoformat(),
        "time_zone": "Europe/Ljubljana"}).json()
    assert any("T11:00" in s for s in listed["days"][day.isoformat()])
    google(stack).add_event(A, {"summary": "Dentist",
                                "start": {"dateTime": _at(day, "11:00").isoformat()},
                                "end": {"dateTime": _at(day, "12:00").isoformat()}})
    resp = _book(stack, _at(day, "11:00"))
    assert resp.status_code == 409
    assert "no longer available" in resp.json()["message"]
    assert _bookings() == [] and stack.sendgrid.messages() == []


def test_fifty_concurrent_requests_for_one_slot_and_overlapping_types_make_one_booking(
    stack: Stack, owner_key: str
) -> None:
    day = _next_tuesday()
    results: list[int] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        # Half ask for intro at 14:00, half for the hour-long deep dive at 13:30: they overlap.
        if i % 2:
            r = _book(stack, _at(day, "14:00"), email=f"g{i}@example.org")
        else:
            r = _book(stack, _at(day, "13:30"), event_type="deep", email=f"g{i}@example.org")
        with lock:
            results.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(set(results)) == [201, 409], results
    assert results.count(201) == 1
    assert len([b for b in _bookings() if b["status"] == "confirmed"]) == 1
    assert len(_our_events(stack, B)) == 1


def test_google_500_then_success_gives_one_event(stack: Stack, owner_key: str) -> None:
    google(stack).inject_calendar_fault("calendar.events.insert", status=500,
                                        reason="backendError", count=1)
    resp = _book(stack, _at(_next_tuesday(), "09:00"))
    assert resp.status_code == 201
    assert len(_our_events(stack, B)) == 1
    assert len(stack.sendgrid.messages()) == 2


def test_sendgrid_down_sends_the_emails_later_exactly_once(stack: Stack, owner_key: str) -> None:
    from booking.services import outbox

    stack.sendgrid.fail_next(2, 503)
    resp = _book(stack, _at(_next_tuesday(), "15:00"))
    assert resp.status_code == 201
    assert stack.sendgrid.messages() == []
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert outbox.drain(later) == {"sent": 2}
    assert outbox.drain(later + timedelta(hours=1)) == {}
    assert len(stack.sendgrid.messages()) == 2


def test_scheduled_resync_delivers_what_is_due(stack: Stack, owner_key: str) -> None:
    stack.sendgrid.fail_next(2, 429)
    assert _book(stack, _at(_next_tuesday(), "16:00")).status_code == 201
    # Not due yet (backoff): resync, called as Cloud Scheduler would, sends nothing now.
    resp = requests.post(f"{stack.base_url}/resync", timeout=60)
    assert resp.status_code == 200
    assert stack.sendgrid.messages() == []


def test_same_idempotency_key_twice_gives_one_of_everything(stack: Stack, owner_key: str) -> None:
    start = _at(_next_tuesday(), "12:00")
    first = _book(stack, start, idempotency_key="form-submit-123")
    second = _book(stack, start, idempotency_key="form-submit-123")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["booking"]["id"] == second.json()["booking"]["id"]
    assert len(_bookings()) == 1
    assert len(_our_events(stack, B)) == 1
    assert len(stack.sendgrid.messages()) == 2


def test_html_form_post_redirects_to_the_owners_thank_you_page(
    stack: Stack, owner_key: str
) -> None:
    resp = requests.post(f"{stack.base_url}/book", timeout=60, allow_redirects=False, data={
        "owner": "mia", "event_type": "intro",
        "start": _at(_next_tuesday(), "13:00").isoformat(), "name": "Form Guest",
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
    resp = _book(stack, _at(_next_tuesday(), "10:00"), **{field: value})
    assert resp.status_code == 400
    assert field in resp.json()["fields"]
    assert _bookings() == [] and stack.sendgrid.messages() == []


def test_oversized_body_is_413_and_unknown_owner_404(stack: Stack, owner_key: str) -> None:
    big = _book(stack, _at(_next_tuesday(), "10:00"), notes="x" * 100_000)
    assert big.status_code == 413
    assert _book(stack, _at(_next_tuesday(), "10:00"), owner="nobody").status_code == 404
    assert _bookings() == []


def test_a_time_that_is_not_a_slot_is_refused(stack: Stack, owner_key: str) -> None:
    day = _next_tuesday()
    assert _book(stack, _at(day, "10:07")).status_code == 409  # not on the grid
    assert _book(stack, _at(day, "18:00")).status_code == 409  # outside working hours
    saturday = day + timedelta(days=4)
    assert _book(stack, _at(saturday, "10:00")).status_code == 409
