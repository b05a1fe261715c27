"""The owner's pages besides the integration page: event types and bookings.

Routes are rows of a table (method, path pattern, handler: booking.web.routes). Pages only
read; every change goes through the JSON API (`/owner/api/...`) from the page's own script
(`/owner/_assets/owner.js`, same origin, fetch with the session cookie), which puts the API's
field messages next to the fields. Confirmation steps (delete, cancel, reschedule) are pages
of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Request, Response

from booking.config import get_settings
from booking.domain.model import Owner
from booking.web.http import SECURITY_HEADERS, html_response
from booking.web.routes import NO_PAGE

Page = Callable[[Request, Owner, dict[str, str]], Response]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _now() -> datetime:
    return datetime.now(UTC)


def _base() -> str:
    return get_settings().function_url("owner")


# Pages that run /owner/_assets/owner.js (and nothing else).
SCRIPT_CSP = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"}


def _page(template: str, owner: Owner, **context: Any) -> Response:
    from booking.rendering import render

    page = render(template, owner.language, owner_nav=True, base=_base(),
                  script=_base() + "/_assets/owner.js", **context)
    return html_response(page, headers=SCRIPT_CSP)


def event_types(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    from booking.services import event_types as service

    return _page("owner_event_types.html", owner, event_types=service.list_all(owner),
                 book_url=get_settings().function_url("book") + f"/{owner.id}")


def event_type_form(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    from booking.services import event_types as service

    slug = args.get("slug")
    data: dict[str, Any] = service.load(owner, slug).to_dict() if slug else {
        "slug": "", "title": "", "description": "", "location": "google_meet",
        "questions": [], "active": True, "confirm_by_email": False, "hold_minutes": 10,
        "rules": {"weekly_hours": {d: [["09:00", "17:00"]] for d in WEEKDAYS[:5]},
                  "duration_minutes": 30}}
    rules: dict[str, Any] = data.get("rules", {})
    hours = {d: ", ".join(f"{a}-{b}" for a, b in rules.get("weekly_hours", {}).get(d, []))
             for d in WEEKDAYS}
    from booking.domain import locales

    return _page("owner_event_type_form.html", owner, data=data, rules=rules, hours=hours,
                 weekdays=list(zip(WEEKDAYS, locales.weekday_names(owner.language, "wide"),
                                   strict=True)),
                 editing=bool(slug), raw=json.dumps(data, default=str))


def event_type_delete(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    from booking.services import event_types as service

    return _page("owner_confirm.html", owner, kind="delete_event_type",
                 event_type=service.load(owner, args["slug"]).to_dict())


def bookings(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    from booking.services import changes

    upcoming, past = changes.bookings_of(owner, _now())
    return _page("owner_bookings.html", owner, upcoming=[_row(owner, b) for b in upcoming],
                 past=[_row(owner, b) for b in past])


def booking_cancel(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    from booking.services import changes

    opened = changes.owner_view(owner, args["id"])
    return _page("owner_confirm.html", owner, kind="cancel_booking",
                 booking=_row(owner, opened.booking))


def booking_reschedule(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    from zoneinfo import ZoneInfo

    from booking.domain.availability import group_by_local_day
    from booking.domain.meeting import format_day
    from booking.services import changes
    from booking.web.pages import times_page

    now = _now()
    opened = changes.owner_view(owner, args["id"])
    zone = ZoneInfo(owner.time_zone)
    shown = times_page(request.args.get("from"), zone, now, opened.booking["start"])
    slots = changes.free_slots(opened, shown.start, shown.end, now)
    days = [{"title": format_day(starts[0], owner.language), "starts": starts}
            for starts in group_by_local_day(slots, zone).values()]
    page = f"{_base()}/bookings/{args['id']}/reschedule?from="
    return _page("owner_reschedule.html", owner, booking=_row(owner, opened.booking),
                 days=days, zone=owner.time_zone,
                 earlier=page + shown.earlier.isoformat() if shown.earlier else None,
                 later=page + shown.later.isoformat() if shown.later else None)


def _row(owner: Owner, b: dict[str, Any]) -> dict[str, Any]:
    from booking.domain.meeting import format_range

    return {"id": b["id"], "title": b["title"], "status": b["status"],
            "guest": b["guest"], "meet_link": b.get("meet_link"),
            "when": format_range(b["start"], b["end"], owner.time_zone, owner.language),
            "answers": list(zip(b.get("questions", []), b.get("answers", []), strict=False)),
            "notes": b.get("notes", "")}


SCRIPT = """(function () {
  "use strict";
  function hours(text) {
    return text.split(",").map(function (r) { return r.trim(); }).filter(Boolean)
      .map(function (r) { return r.split("-").map(function (t) { return t.trim(); }); });
  }
  function value(el) {
    var kind = el.getAttribute("data-kind");
    if (el.type === "checkbox") return kind === "inverse" ? !el.checked : el.checked;
    if (kind === "int") return el.value.trim() === "" ? null : Number(el.value);
    if (kind === "optional") return el.value.trim() === "" ? null : el.value.trim();
    if (kind === "lines") {
      return el.value.split("\\n").map(function (l) { return l.trim(); }).filter(Boolean);
    }
    if (kind === "hours") return hours(el.value);
    return el.value;
  }
  function put(obj, path, v) {
    var keys = path.split("."), o = obj;
    for (var i = 0; i < keys.length - 1; i++) { o = o[keys[i]] = o[keys[i]] || {}; }
    // An empty number field means "the default": leave it out rather than send null.
    if (v === null) { delete o[keys[keys.length - 1]]; } else { o[keys[keys.length - 1]] = v; }
  }
  function show(form, fields, message) {
    form.querySelectorAll("[data-error-for]").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (i) {
      i.removeAttribute("aria-invalid");
    });
    var rest = [];
    Object.keys(fields || {}).forEach(function (name) {
      var key = name.replace(/\\[\\d+\\].*$/, "");
      var slot = form.querySelector('[data-error-for="' + name + '"]') ||
                 form.querySelector('[data-error-for="' + key + '"]');
      if (slot) {
        slot.textContent = fields[name];
        var input = form.querySelector('[name="' + slot.getAttribute("data-error-for") + '"]');
        if (input) input.setAttribute("aria-invalid", "true");
      } else { rest.push(name + ": " + fields[name]); }
    });
    var top = form.querySelector('[data-error-for="_form"]');
    if (top) top.textContent = rest.length ? rest.join(" · ") : (message || "");
    var first = form.querySelector("[aria-invalid]") || top;
    if (first && first.focus) first.focus();
  }
  document.querySelectorAll("form[data-api]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = JSON.parse(form.getAttribute("data-base") || "{}");
      form.querySelectorAll("[name]").forEach(function (el) {
        if (el.type === "radio" && !el.checked) return;
        if (el.name) put(body, el.name, value(el));
      });
      fetch(form.getAttribute("data-api"), {
        method: form.getAttribute("data-method") || "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)
      }).then(function (resp) {
        if (resp.ok) { location.href = form.getAttribute("data-next"); return; }
        return resp.json().then(function (err) { show(form, err.fields, err.message); });
      }).catch(function () {
        // No answer, or one that is not ours (a proxy's page): never a click that does nothing.
        show(form, {}, document.body.getAttribute("data-offline"));
      });
    });
  });
  // Forms posting to a page route of ours (integrations, sign out, the OAuth confirmation):
  // the same fields as a plain form, as JSON ({"form": {name: [values]}}), because a change
  // made with the session cookie is accepted only as same-origin JSON (owner_http).
  document.querySelectorAll("form[data-json]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var fields = {};
      new FormData(form).forEach(function (v, name) {
        (fields[name] = fields[name] || []).push(v);
      });
      var target = (ev.submitter && ev.submitter.getAttribute("formaction")) || form.action;
      fetch(target, {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({form: fields})
      }).then(function (resp) {
        if (resp.ok && resp.redirected) { location.href = resp.url; return; }
        return resp.text().then(function (html) {
          document.open(); document.write(html); document.close();
        });
      });
    });
  });
})();
"""


def booking_detail(request: Request, owner: Owner, args: dict[str, str]) -> Response:
    """Where the owner's Google event links: the owner's own page, signed in, never the guest's
    Cancel or Reschedule link (anyone who can see event details could use those)."""
    from booking.services import changes

    booking = changes.owner_view(owner, args["id"]).booking  # 404 for another owner's booking
    # The owner's zone and language, the guest's answers, and the changes they came to make.
    return _page("owner_booking.html", owner, booking=_row(owner, booking))


def script(request: Request, owner: Owner | None, args: dict[str, str]) -> Response:
    resp = Response(SCRIPT, mimetype="text/javascript")
    resp.headers.update(SECURITY_HEADERS)
    return resp


_EVENT_TYPE = r"/event-types/(?P<slug>[^/]+)"
_BOOKING = r"/bookings/(?P<id>[^/]+)"
# The owner's pages as rows of a routes.Table (owner_http adds the integration page's).
ROUTES: list[tuple[str, str, Page]] = [
    ("GET", r"/event-types", event_types),
    ("GET", r"/event-types/new", event_type_form),
    ("GET", _EVENT_TYPE, event_type_form),
    ("GET", _EVENT_TYPE + "/delete", event_type_delete),
    ("GET", r"/bookings", bookings),
    ("GET", _BOOKING, booking_detail),
    ("GET", _BOOKING + "/cancel", booking_cancel),
    ("GET", _BOOKING + "/reschedule", booking_reschedule),
]
ID_KINDS = {"slug": ("event_type", NO_PAGE), "id": ("booking", NO_PAGE)}
