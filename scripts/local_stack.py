"""The whole system on this machine: Firestore emulator, the Google / Secret Manager / SendGrid
stand-ins, every function on one port, and a seeded demo owner. Ctrl-C stops everything.

    scripts/run-local            (sets up .venv, then runs this)
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
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
DEMO_OWNER = "demo-coach"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--google-port", type=int, default=8090)
    parser.add_argument("--secret-manager-port", type=int, default=8091)
    parser.add_argument("--sendgrid-port", type=int, default=8092)
    parser.add_argument("--firestore-port", type=int, default=8089)
    parser.add_argument("--no-seed", action="store_true", help="start empty")
    parser.add_argument("--check", action="store_true",
                        help="start, check every function's health, then stop (for CI)")
    args = parser.parse_args()

    started: list[object] = []
    emulator = None
    firestore_host = os.environ.get("FIRESTORE_EMULATOR_HOST")
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
        sendgrid = StandinServer(SendGridStandin(api_key=SENDGRID_KEY), args.sendgrid_port).start()
        started += [google, secret_manager, sendgrid]
        base = f"http://127.0.0.1:{args.port}"
        env = {
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "FIRESTORE_EMULATOR_HOST": firestore_host,
            "SECRET_MANAGER_ENDPOINT": secret_manager.url,
            "SENDGRID_HOST": sendgrid.url,
            "SENDGRID_API_KEY": SENDGRID_KEY,
            "MAIL_FROM": "bookings@demo.test",
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

        host = StandinServer(create_host(extra={"/_demo": _demo_page}), args.port).start()
        started.append(host)

        from scripts import seed
        from tests.standins.firestore_emulator import reset

        # The local run starts from a clean slate, even on an emulator that outlives it.
        reset(firestore_host, PROJECT)

        api_key = None if args.no_seed else seed.seed_demo(google.url, base, DEMO_OWNER)
        if args.check:
            return _check(base, function_names(), sendgrid.url, seeded=api_key is not None)
        _print_urls(base, google.url, sendgrid.url, firestore_host, api_key)
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()
        print("\nstopping ...", flush=True)
        return 0
    finally:
        for server in reversed(started):
            server.stop()  # type: ignore[attr-defined]
        if emulator is not None:
            emulator.stop()


DEMO_PAGE = Path(__file__).with_name("demo_booking.html")


def _demo_page(environ: dict[str, object], start_response: Any) -> list[bytes]:
    body = DEMO_PAGE.read_bytes()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]


def _check(base: str, names: list[str], mailbox: str, *, seeded: bool) -> int:
    """Every function's health, then (when seeded) one booking through the demo's path."""
    import requests

    failed = 0
    for name in names:
        resp = requests.get(f"{base}/{name}/_health", timeout=10)
        ok = resp.status_code == 200 and resp.json().get("function") == name
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {base}/{name}/_health -> {resp.status_code}")
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
                api_key: str | None) -> None:
    print(f"""
The booking backend is running ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC). Open:

  Book as a guest        {base}/_demo/
  Owner sign-in          {base}/owner/login
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
    print("Ctrl-C stops everything.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
