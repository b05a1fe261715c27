"""Booking rules: guest input is refused field by field, ids are stable, buffers keep apart."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.domain.availability import Booked, owner_day
from booking.domain.booking_rules import (
    MAX_ANSWER,
    MAX_KEY,
    MAX_NAME,
    MAX_NOTES,
    GuestInputError,
    GuestRequest,
    booking_id_for,
    clashes,
    event_id_for,
    ledger_days,
    parse_guest_request,
)
from booking.domain.intervals import Interval

START = "2026-12-01T09:00:00+01:00"


def form(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "owner": "owner-1",
        "event_type": "intro",
        "start": START,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "time_zone": "Europe/Ljubljana",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def problems(fields: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    with pytest.raises(GuestInputError) as caught:
        parse_guest_request(fields, **kwargs)
    return caught.value.fields


# --- parse_guest_request: a good request ---------------------------------------------------


def test_a_good_request_is_parsed_and_trimmed() -> None:
    request = parse_guest_request(form(name="  Ada Lovelace ", email=" ada@example.com ",
                                       notes="  see you  "))
    assert request == GuestRequest(
        owner_id="owner-1", event_type="intro",
        start=datetime(2026, 12, 1, 8, 0, tzinfo=UTC), name="Ada Lovelace",
        email="ada@example.com", time_zone="Europe/Ljubljana", notes="see you", answers=(),
        idempotency_key=None,
    )


def test_start_with_an_offset_is_converted_to_utc() -> None:
    start = parse_guest_request(form(start="2026-07-01T09:30:00-04:00")).start
    assert start == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)
    assert start.tzinfo is UTC


def test_start_with_z_is_accepted_as_utc() -> None:
    start = parse_guest_request(form(start="2026-12-01T09:00:00Z")).start
    assert start == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert start.tzinfo is UTC


@pytest.mark.parametrize("email", [
    "ada+bookings@example.com",
    "o'brien@example.ie",
    "first.last@mail.example.co.uk",
    "x@a-b.example",
])
def test_real_world_emails_are_accepted(email: str) -> None:
    assert parse_guest_request(form(email=email)).email == email


@pytest.mark.parametrize("name", ["Zoë O'Brien-Smith", "李雷", "J. R. R. Tolkien", "Ana (she/her)"])
def test_names_with_accents_apostrophes_and_scripts_are_accepted(name: str) -> None:
    assert parse_guest_request(form(name=name)).name == name


def test_notes_may_span_lines() -> None:
    notes = "First line\r\nSecond line\n\tindented"
    assert parse_guest_request(form(notes=notes)).notes == notes


def test_notes_are_optional() -> None:
    assert parse_guest_request(form()).notes == ""


# --- parse_guest_request: each field refused by name ----------------------------------------


@pytest.mark.parametrize("field", ["owner", "event_type", "name", "email", "time_zone", "start"])
def test_a_missing_required_field_is_named(field: str) -> None:
    found = problems(form(**{field: None}))
    assert set(found) == {field}
    assert found[field].startswith("is required")


@pytest.mark.parametrize("field", ["owner", "event_type", "name", "email", "time_zone", "start"])
def test_a_blank_required_field_is_named(field: str) -> None:
    found = problems(form(**{field: "   "}))
    assert set(found) == {field}
    assert found[field].startswith("is required")


@pytest.mark.parametrize("field", ["owner", "event_type", "name", "email", "time_zone", "notes"])
def test_a_field_that_is_not_text_is_named(field: str) -> None:
    found = problems(form(**{field: ["a"]}))
    assert found == {field: "must be text"}


def test_every_bad_field_is_named_at_once() -> None:
    found = problems({"owner": "", "name": "<b>", "email": "nope", "time_zone": "Mars/Base",
                      "start": "tomorrow", "notes": "a\x00b", "answers": "x",
                      "idempotency_key": "short"})
    assert set(found) == {"owner", "event_type", "name", "email", "time_zone", "start",
                          "notes", "answers", "idempotency_key"}
    message = str(GuestInputError(found))
    for field in found:
        assert f"{field}: " in message


@pytest.mark.parametrize("field, limit", [("owner", 64), ("event_type", 64), ("name", MAX_NAME),
                                          ("email", 254), ("time_zone", 64),
                                          ("notes", MAX_NOTES)])
def test_length_limits(field: str, limit: int) -> None:
    found = problems(form(**{field: "a" * (limit + 1)}))
    assert found[field] == f"must be at most {limit} characters"


def test_the_longest_allowed_name_and_notes_pass() -> None:
    request = parse_guest_request(form(name="n" * MAX_NAME, notes="x" * MAX_NOTES))
    assert len(request.name) == MAX_NAME
    assert len(request.notes) == MAX_NOTES


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "Ada <ada@evil.test>",
                                  'Ada "The Countess"', "Ada; Bcc", "Lovelace, Ada",
                                  "back\\slash"])
def test_markup_and_header_breaking_characters_are_refused_in_names(name: str) -> None:
    assert set(problems(form(name=name))) == {"name"}


@pytest.mark.parametrize("email", ["ada@example.com\r\nBcc: eve@evil.test",
                                   "ada@example.com\nBcc: x@y.z", "ada\r@example.com"])
def test_cr_lf_in_email_is_refused(email: str) -> None:
    assert problems(form(email=email)) == {"email": "must not contain control characters"}


@pytest.mark.parametrize("email", ["ada", "ada@", "@example.com", "ada@example",
                                   "ada@@example.com", "ada example@example.com",
                                   "ada@-example.com", "ada@example..com"])
def test_malformed_emails_are_refused(email: str) -> None:
    assert problems(form(email=email)) == {"email": "is not an email address"}


@pytest.mark.parametrize("name", ["Ada\x00", "Ada\nLovelace", "Ada\x1b[31m", "Ada\tL"])
def test_control_characters_are_refused_in_names(name: str) -> None:
    found = problems(form(name=name))
    assert found == {"name": "must not contain control characters"}


@pytest.mark.parametrize("notes", ["bell\x07", "nul\x00", "escape\x1b[2J", "del\x7f"])
def test_notes_refuse_control_characters_other_than_line_breaks(notes: str) -> None:
    assert problems(form(notes=notes)) == {"notes": "must not contain control characters"}


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Europe/", "../../etc/passwd", "utc+1"])
def test_unknown_time_zones_are_refused(zone: str) -> None:
    assert set(problems(form(time_zone=zone))) == {"time_zone"}


@pytest.mark.parametrize("start", ["2026-12-01T09:00:00", "2026-12-01 09:00", "2026-12-01"])
def test_start_without_an_offset_is_refused(start: str) -> None:
    found = problems(form(start=start))
    assert set(found) == {"start"}
    assert "offset" in found["start"]


@pytest.mark.parametrize("start", ["tomorrow at nine", "2026-13-01T09:00:00Z",
                                   "2026-12-01T25:00:00+01:00"])
def test_starts_that_are_not_instants_are_refused(start: str) -> None:
    found = problems(form(start=start))
    assert set(found) == {"start"}
    assert found["start"].startswith("must be an ISO 8601 instant")


@pytest.mark.parametrize("start", [1764576000, None, ["2026-12-01T09:00:00Z"]])
def test_start_that_is_not_text_is_refused(start: Any) -> None:
    fields = form()
    fields["start"] = start
    assert set(problems(fields)) == {"start"}


# --- answers ----------------------------------------------------------------------------------


def test_answers_from_a_json_list_are_trimmed() -> None:
    request = parse_guest_request(form(answers=[" Rust ", "Tuesdays"]), questions=2)
    assert request.answers == ("Rust", "Tuesdays")


def test_answers_from_form_fields_keep_their_order() -> None:
    request = parse_guest_request(form(answer_1="second", answer_0="first"), questions=2)
    assert request.answers == ("first", "second")


def test_a_json_list_wins_over_form_fields() -> None:
    request = parse_guest_request(form(answers=["json"], answer_0="form"))
    assert request.answers == ("json",)


def test_no_answers_is_an_empty_tuple() -> None:
    assert parse_guest_request(form(), questions=3).answers == ()


def test_more_answers_than_questions_are_refused() -> None:
    found = problems(form(answers=["a", "b"]), questions=1)
    assert set(found) == {"answers"}
    assert "1 question" in found["answers"]


@pytest.mark.parametrize("answers", ["just text", [1, 2], ["ok", None], {"0": "a"}])
def test_answers_must_be_a_list_of_texts(answers: Any) -> None:
    assert problems(form(answers=answers)) == {"answers": "must be a list of texts"}


def test_an_overlong_answer_is_named_by_its_index() -> None:
    found = problems(form(answers=["fine", "x" * (MAX_ANSWER + 1)]))
    assert set(found) == {"answers[1]"}
    assert parse_guest_request(form(answers=["x" * MAX_ANSWER])).answers == ("x" * MAX_ANSWER,)


# --- idempotency key ------------------------------------------------------------------------


def test_idempotency_key_from_the_field() -> None:
    assert parse_guest_request(form(idempotency_key="key-12345")).idempotency_key == "key-12345"


def test_idempotency_key_from_the_header() -> None:
    request = parse_guest_request(form(), header_key="header-key-1")
    assert request.idempotency_key == "header-key-1"


def test_the_field_wins_over_the_header() -> None:
    request = parse_guest_request(form(idempotency_key="field-key-1"), header_key="header-key-1")
    assert request.idempotency_key == "field-key-1"


def test_an_empty_field_falls_back_to_the_header() -> None:
    request = parse_guest_request(form(idempotency_key=""), header_key="header-key-1")
    assert request.idempotency_key == "header-key-1"


def test_idempotency_key_length_bounds() -> None:
    assert parse_guest_request(form(idempotency_key="k" * 8)).idempotency_key == "k" * 8
    assert parse_guest_request(form(idempotency_key="k" * MAX_KEY)).idempotency_key == (
        "k" * MAX_KEY)
    assert set(problems(form(idempotency_key="k" * 7))) == {"idempotency_key"}
    assert set(problems(form(idempotency_key="k" * (MAX_KEY + 1)))) == {"idempotency_key"}
    assert set(problems(form(), header_key="k" * 7)) == {"idempotency_key"}
    assert set(problems(form(), header_key="k" * (MAX_KEY + 1))) == {"idempotency_key"}


@pytest.mark.parametrize("key", ["key\x00123456", "key\n12345678", 12345678, ["k"] * 10])
def test_idempotency_keys_must_be_printable_text(key: Any) -> None:
    assert set(problems(form(idempotency_key=key))) == {"idempotency_key"}


# --- ids ------------------------------------------------------------------------------------


def test_booking_id_is_deterministic_and_32_lowercase_hex() -> None:
    first = booking_id_for("owner-1", "key-12345")
    assert first == booking_id_for("owner-1", "key-12345")
    assert re.fullmatch(r"[0-9a-f]{32}", first)


def test_booking_id_differs_by_owner_and_by_key() -> None:
    base = booking_id_for("owner-1", "key-12345")
    assert booking_id_for("owner-2", "key-12345") != base
    assert booking_id_for("owner-1", "key-12346") != base
    # The separator keeps ("ab", "c") and ("a", "bc") apart.
    assert booking_id_for("ab", "c") != booking_id_for("a", "bc")


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=80))
def test_every_booking_id_is_32_lowercase_hex(owner: str, key: str) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", booking_id_for(owner, key))


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=80))
def test_event_ids_are_valid_google_base32hex(owner: str, key: str) -> None:
    event_id = event_id_for(booking_id_for(owner, key))
    assert re.fullmatch(r"[0-9a-v]{5,1024}", event_id)


def test_event_id_is_deterministic_and_distinct_per_booking() -> None:
    one, two = booking_id_for("o", "key-00000001"), booking_id_for("o", "key-00000002")
    assert event_id_for(one) == event_id_for(one)
    assert event_id_for(one) != event_id_for(two)
    assert one in event_id_for(one)


# --- clashes --------------------------------------------------------------------------------


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 1, hour, minute, tzinfo=UTC)


def booked(start: datetime, minutes: int, before: int = 0, after: int = 0) -> Booked:
    return Booked(Interval(start, start + timedelta(minutes=minutes)),
                  timedelta(minutes=before), timedelta(minutes=after))


def test_an_after_buffer_reaches_a_slot_that_starts_inside_it() -> None:
    existing = booked(at(9, 30), 30, after=15)  # ends 10:00, keeps 10:00-10:15
    assert clashes(booked(at(10, 10), 30), [existing])
    assert not clashes(booked(at(10, 15), 30), [existing])


def test_buffers_add_up() -> None:
    existing = booked(at(9, 30), 30, after=15)  # keeps until 10:15
    # A 10-minute before-buffer needs 10:15 clear, so 10:25 is the earliest start.
    assert clashes(booked(at(10, 24), 30, before=10), [existing])
    assert not clashes(booked(at(10, 25), 30, before=10), [existing])


def test_a_before_buffer_of_the_existing_booking_counts() -> None:
    existing = booked(at(11), 30, before=20)  # keeps from 10:40
    assert clashes(booked(at(10, 10), 31), [existing])
    assert not clashes(booked(at(10, 10), 30), [existing])


def test_touching_intervals_do_not_clash() -> None:
    assert not clashes(booked(at(10), 60), [booked(at(9), 60)])
    assert not clashes(booked(at(9), 60), [booked(at(10), 60)])


def test_overlap_clashes_and_containment_clashes() -> None:
    assert clashes(booked(at(9, 30), 60), [booked(at(9), 60)])
    assert clashes(booked(at(9, 15), 15), [booked(at(9), 60)])
    assert clashes(booked(at(8), 240), [booked(at(9), 60)])
    assert clashes(booked(at(9), 60), [booked(at(9), 60)])


def test_any_one_clash_among_many_counts() -> None:
    others = [booked(at(8), 30), booked(at(12), 30), booked(at(10, 45), 30)]
    assert clashes(booked(at(10), 60), others)
    assert not clashes(booked(at(10), 45), others)
    assert not clashes(booked(at(10), 60), [])


bookings = st.builds(
    lambda start, length, before, after: booked(at(0) + timedelta(minutes=start), length,
                                                before, after),
    st.integers(0, 24 * 60), st.integers(1, 300), st.integers(0, 120), st.integers(0, 120),
)


@given(bookings, bookings)
def test_clashing_is_symmetric(a: Booked, b: Booked) -> None:
    assert clashes(a, [b]) == clashes(b, [a])


@given(bookings, bookings)
def test_clashing_is_overlap_of_the_buffered_times(a: Booked, b: Booked) -> None:
    overlap = (max(a.blocked.start, b.blocked.start) < min(a.blocked.end, b.blocked.end))
    assert clashes(a, [b]) == overlap


@given(bookings, st.lists(bookings, max_size=5))
def test_clashing_with_a_list_is_clashing_with_any_member(a: Booked, others: list[Booked]) -> None:
    assert clashes(a, others) == any(clashes(a, [b]) for b in others)


# --- ledger_days ----------------------------------------------------------------------------


LJUBLJANA = ZoneInfo("Europe/Ljubljana")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("start, zone, days", [
    # An ordinary afternoon.
    ("2026-12-01T14:00:00", "Europe/Ljubljana", ["2026-11-30", "2026-12-01", "2026-12-02"]),
    # 00:30 CET on the 2nd is still the 1st in UTC: the owner's day decides.
    ("2026-12-01T23:30:00", "Europe/Ljubljana", ["2026-12-01", "2026-12-02", "2026-12-03"]),
    # 23:59 CET on the 1st.
    ("2026-12-01T22:59:00", "Europe/Ljubljana", ["2026-11-30", "2026-12-01", "2026-12-02"]),
    # 23:30 EST on Nov 1, after New York fell back that morning; UTC already reads Nov 2.
    ("2026-11-02T04:30:00", "America/New_York", ["2026-10-31", "2026-11-01", "2026-11-02"]),
    # 00:30 on the spring-forward day in Ljubljana (the day has 23 hours).
    ("2026-03-28T23:30:00", "Europe/Ljubljana", ["2026-03-28", "2026-03-29", "2026-03-30"]),
    # 23:30 CEST on the spring-forward day itself.
    ("2026-03-29T21:30:00", "Europe/Ljubljana", ["2026-03-28", "2026-03-29", "2026-03-30"]),
    # Inside the repeated hour of the fall-back day (02:30 CET, second time round).
    ("2026-10-25T01:30:00", "Europe/Ljubljana", ["2026-10-24", "2026-10-25", "2026-10-26"]),
    # Far east of UTC: 00:30 NZST on July 1 while UTC still reads June 30.
    ("2026-06-30T12:30:00", "Pacific/Auckland", ["2026-06-30", "2026-07-01", "2026-07-02"]),
    # St John's fell back across midnight on 2010-11-07: 23:30 NST "on the 6th" came after
    # the 7th had begun, and belongs to the 7th.
    ("2010-11-07T03:00:00", "America/St_Johns", ["2010-11-06", "2010-11-07", "2010-11-08"]),
    # 23:59 NDT on the 6th, before the clock went back.
    ("2010-11-07T02:29:00", "America/St_Johns", ["2010-11-05", "2010-11-06", "2010-11-07"]),
    # A month boundary and a year boundary.
    ("2026-12-31T23:30:00", "Europe/Ljubljana", ["2026-12-31", "2027-01-01", "2027-01-02"]),
])
def test_ledger_days_are_the_owner_day_and_both_neighbours(start: str, zone: str,
                                                           days: list[str]) -> None:
    assert ledger_days(utc(start), ZoneInfo(zone)) == days


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                    timezones=st.just(UTC)),
       st.sampled_from(["Europe/Ljubljana", "America/New_York", "America/St_Johns",
                        "Pacific/Auckland", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC"]))
def test_ledger_days_are_three_consecutive_days_around_the_owner_day(start: datetime,
                                                                     zone: str) -> None:
    days = [date.fromisoformat(d) for d in ledger_days(start, ZoneInfo(zone))]
    middle = owner_day(start, ZoneInfo(zone))
    assert days == [middle - timedelta(days=1), middle, middle + timedelta(days=1)]


def test_ledger_days_do_not_depend_on_the_offset_the_start_is_written_in() -> None:
    instant = utc("2026-12-01T23:30:00")
    shifted = instant.astimezone(timezone(timedelta(hours=-7)))
    assert ledger_days(shifted, LJUBLJANA) == ledger_days(instant, LJUBLJANA)


def test_ledger_days_refuse_a_naive_start() -> None:
    with pytest.raises(ValueError, match="aware"):
        ledger_days(datetime(2026, 12, 1, 9), LJUBLJANA)
