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
from urllib.parse import parse_qs, urlencode, urlsplit

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


def _switch_to(page: requests.Response, lang: str) -> str:
    found = re.search(rf'href="([^"]+)"[^>]*hreflang="{lang}"', page.text)
    assert found, page.text[:3000]
    return unescape(found.group(1))


def test_refusals_on_guests_pages_have_the_language_switch_and_speak_it(
        stack: Stack, owner_key: str) -> None:
    assert book(stack, at(next_tuesday(), "10:00"), locale="sl").status_code == 201
    link = _link("\n".join(m["text"] for m in stack.sendgrid.messages()), "cancel")
    base, token = link.split("?")[0], parse_qs(urlsplit(link).query)["token"][0]
    assert requests.post(base, data={"token": token, "lang": "sl"}, timeout=60).ok
    slovenian = {"Accept-Language": "sl-SI,sl;q=0.9"}
    pages = {  # (the URL, in Slovenian by its link or the browser) -> status, English words
        f"{base}?{urlencode({'token': token, 'lang': 'sl'})}":
            (410, "This booking was already cancelled."),
        f"{base}?token=forged": (404, "This link is not valid."),
        f"{stack.base_url}/book/mia/nope?tz=America/New_York&month=2030-01":
            (404, "no such owner or event type"),
        f"{stack.base_url}/book/confirm": (400, "is missing: please use the link"),
    }
    for url, (status, words) in pages.items():
        page = requests.get(url, headers=slovenian, timeout=60)
        assert page.status_code == status and '<html lang="sl"' in page.text, url
        english = requests.get(_switch_to(page, "en"), headers=slovenian, timeout=60)
        assert english.status_code == status and '<html lang="en"' in english.text, url
        assert words in english.text, (url, english.text[:2000])
        kept = parse_qs(urlsplit(_switch_to(page, "en")).query)
        assert {k: v for k, v in kept.items() if k != "lang"} == {
            k: v for k, v in parse_qs(urlsplit(url).query).items() if k != "lang"}, url
    # A method a page does not take: 405 in the guest's words, still naming what it takes.
    refused = requests.put(f"{base}?token={token}", headers=slovenian, timeout=60)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, POST, HEAD"
    assert "Uporabite GET ali POST." in refused.text and _switch_to(refused, "en")
    page = requests.delete(f"{stack.base_url}/book/mia/intro?lang=sl", timeout=60)
    assert page.status_code == 405 and "Uporabite GET ali POST." in page.text
    assert page.headers["Allow"] == "GET, POST, HEAD"
