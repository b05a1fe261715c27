"""Every message the product writes has its Slovenian translation, and the compiled catalogs the
functions load are the ones their sources describe."""

from __future__ import annotations

import re

import pytest

from booking import i18n
from booking.domain.problems import Problem
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
    {"slug": "ok", "title": "T", "seats": 101,
     "rules": {"weekly_hours": {"mon": [["09:00", "12:00"]]}, "duration_minutes": 30}},
]


@pytest.mark.parametrize("data", BAD_EVENT_TYPES)
def test_every_reason_an_event_type_is_refused_for_reads_in_slovenian(
        data: dict[str, object]) -> None:
    from booking.domain.event_types import EventTypeError, parse_event_type

    with pytest.raises(EventTypeError) as refused:
        parse_event_type(data, "Europe/Ljubljana")
    english = refused.value.fields
    assert i18n.say_each("en", english) == english
    for name, text in i18n.say_each("sl", english).items():
        assert isinstance(english[name], Problem), name
        assert text != english[name], (name, text)


def test_a_problem_renders_through_the_catalog_under_its_message_id() -> None:
    from booking.domain.rules import MINUTES

    reason = Problem("rules.whole.range",
                     "must be between %(low)s and %(high)s %(unit)s, got %(value)s",
                     low=5, high=1440, unit=MINUTES, value=0)
    assert reason == "must be between 5 and 1440 minutes, got 0"
    assert i18n.say("en", reason) == reason
    assert i18n.say("sl", reason) == "mora biti med 5 in 1440 (minut), vneseno: 0"  # unit too
    # The id, not the English, picks the translation: same words, another id, another entry.
    assert i18n.say("sl", Problem("no.such.id", "must be true or false")) \
        == "must be true or false"
    assert i18n.say("sl", "plain text") == "plain text"


def test_a_problem_without_slovenian_is_reported() -> None:
    wanted = catalogs.extract()
    wanted.add("must be true or false", context="settings.brand_new_id")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalogs, "extract", lambda: wanted)
        assert catalogs.problems() == [
            "sl: no translation for 'must be true or false' (settings.brand_new_id)"]


def test_a_translation_using_a_value_the_english_lacks_is_reported(
        monkeypatch: pytest.MonkeyPatch) -> None:
    broken = catalogs.load_po("sl")
    broken.get("must be one of %(choices)s", "rules.choice").string = "eno od %(options)s"
    monkeypatch.setattr(catalogs, "load_po", lambda language: broken)
    found = catalogs.problems()
    assert "sl: 'must be one of %(choices)s' (rules.choice) uses a value the English does " \
           "not give" in found


def test_service_refusals_a_guest_or_owner_sees_read_in_slovenian() -> None:
    from booking.errors import Conflict, TooManyRequests
    from booking.web.pages import why

    cap = Conflict(Problem("booking.guest_cap",
                           "This email already has %(cap)s upcoming booking(s) with "
                           "%(owner)s; cancel one to book another.", cap=3, owner="Mia"))
    assert why(cap, "en") == ("This email already has 3 upcoming booking(s) with Mia; cancel "
                              "one to book another.")
    assert "Mia" in why(cap, "sl") and "prekličite" in why(cap, "sl")
    limited = TooManyRequests(Problem("limits.exceeded", "Too many requests (%(limit)s); please "
                                      "try again in %(seconds)s seconds.", limit="book_per_ip",
                                      seconds=60), 60)
    assert why(limited, "sl") == "Preveč zahtev (book_per_ip); poskusite znova čez 60 s."


def test_a_persons_name_is_never_declined_in_slovenian() -> None:
    """A name cannot take Slovenian's instrumental ending ("z Ana Novak" is wrong, and a
    name may be anything), so "with <name>" reads "z osebo <name>" everywhere, as the emails'
    subjects do."""
    from babel.messages.pofile import read_po

    with (catalogs.LOCALE_DIR / "sl" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    bare = [m.string for m in catalog if isinstance(m.string, str)
            and re.search(r"(?<!\w)[zs] %\((owner|other|name)\)s", m.string)]
    assert bare == []
