"""Booking windows, date ranges, schedule zones and rescheduling to the same time, through the
owner API and the public functions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import ZONE, at, book, next_tuesday, rules

NEW_YORK = ZoneInfo("America/New_York")


def _create(stack: Stack, key: str, slug: str, **rule_fields: Any) -> requests.Response:
    body = {"slug": slug, "title": slug.title(), "rules": rules(**rule_fields)}
    return owner_api(stack.base_url, key, "POST", "/event-types", json=body)


def _days_offered(stack: Stack, slug: str, first: date, last: date) -> dict[str, list[str]]:
    resp = requests.get(f"{stack.base_url}/availability", params={
        "owner": "mia", "event_type": slug, "start": first.isoformat(),
        "end": last.isoformat(), "time_zone": "Europe/Ljubljana"}, timeout=60)
    assert resp.status_code == 200, resp.text
    return {day: [s[11:16] for s in starts] for day, starts in resp.json()["days"].items()}


def test_a_window_of_business_days_counts_only_working_days(stack: Stack, owner_key: str) -> None:
    today = datetime.now(ZONE).date()
    # Today closed by an override, so the two business days are the next two weekdays.
    resp = _create(stack, owner_key, "biz", booking_window_days=2,
                   booking_window_unit="business_days", overrides={today.isoformat(): []})
    assert resp.status_code == 201, resp.text
    assert resp.json()["rules"]["booking_window_unit"] == "business_days"
    weekdays = [today + timedelta(days=n) for n in range(1, 10)
                if (today + timedelta(days=n)).weekday() < 5][:2]
    offered = _days_offered(stack, "biz", today, today + timedelta(days=13))
    assert sorted(offered) == [d.isoformat() for d in weekdays]
    bad = _create(stack, owner_key, "bad", booking_window_unit="weeks")
    assert bad.status_code == 400 and "rules.booking_window_unit" in bad.json()["fields"]


def test_a_fixed_date_range_offers_only_its_days_and_says_so(stack: Stack, owner_key: str) -> None:
    tuesday = next_tuesday()
    wednesday = tuesday + timedelta(days=1)
    resp = _create(stack, owner_key, "launch", bookable_from=wednesday.isoformat(),
                   bookable_until=wednesday.isoformat())
    assert resp.status_code == 201, resp.text
    offered = _days_offered(stack, "launch", tuesday - timedelta(days=1), tuesday + timedelta(6))
    assert list(offered) == [wednesday.isoformat()]
    refused = book(stack, at(tuesday, "10:00"), event_type="launch")
    assert refused.status_code == 400 and "first day" in refused.json()["fields"]["start"]
    assert book(stack, at(wednesday, "10:00"), event_type="launch").status_code == 201
    bad = _create(stack, owner_key, "bad", bookable_from=wednesday.isoformat(),
                  bookable_until=tuesday.isoformat())
    assert bad.status_code == 400 and "rules.bookable_until" in bad.json()["fields"]


def test_an_event_type_keeps_its_hours_in_its_own_zone(stack: Stack, owner_key: str) -> None:
    # The owner lives in Ljubljana; this service's hours are New York's 09:00-10:00.
    resp = _create(stack, owner_key, "nyc", time_zone="America/New_York",
                   weekly_hours={"tue": [["09:00", "10:00"]]})
    assert resp.status_code == 201, resp.text
    assert resp.json()["rules"]["time_zone"] == "America/New_York"
    intro = owner_api(stack.base_url, owner_key, "GET", "/event-types/intro").json()
    assert intro["rules"]["time_zone"] is None  # follows the owner's zone
    tuesday = next_tuesday()
    nine = datetime(tuesday.year, tuesday.month, tuesday.day, 9, 0, tzinfo=NEW_YORK)
    expected = [nine.astimezone(ZONE), (nine + timedelta(minutes=30)).astimezone(ZONE)]
    offered = _days_offered(stack, "nyc", tuesday, tuesday + timedelta(days=1))
    assert offered == {tuesday.isoformat(): [f"{m:%H:%M}" for m in expected]}
    assert book(stack, expected[1], event_type="nyc").status_code == 201
    bad = _create(stack, owner_key, "bad", time_zone="Mars/Base")
    assert bad.status_code == 400 and "rules.time_zone" in bad.json()["fields"]


def test_rescheduling_to_the_time_a_booking_has_is_refused_by_name(
    stack: Stack, owner_key: str
) -> None:
    start = at(next_tuesday(), "11:00")
    booked = book(stack, start)
    assert booked.status_code == 201, booked.text
    booking_id = booked.json()["booking"]["id"]
    sent = len(stack.sendgrid.messages())
    same = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking_id}/reschedule",
                     json={"start": start.isoformat()})
    assert same.status_code == 400 and "current time" in same.json()["fields"]["start"]
    assert len(stack.sendgrid.messages()) == sent  # nobody is told about nothing


def test_new_event_types_start_on_the_clock_unless_that_loses_a_slot(
    stack: Stack, owner_key: str
) -> None:
    tuesday = next_tuesday()
    hours = {"tue": [["07:45", "12:00"], ["13:30", "15:30"]]}
    created = _create(stack, owner_key, "tidy", duration_minutes=60, weekly_hours=hours)
    assert created.json()["rules"]["start_times"] == "on_the_clock_if_no_loss"
    # 07:45-12:00 loses nothing on the hour; 13:30-15:30 would lose 14:30, so keeps 13:30.
    assert _days_offered(stack, "tidy", tuesday, tuesday)[tuesday.isoformat()] == [
        "08:00", "09:00", "10:00", "11:00", "13:30", "14:30"]
    assert _create(stack, owner_key, "asis", duration_minutes=60, weekly_hours=hours,
                   start_times="range_start").status_code == 201
    assert _days_offered(stack, "asis", tuesday, tuesday)[tuesday.isoformat()][:2] == [
        "07:45", "08:45"]
    bad = _create(stack, owner_key, "bad", start_times="rounded")
    assert bad.status_code == 400 and "rules.start_times" in bad.json()["fields"]


def test_a_night_shift_across_midnight_and_a_meeting_of_a_whole_day(
    stack: Stack, owner_key: str
) -> None:
    tuesday = next_tuesday()
    wednesday = tuesday + timedelta(days=1)
    # Tuesday 22:00 to Wednesday 02:00, hour-long meetings.
    resp = _create(stack, owner_key, "night", duration_minutes=60,
                   weekly_hours={"tue": [["22:00", "02:00"]]})
    assert resp.status_code == 201, resp.text
    assert resp.json()["rules"]["weekly_hours"]["tue"] == [["22:00", "02:00"]]
    assert _days_offered(stack, "night", tuesday, wednesday) == {
        tuesday.isoformat(): ["22:00", "23:00"], wednesday.isoformat(): ["00:00", "01:00"]}
    assert book(stack, at(wednesday, "01:00"), event_type="night").status_code == 201
    # A whole-day service: 24 hours from Thursday 00:00, the day's range running on into
    # Friday's, which touches it at midnight.
    whole = _create(stack, owner_key, "allday", duration_minutes=1440,
                    weekly_hours={"thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]]})
    assert whole.status_code == 201, whole.text
    thursday = tuesday + timedelta(days=2)
    offered = _days_offered(stack, "allday", thursday, thursday + timedelta(days=1))
    assert offered[thursday.isoformat()] == ["00:00"]
    too_long = _create(stack, owner_key, "bad", duration_minutes=1441)
    assert too_long.status_code == 400 and "rules.duration_minutes" in too_long.json()["fields"]
