"""Firestore: owners, their Google connections, and one-time OAuth states.

    owners/{owner_id}                         name, email, time_zone, api_keys, settings
    owners/{owner_id}/connections/{conn_id}   one connected Google account (no secret in it)
    owners/{owner_id}/sessions/{sid}          a signed-in browser: logout or a revoked key
                                              deletes it; `expires_at` (TTL) sweeps the rest
    oauth_states/{nonce}                      an OAuth attempt; `used_at` makes it work once;
                                              `expires_at` (TTL) sweeps it
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booking import clients
from booking.domain.model import CalendarInfo, CalendarRef, Connection, Owner
from booking.errors import AlreadyExists, AlreadyUsed, DocumentMissing, LastOne


def _owners() -> Any:
    return clients.firestore().collection("owners")


def _connections(owner_id: str) -> Any:
    return _owners().document(owner_id).collection("connections")


def owner_from(doc_id: str, data: dict[str, Any]) -> Owner:
    default = data.get("default_calendar")
    return Owner(
        id=doc_id,
        name=data["name"],
        email=data["email"],
        time_zone=data["time_zone"],
        api_keys={kid: str(k["hash"]) for kid, k in dict(data.get("api_keys", {})).items()},
        default_calendar=CalendarRef.from_dict(default) if default else None,
        meet_enabled=bool(data.get("meet_enabled", True)),
        allowed_origins=list(data.get("allowed_origins", [])),
        redirect_urls=list(data.get("redirect_urls", [])),
        max_bookings_per_day=data.get("max_bookings_per_day"),
        language=str(data.get("language", "en")),
        locale=data.get("locale"),
        week_start=int(data.get("week_start", 0)),
        limits={str(k): int(v) for k, v in (data.get("limits") or {}).items()},
    )


def create_owner(owner: Owner, now: datetime) -> None:
    from google.api_core.exceptions import AlreadyExists as FsAlreadyExists

    try:
        _owners().document(owner.id).create(
            {
                "name": owner.name,
                "email": owner.email,
                "time_zone": owner.time_zone,
                "api_keys": {kid: {"hash": h, "created_at": now}
                             for kid, h in owner.api_keys.items()},
                "default_calendar": None,
                "meet_enabled": owner.meet_enabled,
                "allowed_origins": owner.allowed_origins,
                "redirect_urls": owner.redirect_urls,
                "language": owner.language,
                "created_at": now,
            }
        )
    except FsAlreadyExists as exc:
        raise AlreadyExists("owner", owner.id) from exc


def get_owner(owner_id: str) -> Owner:
    snap = _owners().document(owner_id).get()
    if not snap.exists:
        raise DocumentMissing("owner", owner_id)
    return owner_from(snap.id, snap.to_dict())


def owner_ids(*, after: str | None, limit: int) -> list[str]:
    """Owner ids in id order, the next `limit` after `after` (keys only)."""
    # "__name__" is FieldPath.document_id(): written out, so no submodule of the library is
    # imported on its own (see clients.firestore).
    query = _owners().order_by("__name__").select([]).limit(limit)
    if after:
        query = query.start_after({"__name__": after})
    return [s.id for s in query.stream()]


def update_owner(owner_id: str, fields: dict[str, Any]) -> None:
    _owners().document(owner_id).update(fields)


def _connection_from(doc_id: str, data: dict[str, Any]) -> Connection:
    return Connection(
        id=doc_id,
        email=data["email"],
        sub=data["sub"],
        status=data["status"],
        scopes=list(data.get("scopes", [])),
        connected_at=data["connected_at"],
        secret_id=data["secret_id"],
        token_version=int(data.get("token_version", 1)),
        calendars=[CalendarInfo.from_dict(c) for c in data.get("calendars", [])],
        conflict_calendar_ids=list(data.get("conflict_calendar_ids", [])),
        reconnect_notified=bool(data.get("reconnect_notified", False)),
        booking_calendar_ids=list(data.get("booking_calendar_ids", [])),
    )


def _connection_doc(conn: Connection) -> dict[str, Any]:
    return {
        "email": conn.email,
        "sub": conn.sub,
        "status": conn.status,
        "scopes": conn.scopes,
        "connected_at": conn.connected_at,
        "secret_id": conn.secret_id,
        "token_version": conn.token_version,
        "calendars": [c.to_dict() for c in conn.calendars],
        "conflict_calendar_ids": conn.conflict_calendar_ids,
        "reconnect_notified": conn.reconnect_notified,
        "booking_calendar_ids": conn.booking_calendar_ids,
    }


def list_connections(owner_id: str) -> list[Connection]:
    docs = _connections(owner_id).stream()
    conns = [_connection_from(d.id, d.to_dict()) for d in docs]
    return sorted(conns, key=lambda c: c.connected_at)


def get_connection(owner_id: str, connection_id: str) -> Connection:
    snap = _connections(owner_id).document(connection_id).get()
    if not snap.exists:
        raise DocumentMissing("connection", connection_id)
    return _connection_from(snap.id, snap.to_dict())


def find_connection(owner_id: str, connection_id: str) -> Connection | None:
    snap = _connections(owner_id).document(connection_id).get()
    return _connection_from(snap.id, snap.to_dict()) if snap.exists else None


def save_connection(owner_id: str, conn: Connection) -> None:
    _connections(owner_id).document(conn.id).set(_connection_doc(conn))


def update_connection(owner_id: str, connection_id: str, fields: dict[str, Any]) -> None:
    from google.api_core.exceptions import NotFound as FsNotFound

    try:
        _connections(owner_id).document(connection_id).update(fields)
    except FsNotFound as exc:
        raise DocumentMissing("connection", connection_id) from exc


def add_booking_calendar(owner_id: str, connection_id: str, calendar_id: str) -> None:
    """Adds a calendar to the connection's booking_calendar_ids (once, however often)."""
    from google.cloud import firestore as fs

    update_connection(owner_id, connection_id,
                      {"booking_calendar_ids": fs.ArrayUnion([calendar_id])})


def delete_connection(owner_id: str, connection_id: str) -> None:
    _connections(owner_id).document(connection_id).delete()


def mark_needs_reconnect(owner_id: str, connection_id: str, token_version: int) -> bool:
    """Flags the connection; True only for the one caller that should email the owner.

    Transactional, and keyed to the token version that failed, so concurrent failures of one
    grant send one email, and a failure reported late, after a reconnect, changes nothing.
    """
    from google.cloud import firestore as fs

    db = clients.firestore()
    ref = _connections(owner_id).document(connection_id)

    @fs.transactional  # type: ignore[untyped-decorator]
    def run(tx: Any) -> bool:
        snap = ref.get(transaction=tx)
        if not snap.exists:
            return False
        data = snap.to_dict()
        if int(data.get("token_version", 1)) != token_version:
            return False
        notify = not data.get("reconnect_notified", False)
        tx.update(ref, {"status": "needs_reconnect", "reconnect_notified": True})
        return notify

    return bool(run(db.transaction()))


def api_keys(owner_id: str) -> dict[str, dict[str, Any]]:
    snap = _owners().document(owner_id).get()
    if not snap.exists:
        raise DocumentMissing("owner", owner_id)
    return dict(snap.to_dict().get("api_keys", {}))


def add_api_key(owner_id: str, kid: str, key_hash: str, now: datetime,
                *, replace_all: bool) -> list[str]:
    """Adds a key; with `replace_all` the others go in the same write. Returns the removed ids."""
    from google.cloud import firestore as fs

    db = clients.firestore()
    ref = _owners().document(owner_id)

    @fs.transactional  # type: ignore[untyped-decorator]
    def run(tx: Any) -> list[str]:
        snap = ref.get(transaction=tx)
        if not snap.exists:
            raise DocumentMissing("owner", owner_id)
        keys = dict(snap.to_dict().get("api_keys", {}))
        removed = sorted(keys) if replace_all else []
        keys = {} if replace_all else keys
        keys[kid] = {"hash": key_hash, "created_at": now}
        tx.update(ref, {"api_keys": keys})
        return removed

    return list(run(db.transaction()))


def remove_api_key(owner_id: str, kid: str) -> None:
    """Revokes one key; LastOne if it is the owner's last (they would be locked out)."""
    from google.cloud import firestore as fs

    db = clients.firestore()
    ref = _owners().document(owner_id)

    @fs.transactional  # type: ignore[untyped-decorator]
    def run(tx: Any) -> None:
        snap = ref.get(transaction=tx)
        keys = dict(snap.to_dict().get("api_keys", {})) if snap.exists else {}
        if kid not in keys:
            raise DocumentMissing("api_key", kid)
        if len(keys) == 1:
            raise LastOne("api_key", kid)
        del keys[kid]
        tx.update(ref, {"api_keys": keys})

    run(db.transaction())


def _sessions(owner_id: str) -> Any:
    return _owners().document(owner_id).collection("sessions")


def create_session(owner_id: str, sid: str, key_id: str, now: datetime,
                   expires_at: datetime) -> None:
    _sessions(owner_id).document(sid).create(
        {"key_id": key_id, "created_at": now, "expires_at": expires_at})


def get_session(owner_id: str, sid: str) -> dict[str, Any] | None:
    snap = _sessions(owner_id).document(sid).get()
    return dict(snap.to_dict()) if snap.exists else None


def delete_session(owner_id: str, sid: str) -> None:
    _sessions(owner_id).document(sid).delete()


def delete_sessions_of_keys(owner_id: str, key_ids: list[str]) -> int:
    """Ends every session signed in with one of these keys (they were revoked)."""
    ended = 0
    for snap in _sessions(owner_id).stream():
        if snap.get("key_id") in key_ids:
            snap.reference.delete()
            ended += 1
    return ended


def connections_of_google_account(sub: str) -> list[tuple[str, str]]:
    """(owner id, connection id) of every connection, of any owner, to this Google account
    (a collection-group query on `sub`: infra/firestore.tf declares its index)."""
    from google.cloud.firestore import FieldFilter

    query = clients.firestore().collection_group("connections").where(
        filter=FieldFilter("sub", "==", sub))
    return [(snap.reference.parent.parent.id, snap.id) for snap in query.stream()]


def create_oauth_state(nonce: str, owner_id: str, expires_at: datetime, now: datetime) -> None:
    # expires_at is the collection's TTL field (infra/firestore.tf): Firestore deletes the
    # row some time after it; the state token itself stops working at that instant.
    clients.firestore().collection("oauth_states").document(nonce).create(
        {"owner_id": owner_id, "expires_at": expires_at, "created_at": now, "used_at": None}
    )


def consume_oauth_state(nonce: str, owner_id: str, now: datetime) -> None:
    """Marks the state used; DocumentMissing if it is unknown (or another owner's), AlreadyUsed
    if it was used already."""
    from google.cloud import firestore as fs

    db = clients.firestore()
    ref = db.collection("oauth_states").document(nonce)

    @fs.transactional  # type: ignore[untyped-decorator]
    def run(tx: Any) -> None:
        snap = ref.get(transaction=tx)
        if not snap.exists or snap.get("owner_id") != owner_id:
            raise DocumentMissing("oauth_state")
        if snap.get("used_at") is not None:
            raise AlreadyUsed("oauth_state")
        tx.update(ref, {"used_at": now})

    run(db.transaction())
