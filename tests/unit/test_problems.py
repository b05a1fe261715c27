"""A Problem is its English text, and carries its message id and values for translation."""

from __future__ import annotations

import copy
import json

from booking.domain.problems import Problem, codes


def test_a_problem_reads_as_its_english_text_everywhere_text_goes() -> None:
    reason = Problem("text.at_most", "must be at most %(n)s characters", n=200)
    assert reason == "must be at most 200 characters"
    assert "at most 200" in reason
    assert json.dumps({"title": reason}) == '{"title": "must be at most 200 characters"}'
    assert (reason.code, reason.template, dict(reason.params)) == (
        "text.at_most", "must be at most %(n)s characters", {"n": 200})


def test_a_template_without_values_keeps_a_percent_sign() -> None:
    assert Problem("x.percent", "must be 100% sure") == "must be 100% sure"


def test_a_problem_survives_copying_with_its_id() -> None:
    reason = Problem("rules.choice", "must be one of %(choices)s", choices="a, b")
    for again in (copy.copy(reason), copy.deepcopy(reason)):
        assert again == reason and isinstance(again, Problem)
        assert (again.code, again.params) == ("rules.choice", {"choices": "a, b"})


def test_codes_name_each_reasons_message_id() -> None:
    assert codes({"title": Problem("text.required", "is required"), "other": "plain"}) \
        == {"title": "text.required"}
