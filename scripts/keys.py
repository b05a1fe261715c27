"""The setup command for our signing keys (one keyring per purpose, booking.adapters.signing_keys).

    python -m scripts.keys create                       create every keyring that is missing
    python -m scripts.keys rotate PURPOSE [--grace-hours H]
    python -m scripts.keys show                         key ids and dates, never the keys

Run with GOOGLE_CLOUD_PROJECT set and Application Default Credentials of someone who may add
secret versions (README, Deploying). The keys go straight to Secret Manager from here, so they
never pass through Terraform or its state. The local run and the tests create them with this
same code.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "functions"))

# How long the previous key still verifies after a rotation, per purpose: as long as what it
# signed may legitimately live (a session 12 h, an OAuth attempt 10 min, a push channel 7 days;
# a guest's link lives until the meeting, so links get the booking window's 90 days).
GRACE_HOURS = {"sessions": 12, "oauth": 1, "channels": 8 * 24, "links": 90 * 24}


def _new_entry(purpose: str, now: int) -> dict[str, object]:
    from booking.domain import keyrings

    kid = time.strftime("%Y%m%d", time.gmtime(now)) + "-" + secrets.token_hex(3)
    return keyrings.new_entry(kid, secrets.token_bytes(32), now)


def _current(purpose: str) -> list[dict[str, object]] | None:
    from booking.adapters import secrets as secret_store
    from booking.adapters import signing_keys
    from booking.domain import keyrings
    from booking.errors import PermanentError

    try:
        return keyrings.parse(secret_store.get(signing_keys.secret_id(purpose)))
    except PermanentError:
        return None


def create_missing() -> list[str]:
    """Creates the keyrings that do not exist yet; returns their purposes."""
    from booking.adapters import secrets as secret_store
    from booking.adapters import signing_keys
    from booking.domain import keyrings

    created = []
    for purpose in signing_keys.PURPOSES:
        if _current(purpose) is None:
            entry = _new_entry(purpose, int(time.time()))
            secret_store.put(signing_keys.secret_id(purpose), keyrings.dump([entry]))
            created.append(purpose)
    return created


def rotate(purpose: str, grace_hours: float | None = None) -> str:
    """A new current key for `purpose`; the previous one verifies for the grace period.
    Returns the new key id."""
    from booking.adapters import secrets as secret_store
    from booking.adapters import signing_keys
    from booking.domain import keyrings

    if purpose not in signing_keys.PURPOSES:
        raise SystemExit(f"unknown purpose {purpose!r}: one of {', '.join(signing_keys.PURPOSES)}")
    entries = _current(purpose)
    if entries is None:
        raise SystemExit(f"{signing_keys.secret_id(purpose)} does not exist: run `create` first")
    now = int(time.time())
    grace = GRACE_HOURS[purpose] if grace_hours is None else grace_hours
    new = _new_entry(purpose, now)
    rotated = keyrings.rotate(entries, new, now=now, grace_seconds=int(grace * 3600))
    secret_store.put(signing_keys.secret_id(purpose), keyrings.dump(rotated))
    return str(new["id"])


def main(argv: list[str]) -> int:
    from booking.adapters import signing_keys

    parser = argparse.ArgumentParser(prog="python -m scripts.keys", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create")
    rot = sub.add_parser("rotate")
    rot.add_argument("purpose", choices=signing_keys.PURPOSES)
    rot.add_argument("--grace-hours", type=float, default=None)
    sub.add_parser("show")
    args = parser.parse_args(argv)
    if args.command == "create":
        made = create_missing()
        print("created: " + (", ".join(made) if made else "nothing (all keyrings exist)"))
    elif args.command == "rotate":
        print(f"{args.purpose}: new key {rotate(args.purpose, args.grace_hours)}")
    else:
        for purpose in signing_keys.PURPOSES:
            entries = _current(purpose) or []
            print(purpose, " ".join(
                f"{e['id']}" + (f"(retires {e['retire_at']})" if "retire_at" in e else "(current)")
                for e in entries) or "MISSING")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
