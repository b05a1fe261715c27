"""Pages for people: messages and errors, rendered from templates with escaping on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from booking.domain.locales import DEFAULT_LOCALE, LOCALES, NAMES
from booking.errors import BookingError, Gone, InvalidInput
from booking.i18n import say, t
from booking.rendering import render


def _title(status: int, locale: str) -> str:
    titles = {
        400: t(locale, "Something in the request is not right"),
        401: t(locale, "Please sign in"),
        404: t(locale, "Not found"),
        405: t(locale, "This address does not take that request"),
        409: t(locale, "That did not work out"),
        410: t(locale, "This link no longer works"),
        429: t(locale, "Please wait a moment"),
        503: t(locale, "Please try again in a moment"),
    }
    return titles.get(status, t(locale, "Something went wrong"))


def message_page(title: str, message: str, link: str | None = None,
                 link_text: str | None = None, locale: str = DEFAULT_LOCALE,
                 switch: list[dict[str, Any]] | None = None) -> str:
    return render("message.html", locale, title=title, message=message, link=link,
                  link_text=link_text, switch=switch)


def error_page(exc: BookingError, locale: str = DEFAULT_LOCALE,
               switch: list[dict[str, Any]] | None = None) -> str:
    """`switch`: a guest page's language switch (the same address in each language)."""
    again = exc.again if isinstance(exc, Gone) else None
    return message_page(_title(exc.status, locale), why(exc, locale), locale=locale,
                        switch=switch, link=again,
                        link_text=t(locale, "Pick a time again") if again else None)


def why(exc: BookingError, locale: str) -> str:
    """What a page says under its title, in `locale`: the service's sentence, or each refused
    field's reason (English names the fields, as API clients and scripts read it)."""
    if locale == DEFAULT_LOCALE:
        return exc.message
    if isinstance(exc, InvalidInput):
        return " ".join(sentence(say(locale, reason)) for reason in exc.fields.values())
    return sentence(say(locale, exc.message))


def sentence(text: str) -> str:
    """``"is required"`` -> ``"Is required."``: a reason read on its own, as a sentence."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def crash_page(locale: str = DEFAULT_LOCALE) -> str:
    return message_page(
        t(locale, "Something went wrong"),
        t(locale, "We could not finish this request. Nothing was changed; please try again."),
        locale=locale,
    )


# Reschedule pages show two weeks of free times at a time, with earlier and later pages.
SHOWN = timedelta(days=14)
MAX_AHEAD = timedelta(days=731)  # past any booking window (730 days at most)


@dataclass(frozen=True)
class TimesPage:
    """Two weeks of a reschedule page (the guest's or the owner's): the UTC span to offer, and
    the reader's first day of the earlier and later pages (None where there is none)."""

    start: datetime
    end: datetime
    earlier: date | None
    later: date | None


def times_page(value: str | None, zone: Any, now: datetime, booked: datetime) -> TimesPage:
    """The page `from=YYYY-MM-DD` asks for (that day's start in the reader's zone, never before
    now), or the one starting a week before the `booked` start when absent or not a date."""
    start = _times_from(value, zone, now) or max(now, booked - timedelta(days=7))
    local = start.astimezone(zone).date()
    return TimesPage(start, start + SHOWN,
                     earlier=local - SHOWN if start > now else None,
                     later=local + SHOWN if start + SHOWN < now + MAX_AHEAD else None)


def _times_from(value: str | None, zone: Any, now: datetime) -> datetime | None:
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return None
    # Bounded as a date first: year 1 or 9999 in a zone far from UTC would overflow.
    day = min(max(day, now.date() - timedelta(days=1)), (now + MAX_AHEAD).date())
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    shown: datetime = min(max(start, now), now + MAX_AHEAD)
    return shown.astimezone(UTC)


def switch_links(url: str, params: dict[str, str], current: str) -> list[dict[str, Any]]:
    """A guest page's language switch (base.html): the same page, `params` kept (a link's
    token too), in each language."""
    return [{"locale": loc, "name": NAMES[loc], "current": loc == current,
             "url": f"{url}?{urlencode({**params, 'lang': loc})}"} for loc in LOCALES]
