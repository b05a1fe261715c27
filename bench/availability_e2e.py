"""End-to-end benchmark of the `availability` function on the local stack.

    python -m bench.availability_e2e [--requests 40]

Starts the Firestore emulator (or uses FIRESTORE_EMULATOR_HOST), the stand-ins and every
function on real ports, seeds an owner with two connected Google accounts (three conflict
calendars, 300 busy events) and one event type, then asks for two weeks of slots again and
again. Prints median and p95 latency, and per request the Firestore reads (documents returned
by get/stream, counted in this process) and Google calls (recorded by the stand-in).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))

from tests.standins.firestore_emulator import FirestoreEmulator  # noqa: E402
from tests.standins.server import StandinServer  # noqa: E402

READS = {"count": 0}


def _count_firestore_reads() -> None:
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    emulator = None
    host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if not host:
        emulator = FirestoreEmulator().start()
        host = emulator.host
    try:
        return _run(host, args.requests)
    finally:
        if emulator:
            emulator.stop()


def _run(firestore_host: str, n: int) -> int:
    import requests

    from tests.conftest import CLIENT_ID, CLIENT_SECRET, SENDGRID_KEY, Stack, stack_env
    from tests.drivers import connect_google_account, owner_api
    from tests.standins.google import GoogleStandin
    from tests.standins.google.control import GoogleControl
    from tests.standins.secret_manager import SecretManagerStandin
    from tests.standins.sendgrid import SendGridStandin

    google = StandinServer(GoogleStandin()).start()
    secret_manager = StandinServer(SecretManagerStandin()).start()
    sendgrid = StandinServer(SendGridStandin(api_key=SENDGRID_KEY)).start()
    from scripts.functions_host import create_host

    functions = StandinServer(create_host()).start()
    stack = Stack(project=f"bench-{int(time.time())}", firestore_host=firestore_host,
                  secret_manager=secret_manager.app, secret_manager_url=secret_manager.url,
                  sendgrid=sendgrid.app, sendgrid_url=sendgrid.url, google=google.app,
                  google_url=google.url, base_url=functions.url)
    os.environ.update(stack_env(stack))
    google.app.register_client(CLIENT_ID, CLIENT_SECRET, [f"{functions.url}/oauth_callback"])
    try:
        from booking.services import owners
        from scripts.seed import ensure_signing_key

        ensure_signing_key()
        key = owners.create_owner("bench", "Bench", "bench@owner.test", "Europe/Ljubljana",
                                  datetime.now(UTC))
        ctl = GoogleControl(google.url)
        ctl.create_account("a@gmail.test", "A", time_zone="Europe/Ljubljana")
        ctl.create_account("b@gmail.test", "B", time_zone="Europe/Ljubljana")
        ctl.create_calendar("team@group.test", summary="Team", time_zone="Europe/Ljubljana",
                            owner="b@gmail.test")
        rng = random.Random(7)
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
        for i in range(300):
            cal = ("a@gmail.test", "b@gmail.test", "team@group.test")[i % 3]
            begin = start + timedelta(minutes=30 * rng.randrange(0, 14 * 48))
            ctl.add_event(cal, {"summary": f"busy {i}",
                                "start": {"dateTime": begin.isoformat()},
                                "end": {"dateTime": (begin + timedelta(minutes=45)).isoformat()}})
        for email in ("a@gmail.test", "b@gmail.test"):
            connect_google_account(functions.url, key, google.url, email)
        conns = owner_api(functions.url, key, "GET", "/connections").json()["connections"]
        owner_api(functions.url, key, "PATCH", "/settings", json={"conflict_calendars": [
            {"connection_id": conns[0]["id"], "calendar_id": "a@gmail.test"},
            {"connection_id": conns[1]["id"], "calendar_id": "b@gmail.test"},
            {"connection_id": conns[1]["id"], "calendar_id": "team@group.test"}]})
        owner_api(functions.url, key, "POST", "/event-types", json={
            "slug": "call", "title": "Call", "rules": {
                "weekly_hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu",
                                                                    "fri")},
                "duration_minutes": 30, "slot_interval_minutes": 15, "buffer_after_minutes": 10}})
        _count_firestore_reads()
        day = start.date()
        params = {"owner": "bench", "event_type": "call", "start": day.isoformat(),
                  "end": (day + timedelta(days=13)).isoformat(), "time_zone": "America/New_York"}
        session = requests.Session()
        session.get(f"{functions.url}/availability", params=params, timeout=60)  # warm
        latencies: list[float] = []
        reads: list[int] = []
        google_calls: list[int] = []
        slots = 0
        for _ in range(n):
            READS["count"] = 0
            before = len(google.app.state.requests)
            t0 = time.perf_counter()
            resp = session.get(f"{functions.url}/availability", params=params, timeout=60)
            latencies.append(time.perf_counter() - t0)
            assert resp.status_code == 200, resp.text
            slots = sum(len(v) for v in resp.json()["days"].values())
            reads.append(READS["count"])
            google_calls.append(sum(1 for r in google.app.state.requests[before:]
                                    if r.get("service") == "calendar"))
        latencies.sort()
        p95 = latencies[max(0, int(0.95 * len(latencies)) - 1)]
        print(f"availability over 14 days, 2 accounts, 3 conflict calendars, 300 busy events, "
              f"{slots} slots, {n} requests")
        print(f"  median latency   {statistics.median(latencies) * 1000:8.1f} ms")
        print(f"  p95 latency      {p95 * 1000:8.1f} ms")
        print(f"  Firestore reads  {statistics.median(reads):8.0f} per request")
        print(f"  Google calls     {statistics.median(google_calls):8.0f} per request")
        return 0
    finally:
        for server in (functions, sendgrid, secret_manager, google):
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
