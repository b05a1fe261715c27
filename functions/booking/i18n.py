"""Our words in the reader's language: the gettext catalogs under booking/locale, and which
language a request wants.

English is the source language, so it needs no catalog. Slovenian comes from
locale/sl/LC_MESSAGES/messages.mo, compiled from messages.po by `scripts/i18n` (the unit tests
fail when a message has no translation or the compiled catalog is older than its source).

In Python, mark text with `t(locale, "...")` and `tn(locale, "one", "many", n)`; templates use
`_()` / `ngettext()` / `{% trans %}`, rendered per locale by booking.rendering. Why something
was refused comes from the domain and the services as a `Problem` (a message id with its values,
booking.domain.problems); `say(locale, problem)` renders it.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from booking.domain.locales import DEFAULT_LOCALE, LOCALES
from booking.domain.problems import Problem

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> gettext.NullTranslations:
    if locale not in LOCALES:
        raise ValueError(f"no such language: {locale!r}")
    if locale == DEFAULT_LOCALE:
        return gettext.NullTranslations()
    from babel.support import Translations

    found = Translations.load(str(LOCALE_DIR), [locale], DOMAIN)
    if not isinstance(found, Translations):  # Babel hands back NullTranslations when missing
        raise FileNotFoundError(f"the compiled {locale} catalog is missing under {LOCALE_DIR}")
    return found


def t(locale: str, message: str, **values: Any) -> str:
    text = translations(locale).gettext(message)
    return text % values if values else text


def say(locale: str, reason: str) -> str:
    """`reason` in `locale`: a Problem through the catalogs under its message id, with any value
    that is a Problem itself (a unit) translated too; other text comes back as it is."""
    if not isinstance(reason, Problem) or locale == DEFAULT_LOCALE:
        return str(reason)
    text = translations(locale).pgettext(reason.code, reason.template)
    if not reason.params:
        return text
    return text % {name: say(locale, value) if isinstance(value, Problem) else value
                   for name, value in reason.params.items()}


def say_each(locale: str, reasons: Mapping[str, str]) -> dict[str, str]:
    """``{"title": "is required"}`` -> the same fields, each reason in `locale`."""
    return {name: say(locale, why) for name, why in reasons.items()}


def tn(locale: str, singular: str, plural: str, n: int, **values: Any) -> str:
    return translations(locale).ngettext(singular, plural, n) % {"num": n, **values}


def pick(explicit: str | None, accept_language: Any = None,
         default: str = DEFAULT_LOCALE) -> str:
    """The language for a reader: an explicit choice (a `lang` switch, a stored setting) when it
    is one of ours, else the best match of the browser's Accept-Language, else `default`.

    `accept_language` is werkzeug's parsed header (`request.accept_languages`), which matches
    `sl-SI` to `sl` and honours q-values.
    """
    if explicit in LOCALES:
        return str(explicit)
    if accept_language is not None:
        best = accept_language.best_match(LOCALES)
        if best:
            return str(best)
    return default
