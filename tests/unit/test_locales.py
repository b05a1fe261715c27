"""Dates, times, weekdays and durations as each of our languages writes them (Babel's CLDR)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from booking.domain import locales
from booking.domain.booking_rules import GuestInputError, parse_guest_request
from booking.domain.meeting import Meeting, format_range


def test_long_day_short_start_and_month_in_both_languages() -> None:
    at = datetime(2026, 12, 1, 9, 5)
    assert locales.long_day(at, "en") == "Tuesday, 1 December 2026"
    assert locales.long_day(at, "sl") == "torek, 1. december 2026"
    assert locales.short_start(at, "en") == "Tue 1 Dec 09:05"
    assert locales.short_start(at, "sl") == "tor., 1. dec. 09:05"
    assert locales.month_title(date(2026, 3, 1), "sl") == "marec 2026"
    assert locales.weekday_names("sl")[0] == "pon." and locales.weekday_names("en")[6] == "Sun"
    assert locales.month_names("sl")[2] == "marec" and len(locales.month_names("en")) == 12


def test_durations_use_each_languages_plurals() -> None:
    assert [locales.duration(n, "sl") for n in (1, 2, 3, 5, 60, 90, 120, 2880, 0)] == [
        "1 minuta", "2 minuti", "3 minute", "5 minut", "1 ura", "1 ura 30 minut", "2 uri",
        "2 dneva", "0 minut"]
    with pytest.raises(ValueError, match="negative"):
        locales.duration(-1, "en")


def test_unknown_language_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="language must be one of en, sl, got 'de'"):
        locales.long_day(date(2026, 1, 1), "de")


def test_a_range_in_slovenian_keeps_zone_and_offset() -> None:
    start = datetime(2026, 3, 16, 13, tzinfo=UTC)
    assert format_range(start, start.replace(minute=30), "Europe/Ljubljana", "sl") == (
        "ponedeljek, 16. marec 2026, 14:00–14:30 (Europe/Ljubljana, GMT+01:00)")


def test_meeting_refuses_a_language_we_do_not_write() -> None:
    start = datetime(2026, 3, 16, 13, tzinfo=UTC)
    with pytest.raises(ValueError, match="language"):
        Meeting("b1", 0, "T", "", start, start.replace(hour=14), "O", "o@x.test", "UTC",
                "G", "g@x.test", "UTC", guest_locale="fr")


def test_guest_request_carries_its_language_and_refuses_others() -> None:
    fields = {"owner": "mia", "event_type": "intro", "start": "2026-12-01T09:00:00+01:00",
              "name": "Ana", "email": "ana@example.org", "time_zone": "Europe/Ljubljana"}
    assert parse_guest_request(fields).locale == "en"
    assert parse_guest_request({**fields, "locale": "sl"}).locale == "sl"
    with pytest.raises(GuestInputError) as exc:
        parse_guest_request({**fields, "locale": "xx"})
    assert exc.value.fields == {"locale": "must be one of en, sl"}
