"""Firestore: Google push channels we opened.

    channels/{channel_id}   owner_id, connection_id, calendar_id, resource_id, expiration,
                            expires_at, status (opening | active | stopped), last_message,
                            created_at

A stopped channel's record stays until it would have expired: a push that still arrives for
it (Google may deliver briefly after a stop) is recognised, answered, and stopped again.

The channel's verification token is not stored: it is derived from our key and the channel id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from booking import clients


def _col() -> Any:
    return clients.firestore().collection("channels")


def save(channel_id: str, data: dict[str, Any]) -> None:
    """`expire_at` (the collection's TTL field, infra/firestore.tf) is a day past Google's
    `expiration` (epoch ms): a dead channel's record goes by itself."""
    expiration = str(data.get("expiration") or "")
    if expiration.isdigit() and "expire_at" not in data:
        data = {**data, "expire_at": datetime.fromtimestamp(int(expiration) / 1000, UTC)
                + timedelta(days=1)}
    _col().document(channel_id).set(data)


def update(channel_id: str, fields: dict[str, Any]) -> None:
    _col().document(channel_id).update(fields)


def get(channel_id: str) -> dict[str, Any] | None:
    snap = _col().document(channel_id).get()
    return snap.to_dict() if snap.exists else None


def for_connection(owner_id: str, connection_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The connection's active channels."""
    return [(cid, d) for cid, d in for_owner(owner_id) if d.get("connection_id") == connection_id]


def for_owner(owner_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The owner's active channels (stopped ones are only kept to recognise late pushes)."""
    from google.cloud.firestore import FieldFilter

    query = _col().where(filter=FieldFilter("owner_id", "==", owner_id))
    found = [(s.id, s.to_dict() or {}) for s in query.stream()]
    return [(cid, d) for cid, d in found if d.get("status") != "stopped"]


def mark_stopped(channel_id: str, now: datetime) -> None:
    _col().document(channel_id).update({"status": "stopped", "stopped_at": now})


def expiring_before(moment: datetime, limit: int) -> list[tuple[str, dict[str, Any]]]:
    """Channels (active or stopped) that expire before `moment`, soonest first."""
    from google.cloud.firestore import FieldFilter

    query = (_col().where(filter=FieldFilter("expires_at", "<", moment))
             .order_by("expires_at").limit(limit))
    return [(s.id, s.to_dict()) for s in query.stream()]


def delete(channel_id: str) -> None:
    _col().document(channel_id).delete()


def record_message(channel_id: str, number: int, state: str, now: datetime) -> bool:
    """Notes a push; False only for a message older than one seen already (its change was
    synced by the newer one's sync). The same number again is a retry or a repeat: True, since
    Google retries only what we failed, and a sync that finds nothing new costs one call."""
    from google.cloud import firestore as fs

    db = clients.firestore()
    ref = _col().document(channel_id)

    @fs.transactional  # type: ignore[untyped-decorator]
    def run(tx: Any) -> bool:
        snap = ref.get(transaction=tx)
        if not snap.exists:
            return False
        last = int(snap.to_dict().get("last_message") or 0)
        if number < last:
            return False
        if number > last:
            tx.update(ref, {"last_message": number, "last_state": state, "changed_at": now})
        return True

    return bool(run(db.transaction()))
