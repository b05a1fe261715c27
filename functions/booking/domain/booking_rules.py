"""Rules of a booking that hold whatever stores it: guest input, ids, and the claim check.

The claim check is the last word on double booking: it runs inside the Firestore transaction
over the ledger of the days a booking can touch, so two requests that both saw a slot free can
never both take it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.domain import ids
from booking.domain.availability import Booked, bookable_dates, owner_day, slot_is_offered
from booking.domain.locales import DEFAULT_LOCALE, LOCALES
from booking.domain.problems import Problem
from booking.domain.rules import AvailabilityRules

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+")
MAX_NAME = 120
MAX_NOTES = 2000
MAX_ANSWER = 1000
MAX_KEY = 200
MAX_QUESTIONS = 10  # as many as an event type may ask
# Angle brackets have no place in a person's name and are how markup gets in; quotes and
# semicolons would break mail headers (SendGrid refuses "," and ";" in names).
_NAME_FORBIDDEN = set('<>"\\;,')
INSTANT_EXAMPLE = "2026-12-01T09:00:00+01:00"
REQUIRED = Problem("text.required", "is required")
CONTROL = Problem("text.control", "must not contain control characters")


def at_most_characters(n: int) -> Problem:
    return Problem("text.at_most", "must be at most %(n)s characters", n=n)


def asks_questions(n: int) -> Problem:
    # "question(s)": one English form for any count keeps the catalogs free of plurals here.
    return Problem("guest.answers.too_many", "this event type asks %(n)s question(s)", n=n)


class InstantError(ValueError):
    """Why a text is not an instant we take; `problem` says it (a ValueError for callers that
    only need to know it failed)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class GuestRequest:
    owner_id: str
    event_type: str
    start: datetime
    name: str
    email: str
    time_zone: str
    notes: str
    answers: tuple[str, ...]
    idempotency_key: str | None
    locale: str = DEFAULT_LOCALE  # the language the guest booked in: their emails and links


def has_control(text: str, *, multiline: bool = False) -> bool:
    """Whether `text` holds control characters (NUL, ESC, ...); `multiline` allows line breaks
    and tabs, as notes and descriptions have them."""
    if multiline:
        text = text.replace("\n", "").replace("\r", "").replace("\t", "")
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def parse_guest_request(fields: Mapping[str, Any], *, questions: int | None = None,
                        header_key: str | None = None) -> GuestRequest:
    """Validates what a booking form sent; ValueError-free: returns or raises GuestInputError
    naming every bad field at once."""
    problems: dict[str, Problem] = {}

    def text(name: str, limit: int, required: bool = True, multiline: bool = False) -> str:
        raw = fields.get(name, "")
        if not isinstance(raw, str):
            problems[name] = Problem("text.type", "must be text")
            return ""
        value = raw.strip()
        if required and not value:
            problems[name] = REQUIRED
        elif len(value) > limit:
            problems[name] = at_most_characters(limit)
        elif has_control(value, multiline=multiline):
            problems[name] = CONTROL
        return value

    owner_id = text("owner", 64)
    if owner_id and "owner" not in problems and not ids.valid("owner", owner_id):
        problems["owner"] = ids.problem("owner")
    event_type = text("event_type", 64)
    if event_type and "event_type" not in problems and not ids.valid("event_type", event_type):
        problems["event_type"] = ids.problem("event_type")
    name = text("name", MAX_NAME)
    if name and "name" not in problems and (_NAME_FORBIDDEN & set(name)):
        problems["name"] = Problem("guest.name.forbidden", "must not contain %(chars)s",
                                   chars='< > " \\ ; or ,')
    email = text("email", 254)
    if email and "email" not in problems and not EMAIL.fullmatch(email):
        problems["email"] = Problem("guest.email", "is not an email address")
    zone = text("time_zone", 64)
    if zone and "time_zone" not in problems:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            problems["time_zone"] = Problem("guest.time_zone",
                                             "must be an IANA time zone such as %(example)s",
                                             example="America/New_York")
    notes = text("notes", MAX_NOTES, required=False, multiline=True)
    start = _instant(fields.get("start"), problems)
    answers = _answers(fields, problems)
    if questions is not None and len(answers) > questions:
        problems["answers"] = asks_questions(questions)
    # The honeypot: forms hide `website` from people, so only a script fills it in.
    if fields.get("website"):
        problems["website"] = Problem("guest.honeypot", "must be left empty")
    key = fields.get("idempotency_key") or header_key
    if key is not None and (not isinstance(key, str) or not 8 <= len(key) <= MAX_KEY
                            or has_control(key)):
        problems["idempotency_key"] = Problem("guest.idempotency_key",
                                               "must be %(low)s to %(high)s printable characters",
                                               low=8, high=MAX_KEY)
    locale = fields.get("locale") or DEFAULT_LOCALE
    if locale not in LOCALES:
        problems["locale"] = Problem("guest.locale", "must be one of %(choices)s",
                                     choices=", ".join(LOCALES))
    if problems:
        raise GuestInputError(problems)
    assert start is not None
    return GuestRequest(owner_id, event_type, start, name, email, zone, notes, answers,
                        key if isinstance(key, str) else None, str(locale))


class GuestInputError(ValueError):
    def __init__(self, fields: dict[str, Problem]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _instant(value: Any, problems: dict[str, Problem]) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        problems["start"] = Problem("guest.start.required",
                                    "is required: an ISO 8601 instant such as %(example)s",
                                    example=INSTANT_EXAMPLE)
        return None
    try:
        return parse_instant(value)
    except InstantError as exc:
        problems["start"] = exc.problem
        return None


# Far enough for any booking window, near enough that no arithmetic on it leaves the calendar
# (year 1 or 9999 with an offset or a buffer overflows datetime).
MIN_YEAR, MAX_YEAR = 2000, 2199
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?"
                      r"(Z|[+-]\d{2}:\d{2})?", re.ASCII)


def parse_instant(value: str) -> datetime:
    """An aware UTC instant from ISO 8601 text; InstantError says what is wrong. Only the one
    form we document is taken: no trailing NUL or other characters fromisoformat would skip."""
    text = value.strip()
    not_iso = Problem("instant.format", "must be an ISO 8601 instant such as %(example)s",
                      example=INSTANT_EXAMPLE)
    if not _INSTANT.fullmatch(text):
        raise InstantError(not_iso)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InstantError(not_iso) from None
    if moment.tzinfo is None:
        raise InstantError(Problem("instant.offset", "must carry an offset (Z or +01:00): a "
                                                     "time alone is ambiguous"))
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise InstantError(Problem("instant.years", "must be between the years %(low)s and "
                                                    "%(high)s", low=MIN_YEAR, high=MAX_YEAR))
    return moment.astimezone(UTC)


def _answers(fields: Mapping[str, Any], problems: dict[str, Problem]) -> tuple[str, ...]:
    raw = fields.get("answers")
    if raw is None:
        # Plain HTML forms send answer_0, answer_1, ...; a question left out keeps its place
        # (an empty answer), so every answer stays beside its own question.
        given = [i for i in range(MAX_QUESTIONS) if f"answer_{i}" in fields]
        raw = [fields.get(f"answer_{i}", "") for i in range(max(given) + 1)] if given else []
        if any(k.startswith("answer_") and k[7:].isdigit() and int(k[7:]) >= MAX_QUESTIONS
               for k in fields):
            problems["answers"] = Problem("guest.answers.count", "at most %(n)s answers",
                                          n=MAX_QUESTIONS)
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        problems["answers"] = Problem("guest.answers.type", "must be a list of texts")
        return ()
    for i, answer in enumerate(raw):
        if len(answer) > MAX_ANSWER:
            problems[f"answers[{i}]"] = at_most_characters(MAX_ANSWER)
        elif has_control(answer, multiline=True):
            problems[f"answers[{i}]"] = CONTROL
    return tuple(a.strip() for a in raw)


def booking_id_for(owner_id: str, idempotency_key: str) -> str:
    """The same key of the same owner always names the same booking (32 lowercase hex)."""
    return hashlib.sha256(f"{owner_id}\x1f{idempotency_key}".encode()).hexdigest()[:32]


def request_fingerprint(event_type: str, start: datetime, guest_email: str) -> str:
    """What an idempotency key promises to repeat: the same event type, start and guest. A key
    reused with another request must not be answered with the first guest's booking."""
    utc = start.astimezone(UTC).isoformat()
    return hashlib.sha256(f"{event_type}\x1f{utc}\x1f{guest_email.lower()}".encode()).hexdigest()


def event_id_for(booking_id: str) -> str:
    """Google event ids take base32hex (0-9, a-v); hex is a subset, so the booking id works
    as is, and a retried insert meets Google's 409 instead of making a second event."""
    return f"bk{booking_id}"


def clashes(new: Booked, existing: Sequence[Booked]) -> bool:
    """Whether `new` with its buffers touches any existing booking with its own buffers."""
    lo, hi = new.blocked.start, new.blocked.end
    return any(b.blocked.start < hi and lo < b.blocked.end for b in existing)


def ledger_days(start: datetime, zone: ZoneInfo) -> list[str]:
    """The owner-local days whose ledger a booking starting at `start` must be checked
    against: its own and both neighbours (buffers and long meetings cross midnight)."""
    day = owner_day(start, zone)
    return [(day + timedelta(days=d)).isoformat() for d in (-1, 0, 1)]


_WINDOW_UNITS = {"calendar_days": Problem("unit.calendar_days", "calendar days"),
                 "business_days": Problem("unit.business_days", "business days")}


@dataclass(frozen=True)
class Refusal:
    """Why a start cannot be booked: `taken` (409) or a bad choice of time (400, `message`)."""

    taken: bool
    message: Problem


TAKEN = Problem("booking.taken", "That time is no longer available. Please pick another slot.")


def refusal(rules: AvailabilityRules, start: datetime, *, booked: Sequence[Booked],
            now: datetime, owner_daily_cap: int | None = None) -> Refusal | None:
    """The cheap checks, before any Google call: the rules and our own bookings. None means
    only the owner's live calendars can still say no.

    Each message says which rule the time breaks, so a guest (or a script) learns what to fix
    rather than "no longer available" for a time that never was.
    """
    zone = rules.zone
    if start <= now:
        return Refusal(False, Problem("start.past", "is in the past: a meeting must start after "
                                                   "now"))
    if start < now + rules.minimum_notice:
        return Refusal(False, Problem("start.notice", "is too soon: this needs %(n)s minutes' "
                                                      "notice", n=rules.minimum_notice_minutes))
    day = owner_day(start, zone)
    opens, closes = bookable_dates(rules, now)
    if rules.bookable_from is not None and day < rules.bookable_from:
        return Refusal(False, Problem("start.before_first_day", "is before %(day)s, the first "
                                      "day this can be booked", day=str(rules.bookable_from)))
    if rules.bookable_until is not None and day > rules.bookable_until:
        return Refusal(False, Problem("start.after_last_day", "is after %(day)s, the last day "
                                      "this can be booked", day=str(rules.bookable_until)))
    if day > closes:
        unit = _WINDOW_UNITS[rules.booking_window_unit]
        return Refusal(False, Problem("start.window", "is outside the booking window: at most "
                                      "%(n)s %(unit)s ahead", n=rules.booking_window_days,
                                      unit=unit))
    if not slot_is_offered(rules, start, busy=(), booked=(), now=now):
        return Refusal(False, Problem("start.off_grid", "is not one of the offered times: off "
                                      "the slot grid or outside the working hours"))
    if not slot_is_offered(rules, start, busy=(), booked=booked, now=now,
                           owner_daily_cap=owner_daily_cap):
        return Refusal(True, TAKEN)
    return None
