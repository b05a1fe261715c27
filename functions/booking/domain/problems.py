"""Why something was refused, as a message id with its values: what the domain and the services
say, and what the web layer renders in the reader's language.

A `Problem` is its English text (a `str`, so logs, API answers and comparisons read it exactly as
before), and also carries what a translation needs: `code`, the stable message id (the catalogs'
msgctxt, and the `codes` an API client may key on); `template`, the English text with
``%(name)s`` placeholders (the catalogs' msgid, so English is the default text); and `params`,
the values. A value that is itself a Problem (a unit, say) is translated along with it::

    MINUTES = Problem("unit.minutes", "minutes")
    Problem("rules.whole.range", "must be between %(low)s and %(high)s %(unit)s, got %(value)s",
            low=5, high=720, unit=MINUTES, value=0)
    # == "must be between 5 and 720 minutes, got 0"; booking.i18n.say(locale, it) in Slovenian

`scripts/i18n` extracts every `Problem(code, template, ...)` call into the catalogs (so code and
template are literals at the call), and tests/unit/test_translations.py fails while one has no
Slovenian translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Problem(str):
    code: str
    template: str
    params: Mapping[str, object]

    def __new__(cls, code: str, template: str, /, **params: object) -> Problem:
        # A template without values is not %-formatted, as gettext does: a literal "%" stays.
        self = super().__new__(cls, template % params if params else template)
        self.code = code
        self.template = template
        self.params = params
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # str's own reduction would rebuild it from the English text alone.
        return _rebuild, (self.code, self.template, dict(self.params))


def _rebuild(code: str, template: str, params: dict[str, object]) -> Problem:
    return Problem(code, template, **params)


def codes(reasons: Mapping[str, str]) -> dict[str, str]:
    """The message id of each reason that has one: ``{"title": "text.required"}``."""
    return {name: why.code for name, why in reasons.items() if isinstance(why, Problem)}
