"""Firestore: owners/{owner_id}/event_types/{slug}."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booking import clients
from booking.errors import Conflict, NotFound


def _col(owner_id: str) -> Any:
    return clients.firestore().collection("owners").document(owner_id).collection("event_types")


def create(owner_id: str, data: dict[str, Any], now: datetime) -> None:
    from google.api_core.exceptions import AlreadyExists

    try:
        _col(owner_id).document(data["slug"]).create({**data, "created_at": now,
                                                       "updated_at": now})
    except AlreadyExists as exc:
        raise Conflict(f"an event type with slug {data['slug']!r} exists already") from exc


def replace(owner_id: str, data: dict[str, Any], now: datetime) -> None:
    ref = _col(owner_id).document(data["slug"])
    snap = ref.get()
    if not snap.exists:
        raise NotFound("no such event type")
    ref.set({**data, "created_at": snap.get("created_at"), "updated_at": now})


def get(owner_id: str, slug: str) -> dict[str, Any]:
    snap = _col(owner_id).document(slug).get()
    if not snap.exists:
        raise NotFound("no such event type")
    return dict(snap.to_dict())


def list_all(owner_id: str) -> list[dict[str, Any]]:
    return sorted((d.to_dict() for d in _col(owner_id).stream()), key=lambda d: d["slug"])


def delete(owner_id: str, slug: str) -> None:
    ref = _col(owner_id).document(slug)
    if not ref.get().exists:
        raise NotFound("no such event type")
    ref.delete()
