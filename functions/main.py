"""Entry points: one HTTP Cloud Function per job. Each parses, calls one service, renders.

Only functions_framework and our light HTTP glue are imported here; each function imports its
service (and so its SDKs) on first call, so a cold start pays only for what that function uses.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from booking.web.http import entry


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
    """Public: Google's push notifications. Answers 200 only for our own channels."""
    from datetime import UTC, datetime

    from booking.services import watch
    from booking.web.http import json_response

    accepted = watch.accept(request.headers, datetime.now(UTC))
    return json_response({"accepted": accepted}, status=200 if accepted else 404)


@functions_framework.http
@entry("resync")
def resync(request: Request) -> Response:
    """Private, called by Cloud Scheduler: delivers whatever the outbox still owes."""
    from datetime import UTC, datetime

    from booking.services import outbox
    from booking.web.http import json_response

    return json_response({"outbox": outbox.drain(datetime.now(UTC))})


@functions_framework.http
@entry("availability")
def availability(request: Request) -> Response:
    """Public GET: ?owner=&event_type=&start=YYYY-MM-DD&end=YYYY-MM-DD&time_zone=IANA."""
    from datetime import UTC, datetime

    from booking.errors import MethodNotAllowed
    from booking.services import availability as service
    from booking.web.http import cors_headers, json_response

    cors = cors_headers(request.headers.get("Origin"), None)
    if request.method == "OPTIONS":
        return json_response({}, 204, cors)
    if request.method != "GET":
        raise MethodNotAllowed("use GET")
    query = service.parse_query({k: request.args.get(k, "") for k in request.args})
    return json_response(service.slots(query, datetime.now(UTC)), headers=cors)
