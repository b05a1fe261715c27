"""Jinja2 rendering for pages and emails, in one of our languages; autoescaping is always on for
HTML, so user text is escaped.

Each language has its own environment with the catalog installed (`_`, `ngettext`,
`{% trans %}`, trimmed) and `locale` as a global, so templates say `lang="{{ locale }}"` and
format dates with the reader's language.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from booking.domain.locales import DEFAULT_LOCALE, NAMES

TEMPLATES = Path(__file__).parent / "templates"


def _build(locale: str, *, html: bool) -> Environment:
    from booking import i18n

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        # Plain-text email parts: nothing is HTML there, so escaping would only garble names.
        autoescape=select_autoescape(default=True, default_for_string=True) if html else False,  # noqa: S701
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(locale=locale, language_names=NAMES)
    return env


@lru_cache(maxsize=4)
def _env(locale: str) -> Environment:
    return _build(locale, html=True)


@lru_cache(maxsize=4)
def _text_env(locale: str) -> Environment:
    return _build(locale, html=False)


def render(template: str, locale: str = DEFAULT_LOCALE, **context: Any) -> str:
    return _env(locale).get_template(template).render(**context)


def render_text(template: str, locale: str = DEFAULT_LOCALE, **context: Any) -> str:
    return _text_env(locale).get_template(template).render(**context)
