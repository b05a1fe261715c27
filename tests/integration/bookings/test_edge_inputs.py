"""Hostile and odd input at the edge, over HTTP: every one a named 4xx, nothing stored, no mail,
no Google call. Each test is one class of input from issue 14."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import requests

from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import ZONE, at, book, bookings, next_tuesday
from tests.integration.helpers import firestore_docs, google

BAD_IDS = ["a/b", "..", ".", "__x__", "mi\na", "MIA", "m" * 64, "a\x00b", "ž"]


def _snapshot(stack: Stack) -> list[tuple[str, str]]:
    from tests.standins.google.calendar_push import flush_push

    # Google's pushes (the first "sync" of each channel) arrive on their own time: let them land.
    assert flush_push(stack.google.state)
    return sorted((path, repr(data)) for path, data in firestore_docs())


def _freebusy_calls(stack: Stack) -> int:
    return len(google(stack).calendar_requests("calendar.freebusy.query"))


def test_ids_that_are_not_ids_get_4xx_and_name_the_field(stack: Stack, owner_key: str) -> None:
    before = _snapshot(stack)
    day = next_tuesday().isoformat()
    for bad in BAD_IDS:
        for field in ("owner", "event_type"):
            params = {"owner": "mia", "event_type": "intro", "start": day, "end": day,
                      "time_zone": "UTC", field: bad}
            resp = requests.get(f"{stack.base_url}/availability", params=params, timeout=30)
            assert resp.status_code == 400, (bad, resp.text)
            assert field in resp.json()["fields"]
            resp = book(stack, at(next_tuesday(), "10:00"), **{field: bad})
            assert resp.status_code == 400 and field in resp.json()["fields"], (bad, resp.text)
    secret = "x" * 43
    for owner_part in ("a/b", "..", "__x__"):
        resp = requests.get(f"{stack.base_url}/owner/api/connections", timeout=30,
                            headers={"Authorization": f"Bearer bk_{owner_part}_{secret}"})
        assert resp.status_code == 401, resp.text
    for path in ("/connections/..", "/connections/__x__", "/bookings/__x__", "/bookings/..",
                 "/event-types/__x__", "/event-types/a%2Fb", "/connections/a%2Fb/refresh"):
        for method in ("GET", "DELETE", "PUT", "POST"):
            resp = owner_api(stack.base_url, owner_key, method, path, json={})
            assert resp.status_code in (404, 405), (method, path, resp.text)
    for path in ("/bookings/__x__/cancel", "/bookings/..%2F../reschedule"):
        resp = owner_api(stack.base_url, owner_key, "POST", path, json={})
        assert resp.status_code == 404, (path, resp.text)
    assert _snapshot(stack) == before
    assert stack.sendgrid.messages() == []


def test_every_path_below_book_is_a_page_even_when_it_names_nothing(stack: Stack,
                                                                     owner_key: str) -> None:
    """The contract says a booking page's 404 is HTML: ids with a '/' in them (more path
    segments than a page has), one segment, and paths the router itself refuses (a line break)
    are pages too, in the guest's language. `/book` itself stays JSON."""
    for path in ("/book/mia/a%2Fb", "/book/a%2Fb/intro", "/book/mia/intro/x", "/book/mia",
                 "/book/mia/in%0Atro", "/book/mi%0Aa"):
        for method in ("GET", "POST"):
            resp = requests.request(method, f"{stack.base_url}{path}", timeout=30,
                                    data={"start": "x"}, headers={"Accept-Language": "sl"})
            assert resp.status_code == 404, (method, path, resp.text)
            assert resp.headers["Content-Type"].startswith("text/html"), (method, path)
            assert "Ni najdeno" in resp.text, (method, path, resp.text)
    resp = requests.get(f"{stack.base_url}/book", timeout=30)
    assert resp.status_code == 405 and resp.json()["error"]


def test_dates_at_the_ends_of_the_calendar_are_refused_by_name(stack: Stack,
                                                               owner_key: str) -> None:
    for start, end in (("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31"),
                       ("2026-12-01", "9999-12-31")):
        resp = requests.get(f"{stack.base_url}/availability", timeout=30, params={
            "owner": "mia", "event_type": "intro", "start": start, "end": end,
            "time_zone": "Pacific/Kiritimati"})
        assert resp.status_code == 400, resp.text
        assert set(resp.json()["fields"]) & {"start", "end"}
    for when in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-12:00",
                 "2026-12-01T09:00:00+01:00\x00", "2026-12-01T09:00:00+01:00 x",
                 "2026-12-01", "१२३४-01-01T09:00:00Z"):
        resp = requests.post(f"{stack.base_url}/book", timeout=30, json={
            "owner": "mia", "event_type": "intro", "start": when, "name": "Guest",
            "email": "guest@example.org", "time_zone": "UTC"})
        assert resp.status_code == 400, (when, resp.text)
        assert "start" in resp.json()["fields"]
    booked = book(stack, at(next_tuesday(), "10:00"))
    assert booked.status_code == 201, booked.text
    booking_id = booked.json()["booking"]["id"]
    for when in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"):
        resp = owner_api(stack.base_url, owner_key, "POST",
                         f"/bookings/{booking_id}/reschedule", json={"start": when})
        assert resp.status_code == 400 and "start" in resp.json()["fields"], resp.text
    assert len(bookings()) == 1


def test_deep_json_is_a_400_not_a_recursion_error(stack: Stack, owner_key: str) -> None:
    for depth in (17, 1000, 30000):
        body = "[" * depth + "]" * depth
        wrapped = '{"owner": "mia", "answers": ' + body + "}"
        resp = requests.post(f"{stack.base_url}/book", data=wrapped[:64 * 1024], timeout=30,
                             headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, (depth, resp.text[:200])
        resp = requests.post(f"{stack.base_url}/owner/api/event-types", timeout=30,
                             data='{"rules": ' + body[:60000] + "}",
                             headers={"Authorization": f"Bearer {owner_key}",
                                      "Content-Type": "application/json"})
        assert resp.status_code == 400, (depth, resp.text[:200])
    # Brackets inside strings are text, not depth.
    resp = book(stack, at(next_tuesday(), "10:00"), notes="[[[[" * 40)
    assert resp.status_code == 201, resp.text


def test_push_headers_are_opaque_bytes(stack: Stack, owner_key: str) -> None:
    for headers in (
        {"X-Goog-Channel-ID": "a" * 32, "X-Goog-Channel-Token": "žžž".encode().decode("latin-1")},
        {"X-Goog-Channel-ID": "../x", "X-Goog-Channel-Token": "t"},
        {"X-Goog-Channel-ID": "__x__", "X-Goog-Channel-Token": "t"},
        {"X-Goog-Channel-ID": "a" * 32, "X-Goog-Channel-Token": "\udcff".encode(
            "utf-8", "surrogatepass").decode("latin-1")},
    ):
        resp = requests.post(f"{stack.base_url}/google_notifications", timeout=30,
                             headers={k: v.encode("latin-1") for k, v in headers.items()})
        assert resp.status_code == 404, (headers, resp.text)


def test_huge_push_message_number_is_refused_not_stored(stack: Stack, owner_key: str) -> None:
    from booking.services import watch

    channel, data = next((path.split("/")[1], data) for path, data in firestore_docs()
                         if path.startswith("channels/"))
    headers = {"X-Goog-Channel-ID": channel, "X-Goog-Channel-Token": watch.channel_token(channel),
               "X-Goog-Resource-ID": str(data["resource_id"]), "X-Goog-Resource-State": "exists"}
    for number in ("9" * 30, "-1", "1e9", "٣"):
        resp = requests.post(f"{stack.base_url}/google_notifications", timeout=30,
                             headers={**headers, "X-Goog-Message-Number": number.encode()})
        assert resp.status_code == 404, (number, resp.text)
    resp = requests.post(f"{stack.base_url}/google_notifications", timeout=30,
                         headers={**headers, "X-Goog-Message-Number": "7"})
    assert resp.status_code == 200, resp.text


def test_owner_text_with_control_characters_is_refused(stack: Stack, owner_key: str) -> None:
    base = {"slug": "ctl", "title": "Call", "rules": {"weekly_hours": {"mon": [["09:00", "17:00"]]},
                                                        "duration_minutes": 30}}
    for field, value in (("title", "Call\r\nBcc: x@evil.test"), ("title", "Call\x00"),
                         ("description", "ok\x1b[31m"), ("location_details", "Room\n2"),
                         ("questions", ["Why?\x00"])):
        resp = owner_api(stack.base_url, owner_key, "POST", "/event-types",
                         json={**base, field: value})
        assert resp.status_code == 400, (field, resp.text)
        assert any(k.startswith(field) for k in resp.json()["fields"]), resp.text
    ok = owner_api(stack.base_url, owner_key, "POST", "/event-types",
                   json={**base, "description": "Line one\nLine two\twith a tab"})
    assert ok.status_code == 201, ok.text


def test_every_body_and_form_is_size_limited(stack: Stack, owner_key: str) -> None:
    booked = book(stack, at(next_tuesday(), "10:00"))
    assert booked.status_code == 201
    mails = stack.sendgrid.messages()
    guest = next(m for m in mails if m["to"] == ["guest@example.org"])
    cancel_url = next(w for w in guest["text"].split() if "/cancel?token=" in w)
    token = cancel_url.split("token=")[1]
    big = "x" * (70 * 1024)
    for url, data in (
        (f"{stack.base_url}/cancel", {"token": token, "reason": big}),
        (f"{stack.base_url}/reschedule", {"token": token, "start": big}),
        (f"{stack.base_url}/owner/login", {"api_key": big}),
        (f"{stack.base_url}/owner/integrations/settings", {"default_calendar": big}),
        (f"{stack.base_url}/book", {"owner": "mia", "notes": big}),
    ):
        resp = requests.post(url, data=data, timeout=30, allow_redirects=False,
                             headers={"Authorization": f"Bearer {owner_key}"})
        assert resp.status_code == 413, (url, resp.status_code, resp.text[:200])

    def chunks() -> Any:
        for _ in range(80):
            yield b"reason=" + b"y" * 1024

    resp = requests.post(f"{stack.base_url}/cancel", data=chunks(), timeout=30,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code in (400, 413), resp.text[:200]
    assert bookings()[0]["status"] == "confirmed"


def test_a_time_that_cannot_be_offered_says_why_and_costs_no_google_call(
        stack: Stack, owner_key: str) -> None:
    day = next_tuesday()
    calls = _freebusy_calls(stack)
    now = datetime.now(ZONE)
    cases = {
        "in the past": now - timedelta(days=1),
        "not one of the offered times": at(day, "10:07"),
        "outside the booking window": at(day + timedelta(days=120), "10:00"),
    }
    for words, when in cases.items():
        resp = book(stack, when)
        assert resp.status_code == 400, (words, resp.text)
        assert words in resp.json()["fields"]["start"], resp.text
    first = book(stack, at(day, "10:00"))
    assert first.status_code == 201
    calls = _freebusy_calls(stack)
    taken = book(stack, at(day, "10:00"), email="other@example.org")
    assert taken.status_code == 409 and "no longer available" in taken.json()["message"]
    assert _freebusy_calls(stack) == calls  # the ledger said no: Google was not asked
    booking_id = first.json()["booking"]["id"]
    resp = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking_id}/reschedule",
                     json={"start": at(day, "10:07").isoformat()})
    assert resp.status_code == 400 and "offered times" in resp.json()["fields"]["start"]
    closed = requests.get(f"{stack.base_url}/availability", timeout=30, params={
        "owner": "mia", "event_type": "intro", "start": (day + timedelta(days=4)).isoformat(),
        "end": (day + timedelta(days=5)).isoformat(), "time_zone": "Europe/Ljubljana"})
    assert closed.status_code == 200 and not any(closed.json()["days"].values())
    assert _freebusy_calls(stack) == calls  # a weekend: nothing to ask Google about
    assert len(bookings()) == 1
    assert json.dumps(bookings()[0]["guest"], default=str).count("guest@example.org") == 1
