"""Firestore: the durable outbox of work owed to the outside world (emails, Google writes).

    outbox/{id}   kind, owner_id, payload, status (pending | sending | sent | failed), attempts,
                  due_at (only while pending or sending: the drain's one-field query), lease_until,
                  last_error, created_at, done_at

The id is derived from what is owed (booking, kind, recipient), so owing the same thing twice
finds the row that is already there instead of adding a second.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from booking import clients

LEASE = timedelta(seconds=90)


def _col() -> Any:
    return clients.firestore().collection("outbox")


def new_row(kind: str, owner_id: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "kind": kind,
        "owner_id": owner_id,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "due_at": now,
        "lease_until": None,
        "last_error": None,
        "created_at": now,
        "done_at": None,
    }


def add(item_id: str, kind: str, owner_id: str, payload: dict[str, Any], now: datetime) -> bool:
    """Adds the row unless it exists; True when this call added it."""
    from google.api_core.exceptions import AlreadyExists

    try:
        _col().document(item_id).create(new_row(kind, owner_id, payload, now))
    except AlreadyExists:
        return False
    return True


def claim(item_id: str, now: datetime) -> dict[str, Any] | None:
    """Leases a due row for one worker; None if it is done, failed, or leased by another."""
    from google.cloud import firestore as fs

    db = clients.firestore()
    doc = _col().document(item_id)

    @fs.transactional  # type: ignore[untyped-decorator]
    def run(tx: Any) -> dict[str, Any] | None:
        snap = doc.get(transaction=tx)
        if not snap.exists:
            return None
        data: dict[str, Any] = snap.to_dict()
        if data["status"] in ("sent", "failed"):
            return None
        if data["status"] == "sending" and data.get("lease_until") and data["lease_until"] > now:
            return None
        if data.get("due_at") and data["due_at"] > now:
            return None
        attempts = int(data.get("attempts", 0)) + 1
        tx.update(doc, {"status": "sending", "lease_until": now + LEASE, "attempts": attempts})
        data["attempts"] = attempts
        return data

    result: dict[str, Any] | None = run(db.transaction())
    return result


# `expire_at` is the collection's TTL field (infra/firestore.tf): a row is kept long enough to
# keep its key from being owed twice (bookings are made at most 90 days ahead) and for the owner
# to see a failure, then Firestore deletes it. Pending rows carry none and stay until done.
KEEP_SENT = timedelta(days=180)
KEEP_FAILED = timedelta(days=365)


def finish(item_id: str, now: datetime, result: dict[str, Any]) -> None:
    from google.cloud import firestore as fs

    _col().document(item_id).update(
        {"status": "sent", "done_at": now, "due_at": fs.DELETE_FIELD, "lease_until": None,
         "result": result, "last_error": None, "expire_at": now + KEEP_SENT}
    )


def retry_later(item_id: str, due_at: datetime, error: str) -> None:
    _col().document(item_id).update(
        {"status": "pending", "due_at": due_at, "lease_until": None, "last_error": error}
    )


def fail(item_id: str, now: datetime, error: str) -> None:
    from google.cloud import firestore as fs

    _col().document(item_id).update(
        {"status": "failed", "done_at": now, "due_at": fs.DELETE_FIELD, "lease_until": None,
         "last_error": error, "expire_at": now + KEEP_FAILED}
    )


def due(now: datetime, limit: int) -> list[str]:
    """Ids of rows whose time has come (pending ones, and sending ones whose lease ran out)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = _col().where(filter=FieldFilter("due_at", "<=", now)).order_by("due_at").limit(limit)
    return [snap.id for snap in query.stream()]


def get(item_id: str) -> dict[str, Any] | None:
    snap = _col().document(item_id).get()
    return snap.to_dict() if snap.exists else None


def failed_for_owner(owner_id: str, limit: int = 50) -> list[dict[str, Any]]:
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = (_col().where(filter=FieldFilter("owner_id", "==", owner_id))
             .where(filter=FieldFilter("status", "==", "failed")).limit(limit))
    return [{"id": s.id, **s.to_dict()} for s in query.stream()]
