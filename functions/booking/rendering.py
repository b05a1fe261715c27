"""Jinja2 rendering for pages and emails; autoescaping is always on, so user text is escaped."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


@lru_cache(maxsize=1)
def _text_env() -> Environment:
    # Plain-text email parts: nothing is HTML there, so escaping would only garble names.
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=False, trim_blocks=True,  # noqa: S701
        lstrip_blocks=True, keep_trailing_newline=True,
    )


def render_text(template: str, **context: Any) -> str:
    return _text_env().get_template(template).render(**context)
