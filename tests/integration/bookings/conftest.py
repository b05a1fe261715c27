"""What the booking tests share: an owner with two connected Google accounts (bookings land in
the second), two event types, and small helpers to book and to look at the outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.conftest import Stack
from tests.drivers import connect_google_account, owner_api
from tests.integration.helpers import firestore_docs, google, make_owner

T = TypeVar("T")
ZONE = ZoneInfo("Europe/Ljubljana")
CONCURRENT = 50  # simultaneous requests for one slot in the race test
A = "mia@gmail.test"
B = "mia.work@example.test"


def rules(**extra: Any) -> dict[str, Any]:
    return {"weekly_hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "duration_minutes": 30, **extra}


def next_tuesday() -> date:
    today = datetime.now(ZONE).date()
    return today + timedelta(days=(1 - today.weekday()) % 7 + 7)


def at(day: date, hhmm: str) -> datetime:
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
        "allowed_origins": ["https://mia.example"],
        # These tests book and list many times from one address and one email; the abuse
        # limits have their own tests (test_abuse_limits.py).
        "limits": {"availability_per_ip": 10000, "book_per_ip": 10000,
                   "book_per_ip_hour": 10000, "book_per_email": 10000,
                   "open_bookings_per_email": 1000}})
    assert resp.status_code == 200, resp.text
    for body in (
        {"slug": "intro", "title": "Intro call", "description": "Let's meet.",
         "questions": ["What would you like to talk about?"],
         "reminders": [{"method": "email", "minutes": 1440}, {"method": "popup", "minutes": 10}],
         "rules": rules(buffer_after_minutes=15)},
        {"slug": "deep", "title": "Deep dive", "rules": rules(duration_minutes=60)},
    ):
        created = owner_api(stack.base_url, key, "POST", "/event-types", json=body)
        assert created.status_code == 201, created.text
    return key


def book(stack: Stack, when: datetime, _headers: dict[str, str] | None = None,
         **fields: Any) -> requests.Response:
    body = {"owner": "mia", "event_type": "intro", "start": when.isoformat(),
            "name": "Guest Person", "email": "guest@example.org",
            "time_zone": "America/New_York", **fields}
    return requests.post(f"{stack.base_url}/book", json=body, timeout=60, headers=_headers)


def race(attempt: Callable[[int], T], count: int = CONCURRENT) -> list[T]:
    """Runs attempt(0) .. attempt(count - 1) at once and returns what they gave."""
    results: list[T] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        outcome = attempt(i)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def bookings() -> list[dict[str, Any]]:
    return [d for p, d in firestore_docs() if "/bookings/" in p]


def our_events(stack: Stack, calendar: str) -> list[dict[str, Any]]:
    return [e for e in google(stack).list_events(calendar)
            if (e.get("extendedProperties") or {}).get("private", {}).get("booking_id")
            and e.get("status") != "cancelled"]


