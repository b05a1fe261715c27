"""Entry points: one HTTP Cloud Function per job. Each parses, calls one service, renders.

Only functions_framework and our light HTTP glue are imported here; each function imports its
service (and so its SDKs) on first call, so a cold start pays only for what that function uses.
"""

from __future__ import annotations

import flask
import functions_framework
from flask import Request, Response

from booking.web.http import answer_routing_errors, entry

if flask.has_app_context():  # functions-framework runs this module inside its app's context
    answer_routing_errors(flask.current_app)


@functions_framework.http
@entry("oauth_start", page=True)
def oauth_start(request: Request) -> Response:
    """Owner only: sends the browser to Google's consent screen."""
    from booking.web import owner_http

    return owner_http.oauth_start(request)


@functions_framework.http
@entry("oauth_callback", page=True)
def oauth_callback(request: Request) -> Response:
    """Public: Google sends the browser back here with a code (or an error) and our state."""
    from booking.web import owner_http

    return owner_http.oauth_callback(request)


@functions_framework.http
@entry("owner")
def owner(request: Request) -> Response:
    """Owner only: the management API (/owner/api/...) and the owner's pages (/owner/...)."""
    from booking.web import owner_http

    return owner_http.route(request)


@functions_framework.http
@entry("google_notifications")
def google_notifications(request: Request) -> Response:
    """Public: Google's push notifications. Checks the channel, then syncs that calendar."""
    from datetime import UTC, datetime

    from booking.services import watch
    from booking.web.http import json_response

    status, body = watch.intake(request.headers, datetime.now(UTC))
    return json_response(body, status=status)


@functions_framework.http
@entry("resync")
def resync(request: Request) -> Response:
    """Private, called by Cloud Scheduler: keeps push channels alive, syncs every watched
    calendar (the net for lost pushes), owes the reminders that are due, then delivers
    whatever the outbox still owes."""
    from datetime import UTC, datetime

    from booking.services import resync as service
    from booking.web.http import json_response

    return json_response(service.run(datetime.now(UTC)))


@functions_framework.http
@entry("availability")
def availability(request: Request) -> Response:
    """Public GET: ?owner=&event_type=&start=YYYY-MM-DD&end=YYYY-MM-DD&time_zone=IANA."""
    import functools
    from datetime import UTC, datetime

    from booking.errors import MethodNotAllowed
    from booking.services import availability as service
    from booking.services import quotas
    from booking.web.http import client_address, cors_headers, json_response

    cors = cors_headers(request.headers.get("Origin"), None)
    if request.method == "OPTIONS":
        return json_response({}, 204, cors)
    if request.method != "GET":
        raise MethodNotAllowed("GET")
    query = service.parse_query({k: request.args.get(k, "") for k in request.args})
    now = datetime.now(UTC)
    gate = functools.partial(quotas.check, "availability", now, client=client_address(request),
                             owner_id=query.owner_id)
    return json_response(service.slots(query, now, gate=gate), headers=cors)


@functions_framework.http
@entry("book", pages_below=True, guest=True)
def book(request: Request) -> Response:
    """Public POST (JSON or form): books a slot; 201 with the booking, 409 if it was taken."""
    from booking.web import public_http

    return public_http.book(request)


@functions_framework.http
@entry("cancel", page=True, guest=True)
def cancel(request: Request) -> Response:
    """Public: the guest's Cancel link. GET shows a confirmation page; only POST cancels."""
    from booking.web import public_http

    return public_http.cancel(request)


@functions_framework.http
@entry("reschedule", page=True, guest=True)
def reschedule(request: Request) -> Response:
    """Public: the guest's Reschedule link. GET lists free times; POST moves the booking."""
    from booking.web import public_http

    return public_http.reschedule(request)
