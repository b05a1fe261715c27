"""The one place that turns our exceptions into HTTP answers, plus health, CORS and body limits.

Every entry point in main.py is wrapped by `entry(name)`: `GET .../_health` answers at once with
no I/O (the local run and uptime checks use it); a BookingError becomes its status with a JSON
body naming the problem (or a page for browser-facing functions); anything else is logged and
answered with a bare 500 that leaks nothing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from flask import Request, Response
from werkzeug.exceptions import HTTPException

from booking import log
from booking.domain.problems import Problem, codes
from booking.errors import (
    BookingError,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
)

MAX_BODY_BYTES = 64 * 1024
MAX_FORM_PARTS = 200
# Firestore nests maps and arrays 20 deep at most; nothing we accept needs more than a few.
MAX_JSON_DEPTH = 16
TOO_LARGE = Problem("body.too_large", "the body is larger than %(n)s bytes", n=MAX_BODY_BYTES)
MALFORMED = Problem("body.malformed", "is malformed")

Handler = Callable[[Request], Response]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _json_value(value: Any) -> str:
    """Instants as ISO 8601 with the "T" (what JavaScript's Date and JSON clients parse; str()
    of a datetime puts a space there); anything else as its text."""
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


def json_response(body: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    resp = Response(json.dumps(body, default=_json_value), status=status,
                    mimetype="application/json")
    for key, value in {**SECURITY_HEADERS, **(headers or {})}.items():
        resp.headers[key] = value
    return resp


def html_response(html: str, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    resp = Response(html, status=status, mimetype="text/html")
    page_headers = {
        **SECURITY_HEADERS,
        "X-Frame-Options": "DENY",
        # Not no-referrer: with it a browser sends `Origin: null` on our own form posts, and
        # the owner's same-origin check refuses them. Other sites still get no referrer (the
        # links' tokens stay here).
        "Referrer-Policy": "same-origin",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
        "form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'",
    }
    for key, value in {**page_headers, **(headers or {})}.items():
        if value:
            resp.headers[key] = value  # an empty value drops a default (embeddable pages)
    return resp


def redirect(location: str, status: int = 303) -> Response:
    resp = Response("", status=status)
    resp.headers["Location"] = location
    for key, value in SECURITY_HEADERS.items():
        resp.headers[key] = value
    return resp


def error_body(exc: BookingError, locale: str = "en") -> dict[str, Any]:
    """``{"error", "message"}``, and for bad input `fields` with `codes`, each reason's message
    id (for clients that word it themselves); message and reasons in `locale`."""
    body: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if isinstance(exc, InvalidInput):
        body["fields"] = dict(exc.fields)
        body["codes"] = codes(exc.fields)
    if locale != "en":
        from booking.i18n import say, say_each  # Babel's locale data only when needed

        body["message"] = say(locale, exc.message)
        if isinstance(exc, InvalidInput):
            body["fields"] = say_each(locale, exc.fields)
    return body


def error_response(exc: BookingError, *, page: bool, locale: str = "en",
                   headers: Mapping[str, str] | None = None,
                   switch: list[dict[str, Any]] | None = None) -> Response:
    """The one mapping of our exceptions to answers: the status, Retry-After on a 429, and a
    page (with a guest page's language `switch`) or a JSON body, in `locale`."""
    if page:
        from booking.web.pages import error_page

        return html_response(error_page(exc, locale, switch), status=exc.status,
                             headers={**(headers or {}), **error_headers(exc)})
    return json_response(error_body(exc, locale), status=exc.status,
                         headers={**(headers or {}), **error_headers(exc)})


def error_headers(exc: BookingError) -> dict[str, str]:
    """Retry-After on a 429: how long until the client's window ends; Allow on a 405."""
    if isinstance(exc, TooManyRequests):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, MethodNotAllowed) and exc.allow:
        return {"Allow": exc.allow}
    return {}


def client_address(request: Request) -> str:
    """The caller's address for the abuse limits. Google's front end appends the address it
    saw to X-Forwarded-For, so the entry `client_ip_hops` from the right is the client's (1
    for Cloud Functions, 2 behind a load balancer); entries further left are the client's own
    words and could be anything."""
    from booking.config import get_settings

    hops = get_settings().client_ip_hops
    chain = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    chain = [part for part in chain if part]
    if len(chain) >= hops:
        return chain[-hops][:64]
    return request.remote_addr or "unknown"


# Functions whose errors are pages: every path of theirs ("all"), or every path below their
# root ("below": `book` takes JSON at its root and serves the booking pages under it).
_PAGES: dict[str, str] = {}
# Of those, the guests' (their error pages carry the language switch, as their pages do).
_GUEST_PAGES: set[str] = set()
# What a guest page's address keeps when it switches language: the link's token, and the
# month, day and zone it shows.
SWITCH_KEEPS = ("token", "booked", "tz", "month", "day", "from")


def answers_pages(function: str, path: str) -> bool:
    """Whether an error at `path` of `function` is answered as an HTML page (else JSON)."""
    kind = _PAGES.get(function)
    return kind == "all" or (kind == "below" and bool(path.strip("/")))


def language_switch(request: Request, function: str, locale: str) -> list[dict[str, Any]]:
    """A guest page's language switch: this same address of `function`, with what it keeps
    (SWITCH_KEEPS), in each language. A refused form post keeps its token too: the other
    language shows the same answer to a GET of the link."""
    from booking.config import get_settings
    from booking.web.pages import switch_links

    params = {key: value for key, value in request.args.items() if key in SWITCH_KEEPS}
    if request.method == "POST" and "token" not in params:
        try:
            token = request.form.get("token")
        except HTTPException:  # a malformed form: nothing to keep
            token = None
        if token:
            params["token"] = token
    path = request.path.rstrip("/")
    return switch_links(get_settings().function_url(function) + path, params, locale)


def entry(name: str, *, page: bool = False, pages_below: bool = False,
          guest: bool = False) -> Callable[[Handler], Handler]:
    """Wraps an entry point: health, error mapping, and HTML error pages for `page` functions
    (for `pages_below`, on every path below the function's root); a `guest` function's error
    pages carry the language switch."""
    if page or pages_below:
        _PAGES[name] = "all" if page else "below"
    if guest:
        _GUEST_PAGES.add(name)

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(request: Request) -> Response:
            if request.method == "HEAD":
                # Mail clients, link checkers and uptime probes send HEAD: it is answered as GET
                # is (RFC 9110 9.3.2). Only our view of the method changes: the WSGI environ
                # still says HEAD, so werkzeug sends the headers and leaves the body out.
                request.method = "GET"
            if request.method == "GET" and request.path.rstrip("/").endswith("/_health"):
                return json_response({"function": name, "status": "ok"})
            page = answers_pages(name, request.path)
            try:
                _limit_body(request)
                return handler(request)
            except HTTPException as exc:
                # werkzeug's own refusals (a body past the limit, a malformed form): their
                # status, in our shape, never a 500.
                status = exc.code or 400
                err = PayloadTooLarge(TOO_LARGE) if status == 413 \
                    else InvalidInput("body", MALFORMED)
                return error_response(err, page=page)
            except BookingError as exc:
                if exc.status >= 500:
                    log.error("request failed", exc, function=name)
                if not page:
                    return error_response(exc, page=False)
                locale = _locale(request)
                return error_response(exc, page=True, locale=locale, switch=language_switch(
                    request, name, locale) if name in _GUEST_PAGES else None)
            except Exception as exc:  # noqa: BLE001 - the last line of defence: log, answer 500
                log.error("unhandled error", exc, function=name, path=request.path)
                if page:
                    from booking.web.pages import crash_page

                    return html_response(crash_page(_locale(request)), status=500)
                return json_response({"error": "internal", "message": "internal error"}, 500)

        return run

    return wrap


def _locale(request: Request) -> str:
    from booking import i18n

    try:
        return i18n.pick(request.values.get("lang"), request.accept_languages)
    except Exception:  # noqa: BLE001 - an error page must render whatever the request holds
        return "en"

def answer_routing_errors(app: Any) -> None:
    """functions-framework's own routing refuses some paths before our entry point runs (a
    newline in the path fails its `<path:path>` rule): answer those in our shape too, as a
    page where the function answers pages (the app is named after its function)."""

    def answer(exc: HTTPException) -> Response:
        from flask import request

        status = exc.code or 400
        err: BookingError = NotFound("no such resource") if status == 404 else \
            MethodNotAllowed(*sorted(getattr(exc, "valid_methods", None) or ())) \
            if status == 405 else \
            InvalidInput("request", MALFORMED)
        page = answers_pages(app.name, request.path)
        return error_response(err, page=page, locale=_locale(request) if page else "en")

    app.register_error_handler(HTTPException, answer)


def _limit_body(request: Request) -> None:
    """Every body and form of every function, however it is read later, is at most
    MAX_BODY_BYTES: read once here and cached (forms parse from the cache)."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise PayloadTooLarge(TOO_LARGE)
    # A chunked body announces no length: werkzeug stops reading it at the limit.
    request.max_content_length = MAX_BODY_BYTES
    request.max_form_memory_size = MAX_BODY_BYTES
    request.max_form_parts = MAX_FORM_PARTS
    try:
        request.get_data(cache=True)
    except HTTPException:
        # functions-framework drains the body after we answer; what is left is not read.
        request._cached_data = b""  # type: ignore[attr-defined]
        raise PayloadTooLarge(TOO_LARGE) from None


def read_body(request: Request) -> dict[str, Any]:
    """JSON or form fields as a dict of strings / JSON values."""
    raw = request.get_data(cache=True)  # at most MAX_BODY_BYTES: see _limit_body
    mimetype = request.mimetype or ""
    if mimetype == "application/json":
        if json_depth(raw) > MAX_JSON_DEPTH:
            raise InvalidInput("body", Problem("body.too_deep", "nests deeper than %(n)s levels",
                                               n=MAX_JSON_DEPTH))
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, RecursionError) as exc:
            raise InvalidInput("body", Problem("body.not_json", "is not valid JSON")) from exc
        if not isinstance(data, dict):
            raise InvalidInput("body", Problem("body.object", "must be a JSON object"))
        return data
    if mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {key: request.form.get(key, "") for key in request.form}
    if not raw:
        return {}
    raise InvalidInput("content-type", Problem(
        "body.content_type", "use %(types)s",
        types="application/json or application/x-www-form-urlencoded"))


def json_depth(raw: bytes) -> int:
    """How deeply brackets nest in `raw`, outside strings: checked before parsing, because the
    parser recurses once per level (a 64 KiB body can nest 30 000 deep)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def cors_headers(origin: str | None, allowed: set[str] | None) -> dict[str, str]:
    """CORS for public functions: any origin when `allowed` is None, else only those listed."""
    if not origin:
        return {}
    if allowed is not None and origin not in allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": origin if allowed is not None else "*",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key",
        "Access-Control-Max-Age": "3600",
        "Vary": "Origin",
    }
