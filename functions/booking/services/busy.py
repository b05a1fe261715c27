"""Where the owner is busy: confirmed bookings here, and every conflict calendar of every
connected Google account.

One freebusy.query per account per request covers all of that account's conflict calendars
(the adapter chunks past Google's limits), and the accounts are asked at once: a request waits
one Google round trip whatever the number of accounts (a token refresh first, on an instance
whose access token for that account has expired). An account that cannot be checked, because
it needs reconnecting or Google keeps failing, makes the whole answer Unavailable, naming the
account: offering a time nobody checked is how double bookings happen.

`BusySource` is the one seam for a busy cache kept fresh by push notifications; the booking
check always uses `LiveGoogleBusy`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from booking import fanout
from booking.adapters import firestore_bookings as bookings_store
from booking.adapters import firestore_owners as owners_store
from booking.adapters import google_calendar
from booking.domain.availability import Booked
from booking.domain.booking_rules import refusal
from booking.domain.intervals import Interval
from booking.domain.model import Connection, Owner
from booking.domain.rules import AvailabilityRules
from booking.errors import Conflict, InvalidInput
from booking.services import google_access

LIVE_DEADLINE = 8.0  # seconds of retrying per request


class BusySource(Protocol):
    def busy(self, owner: Owner, span: Interval, now: datetime) -> list[Interval]: ...


class LiveGoogleBusy:
    """Asks Google now: one freebusy.query per account with conflict calendars, all at once."""

    def busy(self, owner: Owner, span: Interval, now: datetime) -> list[Interval]:
        accounts = [conn for conn in owners_store.list_connections(owner.id)
                    if conn.conflict_calendar_ids]
        # A guest is waiting: a Google that keeps failing for this long is answered with 503.
        with google_calendar.deadline(LIVE_DEADLINE):
            per_account = fanout.run_all([
                functools.partial(self._account, owner, conn, span, now) for conn in accounts])
        return [interval for found in per_account for interval in found]

    def _account(self, owner: Owner, conn: Connection, span: Interval,
                 now: datetime) -> list[Interval]:
        per_calendar = google_access.use(
            owner, conn,
            lambda c: google_calendar.freebusy(c, list(c.conflict_calendar_ids), span.start,
                                               span.end),
            now,
        )
        return [Interval(start, end) for periods in per_calendar.values()
                for start, end in periods if start < end]


def booked(owner: Owner, span: Interval, event_type: str, exclude: str | None = None,
           reach: timedelta = timedelta(days=2)) -> list[Booked]:
    """Confirmed bookings that can touch `span` or count toward the daily limit of an owner day
    it reaches (an owner day can start up to 26 hours away from a UTC edge), with their own
    buffers. Those of `event_type` count toward its own limits; every one toward the owner's.
    `exclude` leaves out a booking being moved; `reach` widens the span to the weeks or months
    of weekly and monthly limits (`AvailabilityRules.limit_reach`)."""
    found = []
    for doc in bookings_store.confirmed_starting_between(owner.id, span.start - reach,
                                                         span.end + reach):
        if doc["id"] == exclude:
            continue
        found.append(Booked(
            Interval(doc["start"], doc["end"]),
            buffer_before=timedelta(minutes=int(doc.get("buffer_before_minutes", 0))),
            buffer_after=timedelta(minutes=int(doc.get("buffer_after_minutes", 0))),
            counts_toward_limit=doc.get("event_type") == event_type,
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
