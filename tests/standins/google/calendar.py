"""Google Calendar API v3 as a Flask blueprint: /calendar/v3/... plus its control API.

Served methods: calendarList.list / get, calendars.get, events.insert / get / patch / update /
delete / list / instances / watch, channels.stop, freebusy.query. Any other /calendar/v3 path
answers 404 and is reported as a schema violation, so a product that starts using an unserved
method fails its tests instead of passing against a guess.

Each API call goes through `_Api.serve`: body parsed, query and body checked against
calendar.v3.json (violations go to state.schema_violations), the bearer token checked by
oauth.authenticate with the method's scopes, injected faults and latency applied, the handler
run, the response checked, and the exchange appended to state.requests.

Control API (JSON, for tests and the local run; client: control_calendar.CalendarControl):
every route and setting is documented in tests/standins/README.md. Before each call the stand-in
catches up with time (purges deleted events, finishes pending Meet requests) and charges the
quotas (Settings.quota_*), so both happen on the one clock without a background thread.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, request

from tests.standins.google import calendar_events as events
from tests.standins.google import calendar_freebusy, calendar_push, calendar_sync, oauth
from tests.standins.google.calendar_model import (
    ROLE_RANK,
    ROLES,
    ApiError,
    CalendarData,
    CalendarStore,
    EventRecord,
    Fault,
    calendar,
    charge,
    create_calendar,
    decode_token,
    encode_token,
    etag_for,
    invalid,
    not_found,
    purge,
    resolve,
    role_of,
    store,
    visible_calendar_ids,
)
from tests.standins.google.calendar_push import flush_push
from tests.standins.google.calendar_sync import Query, fingerprint, page_size
from tests.standins.google.discovery_schema import DiscoverySchemas
from tests.standins.google.state import GoogleState

__all__ = ["blueprint", "flush_push"]

API = "/calendar/v3"
USAGE_LIMIT_REASONS = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "quotaExceeded": "Calendar usage limits exceeded.",
    "dailyLimitExceeded": "Daily Limit Exceeded",
}
DEFAULT_FAULT_MESSAGES = {
    **USAGE_LIMIT_REASONS,
    "backendError": "Backend Error",
    "internalError": "Internal Error",
    "forbidden": "Forbidden",
    "notFound": "Not Found",
}
RPC_STATUS = {
    401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL", 503: "UNAVAILABLE",
}
SEND_UPDATES = ("all", "externalOnly", "none")


def _number(low: float, high: float = float("inf")) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return (isinstance(value, int | float) and not isinstance(value, bool)
                and low <= value <= high)

    return check


def _whole(low: int) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= low

    return check


def _one_of(*allowed: Any) -> Callable[[Any], bool]:
    return lambda value: any(value == a and type(value) is type(a) for a in allowed)


# What each control setting accepts; anything else is refused with 400 and changes nothing.
SETTING_CHECKS: dict[str, Callable[[Any], bool]] = {
    "freebusy_merge": _one_of("none", "overlapping", "touching"),
    "freebusy_max_days": _whole(1),
    "conference_status": _one_of("success", "failure", "pending"),
    "conference_outcome": _one_of("success", "failure"),
    "conference_delay": _number(0),
    "push_delay": _number(0, 60),
    "push_retry_delays": lambda v: isinstance(v, list) and all(_number(0, 60)(x) for x in v),
    "push_timeout": _number(0.01, 60),
    "push_fold": _one_of(True, False),
    "push_number_step": _whole(1),
    "push_loss_rate": _number(0, 1),
    "seed": _whole(0),
    "sync_token_max_age": _number(0),
    "visibility_lag": _number(0),
    "revocation_delay": _number(0),
    "detect_id_collisions": _one_of(True, False),
    "quota_user_per_minute": _whole(0),
    "quota_project_per_minute": _whole(0),
    "quota_calendar_writes_per_second": _whole(0),
    "quota_user_inserts_per_day": _whole(0),
    "deleted_retention": _number(0),
}


@dataclass
class Call:
    """What a handler needs from one API request."""

    state: GoogleState
    caller: str
    client_id: str
    body: Any
    query: Query
    if_match: str | None
    api_root: str

    def one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


Handler = Callable[..., tuple[int, Any]]


class _AuthFailure(ApiError):
    """oauth.AuthError as Google renders it (oauth.py owns the wording)."""

    def __init__(self, exc: oauth.AuthError) -> None:
        super().__init__(exc.status, exc.reason, exc.message,
                         headers={"WWW-Authenticate": exc.www_authenticate})
        self._body = exc.body()

    def body(self) -> dict[str, Any]:
        return self._body


class _Api:
    def __init__(self, state: GoogleState) -> None:
        self.state = state
        self.schemas = DiscoverySchemas.load()

    def serve(self, method_id: str, handler: Handler, kwargs: dict[str, Any]) -> Response:
        state = self.state
        with state.lock:
            started, generation = state.now(), state.generation
        query: Query = {k: request.args.getlist(k) for k in request.args}
        raw = request.get_data()
        violations = self.schemas.check_query(method_id, set(query))
        body: Any = None
        caller: str | None = None
        headers: dict[str, str] = {}
        try:
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    violations.append(f"request {method_id}: body is not JSON")
                    raise ApiError(400, "parseError", "Parse Error") from None
                violations += self.schemas.check_request(method_id, body)
            try:
                token = oauth.authenticate(
                    state, request.headers.get("Authorization"), self.schemas.scopes(method_id)
                )
            except oauth.AuthError as exc:
                raise _AuthFailure(exc) from None
            caller = token.email
            self._pass_time()
            self._charge_quotas(method_id, token, kwargs.get("calendar_id"))
            self._inject_fault(method_id)
            delay = self._latency(method_id)
            if delay:
                time.sleep(delay)
                if _outlived_a_reset(state, generation):
                    return _stale()
            call = Call(state, caller, token.client_id, body, query,
                        request.headers.get("If-Match"), request.host_url.rstrip("/") + API)
            status, out = handler(call, **kwargs)
        except ApiError as exc:
            status, out, headers = exc.status, exc.body(), exc.headers
        except Exception as exc:  # a stand-in bug must fail the test that hit it
            violations.append(
                f"stand-in crashed in {method_id}: {type(exc).__name__}: {exc}\n"
                + traceback.format_exc(limit=4)
            )
            status, out = 500, ApiError(500, "backendError", "Backend Error").body()
        if 200 <= status < 300 and out is not None:
            violations += self.schemas.check_response(method_id, out)
        with state.lock:
            state.schema_violations.extend(violations)
            state.requests.append(
                {
                    "service": "calendar",
                    "method": method_id,
                    "http_method": request.method,
                    "path": request.path,
                    "query": {k: v[0] if len(v) == 1 else v for k, v in query.items()},
                    "headers": {k: v for k, v in request.headers.items()
                                if k in ("If-Match", "Content-Type", "User-Agent")},
                    "body": body,
                    "caller": caller,
                    "status": status,
                    "response": out,
                    "started": started,  # with "at", shows which calls overlapped
                    "at": state.now(),
                }
            )
        if out is None:
            return Response(status=status, headers=headers)
        return Response(json.dumps(out), status=status, headers=headers,
                        mimetype="application/json")

    def _pass_time(self) -> None:
        """What Google does in the background, done when the next call comes: purge deleted
        events, finish pending Meet requests (their watchers get a push)."""
        state = self.state
        with state.lock:
            st = store(state)
            purge(st, state.now())
            for calendar_id, _ in events.resolve_conferences(st, state.now()):
                calendar_push.notify(state, calendar_id)

    def _charge_quotas(self, method_id: str, token: oauth.AccessToken,
                       calendar_id: str | None) -> None:
        """Google's quotas, in the order a request meets them; each refusal is the body from
        Google's errors page (developers.google.com/calendar/api/guides/errors)."""
        state = self.state
        with state.lock:
            st, now, limits = store(state), state.now(), store(state).settings
            if not charge(st, ("project", token.client_id), limits.quota_project_per_minute,
                          60.0, now):
                raise usage_limit(429, "rateLimitExceeded")
            if not charge(st, ("user", token.client_id, token.email),
                          limits.quota_user_per_minute, 60.0, now):
                raise usage_limit(403, "userRateLimitExceeded")
            if method_id in WRITES and calendar_id is not None:
                target = token.email if calendar_id == "primary" else calendar_id
                if not charge(st, ("writes", target), limits.quota_calendar_writes_per_second,
                              1.0, now):
                    raise usage_limit(403, "rateLimitExceeded")
            if method_id == "calendar.events.insert" and not charge(
                st, ("inserts", token.email), limits.quota_user_inserts_per_day, 86400.0, now
            ):
                raise usage_limit(403, "quotaExceeded")

    def _inject_fault(self, method_id: str) -> None:
        with self.state.lock:
            faults = store(self.state).faults
            for fault in faults:
                if fault.method in ("*", method_id) and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        faults.remove(fault)
                    raise ApiError(fault.status, fault.reason, fault.message,
                                   domain=fault.domain,
                                   rpc_status=RPC_STATUS.get(fault.status))

    def _latency(self, method_id: str) -> float:
        with self.state.lock:
            latency = store(self.state).latency
            return latency.get(method_id, latency.get("*", 0.0))


def _outlived_a_reset(state: GoogleState, generation: int) -> bool:
    with state.lock:
        return state.generation != generation


def _stale() -> Response:
    """The answer to a request whose world was reset while it waited: nothing done, nothing
    recorded in the new state (no caller is left to read it; the product gave up long ago)."""
    body = ApiError(503, "backendError", "Backend Error").body()
    return Response(json.dumps(body), status=503, mimetype="application/json")


WRITES = frozenset({
    "calendar.events.insert", "calendar.events.patch", "calendar.events.update",
    "calendar.events.delete",
})


def usage_limit(status: int, reason: str) -> ApiError:
    # The errors page's bodies: {"error": {"errors": [{"domain": "usageLimits", "reason",
    # "message"}], "code", "message"}}, no "status" field.
    return ApiError(status, reason, USAGE_LIMIT_REASONS[reason], domain="usageLimits")


def _method_id(name: str) -> str:
    return name if name == "*" or name.startswith("calendar.") else f"calendar.{name}"


# ---------------------------------------------------------------- handlers


def _int_param(call: Call, name: str, allowed: tuple[int, ...]) -> int:
    raw = call.one(name)
    if raw is None:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"Invalid value for: {name}", name) from None
    if value not in allowed:
        raise invalid(f"Invalid value for: {name}", name)
    return value


def _send_updates(call: Call) -> str | None:
    value = call.one("sendUpdates")
    if value is not None and value not in SEND_UPDATES:
        raise invalid(f"Invalid value for: sendUpdates '{value}'", "sendUpdates")
    return value


def _event_body(call: Call) -> dict[str, Any]:
    if not isinstance(call.body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    return call.body


def _record(cal: CalendarData, event_id: str) -> EventRecord:
    record = cal.events.get(event_id)
    if record is None:
        raise not_found()
    return record


@contextmanager
def _changing(st: CalendarStore, cal: CalendarData, event_id: str) -> Iterator[EventRecord]:
    """The event to change: a stored one, or an occurrence of a series made into its own record;
    if the change is refused, an occurrence made for it goes back to being virtual."""
    found = events.instance_record(st, cal, event_id)
    if found is None:
        raise not_found()
    record, made = found
    try:
        yield record
    except BaseException:
        if made:
            del cal.events[event_id]
        raise


def _check_if_match(call: Call, record: EventRecord) -> None:
    if call.if_match not in (None, "*", record.resource["etag"]):
        raise ApiError(412, "conditionNotMet", "Precondition Failed", location="If-Match",
                       location_type="header")


def _list_entry(cal: CalendarData, email: str, role: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": "calendar#calendarListEntry",
        "etag": etag_for(cal.seq),
        "id": cal.id,
        "summary": cal.summary,
        "timeZone": cal.time_zone,
        "accessRole": role,
        "defaultReminders": [],
        "selected": True,
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    }
    if cal.description:
        entry["description"] = cal.description
    if cal.id == email:
        entry["primary"] = True
    return entry


def calendar_list(call: Call) -> tuple[int, Any]:
    state = call.state
    if call.one("syncToken") is not None:
        # Not implemented: a client relying on it should find out here, not in production.
        raise invalid("The stand-in does not serve calendarList syncToken.", "syncToken")
    size = page_size(call.query, 100, 250)
    least = call.one("minAccessRole") or "freeBusyReader"
    if least not in ROLES:
        raise invalid(f"Invalid value for: minAccessRole '{least}'", "minAccessRole")
    with state.lock:
        st = store(state)
        entries = []
        for calendar_id in visible_calendar_ids(state, call.caller):
            cal = calendar(state, calendar_id)
            role = role_of(state, call.caller, calendar_id)
            if cal is None or ROLE_RANK.get(role, 0) < ROLE_RANK[least]:
                continue
            entries.append(_list_entry(cal, call.caller, role))
        entries.sort(key=lambda e: (not e.get("primary", False), e["id"]))
        offset = 0
        token = call.one("pageToken")
        if token is not None:
            payload = decode_token(token)
            if payload is None or payload.get("f") != fingerprint(call.query):
                raise invalid("Invalid Value", "pageToken")
            offset = int(payload["o"])
        body: dict[str, Any] = {
            "kind": "calendar#calendarList",
            "etag": etag_for(st.seq),
            "items": entries[offset:offset + size],
        }
        if offset + size < len(entries):
            body["nextPageToken"] = encode_token(
                {"o": offset + size, "f": fingerprint(call.query)}
            )
        return 200, body


def calendar_list_get(call: Call, calendar_id: str) -> tuple[int, Any]:
    with call.state.lock:
        cal, role = resolve(call.state, call.caller, calendar_id, "freeBusyReader")
        return 200, _list_entry(cal, call.caller, role)


def calendars_get(call: Call, calendar_id: str) -> tuple[int, Any]:
    with call.state.lock:
        cal, _ = resolve(call.state, call.caller, calendar_id, "freeBusyReader")
        body = {
            "kind": "calendar#calendar",
            "etag": etag_for(cal.seq),
            "id": cal.id,
            "summary": cal.summary,
            "timeZone": cal.time_zone,
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
        if cal.description:
            body["description"] = cal.description
        return 200, body


def events_insert(call: Call, calendar_id: str) -> tuple[int, Any]:
    state = call.state
    version = _int_param(call, "conferenceDataVersion", (0, 1))
    send_updates = _send_updates(call)
    body = _event_body(call)
    with state.lock:
        cal, _ = resolve(state, call.caller, calendar_id, "writer")
        record = events.insert(
            store(state), cal, body, creator=call.caller, now=state.now(),
            conference_version=version, send_updates=send_updates,
        )
        calendar_push.notify(state, cal.id)
        return 200, events.render(record, cal)


def events_get(call: Call, calendar_id: str, event_id: str) -> tuple[int, Any]:
    tz = call.one("timeZone")
    with call.state.lock:
        cal, role = resolve(call.state, call.caller, calendar_id, "freeBusyReader")
        record = cal.events.get(event_id)
        if record is not None:
            return 200, events.render(record, cal, tz=tz, role=role)
        master_id, sep, _ = event_id.rpartition("_")
        master = cal.events.get(master_id) if sep else None
        if master is not None and not master.cancelled:
            for occ in events.occurrences(master, cal):
                if occ.resource["id"] == event_id:
                    return 200, events.render(occ.resource, cal, tz=tz, role=role)
        raise not_found()


def _events_modify(call: Call, calendar_id: str, event_id: str, replace: bool) -> tuple[int, Any]:
    state = call.state
    version = _int_param(call, "conferenceDataVersion", (0, 1))
    send_updates = _send_updates(call)
    body = _event_body(call)
    with state.lock:
        cal, _ = resolve(state, call.caller, calendar_id, "writer")
        with _changing(store(state), cal, event_id) as record:
            _check_if_match(call, record)
            events.modify(
                store(state), cal, record, body, replace=replace, now=state.now(),
                conference_version=version, send_updates=send_updates,
            )
        calendar_push.notify(state, cal.id)
        return 200, events.render(record, cal)


def events_patch(call: Call, calendar_id: str, event_id: str) -> tuple[int, Any]:
    return _events_modify(call, calendar_id, event_id, replace=False)


def events_update(call: Call, calendar_id: str, event_id: str) -> tuple[int, Any]:
    return _events_modify(call, calendar_id, event_id, replace=True)


def events_delete(call: Call, calendar_id: str, event_id: str) -> tuple[int, Any]:
    state = call.state
    send_updates = _send_updates(call)
    with state.lock:
        cal, _ = resolve(state, call.caller, calendar_id, "writer")
        with _changing(store(state), cal, event_id) as record:
            _check_if_match(call, record)
            events.delete(store(state), cal, record, now=state.now(), send_updates=send_updates)
        calendar_push.notify(state, cal.id)
        return 204, None


def events_instances(call: Call, calendar_id: str, event_id: str) -> tuple[int, Any]:
    with call.state.lock:
        cal, role = resolve(call.state, call.caller, calendar_id, "freeBusyReader")
        series = _record(cal, event_id)
        return 200, calendar_sync.list_instances(store(call.state), cal, role, series, call.query)


def events_list(call: Call, calendar_id: str) -> tuple[int, Any]:
    with call.state.lock:
        cal, role = resolve(call.state, call.caller, calendar_id, "freeBusyReader")
        return 200, calendar_sync.list_events(store(call.state), cal, role, call.query,
                                              call.state.now())


def events_watch(call: Call, calendar_id: str) -> tuple[int, Any]:
    with call.state.lock:
        cal, _ = resolve(call.state, call.caller, calendar_id, "freeBusyReader")
        uri = f"{call.api_root}/calendars/{quote(cal.id, safe='@')}/events?alt=json"
        return 200, calendar_push.watch(call.state, cal, call.caller, call.body, uri,
                                        call.client_id)


def channels_stop(call: Call) -> tuple[int, Any]:
    calendar_push.stop(call.state, call.body, call.caller, call.client_id)
    return 204, None


def freebusy_query(call: Call) -> tuple[int, Any]:
    with call.state.lock:
        return 200, calendar_freebusy.query(call.state, store(call.state), call.caller, call.body)


ROUTES: list[tuple[str, str, str, Handler]] = [
    ("GET", "/users/me/calendarList", "calendar.calendarList.list", calendar_list),
    ("GET", "/users/me/calendarList/<calendar_id>", "calendar.calendarList.get",
     calendar_list_get),
    ("GET", "/calendars/<calendar_id>", "calendar.calendars.get", calendars_get),
    ("POST", "/calendars/<calendar_id>/events", "calendar.events.insert", events_insert),
    ("GET", "/calendars/<calendar_id>/events", "calendar.events.list", events_list),
    ("POST", "/calendars/<calendar_id>/events/watch", "calendar.events.watch", events_watch),
    ("GET", "/calendars/<calendar_id>/events/<event_id>", "calendar.events.get", events_get),
    ("GET", "/calendars/<calendar_id>/events/<event_id>/instances", "calendar.events.instances",
     events_instances),
    ("PATCH", "/calendars/<calendar_id>/events/<event_id>", "calendar.events.patch",
     events_patch),
    ("PUT", "/calendars/<calendar_id>/events/<event_id>", "calendar.events.update",
     events_update),
    ("DELETE", "/calendars/<calendar_id>/events/<event_id>", "calendar.events.delete",
     events_delete),
    ("POST", "/channels/stop", "calendar.channels.stop", channels_stop),
    ("POST", "/freeBusy", "calendar.freebusy.query", freebusy_query),
]


# ---------------------------------------------------------------- control


def _control_error(exc: ApiError) -> Response:
    return Response(json.dumps(exc.body()), status=exc.status, mimetype="application/json")


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json")


def _payload() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _owner_of(cal: CalendarData) -> str:
    return cal.owner or cal.id


def _raw_event(record: EventRecord, cal: CalendarData) -> dict[str, Any]:
    return {
        **events.render(record, cal),
        "_standin": {
            "deleted": record.deleted,
            "seq": record.seq,
            "sendUpdates": list(record.send_updates),
        },
    }


def _control_routes(bp: Blueprint, state: GoogleState) -> None:
    def guarded(fn: Callable[..., Response]) -> Callable[..., Response]:
        def view(**kwargs: Any) -> Response:
            try:
                return fn(**kwargs)
            except ApiError as exc:
                return _control_error(exc)

        view.__name__ = fn.__name__
        return view

    def existing(calendar_id: str) -> CalendarData:
        cal = calendar(state, calendar_id)
        if cal is None:
            raise not_found()
        return cal

    @bp.post("/_control/calendars")
    @guarded
    def control_create_calendar() -> Response:
        data = _payload()
        if not data.get("id"):
            raise invalid("id is required")
        cal = create_calendar(
            state,
            data["id"],
            summary=data.get("summary"),
            time_zone=data.get("time_zone") or "UTC",
            owner=data.get("owner") or "",
            description=data.get("description") or "",
            shares=data.get("shares") or {},
        )
        with state.lock:
            return _json(_calendar_json(cal), 201)

    @bp.get("/_control/calendars")
    @guarded
    def control_calendars() -> Response:
        with state.lock:
            return _json([_calendar_json(c) for c in store(state).calendars.values()])

    @bp.delete("/_control/calendars/<calendar_id>")
    @guarded
    def control_delete_calendar(calendar_id: str) -> Response:
        with state.lock:
            cal = existing(calendar_id)
            calendar_push.notify(state, cal.id, "not_exists")
            del store(state).calendars[cal.id]
            for account in state.accounts.values():
                account.calendar_roles.pop(cal.id, None)
            return _json({"deleted": cal.id})

    @bp.get("/_control/calendars/<calendar_id>/events")
    @guarded
    def control_events(calendar_id: str) -> Response:
        with state.lock:
            cal = existing(calendar_id)
            records = sorted(cal.events.values(), key=lambda r: (r.start, r.id))
            return _json([_raw_event(r, cal) for r in records])

    @bp.post("/_control/calendars/<calendar_id>/events")
    @guarded
    def control_add_event(calendar_id: str) -> Response:
        data = _payload()
        with state.lock:
            cal = existing(calendar_id)
            record = events.insert(
                store(state), cal, data, creator=_owner_of(cal), now=state.now(),
                conference_version=1 if "conferenceData" in data else 0, send_updates=None,
            )
            calendar_push.notify(state, cal.id)
            return _json(_raw_event(record, cal), 201)

    @bp.patch("/_control/calendars/<calendar_id>/events/<event_id>")
    @guarded
    def control_edit_event(calendar_id: str, event_id: str) -> Response:
        data = _payload()
        with state.lock:
            cal = existing(calendar_id)
            with _changing(store(state), cal, event_id) as record:
                events.modify(
                    store(state), cal, record, data, replace=False, now=state.now(),
                    conference_version=1 if "conferenceData" in data else 0, send_updates=None,
                )
            calendar_push.notify(state, cal.id)
            return _json(_raw_event(record, cal))

    @bp.delete("/_control/calendars/<calendar_id>/events/<event_id>")
    @guarded
    def control_delete_event(calendar_id: str, event_id: str) -> Response:
        with state.lock:
            cal = existing(calendar_id)
            with _changing(store(state), cal, event_id) as record:
                events.delete(store(state), cal, record, now=state.now(), send_updates=None)
            calendar_push.notify(state, cal.id)
            return _json(_raw_event(record, cal))

    @bp.post("/_control/faults")
    @guarded
    def control_faults() -> Response:
        data = _payload()
        status = int(data.get("status", 503))
        reason = data.get("reason") or ("backendError" if status >= 500 else "rateLimitExceeded")
        fault = Fault(
            method=_method_id(data.get("method") or "*"),
            remaining=int(data.get("count", 1)),
            status=status,
            reason=reason,
            message=data.get("message") or DEFAULT_FAULT_MESSAGES.get(reason, reason),
            domain=data.get("domain") or (
                "usageLimits" if reason in USAGE_LIMIT_REASONS else "global"
            ),
        )
        with state.lock:
            store(state).faults.append(fault)
            return _json(asdict(fault), 201)

    @bp.delete("/_control/faults")
    @guarded
    def control_clear_faults() -> Response:
        with state.lock:
            store(state).faults.clear()
            return _json({"cleared": True})

    @bp.post("/_control/latency")
    @guarded
    def control_latency() -> Response:
        data = _payload()
        method = _method_id(data.get("method") or "*")
        seconds = float(data.get("seconds", 0))
        with state.lock:
            latency = store(state).latency
            if seconds > 0:
                latency[method] = seconds
            else:
                latency.pop(method, None)
            return _json(dict(latency))

    @bp.get("/_control/calendar/requests")
    @guarded
    def control_requests() -> Response:
        wanted = request.args.get("name")
        with state.lock:
            found = [
                r for r in state.requests
                if r.get("service") == "calendar"
                and (wanted is None or r["method"] == _method_id(wanted))
            ]
            return _json(found)

    @bp.post("/_control/sync-tokens/expire")
    @guarded
    def control_expire_sync_tokens() -> Response:
        calendar_id = _payload().get("calendar_id")
        with state.lock:
            targets = [existing(calendar_id)] if calendar_id else store(state).calendars.values()
            done = []
            for cal in targets:
                cal.sync_epoch += 1
                done.append(cal.id)
            return _json({"expired": done})

    @bp.post("/_control/channels/expire")
    @guarded
    def control_expire_channels() -> Response:
        data = _payload()
        done = calendar_push.expire(state, data.get("channel_id"), data.get("calendar_id"))
        return _json({"expired": done})

    @bp.get("/_control/channels")
    @guarded
    def control_channels() -> Response:
        with state.lock:
            now = state.now()
            return _json([c.public(now) for c in store(state).channels.values()])

    @bp.get("/_control/push/deliveries")
    @guarded
    def control_deliveries() -> Response:
        wanted = request.args.get("channel_id")
        with state.lock:
            found = [d for d in store(state).deliveries
                     if wanted is None or d["channel_id"] == wanted]
            return _json(found)

    @bp.post("/_control/push/flush")
    @guarded
    def control_flush() -> Response:
        timeout = float(_payload().get("timeout", 10))
        if flush_push(state, timeout):
            return _json({"flushed": True})
        return _json({"flushed": False, "pending": calendar_push.pending(state)}, 504)

    @bp.post("/_control/conferences/resolve")
    @guarded
    def control_resolve_conferences() -> Response:
        data = _payload()
        outcome = data.get("outcome")
        if outcome not in (None, "success", "failure"):
            raise invalid("outcome must be success or failure")
        with state.lock:
            done = events.resolve_conferences(
                store(state), state.now(), outcome=outcome, calendar_id=data.get("calendar_id"),
                event_id=data.get("event_id"), force=True,
            )
            for calendar_id in {c for c, _ in done}:
                calendar_push.notify(state, calendar_id)
            return _json({"resolved": [e for _, e in done]})

    @bp.post("/_control/push/drop")
    @guarded
    def control_drop_pushes() -> Response:
        count = _payload().get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise invalid("count must be a whole number >= 0")
        with state.lock:
            store(state).push_drop_next = count
            return _json({"drop_next": count})

    @bp.post("/_control/calendar/settings")
    @guarded
    def control_settings() -> Response:
        data = _payload()
        with state.lock:
            st = store(state)
            # Checked on a copy: a refused change (400) leaves every setting as it was.
            candidate = replace(st.settings)
            for key, value in data.items():
                if key not in SETTING_CHECKS:
                    raise invalid(f"unknown setting {key!r}")
                if not SETTING_CHECKS[key](value):
                    raise invalid(f"bad value for {key}: {value!r}")
                setattr(candidate, key, value)
            st.settings = candidate
            state.revocation_delay = float(candidate.revocation_delay)
            if "seed" in data:
                st.rng.seed(candidate.seed)
            return _json(asdict(candidate))


def _calendar_json(cal: CalendarData) -> dict[str, Any]:
    return {
        "id": cal.id,
        "summary": cal.summary,
        "time_zone": cal.time_zone,
        "owner": cal.owner,
        "description": cal.description,
        "acl": dict(cal.acl),
        "sync_epoch": cal.sync_epoch,
        "events": len(cal.events),
    }


# ---------------------------------------------------------------- assembly


def blueprint(state: GoogleState) -> Blueprint:
    bp = Blueprint("calendar", __name__)
    api = _Api(state)

    def bind(method_id: str, handler: Handler) -> Callable[..., Response]:
        def view(**kwargs: Any) -> Response:
            return api.serve(method_id, handler, kwargs)

        return view

    for http_method, rule, method_id, handler in ROUTES:
        bp.add_url_rule(API + rule, endpoint=method_id.replace(".", "_"),
                        view_func=bind(method_id, handler),
                        methods=[http_method])

    @bp.route(API + "/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unserved(rest: str) -> Response:
        with state.lock:
            state.schema_violations.append(
                f"the stand-in does not serve {request.method} {API}/{rest}"
            )
        return _json(not_found().body(), 404)

    _control_routes(bp, state)
    return bp
