"""The Calendar half's data: calendars, events, change sequence, access roles, errors, time.

Everything lives in one `CalendarStore` kept at `state.calendar["store"]`, so `GoogleState.reset()`
drops it with the rest and the next request lazily builds a fresh one. Callers hold `state.lock`
while they read or change a store.

Change tracking: every modification of an event takes the next value of the store-wide `seq`.
A sync token names a calendar, the `seq` it was issued at and the calendar's `sync_epoch`;
"expire the sync tokens" bumps the epoch, which is how Google's 410 fullSyncRequired is staged.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import secrets
import string
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tests.standins.google.state import GoogleState

ROLE_RANK = {"none": 0, "freeBusyReader": 1, "reader": 2, "writer": 3, "owner": 4}
ROLES = tuple(r for r in ROLE_RANK if r != "none")


class ApiError(Exception):
    """An error Google would answer with; rendered as its JSON error body."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
        rpc_status: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.rpc_status = rpc_status
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "domain": self.domain,
            "reason": self.reason,
            "message": self.message,
        }
        if self.location:
            item["locationType"] = self.location_type or "parameter"
            item["location"] = self.location
        error: dict[str, Any] = {"code": self.status, "message": self.message, "errors": [item]}
        if self.rpc_status:
            error["status"] = self.rpc_status
        return {"error": error}


def not_found() -> ApiError:
    return ApiError(404, "notFound", "Not Found")


def invalid(message: str, location: str | None = None) -> ApiError:
    return ApiError(400, "invalid", message, location=location)


def required(message: str, location: str | None = None) -> ApiError:
    return ApiError(400, "required", message, location=location)


# ---------------------------------------------------------------- time


def parse_rfc3339(value: Any, location: str) -> datetime:
    """An aware datetime from an RFC 3339 timestamp with offset; anything else is 400."""
    if not isinstance(value, str) or "T" not in value:
        raise invalid(f"Invalid value for: {location}", location)
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise invalid(f"Invalid value for: {location}", location) from None
    if parsed.tzinfo is None:
        raise invalid(f"Invalid value for: {location}", location)
    return parsed


def zone(name: str, location: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"Invalid time zone definition for {location} time.", location) from None


def ms_z(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as in created/updated: 2024-01-02T03:04:05.000Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def in_zone(moment: datetime, tz_name: str) -> str:
    """RFC 3339 with the zone's offset, no fractions; UTC is written with Z."""
    local = moment.astimezone(ZoneInfo(tz_name)).replace(microsecond=0)
    text = local.isoformat()
    if tz_name in ("UTC", "Etc/UTC", "GMT", "Etc/GMT") and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def epoch(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def day_start(day: date, tz_name: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz_name))


# ---------------------------------------------------------------- ids and tokens

BASE32HEX = "0123456789abcdefghijklmnopqrstuv"
EVENT_ID = re.compile(r"[0-9a-v]{5,1024}")


def new_event_id() -> str:
    return "".join(secrets.choice(BASE32HEX) for _ in range(26))


def new_meet_code() -> str:
    letters = string.ascii_lowercase
    return "-".join("".join(secrets.choice(letters) for _ in range(n)) for n in (3, 4, 3))


def encode_token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


# ---------------------------------------------------------------- data


@dataclass
class EventRecord:
    """One event as stored: `resource` holds the client-visible fields (times as given, already
    validated); the rest is bookkeeping the API never shows."""

    resource: dict[str, Any]
    start: datetime  # instants of the (first) occurrence
    end: datetime
    seq: int
    deleted: bool = False
    deleted_at: float | None = None  # stand-in clock; purged `deleted_retention` later
    send_updates: list[str] = field(default_factory=list)
    conference_request_ids: set[str] = field(default_factory=set)
    # Visibility lag (Settings.visibility_lag): while `hidden_since_seq` is set and the lag since
    # `changed_at` runs, events.list and freebusy see `before` (None: nothing) instead.
    changed_at: float = 0.0
    before: EventRecord | None = None
    hidden_since_seq: int | None = None

    @property
    def id(self) -> str:
        return str(self.resource["id"])

    @property
    def cancelled(self) -> bool:
        return self.deleted or self.resource.get("status") == "cancelled"


@dataclass
class CalendarData:
    id: str
    summary: str
    time_zone: str
    owner: str  # the data owner's email; "" when unknown
    acl: dict[str, str] = field(default_factory=dict)  # email -> role, granted via control
    description: str = ""
    events: dict[str, EventRecord] = field(default_factory=dict)
    sync_epoch: int = 0
    seq: int = 0  # last change to the calendar's own metadata (etag of list entries)
    # Ids of purged deleted events (still taken) and the newest change a purge forgot: a sync
    # token from before it can no longer report that deletion, so it gets 410.
    purged_ids: set[str] = field(default_factory=set)
    purged_seq: int = 0


@dataclass
class Fault:
    method: str  # full method id ("calendar.events.insert") or "*"
    remaining: int
    status: int
    reason: str
    message: str
    domain: str


@dataclass
class Settings:
    # Google merges overlapping busy periods; whether it also joins back-to-back ones is not
    # documented, so it is switchable ("none" | "overlapping" | "touching").
    freebusy_merge: str = "touching"
    # Longest free/busy window; cal.com reports Google refusing more than 90 days.
    freebusy_max_days: int = 90
    # New Meet conferences: "success" at once, "failure", or "pending", which becomes
    # conference_outcome once conference_delay seconds (stand-in clock) have passed, on the next
    # API call after that; POST /_control/conferences/resolve finishes them at once.
    conference_status: str = "success"
    conference_outcome: str = "success"
    conference_delay: float = 0.0
    # Push delivery (calendar_push): seconds from the change to the first attempt, the waits
    # between retries (exponential, as Google backs off), the answer timeout, whether quick
    # successive changes fold into one push, the largest jump of message numbers, and the
    # share of pushes lost on purpose.
    push_delay: float = 0.03
    push_retry_delays: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.2, 0.4])
    push_timeout: float = 5.0
    push_fold: bool = True
    push_number_step: int = 4
    push_loss_rate: float = 0.0
    # Time on the stand-in's one clock (GoogleState.now, moved by POST /_control/clock). Google
    # states no figures: sync tokens "expire" and deleted events are kept "for a while"; these
    # defaults are ours. updatedMin older than the retention is 410 updatedMinTooLongAgo.
    sync_token_max_age: float = 7 * 86400
    deleted_retention: float = 30 * 86400
    # Quotas, on the stand-in's clock, 0 = no limit. Google's usage-limits page: 600 requests a
    # minute per user per project and 10,000 per project, counted over a sliding minute; its
    # "operational limits" also refuse writes to one calendar in quick succession (no figure
    # given: ours is 10 a second); "Calendar usage limits" cap how many events a user creates
    # (no figure given: ours is 10,000 a day).
    quota_user_per_minute: int = 600
    quota_project_per_minute: int = 10000
    quota_calendar_writes_per_second: int = 10
    quota_user_inserts_per_day: int = 10000
    # "Google does not promise everything" switches, all off by default: seconds before a write
    # shows in events.list and freebusy; seconds an access token keeps working after the user
    # removed the app; whether an insert with a used id is refused (Event.id: "we cannot
    # guarantee that ID collisions will be detected at event creation time").
    visibility_lag: float = 0.0
    revocation_delay: float = 0.0
    detect_id_collisions: bool = True
    # Seeds the stand-in's randomness (message number jumps, losses) so a run can be replayed.
    seed: int = 2026


@dataclass
class CalendarStore:
    # Tokens carry the generation, so a token from before a reset is no longer valid.
    generation: str = field(default_factory=lambda: secrets.token_hex(4))
    calendars: dict[str, CalendarData] = field(default_factory=dict)
    seq: int = 0
    channels: dict[str, Any] = field(default_factory=dict)  # id -> calendar_push.Channel
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    latency: dict[str, float] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    rng: random.Random = field(default_factory=lambda: random.Random(Settings.seed))
    push_drop_next: int = 0  # the next N pushes are lost (control API)
    # Times (stand-in clock) of the requests each quota has counted, by quota key.
    quota_hits: dict[tuple[str, ...], deque[float]] = field(default_factory=dict)
    # (due, calendar id, event id, requestId) of Meet requests still pending.
    pending_conferences: list[tuple[float, str, str, str]] = field(default_factory=list)
    # (deleted_at, calendar id, event id) in deletion order, for the purge.
    deletions: list[tuple[float, str, str]] = field(default_factory=list)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


def store(state: GoogleState) -> CalendarStore:
    """The state's calendar store, created on first use (and again after a reset)."""
    with state.lock:
        found = state.calendar.get("store")
        if not isinstance(found, CalendarStore):
            found = CalendarStore()
            state.calendar["store"] = found
        return found


def etag_for(seq: int) -> str:
    return f'"3{seq:015d}"'


# ---------------------------------------------------------------- access


def create_calendar(
    state: GoogleState,
    calendar_id: str,
    *,
    summary: str | None = None,
    time_zone: str = "UTC",
    owner: str = "",
    description: str = "",
    shares: dict[str, str] | None = None,
) -> CalendarData:
    """Creates (or re-describes) a calendar; the owner and every share see it in calendarList."""
    zone(time_zone, "calendar")
    for role in (shares or {}).values():
        if role not in ROLES:
            raise invalid(f"Unknown access role {role!r}")
    with state.lock:
        st = store(state)
        cal = st.calendars.get(calendar_id)
        if cal is None:
            cal = CalendarData(calendar_id, summary or calendar_id, time_zone, owner)
            st.calendars[calendar_id] = cal
        else:
            cal.summary = summary or cal.summary
            cal.time_zone = time_zone
            cal.owner = owner or cal.owner
        cal.description = description or cal.description
        cal.seq = st.next_seq()
        grants = dict(shares or {})
        if owner:
            grants[owner] = "owner"
        for email, role in grants.items():
            cal.acl[email] = role
            account = state.accounts.get(email)
            if account is not None:
                account.calendar_roles[calendar_id] = role
        return cal


def role_of(state: GoogleState, email: str, calendar_id: str) -> str:
    """The caller's access role: the account's calendar_roles, else a control-API share."""
    with state.lock:
        account = state.accounts.get(email)
        roles = []
        if account is not None and calendar_id in account.calendar_roles:
            roles.append(account.calendar_roles[calendar_id])
        cal = store(state).calendars.get(calendar_id)
        if cal is not None and email in cal.acl:
            roles.append(cal.acl[email])
        return max(roles, key=lambda r: ROLE_RANK.get(r, 0), default="none")


def visible_calendar_ids(state: GoogleState, email: str) -> list[str]:
    with state.lock:
        ids: list[str] = []
        account = state.accounts.get(email)
        if account is not None:
            ids.extend(account.calendar_roles)
        for cal in store(state).calendars.values():
            if email in cal.acl and cal.id not in ids:
                ids.append(cal.id)
        return ids


def calendar(state: GoogleState, calendar_id: str) -> CalendarData | None:
    """The calendar, creating an account's primary calendar (or any calendar an account was
    granted a role on by the OAuth side) the first time it is needed."""
    with state.lock:
        st = store(state)
        found = st.calendars.get(calendar_id)
        if found is not None:
            return found
        account = state.accounts.get(calendar_id)
        if account is not None and account.calendar_roles.get(calendar_id) == "owner":
            return create_calendar(
                state, calendar_id, summary=calendar_id, time_zone=account.time_zone,
                owner=calendar_id,
            )
        for acc in state.accounts.values():
            if calendar_id in acc.calendar_roles:
                owner = acc.email if acc.calendar_roles[calendar_id] == "owner" else ""
                return create_calendar(state, calendar_id, owner=owner)
        return None


def resolve(
    state: GoogleState, email: str, calendar_id: str, need: str
) -> tuple[CalendarData, str]:
    """The calendar and the caller's role, or the error Google gives: 404 when the caller cannot
    see it at all, 403 requiredAccessLevel when it can but not enough."""
    if calendar_id == "primary":
        calendar_id = email
    with state.lock:
        cal = calendar(state, calendar_id)
        role = role_of(state, email, calendar_id) if cal is not None else "none"
        if cal is None or role == "none":
            raise not_found()
        if ROLE_RANK[role] < ROLE_RANK[need]:
            raise ApiError(
                403,
                "requiredAccessLevel",
                f"You need to have {need} access to this calendar.",
                domain="calendar",
            )
        return cal, role


def utc_range_days(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(days=1)


def purge(st: CalendarStore, now: float) -> None:
    """Forgets deleted events older than Settings.deleted_retention (then `get` is 404)."""
    keep = st.settings.deleted_retention
    while st.deletions and st.deletions[0][0] + keep <= now:
        _, calendar_id, event_id = st.deletions.pop(0)
        cal = st.calendars.get(calendar_id)
        record = cal.events.get(event_id) if cal else None
        if cal is None or record is None or not record.deleted or record.deleted_at is None:
            continue
        if record.deleted_at + keep > now:
            continue  # deleted again later; a newer entry covers it
        del cal.events[event_id]
        cal.purged_ids.add(event_id)
        cal.purged_seq = max(cal.purged_seq, record.seq)


def charge(st: CalendarStore, key: tuple[str, ...], limit: int, window: float, now: float) -> bool:
    """Counts one request against a sliding-window quota; False (and not counted) when the
    window already holds `limit` requests. A limit of 0 means none."""
    if limit <= 0:
        return True
    hits = st.quota_hits.setdefault(key, deque())
    while hits and hits[0] <= now - window:
        hits.popleft()
    if len(hits) >= limit:
        return False
    hits.append(now)
    return True


def will_change(st: CalendarStore, record: EventRecord, now: float, *, new: bool = False) -> None:
    """Call before changing a record (after creating one, with new=True): with a visibility
    lag, lists and freebusy keep showing what was visible before this change."""
    lag = st.settings.visibility_lag
    if lag <= 0:
        record.hidden_since_seq, record.before = None, None
        return
    if not lagging(record, now, lag):
        record.before = None if new else copy.deepcopy(record)
        if record.before is not None:
            record.before.before, record.before.hidden_since_seq = None, None
        record.hidden_since_seq = st.seq + 1 if not new else record.seq
    record.changed_at = now


def lagging(record: EventRecord, now: float, lag: float) -> bool:
    return record.hidden_since_seq is not None and lag > 0 and now < record.changed_at + lag


def visible(record: EventRecord, now: float, lag: float) -> EventRecord | None:
    """The record as events.list and freebusy see it now."""
    return record.before if lagging(record, now, lag) else record


def visible_horizon(st: CalendarStore, cal: CalendarData, now: float) -> int:
    """The newest change sequence every list may already show: a sync token issued now must
    not claim a change that is still hidden, or that change would never be reported."""
    lag = st.settings.visibility_lag
    hidden = [r.hidden_since_seq for r in cal.events.values()
              if r.hidden_since_seq is not None and lagging(r, now, lag)]
    return min(st.seq, min(hidden, default=st.seq + 1) - 1)
