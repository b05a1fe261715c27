"""Work owed to the outside world (emails, Google writes), delivered exactly once unless a
worker dies between the send and the record of it (the one gap no outbox can close).

Gather, decide, apply, for each row on its own:
- claim: a transaction takes a lease on the row (see adapters/firestore_outbox);
- check: the booking the row was owed for is read again; work that the booking's later history
  made wrong is dropped and counted (domain/delivery), and a row waits for the rows it must
  follow;
- deliver, within a deadline shorter than the lease (HTTP timeouts included), so a slow worker
  cannot still be sending when another takes the row over;
- record, only if the lease is still ours.

Any exception of one row is that row's failure, never the drain's: it is retried with backoff up
to MAX_ATTEMPTS, then the row is dead-lettered (`failed`), listed for the owner and logged at
ERROR once. Our PermanentError dead-letters at once. `owe_email` tries at once, within the
caller's deadline; the scheduled `resync` drains whatever is still due.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from booking import log
from booking.adapters import firestore_outbox as rows
from booking.deadline import Deadline
from booking.domain.delivery import READS_BOOKING, stale_because, waiting_for
from booking.domain.email import Email
from booking.errors import AwaitingReconnect, ExternalError, PermanentError

MAX_ATTEMPTS = 12
# What one row may take: well inside its lease, so nobody else can be sending it meanwhile.
ROW_BUDGET = rows.LEASE.total_seconds() * 2 / 3
DRAIN_BUDGET = 240.0  # resync's function timeout is 300 s: stop taking rows well before it
WAIT = timedelta(seconds=30)  # how soon a row waiting for another looks again
RECONNECT_WAIT = timedelta(hours=1)  # a Google write waiting for a reconnect looks again
RESUME_NOW = 20  # Google writes a reconnect delivers at once; the rest go with the next resync
Deliver = Callable[[dict[str, Any], str, Deadline], dict[str, Any]]


@dataclass(frozen=True)
class OwedFor:
    """The booking version a row is owed for and its rule (see domain/delivery)."""

    owner_id: str
    booking_id: str
    sequence: int
    rule: str = "current"

    def to_dict(self) -> dict[str, Any]:
        return {"owner_id": self.owner_id, "booking_id": self.booking_id,
                "sequence": self.sequence, "rule": self.rule}


class Recorded(dict[str, Any]):
    """A handler's result that the handler recorded itself: it finished its row (conditional
    on the lease's WRITTEN time) in the commit that also wrote the work it owed next
    (calendar_writes.FirstWrite: the event, its booking and the confirmation emails in one
    request). The outbox writes nothing more for it."""


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes, at most 6 hours: 12 attempts span about a day."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def item_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _deliver_email(payload: dict[str, Any], key: str, deadline: Deadline) -> dict[str, Any]:
    from booking.adapters import sendgrid_mailer

    return {"message_id": sendgrid_mailer.send(Email.from_dict(payload), idempotency_key=key,
                                               deadline=deadline)}


# Each kind's handler is imported on first use: a function that only sends email never
# loads the Calendar client, and resync, which drains every kind, finds them all here.
_HANDLERS = {
    "email": ("booking.services.outbox", "_deliver_email"),
    "google_event": ("booking.services.calendar_writes", "deliver"),
    "conflict_check": ("booking.services.conflict_check", "deliver"),
}


def _handler(kind: str) -> Deliver:
    module, name = _HANDLERS[kind]
    handler: Deliver = getattr(importlib.import_module(module), name)
    return handler


def email_row_id(key: str) -> str:
    return item_id("email", key)


def email_row(key: str, owner_id: str, email: Email, now: datetime, *,
              owed_for: OwedFor | None = None,
              after: Sequence[str] = ()) -> tuple[str, dict[str, Any]]:
    """(id, row) of an owed email, for writing in the same commit as the change that owes it."""
    return email_row_id(key), rows.new_row(
        "email", owner_id, email.to_dict(), now,
        owed_for=owed_for.to_dict() if owed_for else None,
        after=[email_row_id(a) for a in after])


def owe_email(key: str, owner_id: str, email: Email, now: datetime, *,
              owed_for: OwedFor | None = None, after: Sequence[str] = (),
              deadline: Deadline | None = None, booking: dict[str, Any] | None = None) -> str:
    """Records the email as owed (once per key) and tries to send it now. `after` names the
    keys of emails that must reach the reader first. `booking`, if the caller has just read
    the booking the email is owed for, spares reading it again to see the email is still owed.

    The row is written already leased to this request (a claim in the same write); if the key
    was owed before, the row that is there is delivered as any other, if it is due."""
    oid, row = email_row(key, owner_id, email, now, owed_for=owed_for, after=after)
    claimed = rows.create(oid, rows.leased(row, now))
    deliver(oid, now, deadline, claimed=claimed, booking=booking if claimed else None)
    return oid


def deliver_written(leased: Sequence[tuple[str, dict[str, Any]]], written: Any, now: datetime,
                    deadline: Deadline | None, booking: dict[str, Any] | None = None) -> None:
    """Delivers at once rows the caller wrote leased to itself in a commit at `written`
    (their recipients differ: the caller waits for one send, not one each); `booking` as in
    deliver."""
    from booking import fanout

    fanout.run_all([functools.partial(deliver, oid, now, deadline, booking=booking,
                                      claimed={**row, rows.WRITTEN: written})
                    for oid, row in leased])


def deliver(oid: str, now: datetime, deadline: Deadline | None = None, *,
            claimed: dict[str, Any] | None = None, booking: dict[str, Any] | None = None,
            handler: Deliver | None = None) -> str:
    """Delivers one row if it is due; returns its status afterwards. Never raises: whatever
    goes wrong is this row's failure, recorded on it.

    A caller that wrote the row leased to itself passes it as `claimed` (no claim then), and
    may pass the booking it owes the row for as it just read it (`booking`) and the handler
    to use (one that already holds what it would read)."""
    row = claimed
    if row is None:
        try:
            row = rows.claim(oid, now)
        except Exception as exc:  # noqa: BLE001 - Firestore unreachable: the row stays due
            log.warning("outbox claim failed", outbox_id=oid,
                        error=f"{type(exc).__name__}: {exc}")
            return "pending"
    if row is None:
        current = rows.get(oid)
        return str(current["status"]) if current else "missing"
    budget = Deadline.within(ROW_BUDGET) if deadline is None else deadline.child(ROW_BUDGET)
    try:
        return _run(oid, row, now, budget, booking, handler)
    except Exception as exc:  # noqa: BLE001 - recording failed too: the lease runs out, retried
        log.warning("outbox row could not be recorded", outbox_id=oid,
                    error=f"{type(exc).__name__}: {exc}")
        return "pending"


def _run(oid: str, row: dict[str, Any], now: datetime, budget: Deadline,
         booking: dict[str, Any] | None = None, handler: Deliver | None = None) -> str:
    lease, written = str(row["lease"]), row.get(rows.WRITTEN)
    try:
        stale = _stale(row, booking)
        if stale:
            log.info("outbox item no longer owed", outbox_id=oid, kind=row["kind"],
                     owner=row["owner_id"], reason=stale)
            return "dropped" if rows.drop(oid, lease, now, stale, written=written) else "lost"
        waiting = waiting_for(row.get("after") or [], rows.statuses(row.get("after") or []))
        if waiting:
            # Not a failed attempt: it waits its turn behind the rows it must follow.
            rows.retry_later(oid, lease, now + WAIT, "waiting for an earlier email",
                             attempts=int(row["attempts"]) - 1, written=written)
            return "pending"
        result = (handler or _handler(row["kind"]))(row["payload"], oid, budget)
        if isinstance(result, Recorded):
            return "sent"
    except PermanentError as exc:
        return _give_up(row, oid, now, str(exc), exc)
    except AwaitingReconnect as exc:
        # Not a failed attempt either: nothing can succeed before the owner reconnects (they
        # were told), and reconnecting makes the row due at once (`resume_google_writes`).
        ok = rows.retry_later(oid, lease, now + RECONNECT_WAIT, str(exc),
                              attempts=int(row["attempts"]) - 1, written=written)
        return "pending" if ok else "lost"
    except Exception as exc:  # noqa: BLE001 - every other failure is this row's, and transient
        error = f"{type(exc).__name__}: {exc}"
        _tell_about_config(row, exc, now)
        if int(row["attempts"]) >= MAX_ATTEMPTS:
            return _give_up(row, oid, now, f"gave up after {row['attempts']} attempts: {error}",
                            exc)
        log.warning("outbox item will be retried", outbox_id=oid, kind=row["kind"],
                    attempts=row["attempts"], error=error)
        ok = rows.retry_later(oid, lease, now + backoff(int(row["attempts"])), error,
                              written=written)
        return "pending" if ok else "lost"
    if not rows.finish(oid, lease, now, result, written=written):
        log.warning("outbox lease lost before the record", outbox_id=oid, kind=row["kind"])
        return "lost"
    return "sent"


def _stale(row: dict[str, Any], booking: dict[str, Any] | None) -> str | None:
    owed = row.get("owed_for")
    if not owed or owed["rule"] not in READS_BOOKING:
        return None
    if booking is None or booking.get("id") != owed["booking_id"]:
        from booking.adapters import firestore_bookings
        from booking.services.stored import translated

        with translated():  # a booking gone meanwhile is recorded as the owner reads it
            booking = firestore_bookings.get(owed["owner_id"], owed["booking_id"])
    return stale_because(owed["rule"], int(owed["sequence"]), str(booking["status"]),
                         int(booking.get("sequence", 0)))


def _give_up(row: dict[str, Any], oid: str, now: datetime, error: str,
             exc: BaseException) -> str:
    """Dead-letters the row (once: only the lease holder can) and lets its kind say what must
    happen instead (a booking whose event cannot be made still gets its emails)."""
    if not rows.fail(oid, str(row["lease"]), now, error, written=row.get(rows.WRITTEN)):
        return "lost"
    log.error("outbox item failed for good", exc, outbox_id=oid, kind=row["kind"],
              owner=row["owner_id"], attempts=row["attempts"])
    module = importlib.import_module(_HANDLERS[row["kind"]][0])
    fallback = getattr(module, "give_up", None)
    if fallback is not None:
        try:
            fallback(row["payload"], error)
        except Exception as fallback_exc:  # noqa: BLE001 - the dead letter is recorded already
            log.error("outbox fallback failed", fallback_exc, outbox_id=oid)
    return "failed"


def _tell_about_config(row: dict[str, Any], exc: BaseException, now: datetime) -> None:
    """A refused SendGrid key or sender holds every email until someone fixes it: the owner
    (in the owner API) and the operator (one ERROR line) are told once."""
    if not (isinstance(exc, ExternalError) and exc.service == "sendgrid"
            and exc.status in (401, 403)):
        return
    what = "API key refused" if exc.status == 401 else "sender not verified"
    if rows.alert_once(row["owner_id"], f"sendgrid-{exc.status}",
                       {"service": "sendgrid", "status": exc.status, "message":
                        f"SendGrid refused our emails ({what}); they are kept and retried",
                        "at": now}):
        log.error("sendgrid refuses our emails; they are held and retried", exc,
                  owner=row["owner_id"], status=exc.status)


def drain(now: datetime, limit: int = 200, deadline: Deadline | None = None) -> dict[str, int]:
    """Delivers what is due, each row on its own budget, until `deadline` (the function's)."""
    budget = deadline if deadline is not None else Deadline.within(DRAIN_BUDGET)
    counts: dict[str, int] = {}
    for oid in rows.due(now, limit):
        if budget.remaining() < ROW_BUDGET / 4:
            break  # the rest stays due for the next resync
        status = deliver(oid, now, budget)
        counts[status] = counts.get(status, 0) + 1
    return counts


def resume_google_writes(owner_id: str, now: datetime,
                         deadline: Deadline | None = None) -> dict[str, int]:
    """After a reconnect: the owner's Google writes that waited for it (a cancellation's
    delete, a move) are due now, and the first few are delivered at once, so the owner's
    calendar catches up while they look at it instead of at the row's next look."""
    budget = deadline if deadline is not None else Deadline.within(ROW_BUDGET)
    counts: dict[str, int] = {}
    for i, oid in enumerate(rows.make_due(owner_id, "google_event", now)):
        if i >= RESUME_NOW or budget.remaining() < ROW_BUDGET / 4:
            break
        status = deliver(oid, now, budget)
        counts[status] = counts.get(status, 0) + 1
    return counts


def failed_for_owner(owner_id: str) -> list[dict[str, Any]]:
    """What could not be delivered for good: the owner's view of the outbox."""
    return [{"id": f["id"], "kind": f["kind"], "error": f.get("last_error"),
             "attempts": f.get("attempts"), "at": f.get("done_at")}
            for f in rows.failed_for_owner(owner_id)]


def alerts_for_owner(owner_id: str) -> list[dict[str, Any]]:
    """Problems the owner should know of that hold deliveries (a refused SendGrid key)."""
    return [{"service": a.get("service"), "status": a.get("status"),
             "message": a.get("message"), "at": a.get("at")}
            for a in rows.alerts_for_owner(owner_id)]
