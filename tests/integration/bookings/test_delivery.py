"""Delivery under faults (issue 12): every owed email and Google write exactly once, checked at
delivery, and a guest's request answered within one deadline. Faults are real: the stand-ins'
fault and latency controls, a token endpoint whose host does not resolve, a rotated SendGrid
key, a booking document gone from Firestore; nothing of ours is replaced."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import A, B, at, book, bookings, next_tuesday, our_events
from tests.integration.helpers import google


def _subjects(stack: Stack, to: str = "guest@example.org") -> list[str]:
    return [m["subject"].split(":")[0] for m in stack.sendgrid.messages() if m["to"] == [to]]


def _outbox() -> list[dict[str, Any]]:
    from booking import clients

    return [{"id": s.id, **s.to_dict()} for s in clients.firestore().collection("outbox").stream()]


def _cancel(stack: Stack, owner_key: str, booking_id: str) -> None:
    resp = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking_id}/cancel", json={})
    assert resp.status_code == 200, resp.text


def test_a_row_that_raises_anything_is_retried_alone_then_dead_lettered_once(
    stack: Stack, owner_key: str, capfd: pytest.CaptureFixture[str]
) -> None:
    from booking import clients
    from booking.services import outbox

    # Booking 1's Google event is owed while Google is down; then its booking document is gone,
    # so delivering that row raises NotFound (not an ExternalError).
    google(stack).inject_calendar_fault("calendar.events.insert", status=503,
                                        reason="backendError", count=1000)
    first = book(stack, at(next_tuesday(), "09:00")).json()["booking"]
    google(stack).clear_calendar_faults()
    clients.firestore().collection("owners").document("mia").collection("bookings")\
        .document(first["id"]).delete()
    # Booking 2's emails are owed after it, while SendGrid is down.
    stack.sendgrid.fail_next(2, 503)
    assert book(stack, at(next_tuesday(), "10:00")).status_code == 201
    before = len(stack.sendgrid.messages())

    later = datetime.now(UTC) + timedelta(minutes=10)
    counts = outbox.drain(later)
    # Booking 1's rows (its event, its conflict check) fail; nothing else waits for them.
    assert counts == {"pending": 2, "sent": 3}
    assert len(stack.sendgrid.messages()) == before + 2

    for step in range(1, outbox.MAX_ATTEMPTS + 2):  # past each backoff, to the attempt cap
        outbox.drain(later + timedelta(hours=7 * step))
    failed = owner_api(stack.base_url, owner_key, "GET", "/outbox/failed").json()["failed"]
    assert sorted(f["kind"] for f in failed) == ["conflict_check", "google_event"]
    assert all(f["attempts"] == outbox.MAX_ATTEMPTS and "NotFound" in f["error"]
               for f in failed)
    errors = [line for line in capfd.readouterr().err.splitlines()
              if '"severity": "ERROR"' in line and "failed for good" in line]
    assert len(errors) == 2  # once per dead letter
    assert {f["id"] for f in failed} == {json.loads(line)["outbox_id"] for line in errors}


def test_dns_failure_refreshing_the_token_after_the_commit_still_answers_201(
    stack: Stack, owner_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking.config import get_settings
    from booking.services import outbox

    # Only account A is checked for conflicts; bookings land in B. A's token is fresh (cached)
    # after one availability query, so the live check passes, and B's first token refresh,
    # after the commit, meets a host that does not resolve.
    conns = owner_api(stack.base_url, owner_key, "GET", "/connections").json()["connections"]
    assert owner_api(stack.base_url, owner_key, "PATCH", "/settings", json={
        "conflict_calendars": [{"connection_id": conns[0]["id"], "calendar_id": A}]
    }).status_code == 200
    from booking import clients
    from booking.adapters import firestore_owners
    from booking.domain.intervals import Interval
    from booking.services import busy

    clients.reset()  # as a fresh instance: no account's credentials built yet
    day = next_tuesday()
    # A live free/busy query (availability may answer from the push-fed cache instead).
    now = datetime.now(UTC)
    busy.LiveGoogleBusy().busy(firestore_owners.get_owner("mia"),
                               Interval(now + timedelta(days=7), now + timedelta(days=8)), now)
    monkeypatch.setenv("GOOGLE_TOKEN_URI", "http://oauth2.invalid/token")
    monkeypatch.setenv("REQUEST_DEADLINE_SECONDS", "2")
    get_settings.cache_clear()

    resp = book(stack, at(day, "11:00"), idempotency_key="dns-case-0001")
    assert resp.status_code == 201, resp.text
    assert resp.json()["booking"]["status"] == "confirmed"
    assert len(stack.sendgrid.messages()) == 2  # the guest is told now
    [row] = [r for r in _outbox() if r["kind"] == "google_event"]
    assert row["status"] == "pending" and "google" in row["last_error"]
    again = book(stack, at(day, "11:00"), idempotency_key="dns-case-0001")
    assert again.status_code == 200
    assert again.json()["booking"]["id"] == resp.json()["booking"]["id"]

    monkeypatch.setenv("GOOGLE_TOKEN_URI", f"{stack.google_url}/token")
    clients.reset()  # the name resolves again
    outbox.drain(datetime.now(UTC) + timedelta(minutes=10))
    assert len(our_events(stack, B)) == 1


def test_a_reminder_held_by_sendgrid_is_never_delivered_after_the_cancellation(
    stack: Stack, owner_key: str
) -> None:
    from booking.services import outbox, reminders

    booking = book(stack, at(next_tuesday(), "13:00")).json()["booking"]
    start = datetime.fromisoformat(booking["start"])
    stack.sendgrid.fail_next(1, 503)
    assert reminders.send_due(start - timedelta(hours=23)) == 0  # owed, not sent: not counted
    _cancel(stack, owner_key, booking["id"])
    outbox.drain(start - timedelta(hours=22))
    assert _subjects(stack) == ["Confirmed", "Cancelled"]
    dropped = [r for r in _outbox() if r["status"] == "dropped"]
    assert len(dropped) == 1 and "sequence 0 -> 1" in dropped[0]["dropped_because"]
    assert reminders.send_due(start - timedelta(minutes=5)) == 0


def test_no_confirmed_after_cancelled_and_no_stale_time_after_a_move(
    stack: Stack, owner_key: str
) -> None:
    from booking.services import outbox

    later = datetime.now(UTC) + timedelta(minutes=30)
    stack.sendgrid.fail_next(2, 503)  # both confirmations wait for a retry
    first = book(stack, at(next_tuesday(), "14:00")).json()["booking"]
    _cancel(stack, owner_key, first["id"])
    outbox.drain(later)
    assert _subjects(stack) == ["Cancelled"]
    assert _subjects(stack, "mia@owner.test") == ["Cancelled"]

    stack.sendgrid.fail_next(2, 503)
    second = book(stack, at(next_tuesday(), "15:00")).json()["booking"]
    moved = at(next_tuesday() + timedelta(days=1), "15:00")
    assert owner_api(stack.base_url, owner_key, "POST", f"/bookings/{second['id']}/reschedule",
                     json={"start": moved.isoformat()}).status_code == 200
    outbox.drain(later)
    # The confirmation for the old time is dropped: the guest hears the new time only.
    assert _subjects(stack) == ["Cancelled", "Rescheduled"]


def test_a_worker_that_overran_its_lease_records_nothing_and_sends_nothing_again(
    stack: Stack, owner_key: str
) -> None:
    from booking.adapters import firestore_outbox
    from booking.services import outbox

    google(stack).inject_calendar_fault("calendar.events.insert", status=503,
                                        reason="backendError", count=1000)
    book(stack, at(next_tuesday(), "09:30"))
    google(stack).clear_calendar_faults()
    [row] = [r for r in _outbox() if r["kind"] == "google_event"]
    now = datetime.now(UTC) + timedelta(minutes=10)
    slow = firestore_outbox.claim(row["id"], now)
    assert slow is not None
    # Its lease runs out; resync takes the row over and delivers it.
    assert firestore_outbox.claim(row["id"], now + timedelta(seconds=30)) is None
    assert outbox.deliver(row["id"], now + firestore_outbox.LEASE) == "sent"
    # The slow worker comes back: its record is refused, the row stays delivered once.
    assert not firestore_outbox.finish(row["id"], slow["lease"], now, {"late": True})
    assert not firestore_outbox.retry_later(row["id"], slow["lease"], now, "late")
    [after] = [r for r in _outbox() if r["id"] == row["id"]]
    assert after["status"] == "sent" and "late" not in after["result"]
    assert len(our_events(stack, B)) == 1


def test_parallel_retries_with_one_key_all_get_the_booking(stack: Stack, owner_key: str) -> None:
    start = at(next_tuesday(), "16:00")
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def retry() -> None:
        resp = book(stack, start, idempotency_key="checkout-7f3a9c")
        with lock:
            answers.append(resp)

    threads = [threading.Thread(target=retry) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * 19 + [201], statuses
    assert len({r.json()["booking"]["id"] for r in answers}) == 1
    assert len(bookings()) == 1 and len(our_events(stack, B)) == 1
    assert len(stack.sendgrid.messages()) == 2


def test_a_key_reused_for_another_request_is_422_and_reveals_nothing(
    stack: Stack, owner_key: str
) -> None:
    first = book(stack, at(next_tuesday(), "11:30"), idempotency_key="reused-key-1",
                 name="Ana Secret")
    assert first.status_code == 201
    for change in ({"start": at(next_tuesday(), "12:30").isoformat()},
                   {"email": "someone.else@example.org", "name": "Bob"},
                   {"event_type": "deep"}):
        resp = book(stack, at(next_tuesday(), "11:30"), idempotency_key="reused-key-1",
                    **change)
        assert resp.status_code == 422, resp.text
        assert "idempotency_key" in resp.json()["fields"]
        assert first.json()["booking"]["id"] not in resp.text and "Ana" not in resp.text
    assert len(bookings()) == 1


def test_a_rotated_sendgrid_key_holds_the_emails_and_tells_the_owner_once(
    stack: Stack, owner_key: str, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str]
) -> None:
    from booking import clients
    from booking.services import outbox

    monkeypatch.setenv("SENDGRID_API_KEY", "SG.rotated-away")
    clients.reset()
    assert book(stack, at(next_tuesday(), "09:00")).status_code == 201
    assert book(stack, at(next_tuesday(), "10:00")).status_code == 201
    later = datetime.now(UTC) + timedelta(minutes=10)
    outbox.drain(later)
    assert stack.sendgrid.messages() == []
    listed = owner_api(stack.base_url, owner_key, "GET", "/outbox/failed").json()
    assert listed["failed"] == []  # held, not dropped
    assert [(a["service"], a["status"]) for a in listed["alerts"]] == [("sendgrid", 401)]
    errors = [line for line in capfd.readouterr().err.splitlines()
              if '"severity": "ERROR"' in line and "sendgrid" in line]
    assert len(errors) == 1  # the operator, once

    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
    clients.reset()
    outbox.drain(later + timedelta(hours=1))
    assert len(stack.sendgrid.messages()) == 4


def test_an_unverified_sender_403_is_retried_not_dropped(stack: Stack, owner_key: str) -> None:
    from booking.services import outbox

    stack.sendgrid.fail_next(2, 403)
    assert book(stack, at(next_tuesday(), "09:00")).status_code == 201
    assert stack.sendgrid.messages() == []
    outbox.drain(datetime.now(UTC) + timedelta(minutes=10))
    assert len(stack.sendgrid.messages()) == 2


def test_a_hanging_sendgrid_is_cut_off_by_our_timeout_and_each_email_sent_once(
    stack: Stack, owner_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking.config import get_settings
    from booking.services import outbox

    monkeypatch.setenv("REQUEST_DEADLINE_SECONDS", "2")
    get_settings.cache_clear()
    stack.sendgrid.hang_next(2, 5.0)  # stalls, and never takes the message
    began = time.monotonic()
    resp = book(stack, at(next_tuesday(), "11:30"))
    took = time.monotonic() - began
    assert resp.status_code == 201, resp.text
    assert took < 4.5, f"the guest waited {took:.1f} s for a hung SendGrid and a 2 s deadline"
    assert stack.sendgrid.messages() == []
    stack.sendgrid.hang_next(0, 0.0)  # SendGrid answers again
    outbox.drain(datetime.now(UTC) + timedelta(minutes=10))
    time.sleep(max(0.0, began + 5.5 - time.monotonic()))  # the stalled sends have ended
    sent = stack.sendgrid.messages()
    assert sorted(m["to"][0] for m in sent) == ["guest@example.org", "mia@owner.test"]
    assert len({m["custom_args"]["outbox_id"] for m in sent}) == 2
    assert _subjects(stack) == ["Confirmed"]
    outbox.drain(datetime.now(UTC) + timedelta(hours=1))
    assert len(stack.sendgrid.messages()) == 2  # nothing owed twice


def test_one_slow_google_call_cannot_hold_the_guest_past_the_deadline(
    stack: Stack, owner_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking.config import get_settings
    from booking.services import outbox

    monkeypatch.setenv("REQUEST_DEADLINE_SECONDS", "3")
    get_settings.cache_clear()
    google(stack).set_calendar_latency("calendar.events.insert", 20.0)
    began = time.monotonic()
    resp = book(stack, at(next_tuesday(), "10:30"))
    took = time.monotonic() - began
    google(stack).set_calendar_latency("calendar.events.insert", 0.0)
    assert resp.status_code == 201, resp.text
    assert took < 6.0, f"the guest waited {took:.1f} s for a 3 s deadline"
    assert len(stack.sendgrid.messages()) == 2  # confirmed now; the event follows
    outbox.drain(datetime.now(UTC) + timedelta(minutes=10))
    assert len(our_events(stack, B)) == 1


def test_a_cancel_racing_the_first_create_leaves_no_google_event(
    stack: Stack, owner_key: str
) -> None:
    from booking.services import outbox

    google(stack).set_calendar_latency("calendar.events.insert", 2.0)
    answer: list[requests.Response] = []
    guest = threading.Thread(target=lambda: answer.append(book(stack, at(next_tuesday(),
                                                                          "12:00"))))
    guest.start()
    deadline = time.monotonic() + 20
    while not bookings() and time.monotonic() < deadline:
        time.sleep(0.05)
    [stored] = bookings()
    listed = owner_api(stack.base_url, owner_key, "GET", "/bookings").json()["bookings"]
    _cancel(stack, owner_key, listed[0]["id"])  # while the insert is on its way
    guest.join()
    google(stack).set_calendar_latency("calendar.events.insert", 0.0)
    assert answer[0].status_code == 201
    outbox.drain(datetime.now(UTC) + timedelta(minutes=10))
    assert stored["status"] == "confirmed"
    assert our_events(stack, B) == []
    assert bookings()[0]["status"] == "cancelled"


def test_reminders_are_counted_when_sent_and_found_by_their_moment(
    stack: Stack, owner_key: str
) -> None:
    from booking.services import reminders

    booking = book(stack, at(next_tuesday(), "13:30")).json()["booking"]
    start = datetime.fromisoformat(booking["start"])
    [stored] = bookings()
    assert stored["next_reminder_at"] == start - timedelta(minutes=1440)
    assert reminders.send_due(start - timedelta(hours=23)) == 1
    assert reminders.send_due(start - timedelta(hours=23)) == 0  # already sent: not counted
    assert bookings()[0]["next_reminder_at"] == start - timedelta(minutes=10)
    assert reminders.send_due(start - timedelta(minutes=5)) == 1
    assert "next_reminder_at" not in bookings()[0]  # none left: out of the index
    mail = [m for m in stack.sendgrid.messages() if m["subject"].startswith("Confirmed")][0]
    import icalendar

    alarms = icalendar.Calendar.from_ical(mail["attachments"][0]["content"]).walk("VALARM")
    assert [a.decoded("TRIGGER") for a in alarms] == [-timedelta(days=1),
                                                      -timedelta(minutes=10)]


def test_a_meet_room_still_pending_is_polled_and_its_link_follows_to_both(
    stack: Stack, owner_key: str
) -> None:
    """Create events guide, conferencing: Meet creation is asynchronous (createRequest status
    pending, then success on a later read). A room not ready within the booking's brief wait
    is polled from the outbox; once it is, both people get the link."""
    from booking.services import outbox

    google(stack).calendar_settings(conference_status="pending", conference_delay=3600)
    resp = book(stack, at(next_tuesday(), "10:00"))
    assert resp.status_code == 201 and resp.json()["booking"]["meet_link"] is None
    assert resp.json()["booking"]["meet_pending"] is True  # a client can say it is coming
    assert _subjects(stack) == ["Confirmed"]
    later = datetime.now(UTC) + timedelta(minutes=1)
    outbox.drain(later)  # still pending: polled again later, nothing sent
    assert len(stack.sendgrid.messages()) == 2
    google(stack).resolve_conferences(outcome="success")
    outbox.drain(later + timedelta(minutes=10))
    [event] = our_events(stack, B)
    follow = [m for m in stack.sendgrid.messages() if m["subject"].startswith("Video link")]
    assert sorted(m["to"][0] for m in follow) == ["guest@example.org", "mia@owner.test"]
    assert all(event["hangoutLink"] in m["text"] for m in follow)
    outbox.drain(later + timedelta(hours=3))
    assert len(stack.sendgrid.messages()) == 4
