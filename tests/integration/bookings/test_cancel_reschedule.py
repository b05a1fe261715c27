"""Cancelling and rescheduling from the guest's email, by the owner, under races; reminders."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
import requests

from tests.conftest import Stack
from tests.integration.bookings.conftest import B, at, book, next_tuesday, our_events
from tests.integration.helpers import firestore_docs


def _booking(stack: Stack, hhmm: str = "10:00", **fields: Any) -> dict[str, Any]:
    resp = book(stack, at(next_tuesday(), hhmm), **fields)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["booking"])


def _mails(stack: Stack, category_word: str) -> list[dict[str, Any]]:
    return [m for m in stack.sendgrid.messages() if m["subject"].startswith(category_word)]


def _link(mail: dict[str, Any], action: str) -> str:
    found = re.search(rf"(http://\S+/{action}\?token=[^\s\"<>]+)", mail["text"])
    assert found, mail["text"]
    return found.group(1)


def _guest_mail(stack: Stack, word: str) -> dict[str, Any]:
    return next(m for m in _mails(stack, word) if m["to"] == ["guest@example.org"])


def _stored(booking_id: str) -> dict[str, Any]:
    return next(d for p, d in firestore_docs() if p.endswith(f"/bookings/{booking_id}"))


def _form(url: str, **fields: str) -> requests.Response:
    token = parse_qs(urlsplit(url).query)["token"][0]
    return requests.post(url.split("?")[0], data={"token": token, **fields}, timeout=60)


def _ics(mail: dict[str, Any]) -> icalendar.Calendar:
    ics = next(a for a in mail["attachments"] if a["filename"].endswith(".ics"))
    return icalendar.Calendar.from_ical(ics["content"])


def test_guest_cancels_from_the_email_after_confirming(stack: Stack, owner_key: str) -> None:
    booking = _booking(stack)
    url = _link(_guest_mail(stack, "Confirmed"), "cancel")
    page = requests.get(url, timeout=30)
    assert page.status_code == 200
    # The token in the URL never reaches another site as a Referer.
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in page.headers["Cache-Control"]
    # Opening the link (as a mail scanner would) changed nothing.
    assert _stored(booking["id"])["status"] == "confirmed"
    assert len(our_events(stack, B)) == 1 and len(stack.sendgrid.messages()) == 2

    done = _form(url, reason="Something came up <urgent>")
    assert done.status_code == 200 and "cancelled" in done.text
    assert _stored(booking["id"])["status"] == "cancelled"
    assert our_events(stack, B) == []
    cancellations = _mails(stack, "Cancelled")
    assert sorted(m["to"][0] for m in cancellations) == ["guest@example.org", "mia@owner.test"]
    assert all("Something came up <urgent>" in m["text"] for m in cancellations)
    assert all("Something came up &lt;urgent&gt;" in m["html"] for m in cancellations)
    assert str(_ics(cancellations[0])["METHOD"]) == "CANCEL"
    # The slot is free again.
    day = next_tuesday().isoformat()
    listed = requests.get(f"{stack.base_url}/availability", timeout=30, params={
        "owner": "mia", "event_type": "intro", "start": day, "end": day,
        "time_zone": "Europe/Ljubljana"}).json()
    assert any("T10:00" in s for s in listed["days"][day])

    again = _form(url)
    assert again.status_code == 410
    assert len(_mails(stack, "Cancelled")) == 2


def test_bad_tokens_end_on_clear_pages_and_change_nothing(stack: Stack, owner_key: str) -> None:
    from booking.adapters import signing_keys
    from booking.domain import tokens

    booking = _booking(stack)
    url = _link(_guest_mail(stack, "Confirmed"), "cancel")
    base = url.split("?")[0]
    token = parse_qs(urlsplit(url).query)["token"][0]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert requests.get(base, params={"token": tampered}, timeout=30).status_code == 404
    assert requests.get(base, params={"token": "garbage"}, timeout=30).status_code == 404
    assert requests.get(base, timeout=30).status_code == 400
    # A cancel token cannot reschedule.
    wrong_action = requests.get(f"{stack.base_url}/reschedule", params={"token": token},
                                timeout=30)
    assert wrong_action.status_code == 404
    key = signing_keys.links()
    expired = tokens.sign(key, "cancel", {"o": "mia", "b": booking["id"], "v": 1},
                          expires_at=int((datetime.now(UTC) - timedelta(minutes=1)).timestamp()))
    page = requests.get(base, params={"token": expired}, timeout=30)
    assert page.status_code == 410 and "expired" in page.text
    unknown = tokens.sign(key, "cancel", {"o": "mia", "b": "0" * 32, "v": 1},
                          expires_at=int((datetime.now(UTC) + timedelta(days=1)).timestamp()))
    assert requests.get(base, params={"token": unknown}, timeout=30).status_code == 404
    assert _stored(booking["id"])["status"] == "confirmed"
    assert len(stack.sendgrid.messages()) == 2


def test_a_token_for_one_booking_cannot_act_on_another(stack: Stack, owner_key: str) -> None:
    first = _booking(stack, "10:00", email="first@example.org")
    second = _booking(stack, "11:00", email="second@example.org")
    mail = next(m for m in _mails(stack, "Confirmed") if m["to"] == ["first@example.org"])
    url = _link(mail, "cancel")
    token = parse_qs(urlsplit(url).query)["token"][0]
    kid, body, mac = token.split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["b"] = second["id"]
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    resp = requests.post(url.split("?")[0], data={"token": f"{kid}.{forged_body}.{mac}"},
                         timeout=30)
    assert resp.status_code == 404
    assert _stored(second["id"])["status"] == "confirmed"
    assert _stored(first["id"])["status"] == "confirmed"


def test_guest_reschedules_same_event_and_meet_link_new_emails_old_links_refused(
    stack: Stack, owner_key: str
) -> None:
    booking = _booking(stack, "10:00")
    confirmed = _guest_mail(stack, "Confirmed")
    old_cancel = _link(confirmed, "cancel")
    url = _link(confirmed, "reschedule")
    page = requests.get(url, timeout=30)
    assert page.status_code == 200
    new_start = at(next_tuesday(), "10:30")
    # Its own time does not block the move to an overlapping slot.
    assert new_start.isoformat() in page.text.replace("&#43;", "+") or "10:30" in page.text
    event_before = our_events(stack, B)[0]

    moved = _form(url, start=new_start.isoformat())
    assert moved.status_code == 200, moved.text
    # Its language switch opens the moved booking's page in Slovenian (the old link is spent).
    switch = re.search(r'href="([^"]+)"[^>]*hreflang="sl"', moved.text)
    assert switch, moved.text[:2000]
    other = requests.get(unescape(switch.group(1)), timeout=30)
    assert other.status_code == 200 and "Izberite nov termin" in other.text
    ny = new_start.astimezone(ZoneInfo("America/New_York"))  # the zone the guest booked in
    assert f"Zdaj: torek, {ny.day}. " in other.text and f"{ny:%H:%M}–" in other.text
    stored = _stored(booking["id"])
    assert stored["start"] == new_start.astimezone(UTC) and stored["sequence"] == 1
    events = our_events(stack, B)
    assert len(events) == 1 and events[0]["id"] == event_before["id"]
    assert events[0]["hangoutLink"] == event_before["hangoutLink"]
    assert events[0]["start"]["dateTime"].startswith(
        new_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")) or \
        datetime.fromisoformat(events[0]["start"]["dateTime"]) == new_start
    updates = _mails(stack, "Rescheduled")
    assert sorted(m["to"][0] for m in updates) == ["guest@example.org", "mia@owner.test"]
    # Each says who moved it: the guest did.
    to_guest, to_owner = (next(m for m in updates if m["to"] == [who])
                          for who in ("guest@example.org", "mia@owner.test"))
    assert "You moved your meeting with Coach <Owner> to a new time." in to_guest["text"]
    assert "Guest Person moved your meeting to a new time." in to_owner["text"]
    assert "Guest Person moved your meeting" in to_owner["html"]
    cal = _ics(next(m for m in updates if m["to"] == ["guest@example.org"]))
    first_cal = _ics(confirmed)
    vevent, first_vevent = cal.walk("VEVENT")[0], first_cal.walk("VEVENT")[0]
    assert str(vevent["UID"]) == str(first_vevent["UID"])
    assert int(vevent["SEQUENCE"]) == int(first_vevent["SEQUENCE"]) + 1
    assert vevent.decoded("DTSTART") == new_start.astimezone(UTC)

    assert requests.get(old_cancel, timeout=30).status_code == 410
    assert requests.get(url, timeout=30).status_code == 410
    new_cancel = _link(next(m for m in updates if m["to"] == ["guest@example.org"]), "cancel")
    assert requests.get(new_cancel, timeout=30).status_code == 200


def test_rescheduling_into_a_taken_slot_is_409(stack: Stack, owner_key: str) -> None:
    booking = _booking(stack, "10:00")
    _booking(stack, "14:00", email="other@example.org")
    url = _link(_guest_mail(stack, "Confirmed"), "reschedule")
    resp = _form(url, start=at(next_tuesday(), "14:00").isoformat())
    assert resp.status_code == 409
    assert _stored(booking["id"])["start"] == at(next_tuesday(), "10:00").astimezone(UTC)


def test_owner_cancels_and_reschedules_through_the_api(stack: Stack, owner_key: str) -> None:
    from tests.drivers import owner_api

    first = _booking(stack, "10:00")
    moved = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{first['id']}/reschedule",
                      json={"start": at(next_tuesday(), "15:00").isoformat()})
    assert moved.status_code == 200, moved.text
    assert len(_mails(stack, "Rescheduled")) == 2
    (to_guest,) = [m for m in _mails(stack, "Rescheduled") if m["to"] == ["guest@example.org"]]
    assert "Coach <Owner> moved your meeting to a new time." in to_guest["text"]
    cancelled = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{first['id']}/cancel",
                          json={"reason": "Ill today"})
    assert cancelled.status_code == 200
    assert cancelled.json()["booking"]["status"] == "cancelled"
    assert our_events(stack, B) == []
    assert len(_mails(stack, "Cancelled")) == 2
    from tests.integration.helpers import make_owner

    intruder = make_owner("intruder", email="intruder@owner.test")
    assert owner_api(stack.base_url, intruder, "POST", f"/bookings/{first['id']}/cancel",
                     json={}).status_code == 404


def test_two_cancels_at_once_give_one_set_of_emails(stack: Stack, owner_key: str) -> None:
    _booking(stack)
    url = _link(_guest_mail(stack, "Confirmed"), "cancel")
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def go() -> None:
        barrier.wait()
        statuses.append(_form(url).status_code)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200, 410, 410, 410]
    assert len(_mails(stack, "Cancelled")) == 2


def test_cancel_racing_reschedule_has_one_consistent_outcome(
    stack: Stack, owner_key: str
) -> None:
    booking = _booking(stack)
    mail = _guest_mail(stack, "Confirmed")
    cancel_url, move_url = _link(mail, "cancel"), _link(mail, "reschedule")
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def cancel() -> None:
        barrier.wait()
        results["cancel"] = _form(cancel_url).status_code

    def move() -> None:
        barrier.wait()
        results["move"] = _form(move_url, start=at(next_tuesday(), "16:00").isoformat())\
            .status_code

    threads = [threading.Thread(target=cancel), threading.Thread(target=move)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    stored = _stored(booking["id"])
    events = our_events(stack, B)
    assert sorted(results.values()) in ([200, 410], [200, 409])
    if results["cancel"] == 200:
        assert stored["status"] == "cancelled" and events == []
        assert len(_mails(stack, "Cancelled")) == 2 and _mails(stack, "Rescheduled") == []
    else:
        assert stored["status"] == "confirmed" and len(events) == 1
        assert stored["start"] == at(next_tuesday(), "16:00").astimezone(UTC)
        assert len(_mails(stack, "Rescheduled")) == 2 and _mails(stack, "Cancelled") == []


def _reminders(stack: Stack) -> list[dict[str, Any]]:
    return [m for m in stack.sendgrid.messages() if m["subject"].startswith("Reminder")]


def test_reminders_due_not_due_once_retimed_and_never_after_cancel(
    stack: Stack, owner_key: str
) -> None:
    from booking.services import reminders

    booking = _booking(stack, "10:00")
    start = datetime.fromisoformat(booking["start"])
    assert reminders.send_due(start - timedelta(hours=30)) == 0  # not due yet
    reminders.send_due(start - timedelta(hours=23))
    reminders.send_due(start - timedelta(hours=22))  # the same reminder is not sent twice
    day_before = _reminders(stack)
    assert len(day_before) == 1 and day_before[0]["to"] == ["guest@example.org"]
    assert booking["meet_link"] in day_before[0]["text"]
    assert "/cancel?token=" in day_before[0]["text"]

    # Popup at 10 minutes is this event type's nearest alert: due in its own window only.
    reminders.send_due(start - timedelta(minutes=5))
    assert len(_reminders(stack)) == 2

    # A reschedule re-times them: the new time's reminders are owed afresh.
    from tests.drivers import owner_api

    new_start = at(next_tuesday() + timedelta(days=1), "11:00")
    assert owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking['id']}/reschedule",
                     json={"start": new_start.isoformat()}).status_code == 200
    reminders.send_due(start - timedelta(hours=23))  # the old time's window: nothing
    assert len(_reminders(stack)) == 2
    reminders.send_due(new_start - timedelta(hours=20))
    assert len(_reminders(stack)) == 3

    owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking['id']}/cancel", json={})
    reminders.send_due(new_start - timedelta(minutes=5))
    assert len(_reminders(stack)) == 3


@pytest.mark.parametrize("action", ["cancel", "reschedule"])
def test_pages_escape_what_guests_wrote(stack: Stack, owner_key: str, action: str) -> None:
    _booking(stack)
    page = requests.get(_link(_guest_mail(stack, "Confirmed"), action), timeout=30)
    assert page.status_code == 200
    # The owner's name is "Coach <Owner>": shown, escaped.
    assert "Coach &lt;Owner&gt;" in page.text and "Coach <Owner>" not in page.text


def test_the_reschedule_page_pages_through_later_and_earlier_weeks(
        stack: Stack, owner_key: str) -> None:
    _booking(stack, "10:00")
    url = _link(_guest_mail(stack, "Confirmed"), "reschedule")

    def starts(html: str) -> list[datetime]:
        return [datetime.fromisoformat(unescape(v))
                for v in re.findall(r'name="start" value="([^"]+)"', html)]

    first = requests.get(url, timeout=30)  # the week before the booking and the one after
    assert first.status_code == 200
    later_link = re.search(r'href="([^"]+)">Later times', first.text)
    assert later_link, first.text
    later = requests.get(unescape(later_link.group(1)), timeout=30)
    assert later.status_code == 200
    assert starts(later.text) and min(starts(later.text)) > min(starts(first.text))
    assert max(starts(later.text)) - max(starts(first.text)) >= timedelta(days=13)
    back = re.search(r'href="([^"]+)">‹ Earlier times', later.text)
    assert back and "lang=en" in back.group(1)
    # Earlier pages stop at now: the first one offers no earlier page than that.
    earliest = requests.get(url + "&from=0001-01-01", timeout=30)
    assert earliest.status_code == 200 and "Earlier times" not in earliest.text
    assert min(starts(earliest.text)) <= min(starts(first.text))
    # A page far past the booking window offers nothing, and says so.
    far = requests.get(url + "&from=9999-12-31", timeout=30)
    assert far.status_code == 200 and starts(far.text) == []
    assert "There are no free times in these two weeks." in far.text


def test_a_booking_whose_event_type_was_deleted_says_it_cannot_move_and_can_still_cancel(
        stack: Stack, owner_key: str) -> None:
    from tests.drivers import owner_api

    booking = _booking(stack, "10:00", locale="sl")
    assert owner_api(stack.base_url, owner_key, "DELETE", "/event-types/intro").status_code == 200
    mail = _guest_mail(stack, "Potrjeno")
    # Not "not found" (the link and the booking are fine): why it cannot move, and what to do.
    page = requests.get(_link(mail, "reschedule"), timeout=60)
    assert page.status_code == 410, page.text[:2000]
    assert "Ta vrsta srečanja ni več na voljo" in unescape(page.text)
    english = requests.get(_link(mail, "reschedule").replace("lang=sl", "lang=en"), timeout=60)
    assert "This kind of meeting is no longer offered" in english.text
    moved = _form(_link(mail, "reschedule"), start=at(next_tuesday(), "11:00").isoformat())
    assert moved.status_code == 410
    owners = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking['id']}/reschedule",
                       json={"start": at(next_tuesday(), "11:00").isoformat()})
    assert owners.status_code == 410 and owners.json()["error"] == "gone"
    assert _stored(booking["id"])["start"] == at(next_tuesday(), "10:00").astimezone(UTC)
    assert _form(_link(mail, "cancel")).status_code == 200
    assert _stored(booking["id"])["status"] == "cancelled"
