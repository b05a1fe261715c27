"""The README's first command, in its checking mode: every function answers through its URL,
and a guest books the seeded demo owner through the same functions and gets the emails."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.e2e.conftest import still_there
from tests.standins.firestore_emulator import free_port


def test_local_stack_seeds_answers_health_and_takes_a_demo_booking(
        firestore_host: str, first_runs_owner: str) -> None:
    """On an emulator it did not start (FIRESTORE_EMULATOR_HOST), the run works in a project of
    its own: what another run keeps there survives."""
    ports = [str(free_port()) for _ in range(4)]
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": firestore_host}
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.local_stack", "--check", "--port", ports[0],
         "--google-port", ports[1], "--secret-manager-port", ports[2],
         "--sendgrid-port", ports[3]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "/_health" in line]
    for name in ("oauth_start", "oauth_callback", "owner", "google_notifications", "resync",
                 "availability", "book", "cancel", "reschedule"):
        assert any(line.startswith("ok") and f"/{name}/_health" in line for line in lines), lines
    assert not any(line.startswith("FAIL") for line in proc.stdout.splitlines())
    assert any(line.startswith("ok") and "demo booking" in line and "2 emails" in line
               for line in proc.stdout.splitlines()), proc.stdout
    # The printed command made another owner with none of the run's variables in its shell.
    assert any(line.startswith("ok") and "another owner with: .venv/bin/python -m scripts.owner "
               f"--local {ports[0]} create" in line for line in proc.stdout.splitlines())
    assert still_there(firestore_host, first_runs_owner)
    assert not (ROOT / ".local" / f"run-{ports[0]}.json").exists()
