"""Group events through HTTP: seats per slot, each guest with their own booking, emails and
links; one Google event with every guest; fifty racers for the last seat; changes the owner
makes to the group's event in Google Calendar reach every seat."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import icalendar
import requests

from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import B, at, book, bookings, next_tuesday, race, rules
from tests.integration.helpers import google


def _group_type(stack: Stack, key: str, seats: int, **rule_fields: Any) -> None:
    body = {"slug": "yoga", "title": "Yoga class", "seats": seats,
            "rules": rules(duration_minutes=60, **rule_fields)}
    resp = owner_api(stack.base_url, key, "POST", "/event-types", json=body)
    assert resp.status_code == 201, resp.text
    assert resp.json()["seats"] == seats


def _availability(stack: Stack, slug: str = "yoga") -> dict[str, Any]:
    day = next_tuesday().isoformat()
    resp = requests.get(f"{stack.base_url}/availability", timeout=30, params={
        "owner": "mia", "event_type": slug, "start": day, "end": day,
        "time_zone": "Europe/Ljubljana"})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _offered(stack: Stack, slug: str = "yoga") -> dict[str, int | None]:
    """Offered local start -> seats left (None for an event type without seats)."""
    found = _availability(stack, slug)
    left = found.get("seats_left", {})
    return {s[11:16]: left.get(s) for s in found["days"].get(next_tuesday().isoformat(), [])}


def _seat(stack: Stack, hhmm: str, email: str, **fields: Any) -> requests.Response:
    return book(stack, at(next_tuesday(), hhmm), event_type="yoga", email=email,
                name=email.split("@")[0].title(), **fields)


def _group_events(stack: Stack) -> list[dict[str, Any]]:
    return [e for e in google(stack).list_events(B) if e.get("status") != "cancelled"
            and (e.get("extendedProperties") or {}).get("private", {}).get("group_id")]


def _guests(event: dict[str, Any]) -> list[str]:
    return sorted(a["email"] for a in event.get("attendees", []))


def _mails_to(stack: Stack, address: str) -> list[dict[str, Any]]:
    return [m for m in stack.sendgrid.messages() if m["to"] == [address]]


def _link(mail: dict[str, Any], action: str) -> str:
    found = re.search(rf"(http://\S+/{action}\?token=[^\s\"<>]+)", mail["text"])
    assert found, mail["text"]
    return found.group(1)


def _post(url: str, **fields: str) -> requests.Response:
    token = parse_qs(urlsplit(url).query)["token"][0]
    return requests.post(url.split("?")[0], data={"token": token, **fields}, timeout=60)


def _ics(mail: dict[str, Any]) -> Any:
    ics = next(a for a in mail["attachments"] if a["filename"].endswith(".ics"))
    return icalendar.Calendar.from_ical(ics["content"]).walk("VEVENT")[0]


def test_guests_book_cancel_and_move_their_own_seats_of_one_google_event(
        stack: Stack, owner_key: str) -> None:
    bad = owner_api(stack.base_url, owner_key, "POST", "/event-types", json={
        "slug": "yoga", "title": "Yoga", "seats": 0, "rules": rules()})
    assert bad.status_code == 400 and bad.json()["fields"] == {"seats": "must be 1 to 100"}
    # One group slot counts as one booking for the daily limit: the day takes one slot.
    _group_type(stack, owner_key, 3, max_bookings_per_day=1)
    assert _offered(stack)["10:00"] == 3

    ana = _seat(stack, "10:00", "ana@example.org", locale="sl")
    assert ana.status_code == 201, ana.text
    assert _offered(stack) == {"10:00": 2}  # the day's one slot, with two seats left
    day = next_tuesday()
    for lang, words in (("en", "2 seats left"), ("sl", "še 2 prosti mesti")):
        page = requests.get(f"{stack.base_url}/book/mia/yoga", timeout=30, params={
            "tz": "Europe/Ljubljana", "month": f"{day:%Y-%m}", "day": day.isoformat(),
            "lang": lang})
        assert page.status_code == 200 and words in page.text, page.text
    assert "10:00" not in _offered(stack, "intro")  # it blocks the owner's other types
    bo = _seat(stack, "10:00", "bo@example.org")
    assert bo.status_code == 201, bo.text
    assert ana.json()["booking"]["id"] != bo.json()["booking"]["id"]
    (event,) = _group_events(stack)
    assert _guests(event) == ["ana@example.org", "bo@example.org"]
    # Each guest has their own confirmation, in their language, with the one Meet link.
    (to_ana,), (to_bo,) = _mails_to(stack, "ana@example.org"), _mails_to(stack, "bo@example.org")
    assert to_ana["subject"].startswith("Potrjeno") and to_bo["subject"].startswith("Confirmed")
    assert event["hangoutLink"] in to_ana["text"] and event["hangoutLink"] in to_bo["text"]
    assert _ics(to_ana)["UID"] != _ics(to_bo)["UID"]
    assert _link(to_ana, "cancel") != _link(to_bo, "cancel")

    assert _seat(stack, "10:00", "cy@example.org").status_code == 201
    assert _offered(stack) == {}  # full
    # The owner gets one email per seat: each names its guest and how full the slot is.
    to_owner = [m for m in _mails_to(stack, "mia@owner.test")
                if m["subject"].startswith("Confirmed")]
    assert [(m["subject"].split(" — ")[0], re.search(r"Seats: (.*)", m["text"]).group(1))
            for m in to_owner] == [("Confirmed: Yoga class with Ana", "1 of 3 taken"),
                                   ("Confirmed: Yoga class with Bo", "2 of 3 taken"),
                                   ("Confirmed: Yoga class with Cy", "3 of 3 taken")]
    assert all("Seats" in m["html"] for m in to_owner)
    assert "Seats" not in to_bo["text"] and "Mesta" not in to_ana["text"]  # guests: their own
    full = _seat(stack, "10:00", "dan@example.org")
    assert full.status_code == 409 and "every seat is taken" in full.text

    # Bo cancels: that seat only; the event stays with the others.
    assert _post(_link(to_bo, "cancel")).status_code == 200
    (event,) = _group_events(stack)
    assert _guests(event) == ["ana@example.org", "cy@example.org"]
    assert [m["subject"].split(":")[0] for m in _mails_to(stack, "bo@example.org")] == \
        ["Confirmed", "Cancelled"]
    (told,) = [m for m in _mails_to(stack, "mia@owner.test") if m["subject"].startswith(
        "Cancelled: Yoga class with Bo")]
    assert "Seats: 2 of 3 taken" in told["text"]
    assert not [m for m in _mails_to(stack, "ana@example.org") if "Odpovedano" in m["subject"]]
    assert _offered(stack) == {"10:00": 1}

    # Ana moves to another day's slot: she leaves this event for one of her own.
    wednesday = at(next_tuesday() + timedelta(days=1), "11:00")
    moved = _post(_link(to_ana, "reschedule"), start=wednesday.isoformat())
    assert moved.status_code == 200, moved.text
    events = {e["start"]["dateTime"][:13]: _guests(e) for e in _group_events(stack)}
    assert sorted(events.values()) == [["ana@example.org"], ["cy@example.org"]]
    rescheduled = [m for m in _mails_to(stack, "ana@example.org")
                   if m["subject"].startswith("Prestavljeno")]
    assert len(rescheduled) == 1
    assert _ics(rescheduled[0]).decoded("DTSTART") == wednesday.astimezone(UTC)
    (told,) = [m for m in _mails_to(stack, "mia@owner.test")
               if m["subject"].startswith("Rescheduled: Yoga class with Ana")]
    assert "Seats: 1 of 3 taken" in told["text"]  # a slot of her own now
    # Her new event's Meet link follows in one more email of her own.
    (own,) = [e for e in _group_events(stack) if _guests(e) == ["ana@example.org"]]
    assert own["hangoutLink"] != event["hangoutLink"]
    assert own["hangoutLink"] in _mails_to(stack, "ana@example.org")[-1]["text"]

    # The last seat goes: so does the event, and the time is free again.
    (to_cy,) = _mails_to(stack, "cy@example.org")
    assert _post(_link(to_cy, "cancel")).status_code == 200
    assert [_guests(e) for e in _group_events(stack)] == [["ana@example.org"]]
    google(stack).flush_push()  # availability reads the push-fed busy cache
    assert _offered(stack) == {"09:00": 3, "10:00": 3, "11:00": 3, "12:00": 3, "13:00": 3,
                               "14:00": 3, "15:00": 3, "16:00": 3}


def test_fifty_guests_racing_for_the_last_seat_make_one_booking(
        stack: Stack, owner_key: str) -> None:
    _group_type(stack, owner_key, 2)
    assert _seat(stack, "14:00", "first@example.org").status_code == 201

    def attempt(i: int) -> tuple[int, str]:
        r = _seat(stack, "14:00", f"racer{i}@example.org")
        return r.status_code, r.text

    results = race(attempt)
    codes = sorted(code for code, _ in results)
    assert codes == [201] + [409] * 49, codes
    assert all("every seat is taken" in text or "no longer available" in text
               for code, text in results if code == 409)
    seats = [b for b in bookings() if b["status"] == "confirmed"]
    assert len(seats) == 2 and len({b["group_id"] for b in seats}) == 1
    (event,) = _group_events(stack)
    assert len(event["attendees"]) == 2


def test_the_owner_moving_or_deleting_the_group_event_in_google_reaches_every_seat(
        stack: Stack, owner_key: str) -> None:
    _group_type(stack, owner_key, 5)
    for email in ("ana@example.org", "bo@example.org"):
        assert _seat(stack, "10:00", email).status_code == 201
    google(stack).flush_push()
    (event,) = _group_events(stack)

    # Bo declines in his calendar: his seat is marked and the owner told; Ana's is untouched.
    attendees = [{**a, "responseStatus": "declined" if a["email"] == "bo@example.org"
                  else a.get("responseStatus")} for a in event["attendees"]]
    google(stack).edit_event(B, event["id"], {"attendees": attendees})
    google(stack).flush_push()
    declined = {b["guest"]["email"]: b.get("guest_response") for b in bookings()}
    assert declined == {"ana@example.org": None, "bo@example.org": "declined"}
    assert [m["to"] for m in stack.sendgrid.messages() if m["subject"].startswith("Declined")] \
        == [["mia@owner.test"]]

    new_start = at(next_tuesday(), "15:00")
    google(stack).move_event(B, event["id"], new_start.isoformat(),
                             (new_start + timedelta(hours=1)).isoformat())
    google(stack).flush_push()
    seats = [b for b in bookings() if b["status"] == "confirmed"]
    assert [b["start"] for b in seats] == [new_start.astimezone(UTC)] * 2
    for guest in ("ana@example.org", "bo@example.org"):
        assert [m["subject"].split(":")[0] for m in _mails_to(stack, guest)] == \
            ["Confirmed", "Rescheduled"]
    assert _guests(_group_events(stack)[0]) == ["ana@example.org", "bo@example.org"]
    assert _offered(stack)["15:00"] == 3 and _offered(stack)["10:00"] == 5

    google(stack).delete_event(B, event["id"])
    google(stack).flush_push()
    assert {b["status"] for b in bookings()} == {"cancelled"}
    for guest in ("ana@example.org", "bo@example.org"):
        assert [m["subject"].split(":")[0] for m in _mails_to(stack, guest)] == \
            ["Confirmed", "Rescheduled", "Cancelled"]
    assert "15:00" in _offered(stack)
    assert not google(stack).calendar_requests("events.delete")


def test_a_seat_booked_while_google_fails_reaches_the_event_once_google_is_back(
        stack: Stack, owner_key: str) -> None:
    from booking.services import outbox

    _group_type(stack, owner_key, 4)
    assert _seat(stack, "10:00", "ana@example.org").status_code == 201
    # Google fails every read and write of the event while Bo books his seat.
    for method in ("calendar.events.get", "calendar.events.patch"):
        google(stack).inject_calendar_fault(method, status=503, reason="backendError",
                                            count=1000)
    try:
        bo = _seat(stack, "10:00", "bo@example.org")
    finally:
        google(stack).clear_calendar_faults()
    assert bo.status_code == 201, bo.text
    (event,) = _group_events(stack)
    assert _guests(event) == ["ana@example.org"]  # not yet
    (told,) = _mails_to(stack, "bo@example.org")  # the seat stands, the link will follow
    assert told["subject"].startswith("Confirmed") and event["hangoutLink"] not in told["text"]

    later = datetime.now(UTC) + timedelta(minutes=10)
    outbox.drain(later)
    outbox.drain(later + timedelta(hours=1))  # a second drain has nothing left to do
    (event,) = _group_events(stack)
    assert _guests(event) == ["ana@example.org", "bo@example.org"]
    to_bo = _mails_to(stack, "bo@example.org")
    assert len(to_bo) == 2 and event["hangoutLink"] in to_bo[1]["text"]
    assert len(_mails_to(stack, "ana@example.org")) == 1
    # The owner's copies of Bo's confirmation and of the link that followed it each say how
    # full the slot is.
    owners = [m for m in _mails_to(stack, "mia@owner.test") if "with Bo" in m["subject"]]
    assert [m["subject"].split(":")[0] for m in owners] == ["Confirmed", "Video link"]
    assert all("Seats: 2 of 4 taken" in m["text"] for m in owners), [m["text"] for m in owners]


def test_seats_held_until_confirmed_by_email_count_and_join_the_event_when_confirmed(
        stack: Stack, owner_key: str) -> None:
    _group_type(stack, owner_key, 2)
    current = owner_api(stack.base_url, owner_key, "GET", "/event-types/yoga").json()
    assert owner_api(stack.base_url, owner_key, "PUT", "/event-types/yoga",
                     json={**current, "confirm_by_email": True}).status_code == 200
    held = _seat(stack, "10:00", "ana@example.org")
    assert held.status_code == 202, held.text
    assert _offered(stack)["10:00"] == 1  # a held seat is taken
    assert _seat(stack, "10:00", "bo@example.org").status_code == 202
    assert _seat(stack, "10:00", "cy@example.org").status_code == 409  # both seats held
    assert _group_events(stack) == []  # nothing reaches Google before a confirmation
    for guest in ("ana@example.org", "bo@example.org"):
        (mail,) = _mails_to(stack, guest)
        found = re.search(r"(http://\S+/book/confirm\?token=[^\s\"<>]+)", mail["text"])
        assert found, mail["text"]
        assert _post(found.group(1)).status_code == 200
    (event,) = _group_events(stack)
    assert _guests(event) == ["ana@example.org", "bo@example.org"]
