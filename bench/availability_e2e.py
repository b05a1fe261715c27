"""End-to-end benchmark of the `availability` function on the local stack.

    python -m bench.availability_e2e [--requests 40] [--latency-requests 20]

Starts the Firestore emulator (or uses FIRESTORE_EMULATOR_HOST), the stand-ins and every
function on real ports, seeds an owner with two connected Google accounts (three conflict
calendars, 300 busy events) and one event type (bench/stack.py), then asks for two weeks of
slots again and again. Prints median and p95 latency, and per request the Firestore reads
(documents returned by get/stream, counted in this process) and Google calls (recorded by the
stand-in).

Then, at Google's latency (bench/google_latency.py: freebusy.query 150 ms, a token refresh
100 ms), owners with 1, 3 and 6 connected accounts (a conflict calendar each) ask for the same
two weeks, `--latency-requests` times each, the path before issue 17 (one account after
another) and today's (every account at once) alternating. Per number of accounts: Google round
trips per request, p50 / p95 latency both ways, old / new, and new against two floors: the
Google round trips alone (one freebusy; on an instance's first request, a token refresh before
it) and this design's, those plus the 2 Firestore round trips it cannot avoid
(google_latency.AVAILABILITY_FIRESTORE_FLOOR), each at the run's median Firestore RPC. Exits 1 if
today's path takes more than one round trip (two on a first request), median over the requests.
That section measures the live free/busy path, so every busy cache is made untrusted first.

Before it, issue 11's column: the seeded owner's two weeks at Google's latency with every
conflict calendar's busy cache fresh (pushes handled, resync run) against the same requests
with the caches untrusted (last synced an hour ago), which is live free/busy. Prints both
medians, the Google calls per request and the ratio (target: 0 calls, at least 3x faster).
Exits 1 if a cached request called Google.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

from bench.stack import CALL, LocalStack, local_stack
from tests.firestore_probe import FirestoreProbe

READS = {"count": 0}


def _count_firestore_reads() -> Any:
    """Counts documents read in this process; returns the function that undoes it."""
    from google.cloud.firestore_v1 import document, query

    original_get = document.DocumentReference.get
    original_stream = query.Query.stream

    def get(self: Any, *args: Any, **kwargs: Any) -> Any:
        READS["count"] += 1
        return original_get(self, *args, **kwargs)

    def stream(self: Any, *args: Any, **kwargs: Any) -> Any:
        for snap in original_stream(self, *args, **kwargs):
            READS["count"] += 1
            yield snap

    document.DocumentReference.get = get  # type: ignore[method-assign]
    query.Query.stream = stream  # type: ignore[method-assign]

    def restore() -> None:
        document.DocumentReference.get = original_get  # type: ignore[method-assign]
        query.Query.stream = original_stream  # type: ignore[method-assign]

    return restore


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--latency-requests", type=int, default=20,
                        help="per owner and path at Google's latency (0: skip)")
    args = parser.parse_args()
    with local_stack(quiet=True) as st:
        code = _run(st, args.requests)
        if args.latency_requests > 0:
            print()
            code = max(code, _fresh_cache_vs_live(st, args.latency_requests))
            print()
            code = max(code, _at_google_latency(st, args.latency_requests))
        return code


def _untrust_caches() -> None:
    """Every calendar's busy cache last synced an hour ago: availability asks Google live."""
    from datetime import UTC, datetime

    from booking import clients

    old = {"synced_at": datetime.now(UTC) - timedelta(hours=1)}
    for snap in clients.firestore().collection("calendar_sync").stream():
        snap.reference.update(old)


def _fresh_cache_vs_live(st: LocalStack, n: int) -> int:
    import requests

    from bench import google_latency as gl
    from bench.report import pct, table

    st.flush_push()
    resp = requests.post(f"{st.base_url}/resync", timeout=300)  # every calendar synced now
    assert resp.status_code == 200, resp.text
    day = st.busy_from.date()
    params = {"owner": st.owner_id, "event_type": "call", "start": day.isoformat(),
              "end": (day + timedelta(days=13)).isoformat(), "time_zone": "America/New_York"}
    session = requests.Session()

    def sample() -> tuple[list[float], list[int]]:
        times, calls = [], []
        for _ in range(n):
            mark = st.google_mark()
            t0 = time.perf_counter()
            got = session.get(f"{st.base_url}/availability", params=params, timeout=60)
            times.append(time.perf_counter() - t0)
            assert got.status_code == 200, got.text
            calls.append(len(st.calendar_calls(mark)))
        return times, calls

    session.get(f"{st.base_url}/availability", params=params, timeout=60)  # warm
    gl.google_like(st)
    try:
        fresh, fresh_calls = sample()
        _untrust_caches()
        live, live_calls = sample()
    finally:
        gl.no_latency(st)
    print(f"availability from a fresh busy cache vs live free/busy, at Google's latency "
          f"(freebusy.query {gl.GOOGLE_LATENCY['calendar.freebusy.query'] * 1000:.0f} ms), "
          f"{st.busy_events} busy events over 2 accounts, 14 days, {n} requests each")
    table(["path", "Google calls", "p50 ms", "p95 ms"], [
        ["fresh cache", f"{statistics.median(fresh_calls):.0f}",
         f"{statistics.median(fresh) * 1000:.1f}", f"{pct(fresh, 0.95) * 1000:.1f}"],
        ["live free/busy", f"{statistics.median(live_calls):.0f}",
         f"{statistics.median(live) * 1000:.1f}", f"{pct(live, 0.95) * 1000:.1f}"]])
    ratio = statistics.median(live) / statistics.median(fresh)
    print(f"  live / fresh cache = {ratio:.1f}x (target: at least 3x, 0 Google calls)")
    return 0 if max(fresh_calls) == 0 else 1


def _at_google_latency(st: LocalStack, n: int) -> int:
    import requests

    from bench import google_latency as gl

    owners = {k: gl.seed_owner(st, f"acc{k}", k, [CALL]) for k in gl.ACCOUNTS}
    # This section measures the live free/busy path: the new owners' first syncs done, no
    # busy cache is trusted.
    st.flush_push()
    _untrust_caches()
    day = st.busy_from.date()
    session = requests.Session()

    probe = FirestoreProbe.install()

    def ask(owner: gl.Owner) -> tuple[float, list[dict[str, Any]], list[dict[str, Any]]]:
        mark, fs_mark = st.google_mark(), probe.mark()
        t0 = time.perf_counter()
        resp = session.get(f"{st.base_url}/availability", timeout=60, params={
            "owner": owner.owner_id, "event_type": "call", "start": day.isoformat(),
            "end": (day + timedelta(days=13)).isoformat(), "time_zone": "America/New_York"})
        elapsed = time.perf_counter() - t0
        if resp.status_code != 200:
            raise RuntimeError(f"availability {owner.owner_id}: {resp.status_code} {resp.text}")
        return elapsed, gl.google_calls(st, mark, st.google_mark()), \
            probe.calls(fs_mark, "/availability")

    for owner in owners.values():
        ask(owner)  # warm: imports, clients, access tokens
    warm = {k: (gl.Sample(), gl.Sample()) for k in owners}
    first = {k: (gl.Sample(), gl.Sample()) for k in owners}
    gl.google_like(st)
    try:
        for _ in range(n):
            for k, owner in owners.items():
                # First requests first: forgetting tokens forgets every owner's, and this
                # owner's own are back before its warm requests.
                for fresh, (old, new) in ((True, first[k]), (False, warm[k])):
                    for sample, legacy in ((old, True), (new, False)):
                        if fresh:
                            gl.forget_access_tokens()
                        with gl.old_path() if legacy else contextlib.nullcontext():
                            sample.add(*ask(owner))
    finally:
        gl.no_latency(st)
    print(f"availability at Google's latency: 14 days, {n} requests per owner and path, "
          "old and new alternating\n(old: one account after another, as before issue 17; "
          "new: every account at once)\n")
    floor_text = "owner || client's count; owner's count || bookings and busy caches"
    warm_ok = gl.compare("warm instance (access tokens cached)", warm,
                         dict.fromkeys(owners, gl.GOOGLE_LATENCY["calendar.freebusy.query"]),
                         "one freebusy.query round trip, 150 ms",
                         gl.AVAILABILITY_FIRESTORE_FLOOR, floor_text)
    print()
    first_ok = gl.compare("first request of an instance (every account's token refreshed)",
                          first, dict.fromkeys(owners, gl.GOOGLE_LATENCY["calendar.freebusy.query"]
                                               + gl.TOKEN_LATENCY),
                          "a token refresh then a freebusy.query, 100 + 150 ms",
                          gl.AVAILABILITY_FIRESTORE_FLOOR, floor_text)
    trips_ok = all(w[1].trips_p50 <= 1 and f[1].trips_p50 <= 2
                   for w, f in zip(warm.values(), first.values(), strict=True))
    gl.verdict(trips_ok, "1 warm, 2 on a first request, whatever the accounts",
               *(w and f for w, f in zip(warm_ok, first_ok, strict=True)))
    return 0 if trips_ok else 1


def _run(st: LocalStack, n: int) -> int:
    import requests

    restore = _count_firestore_reads()
    try:
        day = st.busy_from.date()
        params = {"owner": st.owner_id, "event_type": "call", "start": day.isoformat(),
                  "end": (day + timedelta(days=13)).isoformat(), "time_zone": "America/New_York"}
        session = requests.Session()
        session.get(f"{st.base_url}/availability", params=params, timeout=60)  # warm
        latencies: list[float] = []
        reads: list[int] = []
        google_calls: list[int] = []
        slots = 0
        for _ in range(n):
            READS["count"] = 0
            before = st.google_mark()
            t0 = time.perf_counter()
            resp = session.get(f"{st.base_url}/availability", params=params, timeout=60)
            latencies.append(time.perf_counter() - t0)
            assert resp.status_code == 200, resp.text
            slots = sum(len(v) for v in resp.json()["days"].values())
            reads.append(READS["count"])
            google_calls.append(len(st.calendar_calls(before)))
    finally:
        restore()
    latencies.sort()
    p95 = latencies[max(0, int(0.95 * len(latencies)) - 1)]
    print(f"availability over 14 days, 2 accounts, 3 conflict calendars, {st.busy_events} busy "
          f"events, {slots} slots, {n} requests")
    print(f"  median latency   {statistics.median(latencies) * 1000:8.1f} ms")
    print(f"  p95 latency      {p95 * 1000:8.1f} ms")
    print(f"  Firestore reads  {statistics.median(reads):8.0f} per request")
    print(f"  Google calls     {statistics.median(google_calls):8.0f} per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
