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
    problems: dict[str, str] = {}

    def text(name: str, limit: int, required: bool = True, multiline: bool = False) -> str:
        raw = fields.get(name, "")
        if not isinstance(raw, str):
            problems[name] = "must be text"
            return ""
        value = raw.strip()
        if required and not value:
            problems[name] = "is required"
        elif len(value) > limit:
            problems[name] = f"must be at most {limit} characters"
        elif has_control(value, multiline=multiline):
            problems[name] = "must not contain control characters"
        return value

    owner_id = text("owner", 64)
    if owner_id and "owner" not in problems and not ids.valid("owner", owner_id):
        problems["owner"] = ids.problem("owner")
    event_type = text("event_type", 64)
    if event_type and "event_type" not in problems and not ids.valid("event_type", event_type):
        problems["event_type"] = ids.problem("event_type")
    name = text("name", MAX_NAME)
    if name and "name" not in problems and (_NAME_FORBIDDEN & set(name)):
        problems["name"] = "must not contain < > \" \\ ; or ,"
    email = text("email", 254)
    if email and "email" not in problems and not EMAIL.fullmatch(email):
        problems["email"] = "is not an email address"
    zone = text("time_zone", 64)
    if zone and "time_zone" not in problems:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            problems["time_zone"] = "must be an IANA time zone such as America/New_York"
    notes = text("notes", MAX_NOTES, required=False, multiline=True)
    start = _instant(fields.get("start"), problems)
    answers = _answers(fields, problems)
    if questions is not None and len(answers) > questions:
        problems["answers"] = f"this event type asks {questions} question(s)"
    # The honeypot: forms hide `website` from people, so only a script fills it in.
    if fields.get("website"):
        problems["website"] = "must be left empty"
    key = fields.get("idempotency_key") or header_key
    if key is not None and (not isinstance(key, str) or not 8 <= len(key) <= MAX_KEY
                            or has_control(key)):
        problems["idempotency_key"] = f"must be 8 to {MAX_KEY} printable characters"
    locale = fields.get("locale") or DEFAULT_LOCALE
    if locale not in LOCALES:
        problems["locale"] = f"must be one of {', '.join(LOCALES)}"
    if problems:
        raise GuestInputError(problems)
    assert start is not None
    return GuestRequest(owner_id, event_type, start, name, email, zone, notes, answers,
                        key if isinstance(key, str) else None, str(locale))


class GuestInputError(ValueError):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _instant(value: Any, problems: dict[str, str]) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        problems["start"] = "is required: an ISO 8601 instant such as 2026-12-01T09:00:00+01:00"
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        problems["start"] = str(exc)
        return None


# Far enough for any booking window, near enough that no arithmetic on it leaves the calendar
# (year 1 or 9999 with an offset or a buffer overflows datetime).
MIN_YEAR, MAX_YEAR = 2000, 2199
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?"
                      r"(Z|[+-]\d{2}:\d{2})?", re.ASCII)


def parse_instant(value: str) -> datetime:
    """An aware UTC instant from ISO 8601 text; ValueError says what is wrong. Only the one
    form we document is taken: no trailing NUL or other characters fromisoformat would skip."""
    text = value.strip()
    if not _INSTANT.fullmatch(text):
        raise ValueError("must be an ISO 8601 instant such as 2026-12-01T09:00:00+01:00")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 instant such as 2026-12-01T09:00:00+01:00") \
            from None
    if moment.tzinfo is None:
        raise ValueError("must carry an offset (Z or +01:00): a time alone is ambiguous")
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return moment.astimezone(UTC)


def _answers(fields: Mapping[str, Any], problems: dict[str, str]) -> tuple[str, ...]:
    raw = fields.get("answers")
    if raw is None:
        # Plain HTML forms send answer_0, answer_1, ...; a question left out keeps its place
        # (an empty answer), so every answer stays beside its own question.
        given = [i for i in range(MAX_QUESTIONS) if f"answer_{i}" in fields]
        raw = [fields.get(f"answer_{i}", "") for i in range(max(given) + 1)] if given else []
        if any(k.startswith("answer_") and k[7:].isdigit() and int(k[7:]) >= MAX_QUESTIONS
               for k in fields):
            problems["answers"] = f"at most {MAX_QUESTIONS} answers"
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        problems["answers"] = "must be a list of texts"
        return ()
    for i, answer in enumerate(raw):
        if len(answer) > MAX_ANSWER:
            problems[f"answers[{i}]"] = f"must be at most {MAX_ANSWER} characters"
        elif has_control(answer, multiline=True):
            problems[f"answers[{i}]"] = "must not contain control characters"
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


@dataclass(frozen=True)
class Refusal:
    """Why a start cannot be booked: `taken` (409) or a bad choice of time (400, `message`)."""

    taken: bool
    message: str


TAKEN = "That time is no longer available. Please pick another slot."


def refusal(rules: AvailabilityRules, start: datetime, *, booked: Sequence[Booked],
            now: datetime, owner_daily_cap: int | None = None) -> Refusal | None:
    """The cheap checks, before any Google call: the rules and our own bookings. None means
    only the owner's live calendars can still say no.

    Each message says which rule the time breaks, so a guest (or a script) learns what to fix
    rather than "no longer available" for a time that never was.
    """
    zone = rules.zone
    if start <= now:
        return Refusal(False, "is in the past: a meeting must start after now")
    if start < now + rules.minimum_notice:
        return Refusal(False, f"is too soon: this needs {rules.minimum_notice_minutes} "
                              "minutes' notice")
    day = owner_day(start, zone)
    opens, closes = bookable_dates(rules, now)
    if rules.bookable_from is not None and day < rules.bookable_from:
        return Refusal(False, f"is before {rules.bookable_from}, the first day this can be "
                              "booked")
    if rules.bookable_until is not None and day > rules.bookable_until:
        return Refusal(False, f"is after {rules.bookable_until}, the last day this can be "
                              "booked")
    if day > closes:
        unit = rules.booking_window_unit.replace("_", " ")
        return Refusal(False, "is outside the booking window: at most "
                              f"{rules.booking_window_days} {unit} ahead")
    if not slot_is_offered(rules, start, busy=(), booked=(), now=now):
        return Refusal(False, "is not one of the offered times: off the slot grid or outside "
                              "the working hours")
    if not slot_is_offered(rules, start, busy=(), booked=booked, now=now,
                           owner_daily_cap=owner_daily_cap):
        return Refusal(True, TAKEN)
    return None
