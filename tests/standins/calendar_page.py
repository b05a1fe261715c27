"""A Google Calendar page for the local run: each account's calendars as a week, and the owner's
hands in Google Calendar (add a busy event, move or delete a meeting), so the two-way sync can
be seen without reading the stand-in's code.

It is a client of the Google stand-in's control API only (`GoogleControl`, routes documented in
tests/standins/google/calendar.py), never of its internals, so the stand-in can change freely
underneath. Plain forms, no script; local use only.

    GET  /?week=YYYY-MM-DD          the week (Monday first) of every calendar
    POST /add     calendar, date, start, end, summary
    POST /move    calendar, event, date, start        keeps the duration
    POST /delete  calendar, event
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, select_autoescape
from werkzeug.exceptions import HTTPException
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from tests.standins.google.control import GoogleControl

PAGE = Path(__file__).with_suffix(".html")

_ENV = Environment(autoescape=select_autoescape(default_for_string=True))


class CalendarPage:
    """WSGI app; mount it anywhere (the local run serves it at /_calendar)."""

    def __init__(self, google_url: str) -> None:
        self.google = GoogleControl(google_url)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.handle(request)
        except HTTPException as exc:
            response = exc.get_response()
        except AssertionError as exc:  # the control API refused: show why
            response = Response(str(exc), status=400, mimetype="text/plain")
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        root = request.script_root
        path = request.path.rstrip("/") or "/"
        if request.method == "GET" and path == "/":
            return Response(self.page(request, root), mimetype="text/html")
        if request.method != "POST" or path not in ("/add", "/move", "/delete"):
            return Response("not found", status=404)
        form = request.form
        cal = self._calendar(form["calendar"])
        zone = ZoneInfo(cal["time_zone"])
        if path == "/add":
            day = date.fromisoformat(form["date"])
            self.google.add_busy(cal["id"], _at(day, form["start"], zone).isoformat(),
                                 _at(day, form["end"], zone).isoformat(),
                                 summary=form.get("summary") or "Busy")
        elif path == "/move":
            event = next(e for e in self.google.list_events(cal["id"]) if e["id"] == form["event"])
            old_start = datetime.fromisoformat(event["start"]["dateTime"])
            length = datetime.fromisoformat(event["end"]["dateTime"]) - old_start
            start = _at(date.fromisoformat(form["date"]), form["start"], zone)
            self.google.move_event(cal["id"], event["id"], start.isoformat(),
                                   (start + length).isoformat())
        else:
            self.google.delete_event(cal["id"], form["event"])
        return redirect(f"{root}/?{urlencode({'week': form.get('date', '')})}", code=303)

    def _calendar(self, calendar_id: str) -> dict[str, Any]:
        for cal in self.google.calendars():
            if cal["id"] == calendar_id:
                return cal
        raise AssertionError(f"no calendar {calendar_id!r}")

    def page(self, request: Request, root: str) -> str:
        try:
            picked = date.fromisoformat(request.args.get("week", ""))
        except ValueError:
            picked = date.today()
        monday = picked - timedelta(days=picked.weekday())
        days = [monday + timedelta(days=i) for i in range(7)]
        calendars = []
        for cal in sorted(self.google.calendars(), key=lambda c: (c["owner"], c["id"])):
            zone = ZoneInfo(cal["time_zone"])
            week: dict[date, list[dict[str, Any]]] = {d: [] for d in days}
            for event in self.google.list_events(cal["id"]):
                if event["_standin"]["deleted"] or event.get("status") == "cancelled":
                    continue
                shown = _shown(event, zone)
                if shown and shown["day"] in week:
                    week[shown["day"]].append(shown)
            for items in week.values():
                items.sort(key=lambda e: e["start"])
            calendars.append({**cal, "week": week})
        return _ENV.from_string(PAGE.read_text()).render(
            root=root, calendars=calendars, days=days, monday=monday.isoformat(),
            prev=urlencode({"week": (monday - timedelta(days=7)).isoformat()}),
            next=urlencode({"week": (monday + timedelta(days=7)).isoformat()}))


def _at(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(p) for p in hhmm.split(":")[:2])
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def _shown(event: dict[str, Any], zone: ZoneInfo) -> dict[str, Any] | None:
    start, end = event.get("start", {}), event.get("end", {})
    ours = bool((event.get("extendedProperties") or {}).get("private", {}).get("booking_id"))
    base = {"id": event["id"], "summary": event.get("summary") or "(no title)", "ours": ours}
    if "dateTime" in start:
        a = datetime.fromisoformat(start["dateTime"]).astimezone(zone)
        b = datetime.fromisoformat(end["dateTime"]).astimezone(zone)
        return {**base, "day": a.date(), "start": f"{a:%H:%M}", "end": f"{b:%H:%M}",
                "timed": True}
    if "date" in start:
        return {**base, "day": date.fromisoformat(start["date"]), "start": "all day",
                "end": "", "timed": False}
    return None
