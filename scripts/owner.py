"""Creates an owner and prints its API key once (only a hash is stored).

    python -m scripts.owner create demo-coach "Demo Coach" coach@example.com Europe/Ljubljana

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
    args = parser.parse_args(argv)
    if args.local is not None:
        env_file = Path(__file__).resolve().parent.parent / ".local" / f"run-{args.local}.json"
        if not env_file.exists():
            print(f"error: no scripts/run-local is running on port {args.local} "
                  f"({env_file} is missing)", file=sys.stderr)
            return 2
        os.environ.update(json.loads(env_file.read_text()))
    try:
        key = owners.create_owner(args.owner_id, args.name, args.email, args.time_zone,
                                  datetime.now(UTC))
    except BookingError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
