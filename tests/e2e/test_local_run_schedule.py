"""The local run does Cloud Scheduler's job too: without a timer calling resync, a newcomer's run
would never send a reminder, retry an email or catch a lost push. Here a change made in Google
Calendar whose push is lost still reaches both people, through the scheduled resync alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import requests

from tests.conftest import ROOT
from tests.standins.firestore_emulator import free_port
from tests.standins.google.control import GoogleControl


def _wait_for(check: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return False


def test_a_lost_push_is_caught_by_the_runs_own_scheduled_resync(firestore_host: str) -> None:
    port, google_port, sm_port, sg_port = (free_port() for _ in range(4))
    base, google_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{google_port}"
    mailbox = f"http://127.0.0.1:{sg_port}/_mailbox.json"
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": firestore_host}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.local_stack", "--port", str(port), "--google-port",
         str(google_port), "--secret-manager-port", str(sm_port), "--sendgrid-port", str(sg_port),
         "--resync-seconds", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Ready once the demo owner is seeded: its availability answers.
        today = datetime.now(UTC).date()

        def free_times() -> requests.Response:
            return requests.get(f"{base}/availability", timeout=30, params={
                "owner": "demo-coach", "event_type": "intro", "start": today.isoformat(),
                "end": (today + timedelta(days=13)).isoformat(), "time_zone": "UTC"})

        assert _wait_for(lambda: proc.poll() is not None or free_times().ok, 90)
        assert proc.poll() is None, proc.communicate()[0]
        first = next(s for day in free_times().json()["days"].values() for s in day)
        booked = requests.post(f"{base}/book", timeout=60, json={
            "owner": "demo-coach", "event_type": "intro", "start": first, "name": "Lee",
            "email": "lee@example.org", "time_zone": "UTC"})
        assert booked.status_code == 201, booked.text
        booking_id = booked.json()["booking"]["id"]
        assert _wait_for(lambda: len(requests.get(mailbox, timeout=5).json()) == 2, 20)
        # The owner moves the meeting in Google Calendar an hour later; the push is lost.
        google = GoogleControl(google_url)
        google.flush_push()
        google.drop_pushes(1)
        start = datetime.fromisoformat(first) + timedelta(hours=1)
        google.move_event("coach@gmail.test", f"bk{booking_id}", start.isoformat(),
                          (start + timedelta(minutes=30)).isoformat())

        def told() -> bool:
            subjects = [m["subject"] for m in requests.get(mailbox, timeout=5).json()]
            return sum(s.startswith("Rescheduled") for s in subjects) >= 2

        assert _wait_for(told, 30), requests.get(mailbox, timeout=5).json()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert f"POST {base}/resync every 1 s" in out, out
