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


def google_calls(stack: Stack, since: int = 0) -> list[dict[str, Any]]:
    """Calendar API calls and token requests the Google stand-in logged since `since`, less
    events.list: the syncs that Google's pushes start run beside a guest's request, never on
    its path."""
    return [r for r in stack.google.state.requests[since:]
            if (r["service"] == "calendar" and r.get("method") != "calendar.events.list")
            or r["path"] == "/token"]


def round_trips(calls: list[dict[str, Any]]) -> int:
    """How many Google latencies a caller waited for one after another: the longest chain of
    calls each of which started after the one before it ended (each call is logged with when it
    started and ended at the stand-in). Calls made at once count once."""
    ordered = sorted(calls, key=lambda c: c["started"])
    chain: list[int] = []
    for i, call in enumerate(ordered):
        chain.append(1 + max((chain[j] for j in range(i) if ordered[j]["at"] <= call["started"]),
                             default=0))
    return max(chain, default=0)


def no_fresh_cache(stack: Stack) -> None:
    """Waits for the pushes Google has queued to be handled, then makes every calendar's busy
    cache untrusted (last synced an hour ago): availability asks Google live, as it does when
    pushes have not kept a cache fresh. For tests of the live free/busy path."""
    from datetime import timedelta

    from booking import clients

    google(stack).flush_push()
    for snap in clients.firestore().collection("calendar_sync").stream():
        snap.reference.update({"synced_at": datetime.now(UTC) - timedelta(hours=1)})
