"""A second local run must not hurt the first: it refuses ports in use before starting anything,
and never wipes a Firestore emulator it did not start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from tests.conftest import ROOT
from tests.e2e.conftest import still_there
from tests.standins.firestore_emulator import free_port


def test_second_run_on_taken_ports_exits_clearly_and_first_runs_data_is_intact(
        firestore_host: str, first_runs_owner: str) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        emulator_port = firestore_host.rsplit(":", 1)[1]
        env = {k: v for k, v in os.environ.items() if k != "FIRESTORE_EMULATOR_HOST"}
        proc = subprocess.run(
            [sys.executable, "-m", "scripts.local_stack", "--port", str(taken),
             "--firestore-port", emulator_port, "--google-port", str(free_port()),
             "--secret-manager-port", str(free_port()), "--sendgrid-port", str(free_port())],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"port {taken} (--port) is already in use" in proc.stderr
    assert f"port {emulator_port} (--firestore-port) is already in use" in proc.stderr
    assert "starting" not in proc.stdout
    assert still_there(firestore_host, first_runs_owner)
