"""Event types: each bad field is named, unknown fields are refused, the stored form round-trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.domain.event_types import (
    DEFAULT_REMINDERS,
    MAX_REMINDER_MINUTES,
    EventType,
    EventTypeError,
    parse_event_type,
)
from booking.domain.rules import parse_rules

ZONE = "Europe/Ljubljana"
DROP = object()


def rules_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "weekly_hours": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]],
                         "fri": [["09:00", "13:00"]]},
        "overrides": {"2026-12-24": []},
        "duration_minutes": 30,
        "buffer_after_minutes": 10,
    }
    data.update(changes)
    return data


def data(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "slug": "intro",
        "title": "Intro call",
        "description": "Thirty minutes to get to know each other.",
        "location": "google_meet",
        "location_details": "",
        "reminders": [{"method": "email", "minutes": 1440}, {"method": "popup", "minutes": 10}],
        "questions": ["What would you like to talk about?"],
        "active": True,
        "rules": rules_data(),
    }
    found.update(changes)
    return {key: value for key, value in found.items() if value is not DROP}


def problems(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(EventTypeError) as caught:
        parse_event_type(raw, ZONE)
    return caught.value.fields


def test_a_full_event_type_is_parsed() -> None:
    et = parse_event_type(data(title="  Intro call  ", questions=["  Topic?  "]), ZONE)
    assert et.slug == "intro"
    assert et.title == "Intro call"
    assert et.description == "Thirty minutes to get to know each other."
    assert et.location == "google_meet"
    assert et.reminders == ({"method": "email", "minutes": 1440},
                            {"method": "popup", "minutes": 10})
    assert et.questions == ("Topic?",)
    assert et.active is True
    assert et.rules == parse_rules({**rules_data(), "time_zone": ZONE})


def test_the_rules_take_the_owners_zone_unless_the_event_type_has_its_own() -> None:
    et = parse_event_type(data(rules=rules_data(time_zone="America/New_York")), ZONE)
    assert et.rules.time_zone == "America/New_York" == et.time_zone
    assert et.to_dict()["rules"]["time_zone"] == "America/New_York"
    follows = parse_event_type(data(rules=rules_data(time_zone=None)), "Asia/Tokyo")
    assert follows.rules.time_zone == "Asia/Tokyo" and follows.time_zone is None
    assert follows.to_dict()["rules"]["time_zone"] is None
    assert parse_event_type(follows.to_dict(), "Europe/Paris").rules.time_zone == "Europe/Paris"
    with pytest.raises(EventTypeError) as error:
        parse_event_type(data(rules=rules_data(time_zone="Mars/Base")), ZONE)
    assert "rules.time_zone" in error.value.fields


def test_the_rules_take_the_owners_week_start_and_never_store_it() -> None:
    et = parse_event_type(data(rules=rules_data(max_bookings_per_week=3)), ZONE, 6)
    assert et.rules.week_start == 6 and et.rules.max_bookings_per_week == 3
    assert "week_start" not in et.to_dict()["rules"]
    with pytest.raises(EventTypeError) as error:
        parse_event_type(data(rules=rules_data(week_start="sun")), ZONE)
    assert "locale" in error.value.fields["rules.week_start"]


def test_only_slug_title_and_rules_are_required() -> None:
    et = parse_event_type({"slug": "x", "title": "X", "rules": rules_data()}, ZONE)
    assert et == EventType(slug="x", title="X", rules=et.rules)
    assert et.description == ""
    assert et.location == "google_meet"
    assert et.location_details == ""
    assert et.questions == ()
    assert et.active is True


def test_default_reminders_are_an_email_a_day_and_a_popup_an_hour_before() -> None:
    et = parse_event_type(data(reminders=DROP), ZONE)
    assert et.reminders == ({"method": "email", "minutes": 1440},
                            {"method": "popup", "minutes": 60})
    assert et.reminders == DEFAULT_REMINDERS


def test_no_reminders_is_allowed() -> None:
    assert parse_event_type(data(reminders=[]), ZONE).reminders == ()


def test_reminders_keep_only_method_and_minutes() -> None:
    et = parse_event_type(data(reminders=[{"method": "popup", "minutes": 0, "note": "x"}]),
                          ZONE)
    assert et.reminders == ({"method": "popup", "minutes": 0},)


@pytest.mark.parametrize("location", ["google_meet", "phone", "in_person", "custom"])
def test_every_location_kind_is_accepted(location: str) -> None:
    assert parse_event_type(data(location=location), ZONE).location == location


# --- each field named -------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["", "Intro", "-intro", "intro call", "intro_call", "a" * 64,
                                  "intro/x", "ïntro", 7, None])
def test_bad_slugs_are_named(slug: Any) -> None:
    assert set(problems(data(slug=slug))) == {"slug"}


@pytest.mark.parametrize("slug", ["a", "9", "intro-call-2", "a" * 63, "0-0"])
def test_good_slugs_pass(slug: str) -> None:
    assert parse_event_type(data(slug=slug), ZONE).slug == slug


def test_a_missing_slug_is_named() -> None:
    assert set(problems(data(slug=DROP))) == {"slug"}


@pytest.mark.parametrize("title", ["", "   ", "t" * 201, 42, None])
def test_bad_titles_are_named(title: Any) -> None:
    assert set(problems(data(title=title))) == {"title"}


def test_a_missing_title_is_named() -> None:
    assert set(problems(data(title=DROP))) == {"title"}


def test_the_longest_title_passes() -> None:
    assert parse_event_type(data(title="t" * 200), ZONE).title == "t" * 200


@pytest.mark.parametrize("description", ["d" * 5001, 3, ["text"]])
def test_bad_descriptions_are_named(description: Any) -> None:
    assert set(problems(data(description=description))) == {"description"}


@pytest.mark.parametrize("location", ["zoom", "", None, "Google_Meet"])
def test_bad_locations_are_named(location: Any) -> None:
    found = problems(data(location=location))
    assert set(found) == {"location"}
    assert "google_meet, phone, in_person, custom" in found["location"]


@pytest.mark.parametrize("details", ["x" * 501, 12])
def test_bad_location_details_are_named(details: Any) -> None:
    assert set(problems(data(location_details=details))) == {"location_details"}


@pytest.mark.parametrize("reminders", ["email", {"method": "email", "minutes": 10},
                                       [{"method": "email", "minutes": 10}] * 6])
def test_reminders_must_be_a_short_list(reminders: Any) -> None:
    assert set(problems(data(reminders=reminders))) == {"reminders"}


@pytest.mark.parametrize("method", ["sms", "", None, "EMAIL"])
def test_a_bad_reminder_method_is_named_by_index(method: Any) -> None:
    found = problems(data(reminders=[{"method": "email", "minutes": 10},
                                     {"method": method, "minutes": 10}]))
    assert found == {"reminders[1].method": "must be email or popup"}


def test_a_reminder_that_is_not_an_object_is_named_by_index() -> None:
    found = problems(data(reminders=["email 10"]))
    assert set(found) == {"reminders[0].method", "reminders[0].minutes"}


@pytest.mark.parametrize("minutes", [-1, 40321, "10", 10.0, True, None])
def test_bad_reminder_minutes_are_named_by_index(minutes: Any) -> None:
    found = problems(data(reminders=[{"method": "popup", "minutes": minutes}]))
    assert found == {"reminders[0].minutes": "must be 0 to 40320"}


def test_reminder_minutes_bounds_pass() -> None:
    # Four weeks is Google's longest alert.
    assert MAX_REMINDER_MINUTES == 4 * 7 * 24 * 60
    et = parse_event_type(data(reminders=[{"method": "email", "minutes": 0},
                                          {"method": "popup", "minutes": 40320}]), ZONE)
    assert [r["minutes"] for r in et.reminders] == [0, 40320]


@pytest.mark.parametrize("questions", ["What?", ["ok", ""], ["ok", "   "], ["q"] * 11,
                                       ["q" * 301], [1], None])
def test_bad_questions_are_named(questions: Any) -> None:
    assert set(problems(data(questions=questions))) == {"questions"}


def test_ten_questions_of_300_characters_pass() -> None:
    et = parse_event_type(data(questions=["q" * 300] * 10), ZONE)
    assert et.questions == ("q" * 300,) * 10


@pytest.mark.parametrize("active", ["true", 1, 0, None])
def test_active_must_be_a_boolean(active: Any) -> None:
    assert problems(data(active=active)) == {"active": "must be true or false"}


def test_an_event_type_may_be_inactive() -> None:
    assert parse_event_type(data(active=False), ZONE).active is False


@pytest.mark.parametrize("rules", [DROP, None, "weekdays 9-5", [["09:00", "17:00"]]])
def test_rules_are_required_as_an_object(rules: Any) -> None:
    assert set(problems(data(rules=rules))) == {"rules"}


@pytest.mark.parametrize("changes, field", [
    ({"duration_minutes": 4}, "rules.duration_minutes"),
    ({"duration_minutes": DROP}, "rules.duration_minutes"),
    ({"buffer_after_minutes": -5}, "rules.buffer_after_minutes"),
    ({"buffer_before_minutes": "5"}, "rules.buffer_before_minutes"),
    ({"slot_interval_minutes": 1}, "rules.slot_interval_minutes"),
    ({"minimum_notice_minutes": -1}, "rules.minimum_notice_minutes"),
    ({"booking_window_days": 0}, "rules.booking_window_days"),
    ({"max_bookings_per_day": 0}, "rules.max_bookings_per_day"),
    ({"weekly_hours": DROP}, "rules.weekly_hours"),
    ({"weekly_hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
     "rules.weekly_hours.mon[1]"),
    ({"weekly_hours": {"funday": []}}, "rules.weekly_hours.funday"),
    ({"overrides": {"2026-02-30": []}}, "rules.overrides.2026-02-30"),
    ({"bufer_after_minutes": 10}, "rules.bufer_after_minutes"),
])
def test_rule_errors_are_named_under_rules(changes: dict[str, Any], field: str) -> None:
    raw = rules_data(**changes)
    raw = {k: v for k, v in raw.items() if v is not DROP}
    assert set(problems(data(rules=raw))) == {field}


def test_unknown_fields_are_refused_by_name() -> None:
    found = problems(data(colour="blue", Slug="x"))
    assert found == {"Slug": "is not an event type field", "colour": "is not an event type field"}


def test_every_bad_field_is_named_at_once() -> None:
    found = problems({
        "slug": "Bad Slug", "title": "", "description": 1, "location": "zoom",
        "location_details": 2, "reminders": [{"method": "sms", "minutes": 5},
                                             {"method": "email", "minutes": -5}],
        "questions": "?", "active": "yes", "rules": rules_data(duration_minutes=1), "extra": 1,
    })
    assert set(found) == {"slug", "title", "description", "location", "location_details",
                          "reminders[0].method", "reminders[1].minutes", "questions", "active",
                          "rules.duration_minutes", "extra"}
    message = str(EventTypeError(found))
    assert "reminders[1].minutes: must be 0 to" in message


# --- the stored form ------------------------------------------------------------------------


def test_to_dict_is_the_stored_form_following_the_owners_zone() -> None:
    stored = parse_event_type(data(), ZONE).to_dict()
    assert set(stored) == {"slug", "title", "description", "location", "location_details",
                           "reminders", "questions", "active", "rules", "confirm_by_email",
                           "hold_minutes", "seats"}
    assert stored["rules"]["time_zone"] is None  # null: the owner's zone, read when evaluated
    assert stored["reminders"] == [{"method": "email", "minutes": 1440},
                                   {"method": "popup", "minutes": 10}]
    assert stored["questions"] == ["What would you like to talk about?"]
    assert stored["rules"]["weekly_hours"]["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]


def test_to_dict_round_trips() -> None:
    et = parse_event_type(data(), ZONE)
    assert parse_event_type(et.to_dict(), ZONE) == et


def test_to_dict_round_trips_with_defaults() -> None:
    et = parse_event_type({"slug": "x", "title": "X", "rules": rules_data()}, ZONE)
    again = parse_event_type(et.to_dict(), ZONE)
    assert again == et
    assert again.reminders == DEFAULT_REMINDERS


def test_to_dict_does_not_share_reminders_with_the_event_type() -> None:
    et = parse_event_type(data(), ZONE)
    stored = et.to_dict()
    stored["reminders"][0]["minutes"] = 5
    stored["questions"].append("another")
    assert et.reminders[0]["minutes"] == 1440
    assert len(et.questions) == 1


reminder = st.fixed_dictionaries({"method": st.sampled_from(["email", "popup"]),
                                  "minutes": st.integers(0, MAX_REMINDER_MINUTES)})
# Owner text is printable: control characters are refused (issue 14).
printable = st.characters(exclude_categories=("Cc", "Cs"))
question = st.text(printable, min_size=1, max_size=300).filter(lambda q: q.strip() == q and q)


@given(
    slug=st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True),
    title=st.text(printable, min_size=1, max_size=200).filter(lambda t: t.strip() == t and t),
    location=st.sampled_from(["google_meet", "phone", "in_person", "custom"]),
    reminders=st.lists(reminder, max_size=5),
    questions=st.lists(question, max_size=10),
    active=st.booleans(),
    duration=st.integers(5, 720),
    after=st.integers(0, 240),
    limit=st.one_of(st.none(), st.integers(1, 1000)),
)
def test_any_valid_event_type_round_trips(slug: str, title: str, location: str,
                                          reminders: list[dict[str, Any]], questions: list[str],
                                          active: bool, duration: int, after: int,
                                          limit: int | None) -> None:
    et = parse_event_type({
        "slug": slug, "title": title, "location": location, "reminders": reminders,
        "questions": questions, "active": active,
        "rules": rules_data(duration_minutes=duration, buffer_after_minutes=after,
                            max_bookings_per_day=limit),
    }, ZONE)
    assert parse_event_type(et.to_dict(), ZONE) == et


def test_confirm_by_email_is_off_by_default_and_holds_ten_minutes() -> None:
    et = parse_event_type(data(), ZONE)
    assert (et.confirm_by_email, et.hold_minutes) == (False, 10)
    on = parse_event_type(data(confirm_by_email=True, hold_minutes=5), ZONE)
    assert (on.confirm_by_email, on.hold_minutes) == (True, 5)
    assert parse_event_type(on.to_dict(), ZONE) == on


@pytest.mark.parametrize(("changes", "field"), [
    ({"confirm_by_email": "yes"}, "confirm_by_email"),
    ({"hold_minutes": 1}, "hold_minutes"),
    ({"hold_minutes": 61}, "hold_minutes"),
    ({"hold_minutes": True}, "hold_minutes"),
    ({"hold_minutes": "10"}, "hold_minutes"),
])
def test_bad_confirm_by_email_settings_are_named(changes: dict[str, Any], field: str) -> None:
    assert field in problems(data(**changes))
