"""Firestore: owners/{owner_id}/event_types/{slug}."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from booking import clients
from booking.domain.model import Owner
from booking.errors import AlreadyExists, DocumentMissing


def _to_doc(data: dict[str, Any]) -> dict[str, Any]:
    # Firestore cannot hold arrays of arrays (weekly hours are lists of [start, end] pairs),
    # so the rules are kept as their JSON text.
    return {**data, "rules": json.dumps(data["rules"], sort_keys=True)}


def _from_doc(doc: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in doc.items() if k not in ("created_at", "updated_at")}
    data["rules"] = json.loads(data["rules"])
    return data


def _col(owner_id: str) -> Any:
    return clients.firestore().collection("owners").document(owner_id).collection("event_types")


def create(owner_id: str, data: dict[str, Any], now: datetime) -> None:
    from google.api_core.exceptions import AlreadyExists as FsAlreadyExists

    try:
        _col(owner_id).document(data["slug"]).create({**_to_doc(data), "created_at": now,
                                                       "updated_at": now})
    except FsAlreadyExists as exc:
        raise AlreadyExists("event_type", str(data["slug"])) from exc


def replace(owner_id: str, data: dict[str, Any], now: datetime) -> None:
    ref = _col(owner_id).document(data["slug"])
    snap = ref.get()
    if not snap.exists:
        raise DocumentMissing("event_type")
    ref.set({**_to_doc(data), "created_at": snap.get("created_at"), "updated_at": now})


def get_with_owner(owner_id: str, slug: str) -> tuple[Owner | None, dict[str, Any] | None]:
    """The owner and its event type `slug` in one batched read (what a guest's request reads
    first); None for either that does not exist."""
    from booking.adapters import firestore_owners

    db = clients.firestore()
    owner_ref = db.collection("owners").document(owner_id)
    type_ref = _col(owner_id).document(slug)
    found = {snap.reference.path: snap for snap in db.get_all([owner_ref, type_ref])
             if snap.exists}
    owner, stored = found.get(owner_ref.path), found.get(type_ref.path)
    return (firestore_owners.owner_from(owner.id, owner.to_dict() or {}) if owner else None,
            _from_doc(stored.to_dict() or {}) if stored else None)


def get(owner_id: str, slug: str) -> dict[str, Any]:
    snap = _col(owner_id).document(slug).get()
    if not snap.exists:
        raise DocumentMissing("event_type")
    return _from_doc(snap.to_dict())


def list_all(owner_id: str) -> list[dict[str, Any]]:
    return sorted((_from_doc(d.to_dict()) for d in _col(owner_id).stream()),
                  key=lambda d: d["slug"])


def delete(owner_id: str, slug: str) -> None:
    ref = _col(owner_id).document(slug)
    if not ref.get().exists:
        raise DocumentMissing("event_type")
    ref.delete()
