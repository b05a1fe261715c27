"""Events as Google keeps them: validation, insert / patch / update / delete, rendering and the
expansion of recurring series into instances.

Every function here expects the caller to hold `state.lock`; none of them talks to the network.
A change returns the calendar id so the caller can queue push notifications for it.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dateutil.rrule import rrulestr

from tests.standins.google.calendar_model import (
    EVENT_ID,
    ApiError,
    CalendarData,
    CalendarStore,
    EventRecord,
    day_start,
    epoch,
    etag_for,
    in_zone,
    invalid,
    ms_z,
    new_event_id,
    new_meet_code,
    required,
    will_change,
    zone,
)
from tests.standins.google.discovery_schema import DiscoverySchemas

READ_ONLY = {
    "kind", "etag", "htmlLink", "created", "updated", "creator", "organizer", "hangoutLink",
    "recurringEventId", "originalStartTime", "privateCopy", "locked", "attendeesOmitted",
}
MAX_INSTANCES = 1000  # per series and query; Google's own expansion is bounded too
MEET_ICON = (
    "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/"
    "logo_meet_2020q4_color_2x_web_512dp.png"
)
KEPT_ON_MODIFY = ("id", "iCalUID", "htmlLink", "created", "creator", "organizer",
                  "recurringEventId", "originalStartTime")
RESPONSE_STATUSES = {"needsAction", "declined", "tentative", "accepted"}


@dataclass(frozen=True)
class When:
    """A validated EventDateTime: an all-day `day` or an instant, plus the optional zone."""

    day: date | None
    instant: datetime | None
    time_zone: str | None


def _event_fields() -> set[str]:
    return DiscoverySchemas.load().properties("Event")


def parse_when(value: Any, which: str, recurring: bool) -> When:
    if not isinstance(value, dict) or not (value.get("date") or value.get("dateTime")):
        raise required(f"Missing {which} time.", which)
    tz = value.get("timeZone")
    if tz is not None:
        zone(tz, which)
    if value.get("date") and value.get("dateTime"):
        raise invalid(f"Invalid {which} time.", which)
    if value.get("date"):
        try:
            return When(date.fromisoformat(value["date"]), None, tz)
        except (TypeError, ValueError):
            raise invalid(f"Invalid {which} time.", which) from None
    text = value["dateTime"]
    if not isinstance(text, str):
        raise invalid(f"Invalid {which} time.", which)
    try:
        naive_or_aware = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise invalid(f"Invalid {which} time.", which) from None
    if naive_or_aware.tzinfo is None or (recurring and tz is None):
        # An offset-less time means nothing without a zone; a series needs a zone to expand in.
        if tz is None:
            raise required(f"Missing time zone definition for {which} time.", which)
        naive_or_aware = naive_or_aware.replace(tzinfo=zone(tz, which))
    return When(None, naive_or_aware, tz)


def instants(start: When, end: When, cal_tz: str) -> tuple[datetime, datetime]:
    """All-day events cover whole days in the calendar's zone."""
    if start.day is not None and end.day is not None:
        return day_start(start.day, cal_tz), day_start(end.day, cal_tz)
    assert start.instant is not None and end.instant is not None
    return start.instant, end.instant


def _check_reminders(reminders: Any) -> dict[str, Any]:
    if reminders is None:
        return {"useDefault": True}
    if not isinstance(reminders, dict):
        raise invalid("Invalid value for: reminders", "reminders")
    overrides = reminders.get("overrides") or []
    if reminders.get("useDefault") and overrides:
        raise ApiError(
            400,
            "cannotUseDefaultRemindersAndSpecifyOverride",
            "Cannot specify both default reminders and overrides at the same time.",
            domain="calendar",
        )
    if not isinstance(overrides, list):
        raise invalid("Invalid value for: reminders.overrides", "reminders.overrides")
    if len(overrides) > 5:
        raise invalid("Too many reminder overrides; at most 5 are allowed.", "reminders.overrides")
    for item in overrides:
        if not isinstance(item, dict) or item.get("method") not in ("email", "popup"):
            raise invalid("Invalid reminder method.", "reminders.overrides.method")
        minutes = item.get("minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= 40320:
            raise invalid("Invalid reminder minutes value.", "reminders.overrides.minutes")
    out: dict[str, Any] = {"useDefault": bool(reminders.get("useDefault", False))}
    if overrides:
        out["overrides"] = [dict(o) for o in overrides]
    return out


def _check_recurrence(resource: dict[str, Any], start: When) -> None:
    lines = resource.get("recurrence")
    if lines is None:
        return
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise invalid("Invalid recurrence rule.", "recurrence")
    try:
        list(_rule_set(lines, start, limit_probe=True))
    except (ValueError, TypeError):
        raise invalid("Invalid recurrence rule.", "recurrence") from None


def _rule_set(lines: list[str], start: When, limit_probe: bool = False) -> Iterator[datetime]:
    if start.day is not None:
        dtstart = datetime(start.day.year, start.day.month, start.day.day)
    else:
        assert start.instant is not None and start.time_zone is not None
        dtstart = start.instant.astimezone(zone(start.time_zone, "start"))
    rules = rrulestr("\n".join(lines), dtstart=dtstart, forceset=True)
    for n, occurrence in enumerate(rules):
        if limit_probe and n >= 1:
            return
        yield occurrence


def _normalize_attendees(attendees: Any, organizer: str, calendar_id: str) -> list[Any] | None:
    if attendees is None:
        return None
    if not isinstance(attendees, list):
        raise invalid("Invalid value for: attendees", "attendees")
    out = []
    for raw in attendees:
        if not isinstance(raw, dict) or not raw.get("email"):
            raise required("Missing attendee email.", "attendees.email")
        attendee = dict(raw)
        attendee.setdefault("responseStatus", "needsAction")
        if attendee["responseStatus"] not in RESPONSE_STATUSES:
            raise invalid("Invalid attendee response status.", "attendees.responseStatus")
        for flag in ("organizer", "self"):
            attendee.pop(flag, None)
        if attendee["email"] == organizer:
            attendee["organizer"] = True
        if attendee["email"] == calendar_id:
            attendee["self"] = True
        out.append(attendee)
    return out


def _meet(st: CalendarStore, request: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """Conference data for a Meet create request: `status` (else the setting) is success (a
    room), failure, or pending (no room yet; `resolve_conferences` finishes it later)."""
    key = request.get("conferenceSolutionKey") or {}
    if key.get("type") != "hangoutsMeet":
        raise invalid("Invalid conference type value.", "conferenceData")
    outcome = status or st.settings.conference_status
    create = {
        "requestId": request.get("requestId", ""),
        "conferenceSolutionKey": {"type": "hangoutsMeet"},
        "status": {"statusCode": outcome},
    }
    if outcome != "success":
        return {"createRequest": create}
    code = new_meet_code()
    return {
        "createRequest": create,
        "entryPoints": [
            {
                "entryPointType": "video",
                "uri": f"https://meet.google.com/{code}",
                "label": f"meet.google.com/{code}",
            }
        ],
        "conferenceSolution": {
            "key": {"type": "hangoutsMeet"},
            "name": "Google Meet",
            "iconUri": MEET_ICON,
        },
        "conferenceId": code,
    }


def _pending_request(record: EventRecord) -> dict[str, Any] | None:
    request = (record.resource.get("conferenceData") or {}).get("createRequest") or {}
    pending = (request.get("status") or {}).get("statusCode") == "pending"
    return request if pending else None


def _track_pending(st: CalendarStore, cal: CalendarData, record: EventRecord, now: float) -> None:
    request = _pending_request(record)
    if request is not None:
        due = now + float(st.settings.conference_delay)
        st.pending_conferences.append((due, cal.id, record.id, str(request.get("requestId"))))


def resolve_conferences(
    st: CalendarStore, now: float, *, outcome: str | None = None, calendar_id: str | None = None,
    event_id: str | None = None, force: bool = False,
) -> list[tuple[str, str]]:
    """Finishes pending Meet requests that are due (or the chosen ones, when forced) with
    `outcome` (else Settings.conference_outcome): the event changes as Google changes it, with
    a new etag, so a later read or incremental sync sees it. Returns (calendar, event) ids."""
    done: list[tuple[str, str]] = []
    waiting: list[tuple[float, str, str, str]] = []
    for due, cal_id, ev_id, request_id in st.pending_conferences:
        chosen = calendar_id in (None, cal_id) and event_id in (None, ev_id)
        if not (chosen and (force or due <= now)):
            waiting.append((due, cal_id, ev_id, request_id))
            continue
        cal = st.calendars.get(cal_id)
        record = cal.events.get(ev_id) if cal else None
        request = _pending_request(record) if record else None
        if cal is None or record is None or request is None or (
            request.get("requestId") != request_id
        ):
            continue
        final = _meet(st, request, outcome or st.settings.conference_outcome)
        will_change(st, record, now)
        seq = st.next_seq()
        record.resource["conferenceData"] = final
        _hangout_link(record.resource)
        record.resource.update(etag=etag_for(seq), updated=ms_z(epoch(now)))
        record.seq = seq
        done.append((cal_id, ev_id))
    st.pending_conferences = waiting
    return done


def _conference(
    st: CalendarStore,
    record: EventRecord | None,
    body: dict[str, Any],
    merged: dict[str, Any],
    version: int,
    replace: bool,
) -> None:
    """Sets merged["conferenceData"]: conference data is only read when conferenceDataVersion=1;
    otherwise whatever the event had stays exactly as it was."""
    previous = copy.deepcopy(record.resource.get("conferenceData")) if record else None
    if version != 1:
        merged.pop("conferenceData", None)
        if previous is not None:
            merged["conferenceData"] = previous
        return
    if "conferenceData" not in body:
        merged.pop("conferenceData", None)
        if previous is not None and not replace:
            merged["conferenceData"] = previous
        return
    given = body["conferenceData"]
    if given is None:
        merged.pop("conferenceData", None)
        return
    if not isinstance(given, dict):
        raise invalid("Invalid conference data.", "conferenceData")
    request = given.get("createRequest")
    used = record.conference_request_ids if record else set()
    if isinstance(request, dict) and request.get("requestId") not in used:
        merged["conferenceData"] = _meet(st, request)
        return
    if isinstance(request, dict) and previous is not None:
        merged["conferenceData"] = previous  # a reused requestId is ignored
        return
    conf = merged.get("conferenceData")
    complete = isinstance(conf, dict) and conf.get("conferenceSolution") and conf.get("entryPoints")
    if not complete:
        raise invalid("Invalid conference data.", "conferenceData")


def _hangout_link(resource: dict[str, Any]) -> None:
    resource.pop("hangoutLink", None)
    conf = resource.get("conferenceData") or {}
    if (conf.get("conferenceSolution") or {}).get("key", {}).get("type") == "hangoutsMeet":
        for entry in conf.get("entryPoints", []):
            if entry.get("entryPointType") == "video":
                resource["hangoutLink"] = entry["uri"]


def _validate(resource: dict[str, Any], cal: CalendarData) -> tuple[datetime, datetime]:
    recurring = bool(resource.get("recurrence"))
    start = parse_when(resource.get("start"), "start", recurring)
    end = parse_when(resource.get("end"), "end", recurring)
    if (start.day is None) != (end.day is None):
        raise invalid("Start and end times must either both be date or both be dateTime.", "end")
    begin, finish = instants(start, end, cal.time_zone)
    if finish < begin or (start.day is not None and finish == begin):
        raise ApiError(
            400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar",
            location="end",
        )
    _check_recurrence(resource, start)
    for name, allowed in (
        ("transparency", {"opaque", "transparent"}),
        ("status", {"confirmed", "tentative", "cancelled"}),
        ("visibility", {"default", "public", "private", "confidential"}),
    ):
        if name in resource and resource[name] not in allowed:
            raise invalid(f"Invalid value for: {name}", name)
    props = resource.get("extendedProperties")
    if props is not None:
        if not isinstance(props, dict):
            raise invalid("Invalid value for: extendedProperties", "extendedProperties")
        for scope in ("private", "shared"):
            values = props.get(scope)
            if values is not None and (
                not isinstance(values, dict)
                or not all(isinstance(v, str) for v in values.values())
            ):
                raise invalid(f"Invalid value for: extendedProperties.{scope}")
    return begin, finish


def _finish(
    st: CalendarStore,
    cal: CalendarData,
    resource: dict[str, Any],
    now: float,
) -> tuple[dict[str, Any], datetime, datetime]:
    resource = {k: v for k, v in resource.items() if k in _event_fields() and v is not None}
    for scope in ("private", "shared"):
        props = resource.get("extendedProperties", {})
        if scope in props:
            props[scope] = {k: v for k, v in props[scope].items() if v is not None}
    begin, finish = _validate(resource, cal)
    resource["reminders"] = _check_reminders(resource.get("reminders"))
    organizer = cal.id
    attendees = _normalize_attendees(resource.get("attendees"), organizer, cal.id)
    if attendees is not None:
        resource["attendees"] = attendees
    resource.setdefault("status", "confirmed")
    resource.setdefault("eventType", "default")
    _hangout_link(resource)
    resource["updated"] = ms_z(epoch(now))
    return resource, begin, finish


def html_link(calendar_id: str, event_id: str) -> str:
    eid = base64.urlsafe_b64encode(f"{event_id} {calendar_id}".encode()).decode().rstrip("=")
    return f"https://www.google.com/calendar/event?eid={eid}"


def insert(
    st: CalendarStore,
    cal: CalendarData,
    body: dict[str, Any],
    *,
    creator: str,
    now: float,
    conference_version: int,
    send_updates: str | None,
) -> EventRecord:
    event_id = body.get("id")
    if event_id is None:
        event_id = new_event_id()
        while event_id in cal.events:
            event_id = new_event_id()
    elif not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        raise invalid("Invalid resource id value.")
    elif (event_id in cal.events or event_id in cal.purged_ids) and (
        st.settings.detect_id_collisions
    ):
        # Ids of deleted events stay taken, which is what makes a deterministic id idempotent.
        # With detect_id_collisions off the insert goes through and replaces the old event.
        raise ApiError(409, "duplicate", "The requested identifier already exists.")
    merged = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY}
    _conference(st, None, body, merged, conference_version, replace=True)
    resource, begin, finish = _finish(st, cal, merged, now)
    seq = st.next_seq()
    owner = {"email": cal.id, "self": True}
    if cal.summary != cal.id:
        owner["displayName"] = cal.summary
    resource.update(
        {
            "kind": "calendar#event",
            "id": event_id,
            "etag": etag_for(seq),
            "htmlLink": html_link(cal.id, event_id),
            "created": resource["updated"],
            "creator": {"email": creator, **({"self": True} if creator == cal.id else {})},
            "organizer": owner,
            "iCalUID": body.get("iCalUID") or f"{event_id}@google.com",
            "sequence": int(body.get("sequence") or 0),
        }
    )
    record = EventRecord(resource, begin, finish, seq)
    _remember_conference(record)
    if send_updates:
        record.send_updates.append(send_updates)
    cal.events[event_id] = record
    will_change(st, record, now, new=True)
    _track_pending(st, cal, record, now)
    return record


def _remember_conference(record: EventRecord) -> None:
    request = (record.resource.get("conferenceData") or {}).get("createRequest") or {}
    if request.get("requestId"):
        record.conference_request_ids.add(request["requestId"])


def _deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge: objects merge key by key, arrays and scalars replace, null deletes."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def modify(
    st: CalendarStore,
    cal: CalendarData,
    record: EventRecord,
    body: dict[str, Any],
    *,
    replace: bool,
    now: float,
    conference_version: int,
    send_updates: str | None,
) -> EventRecord:
    """events.patch (replace=False: merge) and events.update (replace=True)."""
    keep = {k: record.resource[k] for k in KEPT_ON_MODIFY if k in record.resource}
    writable = {k: v for k, v in body.items() if k not in READ_ONLY | {"id", "iCalUID"}}
    if replace:
        merged = copy.deepcopy(writable)
    else:
        base = {k: v for k, v in record.resource.items() if k not in READ_ONLY}
        for which in ("start", "end"):
            given = writable.get(which)
            if isinstance(given, dict) and isinstance(base.get(which), dict):
                # Switching between all-day and timed replaces the other form.
                if "date" in given:
                    base[which].pop("dateTime", None)
                if "dateTime" in given:
                    base[which].pop("date", None)
        merged = _deep_merge(base, writable)
    _conference(st, record, body, merged, conference_version, replace)
    resource, begin, finish = _finish(st, cal, merged, now)
    will_change(st, record, now)
    seq = st.next_seq()
    sequence = int(record.resource.get("sequence", 0))
    if (begin, finish, resource.get("recurrence")) != (
        record.start, record.end, record.resource.get("recurrence")
    ):
        sequence += 1
    resource.update(keep)
    resource.update({"kind": "calendar#event", "etag": etag_for(seq), "sequence": sequence})
    _hangout_link(resource)
    record.resource = resource
    record.start, record.end, record.seq = begin, finish, seq
    # Setting a deleted event's status back is how a deleted event is restored.
    record.deleted = resource.get("status") == "cancelled" and record.deleted
    _remember_conference(record)
    if send_updates:
        record.send_updates.append(send_updates)
    _track_pending(st, cal, record, now)
    return record


def delete(
    st: CalendarStore, cal: CalendarData, record: EventRecord, *, now: float,
    send_updates: str | None,
) -> EventRecord:
    if record.cancelled:
        raise ApiError(410, "deleted", "Resource has been deleted")
    if record.resource.get("recurrence"):
        # Deleting a series cancels its modified occurrences with it.
        for other in exceptions_of(cal, record.id):
            if not other.cancelled:
                delete(st, cal, other, now=now, send_updates=None)
    will_change(st, record, now)
    seq = st.next_seq()
    record.deleted = True
    record.deleted_at = now
    st.deletions.append((now, cal.id, record.id))
    record.seq = seq
    record.resource["status"] = "cancelled"
    record.resource["etag"] = etag_for(seq)
    record.resource["updated"] = ms_z(epoch(now))
    if send_updates:
        record.send_updates.append(send_updates)
    return record


# ---------------------------------------------------------------- reading


def _render_when(
    value: dict[str, Any], cal: CalendarData, tz_override: str | None
) -> dict[str, Any]:
    out = dict(value)
    if "dateTime" in value:
        moment = parse_when(value, "start", False).instant
        assert moment is not None
        out["dateTime"] = in_zone(moment, tz_override or value.get("timeZone") or cal.time_zone)
    return out


def render(
    source: EventRecord | dict[str, Any],
    cal: CalendarData,
    *,
    tz: str | None = None,
    role: str = "owner",
) -> dict[str, Any]:
    """The event as the API returns it; dateTimes are written in the requested zone, else the
    event's own, else the calendar's."""
    resource = copy.deepcopy(source.resource if isinstance(source, EventRecord) else source)
    for which in ("start", "end", "originalStartTime"):
        if which in resource:
            resource[which] = _render_when(resource[which], cal, tz)
    if role == "freeBusyReader":
        # Someone who may only see free/busy gets the times and nothing else.
        keep = ("kind", "etag", "id", "status", "start", "end", "transparency", "updated")
        resource = {k: resource[k] for k in keep if k in resource}
    return resource


def minimal(record: EventRecord, cal: CalendarData | None = None) -> dict[str, Any]:
    """How a deleted event appears in a list: the id, and that it is cancelled; a cancelled
    occurrence of a series also names its series and original start."""
    out = {
        "kind": "calendar#event",
        "etag": record.resource["etag"],
        "id": record.id,
        "status": "cancelled",
    }
    if "recurringEventId" in record.resource:
        out["recurringEventId"] = record.resource["recurringEventId"]
        original = record.resource["originalStartTime"]
        out["originalStartTime"] = _render_when(original, cal, None) if cal else dict(original)
    return out


def exceptions_of(cal: CalendarData, series_id: str) -> list[EventRecord]:
    """The series' occurrences that were changed or cancelled on their own (stored by their
    instance id, `<seriesId>_<start>`)."""
    return [r for r in cal.events.values() if r.resource.get("recurringEventId") == series_id]


def instance_record(
    st: CalendarStore, cal: CalendarData, event_id: str
) -> tuple[EventRecord, bool] | None:
    """The stored event, or the occurrence `<seriesId>_<start>` of a live series made into a
    record of its own so it can be changed alone (recurring-events guide, "Modify or delete
    instances"); the flag says it was just made. None when neither exists."""
    found = cal.events.get(event_id)
    if found is not None:
        return found, False
    series_id, sep, suffix = event_id.rpartition("_")
    series = cal.events.get(series_id) if sep else None
    if series is None or series.cancelled or not series.resource.get("recurrence"):
        return None
    try:
        if "T" in suffix:
            moment = datetime.strptime(suffix, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            moment = day_start(datetime.strptime(suffix, "%Y%m%d").date(), cal.time_zone)
    except ValueError:
        return None
    for occ in occurrences(series, cal, moment, moment + timedelta(microseconds=1)):
        if occ.resource["id"] == event_id:
            record = EventRecord(copy.deepcopy(occ.resource), occ.start, occ.end, series.seq)
            record.resource["sequence"] = series.resource.get("sequence", 0)
            cal.events[event_id] = record
            return record, True
    return None


@dataclass
class Occurrence:
    resource: dict[str, Any]
    start: datetime
    end: datetime


def occurrences(
    record: EventRecord,
    cal: CalendarData,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> list[Occurrence]:
    """The event itself, or for a series each instance overlapping the window, shaped as
    events.list(singleEvents=true) returns them (recurringEventId, originalStartTime)."""
    resource = record.resource
    if not resource.get("recurrence"):
        return [Occurrence(resource, record.start, record.end)]
    start = parse_when(resource["start"], "start", True)
    end = parse_when(resource["end"], "end", True)
    duration = record.end - record.start
    days = (end.day - start.day).days if end.day and start.day else 0
    found: list[Occurrence] = []
    for begin in _rule_set(resource["recurrence"], start):
        if start.day is not None:
            day = begin.date()
            last = day + timedelta(days=days)
            instant, finish = day_start(day, cal.time_zone), day_start(last, cal.time_zone)
            suffix = day.strftime("%Y%m%d")
            when: dict[str, Any] = {"date": day.isoformat()}
            end_when: dict[str, Any] = {"date": last.isoformat()}
        else:
            instant = begin
            suffix = begin.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            tz = resource["start"].get("timeZone")
            when = {"dateTime": instant.isoformat(), "timeZone": tz}
            finish = instant + duration
            end_when = {"dateTime": finish.isoformat(),
                        "timeZone": resource["end"].get("timeZone", tz)}
        if window_end is not None and instant >= window_end:
            break
        if window_start is not None and finish <= window_start:
            continue
        instance_id = f"{record.id}_{suffix}"
        if instance_id in cal.events:
            continue  # changed or cancelled on its own: that record stands in for it
        instance = {k: v for k, v in resource.items() if k != "recurrence"}
        instance.update(
            {
                "id": instance_id,
                "recurringEventId": record.id,
                "originalStartTime": dict(when),
                "start": when,
                "end": end_when,
            }
        )
        found.append(Occurrence(instance, instant, finish))
        if len(found) >= MAX_INSTANCES:
            break
    return found
