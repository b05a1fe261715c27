"""Starts and stops the Google Cloud CLI's Firestore emulator, and wipes it between tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


class EmulatorMissing(RuntimeError):
    """The machine cannot run the Firestore emulator; the message says what to install."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_available() -> None:
    if shutil.which("java") is None:
        raise EmulatorMissing(
            "Java is missing: the Firestore emulator needs a Java runtime "
            "(apt-get install default-jre-headless)"
        )
    if shutil.which("gcloud") is None:
        raise EmulatorMissing(
            "the Google Cloud CLI (gcloud) is missing; install it with the "
            "cloud-firestore-emulator component"
        )


class FirestoreEmulator:
    """`gcloud emulators firestore start` in its own process group, so stop() ends java too."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.host = f"127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the emulator
            prefix="firestore-emulator-", suffix=".log"
        )

    def start(self, timeout: float = 90.0) -> FirestoreEmulator:
        check_available()
        self._proc = subprocess.Popen(
            ["gcloud", "emulators", "firestore", "start", f"--host-port={self.host}", "--quiet"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EmulatorMissing(f"the Firestore emulator exited early:\n{self.log_text()}")
            if ping(self.host):
                return self
            time.sleep(0.2)
        self.stop()
        raise EmulatorMissing(f"the Firestore emulator did not start in {timeout:.0f}s")

    def log_text(self) -> str:
        with open(self._log.name, encoding="utf-8", errors="replace") as fh:
            return fh.read()[-4000:]

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        pgid = os.getpgid(self._proc.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self._proc.wait(timeout=5)
        # gcloud's wrapper may exit before its java child does.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


def ping(host: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}/", timeout=1) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def reset(host: str, project: str) -> None:
    """Deletes every document of `project` in the emulator (its documented reset endpoint)."""
    req = urllib.request.Request(
        f"http://{host}/emulator/v1/projects/{project}/databases/(default)/documents",
        method="DELETE",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()
