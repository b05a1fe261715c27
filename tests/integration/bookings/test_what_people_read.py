"""What each person reads about a booking, checked the way they would read it: the owner in
Google Calendar, the guest in the invitation their mail client imports, anyone on the public
pages when something is wrong. Found by walking the local run as an owner and as guests."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import requests
from icalendar import Calendar

from tests.conftest import Stack
from tests.integration.bookings.conftest import (
    A,
    B,
    at,
    book,
    bookings,
    next_tuesday,
    our_events,
)
from tests.integration.helpers import google


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def as_google_shows_it(description: str) -> str:
    """The text a person sees: an event's description "Can contain HTML" (Event.description in
    the shipped calendar.v3.json), and Google Calendar renders it as such, so tags vanish and
    entities become characters."""
    parser = _Text()
    parser.feed(description)
    parser.close()
    return "".join(parser.parts)


def test_guest_text_in_the_google_event_reads_as_typed(stack: Stack, owner_key: str) -> None:
    notes = '<a href="https://evil.example/x">Reschedule here</a> & <b>soon</b>'
    answer = "<img src=x onerror=alert(1)> 3 < 4"
    resp = book(stack, at(next_tuesday(), "10:00"), name="Ann O'Hara",
                email="ann@example.org", notes=notes, answers=[answer])
    assert resp.status_code == 201, resp.text
    (event,) = our_events(stack, B)
    description = event["description"]
    # No markup of the guest's reaches the owner's calendar...
    assert "<a " not in description and "<img" not in description and "<b>" not in description
    # ...and the owner reads exactly what was typed, the guest's address included (before, the
    # address in "<ann@example.org>" was read as a tag and vanished).
    shown = as_google_shows_it(description)
    assert "Ann O'Hara <ann@example.org>" in shown
    assert notes in shown and answer in shown


def _attachment(message: dict[str, object]) -> Calendar:
    (attachment,) = message["attachments"]  # type: ignore[misc]
    return Calendar.from_ical(attachment["content"])


def test_each_invitation_names_the_other_person_in_the_readers_language(
        stack: Stack, owner_key: str) -> None:
    resp = book(stack, at(next_tuesday(), "11:00"), name="Janez Novak",
                email="janez@example.si", locale="sl", time_zone="Europe/Ljubljana")
    assert resp.status_code == 201, resp.text
    by_reader = {m["to"][0]: m for m in stack.sendgrid.messages()}
    guest = _attachment(by_reader["janez@example.si"]).events[0]
    owner = _attachment(by_reader["mia@owner.test"]).events[0]
    # The guest's calendar entry is about meeting the host, in Slovenian like their email.
    assert str(guest["SUMMARY"]) == "Intro call z osebo Coach <Owner>"
    assert "Pridruži se videoklicu" in str(guest["DESCRIPTION"])
    assert "Odpovej: " in str(guest["DESCRIPTION"]) and "Prestavi: " in str(guest["DESCRIPTION"])
    assert "Join the video call" not in str(guest["DESCRIPTION"])
    alarms = [str(a["DESCRIPTION"]) for a in guest.walk("VALARM")]
    assert alarms == ["Intro call z osebo Coach <Owner>"] * 2
    # The owner's entry names the guest, in the owner's language (English here).
    assert str(owner["SUMMARY"]) == "Intro call with Janez Novak"
    assert guest["UID"] == owner["UID"]


def test_a_guest_never_sees_which_google_account_the_owner_connected(
        stack: Stack, owner_key: str) -> None:
    google(stack).flush_push()
    google(stack).revoke_account(A)
    google(stack).expire_access_tokens()
    day = next_tuesday()
    # Booking checks live, meets invalid_grant: the owner is told; the guest learns only that
    # it cannot be booked now, as JSON from the API and as a page from the booking page.
    api = book(stack, at(day, "10:00"))
    page = requests.post(f"{stack.base_url}/book/mia/intro?lang=en", timeout=60, data={
        "start": at(day, "10:30").isoformat(), "name": "Guest Person",
        "email": "guest2@example.org"})
    later = requests.get(f"{stack.base_url}/availability", timeout=60, params={
        "owner": "mia", "event_type": "intro", "start": day.isoformat(),
        "end": day.isoformat(), "time_zone": "Europe/Ljubljana"})
    assert api.status_code == page.status_code == later.status_code == 503
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Please try again in a moment" in page.text
    for resp in (api, page, later):
        assert A not in resp.text and B not in resp.text
    reconnect = [m for m in stack.sendgrid.messages() if m["to"] == ["mia@owner.test"]]
    assert len(reconnect) == 1 and A in reconnect[0]["subject"]


def _text_inputs(page: str) -> list[str]:
    """The names of the page's booking-form fields a form-filling script would type into."""
    form = page[page.index('<form method="post"'):]
    return re.findall(r'<(?:input type="(?:text|email)"|textarea)[^>]*\bname="([^"]+)"', form)


def test_the_booking_page_carries_the_honeypot_that_only_a_script_fills_in(
        stack: Stack, owner_key: str) -> None:
    """The README promises forms a hidden `website` field: a person leaves it empty and books,
    a script that fills in every field is refused and nothing is booked."""
    day = next_tuesday()
    url = f"{stack.base_url}/book/mia/intro?lang=en&tz=Europe/Ljubljana"
    page = requests.get(f"{url}&day={day.isoformat()}", timeout=60).text
    assert "website" in _text_inputs(page)
    trap = re.search(r'<p aria-hidden="true" style="position:absolute;[^"]*">'
                     r'<input type="text" name="website" value="" tabindex="-1"', page)
    assert trap, "the honeypot must be hidden from people and out of the tab order"
    start = re.findall(r'name="start" value="([^"]+)"', page)[0]
    script = {name: "x@example.org" if name == "email" else "Bot" for name in _text_inputs(page)}
    refused = requests.post(url, data={"start": start, **script}, timeout=60)
    assert refused.status_code == 400 and not bookings()
    person = {"start": start, "name": "Ana", "email": "ana@example.org", "website": ""}
    assert requests.post(url, data=person, timeout=60).status_code == 201
    assert len(bookings()) == 1
