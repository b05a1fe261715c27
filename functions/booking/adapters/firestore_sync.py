"""Firestore: per watched calendar, where its sync stands and its busy cache.

    calendar_sync/{key}   owner_id, connection_id, calendar_id,
                          sync_token, page_token, full_window [start, end] (a full sync under way),
                          covered [start, end] (the span the cache holds),
                          busy {event_id: [start_s, end_s]} (epoch seconds, clipped to covered),
                          synced_at (the last sync that reached a nextSyncToken),
                          dirty_since (a push came and its sync has not finished yet),
                          lease_until, lease_id (one worker syncs a calendar at a time),
                          channel_expires_at (the newest live channel on this calendar)

One document per calendar, so a sync page writes once however many events it carries, and
availability reads one document per conflict calendar. Instance memory holds none of it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from booking import clients


def _col() -> Any:
    return clients.firestore().collection("calendar_sync")


def key(owner_id: str, connection_id: str, calendar_id: str) -> str:
    return hashlib.sha256(f"{owner_id}\x1f{connection_id}\x1f{calendar_id}".encode()) \
        .hexdigest()[:40]


def begin(doc_key: str, lease_id: str, meta: dict[str, Any], now: datetime,
          lease: timedelta) -> dict[str, Any] | None:
    """Takes the calendar's sync lease; None (and the calendar marked dirty, so the holder runs
    again) when another worker holds it."""
    from google.cloud import firestore as fs

    ref = _col().document(doc_key)

    @fs.transactional  # type: ignore[untyped-decorator]
    def run(tx: Any) -> dict[str, Any] | None:
        snap = ref.get(transaction=tx)
        data = snap.to_dict() if snap.exists else None
        if data is not None and data.get("lease_until") and data["lease_until"] > now:
            if not data.get("dirty_since"):
                tx.update(ref, {"dirty_since": now})
            return None
        taken = {"lease_until": now + lease, "lease_id": lease_id, "dirty_since": None}
        if data is None:
            data = {**meta, "busy": {}, "synced_at": None, "sync_token": None,
                    "page_token": None, "channel_expires_at": None}
            tx.set(ref, {**data, **taken})
        else:
            tx.update(ref, taken)
        return {**data, **taken, "dirty_since": data.get("dirty_since")}

    result: dict[str, Any] | None = run(clients.firestore().transaction())
    return result


def save(doc_key: str, fields: dict[str, Any]) -> None:
    _col().document(doc_key).update(fields)


def release(doc_key: str, lease_id: str, fields: dict[str, Any]) -> bool:
    """Writes `fields`, gives the lease back; True when a push came meanwhile (run again)."""
    from google.cloud import firestore as fs

    ref = _col().document(doc_key)

    @fs.transactional  # type: ignore[untyped-decorator]
    def run(tx: Any) -> bool:
        snap = ref.get(transaction=tx)
        if not snap.exists:
            return False
        data = snap.to_dict()
        mine = data.get("lease_id") == lease_id
        tx.update(ref, {**fields, **({"lease_until": None, "lease_id": None} if mine else {})})
        return bool(mine and data.get("dirty_since"))

    return bool(run(clients.firestore().transaction()))


def mark_dirty(doc_key: str, now: datetime) -> None:
    ref = _col().document(doc_key)
    snap = ref.get()
    if snap.exists and not snap.get("dirty_since"):
        ref.update({"dirty_since": now})


def get(doc_key: str) -> dict[str, Any] | None:
    snap = _col().document(doc_key).get()
    return snap.to_dict() if snap.exists else None


def get_many(keys: list[str]) -> dict[str, dict[str, Any]]:
    db = clients.firestore()
    refs = [_col().document(k) for k in keys]
    return {s.id: s.to_dict() or {} for s in db.get_all(refs) if s.exists}


def set_channel_expiry(doc_key: str, meta: dict[str, Any], expires_at: datetime | None) -> None:
    """Notes the calendar's newest channel; a new calendar starts unsynced (resync finds it)."""
    from google.api_core.exceptions import AlreadyExists

    ref = _col().document(doc_key)
    try:
        ref.create({**meta, "channel_expires_at": expires_at, "busy": {}, "synced_at": None,
                    "sync_token": None, "page_token": None, "dirty_since": None,
                    "lease_until": None})
    except AlreadyExists:
        ref.update({"channel_expires_at": expires_at})


def delete(doc_key: str) -> None:
    _col().document(doc_key).delete()


def stalest(limit: int) -> list[tuple[str, dict[str, Any]]]:
    """resync's next work: calendars with a push still unsynced, then never synced ones, then
    those whose last sync is oldest."""
    from google.cloud.firestore import FieldFilter

    dirty = _col().where(filter=FieldFilter("dirty_since", ">", datetime(2000, 1, 1, tzinfo=UTC)))
    found = [(s.id, s.to_dict()) for s in dirty.limit(limit).stream()]
    never = _col().where(filter=FieldFilter("synced_at", "==", None)).limit(limit)
    seen = {k for k, _ in found}
    found += [(s.id, s.to_dict()) for s in never.stream() if s.id not in seen][:limit - len(found)]
    if len(found) < limit:
        seen = {k for k, _ in found}
        query = _col().order_by("synced_at").limit(limit)
        found += [(s.id, s.to_dict()) for s in query.stream()
                  if s.get("synced_at") is not None and s.id not in seen][:limit - len(found)]
    return found


def encode_busy(busy: dict[str, tuple[datetime, datetime]]) -> dict[str, list[int]]:
    return {eid: [int(s.timestamp()), int(e.timestamp())] for eid, (s, e) in busy.items()}


def decode_busy(raw: dict[str, Any] | None) -> dict[str, tuple[datetime, datetime]]:
    return {eid: (datetime.fromtimestamp(v[0], UTC), datetime.fromtimestamp(v[1], UTC))
            for eid, v in (raw or {}).items()}


def get_cursor(name: str) -> str | None:
    """Where a round-robin job of resync stopped last time (None: at the start)."""
    snap = clients.firestore().collection("resync_cursors").document(name).get()
    return str(snap.get("after")) if snap.exists and snap.get("after") else None


def set_cursor(name: str, after: str | None) -> None:
    clients.firestore().collection("resync_cursors").document(name).set({"after": after})
