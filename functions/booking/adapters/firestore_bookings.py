"""Firestore: owners/{owner_id}/bookings/{booking_id} (read side used by availability)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booking import clients


def _col(owner_id: str) -> Any:
    return clients.firestore().collection("owners").document(owner_id).collection("bookings")


def confirmed_starting_between(owner_id: str, start: datetime,
                               end: datetime) -> list[dict[str, Any]]:
    """Confirmed bookings whose start lies in [start, end); one single-field range query."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = (_col(owner_id).where(filter=FieldFilter("start", ">=", start))
             .where(filter=FieldFilter("start", "<", end)))
    return [d.to_dict() for d in query.stream() if d.get("status") == "confirmed"]
