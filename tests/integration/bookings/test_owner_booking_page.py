"""The page the owner's Google event links to ("Manage this booking"): the owner lands there from
Google Calendar and expects to read the booking in their own zone and language, with the
guest's answers, and to reschedule or cancel it from there."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from tests.conftest import Stack
from tests.drivers import owner_api, owner_browser
from tests.integration.bookings.conftest import at, book, next_tuesday


def test_manage_this_booking_reads_in_the_owners_zone_and_offers_the_changes(
        stack: Stack, owner_key: str) -> None:
    assert owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                     json={"language": "sl"}).status_code == 200
    start = at(next_tuesday(), "10:00")  # 10:00 in Ljubljana, 09:00 UTC
    resp = book(stack, start, answers=["Pricing <and> plans"])
    assert resp.status_code == 201, resp.text
    booking_id = resp.json()["booking"]["id"]
    browser = owner_browser(stack.base_url, owner_key)
    page = browser.get(f"{stack.base_url}/owner/bookings/{booking_id}", timeout=30)
    assert page.status_code == 200
    # The owner's time, written for people in the owner's language; not a UTC timestamp.
    assert "10:00–10:30" in page.text and "Europe/Ljubljana" in page.text
    assert "+00:00" not in page.text and "09:00:00" not in page.text
    assert "torek" in page.text  # Tuesday, in Slovenian
    assert "What would you like to talk about?" in page.text
    assert "Pricing &lt;and&gt; plans" in page.text
    for action in ("reschedule", "cancel"):
        assert f"/owner/bookings/{booking_id}/{action}" in page.text


def test_the_owner_moves_a_booking_weeks_ahead_to_a_time_near_it(
        stack: Stack, owner_key: str) -> None:
    # A booking four weeks out: its reschedule page starts near it (the next day is
    # offered), with earlier and later pages, not only at the next two weeks from now.
    start = at(next_tuesday() + timedelta(days=28), "10:00")
    resp = book(stack, start)
    assert resp.status_code == 201, resp.text
    browser = owner_browser(stack.base_url, owner_key)
    url = f"{stack.base_url}/owner/bookings/{resp.json()['booking']['id']}/reschedule"
    page = browser.get(url, timeout=30)
    assert page.status_code == 200
    offered = re.findall(r'name="start" value="([^"]+)"', page.text)
    day_after = (start + timedelta(days=1)).date().isoformat()
    assert any(v.startswith(day_after) for v in offered), offered[:3]
    assert "Earlier times" in page.text and "Later times" in page.text
    earlier = re.search(r'href="([^"]+)">‹ Earlier times', page.text)
    assert earlier
    back = browser.get(unescape(earlier.group(1)), timeout=30)
    assert back.status_code == 200 and min(re.findall(
        r'name="start" value="([^"]+)"', back.text)) < min(offered)
