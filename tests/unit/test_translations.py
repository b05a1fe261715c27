"""Every message the product writes has its Slovenian translation, and the compiled catalogs the
functions load are the ones their sources describe."""

from __future__ import annotations

import pytest

from booking import i18n
from scripts import i18n as catalogs


def test_every_message_is_translated_and_compiled() -> None:
    assert catalogs.problems() == []


def test_a_message_without_translation_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = catalogs.extract()
    wanted.add("A sentence nobody translated yet")
    monkeypatch.setattr(catalogs, "extract", lambda: wanted)
    assert catalogs.problems() == [
        "sl: no translation for 'A sentence nobody translated yet'"]


def test_slovenian_plurals_follow_the_four_forms() -> None:
    assert [i18n.tn("sl", "in %(num)s day", "in %(num)s days", n) for n in (1, 2, 3, 5, 101)] \
        == ["čez 1 dan", "čez 2 dneva", "čez 3 dni", "čez 5 dni", "čez 101 dan"]


def test_language_choice_prefers_the_switch_then_the_browser() -> None:
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    browser = parse_accept_header("sl-SI,sl;q=0.9,en;q=0.5", LanguageAccept)
    assert i18n.pick(None, browser) == "sl"
    assert i18n.pick("en", browser) == "en"
    assert i18n.pick("de", browser) == "sl"
    assert i18n.pick(None, parse_accept_header("de-DE", LanguageAccept)) == "en"
    assert i18n.pick(None, None, default="sl") == "sl"


def test_pages_render_in_the_readers_language() -> None:
    from booking.rendering import render

    page = render("login.html", "sl", error=None)
    assert '<html lang="sl"' in page and "Prijava" in page and "Sign in" not in page
    assert "Sign in" in render("login.html", "en", error=None)
