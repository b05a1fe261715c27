"""A seeded chaos run against the real stack (issue 12): bookings, cancellations and reschedules
by guests and the owner, while Google and SendGrid answer 429/5xx or hang, workers are killed
between the commit and the send, and two resyncs drain the outbox at once. At the end every
booking is checked against its final state.

Used by tests/integration/bookings/test_chaos.py (a fixed seed, small) and bench/chaos.py
(random seeds, a few hundred operations). Every fault is injected for real: the stand-ins'
fault and latency controls, and SIGKILL of a separate Python process running our booking code.

What is checked, for every booking and each of its two readers (guest, owner), from the
mailbox, the Google stand-in and Firestore:
- duplicated: an outbox row's email (its `outbox_id`) arrived twice;
- out of order: the invitations a reader got for one booking do not have strictly rising
  SEQUENCE (every version, follow-up and cancellation raises it);
- lost: the last email a reader got is not the one for the booking's final state (the
  cancellation of a cancelled booking; for a confirmed one the invitation of its final
  version, carrying its Meet link);
- events: each confirmed booking has exactly one live Google event, at its time, with its
  Meet link; a cancelled one has none.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import requests

ROOT = Path(__file__).resolve().parent.parent
GOOGLE_FAULTS = (("calendar.events.insert", 503, "backendError"),
                 ("calendar.events.insert", 429, "rateLimitExceeded"),
                 ("calendar.events.patch", 500, "backendError"),
                 ("calendar.events.delete", 503, "backendError"),
                 ("calendar.events.get", 503, "backendError"),
                 ("calendar.events.list", 403, "userRateLimitExceeded"),
                 ("calendar.freebusy.query", 503, "backendError"))
SENDGRID_FAULTS = (429, 500, 503, 401, 403)
HANG = 3.0  # seconds a hanging Google call takes: past the request deadline the run sets
KILL_HOLD = 4.0  # seconds the killed worker's insert is held at Google (it is killed meanwhile)


@dataclass
class World:
    """The running stack the driver acts on."""

    base_url: str
    owner_id: str
    api_key: str
    owner_email: str
    event_type: str
    zone: str
    calendar_id: str  # the default calendar bookings are written to
    google: Any  # GoogleControl
    sendgrid: Any  # SendGridStandin


@dataclass
class Report:
    seed: int
    operations: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    bookings: int = 0
    confirmed: int = 0
    cancelled: int = 0
    emails_owed: int = 0  # the final email of each reader of each booking
    emails_sent: int = 0
    duplicated: int = 0
    lost: int = 0
    out_of_order: int = 0
    dropped_stale: int = 0
    dead_letters: int = 0
    events_expected: int = 0
    events_found: int = 0
    events_wrong: int = 0
    seconds: float = 0.0
    timing: Counter[str] = field(default_factory=Counter)  # seconds spent per operation kind
    problems: list[str] = field(default_factory=list)

    def figures(self) -> str:
        ops = ", ".join(f"{k} {v}" for k, v in sorted(self.operations.items()))
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        answers = ", ".join(f"{k} {v}" for k, v in sorted(self.answers.items()))
        return "\n".join([
            f"seed {self.seed}: {sum(self.operations.values())} operations in "
            f"{self.seconds:.1f} s ({ops})",
            f"  answers: {answers}",
            f"  faults injected: {sum(self.faults.values())} ({faults})",
            f"  bookings: {self.bookings} ({self.confirmed} confirmed, {self.cancelled} "
            f"cancelled)",
            f"  emails: owed (final, per reader) {self.emails_owed}, sent {self.emails_sent}, "
            f"duplicated {self.duplicated}, lost {self.lost}, out of order "
            f"{self.out_of_order}, dropped as stale {self.dropped_stale}, dead letters "
            f"{self.dead_letters}",
            f"  Google events: expected {self.events_expected}, found {self.events_found}, "
            f"wrong or extra {self.events_wrong}",
            "  seconds by operation: " + ", ".join(f"{k} {v:.1f}" for k, v in
                                                   sorted(self.timing.items())),
        ])


class Driver:
    def __init__(self, world: World, seed: int) -> None:
        self.w = world
        self.rng = random.Random(seed)
        self.report = Report(seed)
        self.ids: list[str] = []
        self.clock = timedelta(0)  # how far ahead of real time resync runs
        self._hanging: str | None = None
        self.cancelled: set[str] = set()
        self.worker: subprocess.Popen[bytes] | None = None
        # Google calls held by a latency fault finish after their caller gave up (a killed
        # worker's insert, a guest's hung call): the run waits for them before it ends, so
        # none lands in whatever uses the stand-in next.
        self.stragglers_until = 0.0

    # --- operations -------------------------------------------------------------------------

    def _slot(self) -> datetime:
        zone = ZoneInfo(self.w.zone)
        today = datetime.now(zone).date()
        monday = today + timedelta(days=7 - today.weekday() + 7)
        day = monday + timedelta(days=self.rng.randrange(0, 21))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        minutes = 9 * 60 + 30 * self.rng.randrange(0, 15)
        return datetime.combine(day, datetime.min.time(), zone) + timedelta(minutes=minutes)

    def _answer(self, what: str, resp: requests.Response) -> None:
        self.report.answers[f"{what} {resp.status_code}"] += 1
        if resp.status_code >= 500:
            self.report.problems.append(f"{what} answered {resp.status_code}: {resp.text[:200]}")

    def _book_body(self, key: str) -> dict[str, Any]:
        n = self.rng.randrange(10**6)
        return {"owner": self.w.owner_id, "event_type": self.w.event_type,
                "start": self._slot().isoformat(), "name": f"Guest {n}",
                "email": f"guest{n}@example.org", "time_zone": "America/New_York",
                "idempotency_key": key}

    def book(self) -> None:
        key = f"chaos-{self.rng.getrandbits(64):016x}"
        body = self._book_body(key)
        copies = 2 if self.rng.random() < 0.25 else 1  # a double submit
        answers: list[requests.Response] = []

        def post() -> None:
            answers.append(requests.post(f"{self.w.base_url}/book", json=body, timeout=60))

        threads = [threading.Thread(target=post) for _ in range(copies)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stored: bool | None = None
        for resp in answers:
            if resp.status_code == 503 and stored is None:
                stored = self._stored(key)
            if resp.status_code == 503 and not stored:
                # Google unreachable during the live free/busy check: answered before any
                # commit, which is the documented answer; a problem only if the key booked.
                self.report.answers["book 503 before commit"] += 1
                continue
            self._answer("book", resp)
        made = {r.json()["booking"]["id"] for r in answers if r.status_code in (200, 201)}
        if len(made) > 1 or (made and any(r.status_code == 409 for r in answers)):
            self.report.problems.append(f"one key, answers {[r.status_code for r in answers]}")
        self.ids.extend(made - set(self.ids))

    def _stored(self, key: str) -> bool:
        """Whether a booking exists for this idempotency key."""
        from booking.adapters import firestore_bookings
        from booking.domain.booking_rules import booking_id_for

        return bool(firestore_bookings.get_many(self.w.owner_id,
                                                [booking_id_for(self.w.owner_id, key)]))

    def _some_booking(self) -> str | None:
        """Mostly one still confirmed as far as the driver knows; sometimes any."""
        live = [i for i in self.ids if i not in self.cancelled]
        pool = live if live and self.rng.random() < 0.8 else self.ids
        return self.rng.choice(pool) if pool else None

    def cancel(self) -> None:
        booking_id = self._some_booking()
        if booking_id is None:
            return
        link = self._guest_link(booking_id, "cancel") if self.rng.random() < 0.5 else None
        if link:
            self.report.operations["cancel by guest"] += 1
            parts = urlsplit(link)
            resp = requests.post(f"{parts.scheme}://{parts.netloc}{parts.path}",
                                 data={"token": parse_qs(parts.query)["token"][0]}, timeout=60)
            self._answer("guest cancel", resp)
            if resp.status_code == 200:
                self.cancelled.add(booking_id)
            return
        self.report.operations["cancel by owner"] += 1
        resp = requests.post(f"{self.w.base_url}/owner/api/bookings/{booking_id}/cancel",
                             json={"reason": "chaos"}, timeout=60,
                             headers={"Authorization": f"Bearer {self.w.api_key}"})
        self._answer("owner cancel", resp)
        if resp.status_code == 200:
            self.cancelled.add(booking_id)

    def reschedule(self) -> None:
        booking_id = self._some_booking()
        if booking_id is None:
            return
        resp = requests.post(f"{self.w.base_url}/owner/api/bookings/{booking_id}/reschedule",
                             json={"start": self._slot().isoformat()}, timeout=60,
                             headers={"Authorization": f"Bearer {self.w.api_key}"})
        self._answer("owner reschedule", resp)

    def google_change(self, lose: bool | None = None) -> bool:
        """The owner moves or deletes a booked event in Google Calendar (as the Calendar UI
        would, through the stand-in). Its push may be lost (Google warns some are: resync's
        incremental sync must make it good) or arrive twice (a replay to our intake)."""
        booking_id = self._some_booking()
        if booking_id is None:
            return False
        g, event_id = self.w.google, f"bk{booking_id}"
        live = [e for e in g.list_events(self.w.calendar_id)
                if e["id"] == event_id and e.get("status") != "cancelled"]
        if not live:
            return False  # not written yet (its insert is owed) or already gone
        if lose is None:
            lose = self.rng.random() < 0.3
        if lose:
            g.drop_pushes(1)
            self.report.faults["push lost"] += 1
        if self.rng.random() < 0.3:
            self.report.operations["delete in google"] += 1
            g.delete_event(self.w.calendar_id, event_id)
            self.cancelled.add(booking_id)
        else:
            self.report.operations["move in google"] += 1
            length = _end(live[0]) - _start(live[0])  # type: ignore[operator]
            start = self._slot()
            g.move_event(self.w.calendar_id, event_id, start.isoformat(),
                         (start + length).isoformat())
        g.flush_push()
        if not lose and self.rng.random() < 0.5:
            self.report.faults["push doubled"] += 1
            channel = next((c for c in g.channels()
                            if c["calendarId"] == self.w.calendar_id and c["live"]), None)
            numbers = [d["message_number"] for d in g.push_deliveries(channel["id"])] \
                if channel else []
            if channel and numbers:
                self._answer("push replay", requests.post(
                    f"{self.w.base_url}/google_notifications", timeout=60, headers={
                        "X-Goog-Channel-ID": channel["id"],
                        "X-Goog-Channel-Token": channel["token"],
                        "X-Goog-Resource-ID": channel["resourceId"],
                        "X-Goog-Resource-URI": channel["resourceUri"],
                        "X-Goog-Resource-State": "exists",
                        "X-Goog-Message-Number": str(max(numbers))}))
        return True

    def _guest_link(self, booking_id: str, action: str) -> str | None:
        """The link in the newest email the guest got about this booking, if any."""
        for m in reversed(self.w.sendgrid.messages()):
            uid = _invitation(m)
            if uid and uid[0].startswith(f"{booking_id}@"):
                for word in (m["text"] or "").split():
                    if f"/{action}?token=" in word:
                        return str(word)
                return None
        return None

    def resync(self) -> None:
        """One or two resyncs at once, at a later moment (so backoffs have passed)."""
        from booking.services import outbox

        self.clock += timedelta(minutes=self.rng.choice((1, 2, 5, 15, 60)))
        when = datetime.now(UTC) + self.clock
        runs = 2 if self.rng.random() < 0.5 else 1
        self.report.operations["resync (two at once)" if runs == 2 else "resync"] += 1
        threads = [threading.Thread(target=outbox.drain, args=(when,)) for _ in range(runs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _spawn(self) -> subprocess.Popen[bytes]:
        """A worker process that imports our code now and books when told (so its start-up
        overlaps the run instead of adding to it)."""
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}"}
        return subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", _WORKER], env=env, stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _free_slot(self) -> str | None:
        day = self._slot().date().isoformat()
        resp = requests.get(f"{self.w.base_url}/availability", timeout=60, params={
            "owner": self.w.owner_id, "event_type": self.w.event_type, "start": day,
            "end": day, "time_zone": self.w.zone})
        free = [t for times in resp.json().get("days", {}).values() for t in times] \
            if resp.status_code == 200 else []
        return self.rng.choice(free) if free else None

    def killed_booking(self) -> None:
        """A booking whose worker is SIGKILLed after the commit, while its Google insert is on
        the wire (no email sent yet): resync must finish what it owed."""
        from booking.domain.booking_rules import booking_id_for
        from booking.services.calendar_writes import row_id

        self.w.google.clear_calendar_faults()  # the worker must get as far as the insert
        for _ in range(4):
            start = self._free_slot()
            if start is None:
                continue
            key = f"chaos-kill-{self.rng.getrandbits(64):016x}"
            body = {**self._book_body(key), "start": start}
            booking_id = booking_id_for(self.w.owner_id, key)
            worker, self.worker = self.worker or self._spawn(), None
            self.w.google.set_calendar_latency("calendar.events.insert", KILL_HOLD)
            self.stragglers_until = time.monotonic() + KILL_HOLD + 60
            try:
                assert worker.stdin is not None
                try:
                    worker.stdin.write(json.dumps(body).encode() + b"\n")
                    worker.stdin.flush()
                except BrokenPipeError:
                    continue  # the worker died on its own: another one
                row = row_id(booking_id, "create", 0)
                give_up = time.monotonic() + 60
                while time.monotonic() < give_up and worker.poll() is None:
                    if _status(row) == "sending":
                        worker.send_signal(signal.SIGKILL)
                        self.stragglers_until = time.monotonic() + KILL_HOLD + 1
                        self.report.faults["worker killed after commit"] += 1
                        self.ids.append(booking_id)
                        return
                    time.sleep(0.05)
            finally:
                _stop(worker)
                self.w.google.set_calendar_latency("calendar.events.insert", 0.0)
        self.report.problems.append("no booking worker could be killed after its commit")

    # --- faults -----------------------------------------------------------------------------

    def faults(self) -> None:
        roll = self.rng.random()
        if roll < 0.25:
            method, status, reason = self.rng.choice(GOOGLE_FAULTS)
            count = self.rng.randint(1, 3)
            self.w.google.inject_calendar_fault(method, status=status, reason=reason,
                                                count=count)
            self.report.faults[f"google {status}"] += count
        elif roll < 0.45:
            status = self.rng.choice(SENDGRID_FAULTS)
            count = self.rng.randint(1, 3)
            self.w.sendgrid.fail_next(count, status)
            self.report.faults[f"sendgrid {status}"] += count
        elif roll < 0.50:
            method = self.rng.choice(("calendar.events.insert", "calendar.events.patch"))
            self.w.google.set_calendar_latency(method, HANG)
            self.stragglers_until = max(self.stragglers_until, time.monotonic() + 600)
            self.report.faults["google hang"] += 1
            self._hanging = method
            return
        if self._hanging:
            self.w.google.set_calendar_latency(self._hanging, 0.0)
            self._hanging = None
            self.stragglers_until = time.monotonic() + HANG + 1

    # --- the run ----------------------------------------------------------------------------

    def run(self, operations: int, kills: int) -> Report:
        began = time.monotonic()
        kill_at = set(self.rng.sample(range(operations // 4, operations), min(kills,
                                                                              operations // 2)))
        if kill_at:
            self.worker = self._spawn()
        for i in range(operations):
            self.faults()
            if i in kill_at:
                self.report.operations["booking killed after commit"] += 1
                t0 = time.monotonic()
                self.killed_booking()
                self.report.timing["kill"] += time.monotonic() - t0
                continue
            roll = self.rng.random()
            op = "book" if roll < 0.45 or not self.ids else \
                "cancel" if roll < 0.58 else "reschedule" if roll < 0.71 else \
                "google_change" if roll < 0.86 else "resync"
            if op in ("book", "reschedule"):
                self.report.operations[op] += 1
            t0 = time.monotonic()
            getattr(self, op)()
            self.report.timing[op] += time.monotonic() - t0
        if self.worker is not None:  # spawned for a kill that never came
            _stop(self.worker)
        t0 = time.monotonic()
        self.settle()
        self.report.timing["settle"] += time.monotonic() - t0
        self.report.seconds = time.monotonic() - began
        check(self.w, self.ids, self.report)
        return self.report

    def settle(self) -> None:
        """Faults stop; resync syncs the calendars (what lost pushes left behind), then runs
        until the outbox owes nothing (simulated hours pass)."""
        from booking.services import outbox, sync

        self.w.google.clear_calendar_faults()
        for method in ("calendar.events.insert", "calendar.events.patch"):
            self.w.google.set_calendar_latency(method, 0.0)
        self.w.sendgrid.fail_next(0)
        if self._hanging:
            self.stragglers_until = time.monotonic() + HANG + 1
            self._hanging = None
        time.sleep(max(0.0, self.stragglers_until - time.monotonic()))
        # The last change made in Google loses its push, so only resync can bring it back.
        for _ in range(10):
            if self.google_change(lose=True):
                break
        # resync's safety net for lost pushes: an incremental sync of every calendar.
        sync.sync_stalest(datetime.now(UTC) + self.clock, limit=200, budget=60.0)
        quiet = 0
        for _ in range(80):
            self.clock += timedelta(hours=7)
            counts = outbox.drain(datetime.now(UTC) + self.clock)
            quiet = quiet + 1 if not counts else 0
            if quiet == 2:
                return
        self.report.problems.append("the outbox still owed work after 80 resyncs")


_WORKER = """
import json, sys
from datetime import UTC, datetime
from booking.adapters import google_calendar
from booking.services import booking as service, calendar_writes
req = service.parse(json.loads(sys.stdin.readline()), None)
service.book(req, datetime.now(UTC))
"""


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.kill()
    worker.wait()
    if worker.stdin is not None:
        with contextlib.suppress(BrokenPipeError):
            worker.stdin.close()


def _status(row_id: str) -> str | None:
    from booking.adapters import firestore_outbox

    row = firestore_outbox.get(row_id)
    return str(row["status"]) if row else None


def _invitation(message: dict[str, Any]) -> tuple[str, int, str] | None:
    """(UID, SEQUENCE, METHOD) of the message's .ics, if it has one."""
    for a in message["attachments"]:
        if a["filename"].endswith(".ics"):
            cal = icalendar.Calendar.from_ical(a["content"])
            event = cal.walk("VEVENT")[0]
            return str(event["UID"]), int(event["SEQUENCE"]), str(cal["METHOD"])
    return None


def _start(event: dict[str, Any], edge: str = "start") -> datetime | None:
    value = (event.get(edge) or {}).get("dateTime")
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _end(event: dict[str, Any]) -> datetime | None:
    return _start(event, "end")


def check(w: World, ids: list[str], report: Report) -> None:
    """Compares every booking's final state with what reached people and Google."""
    from booking import clients
    from booking.adapters import firestore_bookings

    messages = w.sendgrid.messages()
    report.emails_sent = len(messages)
    seen = Counter(m["custom_args"].get("outbox_id") for m in messages)
    report.duplicated = sum(n - 1 for n in seen.values() if n > 1)
    by_reader: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in messages:
        found = _invitation(m)
        if found:
            booking_id = found[0].split("@")[0]
            by_reader.setdefault((booking_id, m["to"][0]), []).append(m)
    events: dict[str, list[dict[str, Any]]] = {}
    for e in w.google.list_events(w.calendar_id):
        bid = ((e.get("extendedProperties") or {}).get("private") or {}).get("booking_id")
        if bid and e.get("status") != "cancelled":
            events.setdefault(bid, []).append(e)
    rows = [s.to_dict() for s in clients.firestore().collection("outbox").stream()]
    report.dropped_stale = sum(1 for r in rows if r.get("status") == "dropped")
    report.dead_letters = sum(1 for r in rows if r.get("status") == "failed")
    for r in rows:
        if r.get("status") == "failed":
            report.problems.append(f"dead letter {r.get('kind')}: {r.get('last_error')}")
    for booking_id in ids:
        b = firestore_bookings.get(w.owner_id, booking_id)
        report.bookings += 1
        confirmed = b["status"] == "confirmed"
        report.confirmed += confirmed
        report.cancelled += not confirmed
        final = int(b.get("sequence", 0)) + int(b.get("ics_revision", 0))
        for reader in (b["guest"]["email"], w.owner_email):
            report.emails_owed += 1
            got = [_invitation(m) for m in by_reader.get((booking_id, reader), [])]
            sequences = [g[1] for g in got if g]
            if any(a >= z for a, z in zip(sequences, sequences[1:], strict=False)):
                report.out_of_order += 1
                report.problems.append(f"{booking_id} to {reader}: SEQUENCE {sequences}")
            last_mail = (by_reader.get((booking_id, reader)) or [None])[-1]
            last = got[-1] if got else None
            want = "CANCEL" if not confirmed else "REQUEST"
            ok = last is not None and last[1] == final and last[2] == want
            if ok and confirmed and b.get("meet"):
                ok = bool(b.get("meet_link")) and last_mail is not None \
                    and b["meet_link"] in (last_mail["text"] or "")
            if not ok:
                report.lost += 1
                report.problems.append(
                    f"{booking_id} ({b['status']}, version {final}) to {reader}: last email "
                    f"{last}, want {want} {final}")
        live = events.get(booking_id, [])
        if confirmed:
            report.events_expected += 1
            good = [e for e in live if _start(e) == b["start"]
                    and (not b.get("meet") or e.get("hangoutLink") == b.get("meet_link"))]
            report.events_found += len(good)
            if len(live) != 1 or len(good) != 1:
                report.events_wrong += 1
                report.problems.append(f"{booking_id} confirmed at {b['start']}: events "
                                       f"{[(_start(e), e.get('hangoutLink')) for e in live]}")
        elif live:
            report.events_wrong += len(live)
            report.problems.append(f"{booking_id} cancelled but {len(live)} live event(s)")

