"""Firestore: the durable outbox of work owed to the outside world (emails, Google writes).

    outbox/{id}   kind, owner_id, payload,
                  owed_for {booking_id, sequence, rule}   the booking version it was owed for
                  after [row ids]     rows that must be finished first (order within a booking)
                  status   pending | sending | sent | failed (dead letter) | dropped (stale)
                  attempts, due_at (only while pending or sending: the drain's one-field query),
                  lease (a token), lease_until, last_error, created_at, done_at

The id is derived from what is owed (booking, kind, recipient), so owing the same thing twice
finds the row that is already there instead of adding a second.

A claim is a transaction that takes a lease: a fresh token, and `due_at` moved to the lease's
end, so a row whose worker died is claimed again once the lease ran out, and a row that keeps
failing sinks behind the others instead of being the first every drain meets. Every later write
of the row (sent, retry, dead letter, dropped) is made only while the lease is still ours: one
write conditional on the lease holder's own last write time (WRITTEN; a booking's first
delivery makes it in the commit that records its event, firestore_bookings.record), else a
transaction that looks at the lease. A worker that overran its lease learns it lost the row and
records nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from booking import clients

LEASE = timedelta(seconds=90)
DONE = frozenset({"sent", "failed", "dropped"})


def _col() -> Any:
    return clients.firestore().collection("outbox")


def new_row(kind: str, owner_id: str, payload: dict[str, Any], now: datetime, *,
            owed_for: dict[str, Any] | None = None, after: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "kind": kind,
        "owner_id": owner_id,
        "payload": payload,
        "owed_for": owed_for,
        "after": list(after),
        "status": "pending",
        "attempts": 0,
        "due_at": now,
        "lease": None,
        "lease_until": None,
        "last_error": None,
        "created_at": now,
        "done_at": None,
    }


def leased(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The row as a claim would leave it: for a row its writer delivers at once, so the
    commit that owes it also claims it (one write, not a write and a claim)."""
    return {**row, **_lease(now, 0)}


def _lease(now: datetime, attempts: int) -> dict[str, Any]:
    return {"status": "sending", "lease": uuid.uuid4().hex, "lease_until": now + LEASE,
            "due_at": now + LEASE, "attempts": attempts + 1}


def add(item_id: str, row: dict[str, Any]) -> bool:
    """Adds the row unless it exists; True when this call added it."""
    return create(item_id, row) is not None


def create(item_id: str, row: dict[str, Any]) -> dict[str, Any] | None:
    """Adds the row unless it exists: the row as written (with its write time under WRITTEN,
    for the lease holder's later writes), or None if it was there already."""
    from google.api_core.exceptions import AlreadyExists

    try:
        result = _col().document(item_id).create(row)
    except AlreadyExists:
        return None
    return {**row, WRITTEN: result.update_time}


# Not a field: the time the lease holder last wrote the row, carried in the row it holds. Its
# next write is conditional on that time (one request); see _if_leased.
WRITTEN = "_written"


def claim(item_id: str, now: datetime) -> dict[str, Any] | None:
    """Leases a due row for one worker; None if it is done, not due, or leased by another.
    The row returned carries its `lease` token, which every later write must present.

    Optimistic, as the ledger is: read, then write on the condition that the row has not
    changed since (two requests instead of a transaction's three); a lost race re-reads."""
    from google.api_core import exceptions as gexc

    db = clients.firestore()
    doc = _col().document(item_id)
    for _ in range(3):
        snap = doc.get()
        if not snap.exists:
            return None
        data: dict[str, Any] = snap.to_dict()
        if data["status"] in DONE:
            return None
        if data.get("due_at") and data["due_at"] > now:
            return None  # not due yet, or leased to a worker whose lease still runs
        change = _lease(now, int(data.get("attempts", 0)))
        try:
            result = doc.update(change, option=db.write_option(last_update_time=snap.update_time))
        except (gexc.FailedPrecondition, gexc.NotFound):
            continue  # changed (or claimed) meanwhile: look again
        return {**data, **change, WRITTEN: result.update_time}
    return None


# `expire_at` is the collection's TTL field (infra/firestore.tf): a row is kept long enough to
# keep its key from being owed twice (bookings are made at most 90 days ahead) and for the owner
# to see a failure, then Firestore deletes it. Pending rows carry none and stay until done.
KEEP_SENT = timedelta(days=180)
KEEP_FAILED = timedelta(days=365)


def _if_leased(item_id: str, lease: str, change: dict[str, Any],
               written: Any = None) -> bool:
    """Writes `change` if the row is still leased with `lease`; False if another worker took it
    over (our lease ran out) or it was finished meanwhile.

    `written` is when we last wrote the row (the claim): if nobody wrote it since, it is still
    ours, and one conditional write does. Otherwise a transaction looks at the lease itself."""
    from google.api_core import exceptions as gexc
    from google.cloud import firestore as fs

    db = clients.firestore()
    doc = _col().document(item_id)
    if written is not None:
        try:
            doc.update(change, option=db.write_option(last_update_time=written))
        except (gexc.FailedPrecondition, gexc.NotFound):
            pass  # written by someone since: only the lease itself can tell
        else:
            return True

    @fs.transactional  # type: ignore[untyped-decorator]
    def run(tx: Any) -> bool:
        snap = doc.get(transaction=tx)
        data = snap.to_dict() if snap.exists else None
        if not data or data.get("status") != "sending" or data.get("lease") != lease:
            return False
        tx.update(doc, change)
        return True

    return bool(run(db.transaction()))


def _closed(status: str, now: datetime, **fields: Any) -> dict[str, Any]:
    from google.cloud import firestore as fs

    keep = KEEP_FAILED if status == "failed" else KEEP_SENT
    return {"status": status, "done_at": now, "due_at": fs.DELETE_FIELD, "lease": None,
            "lease_until": None, "expire_at": now + keep, **fields}


def finished(now: datetime, result: dict[str, Any]) -> dict[str, Any]:
    """The change that records a row as sent, for a lease holder that writes it in a commit
    of its own (conditional on its WRITTEN time, as _if_leased's first try is)."""
    return _closed("sent", now, result=result, last_error=None)


def finish(item_id: str, lease: str, now: datetime, result: dict[str, Any], *,
           written: Any = None) -> bool:
    return _if_leased(item_id, lease, finished(now, result), written)


def drop(item_id: str, lease: str, now: datetime, reason: str, *, written: Any = None) -> bool:
    return _if_leased(item_id, lease, _closed("dropped", now, dropped_because=reason), written)


def fail(item_id: str, lease: str, now: datetime, error: str, *, written: Any = None) -> bool:
    return _if_leased(item_id, lease, _closed("failed", now, last_error=error), written)


def retry_later(item_id: str, lease: str, due_at: datetime, error: str, *,
                attempts: int | None = None, written: Any = None) -> bool:
    change: dict[str, Any] = {"status": "pending", "due_at": due_at, "lease": None,
                              "lease_until": None, "last_error": error}
    if attempts is not None:
        change["attempts"] = attempts
    return _if_leased(item_id, lease, change, written)


def due(now: datetime, limit: int) -> list[str]:
    """Ids of rows whose time has come (pending ones, and sending ones whose lease ran out)."""
    from google.cloud.firestore import FieldFilter

    query = _col().where(filter=FieldFilter("due_at", "<=", now)).order_by("due_at").limit(limit)
    return [snap.id for snap in query.stream()]


def make_due(owner_id: str, kind: str, now: datetime) -> list[str]:
    """Makes the owner's pending rows of `kind` due now; returns their ids. Each write is
    conditional on the row being as read, so a row claimed meanwhile keeps its lease."""
    from google.api_core import exceptions as gexc
    from google.cloud.firestore_v1.base_query import FieldFilter

    db = clients.firestore()
    query = (_col().where(filter=FieldFilter("owner_id", "==", owner_id))
             .where(filter=FieldFilter("kind", "==", kind))
             .where(filter=FieldFilter("status", "==", "pending")))
    made: list[str] = []
    for snap in query.stream():
        if (snap.to_dict() or {}).get("due_at", now) > now:
            try:
                snap.reference.update({"due_at": now},
                                      option=db.write_option(last_update_time=snap.update_time))
            except (gexc.FailedPrecondition, gexc.NotFound):
                continue  # claimed or finished meanwhile: its worker has it
        made.append(snap.id)
    return made


def get(item_id: str) -> dict[str, Any] | None:
    snap = _col().document(item_id).get()
    return snap.to_dict() if snap.exists else None


def statuses(item_ids: Sequence[str]) -> dict[str, str]:
    """The status of each existing row of `item_ids`."""
    if not item_ids:
        return {}
    db = clients.firestore()
    found: dict[str, str] = {}
    for snap in db.get_all([_col().document(i) for i in item_ids]):
        if snap.exists:
            found[snap.id] = str((snap.to_dict() or {}).get("status"))
    return found


def failed_for_owner(owner_id: str, limit: int = 50) -> list[dict[str, Any]]:
    from google.cloud.firestore import FieldFilter

    query = (_col().where(filter=FieldFilter("owner_id", "==", owner_id))
             .where(filter=FieldFilter("status", "==", "failed")).limit(limit))
    return [{"id": s.id, **s.to_dict()} for s in query.stream()]


def alert_once(owner_id: str, name: str, fields: dict[str, Any]) -> bool:
    """Records an alert for the owner unless it is already there; True when this call did."""
    from google.api_core.exceptions import AlreadyExists

    try:
        clients.firestore().collection("outbox_alerts").document(f"{owner_id}:{name}").create(
            {"owner_id": owner_id, "name": name, **fields})
    except AlreadyExists:
        return False
    return True


def alerts_for_owner(owner_id: str, limit: int = 20) -> list[dict[str, Any]]:
    from google.cloud.firestore import FieldFilter

    query = (clients.firestore().collection("outbox_alerts")
             .where(filter=FieldFilter("owner_id", "==", owner_id)).limit(limit))
    return [s.to_dict() or {} for s in query.stream()]
