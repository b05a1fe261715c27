"""Small helpers for integration tests: owners, Firestore and stand-in inspection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.conftest import Stack
from tests.standins.google.control import GoogleControl


def make_owner(owner_id: str = "coach", email: str = "coach@owner.test",
               time_zone: str = "Europe/Ljubljana") -> str:
    from booking.services import owners

    return owners.create_owner(owner_id, "Coach <Owner>", email, time_zone, datetime.now(UTC))


def google(stack: Stack) -> GoogleControl:
    return GoogleControl(stack.google_url)


def firestore_docs() -> list[tuple[str, dict[str, Any]]]:
    """Every document in this test's Firestore project, with its path."""
    from booking import clients

    found: list[tuple[str, dict[str, Any]]] = []

    def walk(collection: Any) -> None:
        for ref in collection.list_documents():
            snap = ref.get()
            if snap.exists:
                found.append((ref.path, snap.to_dict()))
            for sub in ref.collections():
                walk(sub)

    for col in clients.firestore().collections():
        walk(col)
    return found


def connection_docs(owner_id: str) -> list[dict[str, Any]]:
    return [data for path, data in firestore_docs()
            if path.startswith(f"owners/{owner_id}/connections/")]


def owner_doc(owner_id: str) -> dict[str, Any]:
    return dict(next(data for path, data in firestore_docs() if path == f"owners/{owner_id}"))
