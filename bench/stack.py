"""The local stack for the end-to-end benches, seeded with one owner, as a context manager.

    from bench.stack import local_stack

    with local_stack() as st:
        requests.get(f"{st.base_url}/availability", params={"owner": st.owner_id, ...})

Starts the Firestore emulator (or uses FIRESTORE_EMULATOR_HOST), the Google, Secret Manager
and SendGrid stand-ins and every function of functions/main.py on real ports, points the
environment at them (this process serves the functions, so it reads the same settings), and
seeds through the product's own API: owner "bench" (Europe/Ljubljana) with two connected Google
accounts a@gmail.test and b@gmail.test, b's shared Team calendar, `busy_events` busy events
(30-minute grid, 45 minutes long, fixed seed) over two weeks starting a week from now spread
over the three calendars, all three as conflict calendars, a@gmail.test as the default
calendar bookings are written to, and the given event types. On exit everything is stopped,
the owner's Firestore project is wiped and the environment is restored.

The Google stand-in runs in a process of its own (`GoogleProcess`): it checks every request and
answer against Calendar's discovery document and builds the answers, CPU that is Google's in
production. In the functions' process it held the GIL while our code waited for it, so the
benches counted it as ours, and it grew with every account an owner connects.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# functions-framework puts functions/ on sys.path in production; do the same here.
for _path in (str(ROOT), str(ROOT / "functions")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

OWNER_ID = "bench"
OWNER_EMAIL = "bench@owner.test"
ZONE = "Europe/Ljubljana"
ACCOUNT_A = "a@gmail.test"
ACCOUNT_B = "b@gmail.test"
TEAM = "team@group.test"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# Out of the benches' way (one client asks again and again; bench.abuse measures the limits),
# the owner's too: a booking bench makes 171 bookings in about 15 s, over 120 a minute.
BENCH_LIMITS = {"availability_per_ip": 10000, "book_per_ip": 10000, "book_per_ip_hour": 10000,
                "book_per_email": 10000, "open_bookings_per_email": 1000,
                "availability_per_owner": 100000, "book_per_owner": 100000}


def event_type(slug: str, title: str, duration_minutes: int, slot_interval_minutes: int = 15,
               **rules: Any) -> dict[str, Any]:
    """An event type body for POST /owner/api/event-types: Mon-Fri 09:00-17:00."""
    return {"slug": slug, "title": title, "rules": {
        "weekly_hours": {d: [["09:00", "17:00"]] for d in WEEKDAYS},
        "duration_minutes": duration_minutes, "slot_interval_minutes": slot_interval_minutes,
        **rules}}


# 30 minutes every 15 minutes with 10 minutes' buffer after: what availability_e2e measures.
CALL = event_type("call", "Call", 30, buffer_after_minutes=10)


@dataclass
class LocalStack:
    """Everything a bench needs to drive and inspect the running stack."""

    project: str
    firestore_host: str
    base_url: str  # the functions: f"{base_url}/availability", f"{base_url}/book", ...
    google_url: str
    sendgrid_url: str
    secret_manager_url: str
    google: GoogleProcess  # google.requests(since, until): every call it recorded
    sendgrid: Any  # SendGridStandin: sendgrid.messages() is the mailbox
    secret_manager: Any  # SecretManagerStandin
    control: Any  # GoogleControl: the stand-in's control API, as a test would drive it
    owner_id: str = OWNER_ID
    api_key: str = ""
    time_zone: str = ZONE
    connections: dict[str, str] = field(default_factory=dict)  # account email -> connection id
    default_calendar: str = ACCOUNT_A
    conflict_calendars: tuple[str, ...] = (ACCOUNT_A, ACCOUNT_B, TEAM)
    event_types: tuple[str, ...] = ()
    busy_from: datetime = field(default_factory=lambda: datetime.now(UTC))
    busy_events: int = 0

    def calendar_calls(self, since: int = 0, until: int | None = None) -> list[dict[str, Any]]:
        """Calendar API requests the Google stand-in recorded, log entries since:until."""
        return [r for r in self.google.requests(since, until)
                if r.get("service") == "calendar"]

    def google_mark(self) -> int:
        """Where the Google stand-in's request log ends now (pass to calendar_calls)."""
        return self.google.mark()

    def emails_sent(self) -> int:
        return len(self.sendgrid.messages())

    def flush_push(self, timeout: float = 30.0) -> None:
        """Waits until Google's queued push notifications reached our webhook and were handled."""
        if not self.google.flush_push(timeout):
            raise RuntimeError(f"push notifications still queued after {timeout:.0f} s")


class GoogleProcess:
    """The Google stand-in (tests/standins/google) served by a child process; its request log,
    schema violations and push queue are asked for through a pipe, its control API over HTTP
    (`GoogleControl(url)`). The log's times are the stand-in's own clock (`time.time`)."""

    def __init__(self) -> None:
        # A fresh interpreter (not multiprocessing, which would run the caller's __main__
        # again) talking over a socket pair.
        mine, theirs = socket.socketpair()
        self._process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from bench.stack import _serve_google; "
             "_serve_google(int(sys.argv[1]))", str(theirs.fileno())],
            cwd=ROOT, pass_fds=(theirs.fileno(),))
        theirs.close()
        self._pipe = Connection(mine.detach())
        self._lock = threading.Lock()  # one question at a time on the pipe
        if not self._pipe.poll(60):
            self._process.kill()
            raise RuntimeError("the Google stand-in's process did not start in 60 s")
        self.url: str = self._pipe.recv()

    def _ask(self, *question: Any) -> Any:
        with self._lock:
            self._pipe.send(question)
            ok, answer = self._pipe.recv()
        if not ok:
            raise RuntimeError(f"Google stand-in: {answer}")
        return answer

    def register_client(self, client_id: str, client_secret: str,
                        redirect_uris: list[str]) -> None:
        self._ask("register_client", client_id, client_secret, redirect_uris)

    def requests(self, since: int = 0, until: int | None = None) -> list[dict[str, Any]]:
        """The log entries since:until (GoogleState.requests: every call, with when it started
        and ended)."""
        result: list[dict[str, Any]] = self._ask("requests", since, until)
        return result

    def mark(self) -> int:
        return int(self._ask("mark"))

    def schema_violations(self) -> list[str]:
        return list(self._ask("schema_violations"))

    def flush_push(self, timeout: float) -> bool:
        return bool(self._ask("flush_push", timeout))

    def stop(self) -> None:
        with contextlib.suppress(OSError, EOFError):  # already gone
            self._ask("stop")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._pipe.close()


def _serve_google(fd: int) -> None:
    """The child: serves the stand-in on a free port, answers the parent's questions (on the
    socket `fd`) until it says stop or goes away."""
    from tests.standins.google import GoogleStandin
    from tests.standins.google.calendar_push import flush_push
    from tests.standins.server import StandinServer

    pipe = Connection(fd)
    app = GoogleStandin()
    server = StandinServer(app).start()
    state = app.state

    def requests(since: int, until: int | None) -> list[dict[str, Any]]:
        with state.lock:
            return list(state.requests[since:until])

    def mark() -> int:
        with state.lock:
            return len(state.requests)

    answers: dict[str, Any] = {
        "register_client": app.register_client, "requests": requests, "mark": mark,
        "schema_violations": app.schema_violations,
        "flush_push": lambda timeout: flush_push(state, timeout)}
    pipe.send(server.url)
    try:
        while True:
            try:
                name, *args = pipe.recv()
            except EOFError:  # the parent is gone
                return
            if name == "stop":
                pipe.send((True, None))
                return
            try:
                pipe.send((True, answers[name](*args)))
            except Exception as exc:  # noqa: BLE001 - the parent raises it
                pipe.send((False, f"{name}: {type(exc).__name__}: {exc}"))
    finally:
        server.stop()


@contextmanager
def local_stack(event_types: Sequence[Mapping[str, Any]] = (CALL,), busy_events: int = 300,
                seed: int = 7, quiet: bool = False) -> Iterator[LocalStack]:
    """The running, seeded stack; `quiet` drops the functions' INFO log lines (warnings and
    errors still reach stderr)."""
    from tests.standins.firestore_emulator import FirestoreEmulator

    emulator = None
    host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if not host:
        emulator = FirestoreEmulator().start()
        host = emulator.host
    try:
        with _servers(host, quiet) as st:
            _seed(st, event_types, busy_events, seed)
            yield st
    finally:
        if emulator:
            emulator.stop()


@contextmanager
def _servers(firestore_host: str, quiet: bool) -> Iterator[LocalStack]:
    from scripts.functions_host import create_host
    from tests.conftest import (
        CLIENT_ID,
        CLIENT_SECRET,
        MAIL_FROM,
        SENDGRID_KEY,
        Stack,
        stack_env,
    )
    from tests.standins.firestore_emulator import reset
    from tests.standins.google.control import GoogleControl
    from tests.standins.secret_manager import SecretManagerStandin
    from tests.standins.sendgrid import SendGridStandin
    from tests.standins.server import StandinServer

    started: list[StandinServer] = []
    saved_env = dict(os.environ)
    project = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        google = GoogleProcess()
        started.append(google)
        secret_manager = _start(started, StandinServer(SecretManagerStandin()))
        sendgrid = _start(started, StandinServer(
            SendGridStandin(api_key=SENDGRID_KEY, verified_senders=[MAIL_FROM])))
        functions = _start(started, StandinServer(create_host()))
        os.environ.update(stack_env(Stack(
            project=project, firestore_host=firestore_host, secret_manager=secret_manager.app,
            secret_manager_url=secret_manager.url, sendgrid=sendgrid.app,
            sendgrid_url=sendgrid.url, google=None, google_url=google.url,
            base_url=functions.url)))
        _reset_app_caches()
        google.register_client(CLIENT_ID, CLIENT_SECRET, [f"{functions.url}/oauth_callback"])
        restore_log = _quiet_info_logs() if quiet else None
        try:
            yield LocalStack(
                project=project, firestore_host=firestore_host, base_url=functions.url,
                google_url=google.url, sendgrid_url=sendgrid.url,
                secret_manager_url=secret_manager.url, google=google, sendgrid=sendgrid.app,
                secret_manager=secret_manager.app, control=GoogleControl(google.url))
        finally:
            if restore_log:
                restore_log()
    finally:
        # Functions first: nothing may reach a stand-in that is already gone.
        for server in reversed(started):
            server.stop()
        if "booking.clients" in sys.modules:  # the bench got as far as touching Firestore
            reset(firestore_host, project)
        os.environ.clear()
        os.environ.update(saved_env)
        _reset_app_caches()


def _start(started: list[Any], server: Any) -> Any:
    server.start()
    started.append(server)
    return server


def _seed(st: LocalStack, event_types: Sequence[Mapping[str, Any]], busy_events: int,
          seed: int) -> None:
    from booking.services import owners
    from scripts.keys import create_missing
    from tests.drivers import connect_google_account, owner_api

    create_missing()
    st.api_key = owners.create_owner(st.owner_id, "Bench", OWNER_EMAIL, st.time_zone,
                                     datetime.now(UTC))
    ctl = st.control
    ctl.create_account(ACCOUNT_A, "A", time_zone=st.time_zone)
    ctl.create_account(ACCOUNT_B, "B", time_zone=st.time_zone)
    ctl.create_calendar(TEAM, summary="Team", time_zone=st.time_zone, owner=ACCOUNT_B)
    rng = random.Random(seed)
    st.busy_from = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) \
        + timedelta(days=7)
    st.busy_events = busy_events
    for i in range(busy_events):
        cal = st.conflict_calendars[i % 3]
        begin = st.busy_from + timedelta(minutes=30 * rng.randrange(0, 14 * 48))
        ctl.add_event(cal, {"summary": f"busy {i}",
                            "start": {"dateTime": begin.isoformat()},
                            "end": {"dateTime": (begin + timedelta(minutes=45)).isoformat()}})
    for email in (ACCOUNT_A, ACCOUNT_B):
        resp = connect_google_account(st.base_url, st.api_key, st.google_url, email)
        if resp.status_code != 303:
            raise RuntimeError(f"connecting {email} failed: {resp.status_code} {resp.text[:300]}")
    conns = _ok(owner_api(st.base_url, st.api_key, "GET", "/connections"))["connections"]
    st.connections = {c["email"]: c["id"] for c in conns}
    a, b = st.connections[ACCOUNT_A], st.connections[ACCOUNT_B]
    _ok(owner_api(st.base_url, st.api_key, "PATCH", "/settings", json={
        "conflict_calendars": [{"connection_id": a, "calendar_id": ACCOUNT_A},
                               {"connection_id": b, "calendar_id": ACCOUNT_B},
                               {"connection_id": b, "calendar_id": TEAM}],
        "default_calendar": {"connection_id": a, "calendar_id": st.default_calendar},
        # The benches ask again and again from one address: abuse limits are bench.abuse's.
        "limits": BENCH_LIMITS}))
    for body in event_types:
        _ok(owner_api(st.base_url, st.api_key, "POST", "/event-types", json=dict(body)))
    st.event_types = tuple(str(body["slug"]) for body in event_types)


def _ok(resp: Any) -> Any:
    if resp.status_code >= 300:
        raise RuntimeError(f"{resp.request.method} {resp.url}: {resp.status_code} "
                           f"{resp.text[:300]}")
    return resp.json()


def _reset_app_caches() -> None:
    """Clients and settings are cached per process; the environment just changed."""
    from booking import clients

    clients.reset()


def _quiet_info_logs() -> Any:
    """Every module logs through booking.log.log (info/warning/error call it by name)."""
    from booking import log

    original = log.log

    def log_unless_info(severity: str, message: str, **fields: Any) -> None:
        if severity != "INFO":
            original(severity, message, **fields)

    log.log = log_unless_info

    def restore() -> None:
        log.log = original

    return restore
