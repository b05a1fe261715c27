"""Availability end to end: event types through the owner API, busy time from every conflict
calendar of every connected account, the public function over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.conftest import Stack
from tests.drivers import connect_google_account, owner_api
from tests.integration.helpers import google, make_owner, no_fresh_cache

ZONE = ZoneInfo("Europe/Ljubljana")
A = "ana@gmail.test"
B = "ana.work@example.test"

INTRO = {
    "slug": "intro",
    "title": "Intro call",
    "rules": {
        "weekly_hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "duration_minutes": 30,
        "booking_window_days": 60,
    },
}


def _next_monday() -> date:
    today = datetime.now(ZONE).date()
    return today + timedelta(days=7 - today.weekday() + 7)


def _local(day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def owner_key(stack: Stack) -> str:
    g = google(stack)
    g.create_account(A, "Ana", time_zone="Europe/Ljubljana")
    g.create_account(B, "Ana at work", time_zone="Europe/Ljubljana")
    g.create_calendar("family@group.test", summary="Family", time_zone="Europe/Ljubljana",
                      owner=A)
    key = make_owner("ana", time_zone="Europe/Ljubljana")
    for email in (A, B):
        assert connect_google_account(stack.base_url, key, stack.google_url, email)\
            .status_code == 303
    created = owner_api(stack.base_url, key, "POST", "/event-types", json=INTRO)
    assert created.status_code == 201, created.text
    return key


def _availability(stack: Stack, **params: str) -> requests.Response:
    query = {"owner": "ana", "event_type": "intro", "time_zone": "Europe/Ljubljana", **params}
    return requests.get(f"{stack.base_url}/availability", params=query, timeout=60)


def _starts(body: dict[str, Any], day: date) -> list[str]:
    return [s[11:16] for s in body["days"].get(day.isoformat(), [])]


def _add(stack: Stack, calendar: str, day: date, start: str, end: str, **extra: Any) -> None:
    """Adds an event as the owner would in Google, and waits for Google's push to be handled
    (availability may read busy time from the cache that push keeps)."""
    google(stack).add_event(calendar, {
        "summary": "Busy", "start": {"dateTime": _iso(_local(day, start))},
        "end": {"dateTime": _iso(_local(day, end))}, **extra})
    google(stack).flush_push()


def test_busy_event_in_second_accounts_conflict_calendar_removes_slots(
    stack: Stack, owner_key: str
) -> None:
    day = _next_monday()
    _add(stack, B, day, "10:00", "11:00")
    resp = _availability(stack, start=day.isoformat(), end=day.isoformat())
    assert resp.status_code == 200, resp.text
    starts = _starts(resp.json(), day)
    assert starts[:3] == ["09:00", "09:30", "11:00"]
    assert "10:00" not in starts and "10:30" not in starts
    assert len(starts) == 14  # 16 half hours, less the two that overlap the meeting


def test_transparent_event_and_non_conflict_calendar_do_not_block(
    stack: Stack, owner_key: str
) -> None:
    day = _next_monday()
    _add(stack, B, day, "13:00", "14:00", transparency="transparent")
    _add(stack, "family@group.test", day, "15:00", "16:00")
    starts = _starts(_availability(stack, start=day.isoformat(), end=day.isoformat()).json(), day)
    assert {"13:00", "13:30", "15:00", "15:30"} <= set(starts)
    assert len(starts) == 16


def test_all_day_and_multi_day_events_block_whole_days(stack: Stack, owner_key: str) -> None:
    day = _next_monday()
    google(stack).add_event(A, {
        "summary": "Conference",
        "start": {"date": (day + timedelta(days=1)).isoformat()},
        "end": {"date": (day + timedelta(days=3)).isoformat()},
    })
    google(stack).flush_push()
    body = _availability(stack, start=day.isoformat(),
                         end=(day + timedelta(days=3)).isoformat()).json()
    assert len(_starts(body, day)) == 16
    assert _starts(body, day + timedelta(days=1)) == []
    assert _starts(body, day + timedelta(days=2)) == []
    assert len(_starts(body, day + timedelta(days=3))) == 16


def test_one_freebusy_call_per_account_per_request(stack: Stack, owner_key: str) -> None:
    no_fresh_cache(stack)
    day = _next_monday()
    before = len(google(stack).calendar_requests("calendar.freebusy.query"))
    assert _availability(stack, start=day.isoformat(),
                         end=(day + timedelta(days=13)).isoformat()).status_code == 200
    calls = google(stack).calendar_requests("calendar.freebusy.query")[before:]
    assert len(calls) == 2
    asked = sorted(item["id"] for call in calls for item in call["body"]["items"])
    assert asked == sorted([A, B])


def test_guest_zone_shifts_days_and_offsets(stack: Stack, owner_key: str) -> None:
    day = _next_monday()
    body = _availability(stack, start=day.isoformat(), end=day.isoformat(),
                         time_zone="Asia/Kathmandu").json()
    first = body["days"][day.isoformat()][0]
    # 09:00 in Ljubljana is 13:45 (winter) or 12:45 (summer) in Kathmandu (+05:45).
    assert first.endswith("+05:45")
    assert body["owner_time_zone"] == "Europe/Ljubljana" and body["duration_minutes"] == 30


def test_unchecked_account_gives_503_without_naming_it(stack: Stack, owner_key: str) -> None:
    google(stack).flush_push()
    google(stack).revoke_account(B)
    google(stack).expire_access_tokens()
    # A revoked grant is noticed at the latest by the next resync (every 5 minutes), which
    # syncs every watched calendar; from then on B's busy cache is not trusted.
    assert requests.post(f"{stack.base_url}/resync", timeout=120).status_code == 200
    day = _next_monday()
    resp = _availability(stack, start=day.isoformat(), end=day.isoformat())
    assert resp.status_code == 503
    # Guests read this: which Google accounts the owner connected is the owner's business.
    assert "reconnected" in resp.json()["message"] and B not in resp.text


def test_google_failing_after_retries_gives_503(stack: Stack, owner_key: str) -> None:
    no_fresh_cache(stack)
    google(stack).inject_calendar_fault("calendar.freebusy.query", count=50, status=503,
                                        reason="backendError")
    day = _next_monday()
    resp = _availability(stack, start=day.isoformat(), end=day.isoformat())
    assert resp.status_code == 503
    assert "Google did not answer" in resp.json()["message"]


def test_bad_input_names_each_field(stack: Stack, owner_key: str) -> None:
    resp = requests.get(f"{stack.base_url}/availability", params={
        "owner": "ana", "event_type": "intro", "start": "2026-13-01", "end": "x",
        "time_zone": "Mars/Olympus"}, timeout=30)
    assert resp.status_code == 400
    assert set(resp.json()["fields"]) == {"start", "end", "time_zone"}
    too_long = _availability(stack, start="2027-01-01", end="2027-03-15")
    assert too_long.status_code == 400 and "62 days" in too_long.json()["fields"]["end"]


def test_unknown_owner_or_slug_is_404(stack: Stack, owner_key: str) -> None:
    day = _next_monday().isoformat()
    assert _availability(stack, start=day, end=day, owner="nobody").status_code == 404
    assert _availability(stack, start=day, end=day, event_type="nope").status_code == 404


def test_event_type_validation_names_fields(stack: Stack, owner_key: str) -> None:
    bad = {"slug": "Bad Slug", "title": "", "rules": {"weekly_hours": {"mon": [["17:00", "09:00"]]},
                                                      "duration_minutes": 0},
           "reminders": [{"method": "sms", "minutes": 10}]}
    resp = owner_api(stack.base_url, owner_key, "POST", "/event-types", json=bad)
    assert resp.status_code == 400
    fields = resp.json()["fields"]
    assert {"slug", "title", "reminders[0].method"} <= set(fields)
    assert any(name.startswith("rules.") for name in fields)
    listed = owner_api(stack.base_url, owner_key, "GET", "/event-types").json()
    assert [e["slug"] for e in listed["event_types"]] == ["intro"]


def test_cors_allows_any_origin_for_the_public_list(stack: Stack, owner_key: str) -> None:
    day = _next_monday().isoformat()
    resp = requests.get(f"{stack.base_url}/availability", timeout=30,
                        headers={"Origin": "https://coach.example"},
                        params={"owner": "ana", "event_type": "intro", "start": day,
                                "end": day, "time_zone": "UTC"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
