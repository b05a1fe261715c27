"""Abuse bench: one client floods availability and book while honest guests book normally.

    .venv/bin/python -m bench.abuse [--seconds 20] [--threads 4] [--guests 10]

On the local stack (Firestore emulator, stand-ins, every function), with the default abuse
limits: the attacker, from one address, asks for availability and books random offered slots
with ever new emails as fast as its threads go; meanwhile honest guests, each from their own
address, look at availability and book one slot each. Prints the attacker's requests by answer,
the honest guests' success rate and latency, and the Google calls each side cost. Exit 1 if any
honest booking failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench.report import pct, table
from bench.stack import CALL, LocalStack, local_stack

ATTACKER = "203.0.113.66"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the flood lasts")
    parser.add_argument("--threads", type=int, default=4, help="the attacker's threads")
    parser.add_argument("--guests", type=int, default=10, help="honest guests, one booking each")
    args = parser.parse_args()
    with local_stack(event_types=(CALL,), busy_events=100, quiet=True) as st:
        return _run(st, args.seconds, args.threads, args.guests)


def _offered(st: LocalStack) -> list[str]:
    import requests

    first = datetime.now(ZoneInfo(st.time_zone)).date() + timedelta(days=1)
    resp = requests.get(f"{st.base_url}/availability", timeout=60,
                        headers={"X-Forwarded-For": "198.51.100.1"},
                        params={"owner": st.owner_id, "event_type": "call",
                                "start": first.isoformat(),
                                "end": (first + timedelta(days=20)).isoformat(),
                                "time_zone": st.time_zone})
    resp.raise_for_status()
    return [s for day in resp.json()["days"].values() for s in day]


def _run(st: LocalStack, seconds: float, threads: int, guests: int) -> int:
    import requests

    from booking.domain.quotas import DEFAULTS
    from tests.drivers import owner_api

    # The local stack sets the limits out of every other bench's way: this one measures the
    # defaults, so it puts them back.
    resp = owner_api(st.base_url, st.api_key, "PATCH", "/settings", json={"limits": DEFAULTS})
    resp.raise_for_status()
    slots = _offered(st)
    # Every 40 minutes apart (30-minute call, 10-minute buffer): no two bookings collide.
    spaced: list[str] = []
    for s in slots:
        if not spaced or datetime.fromisoformat(s) - datetime.fromisoformat(spaced[-1]) >= \
                timedelta(minutes=45):
            spaced.append(s)
    honest_slots, attacker_slots = spaced[:guests], spaced[guests:]
    if len(honest_slots) < guests or not attacker_slots:
        print(f"only {len(spaced)} spaced slots offered; lower --guests", file=sys.stderr)
        return 2

    mark = st.google_mark()
    stop = threading.Event()
    attacker: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()
    day = datetime.fromisoformat(slots[0]).date().isoformat()

    def flood(seed: int) -> None:
        session = requests.Session()
        rnd = random.Random(seed)  # noqa: S311 - a bench's choices, not a secret
        n = 0
        while not stop.is_set():
            n += 1
            if n % 2:
                r = session.get(f"{st.base_url}/availability", timeout=60,
                                headers={"X-Forwarded-For": ATTACKER},
                                params={"owner": st.owner_id, "event_type": "call",
                                        "start": day, "end": day, "time_zone": st.time_zone})
                kind = "availability"
            else:
                r = session.post(f"{st.base_url}/book", timeout=60,
                                 headers={"X-Forwarded-For": ATTACKER},
                                 json={"owner": st.owner_id, "event_type": "call",
                                       "start": rnd.choice(attacker_slots), "name": "Spam",
                                       "email": f"victim{seed}-{n}@example.org",
                                       "notes": "Click https://spam.example",
                                       "time_zone": "UTC"})
                kind = "book"
            with lock:
                attacker[(kind, r.status_code)] += 1

    workers = [threading.Thread(target=flood, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    time.sleep(min(2.0, seconds / 4))  # the flood is under way before the first guest comes

    latencies: list[float] = []
    honest: list[int] = []
    session = requests.Session()
    pause = max(0.0, (seconds - 2.0) / max(guests, 1) - 0.5)
    for i, slot in enumerate(honest_slots):
        address = f"198.51.100.{10 + i}"
        t0 = time.perf_counter()
        seen = session.get(f"{st.base_url}/availability", timeout=60,
                           headers={"X-Forwarded-For": address},
                           params={"owner": st.owner_id, "event_type": "call", "start": day,
                                   "end": day, "time_zone": st.time_zone})
        booked = session.post(f"{st.base_url}/book", timeout=60,
                              headers={"X-Forwarded-For": address},
                              json={"owner": st.owner_id, "event_type": "call", "start": slot,
                                    "name": f"Guest {i}", "email": f"guest{i}@example.org",
                                    "time_zone": "Europe/Ljubljana"})
        latencies.append(time.perf_counter() - t0)
        honest.append(booked.status_code if seen.status_code == 200 else seen.status_code)
        time.sleep(pause)
    while time.perf_counter() - started < seconds:
        time.sleep(0.1)
    stop.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    calls = Counter(r.get("method", "?") for r in st.calendar_calls(mark))

    print(f"abuse bench: {threads} attacker threads from one address for {elapsed:.1f} s, "
          f"{guests} honest guests (availability then book, each from its own address)\n")
    rows = sorted((kind, status, count) for (kind, status), count in attacker.items())
    table(["attacker request", "answer", "count"], rows, left=1)
    total = sum(attacker.values())
    refused = sum(c for (_, s), c in attacker.items() if s == 429)
    print(f"\n  attacker: {total} requests ({total / elapsed:.0f}/s), {refused} answered 429 "
          f"({100 * refused / max(total, 1):.0f} %), "
          f"{sum(c for (k, s), c in attacker.items() if k == 'book' and s == 201)} booked")
    ok = honest.count(201)
    print(f"  honest guests: {ok}/{guests} booked ({100 * ok / guests:.0f} %), availability + "
          f"book p50 {pct(latencies, 0.5) * 1000:.0f} ms, p95 {pct(latencies, 0.95) * 1000:.0f} ms"
          f", answers {sorted(Counter(honest).items())}")
    print("  Google calls during the run: " + ", ".join(f"{m} {n}" for m, n in
                                                        sorted(calls.items())))
    print("  (the attacker's refused requests cost none: the limits are checked before Google)")
    return 0 if ok == guests else 1


if __name__ == "__main__":
    sys.exit(main())
