"""The owner's side over HTTP: sign-in, the integration page, the JSON management API, OAuth.

Routes (paths relative to the `owner` function):
    GET  /openapi.yaml                    the published contract (functions/openapi.yaml)
    GET  /login, POST /login              trade the API key for a session cookie
    POST /logout
    GET  /integrations                    the Google Calendar integration page
    POST /integrations/settings           page form: default calendar, conflicts, Meet
    POST /integrations/<id>/refresh       page form: re-read the account's calendar list
    POST /integrations/<id>/disconnect    page form
    GET  /api/connections                 JSON
    PATCH /api/settings                   JSON {default_calendar, conflict_calendars, meet_enabled,
                                          allowed_origins, redirect_urls, max_bookings_per_day}
    POST /api/connections/<id>/refresh    JSON
    DELETE /api/connections/<id>          JSON
    GET  /api/oauth/start                 JSON {url}: where to send the owner's browser
    GET, POST /api/event-types            list, create
    GET, PUT, DELETE /api/event-types/<slug>
    GET  /api/bookings                    recent bookings
    POST /api/bookings/<id>/cancel        {reason}: the same effects as the guest's link
    POST /api/bookings/<id>/reschedule    {start}
    GET  /api/outbox/failed               emails and Google writes that failed for good
Every route but /login and /openapi.yaml needs `Authorization: Bearer <key>` or the session
cookie. Page forms also need a same-origin request (SameSite=Strict cookie plus an Origin check).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Request, Response

from booking.config import get_settings
from booking.domain import ids
from booking.domain.booking_rules import parse_instant
from booking.domain.model import Owner
from booking.errors import InvalidInput, MethodNotAllowed, NotFound, Unauthorized
from booking.web.http import html_response, json_response, read_body, redirect

COOKIE = "owner_session"


def _now() -> datetime:
    return datetime.now(UTC)


def authenticate(request: Request) -> Owner:
    from booking.services import owners

    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return owners.authenticate_key(header[len("Bearer "):])
    cookie = request.cookies.get(COOKIE)
    if cookie:
        return owners.authenticate_session(cookie, _now())
    raise Unauthorized("sign in with your owner API key")


def _page_owner(request: Request) -> Owner | Response:
    try:
        return authenticate(request)
    except Unauthorized:
        return redirect(get_settings().function_url("owner") + "/login")


def _same_origin(request: Request) -> None:
    origin = request.headers.get("Origin")
    base = urlsplit(get_settings().base_url)
    if origin is not None and origin != f"{base.scheme}://{base.netloc}":
        raise Unauthorized("cross-site form posts are not accepted")


def oauth_start(request: Request) -> Response:
    from booking.services import connect

    owner = _page_owner(request)
    if isinstance(owner, Response):
        return owner
    hint = request.args.get("login_hint") or None
    return redirect(connect.start(owner, _now(), login_hint=hint))


def oauth_callback(request: Request) -> Response:
    from booking.services import connect

    params = {k: request.args.get(k, "") for k in ("state", "code", "error", "scope")}
    try:
        result = connect.finish(params, _now())
    except connect.ConnectFailed as exc:
        return _connect_failed(request, exc)
    word = "reconnected" if result.reconnected else "connected"
    return redirect(get_settings().function_url("owner") + f"/integrations?{word}=1")


def _connect_failed(request: Request, exc: Any) -> Response:
    """Not a dead end: what happened, in the owner's words, and the ways back."""
    from booking import i18n
    from booking.rendering import render

    locale = i18n.pick(request.args.get("lang"), request.accept_languages)
    messages = {
        "denied": i18n.t(locale, "You did not allow access to Google Calendar, so nothing was "
                                 "connected. You can try again from your integrations page."),
        "calendar_not_granted": i18n.t(
            locale, 'Calendar access was not granted. Please connect again and tick "Select '
                    'all" on Google\'s permission page, so we can check your calendars for '
                    'conflicts and add bookings to them.'),
    }
    return html_response(render(
        "connect_failed.html", locale, message=messages.get(exc.reason, exc.message),
        retry=get_settings().function_url("oauth_start"),
        back=get_settings().function_url("owner") + "/integrations"), status=exc.status)


def route(request: Request) -> Response:
    path = request.path.rstrip("/") or "/"
    method = request.method
    if path == "/login":
        return _login(request)
    if path == "/openapi.yaml" and method == "GET":
        return _contract()
    if path == "/logout" and method == "POST":
        resp = redirect(get_settings().function_url("owner") + "/login")
        resp.delete_cookie(COOKIE, path="/")
        return resp
    if path.startswith("/api/"):
        return _api(request, authenticate(request), path[len("/api"):], method)
    if path == "/_assets/owner.js":
        from booking.web import owner_pages

        return owner_pages.script(request, None, {})
    owner = _page_owner(request)
    if isinstance(owner, Response):
        return owner
    if path == "/integrations" or path.startswith("/integrations/"):
        return _integrations(request, owner, path[len("/integrations"):], method)
    from booking.web import owner_pages

    return owner_pages.dispatch(request, owner, path)


CONTRACT = Path(__file__).resolve().parents[2] / "openapi.yaml"


def _contract() -> Response:
    """The published OpenAPI document; public, like the functions it describes."""
    resp = Response(CONTRACT.read_bytes(), status=200, mimetype="application/yaml")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _login(request: Request) -> Response:
    from booking import i18n
    from booking.rendering import render
    from booking.services import owners

    locale = i18n.pick(request.args.get("lang"), request.accept_languages)
    if request.method == "GET":
        return html_response(render("login.html", locale, error=None))
    _same_origin(request)
    key = str(read_body(request).get("api_key", ""))
    try:
        owner = owners.authenticate_key(key)
    except Unauthorized:
        return html_response(render("login.html", locale,
                                    error=i18n.t(locale, "That key is not valid.")), status=401)
    resp = redirect(get_settings().function_url("owner") + "/integrations")
    resp.set_cookie(
        COOKIE, owners.session_for(owner.id, _now()), max_age=owners.SESSION_SECONDS,
        httponly=True, samesite="Strict", path="/",
        secure=get_settings().base_url.startswith("https://"),
    )
    return resp


def _api(request: Request, owner: Owner, path: str, method: str) -> Response:
    from booking.services import connect

    parts = [p for p in path.split("/") if p]
    _check_path_ids(parts)
    if parts == ["connections"] and method == "GET":
        return json_response(connect.overview(owner))
    if parts == ["settings"] and method in ("PATCH", "POST"):
        connect.update_settings(owner, read_body(request))
        return json_response(connect.overview(_reload(owner)))
    if parts == ["oauth", "start"] and method == "GET":
        return json_response({"url": connect.start(owner, _now(),
                                                   request.args.get("login_hint") or None)})
    if len(parts) == 3 and parts[0] == "connections" and parts[2] == "refresh":
        if method != "POST":
            raise MethodNotAllowed("use POST")
        conn = connect.refresh_calendars(owner, parts[1], _now())
        return json_response(connect.connection_view(_reload(owner), conn))
    if len(parts) == 2 and parts[0] == "connections":
        if method == "DELETE":
            connect.disconnect(owner, parts[1], _now())
            return json_response({"disconnected": parts[1]})
        if method == "GET":
            conn = connect.require_connection(owner, parts[1])
            return json_response(connect.connection_view(owner, conn))
        raise MethodNotAllowed("use GET or DELETE")
    if parts == ["bookings"] and method == "GET":
        from booking.services import changes

        return json_response({"bookings": [_booking_row(b) for b in
                                           changes.recent(owner)]})
    if len(parts) == 3 and parts[0] == "bookings" and parts[2] in ("cancel", "reschedule"):
        if method != "POST":
            raise MethodNotAllowed("use POST")
        return _change_booking(request, owner, parts[1], parts[2])
    if parts == ["outbox", "failed"] and method == "GET":
        from booking.services import outbox

        return json_response({"failed": outbox.failed_for_owner(owner.id),
                              "alerts": outbox.alerts_for_owner(owner.id)})
    if parts and parts[0] == "event-types":
        return _event_types(request, owner, parts[1:], method)
    raise NotFound("no such resource")


_PATH_IDS = {"connections": ("connection", "no such connection"),
             "bookings": ("booking", "no such booking"),
             "event-types": ("event_type", "no such event type")}


def _check_path_ids(parts: list[str]) -> None:
    """An id in the path must look like one before it names a document: 404, as for an id
    that is well formed but unknown."""
    if len(parts) >= 2 and parts[0] in _PATH_IDS:
        kind, message = _PATH_IDS[parts[0]]
        if not ids.valid(kind, parts[1]):
            raise NotFound(message)


def _event_types(request: Request, owner: Owner, parts: list[str], method: str) -> Response:
    from booking.services import event_types

    if not parts:
        if method == "GET":
            return json_response({"event_types": event_types.list_all(owner)})
        if method == "POST":
            return json_response(event_types.create(owner, read_body(request), _now()), 201)
        raise MethodNotAllowed("use GET or POST")
    if len(parts) != 1:
        raise NotFound("no such resource")
    slug = parts[0]
    if method == "GET":
        return json_response(event_types.load(owner, slug).to_dict())
    if method == "PUT":
        return json_response(event_types.replace(owner, slug, read_body(request), _now()))
    if method == "DELETE":
        event_types.delete(owner, slug)
        return json_response({"deleted": slug})
    raise MethodNotAllowed("use GET, PUT or DELETE")


def _change_booking(request: Request, owner: Owner, booking_id: str, action: str) -> Response:
    from booking.services import changes

    body = read_body(request)
    changes.owner_view(owner, booking_id)  # 404 for another owner's booking
    if action == "cancel":
        after = changes.cancel(owner, booking_id, version=None,
                               reason=str(body.get("reason", "")), by="owner", now=_now())
    else:
        try:
            start = parse_instant(str(body.get("start", "")))
        except ValueError as exc:
            raise InvalidInput("start", str(exc)) from None
        after = changes.reschedule(owner, booking_id, start, version=None, by="owner",
                                   now=_now())
    return json_response({"booking": _booking_row(after)})


def _booking_row(b: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "status", "event_type", "title", "start", "end", "guest", "notes", "answers",
            "meet_link", "html_link", "event_id", "google_status", "google_error", "sequence")
    return {k: b.get(k) for k in keep}


def _reload(owner: Owner) -> Owner:
    from booking.services import owners

    return owners.get(owner.id)


def _integrations(request: Request, owner: Owner, sub: str, method: str) -> Response:
    from booking.domain.meeting import format_day
    from booking.i18n import t
    from booking.rendering import render
    from booking.services import connect

    base = get_settings().function_url("owner")
    locale = owner.language
    parts = [p for p in sub.split("/") if p]
    if method == "GET" and sub == "":
        notice = None
        if request.args.get("connected"):
            notice = t(locale, "Google account connected.")
        elif request.args.get("reconnected"):
            notice = t(locale, "Google account reconnected.")
        view = connect.overview(owner)
        for conn in view["connections"]:
            conn["connected_since"] = format_day(datetime.fromisoformat(conn["connected_at"]),
                                                 locale)
        return html_response(render(
            "integrations.html", locale, view=view, notice=notice, base=base, owner_nav=True,
            oauth_start=get_settings().function_url("oauth_start"),
        ))
    if method == "GET" and len(parts) == 2 and parts[1] == "disconnect":
        # Disconnecting revokes Google's grant: the owner confirms on a page of its own.
        conn = connect.require_connection(owner, parts[0])
        return html_response(render("disconnect.html", locale, conn=conn, base=base))
    if method != "POST":
        raise MethodNotAllowed("use POST")
    _same_origin(request)
    form = request.form
    if len(parts) == 2 and not ids.valid("connection", parts[0]):
        raise NotFound("no such connection")
    if parts == ["settings"]:
        connect.update_settings(owner, _settings_from_form(form))
    elif len(parts) == 2 and parts[1] == "refresh":
        connect.refresh_calendars(owner, parts[0], _now())
    elif len(parts) == 2 and parts[1] == "disconnect":
        connect.disconnect(owner, parts[0], _now())
    else:
        raise NotFound("no such page")
    return redirect(base + "/integrations")


def _settings_from_form(form: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"meet_enabled": form.get("meet_enabled") == "on"}
    default = form.get("default_calendar", "")
    if default:
        conn_id, _, cal_id = default.partition("|")
        body["default_calendar"] = {"connection_id": conn_id, "calendar_id": cal_id}
    conflicts = []
    for value in form.getlist("conflict"):
        conn_id, sep, cal_id = value.partition("|")
        if not sep:
            raise InvalidInput("conflict", "is malformed")
        conflicts.append({"connection_id": conn_id, "calendar_id": cal_id})
    body["conflict_calendars"] = conflicts
    for name in ("language", "time_zone"):
        if form.get(name):
            body[name] = form.get(name)
    return body
