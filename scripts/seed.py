"""Seeds the local run: our signing keys, a demo owner, and demo Google accounts with calendars and
events (one account already connected through the real OAuth flow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.drivers import connect_google_account, owner_api
from tests.standins.google.control import GoogleControl


def seed_demo(google_url: str, base_url: str, owner_id: str) -> str:
    from booking.services import owners
    from scripts.keys import create_missing

    create_missing()  # the same setup command a deploy runs (README, Deploying)
    now = datetime.now(UTC)
    api_key = owners.create_owner(owner_id, "Demo Coach", "coach@demo.test", "Europe/Ljubljana",
                                  now)
    google = GoogleControl(google_url)
    google.create_account("coach@gmail.test", "Demo Coach", time_zone="Europe/Ljubljana")
    google.create_account("coach.work@example.test", "Demo Coach (work)",
                          time_zone="Europe/Ljubljana")
    google.create_calendar("family-coach@group.calendar.google.com", summary="Family",
                           time_zone="Europe/Ljubljana", owner="coach@gmail.test")
    tomorrow = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    google.add_event("coach@gmail.test", {
        "summary": "Dentist", "start": {"dateTime": _iso(tomorrow + timedelta(hours=2))},
        "end": {"dateTime": _iso(tomorrow + timedelta(hours=3))}})
    google.add_event("coach.work@example.test", {
        "summary": "Team meeting", "start": {"dateTime": _iso(tomorrow + timedelta(hours=4))},
        "end": {"dateTime": _iso(tomorrow + timedelta(hours=5))}})
    resp = connect_google_account(base_url, api_key, google_url, "coach@gmail.test")
    if resp.status_code != 303:
        raise RuntimeError(f"seeding could not connect the demo account: {resp.status_code}")
    created = owner_api(base_url, api_key, "POST", "/event-types", json=DEMO_EVENT_TYPE)
    if created.status_code != 201:
        raise RuntimeError(f"seeding could not create the demo event type: {created.text}")
    return api_key


DEMO_EVENT_TYPE = {
    "slug": "intro",
    "title": "Intro call",
    "description": "A first 30-minute conversation.",
    "questions": ["What would you like to talk about?"],
    "rules": {
        "weekly_hours": {d: [["09:00", "12:00"], ["13:00", "17:00"]]
                         for d in ("mon", "tue", "wed", "thu", "fri")},
        "duration_minutes": 30,
        "slot_interval_minutes": 30,
        "buffer_after_minutes": 10,
        "minimum_notice_minutes": 120,
        "booking_window_days": 60,
    },
}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
