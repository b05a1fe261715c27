"""Guests' side over HTTP: booking (JSON or a plain HTML form post)."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Request, Response

from booking import log
from booking.domain.problems import Problem
from booking.errors import BookingError, MethodNotAllowed, NotFound
from booking.web.http import (
    client_address,
    cors_headers,
    error_response,
    json_response,
    language_switch,
    read_body,
    redirect,
)


def _owner_origins(owner_id: str) -> set[str]:
    from booking.services import owners

    return owners.allowed_origins(owner_id)


def book(request: Request) -> Response:
    from booking.services import booking as service
    from booking.services import quotas

    parts = [p for p in request.path.split("/") if p]
    if len(parts) == 2:  # /book/<owner>/<event type>: the booking page and its form
        from booking.web import booking_page

        try:
            if parts[0] != "_assets":
                _count(request, "book" if request.method == "POST" else "availability",
                       parts[0], request.form.get("email") if request.method == "POST" else None)
            return booking_page.handle(request, parts[0], parts[1])
        except BookingError as exc:
            # A guest's browser gets a page in their language, a 503 included.
            if exc.status >= 500:
                log.error("request failed", exc, function="book")
            locale = _locale(request)
            return error_response(exc, page=True, locale=locale,
                                  switch=language_switch(request, "book", locale))
    if parts == ["confirm"]:
        return confirm(request)
    if parts:
        raise NotFound("no such page")
    if request.method == "OPTIONS":
        # A preflight carries no body, so no owner: allow it, and let the real answer's
        # headers decide (they are only sent for the owner's own origins).
        return json_response({}, 204, cors_headers(request.headers.get("Origin"), None))
    if request.method != "POST":
        raise MethodNotAllowed("POST")
    fields = read_body(request)
    origin = request.headers.get("Origin")
    owner_id = fields.get("owner") if isinstance(fields.get("owner"), str) else ""
    cors = cors_headers(origin, _owner_origins(str(owner_id))) if origin else {}
    try:
        # Validation first: it is free, and a request it refuses costs nothing to count.
        req = service.parse(fields, request.headers.get("Idempotency-Key"))
        now = datetime.now(UTC)
        view, created = service.book(req, now, gate=functools.partial(
            quotas.check, "book", now, client=client_address(request), owner_id=req.owner_id,
            email=req.email))
    except BookingError as exc:
        if exc.status >= 500:
            raise  # logged and answered by the entry wrapper
        # The owner's own pages must be able to read why (409 taken, 400 which field), in
        # the guest's language when the form says which (`locale`).
        from booking.domain.locales import LOCALES

        locale = str(fields["locale"]) if fields.get("locale") in LOCALES else "en"
        return error_response(exc, page=False, locale=locale, headers=cors)
    target = fields.get("redirect")
    if isinstance(target, str) and target:
        from booking.services import owners

        if target in owners.get(req.owner_id).redirect_urls:
            sep = "&" if "?" in target else "?"
            return redirect(f"{target}{sep}{urlencode({'booking': view['id']})}")
    # 202: held, waiting for the guest's confirmation by email.
    status = (202 if view["status"] == "pending" else 201) if created else 200
    return json_response({"booking": view}, status, cors)


def _locale(request: Request) -> str:
    from booking import i18n

    return i18n.pick(request.values.get("lang"), request.accept_languages)


def _count(request: Request, kind: str, owner_id: str | None, email: str | None = None) -> None:
    """The abuse limits (booking.services.quotas): 429 past one."""
    from booking.services import quotas

    quotas.check(kind, datetime.now(UTC), client=client_address(request), owner_id=owner_id,
                 email=email)


def _open(request: Request, action: str) -> tuple[datetime, str, Any]:
    """The link's booking, for GET (show) and POST (act) alike: (now, token, Opened)."""
    from booking.services import changes

    if request.method not in ("GET", "POST"):
        raise MethodNotAllowed("GET", "POST")
    _count(request, "change", None)
    now = datetime.now(UTC)
    token = _token(request)
    return now, token, changes.open_link(token, action, now)


def _token(request: Request) -> str:
    token = request.form.get("token") if request.method == "POST" else None
    token = token or request.args.get("token", "")
    if not token:
        from booking.errors import InvalidInput

        raise InvalidInput("token", Problem("link.token_missing",
                                            "is missing: please use the link from your email"))
    return token


def cancel(request: Request) -> Response:
    """GET shows the booking and a Confirm button (and changes nothing); POST cancels."""
    from booking.domain.meeting import format_range
    from booking.i18n import t
    from booking.rendering import render
    from booking.services import changes
    from booking.web.http import html_response

    now, token, opened = _open(request, "cancel")
    booking, owner = opened.booking, opened.owner
    zone = booking["guest"]["time_zone"]
    locale = _locale(request)
    when = format_range(booking["start"], booking["end"], zone, locale)
    if request.method == "GET":
        return html_response(render("cancel.html", locale, booking=booking, owner=owner,
                                    when=when, token=token,
                                    switch=language_switch(request, "cancel", locale)))
    changes.cancel(owner, booking["id"], version=int(booking.get("version", 1)),
                   reason=request.form.get("reason", ""), by="guest", now=now)
    return html_response(render(
        "message.html", locale, title=t(locale, "Your booking is cancelled"),
        message=t(locale, "%(title)s with %(owner)s, %(when)s, is cancelled. We emailed you "
                          "and the host.", title=booking["title"], owner=owner.name,
                  when=when)))


def reschedule(request: Request) -> Response:
    """GET shows the booking and the times it can move to; POST moves it."""
    from zoneinfo import ZoneInfo

    from booking.domain.availability import group_by_local_day
    from booking.domain.meeting import format_day, format_range
    from booking.i18n import t
    from booking.rendering import render
    from booking.services import changes
    from booking.web.http import html_response
    from booking.web.pages import times_page

    now, token, opened = _open(request, "reschedule")
    booking, owner = opened.booking, opened.owner
    zone = booking["guest"]["time_zone"]
    locale = _locale(request)
    if request.method == "POST":
        from booking.domain.booking_rules import parse_instant
        from booking.errors import InvalidInput

        try:
            start = parse_instant(request.form.get("start", ""))
        except ValueError:
            raise InvalidInput("start", Problem("start.pick_offered",
                                                "pick one of the offered times")) from None
        after = changes.reschedule(owner, booking["id"], start,
                                   version=int(booking.get("version", 1)), by="guest", now=now)
        # The other language: the moved booking's own reschedule page (this link's token
        # stopped working with the move).
        from booking.config import get_settings
        from booking.services.meetings import link_token
        from booking.web.pages import switch_links

        switch = switch_links(get_settings().function_url("reschedule"),
                              {"token": link_token(owner.id, after, "reschedule")}, locale)
        return html_response(render(
            "message.html", locale, title=t(locale, "Your booking is moved"),
            message=t(locale, "%(title)s with %(owner)s is now %(when)s. We emailed you and "
                              "the host the new time.", title=after["title"], owner=owner.name,
                      when=format_range(after["start"], after["end"], zone, locale)),
            switch=switch))
    shown = times_page(request.args.get("from"), ZoneInfo(zone), now, booking["start"])
    slots = changes.free_slots(opened, shown.start, shown.end, now)
    # Each day is titled like every other date we show (the reader's language, long form).
    days = [{"title": format_day(starts[0], locale), "starts": starts}
            for starts in group_by_local_day(slots, ZoneInfo(zone)).values()]
    return html_response(render(
        "reschedule.html", locale, booking=booking, owner=owner, token=token, days=days,
        when=format_range(booking["start"], booking["end"], zone, locale), zone=zone,
        switch=language_switch(request, "reschedule", locale),
        earlier=_moved_to(token, locale, shown.earlier) if shown.earlier else None,
        later=_moved_to(token, locale, shown.later) if shown.later else None))


def _moved_to(token: str, locale: str, day: date) -> str:
    from booking.config import get_settings

    return f"{get_settings().function_url('reschedule')}?" \
        f"{urlencode({'token': token, 'lang': locale, 'from': day.isoformat()})}"


def confirm(request: Request) -> Response:
    """`/book/confirm?token=`: the link of an event type that asks guests to confirm by email.
    GET shows the held booking and a Confirm button (mail scanners open links: a GET never
    confirms); POST confirms, once (again: the same page, nothing more happens). Confirmed, it
    answers as the booking page does: the Meet link and "Add to Google Calendar"."""
    from booking.domain.meeting import format_clock, format_range
    from booking.i18n import t
    from booking.rendering import render
    from booking.services import confirmations, meetings
    from booking.web.booking_page import done_html
    from booking.web.http import html_response

    if request.method not in ("GET", "POST"):
        raise MethodNotAllowed("GET", "POST")
    _count(request, "change", None)
    now = datetime.now(UTC)
    token = _token(request)
    locale = _locale(request)
    hold = confirmations.open_hold(token, now) if request.method == "GET" \
        else confirmations.confirm(token, now)
    booking, owner = hold.booking, hold.owner
    # The other language is this same link: its GET shows the held or the confirmed booking.
    switch = language_switch(request, "book", locale)
    when = format_range(booking["start"], booking["end"], booking["guest"]["time_zone"], locale)
    if request.method == "GET" and not hold.confirmed:
        until = format_clock(booking["hold_until"], booking["guest"]["time_zone"])
        return html_response(render("confirm.html", locale, booking=booking, owner=owner,
                                    when=when, token=token, switch=switch, until=until))
    confirmed = t(locale, "%(title)s with %(owner)s, %(when)s, is confirmed. We emailed you "
                          "the details with a calendar invitation.", title=booking["title"],
                  owner=owner.name, when=when)
    return html_response(done_html(meetings.view(booking), booking["title"], owner.name, locale,
                                   switch, lead=confirmed))
