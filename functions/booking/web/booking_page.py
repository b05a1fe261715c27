"""The guest's booking page of one event type: `GET /book/<owner>/<event type>`.

It works as plain HTML: the month view's days are links, the times are radio buttons of one
form, and the form posts to the same URL (form-encoded), which answers with the confirmation
page, or with the page again carrying a message next to each field that was wrong. Its one
script (served from this function, no third-party assets) only moves the page to the browser's
own time zone on first visit; the zone stays changeable with the select, with or without it.
Any site may embed it (`<iframe>`) or post its own form to the same URL.

Query: month=YYYY-MM, day=YYYY-MM-DD, tz=IANA zone, lang=en|sl; booked=<token> shows the
answer to a booking again (its language switch).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Request, Response

from booking import i18n
from booking.config import get_settings
from booking.domain import ids, locales
from booking.domain.problems import Problem
from booking.errors import Conflict, InvalidInput, MethodNotAllowed, NotFound
from booking.web.http import SECURITY_HEADERS, html_response, read_body
from booking.web.pages import sentence, switch_links

SCRIPT = """(function () {
  var params = new URLSearchParams(location.search);
  if (params.get("tz")) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var shown = document.documentElement.getAttribute("data-zone");
  if (zone && zone !== shown) { params.set("tz", zone); location.replace("?" + params); }
})();
"""


def _csp(frame_ancestors: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'self'; form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}",
        # Embeddable: framing is governed by frame-ancestors alone.
        "X-Frame-Options": "",
    }


def handle(request: Request, owner_id: str, slug: str) -> Response:
    from booking.services import availability

    if owner_id == "_assets" and slug == "booking.js":
        resp = Response(SCRIPT, mimetype="text/javascript")
        resp.headers.update(SECURITY_HEADERS)
        return resp
    if not ids.valid("owner", owner_id) or not ids.valid("event_type", slug):
        raise NotFound(Problem("event_type.not_found_for_guest", "no such owner or event type"))
    if request.method not in ("GET", "POST"):
        raise MethodNotAllowed("GET", "POST")
    locale = i18n.pick(request.values.get("lang"), request.accept_languages)
    now = datetime.now(UTC)
    event = availability.public_event_type(owner_id, slug, now)
    zone = _zone(request.values.get("tz"), event.owner_time_zone)
    if request.method == "GET" and request.args.get("booked"):
        return _booked(event, request.args["booked"], locale, now)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        values = read_body(request)
        try:
            return _book(event, values, zone, locale, now)
        except InvalidInput as exc:
            errors, status = _field_messages(exc.fields, locale), 400
        except Conflict as exc:
            errors, status = _conflict_message(exc, locale), 409
    chosen = _chosen_start(values.get("start"))
    month, day = _month_and_day(request, zone, now, chosen, _last_month(event))
    found = availability.month_slots(owner_id, slug, month, zone, now)
    slots = found.days
    if day is None or day.isoformat() not in slots:
        day = next((date.fromisoformat(d) for d in slots), None)
    page = _render(event, locale, zone, month, day, slots, errors, values, chosen, now,
                   found.seats_left)
    frame = " ".join(event.embed_origins) if event.embed_origins else "*"
    return html_response(page, status, _csp(frame))


def _zone(name: str | None, fallback: str) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name and "/" in name else ZoneInfo(fallback)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo(fallback)


def _chosen_start(value: Any) -> datetime | None:
    """The time a refused form had picked, to show it picked again; None unless it is an
    instant we take (year 9999 in a zone east of UTC would overflow the page's dates)."""
    from booking.domain.booking_rules import parse_instant

    try:
        return parse_instant(str(value)) if value else None
    except ValueError:
        return None


def _last_month(event: Any) -> date:
    """The last month with a day in the booking window, in any guest's zone: the owner's last
    day can already be the next day for a guest east of them."""
    last: date = event.last_day
    return (last + timedelta(days=1)).replace(day=1)


def _month_and_day(request: Request, zone: ZoneInfo, now: datetime,
                   chosen: datetime | None, last: date) -> tuple[date, date | None]:
    today = now.astimezone(zone).date()
    day: date | None = None
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = chosen.astimezone(zone).date() if chosen else None
    try:
        year, mon = (int(p) for p in request.args.get("month", "").split("-"))
        month = date(year, mon, 1)
    except ValueError:
        month = (day or today).replace(day=1)
    # Past months offer nothing, and months past the booking window nothing either.
    month = max(min(month, last), today.replace(day=1))
    if day is not None and day.replace(day=1) != month:
        day = None
    return month, day


def _conflict_message(exc: Conflict, locale: str) -> dict[str, str]:
    """A time taken meanwhile reads next to the times; other refusals (a full day next to the
    times, the guest's cap on upcoming bookings above the form) say why in their words."""
    code = getattr(exc.message, "code", None)
    if code == "booking.taken":
        return {"start": i18n.t(locale, "That time was just taken. Please pick another one.")}
    return {"start" if code == "booking.day_full" else "form": i18n.say(locale, exc.message)}


def _field_messages(fields: dict[str, str], locale: str) -> dict[str, str]:
    """The domain names the field; the guest reads a sentence in their language."""
    words = {
        "name": i18n.t(locale, "Please enter your name (without < > \" \\ ; or ,)."),
        "email": i18n.t(locale, "Please enter an email address such as ana@example.com."),
        "start": i18n.t(locale, "Please pick one of the free times."),
        "notes": i18n.t(locale, "Please keep your notes shorter."),
        "time_zone": i18n.t(locale, "Please choose your time zone from the list."),
    }
    out: dict[str, str] = {}
    for name, why in fields.items():
        if name.startswith("answers") and getattr(why, "code", None) == "text.at_most":
            out["answers"] = i18n.t(locale, "Please keep each answer under 1000 characters.")
        elif name.startswith("answers"):
            # Too many answers, or a control character: the reason itself, in their words.
            out["answers"] = sentence(i18n.say(locale, why))
        else:
            out[name] = words.get(name, i18n.t(locale, "Please check this field."))
    return out


def _book(event: Any, values: dict[str, Any], zone: ZoneInfo, locale: str,
          now: datetime) -> Response:
    from booking.services import booking

    fields = {**values, "owner": event.owner_id, "event_type": event.slug,
              "time_zone": zone.key, "locale": locale}
    fields.pop("redirect", None)
    req = booking.parse(fields, None)
    view, _created = booking.book(req, now)
    held = view["status"] == "pending"  # waiting for the guest's confirmation by email
    return _done(event, view, locale, 202 if held else 201)


def _booked(event: Any, token: str, locale: str, now: datetime) -> Response:
    """`?booked=<token>`: the answer to a booking again (its language switch links here)."""
    from booking.services import confirmations, meetings

    found = confirmations.open_booked(token, event.owner_id, event.slug, now)
    return _done(event, meetings.view(found.booking), locale, 200)


def _done(event: Any, view: dict[str, Any], locale: str, status: int) -> Response:
    """Booked (or held), with a language switch that shows this same answer in the other
    language."""
    from booking.services import confirmations

    token = confirmations.booked_token(event.owner_id, view["id"],
                                       datetime.fromisoformat(view["start"]))
    return html_response(done_html(view, event.title, event.owner_name, locale,
                                   _switch_links(event, locale, {"booked": token})),
                         status, _csp("*"))


def done_html(view: dict[str, Any], title: str, owner_name: str, locale: str,
              switch: list[dict[str, Any]], lead: str | None = None) -> str:
    """The answer to a booking (`view`, meetings.view): the time in the zone the guest booked
    in, the Meet link (or that it comes by email while Google is still making the room) and
    "Add to Google Calendar"; or, for a hold, that the guest must confirm by email. The
    booking page's answer and the confirm-by-email link's, alike (`lead`: what it says under
    the booking instead of the usual sentence)."""
    from booking.domain.meeting import format_clock, format_range
    from booking.rendering import render

    start = datetime.fromisoformat(view["start"])
    end = datetime.fromisoformat(view["end"])
    held = view["status"] == "pending"
    return render(
        "booking_done.html", locale, title=title, owner_name=owner_name, booking=view,
        held=held,
        # A hold says until when it holds, as its email does.
        until=format_clock(datetime.fromisoformat(view["hold_until"]), view["time_zone"])
        if held and view.get("hold_until") else None,
        when=format_range(start, end, view["time_zone"], locale),
        google_link=_google_calendar_link(title, owner_name, start, end, view.get("meet_link")),
        switch=switch, lead=lead)


def _google_calendar_link(title: str, owner_name: str, start: datetime, end: datetime,
                          meet: str | None) -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    dates = f"{start.astimezone(UTC):{stamp}}/{end.astimezone(UTC):{stamp}}"
    details = meet or ""
    return "https://calendar.google.com/calendar/render?" + urlencode({
        "action": "TEMPLATE", "text": f"{title} · {owner_name}", "dates": dates,
        "details": details})


def _page_url(event: Any, **params: str) -> str:
    base = get_settings().function_url("book")
    return f"{base}/{event.owner_id}/{event.slug}?{urlencode(params)}"


def _switch_links(event: Any, current: str, keep: dict[str, str]) -> list[dict[str, Any]]:
    base = get_settings().function_url("book")
    return switch_links(f"{base}/{event.owner_id}/{event.slug}", keep, current)


def _render(event: Any, locale: str, zone: ZoneInfo, month: date, day: date | None,
            slots: dict[str, list[datetime]], errors: dict[str, str], values: dict[str, Any],
            chosen: datetime | None, now: datetime,
            seats_left: dict[datetime, int] | None = None) -> str:
    from booking.domain.meeting import format_day, format_duration
    from booking.rendering import render

    keep = {"tz": zone.key, "lang": locale}
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        cells = []
        for d in week:
            iso = d.isoformat()
            cells.append({
                "day": d.day, "in_month": d.month == month.month, "iso": iso,
                "free": d.month == month.month and iso in slots,
                "selected": d == day, "label": format_day(
                    datetime(d.year, d.month, d.day), locale),
                "url": _page_url(event, **keep, month=f"{month:%Y-%m}", day=iso),
            })
        weeks.append(cells)
    today = now.astimezone(zone).date()
    prev_month = (month - timedelta(days=1)).replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    times = slots.get(day.isoformat(), []) if day else []
    return render(
        "booking.html", locale,
        event=event, zone=zone.key, zones=_zone_names(), weeks=weeks,
        weekdays=locales.weekday_names(locale),
        month_title=locales.month_title(month, locale),
        prev_url=_page_url(event, **keep, month=f"{prev_month:%Y-%m}")
        if prev_month >= today.replace(day=1) else None,
        next_url=_page_url(event, **keep, month=f"{next_month:%Y-%m}")
        if next_month <= _last_month(event) else None,
        last_day=format_day(datetime.combine(event.last_day, datetime.min.time()), locale),
        day_title=format_day(datetime(day.year, day.month, day.day), locale) if day else None,
        times=[{"value": s.isoformat(), "label": f"{s:%H:%M}",
                "seats": i18n.tn(locale, "%(num)s seat left", "%(num)s seats left",
                                 seats_left[s]) if seats_left and s in seats_left else None,
                "checked": chosen is not None and s == chosen} for s in times],
        any_free=bool(slots), duration=format_duration(event.duration_minutes, locale),
        errors=errors, values=values,
        action=_page_url(event, **keep),
        script=get_settings().function_url("book") + "/_assets/booking.js",
        # The other language shows the same month and day (the guest may have picked one).
        switch=_switch_links(event, locale, {"tz": zone.key, "month": f"{month:%Y-%m}",
                                             **({"day": day.isoformat()} if day else {})}),
        month_param=f"{month:%Y-%m}",
    )


_ZONES: list[str] = []


def _zone_names() -> list[str]:
    # Areas people live in; the bare aliases (EST, Etc/GMT+5, ...) only confuse a picker.
    if not _ZONES:
        _ZONES.extend(sorted(z for z in available_timezones()
                             if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/",
                                                               "right/"))))
    return _ZONES
