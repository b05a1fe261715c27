"""The local run's Google Calendar page: acting as the owner in Google Calendar through the
stand-in's control API. A busy event added there stops the booking page offering that time;
moved, it frees the old time and blocks the new one; deleted, it frees it again."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tests.browser.conftest import PERSONAL, Pages
from tests.conftest import Stack
from tests.standins.server import StandinServer


def _offered(page: Any, base: str, day: date, google_url: str) -> list[str]:
    from tests.standins.google.control import GoogleControl

    # Google's push for the change reaches us within seconds; availability reads the busy
    # cache that push keeps, so wait for it as a guest a few seconds later would.
    GoogleControl(google_url).flush_push()
    page.goto(f"{base}/book/coach/intro?lang=en&tz=Europe/Ljubljana&month={day:%Y-%m}"
              f"&day={day.isoformat()}")
    return [v[11:16] for v in page.locator('input[name="start"]').evaluate_all(
        "els => els.map(e => e.value)")]


def test_busy_event_added_on_the_calendar_page_blocks_the_booking_page(
        stack: Stack, demo: str, context_for: Any) -> None:
    from tests.integration.bookings.conftest import next_tuesday
    from tests.standins.calendar_page import CalendarPage

    day = next_tuesday()
    page = context_for("en-GB", zone="Europe/Ljubljana").new_page()
    assert "10:00" in _offered(page, stack.base_url, day, stack.google_url)
    with StandinServer(CalendarPage(stack.google_url)) as calendar:
        page.goto(f"{calendar.url}/?week={day.isoformat()}")
        Pages(page, "en-google-calendar").check("week", axe=False)
        form = page.locator("form", has=page.get_by_role("button", name="Add"))
        form.get_by_label("Calendar").select_option(PERSONAL)
        form.get_by_label("Day").fill(day.isoformat())
        form.get_by_label("From").fill("10:00")
        form.get_by_label("To").fill("11:00")
        form.get_by_label("Title").fill("Dentist")
        form.get_by_role("button", name="Add").click()
        event = page.locator(".ev", has_text="Dentist")
        assert re.search(r"10:00.11:00", event.inner_text())
        offered = _offered(page, stack.base_url, day, stack.google_url)
        assert "10:00" not in offered and "10:30" not in offered and "11:00" in offered

        # Moved in Google Calendar: the old time is free again, the new one is not.
        page.goto(f"{calendar.url}/?week={day.isoformat()}")
        page.get_by_label("new start of Dentist").fill("14:00")
        page.locator(".ev", has_text="Dentist").get_by_role("button", name="Move").click()
        offered = _offered(page, stack.base_url, day, stack.google_url)
        assert "10:00" in offered and "14:00" not in offered

        page.goto(f"{calendar.url}/?week={day.isoformat()}")
        page.locator(".ev", has_text="Dentist").get_by_role("button", name="Delete").click()
        assert page.locator(".ev", has_text="Dentist").count() == 0
        assert "14:00" in _offered(page, stack.base_url, day, stack.google_url)
