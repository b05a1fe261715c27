"""End-to-end benchmark of the `book` function on the local stack: throughput and contention.

    python -m bench.booking [--bookings 60] [--racers 50] [--threads 4] [--latency-bookings 12]

The stack and its owner come from bench/stack.py (two connected Google accounts, three conflict
calendars with 300 busy events, bookings written to a@gmail.test) with two event types, both
Mon-Fri 09:00-17:00 every 15 minutes: "call" (30 minutes, 10 minutes' buffer after) and "deep"
(60 minutes). Every slot booked is one the availability function offers for the next weeks.

1. Throughput: `--bookings` distinct, non-overlapping call slots booked one after another, then
   as many others through a pool of `--threads` threads. Per phase: bookings per second, p50
   and p95 latency, and per booking the Calendar API calls the Google stand-in recorded and the
   emails SendGrid accepted while the bookings ran. One after another, each booking is measured
   on its own, and Google's push notifications it caused are delivered before the next one
   starts (outside the timing), so its calls are its own; in the pool they run alongside.
2. Contention: `--racers` threads released together by a barrier, half asking for a call at T,
   half for a deep dive at T-30min (they overlap). Prints winners (201), losers (409), errors
   (anything else) and the race's wall time, then checks that Firestore and Google agree: one
   confirmed booking in that hour, one live Google event with our booking id, the same one;
   and overall as many live events with our booking ids as confirmed bookings.

3. At Google's latency (bench/google_latency.py: freebusy.query 150 ms, events.list 120 ms,
   events.insert with Meet 400 ms): owners with 1, 3 and 6 connected accounts (a conflict
   calendar each) book `--latency-bookings` slots each by the path before issue 17 (accounts
   one after another, the conflict re-check inside the request) and as many by today's,
   alternating. Per number of accounts: Google round trips on the guest's critical path, p50 /
   p95 both ways, old / new, and new against two floors: Google's round trips alone (freebusy
   then insert) and the design's, those plus the 4 Firestore round trips it cannot avoid
   (google_latency.BOOKING_FIRESTORE_FLOOR), each at the run's median Firestore RPC.

Exits 1 if the race had not exactly one winner or had any error, if Firestore and Google
disagree, if a throughput booking was refused, if Calendar traffic broke the API's schemas, or
if bookings at Google's latency took more than two round trips (median) or one was refused.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bench.report import pct as _pct
from bench.report import table as _table
from bench.stack import CALL, LocalStack, event_type, local_stack
from tests.firestore_probe import FirestoreProbe

DEEP = event_type("deep", "Deep dive", 60)
GUEST_ZONE = "America/New_York"
WINDOW_DAYS = 42  # availability is asked for this many days from tomorrow (at most 62)


@dataclass
class Phase:
    label: str
    statuses: list[int | None] = field(default_factory=list)  # None: no HTTP answer
    latencies: list[float] = field(default_factory=list)  # seconds
    wall: float = 0.0
    google_calls: int = 0
    emails: int = 0
    follow_up_calls: int = 0  # Calendar calls after the answers (push notifications handled)
    methods: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.statuses)

    @property
    def created(self) -> int:
        return self.statuses.count(201)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=60, help="per throughput phase")
    parser.add_argument("--racers", type=int, default=50)
    parser.add_argument("--threads", type=int, default=4, help="pool of the second phase")
    parser.add_argument("--latency-bookings", type=int, default=12,
                        help="per owner and path at Google's latency (0: skip)")
    args = parser.parse_args()
    if args.bookings < 1 or args.racers < 2 or args.threads < 1:
        parser.error("need --bookings >= 1, --racers >= 2 and --threads >= 1")
    started = time.perf_counter()
    with local_stack(event_types=(CALL, DEEP), quiet=True) as st:
        code = _run(st, args.bookings, args.racers, args.threads)
        if args.latency_bookings > 0:
            code = max(code, _at_google_latency(st, args.latency_bookings))
    print(f"\nwhole run {time.perf_counter() - started:.1f} s (emulator, stand-ins and seeding "
          "included)")
    return code


def _run(st: LocalStack, n: int, racers: int, threads: int) -> int:
    import requests

    session = requests.Session()
    first = datetime.now(_zone(st)).date() + timedelta(days=1)
    calls = _offered(session, st, "call", first)
    deeps = _offered(session, st, "deep", first)
    race_day, race_at = _race_slot(calls, deeps)
    pool = _non_overlapping({d: s for d, s in calls.items() if d != race_day},
                            timedelta(minutes=30 + 10))
    if len(pool) < 2 * n:
        print(f"only {len(pool)} free, non-overlapping call slots in {WINDOW_DAYS} days; "
              f"{2 * n} needed: lower --bookings", file=sys.stderr)
        return 2
    _post(session, st, pool.pop(), "call", "warm@example.org")  # first request imports the code
    st.flush_push()

    print(f"booking on the local stack: 2 Google accounts, {len(st.conflict_calendars)} conflict "
          f"calendars, {st.busy_events} busy events; bookings go to {st.default_calendar}")
    print("event types Mon-Fri 09-17 every 15 min: call 30 min + 10 min buffer after, deep 60 min;"
          f" {sum(map(len, calls.values()))} call slots offered over {WINDOW_DAYS} days from "
          f"{first}\n")

    sequential = _sequential(session, st, pool[:n])
    pooled = _pooled(st, pool[n:2 * n], threads)
    _print_throughput([sequential, pooled], threads)

    race = _race(st, race_at, racers)
    st.flush_push()
    agree = _print_race(st, race, race_at, racers)

    violations = st.google.schema_violations()
    if violations:
        print(f"\nCalendar traffic broke calendar.v3.json {len(violations)} time(s), first: "
              f"{violations[0]}")
    failed = [p for p in (sequential, pooled) if p.created != p.n]
    for phase in failed:
        print(f"\n{phase.label}: {phase.n - phase.created} booking(s) not created, first: "
              f"{phase.problems[0] if phase.problems else '?'}")
    winners = race.statuses.count(201)
    errors = sum(1 for s in race.statuses if s not in (201, 409))
    return 0 if winners == 1 and errors == 0 and agree and not violations and not failed else 1


# -- slots


def _zone(st: LocalStack) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(st.time_zone)


def _offered(session: Any, st: LocalStack, slug: str, first: date,
             owner_id: str = "") -> dict[str, list[datetime]]:
    """The availability function's slots by owner-local day, as aware datetimes."""
    resp = session.get(f"{st.base_url}/availability", timeout=60, params={
        "owner": owner_id or st.owner_id, "event_type": slug, "start": first.isoformat(),
        "end": (first + timedelta(days=WINDOW_DAYS - 1)).isoformat(),
        "time_zone": st.time_zone})
    if resp.status_code != 200:
        raise RuntimeError(f"availability {slug}: {resp.status_code} {resp.text[:300]}")
    return {day: [datetime.fromisoformat(s) for s in slots]
            for day, slots in sorted(resp.json()["days"].items()) if slots}


def _race_slot(calls: dict[str, list[datetime]],
               deeps: dict[str, list[datetime]]) -> tuple[str, datetime]:
    """The last day's last call slot T whose T-30min a deep dive is also offered at."""
    for day in sorted(calls, reverse=True):
        deep_starts = set(deeps.get(day, ()))
        for at in reversed(calls[day]):
            if at - timedelta(minutes=30) in deep_starts:
                return day, at
    raise RuntimeError("no time where both a call and an overlapping deep dive are offered")


def _non_overlapping(days: dict[str, list[datetime]], step: timedelta) -> list[datetime]:
    """Slots far enough apart that booking one never takes another off the list."""
    picked: list[datetime] = []
    for day in sorted(days):
        last: datetime | None = None
        for at in days[day]:
            if last is None or at >= last + step:
                picked.append(at)
                last = at
    return picked


# -- booking


def _post(session: Any, st: LocalStack, at: datetime, slug: str, email: str,
          owner_id: str = "") -> Any:
    return session.post(f"{st.base_url}/book", timeout=120, json={
        "owner": owner_id or st.owner_id, "event_type": slug, "start": at.isoformat(),
        "name": "Bench Guest", "email": email, "time_zone": GUEST_ZONE})


def _record(phase: Phase, status: int | None, problem: str) -> None:
    phase.statuses.append(status)
    if status != 201:
        phase.problems.append(problem)


def _sequential(session: Any, st: LocalStack, slots: Sequence[datetime]) -> Phase:
    phase = Phase("one after another")
    for i, at in enumerate(slots):
        mark, mails = st.google_mark(), st.emails_sent()
        t0 = time.perf_counter()
        resp = _post(session, st, at, "call", f"seq{i}@example.org")
        elapsed = time.perf_counter() - t0
        answered = st.google_mark()
        phase.wall += elapsed
        phase.latencies.append(elapsed)
        _record(phase, resp.status_code, f"{at.isoformat()}: {resp.status_code} {resp.text[:200]}")
        during = st.calendar_calls(mark, answered)
        phase.google_calls += len(during)
        phase.methods.update(r["method"] for r in during)
        phase.emails += st.emails_sent() - mails
        st.flush_push()  # outside the timing: this booking's pushes, not the next one's
        phase.follow_up_calls += len(st.calendar_calls(answered))
    return phase


def _pooled(st: LocalStack, slots: Sequence[datetime], threads: int) -> Phase:
    import requests

    phase = Phase(f"{threads} threads")
    local = threading.local()
    lock = threading.Lock()

    def book(i: int, at: datetime) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        t0 = time.perf_counter()
        try:
            resp = _post(local.session, st, at, "call", f"pool{i}@example.org")
            status, problem = resp.status_code, f"{at.isoformat()}: {resp.status_code} " \
                                                 f"{resp.text[:200]}"
        except requests.RequestException as exc:
            status, problem = None, f"{at.isoformat()}: {exc!r}"
        elapsed = time.perf_counter() - t0
        with lock:
            phase.latencies.append(elapsed)
            _record(phase, status, problem)

    mark, mails = st.google_mark(), st.emails_sent()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(book, i, at) for i, at in enumerate(slots)]:
            future.result()
    phase.wall = time.perf_counter() - t0
    answered = st.google_mark()
    during = st.calendar_calls(mark, answered)
    phase.google_calls = len(during)
    phase.methods.update(r["method"] for r in during)
    phase.emails = st.emails_sent() - mails
    st.flush_push()
    phase.follow_up_calls = len(st.calendar_calls(answered))
    return phase


# -- at Google's latency


def _at_google_latency(st: LocalStack, n: int) -> int:
    """Owners with 1, 3 and 6 accounts book `n` slots each by the old path and `n` by the new,
    alternating; prints round trips and latency against the physical limit."""
    import requests

    from bench import google_latency as gl

    session = requests.Session()
    first = datetime.now(_zone(st)).date() + timedelta(days=1)
    owners = {k: gl.seed_owner(st, f"acc{k}", k, [CALL]) for k in gl.ACCOUNTS}
    slots: dict[int, list[datetime]] = {}
    for k, owner in owners.items():
        slots[k] = _non_overlapping(_offered(session, st, "call", first, owner.owner_id),
                                    timedelta(minutes=30 + 10))
        if len(slots[k]) < 2 * n + 1:
            raise RuntimeError(f"{owner.owner_id}: only {len(slots[k])} free slots")
        _post(session, st, slots[k].pop(), "call", "warm@example.org", owner.owner_id)
    st.flush_push()
    results = {k: (gl.Sample(), gl.Sample()) for k in owners}
    problems: list[str] = []
    probe = FirestoreProbe.install()
    gl.google_like(st)
    try:
        for i in range(n):
            for k, owner in owners.items():
                for sample, legacy in ((results[k][0], True), (results[k][1], False)):
                    at = slots[k].pop()
                    with gl.old_path() if legacy else contextlib.nullcontext():
                        mark, fs_mark = st.google_mark(), probe.mark()
                        t0 = time.perf_counter()
                        resp = _post(session, st, at, "call", f"lat{k}.{i}@example.org",
                                     owner.owner_id)
                        elapsed = time.perf_counter() - t0
                        calls = gl.google_calls(st, mark, st.google_mark())
                    if resp.status_code != 201:
                        problems.append(f"{owner.owner_id} {at}: {resp.status_code} "
                                        f"{resp.text[:200]}")
                    sample.add(elapsed, calls, probe.calls(fs_mark, "/book"))
                    st.flush_push()  # outside the timing
    finally:
        gl.no_latency(st)
    limit = gl.GOOGLE_LATENCY["calendar.freebusy.query"] \
        + gl.GOOGLE_LATENCY["calendar.events.insert"]
    print(f"\nbooking at Google's latency: {n} bookings per owner and path, old and new "
          "alternating, warm instance\n(old: one account after another and the conflict "
          "re-check (events.list per conflict calendar)\ninside the request, as before issue "
          "17; new: every account at once, the re-check left to the outbox)\n")
    whole_ok, design_ok, google_ok = gl.compare(
        "booking", results, dict.fromkeys(owners, limit),
        "a freebusy.query round trip then an events.insert with Meet, 150 + 400 ms",
        gl.BOOKING_FIRESTORE_FLOOR, "owner || client's count; owner's count || ledger and "
        "bookings; the claim; the event recorded")
    trips_ok = all(new.trips_p50 <= 2 for _, new in results.values())
    gl.verdict(trips_ok, "at most 2 whatever the accounts", whole_ok, design_ok, google_ok)
    for problem in problems[:5]:
        print(f"  refused: {problem}")
    return 0 if trips_ok and not problems else 1


# -- contention


@dataclass
class Race:
    statuses: list[int | None]
    slugs: list[str]
    started: list[float]
    ended: list[float]
    problems: list[str]

    @property
    def wall(self) -> float:
        return max(self.ended) - min(self.started)


def _race(st: LocalStack, at: datetime, racers: int) -> Race:
    import requests

    race = Race([None] * racers, [""] * racers, [0.0] * racers, [0.0] * racers, [])
    barrier = threading.Barrier(racers)
    lock = threading.Lock()

    def racer(i: int) -> None:
        slug, start = ("call", at) if i % 2 else ("deep", at - timedelta(minutes=30))
        session = requests.Session()
        body = {"owner": st.owner_id, "event_type": slug, "start": start.isoformat(),
                "name": f"Racer {i}", "email": f"racer{i}@example.org", "time_zone": GUEST_ZONE}
        request = requests.Request("POST", f"{st.base_url}/book", json=body)
        prepared = session.prepare_request(request)
        barrier.wait()
        race.started[i] = time.perf_counter()
        try:
            resp = session.send(prepared, timeout=120)
            race.statuses[i] = resp.status_code
            if resp.status_code not in (201, 409):
                with lock:
                    race.problems.append(f"{slug}: {resp.status_code} {resp.text[:200]}")
        except requests.RequestException as exc:
            with lock:
                race.problems.append(f"{slug}: {exc!r}")
        race.ended[i] = time.perf_counter()
        race.slugs[i] = slug

    workers = [threading.Thread(target=racer, args=(i,), name=f"racer-{i}")
               for i in range(racers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
    return race


def _confirmed_bookings(st: LocalStack) -> list[dict[str, Any]]:
    from booking import clients

    col = clients.firestore().collection("owners").document(st.owner_id).collection("bookings")
    return [{"id": snap.id, **(snap.to_dict() or {})} for snap in col.stream()
            if (snap.to_dict() or {}).get("status") == "confirmed"]


def _our_events(st: LocalStack) -> list[dict[str, Any]]:
    return [e for e in st.control.list_events(st.default_calendar)
            if (e.get("extendedProperties") or {}).get("private", {}).get("booking_id")
            and e.get("status") != "cancelled"]


def _overlaps(start: datetime, end: datetime, lo: datetime, hi: datetime) -> bool:
    return start < hi and end > lo


# -- output


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _print_throughput(phases: Sequence[Phase], threads: int) -> None:
    print("throughput: distinct free call slots; each booking re-checks Google free/busy live, "
          "claims the\nFirestore ledger, creates the Google event (with Meet) and emails guest "
          "and owner.\nGoogle/booking: Calendar API calls while the bookings ran; after push: "
          "Calendar calls made\nwhile Google's push notifications about our events were "
          "handled afterwards")
    _table(["phase", "bookings", "201", "other", "wall s", "bookings/s", "p50 ms", "p95 ms",
            "max ms", "Google/booking", "emails/booking", "after push"],
           [[p.label, p.n, p.created, p.n - p.created, f"{p.wall:.2f}",
             f"{p.n / p.wall:.1f}", _ms(statistics.median(p.latencies)),
             _ms(_pct(p.latencies, 0.95)), _ms(max(p.latencies)),
             f"{p.google_calls / p.n:.2f}", f"{p.emails / p.n:.2f}", p.follow_up_calls]
            for p in phases])
    sequential = phases[0]
    print("\n  Calendar calls per booking by method (one after another; bookings/s there is "
          "1 / mean latency)")
    _table(["method", "per booking"],
           [[m, f"{sequential.methods[m] / sequential.n:.2f}"] for m in sorted(sequential.methods)])
    if sequential.follow_up_calls == 0 and phases[-1].follow_up_calls == 0:
        print("  the push notifications our events caused were accepted without Calendar calls")


def _print_race(st: LocalStack, race: Race, at: datetime, racers: int) -> bool:
    winners = race.statuses.count(201)
    losers = race.statuses.count(409)
    errors = racers - winners - losers
    latencies = [e - s for s, e in zip(race.started, race.ended, strict=True)]
    print(f"\ncontention: {racers} racers released by a barrier, half for call "
          f"{at.strftime('%a %Y-%m-%d %H:%M')} (30 min), half for deep "
          f"{(at - timedelta(minutes=30)).strftime('%H:%M')} (60 min, overlapping)")
    _table(["racers", "winners (201)", "losers (409)", "errors", "race wall ms", "p50 ms",
            "p95 ms"],
           [[racers, winners, losers, errors, _ms(race.wall), _ms(statistics.median(latencies)),
             _ms(_pct(latencies, 0.95))]], left=0)
    won = [slug for slug, status in zip(race.slugs, race.statuses, strict=True) if status == 201]
    if won:
        print(f"  won by a {won[0]} racer")
    for problem in race.problems[:5]:
        print(f"  error: {problem}")

    lo, hi = at - timedelta(minutes=30), at + timedelta(minutes=30)
    bookings = _confirmed_bookings(st)
    events = _our_events(st)
    in_race = [b for b in bookings if _overlaps(b["start"], b["end"], lo, hi)]
    race_events = [e for e in events if _overlaps(
        datetime.fromisoformat(e["start"]["dateTime"]),
        datetime.fromisoformat(e["end"]["dateTime"]), lo, hi)]
    same = sorted(b["id"] for b in in_race) == sorted(
        e["extendedProperties"]["private"]["booking_id"] for e in race_events)
    booking_ids = sorted(b["id"] for b in bookings)
    event_ids = sorted(e["extendedProperties"]["private"]["booking_id"] for e in events)
    print(f"\nFirestore and Google ({st.default_calendar}) after the race")
    _table(["what", "Firestore confirmed", "Google live events", "agree"], [
        [f"{lo.strftime('%H:%M')}-{hi.strftime('%H:%M')} on {at.date()}", len(in_race),
         len(race_events), "yes" if same and len(in_race) == 1 else "NO"],
        ["every booking of the run", len(bookings), len(events),
         "yes" if booking_ids == event_ids else "NO"]])
    return len(in_race) == 1 and same and booking_ids == event_ids


if __name__ == "__main__":
    sys.exit(main())
