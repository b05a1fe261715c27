"""The owner's Google event carries no bearer link: anyone who can see event details on that
calendar (a shared calendar, an assistant) must not be able to cancel or move the booking."""

from __future__ import annotations

import requests

from tests.conftest import Stack
from tests.drivers import owner_browser
from tests.integration.bookings.conftest import B, at, book, next_tuesday, our_events


def test_the_google_event_links_to_the_owners_page_never_to_the_guests_links(
        stack: Stack, owner_key: str) -> None:
    resp = book(stack, at(next_tuesday(), "10:00"))
    assert resp.status_code == 201, resp.text
    booking_id = resp.json()["booking"]["id"]
    assert "/cancel?token=" in str(stack.sendgrid.messages())  # the guest's email has one
    (event,) = our_events(stack, B)
    text = str(event)
    assert "token=" not in text and "/cancel" not in text and "/reschedule" not in text
    page_url = f"{stack.base_url}/owner/bookings/{booking_id}"
    assert page_url in event["description"]
    # Someone who only sees the event: the link asks them to sign in.
    stranger = requests.get(page_url, allow_redirects=False, timeout=30)
    assert stranger.status_code == 303 and stranger.headers["Location"].endswith("/owner/login")
    # The owner, signed in, sees the booking.
    page = owner_browser(stack.base_url, owner_key).get(page_url, timeout=30)
    assert page.status_code == 200 and "Guest Person" in page.text
