"""Ids, instants, owner text and the cheap booking checks: the pure rules behind issue 14's edge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from booking.domain import ids, tokens
from booking.domain.availability import Booked
from booking.domain.booking_rules import has_control, parse_instant, refusal
from booking.domain.event_types import EventTypeError, parse_event_type
from booking.domain.intervals import Interval
from booking.domain.rules import parse_rules

RULES = parse_rules({"weekly_hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]},
                     "duration_minutes": 30, "minimum_notice_minutes": 120,
                     "booking_window_days": 14, "time_zone": "UTC"})
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(("kind", "good", "bad"), [
    ("owner", "coach-ana", ["a/b", "..", "__x__", "ab", "Coach", "coach\n", 5]),
    ("event_type", "intro", ["a/b", ".", "__x__", "-x", "x" * 64]),
    ("booking", "0" * 32, ["0" * 31, "g" * 32, "__" + "0" * 28 + "__"]),
    ("connection", "g1234", ["1234", "g", "g1/2", "g.."]),
    ("channel", "a" * 32, ["a" * 33, "../" + "a" * 29]),
])
def test_each_id_kind_takes_what_we_mint_and_nothing_firestore_would_misread(
        kind: str, good: str, bad: list[Any]) -> None:
    assert ids.valid(kind, good)
    assert not any(ids.valid(kind, value) for value in bad)
    assert "valid id" in ids.problem(kind)


def test_an_api_key_whose_owner_part_is_not_an_id_is_malformed() -> None:
    with pytest.raises(tokens.TokenError):
        tokens.split_api_key("bk_a/b_" + "x" * 40)


@pytest.mark.parametrize(("text", "why"), [
    ("2026-12-01T09:00:00+01:00\x00", "ISO 8601"),
    ("2026-12-01T09:00:00+01:00 ", None),
    ("0001-01-01T00:00:00+01:00", "between the years"),
    ("9999-12-31T23:59:59-12:00", "between the years"),
    ("2026-12-01T09:00:00", "offset"),
    ("2026-13-01T09:00:00Z", "ISO 8601"),
    ("१२३४-01-01T09:00:00Z", "ISO 8601"),
])
def test_instants_are_one_strict_form_within_sane_years(text: str, why: str | None) -> None:
    if why is None:
        assert parse_instant(text) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        return
    with pytest.raises(ValueError, match=why):
        parse_instant(text)


def test_control_characters_single_and_multiline() -> None:
    assert has_control("a\x00") and has_control("a\nb") and has_control("\x1b[31m")
    assert not has_control("a\r\n\tb", multiline=True) and has_control("a\x00\n", multiline=True)


@pytest.mark.parametrize(("field", "value", "name"), [
    ("title", "Call\r\nBcc: x", "title"),
    ("description", "x\x00", "description"),
    ("location_details", "Room\n2", "location_details"),
    ("questions", ["ok", "Why?\x07"], "questions[1]"),
])
def test_owner_text_refuses_control_characters(field: str, value: Any, name: str) -> None:
    data = {"slug": "x", "title": "X", "rules": {"weekly_hours": {"mon": [["09:00", "17:00"]]},
                                                 "duration_minutes": 30}, field: value}
    with pytest.raises(EventTypeError) as caught:
        parse_event_type(data, "UTC")
    assert "control characters" in caught.value.fields[name]


def test_a_description_keeps_its_line_breaks() -> None:
    et = parse_event_type({"slug": "x", "title": "X", "description": "One\r\nTwo\tthree",
                           "rules": {"weekly_hours": {"mon": [["09:00", "17:00"]]},
                                     "duration_minutes": 30}}, "UTC")
    assert et.description == "One\r\nTwo\tthree"


@pytest.mark.parametrize(("start", "words"), [
    (NOW - timedelta(minutes=1), "in the past"),
    (NOW + timedelta(minutes=60), "too soon"),
    (datetime(2026, 12, 15, 10, 0, tzinfo=UTC), "booking window"),
    (datetime(2026, 12, 1, 10, 10, tzinfo=UTC), "offered times"),
    (datetime(2026, 12, 2, 10, 0, tzinfo=UTC), "offered times"),  # a Wednesday: closed
])
def test_refusal_names_the_rule_a_time_breaks(start: datetime, words: str) -> None:
    found = refusal(RULES, start, booked=(), now=NOW)
    assert found is not None and not found.taken and words in found.message


def test_refusal_names_the_fixed_date_range_and_now_itself() -> None:
    from dataclasses import replace

    ranged = replace(RULES, bookable_from=date(2026, 12, 1), bookable_until=date(2026, 12, 1))
    before = refusal(ranged, datetime(2026, 11, 30, 10, 0, tzinfo=UTC), booked=(), now=NOW)
    after = refusal(ranged, datetime(2026, 12, 7, 10, 0, tzinfo=UTC), booked=(), now=NOW)
    assert before is not None and "before 2026-12-01, the first day" in before.message
    assert after is not None and "after 2026-12-01, the last day" in after.message
    assert refusal(ranged, datetime(2026, 12, 1, 10, 0, tzinfo=UTC), booked=(), now=NOW) is None
    at_now = refusal(replace(RULES, minimum_notice_minutes=0), NOW, booked=(), now=NOW)
    assert at_now is not None and "in the past" in at_now.message


def test_refusal_says_taken_for_our_own_booking_and_nothing_for_a_free_slot() -> None:
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    mine = Booked(Interval(start, start + timedelta(minutes=30)))
    found = refusal(RULES, start, booked=[mine], now=NOW)
    assert found is not None and found.taken
    assert refusal(RULES, start + timedelta(minutes=30), booked=[mine], now=NOW) is None


@pytest.mark.parametrize("field", ["owner", "event_type"])
def test_guest_request_names_an_owner_or_event_type_that_is_not_an_id(field: str) -> None:
    from booking.domain.booking_rules import GuestInputError, parse_guest_request

    fields = {"owner": "coach", "event_type": "intro", "start": "2026-12-01T09:00:00Z",
              "name": "Ana", "email": "ana@example.org", "time_zone": "UTC", field: "a/b"}
    with pytest.raises(GuestInputError) as caught:
        parse_guest_request(fields)
    assert caught.value.fields == {field: ids.problem(field)}


def test_the_honeypot_field_must_stay_empty() -> None:
    from booking.domain.booking_rules import GuestInputError, parse_guest_request

    fields = {"owner": "coach", "event_type": "intro", "start": "2026-12-01T09:00:00Z",
              "name": "Ana", "email": "ana@example.org", "time_zone": "UTC"}
    assert parse_guest_request({**fields, "website": ""}).name == "Ana"
    with pytest.raises(GuestInputError) as caught:
        parse_guest_request({**fields, "website": "https://spam.example"})
    assert caught.value.fields == {"website": "must be left empty"}
