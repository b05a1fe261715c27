"""Inputs that once slipped past validation: each must be a named 4xx, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from booking.domain import tokens
from booking.domain.booking_rules import GuestInputError, parse_guest_request
from booking.domain.event_types import EventTypeError, parse_event_type

GOOD: dict[str, Any] = {"owner": "coach", "event_type": "intro",
                        "start": "2026-12-01T09:00:00+01:00", "name": "Ana",
                        "email": "ana@example.org", "time_zone": "Europe/Ljubljana"}


def _fields(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest.mark.parametrize("zone", ["America", "Europe/", "../../etc/passwd", "/"])
def test_a_folder_or_path_as_time_zone_is_named_not_a_crash(zone: str) -> None:
    with pytest.raises(GuestInputError) as caught:
        parse_guest_request(_fields(time_zone=zone))
    assert "time_zone" in caught.value.fields


def test_a_non_ascii_token_is_refused_as_malformed() -> None:
    with pytest.raises(tokens.TokenError, match="malformed"):
        tokens.verify(tokens.Keyring("k1", {"k1": b"k" * 32}), "cancel", "k1.abc.é", now=0)


def test_a_slug_with_a_trailing_newline_is_refused() -> None:
    rules = {"weekly_hours": {"mon": [["09:00", "17:00"]]}, "duration_minutes": 30}
    with pytest.raises(EventTypeError) as caught:
        parse_event_type({"slug": "intro\n", "title": "Intro", "rules": rules}, "UTC")
    assert "slug" in caught.value.fields


def test_a_long_name_is_refused_for_its_length_even_with_brackets() -> None:
    with pytest.raises(GuestInputError) as caught:
        parse_guest_request(_fields(name="<" + "a" * 200))
    assert "at most" in caught.value.fields["name"]


def test_a_reminder_with_bad_method_and_minutes_names_both() -> None:
    rules = {"weekly_hours": {"mon": [["09:00", "17:00"]]}, "duration_minutes": 30}
    with pytest.raises(EventTypeError) as caught:
        parse_event_type({"slug": "x", "title": "X", "rules": rules,
                          "reminders": [{"method": "sms", "minutes": -5}]}, "UTC")
    assert {"reminders[0].method", "reminders[0].minutes"} <= set(caught.value.fields)


def test_form_answers_keep_their_question_positions() -> None:
    req = parse_guest_request(_fields(answer_1="second only"))
    assert req.answers == ("", "second only")


def test_form_answers_past_the_tenth_and_control_characters_are_named() -> None:
    with pytest.raises(GuestInputError) as caught:
        parse_guest_request(_fields(answer_10="eleventh"))
    assert "answers" in caught.value.fields
    with pytest.raises(GuestInputError) as caught:
        parse_guest_request(_fields(answers=["ok", "bell\x07"]))
    assert "answers[1]" in caught.value.fields
    assert parse_guest_request(_fields(answers=["two\nlines"])).answers == ("two\nlines",)
