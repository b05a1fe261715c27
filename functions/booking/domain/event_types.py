"""An owner's event type: what a guest books (title, location, reminders) and its rules.

    >>> et = parse_event_type({"slug": "intro", "title": "Intro call", "rules": {...}}, "UTC")

Validation names every bad field, as the owner API answers it; the rules' fields are reported
under `rules.` (e.g. `rules.weekly_hours.mon[1]`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from booking.domain import holds, ids
from booking.domain.booking_rules import has_control
from booking.domain.problems import Problem
from booking.domain.rules import (
    WEEKDAYS,
    AvailabilityRules,
    RuleError,
    parse_rules,
    rules_to_dict,
)
from booking.domain.seats import MAX_SEATS

LOCATIONS = ("google_meet", "phone", "in_person", "custom")
REMINDER_METHODS = ("email", "popup")
MAX_REMINDERS = 5  # Google's limit on reminder overrides
MAX_REMINDER_MINUTES = 40320  # four weeks, Google's limit
# Titles and questions are one line (they reach mail subjects, the .ics and the Google event);
# descriptions may have line breaks, nothing else below a space.
CONTROL = Problem("text.control.one_line",
                  "must not contain control characters (line breaks only in the description)")
DEFAULT_REMINDERS = ({"method": "email", "minutes": 1440}, {"method": "popup", "minutes": 60})


def _text_of_at_most(n: int) -> Problem:
    return Problem("text.too_long", "must be text of at most %(n)s characters", n=n)


class EventTypeError(ValueError):
    def __init__(self, fields: dict[str, Problem]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class EventType:
    slug: str
    title: str
    rules: AvailabilityRules
    description: str = ""
    location: str = "google_meet"
    location_details: str = ""
    reminders: tuple[dict[str, Any], ...] = DEFAULT_REMINDERS
    questions: tuple[str, ...] = field(default_factory=tuple)
    active: bool = True
    # The zone its hours are written in when not the owner's (a shop abroad); None follows
    # the owner's zone, read when evaluated, so moving house moves every such schedule.
    time_zone: str | None = None
    # A request only holds the slot for `hold_minutes` until the guest confirms by the link
    # emailed to them (booking.domain.holds).
    confirm_by_email: bool = False
    hold_minutes: int = holds.DEFAULT_HOLD_MINUTES
    # Guests per slot: 1 is a one-to-one meeting; more makes group slots (domain.seats).
    seats: int = 1

    def to_dict(self) -> dict[str, Any]:
        rules = rules_to_dict(self.rules)
        rules["time_zone"] = self.time_zone
        rules.pop("week_start", None)  # from the owner's locale, read when evaluated
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "location": self.location,
            "location_details": self.location_details,
            "reminders": [dict(r) for r in self.reminders],
            "questions": list(self.questions),
            "active": self.active,
            "confirm_by_email": self.confirm_by_email,
            "hold_minutes": self.hold_minutes,
            "seats": self.seats,
            "rules": rules,
        }


_KNOWN = {"slug", "title", "description", "location", "location_details", "reminders",
          "questions", "active", "rules", "confirm_by_email", "hold_minutes", "seats"}


def parse_event_type(data: Mapping[str, Any], owner_time_zone: str,
                     owner_week_start: int = 0) -> EventType:
    """An EventType from its JSON form; EventTypeError names each bad field. The owner's zone
    and week start (0 = Monday, from the owner's locale) complete its rules."""
    problems: dict[str, Problem] = {}
    for key in sorted(set(data) - _KNOWN):
        problems[str(key)] = Problem("event_type.unknown_field", "is not an event type field")
    slug = data.get("slug")
    if not ids.valid("event_type", slug):
        problems["slug"] = Problem("event_type.slug",
                                   "use 1-63 lowercase letters, digits or dashes")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        problems["title"] = Problem("event_type.title", "is required (at most %(n)s characters)",
                                    n=200)
    elif has_control(title):
        problems["title"] = CONTROL
    description = data.get("description", "")
    if not isinstance(description, str) or len(description) > 5000:
        problems["description"] = _text_of_at_most(5000)
    elif has_control(description, multiline=True):
        problems["description"] = CONTROL
    location = data.get("location", "google_meet")
    if location not in LOCATIONS:
        problems["location"] = Problem("event_type.location", "must be one of %(choices)s",
                                       choices=", ".join(LOCATIONS))
    details = data.get("location_details", "")
    if not isinstance(details, str) or len(details) > 500:
        problems["location_details"] = _text_of_at_most(500)
    elif has_control(details):
        problems["location_details"] = CONTROL
    reminders = _reminders(data.get("reminders", list(DEFAULT_REMINDERS)), problems)
    questions = data.get("questions", [])
    if not isinstance(questions, list) or len(questions) > 10 or not all(
            isinstance(q, str) and q.strip() and len(q) <= 300 for q in questions):
        problems["questions"] = Problem(
            "event_type.questions",
            "must be a list of at most %(n)s questions of up to %(chars)s characters",
            n=10, chars=300)
        questions = []
    for i, question in enumerate(questions):
        if has_control(question):
            problems[f"questions[{i}]"] = CONTROL
    active = data.get("active", True)
    if not isinstance(active, bool):
        problems["active"] = Problem("event_type.active", "must be true or false")
    confirm = data.get("confirm_by_email", False)
    if not isinstance(confirm, bool):
        problems["confirm_by_email"] = Problem("event_type.confirm_by_email",
                                               "must be true or false")
    hold = holds.parse_hold_minutes(data.get("hold_minutes", holds.DEFAULT_HOLD_MINUTES))
    if hold is None:
        low, high = holds.HOLD_MINUTES_BOUNDS
        problems["hold_minutes"] = Problem("event_type.hold_minutes",
                                           "must be a whole number from %(low)s to %(high)s",
                                           low=low, high=high)
    seats = data.get("seats", 1)
    if not isinstance(seats, int) or isinstance(seats, bool) or not 1 <= seats <= MAX_SEATS:
        problems["seats"] = Problem("event_type.seats", "must be 1 to %(high)s", high=MAX_SEATS)
        seats = 1
    raw_rules = data.get("rules")
    rules: AvailabilityRules | None = None
    own_zone: object = None
    if not isinstance(raw_rules, Mapping):
        problems["rules"] = Problem(
            "event_type.rules.required",
            "is required: weekly_hours, duration_minutes and the other rules")
    elif "week_start" in raw_rules:
        problems["rules.week_start"] = Problem(
            "event_type.rules.week_start", "follows the owner's locale: set it with %(how)s",
            how="PATCH /owner/api/settings {\"locale\": \"en-US\"}")
    else:
        try:
            own_zone = raw_rules.get("time_zone")
            rules = parse_rules({**raw_rules,
                                 "time_zone": owner_time_zone if own_zone is None else own_zone,
                                 "week_start": WEEKDAYS[owner_week_start]})
        except RuleError as exc:
            problems[f"rules.{exc.field}"] = exc.message
    if problems or rules is None:
        raise EventTypeError(problems)
    return EventType(
        slug=str(slug), title=str(title).strip(), rules=rules, description=str(description),
        location=str(location), location_details=str(details), reminders=reminders,
        questions=tuple(q.strip() for q in questions), active=bool(active),
        time_zone=None if own_zone is None else rules.time_zone,
        confirm_by_email=bool(confirm), hold_minutes=hold or holds.DEFAULT_HOLD_MINUTES,
        seats=int(seats),
    )


def _reminders(value: Any, problems: dict[str, Problem]) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or len(value) > MAX_REMINDERS:
        problems["reminders"] = Problem("event_type.reminders",
                                        "must be a list of at most %(n)s reminders",
                                        n=MAX_REMINDERS)
        return ()
    found: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        method = item.get("method") if isinstance(item, Mapping) else None
        minutes = item.get("minutes") if isinstance(item, Mapping) else None
        bad_method = method not in REMINDER_METHODS
        bad_minutes = (not isinstance(minutes, int) or isinstance(minutes, bool)
                       or not 0 <= minutes <= MAX_REMINDER_MINUTES)
        if bad_method:
            problems[f"reminders[{i}].method"] = Problem("event_type.reminder.method",
                                                         "must be email or popup")
        if bad_minutes:
            problems[f"reminders[{i}].minutes"] = Problem(
                "event_type.reminder.minutes", "must be %(low)s to %(high)s", low=0,
                high=MAX_REMINDER_MINUTES)
        if bad_method or bad_minutes:
            continue
        found.append({"method": method, "minutes": minutes})
    return tuple(found)
