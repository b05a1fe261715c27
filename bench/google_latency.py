"""Google's real latency on the local stack, and the path we had before issue 17, for the
end-to-end benches (bench.booking, bench.availability_e2e).

    with local_stack(...) as st:
        owners = {n: seed_owner(st, f"acc{n}", n) for n in ACCOUNTS}
        google_like(st)                      # per-method latency at the stand-in
        with old_path():                      # one call after another, re-check inline
            ...

`GOOGLE_LATENCY` sets the stand-in's per-method latency to figures like Google's (Calendar
freebusy.query about 150 ms, events.list 120 ms, events.insert with a Meet link 400 ms, a token
refresh 100 ms). `old_path()` puts back, in this process (which serves the functions), the path
before issue 17: every Google call one after another (fanout.MAX_PARALLEL = 1) and the
after-insert conflict check made inside the guest's request, as calendar_writes did. The same
code runs both ways, so the two are compared within one run, on one machine.

A round trip is one Google latency the caller waited for: the longest chain of calls logged by
the stand-in each of which started after the previous one ended (tests.integration.helpers).
"Google ms" is how long some Google call was in flight during a request (the union of the
calls' intervals at the stand-in), "ours ms" the rest of the request's time.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.report import pct, table
from bench.stack import BENCH_LIMITS, LocalStack, _ok

ACCOUNTS = (1, 3, 6)
# Seconds per Google method at the stand-in (the token endpoint is set apart).
GOOGLE_LATENCY = {
    "calendar.freebusy.query": 0.150,
    "calendar.events.list": 0.120,
    "calendar.events.insert": 0.400,
}
TOKEN_LATENCY = 0.100
TARGET = 1.2  # latency within 1.2x of the round trips nobody can avoid
# Firestore round trips this design cannot avoid (README, "Performance"), priced in each run
# at its median Firestore RPC. Availability: the owner's rules and connections, read beside
# the client's abuse count; then the owner's abuse count (it needs the owner's limits, and
# only a request within the client's limits may spend the owner's allowance), beside
# reading our bookings and the busy caches. Both before Google may be asked.
AVAILABILITY_FIRESTORE_FLOOR = 2
# A booking: those two rounds (the second reads our bookings and the claim's ledger), the
# claim's commit once Google said the time is free (what prevents a double booking), and
# the commit recording the event the insert made, before the guest is answered.
BOOKING_FIRESTORE_FLOOR = 4


@dataclass
class Owner:
    owner_id: str
    accounts: int
    api_key: str
    calendars: list[str] = field(default_factory=list)  # conflict calendars, the default first


def seed_owner(st: LocalStack, owner_id: str, accounts: int, event_types: Sequence[Any],
               busy_per_account: int = 20, seed: int = 11) -> Owner:
    """An owner with `accounts` connected Google accounts, each account's primary calendar a
    conflict calendar (with a few busy events), the first one's also the default calendar."""
    from booking.services import owners
    from tests.drivers import connect_google_account, owner_api

    now = datetime.now(UTC)
    key = owners.create_owner(owner_id, f"Owner {owner_id}", f"{owner_id}@owner.test",
                              st.time_zone, now)
    owner = Owner(owner_id, accounts, key)
    rng = random.Random(seed + accounts)
    for n in range(accounts):
        email = f"{owner_id}.{n}@gmail.test"
        st.control.create_account(email, f"{owner_id} {n}", time_zone=st.time_zone)
        for i in range(busy_per_account):
            begin = st.busy_from + timedelta(minutes=30 * rng.randrange(0, 14 * 48))
            st.control.add_event(email, {
                "summary": f"busy {i}", "start": {"dateTime": begin.isoformat()},
                "end": {"dateTime": (begin + timedelta(minutes=45)).isoformat()}})
        resp = connect_google_account(st.base_url, key, st.google_url, email)
        if resp.status_code != 303:
            raise RuntimeError(f"connecting {email}: {resp.status_code} {resp.text[:300]}")
        owner.calendars.append(email)
    conns = _ok(owner_api(st.base_url, key, "GET", "/connections"))["connections"]
    by_email = {c["email"]: c["id"] for c in conns}
    _ok(owner_api(st.base_url, key, "PATCH", "/settings", json={
        "conflict_calendars": [{"connection_id": by_email[c], "calendar_id": c}
                               for c in owner.calendars],
        "default_calendar": {"connection_id": by_email[owner.calendars[0]],
                             "calendar_id": owner.calendars[0]},
        "limits": BENCH_LIMITS}))
    for body in event_types:
        _ok(owner_api(st.base_url, key, "POST", "/event-types", json=dict(body)))
    return owner


def google_like(st: LocalStack) -> None:
    for method, seconds in GOOGLE_LATENCY.items():
        st.control.set_calendar_latency(method, seconds)
    st.control.set_token_latency(TOKEN_LATENCY)


def no_latency(st: LocalStack) -> None:
    for method in GOOGLE_LATENCY:
        st.control.set_calendar_latency(method, 0)
    st.control.set_token_latency(0)


@contextmanager
def old_path() -> Iterator[None]:
    """The guest's path before issue 17, run by today's code in this process."""
    from booking import fanout
    from booking.services import calendar_writes, conflict_check

    parallel, sync = fanout.MAX_PARALLEL, calendar_writes._sync

    def sync_then_check(owner: Any, booking: dict[str, Any], deadline: Any, *, move: bool,
                        connections: Any, committed: Any = None) -> Any:
        first = not booking.get("event_id")
        result = sync(owner, booking, deadline, move=move, connections=connections,
                      committed=committed)
        if first:
            conflict_check.deliver({"owner_id": owner.id, "booking_id": booking["id"]}, "",
                                   deadline)
        return result

    fanout.MAX_PARALLEL = 1
    calendar_writes._sync = sync_then_check
    try:
        yield
    finally:
        fanout.MAX_PARALLEL = parallel
        calendar_writes._sync = sync


def forget_access_tokens() -> None:
    """As on a new instance: the next Google call of each account refreshes its token first."""
    from booking import clients

    with clients._lock:
        for name in [n for n in clients._cache if n.startswith("google_credentials:")]:
            del clients._cache[name]


def google_calls(st: LocalStack, since: int, until: int) -> list[dict[str, Any]]:
    """Calendar calls and token refreshes the stand-in logged between two marks."""
    return [e for e in st.google.requests(since, until)
            if e["service"] == "calendar" or e.get("path") == "/token"]


def round_trips(calls: list[dict[str, Any]]) -> int:
    from tests.integration.helpers import round_trips as chain

    return chain(calls)


@dataclass
class Sample:
    """One path's measurements for one owner: request latency and Google calls per request."""

    latencies: list[float] = field(default_factory=list)  # seconds
    round_trips: list[int] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    google: list[float] = field(default_factory=list)  # seconds some Google call was in flight
    # The request's own Firestore RPCs (tests/firestore_probe.py): how many, how many one
    # after another, and how long some of them was in flight.
    fs_calls: list[int] = field(default_factory=list)
    fs_trips: list[int] = field(default_factory=list)
    fs_time: list[float] = field(default_factory=list)
    fs_rpc: list[float] = field(default_factory=list)  # seconds, each RPC on its own

    def add(self, seconds: float, calls: list[dict[str, Any]],
            firestore: list[dict[str, Any]]) -> None:
        self.latencies.append(seconds)
        self.round_trips.append(round_trips(calls))
        self.calls.append(len(calls))
        self.google.append(in_flight(calls))
        self.fs_calls.append(len(firestore))
        self.fs_trips.append(round_trips(firestore))
        self.fs_time.append(in_flight(firestore))
        self.fs_rpc.extend(c["at"] - c["started"] for c in firestore)

    @property
    def google_p50(self) -> float:
        return statistics.median(self.google)

    @property
    def ours_p50(self) -> float:
        """Everything but waiting for Google: Firestore, emails, our own CPU."""
        return statistics.median(t - g for t, g in zip(self.latencies, self.google, strict=True))

    def firestore(self) -> str:
        """Firestore RPCs per request (median) and, in brackets, one after another."""
        return f"{statistics.median(self.fs_calls):g} ({statistics.median(self.fs_trips):g})"

    @property
    def fs_p50(self) -> float:
        return statistics.median(self.fs_time)

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p95(self) -> float:
        return pct(self.latencies, 0.95)

    @property
    def trips_p50(self) -> float:
        return statistics.median(self.round_trips)

    def trips(self) -> str:
        """Round trips per request: one figure, or the median and the range when requests
        differed (on a loaded machine a thread may start a call after another one ended)."""
        lo, hi = min(self.round_trips), max(self.round_trips)
        return str(lo) if lo == hi else f"{self.trips_p50:g} ({lo}-{hi})"


def in_flight(calls: list[dict[str, Any]]) -> float:
    """Seconds during which at least one of the calls was in flight (the union of their
    intervals at the stand-in)."""
    total, end = 0.0, float("-inf")
    for call in sorted(calls, key=lambda c: c["started"]):
        start, stop = max(call["started"], end), call["at"]
        if stop > start:
            total += stop - start
        end = max(end, stop)
    return total


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def compare(label: str, results: dict[int, tuple[Sample, Sample]], limit: dict[int, float],
            limit_text: str, firestore_floor: int, floor_text: str) -> tuple[bool, bool, bool]:
    """Prints old vs new per number of accounts, against two floors: `limit`, the Google round
    trips alone, and the design's, those plus the `firestore_floor` Firestore round trips this
    design cannot avoid, each priced at the median Firestore RPC of the same requests.
    Returns whether every new p50 is within TARGET of (the Google floor, the design floor) and
    whether the time spent waiting for Google is within TARGET of its limit."""
    print(f"{label}\n  Google floor = {limit_text}\n  design floor = the Google floor + "
          f"{firestore_floor} Firestore round trips ({floor_text}),\n    each at the median "
          "Firestore RPC of the same requests")
    rows, firestore = [], []
    whole_ok = design_ok = google_ok = True
    for accounts, (old, new) in sorted(results.items()):
        ratio = new.p50 / limit[accounts]
        rpc = statistics.median(new.fs_rpc) if new.fs_rpc else 0.0
        floor = limit[accounts] + firestore_floor * rpc
        whole_ok = whole_ok and ratio <= TARGET
        design_ok = design_ok and new.p50 / floor <= TARGET
        google_ok = google_ok and new.google_p50 / limit[accounts] <= TARGET
        rows.append([accounts, old.trips(), new.trips(), f"{statistics.mean(old.calls):.0f}",
                     f"{statistics.mean(new.calls):.0f}", ms(old.p50), ms(old.p95), ms(new.p50),
                     ms(new.p95), f"{old.p50 / new.p50:.2f}", ms(limit[accounts]),
                     f"{ratio:.2f}", ms(floor), f"{new.p50 / floor:.2f}",
                     f"{new.google_p50 / limit[accounts]:.2f}"])
        sequential = limit[accounts] + statistics.median(new.fs_trips) * rpc
        firestore.append([accounts, old.firestore(), new.firestore(), ms(old.fs_p50),
                          ms(new.fs_p50), ms(old.ours_p50), ms(new.ours_p50), f"{rpc * 1000:.1f}",
                          f"{sequential / limit[accounts]:.2f}"])
    table(["accounts", "trips old", "trips new", "calls old", "calls new", "old p50",
           "old p95", "new p50", "new p95", "old/new", "Google floor ms", "new/Google floor",
           "design floor ms", "new/design floor", "Google/limit"], rows, left=0)
    print("  ours (all but waiting for Google): Firestore RPCs per request (one after another),"
          " the time some\n  was in flight, all of ours; the median RPC, and the Google floor "
          "plus the sequential RPCs\n  at that median, over the Google floor (what they alone "
          "put under new/Google floor)")
    table(["accounts", "Firestore old", "Firestore new", "old in flight ms",
           "new in flight ms", "old ours ms", "new ours ms", "RPC p50 ms", "with new RPCs"],
          firestore, left=0)
    return whole_ok, design_ok, google_ok


def verdict(trips_ok: bool, trips_text: str, whole_ok: bool, design_ok: bool,
            google_ok: bool) -> None:
    def word(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"\n  round trips ({trips_text}): {word(trips_ok)}\n"
          f"  waiting for Google within {TARGET}x of the Google floor: {word(google_ok)}\n"
          f"  whole request within {TARGET}x of the design floor: {word(design_ok)}\n"
          f"  whole request within {TARGET}x of the Google floor: {word(whole_ok)}")
