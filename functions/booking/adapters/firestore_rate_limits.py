"""Abuse-limit counters in Firestore: collection `rate_limits`, one document per counter and
window (see booking.domain.quotas).

Each request increments its counters with Firestore's server-side Increment in one commit and
reads the new values back from that commit's transform results: atomic across every instance,
no transaction, one round trip. `expires_at` lets a Firestore TTL policy delete old windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from booking import clients


def hit(counters: Sequence[tuple[str, datetime]]) -> list[int]:
    """Adds one to each counter (doc id, when it may be deleted); returns their values after
    this request, in order."""
    from google.cloud.firestore import Increment

    db = clients.firestore()
    batch = db.batch()
    for doc_id, expires_at in counters:
        batch.set(db.collection("rate_limits").document(doc_id),
                  {"n": Increment(1), "expires_at": expires_at}, merge=True)
    results = batch.commit()
    return [int(result.transform_results[0].integer_value) for result in results]


def read(doc_ids: Sequence[str]) -> list[int]:
    """The counters' values (0 for one not written yet), in order, in one batched read."""
    db = clients.firestore()
    refs = [db.collection("rate_limits").document(doc_id) for doc_id in doc_ids]
    found = {snap.id: int((snap.to_dict() or {}).get("n", 0))
             for snap in db.get_all(refs) if snap.exists}
    return [found.get(doc_id, 0) for doc_id in doc_ids]
