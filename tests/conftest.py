"""Test harness: the Firestore emulator and the stand-ins, started once per session, wiped per test.

Tiers by folder: tests/unit (pure, no server), tests/integration (emulator + stand-ins + real
clients), tests/e2e (the local stack over HTTP). Server fixtures are lazy: a unit run starts none.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.standins.server import StandinServer

# Seven engineers' suites share two cores: a property's first example also pays for loading
# Babel's CLDR data and compiling templates, so wall-clock deadlines only measure the neighbours.
settings.register_profile("shared-machine", deadline=None)
settings.load_profile("shared-machine")

ROOT = Path(__file__).resolve().parent.parent
TEST_PROJECT = "demo-booking-test"
SENDGRID_KEY = "SG.test-key"
# The product's sender; registered with the SendGrid stand-in as a verified Sender Identity,
# as an operator does in SendGrid before the first mail can leave.
MAIL_FROM = "bookings@example.test"
CLIENT_ID = "test-client.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        if tier in ("unit", "integration", "e2e", "browser"):
            item.add_marker(getattr(pytest.mark, tier))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test that used the stack shows what Google and Firestore held at that moment,
    before the teardown wipes it: evidence for failures that do not repeat (an unexplained 409
    on a fresh test's first booking is being hunted this way)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    st = getattr(item, "funcargs", {}).get("stack")
    if report.when == "call" and report.failed and isinstance(st, Stack):
        report.sections.append(("state at failure", _state_at_failure(st)))


def _state_at_failure(st: Stack) -> str:
    lines: list[str] = []
    try:
        from tests.integration.helpers import firestore_docs, google

        control = google(st)
        for email in list(st.google.state.accounts):
            for event in control.list_events(email):
                lines.append(f"google {email}: {event.get('id')} {event.get('status')} "
                             f"{event.get('start')} {event.get('end')} {event.get('_standin')}")
        for r in st.google.state.requests[-40:]:
            lines.append(f"google call: {r.get('method') or r.get('path')} -> {r.get('status')}")
        for path, doc in firestore_docs():
            if any(part in path for part in ("calendar_sync", "ledger", "bookings")):
                lines.append(f"firestore {path}: {str(doc)[:300]}")
    except Exception as exc:  # evidence only: never hide the test's own failure
        lines.append(f"(could not read the state: {exc!r})")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def firestore_host() -> Iterator[str]:
    """FIRESTORE_EMULATOR_HOST when set (a running emulator), else one we start and stop."""
    from tests.standins.firestore_emulator import EmulatorMissing, FirestoreEmulator

    given = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if given:
        yield given
        return
    try:
        emulator = FirestoreEmulator().start()
    except EmulatorMissing as exc:
        pytest.exit(f"cannot run integration tests: {exc}", returncode=3)
    try:
        yield emulator.host
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def secret_manager_server() -> Iterator[StandinServer]:
    from tests.standins.secret_manager import SecretManagerStandin

    with StandinServer(SecretManagerStandin()) as server:
        yield server


@pytest.fixture(scope="session")
def sendgrid_server() -> Iterator[StandinServer]:
    from tests.standins.sendgrid import SendGridStandin

    standin = SendGridStandin(api_key=SENDGRID_KEY, verified_senders=[MAIL_FROM])
    with StandinServer(standin) as server:
        yield server


@pytest.fixture(scope="session")
def google_server() -> Iterator[StandinServer]:
    from tests.standins.google import GoogleStandin

    with StandinServer(GoogleStandin()) as server:
        yield server


@pytest.fixture(scope="session")
def functions_server() -> Iterator[StandinServer]:
    """Every function of functions/main.py on one real HTTP port, as in the local run."""
    from scripts.functions_host import create_host

    with StandinServer(create_host()) as server:
        yield server


@dataclass
class Stack:
    """The per-test view of every outside service, already wiped and wired into the environment."""

    project: str
    firestore_host: str
    secret_manager: Any  # SecretManagerStandin
    secret_manager_url: str
    sendgrid: Any  # SendGridStandin
    sendgrid_url: str
    google: Any  # GoogleStandin
    google_url: str
    base_url: str

    @property
    def env(self) -> dict[str, str]:
        return stack_env(self)


def stack_env(stack: Stack) -> dict[str, str]:
    g = stack.google_url
    return {
        "GOOGLE_CLOUD_PROJECT": stack.project,
        "FIRESTORE_EMULATOR_HOST": stack.firestore_host,
        "SECRET_MANAGER_ENDPOINT": stack.secret_manager_url,
        "SENDGRID_HOST": stack.sendgrid_url,
        "SENDGRID_API_KEY": SENDGRID_KEY,
        "MAIL_FROM": MAIL_FROM,
        "FUNCTION_BASE_URL": stack.base_url,
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "GOOGLE_AUTH_URI": f"{g}/o/oauth2/v2/auth",
        "GOOGLE_TOKEN_URI": f"{g}/token",
        "GOOGLE_REVOKE_URI": f"{g}/revoke",
        "GOOGLE_CERTS_URI": f"{g}/oauth2/v1/certs",
        "GOOGLE_ISSUER": g,
        "GOOGLE_CALENDAR_ENDPOINT": f"{g}/calendar/v3/",
    }


@pytest.fixture
def stack(
    firestore_host: str,
    secret_manager_server: StandinServer,
    sendgrid_server: StandinServer,
    google_server: StandinServer,
    functions_server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Stack]:
    """Every service wiped, the environment pointing at them, our client caches empty.

    Each test gets its own Firestore project id, so two tests' data can never meet even if a
    reset were missed.
    """
    from tests.standins.firestore_emulator import reset

    st = Stack(
        project=f"{TEST_PROJECT}-{uuid.uuid4().hex[:8]}",
        firestore_host=firestore_host,
        secret_manager=secret_manager_server.app,
        secret_manager_url=secret_manager_server.url,
        sendgrid=sendgrid_server.app,
        sendgrid_url=sendgrid_server.url,
        google=google_server.app,
        google_url=google_server.url,
        base_url=functions_server.url,
    )
    st.secret_manager.reset()
    st.sendgrid.reset()
    st.google.reset()
    st.google.register_client(CLIENT_ID, CLIENT_SECRET, [f"{st.base_url}/oauth_callback"])
    for key, value in st.env.items():
        monkeypatch.setenv(key, value)
    _reset_app_caches()
    from scripts.keys import create_missing

    create_missing()
    # Nothing of an earlier test may still be running: it would write into this one.
    assert functions_server.active == 0, "a function request from an earlier test is running"
    try:
        yield st
        # Pushes on their way, and the functions still answering them, belong to this test:
        # let them finish while its env holds.
        settle(st.google.state, functions_server)
        violations = st.google.schema_violations()
        assert not violations, "Calendar traffic broke calendar.v3.json:\n" + "\n".join(violations)
    finally:
        _reset_app_caches()
        reset(firestore_host, st.project)


SETTLE_SECONDS = 60.0  # a loaded CI machine; a quiet one settles in milliseconds


def settle(google_state: Any, functions: StandinServer, timeout: float = SETTLE_SECONDS) -> None:
    """Returns once Google has no push queued or being sent and no function is still answering
    a request, both at the same moment; fails the test if that does not happen in `timeout`.

    Flushing the pushes alone is not enough: Google waits `push_timeout` for a web hook, then
    counts the push as unanswered and retries it, and the retry is answered at once ("seen"),
    so the push queue is empty while the first intake is still syncing. Wiping the services and
    switching the environment under it sent its writes into the next test: that test's
    calendar_sync document got the old test's busy events (issue 19). And a function still
    running may queue new pushes, hence the loop."""
    from tests.standins.google.calendar_push import flush_push, pending

    deadline = time.monotonic() + timeout
    while True:
        pushes_done = flush_push(google_state, max(0.0, deadline - time.monotonic()))
        requests_done = functions.wait_idle(max(0.0, deadline - time.monotonic()))
        if pushes_done and requests_done and flush_push(google_state, 0) \
                and functions.active == 0:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"still in flight {timeout:.0f} s after the test: {pending(google_state)} "
                f"Google pushes, {functions.active} function requests")


def _reset_app_caches() -> None:
    from booking import clients

    clients.reset()
