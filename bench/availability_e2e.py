"""End-to-end benchmark of the `availability` function on the local stack.

    python -m bench.availability_e2e [--requests 40]

Starts the Firestore emulator (or uses FIRESTORE_EMULATOR_HOST), the stand-ins and every
function on real ports, seeds an owner with two connected Google accounts (three conflict
calendars, 300 busy events) and one event type (bench/stack.py), then asks for two weeks of
slots again and again. Prints median and p95 latency, and per request the Firestore reads
(documents returned by get/stream, counted in this process) and Google calls (recorded by the
stand-in).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

from bench.stack import LocalStack, local_stack

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
    args = parser.parse_args()
    with local_stack() as st:
        return _run(st, args.requests)


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
