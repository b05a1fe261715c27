"""The whole system on this machine: Firestore emulator, the Google / Secret Manager / SendGrid
stand-ins, every function on one port, and a seeded demo owner. Ctrl-C stops everything.

    scripts/run-local            (sets up .venv, then runs this)

Other runs may share the machine, so a run takes only ports that are free (and says which flag
moves it when one is not), wipes only an emulator it started itself, and, given someone else's
emulator through FIRESTORE_EMULATOR_HOST, works in a project of its own there. It writes its
environment to .local/run-PORT.json (owner-only, removed on exit) so that
`python -m scripts.owner --local PORT create ...` needs no variables set by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import signal
import socket
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "functions"))

from tests.standins.firestore_emulator import EmulatorMissing, FirestoreEmulator  # noqa: E402
from tests.standins.server import StandinServer  # noqa: E402

PROJECT = "demo-booking-local"
CLIENT_ID = "local-client.apps.googleusercontent.com"
CLIENT_SECRET = secrets.token_urlsafe(24)
SENDGRID_KEY = "SG.local-" + secrets.token_urlsafe(12)
DEMO_MAIL_FROM = "bookings@demo.test"
DEMO_OWNER = "demo-coach"
# What a run sets; the owner command must find them in the run's file, not in the caller's shell.
_ENV_NAMES = ("GOOGLE_CLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST", "SECRET_MANAGER_ENDPOINT",
              "FUNCTION_BASE_URL", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "MAIL_FROM",
              "SENDGRID_API_KEY", "SENDGRID_HOST")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--google-port", type=int, default=8090)
    parser.add_argument("--secret-manager-port", type=int, default=8091)
    parser.add_argument("--sendgrid-port", type=int, default=8092)
    parser.add_argument("--firestore-port", type=int, default=8089)
    parser.add_argument("--resync-seconds", type=float, default=60,
                        help="call resync this often, as Cloud Scheduler does when deployed "
                             "(reminders, retries, channel renewal, the sync that catches lost "
                             "pushes); 0 = never")
    parser.add_argument("--no-seed", action="store_true", help="start empty")
    parser.add_argument("--check", action="store_true",
                        help="start, check every function's health, then stop (for CI)")
    args = parser.parse_args()

    firestore_host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    taken = ports_in_use(_wanted_ports(args, start_emulator=not firestore_host))
    if taken:
        for flag, port in taken:
            print(f"error: port {port} ({flag}) is already in use, perhaps by another "
                  f"scripts/run-local; nothing was started. Pick a free one: {flag} N",
                  file=sys.stderr)
        return 2
    # Our own emulator starts empty; on someone else's we keep out of their project.
    project = PROJECT if not firestore_host else f"{PROJECT}-{secrets.token_hex(4)}"
    started: list[object] = []
    emulator = None
    env_file = None
    try:
        if not firestore_host:
            print("starting the Firestore emulator ...", flush=True)
            try:
                emulator = FirestoreEmulator(args.firestore_port).start()
            except EmulatorMissing as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            firestore_host = emulator.host

        from tests.standins.google import GoogleStandin
        from tests.standins.secret_manager import SecretManagerStandin
        from tests.standins.sendgrid import SendGridStandin

        google = StandinServer(GoogleStandin(), args.google_port).start()
        secret_manager = StandinServer(SecretManagerStandin(), args.secret_manager_port).start()
        # The demo's sender is a verified Sender Identity, as it must be at SendGrid.
        sendgrid = StandinServer(
            SendGridStandin(api_key=SENDGRID_KEY, verified_senders=[DEMO_MAIL_FROM]),
            args.sendgrid_port,
        ).start()
        started += [google, secret_manager, sendgrid]
        base = f"http://127.0.0.1:{args.port}"
        env = {
            "GOOGLE_CLOUD_PROJECT": project,
            "FIRESTORE_EMULATOR_HOST": firestore_host,
            "SECRET_MANAGER_ENDPOINT": secret_manager.url,
            "SENDGRID_HOST": sendgrid.url,
            "SENDGRID_API_KEY": SENDGRID_KEY,
            "MAIL_FROM": DEMO_MAIL_FROM,
            "MAIL_FROM_NAME": "Demo Bookings",
            "FUNCTION_BASE_URL": base,
            "GOOGLE_CLIENT_ID": CLIENT_ID,
            "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "GOOGLE_AUTH_URI": f"{google.url}/o/oauth2/v2/auth",
            "GOOGLE_TOKEN_URI": f"{google.url}/token",
            "GOOGLE_REVOKE_URI": f"{google.url}/revoke",
            "GOOGLE_CERTS_URI": f"{google.url}/oauth2/v1/certs",
            "GOOGLE_ISSUER": google.url,
            "GOOGLE_CALENDAR_ENDPOINT": f"{google.url}/calendar/v3/",
        }
        os.environ.update(env)
        google.app.register_client(CLIENT_ID, CLIENT_SECRET, [f"{base}/oauth_callback"])

        from scripts.functions_host import create_host, function_names
        from tests.standins.calendar_page import CalendarPage

        host = StandinServer(create_host(extra={
            "/_demo": _demo_page, "/_calendar": CalendarPage(google.url)}), args.port).start()
        started.append(host)

        from scripts import seed

        env_file = write_env_file(args.port, env)
        api_key = None if args.no_seed else seed.seed_demo(google.url, base, DEMO_OWNER)
        if args.check:
            return _check(base, function_names(), sendgrid.url, seeded=api_key is not None,
                          port=args.port)
        _print_urls(base, google.url, sendgrid.url, firestore_host, api_key, args.port)
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        if args.resync_seconds > 0:
            print(f"  Scheduler              POST {base}/resync every {args.resync_seconds:g} s "
                  "(Cloud Scheduler's job when deployed)\n", flush=True)
        run_schedule(f"{base}/resync", args.resync_seconds, stop)
        print("\nstopping ...", flush=True)
        return 0
    finally:
        for server in reversed(started):
            server.stop()  # type: ignore[attr-defined]
        if emulator is not None:
            emulator.stop()
        if env_file is not None:
            env_file.unlink(missing_ok=True)


def run_schedule(resync_url: str, every: float, stop: threading.Event) -> None:
    """Until `stop`: what Cloud Scheduler does for a deployment, calling resync on a timer.
    Without it a local run would never send a reminder, retry an email, renew a push channel
    or catch a lost push."""
    import requests

    while not stop.wait(every if every > 0 else None):
        try:
            resp = requests.post(resync_url, timeout=300)
            if resp.status_code != 200:
                print(f"resync answered {resp.status_code}", file=sys.stderr, flush=True)
        except requests.RequestException as exc:
            print(f"resync failed: {exc}", file=sys.stderr, flush=True)


def _wanted_ports(args: argparse.Namespace, *, start_emulator: bool) -> list[tuple[str, int]]:
    wanted = [("--port", args.port), ("--google-port", args.google_port),
              ("--secret-manager-port", args.secret_manager_port),
              ("--sendgrid-port", args.sendgrid_port)]
    if start_emulator:
        wanted.append(("--firestore-port", args.firestore_port))
    return wanted


def ports_in_use(wanted: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The (flag, port) pairs that something already listens on, or that we cannot bind.

    A port another run holds must stop us before anything starts: the emulator's own start
    would otherwise find the other run's emulator answering on it and take it for its own.
    """
    taken = []
    for flag, port in wanted:
        if port == 0:
            continue
        with socket.socket() as sock:
            # As our servers do: connections of a run that just stopped (TIME_WAIT) do not
            # hold the port, while anything listening on it still does.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                taken.append((flag, port))
    return taken


def env_file_path(port: int) -> Path:
    return ROOT / ".local" / f"run-{port}.json"


def write_env_file(port: int, env: dict[str, str]) -> Path:
    """The run's environment for scripts.owner --local; it holds local stand-in keys only."""
    path = env_file_path(port)
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(env, fh, indent=1)
    return path


def owner_command(port: int) -> list[str]:
    """The printed ready-to-run command that creates another owner in this run."""
    return [".venv/bin/python", "-m", "scripts.owner", "--local", str(port), "create",
            "ana", "Ana Novak", "ana@example.test", "Europe/Ljubljana"]


DEMO_PAGE = Path(__file__).with_name("demo_booking.html")


def _demo_page(environ: dict[str, object], start_response: Any) -> list[bytes]:
    body = DEMO_PAGE.read_bytes()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]


def _check(base: str, names: list[str], mailbox: str, *, seeded: bool, port: int) -> int:
    """Every function's health, then (when seeded) one booking through the demo's path."""
    import requests

    failed = 0
    for name in names:
        resp = requests.get(f"{base}/{name}/_health", timeout=10)
        ok = resp.status_code == 200 and resp.json().get("function") == name
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {base}/{name}/_health -> {resp.status_code}")
    import subprocess

    cmd = owner_command(port)
    made = subprocess.run([sys.executable, *cmd[1:]], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={k: v for k, v in os.environ.items()
                                           if k not in _ENV_NAMES})
    made_ok = made.returncode == 0 and len(made.stdout.strip()) > 20
    failed += not made_ok
    print(f"{'ok  ' if made_ok else 'FAIL'} another owner with: {shlex.join(cmd)}"
          f"{'' if made_ok else ' -> ' + made.stderr.strip()}")
    if not seeded:
        return 1 if failed else 0
    demo = requests.get(f"{base}/_demo/", timeout=10)
    today = datetime.now(UTC).date()
    slots = requests.get(f"{base}/availability", timeout=30, params={
        "owner": DEMO_OWNER, "event_type": "intro", "start": today.isoformat(),
        "end": (today + timedelta(days=13)).isoformat(), "time_zone": "America/New_York"})
    first = next(s for day in slots.json().get("days", {}).values() for s in day)
    booked = requests.post(f"{base}/book", timeout=60, json={
        "owner": DEMO_OWNER, "event_type": "intro", "start": first, "name": "Check Guest",
        "email": "check@example.org", "time_zone": "America/New_York"})
    mails = requests.get(f"{mailbox}/_mailbox.json", timeout=10).json()
    ok = demo.status_code == 200 and booked.status_code == 201 and len(mails) == 2
    print(f"{'ok  ' if ok else 'FAIL'} demo booking at {first} -> {booked.status_code}, "
          f"{len(mails)} emails in the mailbox")
    return 1 if failed or not ok else 0


def _print_urls(base: str, google: str, sendgrid: str, firestore: str,
                api_key: str | None, port: int) -> None:
    print(f"""
The booking backend is running ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC). Open:

  Book as a guest        {base}/book/{DEMO_OWNER}/intro
  Owner sign-in          {base}/owner/login
  Google Calendar        {base}/_calendar/   (act as the owner in Google Calendar)
  Demo booking form      {base}/_demo/   (a form on another site, through the JSON functions)
  Integration page       {base}/owner/integrations
  Mailbox (SendGrid)     {sendgrid}/_mailbox
  Google stand-in        {google}/_control/accounts
  Functions              {base}/<name>   (health: {base}/<name>/_health)
  Firestore emulator     {firestore}
""")
    if api_key:
        print(f"  Demo owner '{DEMO_OWNER}' API key (sign in with it):\n    {api_key}\n")
        print("  Google accounts to connect: coach@gmail.test (already connected), "
              "coach.work@example.test\n")
    print(f"  Another owner (prints its API key):\n    {shlex.join(owner_command(port))}\n")
    print("Ctrl-C stops everything.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
