"""Booking limits through HTTP: an event type's daily limit counts its own bookings only, the
owner's daily cap counts them all, and neither is overrun by fifty simultaneous guests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import requests

from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import (
    at,
    book,
    bookings,
    next_tuesday,
    race,
    rules,
)


def _event_type(stack: Stack, key: str, slug: str, **rule_fields: Any) -> None:
    body = {"slug": slug, "title": slug.title(), "rules": rules(**rule_fields)}
    resp = owner_api(stack.base_url, key, "POST", "/event-types", json=body)
    assert resp.status_code == 201, resp.text


def _offered(stack: Stack, slug: str, day: date) -> list[str]:
    resp = requests.get(f"{stack.base_url}/availability", params={
        "owner": "mia", "event_type": slug, "start": day.isoformat(), "end": day.isoformat(),
        "time_zone": "Europe/Ljubljana"}, timeout=60)
    assert resp.status_code == 200, resp.text
    return [s[11:16] for s in resp.json()["days"].get(day.isoformat(), [])]


def test_daily_limit_counts_only_its_own_event_type(stack: Stack, owner_key: str) -> None:
    _event_type(stack, owner_key, "once", duration_minutes=30, max_bookings_per_day=1)
    day = next_tuesday()
    # A booking of another type blocks its own time only, not the quota of "once".
    assert book(stack, at(day, "09:00"), event_type="deep").status_code == 201
    assert _offered(stack, "once", day)[:2] == ["10:00", "10:30"]
    assert book(stack, at(day, "11:00"), event_type="once").status_code == 201
    # Now "once" is full that day, and only "once".
    assert _offered(stack, "once", day) == []
    refused = book(stack, at(day, "15:00"), event_type="once")
    assert refused.status_code == 409, refused.text
    assert "15:00" in _offered(stack, "intro", day)
    assert book(stack, at(day, "15:00")).status_code == 201


def test_owner_daily_cap_counts_every_event_type_and_is_a_named_setting(
    stack: Stack, owner_key: str
) -> None:
    bad = owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                    json={"max_bookings_per_day": 0})
    assert bad.status_code == 400 and "max_bookings_per_day" in bad.json()["fields"]
    resp = owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                     json={"max_bookings_per_day": 2})
    assert resp.status_code == 200 and resp.json()["max_bookings_per_day"] == 2
    day = next_tuesday()
    assert book(stack, at(day, "09:00"), event_type="deep").status_code == 201
    assert book(stack, at(day, "11:00")).status_code == 201
    assert _offered(stack, "intro", day) == [] and _offered(stack, "deep", day) == []
    assert book(stack, at(day, "14:00")).status_code == 409
    # Lifting the cap offers the day again.
    owner_api(stack.base_url, owner_key, "PATCH", "/settings", json={"max_bookings_per_day": None})
    assert "14:00" in _offered(stack, "intro", day)


def test_fifty_guests_racing_for_different_slots_never_overrun_the_limits(
    stack: Stack, owner_key: str
) -> None:
    # "quick" allows 2 a day; the owner allows 3 a day in all. 50 guests ask at once for 50
    # different 5-minute slots of one day, half of "quick", half of "brief".
    _event_type(stack, owner_key, "quick", duration_minutes=5, max_bookings_per_day=2)
    _event_type(stack, owner_key, "brief", duration_minutes=5)
    assert owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                     json={"max_bookings_per_day": 3}).status_code == 200
    day = next_tuesday()

    def attempt(i: int) -> tuple[str, int]:
        slug = "quick" if i % 2 else "brief"
        minute = 9 * 60 + 5 * i
        r = book(stack, at(day, f"{minute // 60:02d}:{minute % 60:02d}"), event_type=slug,
                 email=f"g{i}@example.org")
        return slug, r.status_code

    results = race(attempt)
    assert {code for _, code in results} <= {201, 409}, results
    confirmed = [b for b in bookings() if b["status"] == "confirmed"]
    assert len(confirmed) == 3 == [code for _, code in results].count(201)
    assert sum(1 for b in confirmed if b["event_type"] == "quick") <= 2


def test_weekly_limit_follows_the_owners_locale_and_a_cancellation_frees_it(
    stack: Stack, owner_key: str
) -> None:
    # Two a week; for an en-US owner the week runs Sunday to Saturday.
    bad = owner_api(stack.base_url, owner_key, "PATCH", "/settings", json={"locale": "english"})
    assert bad.status_code == 400 and "locale" in bad.json()["fields"]
    resp = owner_api(stack.base_url, owner_key, "PATCH", "/settings", json={"locale": "en-us"})
    assert resp.json()["locale"] == "en-US" and resp.json()["week_start"] == "sun"
    every_day = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    _event_type(stack, owner_key, "weekly", max_bookings_per_week=2, max_minutes_per_day=60,
                weekly_hours=every_day)
    tuesday = next_tuesday()
    monday, sunday = tuesday - timedelta(days=1), tuesday + timedelta(days=5)
    first = book(stack, at(monday, "09:00"), event_type="weekly")
    assert first.status_code == 201
    # 60 minutes a day: one more half hour on Monday, then Monday is full.
    assert book(stack, at(monday, "10:00"), event_type="weekly").status_code == 201
    assert _offered(stack, "weekly", tuesday) == []  # the week holds two now
    assert _offered(stack, "weekly", sunday - timedelta(days=1)) == []  # Saturday: same week
    assert _offered(stack, "weekly", sunday)  # Sunday starts a new week in the US
    # Monday's booking cancelled by the owner: the week has room again, Monday too.
    booking_id = first.json()["booking"]["id"]
    cancelled = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking_id}/cancel",
                          json={"reason": "ill"})
    assert cancelled.status_code == 200, cancelled.text
    assert _offered(stack, "weekly", tuesday)[:1] == ["09:00"]
    assert book(stack, at(tuesday, "09:00"), event_type="weekly").status_code == 201
    assert book(stack, at(tuesday + timedelta(days=1), "09:00"),
                event_type="weekly").status_code == 409
    # Rules that cannot be are named.
    bad = owner_api(stack.base_url, owner_key, "POST", "/event-types", json={
        "slug": "odd", "title": "Odd", "rules": rules(max_minutes_per_month=2)})
    assert bad.status_code == 400 and "rules.max_minutes_per_month" in bad.json()["fields"]


def test_fifty_guests_across_a_week_never_overrun_a_weekly_limit(
    stack: Stack, owner_key: str
) -> None:
    _event_type(stack, owner_key, "twice", duration_minutes=5, max_bookings_per_week=2)
    tuesday = next_tuesday()

    def attempt(i: int) -> int:
        # Ten guests on each weekday of one week, each for a slot of their own.
        day = tuesday + timedelta(days=i % 5 - 1)
        minute = 9 * 60 + 5 * i
        return book(stack, at(day, f"{minute // 60:02d}:{minute % 60:02d}"),
                    event_type="twice", email=f"g{i}@example.org").status_code

    results = race(attempt)
    assert set(results) <= {201, 409}, results
    assert results.count(201) == 2
    assert len([b for b in bookings() if b["status"] == "confirmed"]) == 2
