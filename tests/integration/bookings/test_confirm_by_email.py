"""Confirm by email, over HTTP on the local stack: a request for such an event type holds the slot
(nobody else can take it) and sends the guest one email with a signed link, without their words;
nothing reaches Google or the owner until the guest POSTs the link's page (a GET, as mail
scanners send, changes nothing); confirming books it through the normal path exactly once; a
lapsed hold frees the slot by itself and cannot be confirmed."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import requests

from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import B, at, book, next_tuesday, our_events, race
from tests.integration.bookings.conftest import bookings as bookings_stored
from tests.integration.helpers import firestore_docs, google

WORDS = "Call me at +386 1 234 5678 about cheap pills"


def _confirming(stack: Stack, key: str, **changes: Any) -> None:
    current = owner_api(stack.base_url, key, "GET", "/event-types/intro").json()
    resp = owner_api(stack.base_url, key, "PUT", "/event-types/intro",
                     json={**current, "confirm_by_email": True, "hold_minutes": 5, **changes})
    assert resp.status_code == 200, resp.text
    assert resp.json()["confirm_by_email"] is True


def _free(stack: Stack, hhmm: str) -> bool:
    day = next_tuesday().isoformat()
    listed = requests.get(f"{stack.base_url}/availability", timeout=30, params={
        "owner": "mia", "event_type": "intro", "start": day, "end": day,
        "time_zone": "Europe/Ljubljana"}).json()
    return any(f"T{hhmm}" in s for s in listed["days"].get(day, []))


def _stored(booking_id: str) -> dict[str, Any]:
    return next(d for p, d in firestore_docs() if p.endswith(f"/bookings/{booking_id}"))


def _confirm_link(stack: Stack) -> str:
    [mail] = [m for m in stack.sendgrid.messages() if "/book/confirm?" in m["text"]]
    assert mail["subject"].startswith(("Please confirm", "Potrdite")), mail["subject"]
    found = re.search(r"(http://\S+/book/confirm\?token=[^\s\"<>]+)", mail["text"])
    assert found, mail["text"]
    return found.group(1)


def _post(url: str) -> requests.Response:
    """The page's Confirm button: its form posts the token and the language back."""
    query = parse_qs(urlsplit(url).query)
    return requests.post(url.split("?")[0], timeout=60,
                         data={"token": query["token"][0], "lang": query["lang"][0]})


def _inserts(stack: Stack) -> int:
    return len(google(stack).calendar_requests("calendar.events.insert"))


def test_a_hold_blocks_the_slot_and_only_a_posted_confirmation_books_it_once(
        stack: Stack, owner_key: str) -> None:
    _confirming(stack, owner_key)
    before = datetime.now(UTC)
    resp = book(stack, at(next_tuesday(), "10:00"), notes=WORDS, name="Buy Pills Online")
    assert resp.status_code == 202, resp.text
    held = resp.json()["booking"]
    assert held["status"] == "pending" and held["meet_link"] is None
    until = datetime.fromisoformat(held["hold_until"])
    assert timedelta(minutes=4) < until - before <= timedelta(minutes=5, seconds=5)

    # The slot is held: not offered, and nobody else can take it.
    assert not _free(stack, "10:00")
    other = book(stack, at(next_tuesday(), "10:00"), email="someone.else@example.org")
    assert other.status_code == 409, other.text
    # Nothing reached Google or the owner; the guest got one email, without their words.
    assert _inserts(stack) == 0 and our_events(stack, B) == []
    [mail] = stack.sendgrid.messages()
    assert mail["to"] == ["guest@example.org"] and not mail["attachments"]
    for text in (mail["text"], mail["html"], mail["subject"]):
        assert "Pills" not in text and "+386" not in text
    owners_list = owner_api(stack.base_url, owner_key, "GET", "/bookings").json()["bookings"]
    assert owners_list == []

    # Opening the link (a mail scanner does) shows a Confirm button and changes nothing.
    url = _confirm_link(stack)
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and 'method="post"' in page.text
    ny = until.astimezone(ZoneInfo("America/New_York"))
    assert f"Please confirm by {ny:%H:%M} (America/New_York)." in page.text  # her clock
    assert "no-store" in page.headers["Cache-Control"]
    assert _stored(held["id"])["status"] == "pending"
    assert _inserts(stack) == 0 and len(stack.sendgrid.messages()) == 1

    # POST confirms: the normal path (event with Meet, both confirmations), exactly once even
    # when the guest double-clicks.
    answers = race(lambda _: _post(url), 3)
    assert sorted(r.status_code for r in answers) == [200] * 3, [r.text for r in answers]
    assert all("confirmed" in r.text for r in answers)
    google(stack).flush_push()
    stored = _stored(held["id"])
    assert stored["status"] == "confirmed" and "hold_until" not in stored
    assert stored["meet_link"] and stored["next_reminder_at"]
    assert _inserts(stack) == 1 and len(our_events(stack, B)) == 1
    confirmed = [m for m in stack.sendgrid.messages() if m["subject"].startswith("Confirmed")]
    assert sorted(m["to"][0] for m in confirmed) == ["guest@example.org", "mia@owner.test"]
    # Once more, later: the same page, nothing sent or written again.
    again = _post(url)
    assert again.status_code == 200 and "confirmed" in again.text
    assert requests.get(url, timeout=30).status_code == 200
    assert _inserts(stack) == 1 and len(stack.sendgrid.messages()) == 3
    # The owner sees it now, and the slot stays taken for good.
    listed = owner_api(stack.base_url, owner_key, "GET", "/bookings").json()["bookings"]
    assert [b["id"] for b in listed] == [held["id"]]
    assert not _free(stack, "10:00")


def _lapse(owner_id: str, booking_id: str) -> None:
    """The hold's minutes pass: its instants are moved into the past where they are stored
    (booking, ledger, guest document), as the clock would have done."""
    from booking import clients

    past = datetime.now(UTC) - timedelta(seconds=1)
    owner = clients.firestore().collection("owners").document(owner_id)
    owner.collection("bookings").document(booking_id).update({"hold_until": past})
    for col in ("ledger", "guests"):
        for snap in owner.collection(col).stream():
            if booking_id in (snap.to_dict() or {}).get("entries", {}):
                snap.reference.update({f"entries.{booking_id}.hold_until": past})


def test_a_lapsed_hold_frees_the_slot_and_cannot_be_confirmed(stack: Stack,
                                                              owner_key: str) -> None:
    _confirming(stack, owner_key)
    held = book(stack, at(next_tuesday(), "11:00"), locale="sl").json()["booking"]
    url = _confirm_link(stack)
    assert not _free(stack, "11:00")
    # The link outlives the hold (by the day a lapsed hold is kept), so a guest who comes back
    # late is told what happened rather than "this link expired".
    body = parse_qs(urlsplit(url).query)["token"][0].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    hold_until = datetime.fromisoformat(held["hold_until"])
    assert claims["exp"] >= int((hold_until + timedelta(days=1)).timestamp())
    _lapse("mia", held["id"])
    # No job ran: the slot is offered again, and another guest can take it.
    assert _free(stack, "11:00")
    refused = _post(url)
    assert refused.status_code == 410 and refused.headers["Content-Type"].startswith("text/html")
    assert "Zadržanje je poteklo" in refused.text  # in the guest's language (the link's lang)
    # ... with the way back: the event type's booking page, in her language and zone.
    again = re.search(r'<a class="button" href="([^"]+)">Znova izberite termin</a>', refused.text)
    assert again, refused.text[:3000]
    page = requests.get(unescape(again.group(1)), timeout=30)
    assert page.status_code == 200 and '<html lang="sl" data-zone="America/New_York"' in page.text
    assert requests.get(url, timeout=30).status_code == 410
    assert _stored(held["id"])["status"] == "pending" and _inserts(stack) == 0
    # The hold no longer counts for anybody: the same slot, booked by someone else.
    owner_api(stack.base_url, owner_key, "PUT", "/event-types/intro", json={
        **owner_api(stack.base_url, owner_key, "GET", "/event-types/intro").json(),
        "confirm_by_email": False})
    taken = book(stack, at(next_tuesday(), "11:00"), email="someone.else@example.org")
    assert taken.status_code == 201, taken.text
    assert _post(url).status_code == 410 and len(our_events(stack, B)) == 1


def test_tampered_expired_and_wrong_purpose_links_are_refused(stack: Stack,
                                                              owner_key: str) -> None:
    from booking.adapters import signing_keys
    from booking.domain import holds, tokens

    _confirming(stack, owner_key)
    held = book(stack, at(next_tuesday(), "12:00")).json()["booking"]
    url = _confirm_link(stack)
    base = url.split("?")[0]
    token = parse_qs(urlsplit(url).query)["token"][0]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    key = signing_keys.links()
    expired = tokens.sign(key, holds.CONFIRM_PURPOSE, {"o": "mia", "b": held["id"]},
                          expires_at=int(datetime.now(UTC).timestamp()) - 1)
    cancel_purpose = tokens.sign(key, "cancel", {"o": "mia", "b": held["id"], "v": 1},
                                 expires_at=int(datetime.now(UTC).timestamp()) + 600)
    for bad, status in ((tampered, 404), ("garbage", 404), (cancel_purpose, 404),
                        (expired, 410)):
        for method in ("GET", "POST"):
            resp = requests.request(method, base, params={"token": bad}, timeout=30)
            assert resp.status_code == status, (bad, method, resp.text)
    assert requests.post(base, timeout=30).status_code == 400  # no token at all
    # A confirm link cannot cancel anything either.
    assert requests.get(f"{stack.base_url}/cancel", params={"token": token},
                        timeout=30).status_code == 404
    assert _stored(held["id"])["status"] == "pending" and _inserts(stack) == 0
    assert _post(url).status_code == 200 and _stored(held["id"])["status"] == "confirmed"


def test_holds_count_toward_the_guest_cap_and_the_booking_page_says_check_your_email(
        stack: Stack, owner_key: str) -> None:
    _confirming(stack, owner_key)
    resp = owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                     json={"limits": {"open_bookings_per_email": 1}})
    assert resp.status_code == 200, resp.text
    page = requests.post(f"{stack.base_url}/book/mia/intro", timeout=30, data={
        "start": at(next_tuesday(), "13:00").isoformat(), "name": "Guest",
        "email": "guest@example.org", "tz": "Europe/Ljubljana"})
    assert page.status_code == 202 and "Check your email" in page.text
    # Until when: the hold's end on the guest's clock, as the email says it.
    [held] = [b for b in bookings_stored() if b["status"] == "pending"]
    until = held["hold_until"].astimezone(ZoneInfo("Europe/Ljubljana"))
    assert f"Please confirm by {until:%H:%M} (Europe/Ljubljana)." in page.text
    # Its language switch says the same in Slovenian (the slot still held, nothing booked).
    switch = re.search(r'href="([^"]+)"[^>]*hreflang="sl"', page.text)
    assert switch, page.text
    again = requests.get(unescape(switch.group(1)), timeout=30)
    assert again.status_code == 200 and "Preverite e-pošto" in again.text
    assert f"Potrdite do {until:%H:%M} (Europe/Ljubljana)." in again.text
    second = book(stack, at(next_tuesday(), "14:00"))
    assert second.status_code == 409 and "1 upcoming booking" in second.json()["message"]
    bad = owner_api(stack.base_url, owner_key, "PUT", "/event-types/intro", json={
        **owner_api(stack.base_url, owner_key, "GET", "/event-types/intro").json(),
        "hold_minutes": 0, "confirm_by_email": "yes"})
    assert bad.status_code == 400 and {"hold_minutes", "confirm_by_email"} <= set(
        bad.json()["fields"])


def test_the_confirmed_page_shows_the_meet_link_and_add_to_calendar_as_the_booking_page_does(
        stack: Stack, owner_key: str) -> None:
    """Once confirmed, the link's page is the booking page's answer: the Meet link (or, while
    Google is still making the room, that it comes by email; Create events guide,
    conferencing: creation is asynchronous) and "Add to Google Calendar", in either language."""
    _confirming(stack, owner_key)
    google(stack).calendar_settings(conference_status="pending", conference_delay=3600)
    book(stack, at(next_tuesday(), "10:00"), email="first@example.org")
    waiting = _post(_confirm_link(stack))
    assert waiting.status_code == 200, waiting.text[:2000]
    assert "meet.google.com" not in waiting.text
    assert "we will email you its link" in waiting.text
    assert "calendar.google.com/calendar/render?action=TEMPLATE" in waiting.text
    assert "is confirmed" in waiting.text

    google(stack).resolve_conferences(outcome="success")
    google(stack).calendar_settings(conference_status="success")
    held = book(stack, at(next_tuesday(), "11:00"), locale="sl").json()["booking"]
    url = next(link for link in (
        re.search(r"(http://\S+/book/confirm\?token=[^\s\"<>]+)", m["text"])
        for m in stack.sendgrid.messages() if m["to"] == ["guest@example.org"]) if link).group(1)
    done = _post(url)
    assert done.status_code == 200 and "Rezervacija je potrjena" in done.text
    meet = re.search(r'href="(https://meet\.google\.com/[^"]+)"', done.text)
    assert meet and meet.group(1) == _stored(held["id"])["meet_link"]
    assert "calendar.google.com/calendar/render?action=TEMPLATE" in done.text
    assert "je potrjena" in done.text and "torek" in done.text  # her language, her day
    # Its language switch: the same link, in English, with the same link to the meeting.
    switch = re.search(r'href="([^"]+)"[^>]*hreflang="en"', done.text)
    assert switch, done.text[:3000]
    english = requests.get(unescape(switch.group(1)), timeout=30)
    assert english.status_code == 200 and "You are booked" in english.text
    assert meet.group(1) in english.text and "Add to Google Calendar" in english.text
    assert _inserts(stack) == 2
