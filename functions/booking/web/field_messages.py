"""Why a field was refused, in the reader's language.

The domain and services say why in plain English (stable text, no I/O, what API clients and logs
see); this module is the one place that turns those phrasings into the catalog's entries, so an
owner whose language is Slovenian reads Slovenian next to the field. A phrasing not listed here
is shown under a translated lead with the English detail kept, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from booking.errors import BookingError, InvalidInput
from booking.i18n import t

Say = Callable[[str, dict[str, str]], str]


def _units(locale: str, unit: str) -> str:
    return {"minutes": t(locale, "minutes"), "days": t(locale, "days"),
            "hours": t(locale, "hours"), "weeks": t(locale, "weeks"),
            "days after Monday": t(locale, "days after Monday")}.get(unit, unit)


# (pattern over the whole English message, its wording in the reader's language)
_PHRASES: tuple[tuple[str, Say], ...] = (
    (r"is required", lambda lo, g: t(lo, "is required")),
    (r"is required \(at most (?P<n>\d+) characters\)",
     lambda lo, g: t(lo, "is required (at most %(n)s characters)", **g)),
    (r"must be text of at most (?P<n>\d+) characters",
     lambda lo, g: t(lo, "must be text of at most %(n)s characters", **g)),
    (r"must be at most (?P<n>\d+) characters",
     lambda lo, g: t(lo, "must be at most %(n)s characters", **g)),
    (r"use (?P<range>\d+-\d+) lowercase letters, digits or dashes",
     lambda lo, g: t(lo, "use %(range)s lowercase letters, digits or dashes", **g)),
    (r"must not contain control characters \(line breaks only in the description\)",
     lambda lo, g: t(lo, "must not contain control characters (line breaks only in the "
                         "description)")),
    (r"must not contain control characters",
     lambda lo, g: t(lo, "must not contain control characters")),
    (r"must be true or false", lambda lo, g: t(lo, "must be true or false")),
    (r"is not an email address", lambda lo, g: t(lo, "is not an email address")),
    (r"must be whole minutes after midnight",
     lambda lo, g: t(lo, "must be whole minutes after midnight")),
    (r"must be 00:00 or later", lambda lo, g: t(lo, "must be 00:00 or later")),
    (r"must be before 24:00", lambda lo, g: t(lo, "must be before 24:00")),
    (r"a range lasts at most 24 hours", lambda lo, g: t(lo, "a range lasts at most 24 hours")),
    (r"must be a whole number of (?P<unit>.+)",
     lambda lo, g: t(lo, "must be a whole number of %(unit)s", unit=_units(lo, g["unit"]))),
    (r"must be between (?P<low>-?\d+) and (?P<high>-?\d+) (?P<unit>[a-zA-Z ]+), got (?P<value>.+)",
     lambda lo, g: t(lo, "must be between %(low)s and %(high)s %(unit)s, got %(value)s",
                     **{**g, "unit": _units(lo, g["unit"])})),
    (r"(?P<name>.+) is not an IANA time zone name",
     lambda lo, g: t(lo, "%(name)s is not an IANA time zone name", **g)),
    (r"must be an IANA time zone name such as (?P<example>.+)",
     lambda lo, g: t(lo, "must be an IANA time zone name such as %(example)s", **g)),
    (r"must be an IANA time zone such as (?P<example>.+)",
     lambda lo, g: t(lo, "must be an IANA time zone name such as %(example)s", **g)),
    (r"must be one of (?P<choices>.+?), got (?P<value>.+)",
     lambda lo, g: t(lo, "must be one of %(choices)s, got %(value)s", **g)),
    (r"must be one of (?P<choices>.+)",
     lambda lo, g: t(lo, "must be one of %(choices)s", **g)),
    (r"must not be before bookable_from \((?P<first>.+)\)",
     lambda lo, g: t(lo, "must not be before the first bookable day (%(first)s)", **g)),
    (r"date given twice", lambda lo, g: t(lo, "date given twice")),
    (r"must be a whole number, got (?P<value>.+)",
     lambda lo, g: t(lo, "must be a whole number, got %(value)s", **g)),
    (r"is not a date YYYY-MM-DD", lambda lo, g: t(lo, "is not a date YYYY-MM-DD")),
    (r"is not a rule field", lambda lo, g: t(lo, "is not a rule field")),
    (r"is not an event type field", lambda lo, g: t(lo, "is not an event type field")),
    (r"must be a list of at most (?P<n>\d+) reminders",
     lambda lo, g: t(lo, "must be a list of at most %(n)s reminders", **g)),
    (r"must be email or popup", lambda lo, g: t(lo, "must be email or popup")),
    (r"must be (?P<low>\d+) to (?P<high>\d+)",
     lambda lo, g: t(lo, "must be %(low)s to %(high)s", **g)),
    (r"must be a list of at most (?P<n>\d+) questions of up to (?P<chars>\d+) characters",
     lambda lo, g: t(lo, "must be a list of at most %(n)s questions of up to %(chars)s "
                         "characters", **g)),
    (r"start must be a time HH:MM from 00:00 to 24:00, got (?P<value>.+)",
     lambda lo, g: t(lo, "the start must be a time HH:MM from 00:00 to 24:00, got %(value)s",
                     **g)),
    (r"end must be a time HH:MM from 00:00 to 24:00, got (?P<value>.+)",
     lambda lo, g: t(lo, "the end must be a time HH:MM from 00:00 to 24:00, got %(value)s", **g)),
    (r"end must be after start \((?P<end>[\d:]+) <= (?P<start>[\d:]+)\)",
     lambda lo, g: t(lo, "the end must be after the start (%(end)s <= %(start)s)", **g)),
    (r"must be a pair \[start, end\] such as (?P<example>.+), got (?P<value>.+)",
     lambda lo, g: t(lo, "must be a pair [start, end] such as %(example)s, got %(value)s", **g)),
    (r"(?P<range>.+) starts before (?P<other>.+) ends(; ranges must be in order and must not "
     r"overlap)?",
     lambda lo, g: t(lo, "%(range)s starts before %(other)s ends: times must be in order and "
                         "must not overlap", **g)),
    (r"must map weekdays \(mon\.\.sun\) to lists of ranges",
     lambda lo, g: t(lo, "must map weekdays (mon..sun) to lists of ranges")),
    (r"must map dates YYYY-MM-DD to lists of ranges",
     lambda lo, g: t(lo, "must map dates YYYY-MM-DD to lists of ranges")),
    (r"must be a list of \[start, end\] pairs, got (?P<value>.+)",
     lambda lo, g: t(lo, "must be a list of [start, end] pairs, got %(value)s", **g)),
    (r"is not one of (?P<choices>.+)",
     lambda lo, g: t(lo, "must be one of %(choices)s", **g)),
    (r"is required: weekly_hours, duration_minutes and the other rules",
     lambda lo, g: t(lo, "is required: weekly_hours, duration_minutes and the other rules")),
    (r"follows the owner's locale: set it with (?P<how>.+)",
     lambda lo, g: t(lo, "follows your locale: set it with %(how)s", **g)),
    (r"is missing: please use the link from your email",
     lambda lo, g: t(lo, "is missing: please use the link from your email")),
    (r"pick one of the offered times", lambda lo, g: t(lo, "pick one of the offered times")),
    (r"must carry an offset", lambda lo, g: t(lo, "must carry an offset")),
    (r"is the booking's current time already: pick another time to reschedule to",
     lambda lo, g: t(lo, "is the booking's current time already: pick another time to "
                         "reschedule to")),
    (r"is not a calendar of a connected account",
     lambda lo, g: t(lo, "is not a calendar of a connected account")),
    (r"is not a connected account's calendar",
     lambda lo, g: t(lo, "is not a calendar of a connected account")),
    (r"needs writer or owner access; this calendar is (?P<role>.+)",
     lambda lo, g: t(lo, "needs writer or owner access; this calendar is %(role)s", **g)),
)
_COMPILED = tuple((re.compile(pattern), say) for pattern, say in _PHRASES)


def message(locale: str, english: str) -> str:
    """One field's reason in `locale`; English comes back as it is."""
    if locale == "en":
        return english
    for pattern, say in _COMPILED:
        found = pattern.fullmatch(english)
        if found:
            groups = {k: v for k, v in found.groupdict().items() if v is not None}
            return say(locale, groups)
    return t(locale, "is not valid: %(why)s", why=english)


def messages(locale: str, fields: Mapping[str, str]) -> dict[str, str]:
    return {name: message(locale, why) for name, why in fields.items()}


# Whole sentences the services say to guests on their pages (cancel, reschedule, booking).
def _sentences(locale: str) -> dict[str, str]:
    return {
        "This link has expired: the meeting has already started.":
            t(locale, "This link has expired: the meeting has already started."),
        "This link is not valid.": t(locale, "This link is not valid."),
        "This booking was already cancelled.": t(locale, "This booking was already cancelled."),
        "This link was replaced by a newer one: please use the link in your most recent email.":
            t(locale, "This link was replaced by a newer one: please use the link in your most "
                      "recent email."),
        "This booking changed since this link was sent.":
            t(locale, "This booking changed since this link was sent."),
        "The booking changed meanwhile; please try again.":
            t(locale, "The booking changed meanwhile; please try again."),
        "That time is no longer available. Please pick another slot.":
            t(locale, "That time is no longer available. Please pick another slot."),
    }


def page_message(locale: str, exc: BookingError) -> str:
    """What an error page says under its title, in `locale`: a refused field's reason, or the
    service's sentence; English comes back as the service wrote it."""
    if locale == "en":
        return exc.message
    if isinstance(exc, InvalidInput):
        return " ".join(_capital(message(locale, why)) for why in exc.fields.values())
    return _sentences(locale).get(exc.message, exc.message)


def _capital(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
