"""The languages we write in, and how a date, time or duration reads in each. Pure: Babel's
CLDR tables only, no catalogs and no process locale.

    >>> from datetime import datetime
    >>> long_day(datetime(2026, 3, 16), "sl")
    'ponedeljek, 16. marec 2026'
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from babel.dates import format_date, format_datetime, get_day_names, get_month_names
from babel.units import format_unit

LOCALES = ("en", "sl")
DEFAULT_LOCALE = "en"
NAMES = {"en": "English", "sl": "Slovenščina"}

# Explicit patterns, so English reads the British way ("Monday, 16 March 2026", 24-hour
# clock) whatever CLDR's default for "en" is, and Slovenian puts the dot after the day.
_LONG_DAY = {"en": "EEEE, d MMMM y", "sl": "EEEE, d. MMMM y"}
_SHORT_START = {"en": "EEE d MMM HH:mm", "sl": "EEE, d. MMM HH:mm"}
_MONTH = {"en": "LLLL y", "sl": "LLLL y"}


def check(locale: str) -> str:
    """`locale` when we write in it, else ValueError naming the choices."""
    if locale not in LOCALES:
        raise ValueError(f"language must be one of {', '.join(LOCALES)}, got {locale!r}")
    return locale


def long_day(day: date | datetime, locale: str) -> str:
    return format_date(day, _LONG_DAY[check(locale)], locale=locale)


def short_start(local: datetime, locale: str) -> str:
    return format_datetime(local, _SHORT_START[check(locale)], locale=locale)


def month_title(day: date, locale: str) -> str:
    """``December 2026`` / ``december 2026``: the heading of a month view."""
    return format_date(day, _MONTH[check(locale)], locale=locale)


def weekday_names(locale: str,
                  width: Literal["abbreviated", "narrow", "short", "wide"] = "abbreviated",
                  ) -> list[str]:
    """Monday first, as our weeks start."""
    names = get_day_names(width, context="stand-alone", locale=check(locale))
    return [names[i] for i in range(7)]


def month_names(locale: str) -> list[str]:
    names = get_month_names("wide", context="stand-alone", locale=check(locale))
    return [names[i] for i in range(1, 13)]


def duration(minutes: int, locale: str) -> str:
    """``1 hour 30 minutes`` / ``1 ura 30 minut``, with CLDR's plural rules."""
    if minutes < 0:
        raise ValueError(f"a duration cannot be negative, got {minutes}")
    check(locale)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [format_unit(n, unit, length="long", locale=locale)
             for n, unit in ((days, "duration-day"), (hours, "duration-hour"),
                             (mins, "duration-minute")) if n]
    return " ".join(parts) if parts else format_unit(0, "duration-minute", length="long",
                                                     locale=locale)
