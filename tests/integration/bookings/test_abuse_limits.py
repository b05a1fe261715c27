"""Abuse limits over HTTP, counted in Firestore (no instance memory): one flooding client is
refused with 429 and Retry-After while an honest client and other owners go on unaffected."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import requests

from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import at, book, bookings, next_tuesday, race, rules
from tests.integration.helpers import google, make_owner

ATTACKER = "203.0.113.66"
HONEST = "198.51.100.7"


def _limits(stack: Stack, key: str, **limits: int) -> dict[str, Any]:
    resp = owner_api(stack.base_url, key, "PATCH", "/settings", json={"limits": limits})
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["limits"])


def _fresh_window() -> None:
    """Counters are per minute: start a flood early in one, so it cannot straddle two."""
    left = 60 - time.time() % 60
    if left < 15:
        time.sleep(left + 0.1)


def _availability(stack: Stack, client: str, owner: str = "mia") -> requests.Response:
    day = next_tuesday().isoformat()
    return requests.get(f"{stack.base_url}/availability", timeout=30,
                        headers={"X-Forwarded-For": f"10.9.9.9, {client}"},
                        params={"owner": owner, "event_type": "intro", "start": day, "end": day,
                                "time_zone": "Europe/Ljubljana"})


def _freebusy(stack: Stack) -> int:
    return len(google(stack).calendar_requests("calendar.freebusy.query"))


def test_a_flooding_client_is_limited_and_an_honest_one_is_not(stack: Stack,
                                                                owner_key: str) -> None:
    limits = _limits(stack, owner_key, availability_per_ip=5, book_per_ip=3)
    assert limits["availability_per_ip"] == 5 and limits["changes_per_ip"] == 20  # a default
    _fresh_window()
    calls = _freebusy(stack)
    # Concurrent, from one address (the left X-Forwarded-For entry is the client's own claim
    # and changes nothing): exactly the limit gets through, counted atomically.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _availability(stack, ATTACKER), range(16)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 5 + [429] * 11, codes
    refused = next(r for r in answers if r.status_code == 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"] == "too_many_requests"
    assert _freebusy(stack) - calls <= 5 * 2  # refused requests cost no Google call

    honest = _availability(stack, HONEST)
    assert honest.status_code == 200
    slots = honest.json()["days"][next_tuesday().isoformat()]

    day = next_tuesday()
    spam = [book(stack, at(day, f"{9 + i}:00"), email=f"victim{i}@example.org",
                 notes="Click https://spam.example",
                 _headers={"X-Forwarded-For": ATTACKER}) for i in range(5)]
    assert [r.status_code for r in spam] == [201, 201, 201, 429, 429]
    good = book(stack, at(day, "15:00"), _headers={"X-Forwarded-For": HONEST})
    assert good.status_code == 201, good.text
    assert len(slots) > 4 and len(bookings()) == 4
    assert len(stack.sendgrid.messages()) == 4 * 2  # no mail for a refused request


def test_one_owner_flooded_leaves_other_owners_unaffected(stack: Stack, owner_key: str) -> None:
    other = make_owner("other-coach", email="other@owner.test")
    created = owner_api(stack.base_url, other, "POST", "/event-types",
                        json={"slug": "intro", "title": "Intro", "rules": rules()})
    assert created.status_code == 201, created.text
    _limits(stack, owner_key, availability_per_owner=13)
    _fresh_window()
    # Many addresses at once against one owner: its own counter stops them, sharded 8 ways
    # (shares 2+2+2+2+2+1+1+1) and still exact: exactly the limit passes.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: _availability(stack, f"192.0.2.{i}"), range(40)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 13 + [429] * 27, codes
    for i in range(10):
        assert _availability(stack, f"192.0.2.{i}", owner="other-coach").status_code == 200


def test_open_bookings_per_guest_email_are_capped(stack: Stack, owner_key: str) -> None:
    _limits(stack, owner_key, open_bookings_per_email=2)
    day = next_tuesday()
    assert book(stack, at(day, "09:00")).status_code == 201
    assert book(stack, at(day + timedelta(days=1), "09:00")).status_code == 201
    third = book(stack, at(day, "11:00"))
    assert third.status_code == 409 and "2 upcoming booking" in third.json()["message"]
    assert book(stack, at(day, "11:00"), email="someone.else@example.org").status_code == 201
    assert len(bookings()) == 3


def test_racers_with_one_email_pass_the_open_bookings_cap_exactly(stack: Stack,
                                                                   owner_key: str) -> None:
    """The cap is decided inside the atomic claim: 8 simultaneous requests for 8 free slots
    with one email against a cap of 3 book exactly 3. A cancellation makes room again."""
    _limits(stack, owner_key, open_bookings_per_email=3)
    day = next_tuesday()
    answers = race(lambda i: book(stack, at(day, f"{9 + i}:00"), email="Racer@Example.org"
                                  if i % 2 else "racer@example.org",
                                  _headers={"X-Forwarded-For": f"192.0.2.{i}"}), 8)
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 3 + [409] * 5, [(r.status_code, r.text) for r in answers]
    assert all("3 upcoming booking" in r.json()["message"] for r in answers
               if r.status_code == 409)
    assert len(bookings()) == 3
    won = next(r.json()["booking"]["id"] for r in answers if r.status_code == 201)
    resp = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{won}/cancel", json={})
    assert resp.status_code == 200, resp.text
    assert book(stack, at(day + timedelta(days=1), "09:00"),
                email="racer@example.org").status_code == 201


def test_the_honeypot_field_refuses_a_script(stack: Stack, owner_key: str) -> None:
    resp = book(stack, at(next_tuesday(), "09:00"), website="https://spam.example")
    assert resp.status_code == 400 and "website" in resp.json()["fields"]
    form = requests.post(f"{stack.base_url}/book", timeout=30, data={
        "owner": "mia", "event_type": "intro", "start": at(next_tuesday(), "09:00").isoformat(),
        "name": "Bot", "email": "bot@example.org", "time_zone": "UTC", "website": "x"})
    assert form.status_code == 400
    assert bookings() == [] and stack.sendgrid.messages() == []


def test_limits_are_validated_and_link_pages_are_limited_per_address(
        stack: Stack, owner_key: str) -> None:
    resp = owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                     json={"limits": {"book_per_ip": 0, "nonsense": 5}})
    assert resp.status_code == 400
    assert {"limits.book_per_ip", "limits.nonsense"} <= set(resp.json()["fields"])
    _fresh_window()
    codes = [requests.get(f"{stack.base_url}/cancel", params={"token": "x"}, timeout=30,
                          headers={"X-Forwarded-For": ATTACKER}).status_code
             for _ in range(22)]
    assert codes[:20] == [404] * 20 and codes[20:] == [429, 429], codes
    # The refused guest reads what to do, in their language, with the page's language switch.
    waited = requests.get(f"{stack.base_url}/cancel", params={"token": "x", "lang": "sl"},
                          timeout=30, headers={"X-Forwarded-For": ATTACKER})
    assert waited.status_code == 429 and int(waited.headers["Retry-After"]) > 0
    assert "<h1>Počakajte trenutek</h1>" in waited.text and 'hreflang="en"' in waited.text
    assert requests.get(f"{stack.base_url}/cancel", params={"token": "x"}, timeout=30,
                        headers={"X-Forwarded-For": HONEST}).status_code == 404


def test_the_booking_page_says_the_guests_cap_in_the_guests_language(
        stack: Stack, owner_key: str) -> None:
    _limits(stack, owner_key, open_bookings_per_email=1)
    day = next_tuesday()
    assert book(stack, at(day, "09:00")).status_code == 201
    page = requests.post(f"{stack.base_url}/book/mia/intro?tz=Europe/Ljubljana&lang=sl", data={
        "start": at(day, "11:00").isoformat(), "name": "Guest", "email": "guest@example.org"},
        timeout=60)
    assert page.status_code == 409, page.text[:1000]
    # Not "that time was just taken": the guest learns what to do, in Slovenian.
    assert "prekličite eno, da rezervirate novo" in page.text
    assert "Coach &lt;Owner&gt;" in page.text and len(bookings()) == 1  # escaped
