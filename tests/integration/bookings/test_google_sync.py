"""Two-way sync: the owner changes things in Google Calendar (driven through the stand-in's
control API, as the Calendar UI would), Google pushes, and the booking here follows, with emails.

Facts relied on (Google's push guide and events.list reference, gathered in
shared/google-apis.md): a push says only "something changed", numbers rise but skip, pushes may
repeat or be lost, only 5xx is retried; an expired sync token answers 410 fullSyncRequired;
channels never renew and notifications may arrive briefly after channels.stop.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import requests

from tests.conftest import Stack
from tests.drivers import connect_google_account, owner_api
from tests.integration.bookings.conftest import A, B, at, book, next_tuesday, our_events
from tests.integration.helpers import firestore_docs, google


def _book(stack: Stack, hhmm: str = "10:00") -> dict[str, Any]:
    resp = book(stack, at(next_tuesday(), hhmm))
    assert resp.status_code == 201, resp.text
    google(stack).flush_push()  # the echo of our insert
    return dict(resp.json()["booking"])


def _stored(booking_id: str) -> dict[str, Any]:
    return next(d for p, d in firestore_docs() if p.endswith(f"/bookings/{booking_id}"))


def _mails(stack: Stack, word: str = "") -> list[dict[str, Any]]:
    return [m for m in stack.sendgrid.messages() if m["subject"].startswith(word)]


def _ics(mail: dict[str, Any]) -> Any:
    ics = next(a for a in mail["attachments"] if a["filename"].endswith(".ics"))
    return icalendar.Calendar.from_ical(ics["content"]).walk("VEVENT")[0]


def _slots(stack: Stack, slug: str = "intro") -> list[str]:
    day = next_tuesday().isoformat()
    resp = requests.get(f"{stack.base_url}/availability", timeout=30, params={
        "owner": "mia", "event_type": slug, "start": day, "end": day,
        "time_zone": "Europe/Ljubljana"})
    assert resp.status_code == 200, resp.text
    return [s[11:16] for s in resp.json()["days"].get(day, [])]


def _freebusy_calls(stack: Stack) -> int:
    return len(google(stack).calendar_requests("freebusy.query"))


def _our_channel(stack: Stack, calendar_id: str) -> dict[str, Any]:
    return next(c for c in google(stack).channels() if c["calendarId"] == calendar_id
                and c["live"])


def _push(stack: Stack, channel: dict[str, Any], number: int, **headers: str) -> requests.Response:
    """A notification as Google sends it, for tests that must repeat or forge one."""
    sent = {"X-Goog-Channel-ID": channel["id"], "X-Goog-Channel-Token": channel["token"],
            "X-Goog-Resource-ID": channel["resourceId"],
            "X-Goog-Resource-URI": channel["resourceUri"], "X-Goog-Resource-State": "exists",
            "X-Goog-Message-Number": str(number), **headers}
    return requests.post(f"{stack.base_url}/google_notifications", headers=sent, timeout=30)


def _resync(stack: Stack) -> dict[str, Any]:
    resp = requests.post(f"{stack.base_url}/resync", timeout=120)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())




def test_moving_a_booked_event_in_google_moves_the_booking_and_tells_both(
        stack: Stack, owner_key: str) -> None:
    booking = _book(stack)
    event_id = f"bk{booking['id']}"
    before = len(stack.sendgrid.messages())

    new_start = at(next_tuesday(), "14:00")
    google(stack).move_event(B, event_id, new_start.isoformat(),
                             (new_start + timedelta(minutes=30)).isoformat())
    google(stack).flush_push()

    stored = _stored(booking["id"])
    assert stored["start"] == new_start.astimezone(UTC)
    assert stored["sequence"] == 1 and stored["rescheduled_by"] == "google"
    moved = _mails(stack, "Rescheduled")
    assert sorted(m["to"][0] for m in moved) == ["guest@example.org", "mia@owner.test"]
    assert len(stack.sendgrid.messages()) == before + 2
    to_guest = next(m for m in moved if m["to"] == ["guest@example.org"])
    assert "Coach <Owner> moved your meeting to a new time." in to_guest["text"]
    invite = _ics(moved[0])
    assert int(invite["SEQUENCE"]) == 1 and str(invite["UID"]).startswith(booking["id"])
    # The old time is offered again; the new one is not.
    free = _slots(stack)
    assert "10:00" in free and "14:00" not in free
    # The echo of nothing else: no write went back to Google for this move.
    assert not [r for r in google(stack).calendar_requests("events.patch")]


def test_deleting_a_booked_event_in_google_cancels_it_and_tells_both(
        stack: Stack, owner_key: str) -> None:
    booking = _book(stack)
    google(stack).delete_event(B, f"bk{booking['id']}")
    google(stack).flush_push()

    stored = _stored(booking["id"])
    assert stored["status"] == "cancelled" and stored["cancelled_by"] == "owner"
    cancelled = _mails(stack, "Cancelled")
    assert sorted(m["to"][0] for m in cancelled) == ["guest@example.org", "mia@owner.test"]
    assert str(_ics(cancelled[0])["SEQUENCE"]) == "1"
    assert "10:00" in _slots(stack)
    # Google is not asked to delete again what the owner deleted.
    assert not google(stack).calendar_requests("events.delete")


def test_echoes_of_our_own_writes_change_nothing_and_send_nothing(
        stack: Stack, owner_key: str) -> None:
    booking = _book(stack)
    moved = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking['id']}/reschedule",
                      json={"start": at(next_tuesday(), "15:00").isoformat()})
    assert moved.status_code == 200, moved.text
    google(stack).flush_push()
    gone = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking['id']}/cancel",
                     json={"reason": ""})
    assert gone.status_code == 200, gone.text
    google(stack).flush_push()

    subjects = sorted(m["subject"].split(":")[0] for m in stack.sendgrid.messages())
    assert subjects == ["Cancelled"] * 2 + ["Confirmed"] * 2 + ["Rescheduled"] * 2
    stored = _stored(booking["id"])
    assert stored["sequence"] == 2 and stored["status"] == "cancelled"
    assert stored.get("rescheduled_by") != "google"
    # Every push was answered and synced, so the echoes were seen and ignored.
    deliveries = google(stack).push_deliveries()
    assert deliveries and all(d["status"] == 200 for d in deliveries)


def test_title_change_and_guest_decline_in_google(stack: Stack, owner_key: str) -> None:
    booking = _book(stack)
    event_id = f"bk{booking['id']}"
    google(stack).edit_event(B, event_id, {"summary": "Renamed by Mia", "description": "x"})
    google(stack).flush_push()
    assert len(stack.sendgrid.messages()) == 2  # the confirmations only

    event = next(e for e in google(stack).list_events(B) if e["id"] == event_id)
    attendees = [{**a, "responseStatus": "declined"} for a in event["attendees"]]
    for _ in range(2):  # the same change seen twice is told once
        google(stack).edit_event(B, event_id, {"attendees": attendees})
        google(stack).flush_push()
    declined = _mails(stack, "Declined")
    assert [m["to"][0] for m in declined] == ["mia@owner.test"]
    assert _stored(booking["id"])["guest_response"] == "declined"
    assert _stored(booking["id"])["status"] == "confirmed"


def test_move_onto_another_booking_still_wins_and_the_owner_is_told(
        stack: Stack, owner_key: str) -> None:
    first = _book(stack, "10:00")
    _book(stack, "13:00")
    target = at(next_tuesday(), "13:00")
    google(stack).move_event(B, f"bk{first['id']}", target.isoformat(),
                             (target + timedelta(minutes=30)).isoformat())
    google(stack).flush_push()

    assert _stored(first["id"])["start"] == target.astimezone(UTC)
    check = _mails(stack, "Check")
    assert [m["to"][0] for m in check] == ["mia@owner.test"]
    assert "overlaps another booking" in check[0]["text"]


def test_event_moved_to_another_calendar_is_followed_not_cancelled(
        stack: Stack, owner_key: str) -> None:
    booking = _book(stack)
    event_id = f"bk{booking['id']}"
    g = google(stack)
    event = next(e for e in g.list_events(B) if e["id"] == event_id)
    # Google's events.move: the same event, same id, now organised by another calendar.
    g.add_event(A, {k: event[k] for k in ("id", "summary", "start", "end", "attendees",
                                          "extendedProperties", "iCalUID")})
    g.delete_event(B, event_id)
    g.flush_push()

    stored = _stored(booking["id"])
    assert stored["status"] == "confirmed"
    assert stored["calendar"]["calendar_id"] == A
    assert not _mails(stack, "Cancelled")


def test_busy_and_recurring_events_in_a_second_account_block_slots_from_the_cache(
        stack: Stack, owner_key: str) -> None:
    g = google(stack)
    g.flush_push()
    _resync(stack)  # both calendars synced once: the caches are fresh
    assert "09:00" in _slots(stack) and "11:00" in _slots(stack)
    day = next_tuesday()
    g.add_busy(A, at(day, "09:00").isoformat(), at(day, "10:00").isoformat(), "Dentist")
    # A weekly series starting a week earlier: its instance on our day blocks 11:00.
    first = at(day - timedelta(days=7), "11:00")
    series = g.add_event(A, {"summary": "Weekly 1:1", "start": {
        "dateTime": first.isoformat(), "timeZone": "Europe/Ljubljana"}, "end": {
        "dateTime": (first + timedelta(hours=1)).isoformat(), "timeZone": "Europe/Ljubljana"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=10"]})
    g.add_busy(A, at(day, "12:00").isoformat(), at(day, "13:00").isoformat(), "Lunch",
               transparency="transparent")
    g.flush_push()
    calls = _freebusy_calls(stack)

    free = _slots(stack)
    assert "09:00" not in free and "09:30" not in free  # the dentist
    assert "11:00" not in free and "11:30" not in free  # the series' instance that day
    assert "12:00" in free  # transparent: free
    assert _freebusy_calls(stack) == calls  # served from the cache

    # The series moved to 16:00 in Google: every instance follows.
    g.edit_event(A, series["id"], {"start": {"dateTime": (first + timedelta(hours=5)).isoformat(),
                                             "timeZone": "Europe/Ljubljana"},
                                   "end": {"dateTime": (first + timedelta(hours=6)).isoformat(),
                                           "timeZone": "Europe/Ljubljana"}})
    g.flush_push()
    free = _slots(stack)
    assert "11:00" in free and "16:00" not in free
    # One occurrence moved on its own (an exception of the series): 16:00 frees, 14:00 blocks.
    instance = f"{series['id']}_{at(day, '16:00').astimezone(UTC):%Y%m%dT%H%M%SZ}"
    g.move_event(A, instance, at(day, "14:00").isoformat(), at(day, "15:00").isoformat())
    g.flush_push()
    free = _slots(stack)
    assert "16:00" in free and "14:00" not in free
    g.delete_event(A, series["id"])
    g.flush_push()
    assert "14:00" in _slots(stack)
    assert _freebusy_calls(stack) == calls


def test_stale_cache_falls_back_to_live_freebusy(stack: Stack, owner_key: str) -> None:
    from booking.services import availability

    google(stack).flush_push()
    _resync(stack)
    day = next_tuesday().isoformat()
    query = availability.parse_query({"owner": "mia", "event_type": "intro", "start": day,
                                      "end": day, "time_zone": "Europe/Ljubljana"})
    now = datetime.now(UTC)
    calls = _freebusy_calls(stack)
    fresh = availability.slots(query, now)
    assert _freebusy_calls(stack) == calls
    # Twenty minutes without a sync (resync runs every five): Google is asked again.
    stale = availability.slots(query, now + timedelta(minutes=20))
    assert _freebusy_calls(stack) == calls + 2  # one per account
    assert stale["days"] == fresh["days"]


def test_google_failing_during_a_pushs_sync_still_applies_the_change_once(
        stack: Stack, owner_key: str) -> None:
    booking = _book(stack)
    g = google(stack)
    g.inject_calendar_fault("events.list", 503, "backendError", count=4)
    new_start = at(next_tuesday(), "14:00")
    g.move_event(B, f"bk{booking['id']}", new_start.isoformat(),
                 (new_start + timedelta(minutes=30)).isoformat())
    g.flush_push(timeout=60)
    assert _stored(booking["id"])["start"] == new_start.astimezone(UTC)
    assert len(_mails(stack, "Rescheduled")) == 2


def test_repeated_reordered_and_forged_pushes_have_one_effect_or_none(
        stack: Stack, owner_key: str) -> None:
    booking = _book(stack)
    channel = _our_channel(stack, B)
    g = google(stack)
    g.calendar_settings(push_retry_delays=[])
    # Forged: a wrong token, an unknown channel, another calendar's resource id.
    assert _push(stack, channel, 99, **{"X-Goog-Channel-Token": "nope"}).status_code == 404
    assert _push(stack, {**channel, "id": "unknown"}, 99).status_code == 404
    assert _push(stack, channel, 99, **{"X-Goog-Resource-ID": "other"}).status_code == 404

    new_start = at(next_tuesday(), "14:00")
    g.move_event(B, f"bk{booking['id']}", new_start.isoformat(),
                 (new_start + timedelta(minutes=30)).isoformat())
    g.flush_push()
    last = max(d["message_number"] for d in g.push_deliveries(channel["id"]))
    for number in (last, last - 1, last + 7, last + 7):  # repeated, older, skipped ahead, again
        assert _push(stack, channel, number).status_code == 200
    assert _push(stack, channel, last - 1).json()["sync"] == "seen"  # older: nothing to do

    assert len(_mails(stack, "Rescheduled")) == 2
    assert _stored(booking["id"])["sequence"] == 1


def test_lost_push_is_made_good_by_resync_and_two_resyncs_do_it_once(
        stack: Stack, owner_key: str) -> None:
    booking = _book(stack)
    google(stack).drop_pushes(5)  # Google warns that some notifications are lost
    new_start = at(next_tuesday(), "14:00")
    google(stack).move_event(B, f"bk{booking['id']}", new_start.isoformat(),
                             (new_start + timedelta(minutes=30)).isoformat())
    google(stack).flush_push()
    assert _stored(booking["id"])["sequence"] == 0  # nothing came through

    results: list[dict[str, Any]] = []
    runs = [threading.Thread(target=lambda: results.append(_resync(stack))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()

    assert len(results) == 2
    assert _stored(booking["id"])["start"] == new_start.astimezone(UTC)
    assert len(_mails(stack, "Rescheduled")) == 2
    assert _stored(booking["id"])["sequence"] == 1


def test_expired_sync_token_leads_to_a_full_sync(stack: Stack, owner_key: str) -> None:
    booking = _book(stack)
    g = google(stack)
    g.expire_sync_tokens(B)
    g.delete_event(B, f"bk{booking['id']}")
    g.flush_push()

    lists = [r for r in g.calendar_requests("events.list")
             if B in r.get("path", "") or B in str(r)]
    assert any("timeMin" in str(r) for r in lists)  # the full sync after the 410
    assert _stored(booking["id"])["status"] == "cancelled"
    assert len(_mails(stack, "Cancelled")) == 2


def test_channels_follow_the_settings_and_are_renewed_before_expiry(
        stack: Stack, owner_key: str) -> None:
    from booking.services import resync

    g = google(stack)
    g.create_calendar("side@group.test", summary="Side", owner=A)
    conns = owner_api(stack.base_url, owner_key, "GET", "/connections").json()["connections"]
    a_conn = next(c for c in conns if c["email"] == A)["id"]
    assert owner_api(stack.base_url, owner_key, "POST", f"/connections/{a_conn}/refresh")\
        .status_code == 200
    chosen = [{"connection_id": c["id"], "calendar_id": c["email"]} for c in conns]
    resp = owner_api(stack.base_url, owner_key, "PATCH", "/settings", json={
        "conflict_calendars": [*chosen, {"connection_id": a_conn,
                                         "calendar_id": "side@group.test"}]})
    assert resp.status_code == 200, resp.text
    live = {c["calendarId"] for c in g.channels() if c["live"]}
    assert live == {A, B, "side@group.test"}

    resp = owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                     json={"conflict_calendars": chosen})
    assert resp.status_code == 200
    assert {c["calendarId"] for c in g.channels() if c["live"]} == {A, B}

    # Six and a half days on, every channel expires within a day: each is replaced, then
    # the old one stopped.
    old = {c["id"] for c in g.channels() if c["live"]}
    later = datetime.now(UTC) + timedelta(days=6, hours=12)
    done = resync.run(later)
    assert done["channels"]["renewed"] == 2
    live_now = [c for c in g.channels() if c["live"]]
    assert {c["calendarId"] for c in live_now} == {A, B}
    assert not old & {c["id"] for c in live_now}
    assert all(c["stopped"] for c in g.channels() if c["id"] in old)

    # A late push on a stopped channel is answered, and the channel stopped again.
    stale = next(c for c in g.channels() if c["id"] in old)
    assert _push(stack, stale, 1000).json() == {"accepted": False, "stopped": True}


_CHILD = """
import json, sys
import functions_framework
app = functions_framework.create_app("availability", "functions/main.py")
resp = app.test_client().get("/", query_string=json.loads(sys.argv[1]))
print(json.dumps({"status": resp.status_code,
                  "api_client": any(m.startswith("googleapiclient") for m in sys.modules)}))
"""


def _cold_availability(stack: Stack) -> dict[str, Any]:
    """A fresh interpreter (a cold instance) serves one availability request."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    day = next_tuesday().isoformat()
    params = {"owner": "mia", "event_type": "intro", "start": day, "end": day,
              "time_zone": "Europe/Ljubljana"}
    env = {**os.environ, **stack.env, "PYTHONPATH": str(ROOT / "functions")}
    done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(params)], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    answer = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    if answer["status"] != 200:  # the child's log names the cause (441493e was found so)
        answer["log"] = done.stderr[-4000:]
    return answer


def test_availability_from_a_fresh_cache_imports_no_google_api_client(
        stack: Stack, owner_key: str) -> None:
    from booking import clients

    google(stack).flush_push()
    _resync(stack)
    assert _cold_availability(stack) == {"status": 200, "api_client": False}
    old = {"synced_at": datetime.now(UTC) - timedelta(hours=1)}
    for snap in clients.firestore().collection("calendar_sync").stream():
        snap.reference.update(old)
    assert _cold_availability(stack) == {"status": 200, "api_client": True}


def test_a_meeting_moved_earlier_in_google_is_reminded_before_its_new_time(
        stack: Stack, owner_key: str) -> None:
    """The reminder follows a move made in Google: moved a day earlier, the guest is reminded
    the day before the new time, not after the meeting (at the old time's reminder)."""
    from booking.services import reminders

    booking = _book(stack)
    new_start = at(next_tuesday() - timedelta(days=1), "10:00")
    google(stack).move_event(B, f"bk{booking['id']}", new_start.isoformat(),
                             (new_start + timedelta(minutes=30)).isoformat())
    google(stack).flush_push()
    assert _stored(booking["id"])["start"] == new_start.astimezone(UTC)

    reminders.send_due(new_start - timedelta(hours=23))
    sent = _mails(stack, "Reminder")
    assert [m["to"] for m in sent] == [["guest@example.org"]]
    guest_time = new_start.astimezone(ZoneInfo("America/New_York"))
    assert f"{guest_time:%a} {guest_time.day} {guest_time:%b %H:%M}" in sent[0]["subject"]
    assert booking["meet_link"] in sent[0]["text"]
    # The old time's reminder moment owes nothing more.
    reminders.send_due(at(next_tuesday(), "10:00") - timedelta(hours=23))
    assert len(_mails(stack, "Reminder")) == 1


def test_a_cancellation_while_google_access_is_revoked_reaches_google_after_reconnecting(
        stack: Stack, owner_key: str) -> None:
    """The owner cancels while their Google grant is dead (revoked in their Google account):
    the guest is told at once, the owner is told once to reconnect, the delete waits however
    long that takes (it is no failed attempt), and reconnecting takes the event out of Google
    and brings back what the owner changed there meanwhile."""
    from booking.services import outbox

    booking = _book(stack)
    other = _book(stack, "13:00")
    g = google(stack)
    g.revoke_account(B)
    g.expire_access_tokens()
    # Meanwhile the owner moves the other meeting in Google: nothing can read it yet.
    new_start = at(next_tuesday(), "15:00")
    g.move_event(B, f"bk{other['id']}", new_start.isoformat(),
                 (new_start + timedelta(minutes=30)).isoformat())
    g.flush_push()
    gone = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking['id']}/cancel",
                     json={"reason": ""})
    assert gone.status_code == 200, gone.text
    assert len(_mails(stack, "Cancelled")) == 2
    for _ in range(2):
        _resync(stack)
    assert len(_mails(stack, "Reconnect")) == 1
    # Two days without the owner reconnecting: the delete is still owed, not given up.
    later = datetime.now(UTC)
    for _ in range(16):
        later += timedelta(hours=3)
        outbox.drain(later)
    assert sorted(e["id"] for e in our_events(stack, B)) == \
        sorted([f"bk{booking['id']}", f"bk{other['id']}"])
    assert _stored(other["id"])["sequence"] == 0

    assert connect_google_account(stack.base_url, owner_key, stack.google_url, B)\
        .status_code == 303
    g.flush_push()
    assert [e["id"] for e in our_events(stack, B)] == [f"bk{other['id']}"]
    assert _stored(booking["id"])["status"] == "cancelled"
    assert len(_mails(stack, "Cancelled")) == 2 and len(_mails(stack, "Reconnect")) == 1
    # And what changed in Google meanwhile comes back: the other meeting moved, both told.
    assert _stored(other["id"])["start"] == new_start.astimezone(UTC)
    assert len(_mails(stack, "Rescheduled")) == 2


def test_event_moved_to_an_unwatched_calendar_is_followed_not_cancelled(
        stack: Stack, owner_key: str) -> None:
    """The owner files the meeting under another of their calendars ("Change calendar" in
    Google Calendar: events.move, seen on the old calendar as a deletion) that is not checked
    for conflicts: the meeting still happens, so nobody is told it was cancelled; that calendar
    is watched from then on, and a later cancellation here takes the event out of it."""
    g = google(stack)
    g.create_calendar("clients@group.test", summary="Clients", time_zone="Europe/Ljubljana",
                      owner=B)
    conns = owner_api(stack.base_url, owner_key, "GET", "/connections").json()["connections"]
    b_conn = next(c for c in conns if c["email"] == B)["id"]
    assert owner_api(stack.base_url, owner_key, "POST", f"/connections/{b_conn}/refresh")\
        .status_code == 200
    booking = _book(stack)
    event_id = f"bk{booking['id']}"
    event = next(e for e in g.list_events(B) if e["id"] == event_id)
    g.add_event("clients@group.test", {k: event[k] for k in (
        "id", "summary", "start", "end", "attendees", "extendedProperties", "iCalUID")})
    g.delete_event(B, event_id)
    g.flush_push()

    stored = _stored(booking["id"])
    assert stored["status"] == "confirmed"
    assert stored["calendar"] == {"connection_id": b_conn, "calendar_id": "clients@group.test"}
    assert not _mails(stack, "Cancelled")
    # That calendar is watched from now on: a later move there comes back too.
    assert "clients@group.test" in {c["calendarId"] for c in g.channels() if c["live"]}
    new_start = at(next_tuesday(), "14:00")
    g.move_event("clients@group.test", event_id, new_start.isoformat(),
                 (new_start + timedelta(minutes=30)).isoformat())
    g.flush_push()
    assert _stored(booking["id"])["start"] == new_start.astimezone(UTC)
    assert len(_mails(stack, "Rescheduled")) == 2

    gone = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking['id']}/cancel",
                     json={"reason": ""})
    assert gone.status_code == 200, gone.text
    assert our_events(stack, "clients@group.test") == []
    assert len(_mails(stack, "Cancelled")) == 2


def test_a_guest_who_accepts_after_declining_and_declines_again_is_told_of_again(
        stack: Stack, owner_key: str) -> None:
    """Each decline is news to the owner; the same decline seen twice is not. (Google also
    resets guests' answers when the start time changes, so a decline of a moved meeting comes
    after such a reset: collabthinking.com/archive/calendar-updates, "Only two fields cause
    RSVP resets: Start time/date/timezone, Recurrence".)"""
    booking = _book(stack)
    event_id = f"bk{booking['id']}"
    g = google(stack)
    answers = []
    for answer in ("declined", "declined", "accepted", "declined"):
        event = next(e for e in g.list_events(B) if e["id"] == event_id)
        g.edit_event(B, event_id, {"attendees": [{**a, "responseStatus": answer}
                                                 for a in event["attendees"]]})
        g.flush_push()
        answers.append(_stored(booking["id"]).get("guest_response"))
    assert answers == ["declined", "declined", "answered", "declined"]
    declined = _mails(stack, "Declined")
    assert [m["to"][0] for m in declined] == ["mia@owner.test"] * 2
    assert _stored(booking["id"])["status"] == "confirmed"


def test_clearing_a_past_meeting_out_of_google_cancels_nothing_and_mails_nobody(
        stack: Stack, owner_key: str) -> None:
    """A week after the meeting the owner deletes its event (tidying the calendar): the
    meeting took place, so the guest gets no 'Cancelled' email for it, nor the owner."""
    from booking.services import resync

    booking = _book(stack)
    g = google(stack)
    g.drop_pushes(5)
    g.delete_event(B, f"bk{booking['id']}")
    g.flush_push()
    week_after = datetime.fromisoformat(booking["end"]) + timedelta(days=7)
    lists = len(g.calendar_requests("events.list"))
    resync.run(week_after)
    assert len(g.calendar_requests("events.list")) > lists  # the deletion was read

    assert _stored(booking["id"])["status"] == "confirmed"
    assert [m["subject"].split(":")[0] for m in stack.sendgrid.messages()] == ["Confirmed"] * 2
