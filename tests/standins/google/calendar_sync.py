"""events.list: filters, paging, and full versus incremental sync.

A full list pages through the events matching its filters and hands out `nextSyncToken` on the
last page only, never together with `nextPageToken`. The token remembers the change sequence at
the moment the first page was served (the snapshot), so anything changed while the client was
paging comes back in the next incremental sync. An incremental list (syncToken) returns every
event changed since the token, deletions included as bare {id, status: cancelled}, paged the
same way, and refuses the filters that would make the client's copy inconsistent.

Worked example: events a, b, c at seq 1..3, maxResults=2. Page 1 snapshots seq 3 and returns
a, b + nextPageToken; b is deleted (seq 4); page 2 returns c + nextSyncToken(seq 3). The next
incremental list returns b as cancelled (seq 4 > 3) and a new nextSyncToken(seq 4).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from tests.standins.google.calendar_events import (
    exceptions_of,
    minimal,
    occurrences,
    parse_when,
    render,
)
from tests.standins.google.calendar_model import (
    ApiError,
    CalendarData,
    CalendarStore,
    EventRecord,
    day_start,
    decode_token,
    encode_token,
    etag_for,
    invalid,
    ms_z,
    parse_rfc3339,
    visible,
    visible_horizon,
    zone,
)

Query = dict[str, list[str]]

FORBIDDEN_WITH_SYNC_TOKEN = (
    "iCalUID", "orderBy", "privateExtendedProperty", "q", "sharedExtendedProperty", "timeMin",
    "timeMax", "updatedMin",
)
DEFAULT_PAGE = 250
MAX_PAGE = 2500


def _one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _flag(query: Query, name: str) -> bool | None:
    value = _one(query, name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean value: '{value}'.", name)
    return value == "true"


def page_size(query: Query, default: int, ceiling: int) -> int:
    raw = _one(query, "maxResults")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        raise invalid(f"Invalid value '{raw}'. Values must match the following regular "
                      "expression: '-?\\d+'", "maxResults") from None
    if size < 1:
        raise invalid("Invalid value for: maxResults", "maxResults")
    return min(size, ceiling)


def fingerprint(query: Query) -> str:
    rest = {k: v for k, v in query.items() if k != "pageToken"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()[:16]


def full_sync_required() -> ApiError:
    return ApiError(
        410,
        "fullSyncRequired",
        "Sync token is no longer valid, a full sync is required.",
        domain="calendar",
        location="syncToken",
    )


def sync_token(st: CalendarStore, cal: CalendarData, seq: int, now: float) -> str:
    return encode_token(
        {"g": st.generation, "c": cal.id, "e": cal.sync_epoch, "s": seq, "t": round(now, 3)}
    )


def _token_seq(st: CalendarStore, cal: CalendarData, token: str, now: float) -> int:
    """The change sequence a sync token was issued at; 410 when it expired (too old on the
    stand-in's clock), was invalidated, or predates a purged deletion it never reported."""
    payload = decode_token(token)
    if (
        payload is None
        or payload.get("g") != st.generation
        or payload.get("c") != cal.id
        or payload.get("e") != cal.sync_epoch
        or not isinstance(payload.get("s"), int)
        or not isinstance(payload.get("t"), int | float)
        or payload["s"] > st.seq
        or payload["s"] < cal.purged_seq
        or now - payload["t"] > st.settings.sync_token_max_age
    ):
        raise full_sync_required()
    return int(payload["s"])


def updated_min_too_long_ago() -> ApiError:
    return ApiError(
        410,
        "updatedMinTooLongAgo",
        "The requested minimum modification time lies too far in the past.",
        domain="calendar",
        location="updatedMin",
    )


def _property_filters(query: Query, name: str) -> list[tuple[str, str]]:
    found = []
    for item in query.get(name, []):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise invalid(f"Invalid value for: {name}", name)
        found.append((key, value))
    return found


def _matches_text(resource: dict[str, Any], terms: list[str]) -> bool:
    parts = [resource.get(k, "") for k in ("summary", "description", "location")]
    for person in [*resource.get("attendees", []), resource.get("organizer", {})]:
        parts += [person.get("email", ""), person.get("displayName", "")]
    text = " ".join(str(p) for p in parts).lower()
    return all(term.lower() in text for term in terms)


class _Filters:
    def __init__(self, query: Query) -> None:
        self.time_min = _time(query, "timeMin")
        self.time_max = _time(query, "timeMax")
        if self.time_min and self.time_max and self.time_max <= self.time_min:
            raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.",
                           domain="calendar", location="timeMax")
        self.updated_min = _time(query, "updatedMin")
        self.terms = (_one(query, "q") or "").split()
        self.private = _property_filters(query, "privateExtendedProperty")
        self.shared = _property_filters(query, "sharedExtendedProperty")
        self.ical_uid = _one(query, "iCalUID")

    def wants(self, record: EventRecord) -> bool:
        resource = record.resource
        if self.updated_min and parse_rfc3339(resource["updated"], "updated") < self.updated_min:
            return False
        if self.ical_uid and resource.get("iCalUID") != self.ical_uid:
            return False
        props = resource.get("extendedProperties", {})
        for scope, wanted in (("private", self.private), ("shared", self.shared)):
            have = props.get(scope, {})
            if any(have.get(k) != v for k, v in wanted):
                return False
        return _matches_text(resource, self.terms)


def parse_rfc3339_when(value: dict[str, Any], cal: CalendarData) -> datetime:
    """The instant an EventDateTime names (an all-day date starts in the calendar's zone)."""
    when = parse_when(value, "originalStartTime", False)
    if when.instant is not None:
        return when.instant
    assert when.day is not None
    return day_start(when.day, cal.time_zone)


def _time(query: Query, name: str) -> datetime | None:
    value = _one(query, name)
    return parse_rfc3339(value, name) if value is not None else None


def _deleted_item(record: EventRecord, cal: CalendarData, single: bool) -> list[dict[str, Any]]:
    if not (single and record.resource.get("recurrence")):
        return [minimal(record, cal)]
    items = []
    for occ in occurrences(record, cal):
        item = minimal(record, cal)
        item.update(
            id=occ.resource["id"],
            recurringEventId=record.id,
            originalStartTime=occ.resource["originalStartTime"],
        )
        items.append(item)
    return items


def list_events(
    st: CalendarStore, cal: CalendarData, role: str, query: Query, now: float
) -> dict[str, Any]:
    """The events.list response for one page; the caller holds the state lock."""
    size = page_size(query, DEFAULT_PAGE, MAX_PAGE)
    single = bool(_flag(query, "singleEvents"))
    show_deleted = _flag(query, "showDeleted")
    order = _one(query, "orderBy")
    tz = _one(query, "timeZone")
    if tz is not None:
        zone(tz, "timeZone")
    token = _one(query, "syncToken")
    since = 0
    if token is not None:
        if any(name in query for name in FORBIDDEN_WITH_SYNC_TOKEN) or show_deleted is False:
            raise ApiError(
                400,
                "syncTokenWithRequestRestrictions",
                "Sync token cannot be used with other request restrictions.",
                domain="calendar",
            )
        since = _token_seq(st, cal, token, now)
    if order not in (None, "startTime", "updated"):
        raise invalid("Invalid value for: orderBy", "orderBy")
    if order == "startTime" and not single:
        raise invalid("The requested ordering is not available for the particular query.",
                      "orderBy")
    offset, snapshot = _page_offset(st, query)
    if _one(query, "pageToken") is None:
        snapshot = visible_horizon(st, cal, now)
    lag = st.settings.visibility_lag
    shown = [v for v in (visible(r, now, lag) for r in cal.events.values()) if v is not None]

    items: list[tuple[Any, dict[str, Any]]] = []
    if token is not None:
        changed = [r for r in shown if since < r.seq <= snapshot]
        for record in sorted(changed, key=lambda r: (r.seq, r.id)):
            if record.cancelled:
                items += [(record.seq, item) for item in _deleted_item(record, cal, single)]
            elif single:
                items += [(record.seq, render(o.resource, cal, tz=tz, role=role))
                          for o in occurrences(record, cal)]
            else:
                items.append((record.seq, render(record, cal, tz=tz, role=role)))
    else:
        filters = _Filters(query)
        if filters.updated_min is not None and (
            filters.updated_min.timestamp() < now - st.settings.deleted_retention
        ):
            raise updated_min_too_long_ago()
        for record in shown:
            if not filters.wants(record):
                continue
            if record.cancelled:
                deleted_since = filters.updated_min is not None
                if show_deleted or deleted_since:
                    items += [((record.start, record.id), item)
                              for item in _deleted_item(record, cal, single)]
                continue
            spans = occurrences(record, cal, filters.time_min, filters.time_max)
            spans = [o for o in spans if _overlaps(o.start, o.end, filters)]
            if single:
                items += [((o.start, o.resource["id"]), render(o.resource, cal, tz=tz, role=role))
                          for o in spans]
            elif spans:
                items.append(((record.start, record.id), render(record, cal, tz=tz, role=role)))
        if order == "updated":
            items.sort(key=lambda pair: (pair[1].get("updated", ""), pair[1]["id"]))
        else:
            items.sort(key=lambda pair: pair[0])

    return _page(st, cal, role, query, items, offset, size, snapshot, now=now)


def _page(
    st: CalendarStore, cal: CalendarData, role: str, query: Query,
    items: list[tuple[Any, dict[str, Any]]], offset: int, size: int, snapshot: int,
    *, now: float | None,
) -> dict[str, Any]:
    """One page; the last page of a listing that can be synced (now given) has nextSyncToken."""
    page = [item for _, item in items[offset:offset + size]]
    body: dict[str, Any] = {
        "kind": "calendar#events",
        "etag": etag_for(snapshot),
        "summary": cal.summary,
        "updated": max((r.resource["updated"] for r in cal.events.values()),
                       default=ms_z(datetime.fromtimestamp(0).astimezone())),
        "timeZone": cal.time_zone,
        "accessRole": role,
        "defaultReminders": [],
        "items": page,
    }
    if cal.description:
        body["description"] = cal.description
    if offset + size < len(items):
        body["nextPageToken"] = encode_token(
            {"o": offset + size, "s": snapshot, "f": fingerprint(query), "g": st.generation}
        )
    elif now is not None:
        body["nextSyncToken"] = sync_token(st, cal, snapshot, now)
    return body


def _page_offset(st: CalendarStore, query: Query) -> tuple[int, int]:
    """(offset, snapshot seq) from the pageToken, or the start of a new listing."""
    page_token = _one(query, "pageToken")
    if page_token is None:
        return 0, st.seq
    payload = decode_token(page_token)
    if (
        payload is None
        or payload.get("f") != fingerprint(query)
        or payload.get("g") != st.generation
    ):
        raise invalid("Invalid Value", "pageToken")
    return int(payload["o"]), int(payload["s"])


def list_instances(
    st: CalendarStore, cal: CalendarData, role: str, series: EventRecord, query: Query
) -> dict[str, Any]:
    """events.instances: the series' occurrences in the window, with its changed occurrences in
    their new place and, with showDeleted, its cancelled ones; the caller holds the lock."""
    size = page_size(query, DEFAULT_PAGE, MAX_PAGE)
    show_deleted = bool(_flag(query, "showDeleted"))
    tz = _one(query, "timeZone")
    if tz is not None:
        zone(tz, "timeZone")
    filters = _Filters(query)
    original = _time(query, "originalStart")
    offset, snapshot = _page_offset(st, query)
    found: list[tuple[Any, dict[str, Any], datetime]] = []
    if series.resource.get("recurrence") and not series.cancelled:
        for occ in occurrences(series, cal, filters.time_min, filters.time_max):
            if _overlaps(occ.start, occ.end, filters):
                found.append(((occ.start, occ.resource["id"]),
                              render(occ.resource, cal, tz=tz, role=role), occ.start))
    for record in exceptions_of(cal, series.id):
        first = parse_rfc3339_when(record.resource["originalStartTime"], cal)
        if record.cancelled:
            if show_deleted:
                found.append(((record.start, record.id), minimal(record, cal), first))
        elif _overlaps(record.start, record.end, filters):
            found.append(((record.start, record.id), render(record, cal, tz=tz, role=role),
                          first))
    if original is not None:
        found = [f for f in found if f[2] == original or (
            "recurringEventId" not in f[1] and f[0][0] == original)]
    items = sorted(((key, item) for key, item, _ in found), key=lambda pair: pair[0])
    return _page(st, cal, role, query, items, offset, size, snapshot, now=None)


def _overlaps(start: datetime, end: datetime, filters: _Filters) -> bool:
    # timeMin bounds the end and timeMax the start, both exclusive.
    if filters.time_min is not None and end <= filters.time_min:
        return False
    return filters.time_max is None or start < filters.time_max
