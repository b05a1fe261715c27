"""freebusy.query: busy periods per calendar, errors per calendar, 200 overall.

Only opaque, non-cancelled events the calendar has not declined count. All-day events are busy
over their whole days in the calendar's own zone. Periods are clipped to [timeMin, timeMax),
sorted and merged (see Settings.freebusy_merge), and written in the request's timeZone.
A calendar the caller may not see gets `errors: [{domain: global, reason: notFound}]` and no
busy time, while the request as a whole still succeeds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.standins.google.calendar_events import occurrences
from tests.standins.google.calendar_model import (
    ROLE_RANK,
    ApiError,
    CalendarStore,
    calendar,
    in_zone,
    ms_z,
    parse_rfc3339,
    required,
    role_of,
    store,
    utc_range_days,
    visible,
    zone,
)
from tests.standins.google.state import GoogleState

MAX_CALENDARS = 50
MAX_GROUP_EXPANSION = 100

Interval = tuple[datetime, datetime]


def merge(periods: list[Interval], mode: str) -> list[Interval]:
    """[(9,10),(9:30,11),(11,12)] -> overlapping: [(9,11),(11,12)]; touching: [(9,12)]."""
    if mode == "none":
        return sorted(periods)
    out: list[Interval] = []
    for start, end in sorted(periods):
        if out and (start < out[-1][1] or (mode == "touching" and start == out[-1][1])):
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _declined(resource: dict[str, Any], calendar_id: str) -> bool:
    return any(
        a.get("email") == calendar_id and a.get("responseStatus") == "declined"
        for a in resource.get("attendees", [])
    )


def _busy(state: GoogleState, calendar_id: str, start: datetime, end: datetime,
          mode: str) -> list[Interval]:
    cal = calendar(state, calendar_id)
    assert cal is not None
    periods: list[Interval] = []
    st = store(state)
    for stored in cal.events.values():
        record = visible(stored, state.now(), st.settings.visibility_lag)
        if record is None:
            continue  # written, but not visible yet
        resource = record.resource
        if record.cancelled or resource.get("transparency") == "transparent":
            continue
        if _declined(resource, cal.id):
            continue
        for occ in occurrences(record, cal, start, end):
            lo, hi = max(occ.start, start), min(occ.end, end)
            if lo < hi:
                periods.append((lo, hi))
    return merge(periods, mode)


def query(state: GoogleState, st: CalendarStore, caller: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    for name in ("timeMin", "timeMax"):
        if not body.get(name):
            raise required(f"Missing {name} parameter.", name)
    start = parse_rfc3339(body["timeMin"], "timeMin")
    end = parse_rfc3339(body["timeMax"], "timeMax")
    if end <= start:
        raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.",
                       domain="calendar", location="timeMax")
    if utc_range_days(start, end) > st.settings.freebusy_max_days:
        raise ApiError(400, "timeRangeTooLong", "The requested time range is too long.",
                       domain="calendar", location="timeMax")
    tz = body.get("timeZone") or "UTC"
    zone(tz, "timeZone")
    expansion = body.get("calendarExpansionMax")
    if expansion is not None and (not isinstance(expansion, int) or not 1 <= expansion <= 50):
        raise ApiError(400, "invalid", "Invalid calendarExpansionMax value.",
                       location="calendarExpansionMax")
    groups = body.get("groupExpansionMax")
    if groups is not None and (not isinstance(groups, int) or not 1 <= groups <= 100):
        raise ApiError(400, "invalid", "Invalid groupExpansionMax value.",
                       location="groupExpansionMax")
    limit = min(expansion or MAX_CALENDARS, MAX_CALENDARS)
    items = body.get("items") or []
    calendars: dict[str, Any] = {}
    for n, item in enumerate(items):
        requested = item.get("id", "") if isinstance(item, dict) else ""
        if n >= limit:
            calendars[requested] = {
                "busy": [],
                "errors": [{"domain": "usageLimits", "reason": "tooManyCalendarsRequested"}],
            }
            continue
        calendar_id = caller if requested == "primary" else requested
        visible = calendar(state, calendar_id) is not None and ROLE_RANK.get(
            role_of(state, caller, calendar_id), 0
        ) >= ROLE_RANK["freeBusyReader"]
        if not visible:
            calendars[requested] = {
                "busy": [],
                "errors": [{"domain": "global", "reason": "notFound"}],
            }
            continue
        periods = _busy(state, calendar_id, start, end, st.settings.freebusy_merge)
        calendars[requested] = {
            "busy": [{"start": in_zone(a, tz), "end": in_zone(b, tz)} for a, b in periods]
        }
    return {
        "kind": "calendar#freeBusy",
        "timeMin": ms_z(start),
        "timeMax": ms_z(end),
        "calendars": calendars,
    }
