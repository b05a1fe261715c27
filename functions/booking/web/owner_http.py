"""The owner's side over HTTP: sign-in, the integration page, the JSON management API, OAuth.

Routes (paths relative to the `owner` function), declared as tables (booking.web.routes) at
the end of this module, PUBLIC and API, and in `_pages` (with owner_pages.ROUTES):
    GET  /openapi.yaml                    the published contract (functions/openapi.yaml)
    GET  /login, POST /login              trade an API key for a session cookie
    POST /logout                          ends this session (server-side)
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
    GET, POST /api/keys                   list the API keys; create one ({"replace_all": true}
                                          revokes the others: a rotation)
    DELETE /api/keys/<id>                 revoke a key (and the sessions signed in with it)
    GET, POST /api/event-types            list, create
    GET, PUT, DELETE /api/event-types/<slug>
    GET  /api/bookings                    recent bookings
    POST /api/bookings/<id>/cancel        {reason}: the same effects as the guest's link
    POST /api/bookings/<id>/reschedule    {start}
    GET  /api/outbox/failed               emails and Google writes that failed for good
Every route but /login and /openapi.yaml needs `Authorization: Bearer <key>` or the session cookie.

CSRF rule (pages and any script that calls these with the cookie must follow it): a request
authenticated by the session cookie that changes anything (any method but GET, HEAD, OPTIONS)
must be `Content-Type: application/json` and same-origin: `Sec-Fetch-Site: same-origin`, or,
from browsers that do not send it, an `Origin` equal to ours. A cross-site form can send
neither, and SameSite alone is not enough once the functions sit behind a custom domain. Page
forms are sent as JSON by /owner/_assets/owner.js (web/owner_pages.py: `form[data-api]` for API
calls, `form[data-json]` for the integration page's own routes). Requests with the Bearer key
carry no ambient credential and need no such check.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Request, Response

from booking.config import get_settings
from booking.domain.booking_rules import InstantError, parse_instant
from booking.domain.model import Owner
from booking.domain.problems import Problem
from booking.errors import (
    BookingError,
    Forbidden,
    InvalidInput,
    MethodNotAllowed,
    Unauthorized,
)
from booking.services.stored import MISSING
from booking.web.http import (
    error_response,
    html_response,
    json_response,
    read_body,
    redirect,
)
from booking.web.routes import NO_PAGE, Table

if TYPE_CHECKING:
    from booking.services.owners import Authenticated

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
OAUTH_COOKIE_SECONDS = 600


def _now() -> datetime:
    return datetime.now(UTC)


def _https() -> bool:
    return get_settings().need("base_url").startswith("https://")


def cookie_name(name: str) -> str:
    """`__Host-` on https: the browser then keeps the cookie to our exact host, Secure, path /,
    so no sibling subdomain can plant or overwrite it."""
    return f"__Host-{name}" if _https() else name


def _set_cookie(resp: Response, name: str, value: str, max_age: int, samesite: str) -> None:
    resp.set_cookie(cookie_name(name), value, max_age=max_age, httponly=True,
                    samesite=samesite, path="/", secure=_https())


def _our_origin() -> str:
    base = urlsplit(get_settings().need("base_url"))
    return f"{base.scheme}://{base.netloc}"


def require_same_origin_json(request: Request) -> None:
    """The CSRF rule of the module docstring."""
    if request.mimetype != "application/json":
        raise Forbidden(Problem("owner.csrf.json", "changes made with the session cookie must "
                                "be sent as application/json from this site"))
    fetch_site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    same = fetch_site == "same-origin" if fetch_site else origin == _our_origin()
    if not same:
        raise Forbidden(Problem("owner.csrf.cross_site",
                                "cross-site requests may not change anything here"))


def authenticate(request: Request) -> Authenticated:
    from booking.services import owners

    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return owners.authenticate_key(header[len("Bearer "):])
    cookie = request.cookies.get(cookie_name("owner_session"))
    if cookie:
        auth = owners.authenticate_session(cookie, _now())
        if request.method not in SAFE_METHODS:
            require_same_origin_json(request)
        return auth
    raise Unauthorized(Problem("owner.sign_in", "sign in with your owner API key"))


def _script_url() -> str:
    return get_settings().function_url("owner") + "/_assets/owner.js"


def _script_csp() -> dict[str, str]:
    from booking.web import owner_pages

    return owner_pages.SCRIPT_CSP


def _page_owner(request: Request) -> Authenticated | Response:
    try:
        return authenticate(request)
    except Unauthorized:
        return redirect(get_settings().function_url("owner") + "/login")


def _login_origin(request: Request) -> None:
    # Login takes the key in the body, not a cookie; the check stops a site from signing a
    # visitor in to an account of the site's choosing.
    origin = request.headers.get("Origin")
    if origin is not None and origin != _our_origin():
        raise Forbidden(Problem("owner.csrf.login", "cross-site sign-in is not accepted"))


def oauth_start(request: Request) -> Response:
    """Connect from the owner's signed-in browser: the attempt is bound to it by a cookie.
    (With the Bearer key there is no browser to bind: that attempt ends on a confirmation page,
    connect.finish.)"""
    from booking.services import connect

    auth = _page_owner(request)
    if isinstance(auth, Response):
        return auth
    hint = request.args.get("login_hint") or None
    browser = not request.headers.get("Authorization", "").startswith("Bearer ")
    started = connect.start(auth.owner, _now(), login_hint=hint, browser=browser)
    resp = redirect(started.url)
    if started.binding:
        # Lax, not Strict: the cookie must come back on Google's top-level redirect to us.
        _set_cookie(resp, "oauth_attempt", started.binding, OAUTH_COOKIE_SECONDS, "Lax")
    return resp


def oauth_callback(request: Request) -> Response:
    from booking.services import connect

    try:
        return _oauth_callback(request)
    except connect.ConnectFailed as exc:
        return _connect_failed(request, exc)


def _oauth_callback(request: Request) -> Response:
    from booking.rendering import render
    from booking.services import connect

    if request.method == "POST":
        # The owner confirms an attempt started with the API key (connect.Pending below).
        auth = authenticate(request)
        if auth.session_id is None:
            raise Forbidden(Problem("connect.confirm_signed_in",
                                    "confirm from your signed-in browser"))
        body = read_body(request)
        form = body.get("form")
        fields = ({k: (v[0] if isinstance(v, list) and v else v) for k, v in form.items()}
                  if isinstance(form, dict) else {})
        result = connect.confirm(auth.owner, {**body, **fields}, _now())
    elif request.method == "GET":
        params = {k: request.args.get(k, "") for k in ("state", "code", "error")}
        outcome = connect.finish(params, request.cookies.get(cookie_name("oauth_attempt")),
                                 _now())
        if isinstance(outcome, connect.Pending):
            return html_response(render(
                "oauth_confirm.html", _owner_language(request), state=outcome.state,
                code=outcome.code,
                action=get_settings().function_url("oauth_callback"), script=_script_url(),
            ), headers=_script_csp())
        result = outcome
    else:
        raise MethodNotAllowed("GET", "POST")
    word = "reconnected" if result.reconnected else "connected"
    resp = redirect(get_settings().function_url("owner") + f"/integrations?{word}=1")
    resp.delete_cookie(cookie_name("oauth_attempt"), path="/", secure=_https(), httponly=True)
    return resp


def _connect_failed(request: Request, exc: BookingError) -> Response:
    """Not a dead end: what happened, in the owner's words and language, and the ways back."""
    from booking.i18n import say
    from booking.rendering import render

    locale = _owner_language(request)
    return html_response(render(
        "connect_failed.html", locale, message=say(locale, exc.message),
        retry=get_settings().function_url("oauth_start"),
        back=get_settings().function_url("owner") + "/integrations"), status=exc.status)


def _owner_language(request: Request) -> str:
    """The signed-in owner's language setting; the browser's when no owner is signed in here
    (Google's redirect may land in a browser without the session)."""
    from booking import i18n

    try:
        return authenticate(request).owner.language
    except BookingError:
        return i18n.pick(request.args.get("lang"), request.accept_languages)


def route(request: Request) -> Response:
    """Three tables, by who may call: anyone (sign-in, the contract, the page script), the
    owner's JSON API (the Bearer key or the session), the owner's pages (the session, else the
    sign-in page)."""
    path = request.path.rstrip("/") or "/"
    if path == "/api" or path.startswith("/api/"):
        return _api(request, authenticate(request), path[len("/api"):])
    if PUBLIC.match(path)[0]:
        return PUBLIC.dispatch(request, None, path)
    auth = _page_owner(request)
    if isinstance(auth, Response):
        return auth
    try:
        return _pages().dispatch(request, auth.owner, path)
    except BookingError as exc:
        # Owner-facing, so in the owner's language whatever the browser asks for.
        if exc.status >= 500:
            raise
        return error_response(exc, page=True, locale=auth.owner.language)


def _logout(request: Request, context: None, args: dict[str, str]) -> Response:
    from booking.services import owners

    owners.end_session(authenticate(request))
    resp = redirect(get_settings().function_url("owner") + "/login")
    resp.delete_cookie(cookie_name("owner_session"), path="/", secure=_https(), httponly=True)
    return resp


def _script(request: Request, context: None, args: dict[str, str]) -> Response:
    from booking.web import owner_pages

    return owner_pages.script(request, None, {})


CONTRACT = Path(__file__).resolve().parents[2] / "openapi.yaml"


def _contract(request: Request, context: None, args: dict[str, str]) -> Response:
    """The published OpenAPI document; public, like the functions it describes."""
    resp = Response(CONTRACT.read_bytes(), status=200, mimetype="application/yaml")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _login(request: Request, context: None, args: dict[str, str]) -> Response:
    from booking import i18n
    from booking.rendering import render
    from booking.services import owners

    locale = i18n.pick(request.args.get("lang"), request.accept_languages)
    if request.method == "GET":
        return html_response(render("login.html", locale, error=None))
    _login_origin(request)
    key = str(read_body(request).get("api_key", ""))
    try:
        auth = owners.authenticate_key(key)
    except Unauthorized:
        return html_response(render("login.html", locale,
                                    error=i18n.t(locale, "That key is not valid.")), status=401)
    resp = redirect(get_settings().function_url("owner") + "/integrations")
    _set_cookie(resp, "owner_session", owners.session_for(auth, _now()),
                owners.SESSION_SECONDS, "Strict")
    return resp


def _api(request: Request, auth: Authenticated, path: str) -> Response:
    """The owner's JSON API. Why something was refused comes in the owner's language (their
    pages show it, next to the field when it names one); field names and codes stay as they
    are."""
    try:
        return API.dispatch(request, auth, path)
    except BookingError as exc:
        if exc.status >= 500:
            raise
        return error_response(exc, page=False, locale=auth.owner.language)


def _connections(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import connect

    return json_response(connect.overview(auth.owner))


def _settings(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import connect

    connect.update_settings(auth.owner, read_body(request))
    return json_response(connect.overview(_reload(auth.owner)))


def _oauth_start(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import connect

    started = connect.start(auth.owner, _now(), request.args.get("login_hint") or None,
                            browser=False)
    return json_response({"url": started.url})


def _connection(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import connect

    conn = connect.require_connection(auth.owner, args["connection"])
    return json_response(connect.connection_view(auth.owner, conn))


def _refresh(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import connect

    conn = connect.refresh_calendars(auth.owner, args["connection"], _now())
    return json_response(connect.connection_view(_reload(auth.owner), conn))


def _disconnect(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import connect

    connect.disconnect(auth.owner, args["connection"], _now())
    return json_response({"disconnected": args["connection"]})


def _keys(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import owners

    return json_response({"keys": owners.list_keys(auth)})


def _new_key(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import owners

    replace_all = read_body(request).get("replace_all", False)
    if not isinstance(replace_all, bool):
        raise InvalidInput("replace_all", Problem("settings.bool", "must be true or false"))
    return json_response(owners.create_key(auth, _now(), replace_all=replace_all), 201)


def _revoke_key(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import owners

    owners.revoke_key(auth, args["key"])
    return json_response({"revoked": args["key"]})


def _event_types(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import event_types

    return json_response({"event_types": event_types.list_all(auth.owner)})


def _new_event_type(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import event_types

    return json_response(event_types.create(auth.owner, read_body(request), _now()), 201)


def _event_type(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import event_types

    return json_response(event_types.load(auth.owner, args["slug"]).to_dict())


def _replace_event_type(request: Request, auth: Authenticated,
                        args: dict[str, str]) -> Response:
    from booking.services import event_types

    return json_response(event_types.replace(auth.owner, args["slug"], read_body(request),
                                             _now()))


def _delete_event_type(request: Request, auth: Authenticated,
                       args: dict[str, str]) -> Response:
    from booking.services import event_types

    event_types.delete(auth.owner, args["slug"])
    return json_response({"deleted": args["slug"]})


def _bookings(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import changes

    return json_response({"bookings": [_booking_row(b) for b in changes.recent(auth.owner)]})


def _cancel(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import changes

    owner, booking_id = auth.owner, args["booking"]
    body = read_body(request)
    changes.owner_view(owner, booking_id)  # 404 for another owner's booking
    after = changes.cancel(owner, booking_id, version=None,
                           reason=str(body.get("reason", "")), by="owner", now=_now())
    return json_response({"booking": _booking_row(after)})


def _reschedule(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import changes

    owner, booking_id = auth.owner, args["booking"]
    body = read_body(request)
    changes.owner_view(owner, booking_id)
    try:
        start = parse_instant(str(body.get("start", "")))
    except InstantError as exc:
        raise InvalidInput("start", exc.problem) from None
    after = changes.reschedule(owner, booking_id, start, version=None, by="owner", now=_now())
    return json_response({"booking": _booking_row(after)})


def _failed(request: Request, auth: Authenticated, args: dict[str, str]) -> Response:
    from booking.services import outbox

    return json_response({"failed": outbox.failed_for_owner(auth.owner.id),
                          "alerts": outbox.alerts_for_owner(auth.owner.id)})


_CONNECTION = r"/connections/(?P<connection>[^/]+)"
_EVENT_TYPE = r"/event-types/(?P<slug>[^/]+)"
_BOOKING = r"/bookings/(?P<booking>[^/]+)"
API: Table[Authenticated] = Table([
    ("GET", r"/connections", _connections),
    ("GET", _CONNECTION, _connection),
    ("DELETE", _CONNECTION, _disconnect),
    ("POST", _CONNECTION + "/refresh", _refresh),
    ("PATCH", r"/settings", _settings),
    ("POST", r"/settings", _settings),
    ("GET", r"/oauth/start", _oauth_start),
    ("GET", r"/keys", _keys),
    ("POST", r"/keys", _new_key),
    ("DELETE", r"/keys/(?P<key>[^/]+)", _revoke_key),
    ("GET", r"/event-types", _event_types),
    ("POST", r"/event-types", _new_event_type),
    ("GET", _EVENT_TYPE, _event_type),
    ("PUT", _EVENT_TYPE, _replace_event_type),
    ("DELETE", _EVENT_TYPE, _delete_event_type),
    ("GET", r"/bookings", _bookings),
    ("POST", _BOOKING + "/cancel", _cancel),
    ("POST", _BOOKING + "/reschedule", _reschedule),
    ("GET", r"/outbox/failed", _failed),
], id_kinds={"connection": ("connection", MISSING["connection"]),
             "booking": ("booking", MISSING["booking"]),
             "slug": ("event_type", MISSING["event_type"]),
             "key": ("api_key", MISSING["api_key"])},
    missing=Problem("resource.not_found", "no such resource"))


def _booking_row(b: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "status", "event_type", "title", "start", "end", "guest", "notes", "answers",
            "meet_link", "html_link", "event_id", "google_status", "google_error", "sequence")
    return {k: b.get(k) for k in keep}


def _reload(owner: Owner) -> Owner:
    from booking.services import owners

    return owners.get(owner.id)


def _integrations(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    from booking.domain.meeting import format_day
    from booking.i18n import t
    from booking.rendering import render
    from booking.services import connect

    locale = owner.language
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
        "integrations.html", locale, view=view, notice=notice, base=_owner_url(), owner_nav=True,
        oauth_start=get_settings().function_url("oauth_start"), script=_script_url(),
    ), headers=_script_csp())


def _disconnect_page(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    """Disconnecting revokes Google's grant: the owner confirms on a page of its own."""
    from booking.rendering import render
    from booking.services import connect

    conn = connect.require_connection(owner, args["connection"])
    return html_response(render("disconnect.html", owner.language, conn=conn, base=_owner_url(),
                                owner_nav=True, script=_script_url()), headers=_script_csp())


def _save_settings(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    from booking.services import connect

    connect.update_settings(owner, _settings_from_form(_form_fields(read_body(request))))
    return redirect(_owner_url() + "/integrations")


def _refresh_form(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    from booking.services import connect

    _form_fields(read_body(request))
    connect.refresh_calendars(owner, args["connection"], _now())
    return redirect(_owner_url() + "/integrations")


def _disconnect_form(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    from booking.services import connect

    _form_fields(read_body(request))
    connect.disconnect(owner, args["connection"], _now())
    return redirect(_owner_url() + "/integrations")


def _owner_url() -> str:
    return get_settings().function_url("owner")


class _Fields:
    """The page's form, as owner.js sends a `form[data-json]`: {"form": {name: [values]}}."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._fields = fields

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self._fields.get(name, []))


def _form_fields(body: dict[str, Any]) -> _Fields:
    form = body.get("form", {})
    if not isinstance(form, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in form.values()):
        raise InvalidInput("form", Problem("owner.form.shape",
                                           "must map field names to lists of strings"))
    return _Fields(form)


def _settings_from_form(form: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"meet_enabled": form.get("meet_enabled") == "on"}
    default = form.get("default_calendar", "") or ""
    if default:
        conn_id, _, cal_id = default.partition("|")
        body["default_calendar"] = {"connection_id": conn_id, "calendar_id": cal_id}
    conflicts = []
    for value in form.getlist("conflict"):
        conn_id, sep, cal_id = value.partition("|")
        if not sep:
            raise InvalidInput("conflict", Problem("body.malformed", "is malformed"))
        conflicts.append({"connection_id": conn_id, "calendar_id": cal_id})
    body["conflict_calendars"] = conflicts
    for name in ("language", "time_zone"):
        if form.get(name):
            body[name] = form.get(name)
    return body


PUBLIC: Table[None] = Table([
    ("GET", r"/login", _login),
    ("POST", r"/login", _login),
    ("POST", r"/logout", _logout),
    ("GET", r"/openapi.yaml", _contract),
    ("GET", r"/_assets/owner.js", _script),
], id_kinds={}, missing=NO_PAGE)


def _home(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    """The function's own URL (what an owner types or bookmarks): their first page."""
    return redirect(_owner_url() + "/integrations")


@functools.cache
def _pages() -> Table[Owner]:
    """Built on first use: the functions that share this module (oauth_start, oauth_callback)
    never load the pages."""
    from booking.web import owner_pages

    connection = r"/integrations/(?P<connection>[^/]+)"
    return Table([
        ("GET", r"/", _home),
        ("GET", r"/integrations", _integrations),
        ("POST", r"/integrations/settings", _save_settings),
        ("GET", connection + "/disconnect", _disconnect_page),
        ("POST", connection + "/disconnect", _disconnect_form),
        ("POST", connection + "/refresh", _refresh_form),
        *owner_pages.ROUTES,
    ], id_kinds={**owner_pages.ID_KINDS, "connection": ("connection", MISSING["connection"])},
        missing=NO_PAGE)

