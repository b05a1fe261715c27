"""Work owed to the outside world, delivered at least once and, short of a crash between the
send and the record of it, exactly once.

Gather, decide, apply: a row is leased in a transaction (so two workers never send it together),
delivered, then marked sent; a transient failure puts it back with a backoff, a permanent one
marks it failed for the owner to see. `owe_email` tries at once; the scheduled `resync` drains
whatever is still due.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from booking import log
from booking.adapters import firestore_outbox as rows
from booking.domain.email import Email
from booking.errors import ExternalError, PermanentError

MAX_ATTEMPTS = 12
Deliver = Callable[[dict[str, Any], str], dict[str, Any]]


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes, at most 6 hours: 12 attempts span about a day."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def item_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _deliver_email(payload: dict[str, Any], key: str) -> dict[str, Any]:
    from booking.adapters import sendgrid_mailer

    return {"message_id": sendgrid_mailer.send(Email.from_dict(payload), idempotency_key=key)}


# Each kind's handler is imported on first use: a function that only sends email never
# loads the Calendar client, and resync, which drains every kind, finds them all here.
_HANDLERS = {
    "email": ("booking.services.outbox", "_deliver_email"),
    "google_event": ("booking.services.calendar_writes", "deliver"),
    "conflict_check": ("booking.services.conflict_check", "deliver"),
}


def _handler(kind: str) -> Deliver:
    import importlib

    module, name = _HANDLERS[kind]
    handler: Deliver = getattr(importlib.import_module(module), name)
    return handler


def email_row_id(key: str) -> str:
    return item_id("email", key)


def owe_email(key: str, owner_id: str, email: Email, now: datetime) -> str:
    """Records the email as owed (once per key) and tries to send it now."""
    oid = email_row_id(key)
    rows.add(oid, "email", owner_id, email.to_dict(), now)
    deliver_now(oid, now)
    return oid


INLINE_DEADLINE = 5.0  # seconds a person's request waits for an outside service


def deliver_now(oid: str, now: datetime) -> str:
    """The first try, inside a person's request: short retries; resync keeps the long ones."""
    from booking.adapters import google_calendar

    with google_calendar.deadline(INLINE_DEADLINE):
        return deliver(oid, now)


def deliver(oid: str, now: datetime) -> str:
    """Delivers one row if it is due; returns its status afterwards."""
    row = rows.claim(oid, now)
    if row is None:
        current = rows.get(oid)
        return str(current["status"]) if current else "missing"
    handler = _handler(row["kind"])
    try:
        result = handler(row["payload"], oid)
    except PermanentError as exc:
        log.error("outbox item failed for good", exc, outbox_id=oid, kind=row["kind"],
                  owner=row["owner_id"])
        _give_up(row, oid, now, str(exc))
        return "failed"
    except ExternalError as exc:
        if row["attempts"] >= MAX_ATTEMPTS:
            _give_up(row, oid, now, f"gave up after {row['attempts']} attempts: {exc}")
            return "failed"
        log.warning("outbox item will be retried", outbox_id=oid, kind=row["kind"],
                    attempts=row["attempts"], error=str(exc))
        rows.retry_later(oid, now + backoff(row["attempts"]), str(exc))
        return "pending"
    rows.finish(oid, now, result)
    return "sent"


def _give_up(row: dict[str, Any], oid: str, now: datetime, error: str) -> None:
    """Records the failure for the owner; a kind may also say what must happen instead
    (a booking whose event cannot be made still gets its emails)."""
    import importlib

    rows.fail(oid, now, error)
    module = importlib.import_module(_HANDLERS[row["kind"]][0])
    fallback = getattr(module, "give_up", None)
    if fallback is not None:
        fallback(row["payload"], error)


def drain(now: datetime, limit: int = 200) -> dict[str, int]:
    counts: dict[str, int] = {}
    for oid in rows.due(now, limit):
        status = deliver(oid, now)
        counts[status] = counts.get(status, 0) + 1
    return counts


def failed_for_owner(owner_id: str) -> list[dict[str, Any]]:
    """What could not be delivered for good: the owner's view of the outbox."""
    return [{"id": f["id"], "kind": f["kind"], "error": f.get("last_error"),
             "attempts": f.get("attempts"), "at": f.get("done_at")}
            for f in rows.failed_for_owner(owner_id)]
