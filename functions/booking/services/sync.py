"""Bringing one watched calendar up to date: gather a page, decide, apply; page after page.

Gather: an incremental sync (the stored syncToken, every page; recurring series expanded), or,
with no token or after Google's 410, a full sync of the window we keep (deleted events
included). Decide: `domain.sync.decide`. Apply: booking changes through `google_changes`, busy
time into the calendar's cache, then the page's progress (cursor, cache) in one write.

One worker syncs a calendar at a time (a lease in its sync document); a push that arrives
meanwhile marks the calendar dirty and the holder runs once more, so concurrent pushes and
resyncs do the work once and miss nothing. A sync is bounded in time: what is left stays as a
saved page cursor, and the calendar stays dirty for the next push or resync to continue.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking import log
from booking.adapters import firestore_bookings as bookings_store
from booking.adapters import firestore_owners as owners_store
from booking.adapters import firestore_sync as store
from booking.adapters import google_calendar
from booking.deadline import Deadline
from booking.domain import sync as decisions
from booking.domain.intervals import Interval
from booking.domain.model import CalendarRef, Connection, Owner
from booking.errors import DocumentMissing, ExternalError, PermanentError, ReauthRequired
from booking.services import google_access, google_changes

LEASE = timedelta(seconds=60)
PAST = timedelta(days=1)
HORIZON = timedelta(days=740)  # the longest booking window (730 days) and a margin
REFRESH_BEFORE = timedelta(days=30)  # a full sync renews the window once this little is left
RERUNS = 3


@dataclass
class Outcome:
    status: str  # synced | partial | busy | skipped
    changes: int = 0
    pages: int = 0
    full: bool = False


def meta(owner_id: str, connection_id: str, calendar_id: str) -> dict[str, Any]:
    return {"owner_id": owner_id, "connection_id": connection_id, "calendar_id": calendar_id}


def sync_calendar(owner_id: str, connection_id: str, calendar_id: str, now: datetime, *,
                  budget: float) -> Outcome:
    """Syncs for at most about `budget` seconds. Raises TransientError when Google failed
    (the calendar stays dirty; a retry or resync continues)."""
    key = store.key(owner_id, connection_id, calendar_id)
    give_up_at = time.monotonic() + budget
    total = Outcome("busy")
    for _ in range(RERUNS):
        lease_id = uuid.uuid4().hex
        state = store.begin(key, lease_id, meta(owner_id, connection_id, calendar_id), now,
                            LEASE)
        if state is None:
            return total  # another worker holds it; it runs again for our push
        try:
            outcome = _run(key, state, owner_id, connection_id, calendar_id, now, give_up_at)
        except BaseException:
            store.release(key, lease_id, {"dirty_since": state.get("dirty_since") or now})
            raise
        dirty = outcome.status == "partial"
        again = store.release(key, lease_id, {"dirty_since": now} if dirty else {})
        total = Outcome(outcome.status, total.changes + outcome.changes,
                        total.pages + outcome.pages, total.full or outcome.full)
        if not again or dirty or time.monotonic() >= give_up_at:
            return total
    return total


def _run(key: str, state: dict[str, Any], owner_id: str, connection_id: str,
         calendar_id: str, now: datetime, give_up_at: float) -> Outcome:
    try:
        owner = owners_store.get_owner(owner_id)
    except DocumentMissing:
        return Outcome("skipped")
    conn = owners_store.find_connection(owner_id, connection_id)
    if conn is None or not conn.healthy:
        return Outcome("skipped")
    info = conn.calendar(calendar_id)
    zone = ZoneInfo(info.time_zone if info else owner.time_zone)
    ref = CalendarRef(connection_id, calendar_id)
    busy = store.decode_busy(state.get("busy"))
    token, page = state.get("sync_token"), state.get("page_token")
    window = _window(state.get("full_window"))
    covered = _window(state.get("covered"))
    if covered is not None and covered.end - now < HORIZON - REFRESH_BEFORE and page is None:
        token = None  # time to push the window forward: one full sync
    if token is None and window is None:
        window = Interval(now - PAST, now + HORIZON)
        page = None
    outcome = Outcome("synced", full=token is None)
    restarted = False
    while True:
        try:
            resp = google_calendar.events_page(
                conn, calendar_id, sync_token=token, page_token=page,
                window=(window.start, window.end) if token is None and window else None,
                deadline=Deadline(give_up_at))
        except ReauthRequired:
            google_access.reconnect_needed(owner, conn, now)
            return Outcome("skipped")
        except PermanentError as exc:
            if exc.status == 410 and not restarted:
                # Google's fullSyncRequired: the token (or page) is dead; what we derived from
                # it may be stale, so the cache starts over from a full sync.
                log.warning("sync token expired: full sync", owner=owner_id, calendar=key)
                token, page, busy, restarted = None, None, {}, True
                window = Interval(now - PAST, now + HORIZON)
                outcome.full = True
                continue
            if exc.status == 404:
                log.warning("watched calendar is gone", owner=owner_id, calendar=key)
                return Outcome("skipped")
            raise
        items = resp.get("items", [])
        limits = window if token is None and window else covered or \
            Interval(now - PAST, now + HORIZON)
        _apply(owner, conn, ref, zone, items, busy, limits, now)
        outcome.changes += len(items)
        outcome.pages += 1
        page = resp.get("nextPageToken")
        fields: dict[str, Any] = {"busy": store.encode_busy(busy), "page_token": page}
        if page is None:
            fields.update(sync_token=resp.get("nextSyncToken"), synced_at=now, full_window=None)
            if token is None and window is not None:
                fields["covered"] = [window.start, window.end]
            store.save(key, fields)
            return outcome
        fields.update(sync_token=token, full_window=[window.start, window.end]
                      if token is None and window else None)
        store.save(key, fields)
        if time.monotonic() >= give_up_at:
            outcome.status = "partial"
            return outcome


def _window(value: Any) -> Interval | None:
    return Interval(value[0], value[1]) if value else None


def _apply(owner: Owner, conn: Connection, ref: CalendarRef, zone: ZoneInfo,
           items: list[dict[str, Any]], busy: dict[str, tuple[datetime, datetime]],
           limits: Interval, now: datetime) -> None:
    changes = [decisions.parse(item, zone) for item in items]
    ids = sorted({c.booking_id for c in changes if c.booking_id})
    stored = {b["id"]: b for b in bookings_store.get_many(owner.id, ids)} if ids else {}
    views = {bid: _view(doc) for bid, doc in stored.items()}
    # A group slot's one event is named after its group (its first seat's id, or a new id
    # once a seat moved to a time of its own): what Google did to it, it did to every seat.
    maybe_groups = [i for i in ids if i not in stored or "group_id" in stored[i]]
    seats = bookings_store.groups(owner.id, maybe_groups) if maybe_groups else {}
    spans = {c.booking_id: c.span for c in changes if c.booking_id}
    for group_id, members in seats.items():
        views[group_id] = _group_view(group_id, members, spans.get(group_id))
    elsewhere = _elsewhere(owner, ref, changes, views, now)
    for change in changes:
        if change.booking_id in seats and not change.cancelled:
            for declined in decisions.declined_seats(
                    change, [_view(m) for m in seats[change.booking_id]]):
                google_changes.declined(owner, declined.booking_id, now)
    for action in decisions.decide(ref, changes, views, elsewhere, now=now):
        if isinstance(action, decisions.SetBusy):
            clipped = decisions.clip(action.span, limits)
            if clipped is None:
                busy.pop(action.event_id, None)
            else:
                busy[action.event_id] = (clipped.start, clipped.end)
        elif isinstance(action, decisions.ClearBusy):
            _clear(busy, action.event_id)
        elif isinstance(action, decisions.Expand):
            _clear(busy, action.series_id)
            for occurrence in google_calendar.series_instances(
                    conn, ref.calendar_id, action.ical_uid, limits.start, limits.end):
                change = decisions.parse(occurrence, zone)
                clipped = decisions.clip(change.span, limits) if change.busy and change.span \
                    else None
                if clipped is not None:
                    busy[change.id] = (clipped.start, clipped.end)
        elif isinstance(action, decisions.Moved):
            for booking_id in _seats_of(action.booking_id, seats):
                google_changes.moved(owner, booking_id, action.span, now)
        elif isinstance(action, decisions.Cancelled):
            for booking_id in _seats_of(action.booking_id, seats):
                google_changes.cancelled(owner, booking_id, now)
        elif isinstance(action, decisions.Declined):
            google_changes.declined(owner, action.booking_id, now)
        elif isinstance(action, decisions.Answered):
            google_changes.answered(owner, action.booking_id)
        else:
            # Every seat, cancelled ones too: the group's event is found where its seats say.
            for booking_id in _seats_of(action.booking_id, seats, every=True):
                google_changes.followed(owner, booking_id, action.calendar, now)


def _seats_of(booking_id: str, seats: dict[str, list[dict[str, Any]]], *,
              every: bool = False) -> list[str]:
    """The bookings an action on our event applies to: a group's confirmed seats (`every`
    seat), or the one booking."""
    if booking_id not in seats:
        return [booking_id]
    return [s["id"] for s in seats[booking_id] if every or s["status"] == "confirmed"]


def _group_view(group_id: str, members: list[dict[str, Any]],
                span: Interval | None) -> decisions.StoredBooking:
    """A group slot as one booking for the decisions: confirmed while a seat is. Its span is
    a seat's that differs from Google's when any does, so a move half applied (a crash between
    two seats) is decided again and finished. Declines are each seat's own
    (`decisions.declined_seats`)."""
    here = [m for m in members if m["status"] == "confirmed"] or members
    seat = next((m for m in here if Interval(m["start"], m["end"]) != span), here[0])
    view = _view(seat)
    return decisions.StoredBooking(
        id=group_id, status=seat["status"], span=view.span, guest_email="",
        calendar=view.calendar, written=view.written)


def _clear(busy: dict[str, tuple[datetime, datetime]], event_id: str) -> None:
    """Drops an event and, if it was a series, its occurrences (ids `<series>_<start>`)."""
    busy.pop(event_id, None)
    prefix = f"{event_id}_"
    for key in [k for k in busy if k.startswith(prefix)]:
        del busy[key]


def _view(doc: dict[str, Any]) -> decisions.StoredBooking:
    cal = doc.get("calendar")
    written = Interval(doc["written_start"], doc["written_end"]) \
        if doc.get("written_start") and doc.get("written_end") else None
    return decisions.StoredBooking(
        id=doc["id"], status=doc["status"], span=Interval(doc["start"], doc["end"]),
        guest_email=doc["guest"]["email"], calendar=CalendarRef.from_dict(cal) if cal else None,
        written=written, guest_declined=doc.get("guest_response") == "declined")


def _elsewhere(owner: Owner, ref: CalendarRef, changes: list[decisions.Change],
               views: dict[str, decisions.StoredBooking],
               now: datetime) -> dict[str, CalendarRef]:
    """For a booking event deleted from its own calendar: is it alive on another calendar of
    the owner? (Google's events.move shows on the old calendar as a deletion.) Every calendar
    the owner can write to is asked, watched or not: "Change calendar" in Google Calendar
    offers them all, and a meeting the owner filed under another calendar is not cancelled."""
    gone = [c for c in changes if c.cancelled and c.booking_id in views
            and views[c.booking_id].calendar == ref and views[c.booking_id].status == "confirmed"]
    if not gone:
        return {}
    found: dict[str, CalendarRef] = {}
    for conn in owners_store.list_connections(owner.id):
        if not conn.healthy:
            continue
        for calendar_id in _movable_to(owner, conn):
            other = CalendarRef(conn.id, calendar_id)
            if other == ref:
                continue
            for change in gone:
                if change.booking_id in found:
                    continue
                try:
                    event = google_calendar.get_event(conn, calendar_id, change.id)
                except ExternalError:
                    continue
                if event.get("status") != "cancelled":
                    found[str(change.booking_id)] = other
    return found


def _movable_to(owner: Owner, conn: Connection) -> list[str]:
    """The watched calendars first (where a moved event is most likely), then the rest the
    owner can write to."""
    ids = watched_calendars(owner, conn)
    return ids + [c.id for c in conn.calendars if c.writable and c.id not in ids]


def watched_calendars(owner: Owner, conn: Connection) -> list[str]:
    """The calendars of one connection that we watch: its conflict calendars and, if it holds
    it, the default calendar (where bookings' events live)."""
    ids = list(conn.conflict_calendar_ids)
    default = owner.default_calendar
    if default and default.connection_id == conn.id and default.calendar_id not in ids:
        ids.append(default.calendar_id)
    return ids + [c for c in conn.booking_calendar_ids if c not in ids]


def sync_stalest(now: datetime, *, limit: int, budget: float) -> dict[str, int]:
    """resync's safety net: an incremental sync of the calendars synced longest ago."""
    counts: dict[str, int] = {}
    give_up_at = time.monotonic() + budget
    for _key, data in store.stalest(limit):
        left = give_up_at - time.monotonic()
        if left <= 0:
            break
        try:
            outcome = sync_calendar(data["owner_id"], data["connection_id"],
                                    data["calendar_id"], now, budget=left)
            status = outcome.status
        except ReauthRequired:
            status = "reauth"
        except ExternalError as exc:
            log.warning("resync of a calendar failed", owner=data["owner_id"], error=str(exc))
            status = "failed"
        counts[status] = counts.get(status, 0) + 1
    return counts
