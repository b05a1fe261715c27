"""Every message the product writes has its Slovenian translation, and the compiled catalogs the
functions load are the ones their sources describe."""

from __future__ import annotations

import re

import pytest

from booking import i18n
from booking.rendering import TEMPLATES
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


BRANDS = re.compile(r"Google (Meet|Calendar)")


def bare_words(template: str) -> list[str]:
    """Words a reader would see that no translation covers: what is left of a template after
    its translated parts, expressions, tags, styles and code samples are taken out."""
    text = re.sub(r"{% trans.*?%}.*?{% endtrans %}", " ", template, flags=re.S)
    for pattern in (r"{#.*?#}", r"{{.*?}}", r"{%.*?%}", r"<style.*?</style>", r"<pre.*?</pre>",
                    r"<[^>]*>", r"&[a-z]+;"):
        text = re.sub(pattern, " ", text, flags=re.S)
    return re.findall(r"[^\W\d_]{2,}", BRANDS.sub(" ", text))


def test_every_template_marks_its_words_for_translation() -> None:
    templates = sorted(p for p in TEMPLATES.rglob("*") if p.is_file())
    assert len(templates) > 20
    bare = {str(p.relative_to(TEMPLATES)): bare_words(p.read_text()) for p in templates}
    assert {name: words for name, words in bare.items() if words} == {}


def test_the_bare_word_check_sees_unmarked_text() -> None:
    assert bare_words('<p>Your meeting {{ _("is") }}</p>') == ["Your", "meeting"]
    assert bare_words("<h1>{% trans %}Hello{% endtrans %} Google Meet &lt;x&gt;</h1>") == []


BAD_EVENT_TYPES = [
    {"slug": "Bad Slug", "title": "", "location": "pigeon", "active": "yes", "extra": 1,
     "description": "x" * 6000, "questions": "no", "reminders": "no", "rules": {}},
    {"slug": "ok", "title": "a\x00", "description": "\x07", "location_details": "\x01",
     "questions": ["q\x00"], "reminders": [{"method": "sms", "minutes": -1}],
     "rules": {"weekly_hours": {"mon": [["25:00", "26:00"]]}, "duration_minutes": 30}},
    {"slug": "ok", "title": "T", "rules": {"weekly_hours": {}, "duration_minutes": 0}},
    {"slug": "ok", "title": "T", "rules": {"weekly_hours": {}, "duration_minutes": "x"}},
    {"slug": "ok", "title": "T", "rules": {"weekly_hours": {"xyz": []}, "duration_minutes": 30}},
    {"slug": "ok", "title": "T", "rules": {"weekly_hours": {}, "duration_minutes": 30,
                                           "time_zone": "Mars/Base"}},
    {"slug": "ok", "title": "T", "rules": {"weekly_hours": {}, "duration_minutes": 30,
                                           "overrides": {"nope": []}}},
    {"slug": "ok", "title": "T", "rules": {"weekly_hours": {}, "duration_minutes": 30,
                                           "start_times": "sometimes"}},
    {"slug": "ok", "title": "T", "rules": {"weekly_hours": {}, "duration_minutes": 30,
                                           "colour": "red"}},
    {"slug": "ok", "title": "T", "rules": {"week_start": 1}},
    {"slug": "ok", "title": "T", "rules": {"weekly_hours": {"mon": ["x"]},
                                           "duration_minutes": 30}},
    {"slug": "ok", "title": "T", "rules": {"weekly_hours": [], "duration_minutes": 30}},
]


@pytest.mark.parametrize("data", BAD_EVENT_TYPES)
def test_event_type_messages_read_in_slovenian_not_through_the_fallback(
        data: dict[str, object]) -> None:
    from booking.domain.event_types import EventTypeError, parse_event_type
    from booking.web import field_messages

    with pytest.raises(EventTypeError) as refused:
        parse_event_type(data, "Europe/Ljubljana")
    english = refused.value.fields
    slovenian = field_messages.messages("sl", english)
    assert field_messages.messages("en", english) == english
    for name, text in slovenian.items():
        assert not text.startswith("ni veljavno: "), (name, text)
        assert text != english[name], (name, text)
