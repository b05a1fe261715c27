"""Google Calendar API v3 for one connected account: credentials, retries, error translation.

Credentials come from the refresh token in Secret Manager and are cached per instance, keyed by
the connection's token version, so a reconnect never reuses a dead grant. Google's transient
answers (429, 403 rate limits, 5xx, timeouts, DNS and connection failures, token refreshes that
could not reach Google) are retried with exponential backoff and full jitter until the caller's
`Deadline`, which also bounds every HTTP timeout; everything else is translated into our errors
here and nowhere else. No exception of a library leaves this module.
"""

from __future__ import annotations

import functools
import http.client
import json
import queue
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from booking import clients
from booking.adapters import secrets
from booking.config import CALENDAR_SCOPES, get_settings
from booking.deadline import Deadline
from booking.domain.model import CalendarInfo, Connection
from booking.errors import PermanentError, ReauthRequired, TransientError

RETRY_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})
HTTP_TIMEOUT = 15.0
DEFAULT_DEADLINE = 20.0
MAX_FREEBUSY_ITEMS = 50  # Google's calendarExpansionMax ceiling
MAX_FREEBUSY_SPAN_DAYS = 60  # stay well inside "The requested time range is too long."
MEET_WAITS = (0.2, 0.4, 0.8, 1.6)  # seconds between reads of a pending Meet room (3 s in all)


def _credentials(refresh_token: str, access_token: str | None = None,
                 expires_in: int | None = None) -> Any:
    from datetime import UTC, datetime, timedelta

    from google.oauth2.credentials import Credentials

    settings = get_settings()
    expiry = None
    if access_token and expires_in:
        # google-auth compares against a naive UTC datetime.
        expiry = (datetime.now(UTC) + timedelta(seconds=expires_in)).replace(tzinfo=None)
    return Credentials(  # type: ignore[no-untyped-call]
        token=access_token,
        expiry=expiry,
        refresh_token=refresh_token,
        token_uri=settings.google_token_uri,
        client_id=settings.need("google_client_id"),
        client_secret=settings.need("google_client_secret"),
        scopes=list(CALENDAR_SCOPES),
    )


def _credentials_key(conn: Connection) -> str:
    return f"google_credentials:{conn.secret_id}:{conn.token_version}"


def credentials_for(conn: Connection) -> Any:
    """google-auth Credentials for the connection; refreshed by google-auth before expiry."""
    return clients.cached(_credentials_key(conn), lambda: _credentials(secrets.get(conn.secret_id)))


def use_grant(conn: Connection, *, access_token: str, refresh_token: str,
              expires_in: int) -> None:
    """Calls for `conn` use this fresh grant: a connection being made can read its calendars
    before anything about it is stored."""
    clients.store(_credentials_key(conn), _credentials(refresh_token, access_token, expires_in))


def _discovery() -> dict[str, Any]:
    """Calendar's discovery document, shipped with the client library, parsed once per
    instance: parsing it is most of what building a service object costs (about 7 ms)."""

    def load() -> dict[str, Any]:
        from googleapiclient.discovery_cache import get_static_doc

        doc: dict[str, Any] = json.loads(get_static_doc("calendar", "v3"))
        return doc

    return clients.cached("calendar_discovery", load)  # type: ignore[no-any-return]


# Idle HTTP clients kept per instance, so a call reuses a connection to Google (a TLS
# handshake saved each time) instead of opening one. httplib2.Http is not thread-safe: each is
# lent to one call at a time.
HTTP_POOL = 16


class _Pool(queue.LifoQueue[Any]):
    close_on_reset = True  # booking.clients.reset closes the idle connections

    def close(self) -> None:
        while True:
            try:
                self.get_nowait().close()
            except queue.Empty:
                return


@contextmanager
def _http(timeout: float) -> Iterator[Any]:
    """An HTTP client for one call, its connections' timeouts set to `timeout` (the caller's
    deadline bounds it). Given back to the pool only after a call that raised nothing: a
    timeout, a reset or an error answer may leave a connection in any state, so it is closed."""
    import httplib2

    pool: _Pool = clients.cached("google_http", _Pool)
    try:
        lent = pool.get_nowait()
    except queue.Empty:
        lent = httplib2.Http(timeout=timeout)
    lent.timeout = timeout
    for connection in list(lent.connections.values()):
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
    try:
        yield lent
    except BaseException:
        lent.close()
        raise
    if pool.qsize() < HTTP_POOL:
        pool.put_nowait(lent)
    else:
        lent.close()


class _Unbound:
    """The HTTP client the shared service is built with. Every call brings its account's own
    (`execute(http=...)`), so a request reaching this one is a bug, never an unauthenticated
    call to Google."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a Calendar request was made without its account's HTTP client")


class _Calendar:
    """Calendar v3 built once per instance, and each resource we use made once: building them
    per call was most of a call's CPU (a fresh service pretty-prints the schemas of every
    method it makes; `events()` makes 11 methods, about 1 ms), paid per account while the other
    accounts' requests waited for the GIL. A resource only builds requests; the HTTP client,
    which carries the account's credentials, is given to each request's `execute`, so one
    service serves every account and thread."""

    def __init__(self) -> None:
        from googleapiclient.discovery import build_from_document

        service = build_from_document(
            _discovery(), http=_Unbound(),
            client_options={"api_endpoint": get_settings().google_calendar_endpoint})
        self._events = service.events()
        self._freebusy = service.freebusy()
        self._calendar_list = service.calendarList()
        self._channels = service.channels()

    def events(self) -> Any:
        return self._events

    def freebusy(self) -> Any:
        return self._freebusy

    def calendarList(self) -> Any:  # noqa: N802 - the API's name, as on a built service
        return self._calendar_list

    def channels(self) -> Any:
        return self._channels


def _calendar() -> _Calendar:
    return clients.cached("calendar_service", _Calendar)  # type: ignore[no-any-return]


def _reason(exc: Any) -> str:
    try:
        return str(json.loads(exc.content)["error"]["errors"][0]["reason"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def budget(deadline: Deadline | None) -> Deadline:
    """The caller's deadline, or a fresh default one for callers nobody waits on."""
    return deadline if deadline is not None else Deadline.within(DEFAULT_DEADLINE)


def call(conn: Connection, make: Callable[[Any], Any], *, what: str,
         deadline: Deadline | None = None, sleep: Callable[[float], None] = time.sleep) -> Any:
    """Runs `make(service).execute()` with retries until the deadline (each HTTP timeout ends
    with it too); returns the response."""
    import google_auth_httplib2
    import httplib2
    from google.auth import exceptions as auth_exc
    from googleapiclient.errors import HttpError

    limit = budget(deadline)
    attempt = 0
    while True:
        if limit.expired():
            raise TransientError("google", f"{what}: no time left")
        try:
            with _http(limit.timeout(HTTP_TIMEOUT)) as lent:
                authorized = google_auth_httplib2.AuthorizedHttp(credentials_for(conn), http=lent)
                return make(_calendar()).execute(http=authorized, num_retries=0)
        except auth_exc.RefreshError as exc:
            if "invalid_grant" in str(exc):
                raise ReauthRequired("google", f"{conn.email}: access was revoked or expired",
                                     400, "invalid_grant") from exc
            error: Exception = TransientError("google", f"{what}: token refresh failed")
            cause: Exception = exc
        except HttpError as exc:
            status, reason = exc.status_code, _reason(exc)
            transient = status in (429, 500, 502, 503, 504) or (
                status == 403 and reason in RETRY_REASONS
            )
            if not transient:
                raise PermanentError("google", f"{what}: {status} {reason}", status,
                                     reason) from exc
            error, cause = TransientError("google", f"{what}: {status} {reason}", status,
                                          reason), exc
        except (OSError, TimeoutError, http.client.HTTPException, httplib2.HttpLib2Error,
                auth_exc.TransportError) as exc:
            # DNS failures (httplib2.ServerNotFoundError), resets, and the same during a token
            # refresh (google-auth's TransportError) are worth another try.
            error, cause = TransientError("google", f"{what}: {type(exc).__name__}"), exc
        attempt += 1
        pause = random.uniform(0, min(8.0, 0.25 * 2**attempt))
        if not limit.allows(pause):
            raise error from cause
        sleep(pause)


def _list_page(service: Any, page_token: str | None) -> Any:
    return service.calendarList().list(maxResults=250, pageToken=page_token)


def calendar_list(conn: Connection) -> list[CalendarInfo]:
    found: list[CalendarInfo] = []
    page_token: str | None = None
    while True:
        resp = call(
            conn,
            functools.partial(_list_page, page_token=page_token),
            what="calendarList.list",
        )
        for item in resp.get("items", []):
            if item.get("deleted"):
                continue
            found.append(
                CalendarInfo(
                    id=item["id"],
                    summary=item.get("summaryOverride") or item.get("summary", item["id"]),
                    access_role=item.get("accessRole", "reader"),
                    time_zone=item.get("timeZone", "UTC"),
                    primary=bool(item.get("primary", False)),
                )
            )
        page_token = resp.get("nextPageToken")
        if not page_token:
            return found


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def freebusy(conn: Connection, calendar_ids: list[str], start: datetime, end: datetime,
             deadline: Deadline | None = None) -> dict[str, list[tuple[datetime, datetime]]]:
    """Busy intervals per calendar over [start, end). Chunked so no request passes Google's
    limits (50 calendars, a bounded time span); the chunks are asked at once, so a long range
    still costs one round trip. A calendar Google reports an error for raises, because an
    unchecked calendar must never be treated as free."""
    from datetime import timedelta

    from booking import fanout

    span = timedelta(days=MAX_FREEBUSY_SPAN_DAYS)
    chunks: list[tuple[list[str], dict[str, Any]]] = []
    for i in range(0, len(calendar_ids), MAX_FREEBUSY_ITEMS):
        ids = calendar_ids[i:i + MAX_FREEBUSY_ITEMS]
        chunk_start = start
        while chunk_start < end:
            chunk_end = min(end, chunk_start + span)
            chunks.append((ids, {
                "timeMin": _rfc3339(chunk_start),
                "timeMax": _rfc3339(chunk_end),
                "items": [{"id": cid} for cid in ids],
            }))
            chunk_start = chunk_end
    responses = fanout.run_all([
        functools.partial(call, conn, functools.partial(_freebusy_query, body=body),
                          what="freebusy.query", deadline=deadline)
        for _, body in chunks])
    busy: dict[str, list[tuple[datetime, datetime]]] = {cid: [] for cid in calendar_ids}
    for (ids, _), resp in zip(chunks, responses, strict=True):
        for cid in ids:
            entry = resp.get("calendars", {}).get(cid)
            if entry is None or entry.get("errors"):
                errors = (entry or {}).get("errors", [])
                reasons = ",".join(e.get("reason", "?") for e in errors)
                raise PermanentError("google", f"freebusy for a calendar of {conn.email} "
                                     f"failed: {reasons or 'missing'}", 404, reasons)
            for period in entry.get("busy", []):
                busy[cid].append((_parse(period["start"]), _parse(period["end"])))
    return busy


def _freebusy_query(service: Any, body: dict[str, Any]) -> Any:
    return service.freebusy().query(body=body)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def watch(conn: Connection, calendar_id: str, *, channel_id: str, address: str, token: str,
          ttl_seconds: int) -> dict[str, Any]:
    body = {"id": channel_id, "type": "web_hook", "address": address, "token": token,
            "params": {"ttl": str(ttl_seconds)}}
    resp: dict[str, Any] = call(
        conn, lambda s: s.events().watch(calendarId=calendar_id, body=body), what="events.watch"
    )
    return resp


def stop_channel(conn: Connection, channel_id: str, resource_id: str) -> None:
    """Stops a push channel; one Google no longer knows is as good as stopped."""
    try:
        call(conn, lambda s: s.channels().stop(body={"id": channel_id, "resourceId": resource_id}),
             what="channels.stop")
    except PermanentError as exc:
        if exc.status != 404:
            raise


def insert_event(conn: Connection, calendar_id: str, body: dict[str, Any], *,
                 conference: bool, deadline: Deadline | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Inserts; a 409 means our deterministic id exists already (an earlier try got through),
    so the existing event is returned instead of a second one being made. A Meet room still
    being made is waited for briefly, so the emails can carry its link."""
    try:
        event: dict[str, Any] = call(conn, lambda s: s.events().insert(
            calendarId=calendar_id, body=body, conferenceDataVersion=1 if conference else 0,
            sendUpdates="none"), what="events.insert", deadline=deadline)
    except PermanentError as exc:
        if exc.status != 409:
            raise
        event = get_event(conn, calendar_id, str(body["id"]), deadline=deadline)
    # Google makes Meet rooms asynchronously: createRequest.status.statusCode is "pending" until
    # a later read shows "success" (or "failure") (Create events guide, conferencing). We wait
    # a little, within the caller's deadline; a room still pending after that is polled by the
    # outbox (calendar_writes) and its link follows by email.
    limit = budget(deadline)
    for pause in MEET_WAITS if conference else ():
        if not _conference_pending(event) or not limit.allows(pause):
            break
        sleep(pause)
        event = get_event(conn, calendar_id, str(event["id"]), deadline=limit)
    return event


def _conference_pending(event: dict[str, Any]) -> bool:
    request = (event.get("conferenceData") or {}).get("createRequest") or {}
    return bool((request.get("status") or {}).get("statusCode") == "pending")


def get_event(conn: Connection, calendar_id: str, event_id: str,
              deadline: Deadline | None = None) -> dict[str, Any]:
    resp: dict[str, Any] = call(conn, lambda s: s.events().get(
        calendarId=calendar_id, eventId=event_id), what="events.get", deadline=deadline)
    return resp


def patch_event(conn: Connection, calendar_id: str, event_id: str, body: dict[str, Any],
                deadline: Deadline | None = None) -> dict[str, Any]:
    # conferenceDataVersion=1 so Google keeps the Meet link it made (0 would not touch it
    # either, but 1 is what Google documents for every modify of an event with conference data).
    resp: dict[str, Any] = call(conn, lambda s: s.events().patch(
        calendarId=calendar_id, eventId=event_id, body=body, conferenceDataVersion=1,
        sendUpdates="none"), what="events.patch", deadline=deadline)
    return resp


def delete_event(conn: Connection, calendar_id: str, event_id: str,
                 deadline: Deadline | None = None) -> None:
    """Deletes; an event already gone (410) or never made (404) is the outcome we want."""
    try:
        call(conn, lambda s: s.events().delete(calendarId=calendar_id, eventId=event_id,
                                               sendUpdates="none"), what="events.delete",
             deadline=deadline)
    except PermanentError as exc:
        if exc.status not in (404, 410):
            raise


def events_between(conn: Connection, calendar_id: str, start: datetime, end: datetime,
                   deadline: Deadline | None = None) -> list[dict[str, Any]]:
    """Single events overlapping [start, end), all pages."""
    found: list[dict[str, Any]] = []
    page: str | None = None
    while True:
        resp = call(conn, lambda s, p=page: s.events().list(  # type: ignore[misc]
            calendarId=calendar_id, timeMin=_rfc3339(start), timeMax=_rfc3339(end),
            singleEvents=True, maxResults=250, pageToken=p), what="events.list",
            deadline=deadline)
        found.extend(resp.get("items", []))
        page = resp.get("nextPageToken")
        if not page:
            return found


SYNC_PAGE_SIZE = 1000


def events_page(conn: Connection, calendar_id: str, *, sync_token: str | None,
                page_token: str | None, window: tuple[datetime, datetime] | None,
                deadline: Deadline | None = None) -> dict[str, Any]:
    """One page of an incremental sync (with `sync_token`) or of a full sync over `window`.

    Recurring series come unexpanded: a changed series is one item (its master), and a changed
    or cancelled occurrence is its own item with recurringEventId; `series_instances` expands a
    master. (Expanded listings cannot say which occurrences a moved series left behind.) A
    full sync asks for deleted events too, so a booking whose event was deleted while our token
    was invalid is still seen as deleted. Google refuses timeMin/timeMax with a sync token and
    answers 410 (reason fullSyncRequired) when the token has expired: the caller then starts a
    full sync.
    """
    params: dict[str, Any] = {"calendarId": calendar_id, "maxResults": SYNC_PAGE_SIZE}
    if sync_token:
        params["syncToken"] = sync_token
    elif window is not None:
        params.update(timeMin=_rfc3339(window[0]), timeMax=_rfc3339(window[1]),
                      showDeleted=True)
    if page_token:
        params["pageToken"] = page_token
    resp: dict[str, Any] = call(conn, lambda s: s.events().list(**params), what="events.list",
                                deadline=deadline)
    return resp


def series_instances(conn: Connection, calendar_id: str, ical_uid: str, start: datetime,
                     end: datetime) -> list[dict[str, Any]]:
    """The occurrences of one recurring series overlapping [start, end), expanded by Google
    with its exceptions (moved occurrences in their new place, cancelled ones left out)."""
    found: list[dict[str, Any]] = []
    page: str | None = None
    while True:
        resp = call(conn, lambda s, p=page: s.events().list(  # type: ignore[misc]
            calendarId=calendar_id, iCalUID=ical_uid, singleEvents=True,
            timeMin=_rfc3339(start), timeMax=_rfc3339(end), maxResults=SYNC_PAGE_SIZE,
            pageToken=p), what="events.list")
        found.extend(resp.get("items", []))
        page = resp.get("nextPageToken")
        if not page:
            return found
