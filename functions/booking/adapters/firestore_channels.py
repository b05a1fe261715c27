"""Firestore: Google push channels we opened.

    channels/{channel_id}   owner_id, connection_id, calendar_id, resource_id, expiration,
                            last_message, created_at

The channel's verification token is not stored: it is derived from our key and the channel id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booking import clients


def _col() -> Any:
    return clients.firestore().collection("channels")


def save(channel_id: str, data: dict[str, Any]) -> None:
    _col().document(channel_id).set(data)


def get(channel_id: str) -> dict[str, Any] | None:
    snap = _col().document(channel_id).get()
    return snap.to_dict() if snap.exists else None


def for_connection(owner_id: str, connection_id: str) -> list[tuple[str, dict[str, Any]]]:
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = (_col().where(filter=FieldFilter("owner_id", "==", owner_id))
             .where(filter=FieldFilter("connection_id", "==", connection_id)))
    return [(s.id, s.to_dict()) for s in query.stream()]


def delete(channel_id: str) -> None:
    _col().document(channel_id).delete()


def record_message(channel_id: str, number: int, state: str, now: datetime) -> bool:
    """Notes a push; False if this message number was seen already (Google may repeat)."""
    from google.cloud import firestore as fs

    db = clients.firestore()
    ref = _col().document(channel_id)

    @fs.transactional  # type: ignore[untyped-decorator]
    def run(tx: Any) -> bool:
        snap = ref.get(transaction=tx)
        if not snap.exists:
            return False
        last = int(snap.to_dict().get("last_message") or 0)
        if number <= last:
            return False
        tx.update(ref, {"last_message": number, "last_state": state, "changed_at": now})
        return True

    return bool(run(db.transaction()))
