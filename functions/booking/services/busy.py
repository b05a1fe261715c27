"""Where the owner is busy: confirmed bookings here, and every conflict calendar of every
connected Google account.

One freebusy.query per account per request covers all of that account's conflict calendars
(the adapter chunks past Google's limits), and the accounts are asked at once: a request waits
one Google round trip whatever the number of accounts (a token refresh first, on an instance
whose access token for that account has expired). An account that cannot be checked, because
it needs reconnecting or Google keeps failing, makes the whole answer Unavailable, naming the
account: offering a time nobody checked is how double bookings happen.

`CachedBusy` serves availability from each calendar's busy cache (kept by push-driven syncs,
services/sync.py) when that cache is fresh, and asks Google live for any account it cannot
vouch for. The booking check always uses `LiveGoogleBusy`: a cache is never trusted for the
final claim.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from booking import fanout
from booking.adapters import firestore_bookings as bookings_store
from booking.adapters import firestore_owners as owners_store
from booking.adapters import google_calendar
from booking.deadline import Deadline
from booking.domain import seats as seat_rules
from booking.domain.availability import Booked, slot_is_offered
from booking.domain.booking_rules import TAKEN, refusal
from booking.domain.intervals import Interval, normalise, subtract
from booking.domain.model import Connection, Owner
from booking.domain.rules import AvailabilityRules
from booking.errors import Conflict, InvalidInput
from booking.services import google_access

LIVE_DEADLINE = 8.0  # seconds a live check may take when the caller gave no deadline


class BusySource(Protocol):
    def busy(self, owner: Owner, span: Interval, now: datetime,
             deadline: Deadline | None = None) -> list[Interval]: ...


class LiveGoogleBusy:
    """Asks Google now: one freebusy.query per account with conflict calendars, all at once.
    `connections`, when the caller has read them already, saves reading them again."""

    def __init__(self, connections: Sequence[Connection] | None = None) -> None:
        self.connections = connections

    def busy(self, owner: Owner, span: Interval, now: datetime,
             deadline: Deadline | None = None) -> list[Interval]:
        connections = self.connections if self.connections is not None \
            else owners_store.list_connections(owner.id)
        return self.accounts(owner, [c for c in connections if c.conflict_calendar_ids], span,
                             now, deadline)

    def accounts(self, owner: Owner, accounts: Sequence[Connection], span: Interval,
                 now: datetime, deadline: Deadline | None = None) -> list[Interval]:
        if not accounts:
            return []
        # A guest is waiting: a Google that keeps failing until the deadline is answered with
        # 503. One deadline covers every account's query (they run at once), not one each.
        limit = deadline if deadline is not None else Deadline.within(LIVE_DEADLINE)
        per_account = fanout.run_all([
            functools.partial(self._account, owner, conn, span, now, limit)
            for conn in accounts])
        return [interval for found in per_account for interval in found]

    def _account(self, owner: Owner, conn: Connection, span: Interval, now: datetime,
                 deadline: Deadline) -> list[Interval]:
        per_calendar = google_access.use(
            owner, conn,
            lambda c: google_calendar.freebusy(c, list(c.conflict_calendar_ids), span.start,
                                               span.end, deadline=deadline),
            now,
        )
        return [Interval(start, end) for periods in per_calendar.values()
                for start, end in periods if start < end]


class CachedBusy:
    """Busy time from the calendars' caches; live free/busy for an account with a calendar
    whose cache is not fresh (no live channel, no recent sync, an unsynced push, or a span
    outside what it holds)."""

    def __init__(self, connections: Sequence[Connection] | None = None) -> None:
        self.live = LiveGoogleBusy()
        self.connections = connections  # when the caller has read them already
        self.cached = 0  # accounts answered from the cache
        self._read: tuple[str, list[Connection], dict[tuple[str, str], str],
                          dict[str, dict[str, Any]]] | None = None

    def read(self, owner: Owner) -> None:
        """Reads the caches now (Firestore only), so that the next `busy` asks Google at once:
        a caller reads them beside other work (the abuse-limit count)."""
        self._read = self._fetch(owner)

    def _fetch(self, owner: Owner) -> tuple[str, list[Connection], dict[tuple[str, str], str],
                                            dict[str, dict[str, Any]]]:
        from booking.adapters import firestore_sync as sync_store

        connections = self.connections if self.connections is not None \
            else owners_store.list_connections(owner.id)
        conns = [c for c in connections if c.conflict_calendar_ids]
        keys = {(c.id, cal): sync_store.key(owner.id, c.id, cal)
                for c in conns for cal in c.conflict_calendar_ids}
        docs = sync_store.get_many(list(keys.values())) if keys else {}
        return owner.id, conns, keys, docs

    def busy(self, owner: Owner, span: Interval, now: datetime,
             deadline: Deadline | None = None) -> list[Interval]:
        from booking.adapters import firestore_sync as sync_store
        from booking.domain import sync as decisions

        read, self._read = self._read, None
        if read is None or read[0] != owner.id:
            read = self._fetch(owner)
        _, conns, keys, docs = read
        found: list[Interval] = []
        live: list[Connection] = []
        for conn in conns:
            states = [docs.get(keys[(conn.id, cal)]) for cal in conn.conflict_calendar_ids]
            if conn.healthy and all(d is not None and decisions.fresh(
                    channel_expires_at=d.get("channel_expires_at"),
                    synced_at=d.get("synced_at"), dirty_since=d.get("dirty_since"),
                    covered=Interval(*d["covered"]) if d.get("covered") else None,
                    span=span, now=now, max_age=decisions.MAX_AGE,
                    max_dirty=decisions.MAX_DIRTY) for d in states):
                self.cached += 1
                intervals = [Interval(s, e) for d in states if d is not None
                             for s, e in sync_store.decode_busy(d.get("busy")).values()]
                found.extend(decisions.within(intervals, span))
            else:
                live.append(conn)
        return found + self.live.accounts(owner, live, span, now, deadline)


def check_live(rules: AvailabilityRules, seats: int, start: datetime, *,
               booked: Sequence[Booked], live: Callable[[], list[Interval]], now: datetime,
               owner_daily_cap: int | None, taken: str = TAKEN) -> None:
    """Whether a guest may take `start`: the rules and our bookings first (no Google call for
    a time they refuse), then `live` busy time. A start where this event type has a group slot
    with a free seat is checked as joining it: without the group's own seats and its own
    Google event (domain.seats); a full one is a 409 that says so."""
    where = seat_rules.place(Interval(start, start + rules.duration), seats, booked) \
        if seats > 1 else seat_rules.Placement(None)
    if where.full:
        raise Conflict(seat_rules.FULL)
    others = seat_rules.without(booked, where.group.id) if where.group else list(booked)
    refuse_early(rules, start, others, now, owner_daily_cap)
    busy = live()
    if where.group is not None:
        busy = subtract(normalise(busy), [where.group.interval])
    if not slot_is_offered(rules, start, busy=busy, booked=others, now=now,
                           owner_daily_cap=owner_daily_cap):
        raise Conflict(taken)


def booked(owner: Owner, span: Interval, event_type: str, now: datetime,
           exclude: str | None = None, reach: timedelta = timedelta(days=2)) -> list[Booked]:
    """Bookings that hold their time at `now` (confirmed, or a hold not yet lapsed: nothing
    has to run for a lapsed hold to free its slot) and can touch `span` or count toward the
    daily limit of an owner day it reaches (an owner day can start up to 26 hours away from a
    UTC edge), with their own buffers. Those of `event_type` count toward its own limits;
    every one toward the owner's. `exclude` leaves out a booking being moved; `reach` widens
    the span to the weeks or months of weekly and monthly limits
    (`AvailabilityRules.limit_reach`)."""
    found = []
    for doc in bookings_store.holding_starting_between(owner.id, span.start - reach,
                                                       span.end + reach, now):
        if doc["id"] == exclude:
            continue
        found.append(Booked(
            Interval(doc["start"], doc["end"]),
            buffer_before=timedelta(minutes=int(doc.get("buffer_before_minutes", 0))),
            buffer_after=timedelta(minutes=int(doc.get("buffer_after_minutes", 0))),
            counts_toward_limit=doc.get("event_type") == event_type,
            group=doc.get("group_id"),
        ))
    return found


def query_span(slot_span: Interval, *, duration: timedelta, before: timedelta,
               after: timedelta) -> Interval:
    """The busy time that can matter to slots starting in `slot_span`: a slot's before-buffer
    reaches back, its length and after-buffer reach forward."""
    return Interval(slot_span.start - before, slot_span.end + duration + after)


def refuse_early(rules: AvailabilityRules, start: datetime, booked: Sequence[Booked],
                 now: datetime, owner_daily_cap: int | None) -> None:
    """The rules and our own bookings, before any Google call: a time they refuse costs no
    Google quota, and the answer names the rule (in the past, not on the grid, ...)."""
    refused = refusal(rules, start, booked=booked, now=now, owner_daily_cap=owner_daily_cap)
    if refused is None:
        return
    if refused.taken:
        raise Conflict(refused.message)
    raise InvalidInput("start", refused.message)
