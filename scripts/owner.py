"""Owners from a shell: create one, rotate or revoke its API keys. A key is printed once (only a
hash is stored).

    python -m scripts.owner create demo-coach "Demo Coach" coach@example.com Europe/Ljubljana
    python -m scripts.owner rotate-key demo-coach    (a new key; the others and their sessions end)
    python -m scripts.owner revoke-key demo-coach KEY_ID

Reads the same environment as the functions (GOOGLE_CLOUD_PROJECT, ...); with `--local PORT` it
takes that environment from the `scripts/run-local` serving on PORT instead:

    python -m scripts.owner --local 8080 create ana "Ana Novak" ana@example.test Europe/Ljubljana
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "functions"))


def main(argv: list[str] | None = None) -> int:
    from booking.errors import BookingError
    from booking.services import owners

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", type=int, metavar="PORT",
                        help="use the environment of the scripts/run-local on PORT")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create an owner and print its API key")
    create.add_argument("owner_id")
    create.add_argument("name")
    create.add_argument("email")
    create.add_argument("time_zone")
    rotate = sub.add_parser("rotate-key", help="a new API key; revoke all the others")
    rotate.add_argument("owner_id")
    revoke = sub.add_parser("revoke-key", help="revoke one API key (and its sessions)")
    revoke.add_argument("owner_id")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    if args.local is not None:
        env_file = Path(__file__).resolve().parent.parent / ".local" / f"run-{args.local}.json"
        if not env_file.exists():
            print(f"error: no scripts/run-local is running on port {args.local} "
                  f"({env_file} is missing)", file=sys.stderr)
            return 2
        os.environ.update(json.loads(env_file.read_text()))
    now = datetime.now(UTC)
    try:
        if args.command == "create":
            print(owners.create_owner(args.owner_id, args.name, args.email, args.time_zone, now))
            return 0
        from booking.adapters import firestore_owners

        auth = owners.Authenticated(firestore_owners.get_owner(args.owner_id), key_id="")
        if args.command == "rotate-key":
            made = owners.create_key(auth, now, replace_all=True)
            print(made["api_key"])
            print(f"revoked: {', '.join(made['revoked']) or 'none'}", file=sys.stderr)
        else:
            owners.revoke_key(auth, args.key_id)
            print(f"revoked {args.key_id}", file=sys.stderr)
    except BookingError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
