"""The links we send guests, as their tools and browsers use them.

HEAD: mail clients, link checkers and uptime probes send HEAD before (or instead of) GET, and a
405 there reads as a broken link. Every GET route of the public functions (and the owner's
pages) answers HEAD as it answers GET, without a body (RFC 9110 9.3.2), and a HEAD changes
nothing, as a GET does not.

Languages: every guest page has the language switch (README, Languages); on a link's page it
keeps the link's token, so the other language shows the same booking.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import requests

from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import at, book, bookings, next_tuesday


def _link(text: str, path: str) -> str:
    found = re.search(rf"(http://\S+/{path}\?token=[^\s\"<>]+)", text)
    assert found, text
    return found.group(1)


def _booked_and_held(stack: Stack, owner_key: str) -> str:
    """One booking and one hold (confirm by email): the text of every email sent."""
    day = next_tuesday()
    assert book(stack, at(day, "10:00")).status_code == 201
    deep = owner_api(stack.base_url, owner_key, "GET", "/event-types/deep").json()
    assert owner_api(stack.base_url, owner_key, "PUT", "/event-types/deep", json={
        **deep, "confirm_by_email": True, "hold_minutes": 5}).status_code == 200
    assert book(stack, at(day, "14:00"), event_type="deep",
                email="held@example.org").status_code == 202
    return "\n".join(m["text"] for m in stack.sendgrid.messages())


def test_head_answers_every_get_route_as_get_does_without_a_body(
        stack: Stack, owner_key: str) -> None:
    day = next_tuesday()
    mails = _booked_and_held(stack, owner_key)
    base = stack.base_url
    urls = [
        f"{base}/book/mia/intro?lang=sl&tz=America/New_York&day={day.isoformat()}",
        f"{base}/book/_assets/booking.js",
        f"{base}/availability?owner=mia&event_type=intro&start={day}&end={day}"
        "&time_zone=Europe/Ljubljana",
        _link(mails, "cancel"),
        _link(mails, "reschedule"),
        _link(mails, "book/confirm"),
        f"{base}/owner/login",
        f"{base}/owner/openapi.yaml",
        *(f"{base}/{name}/_health" for name in (
            "availability", "book", "cancel", "reschedule", "owner", "oauth_callback",
            "google_notifications")),
        # Refusals too: the same status as GET's, not a 405.
        f"{base}/book/mia/nope",
        f"{base}/cancel?token=forged",
    ]
    stored = bookings()
    for url in urls:
        head = requests.head(url, timeout=60, allow_redirects=False)
        get = requests.get(url, timeout=60, allow_redirects=False)
        assert head.status_code == get.status_code, (url, head.status_code, get.status_code)
        assert head.content == b"", url
        assert get.content, url
        assert head.headers["Content-Type"] == get.headers["Content-Type"], url
    # A method a link does not take is a 405 that says which it does (RFC 9110: Allow).
    for url, allowed in ((_link(mails, "cancel"), "GET, POST, HEAD"),
                         (f"{base}/book", "POST"), (f"{base}/owner/login", "GET, POST, HEAD")):
        refused = requests.put(url, timeout=60)
        assert refused.status_code == 405 and refused.headers["Allow"] == allowed, url
    # Opening links, by HEAD or GET, changed nothing: still one booking and one hold.
    assert bookings() == stored
    assert sorted(b["status"] for b in stored) == ["confirmed", "pending"]


def test_each_links_page_switches_language_and_keeps_its_booking(
        stack: Stack, owner_key: str) -> None:
    mails = _booked_and_held(stack, owner_key)  # booked in English
    titles = {"cancel": "Odpovem to rezervacijo?", "reschedule": "Izberite nov termin",
              "book/confirm": "Potrdite to rezervacijo?"}
    for path, title in titles.items():
        link = _link(mails, path)
        page = requests.get(link, timeout=60)
        assert page.status_code == 200 and '<html lang="en"' in page.text, path
        switch = re.search(r'href="([^"]+)"[^>]*hreflang="sl"', page.text)
        assert switch, (path, page.text[:3000])
        other = requests.get(unescape(switch.group(1)), timeout=60)
        assert other.status_code == 200 and '<html lang="sl"' in other.text, path
        assert title in other.text, (path, other.text[:3000])
        token = parse_qs(urlsplit(link).query)["token"][0]
        assert parse_qs(urlsplit(unescape(switch.group(1))).query)["token"] == [token]
    assert sorted(b["status"] for b in bookings()) == ["confirmed", "pending"]
