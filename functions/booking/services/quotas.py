"""Abuse limits of the public functions: count the request, refuse it with 429 past a limit.

Client counters (address, guest email) come first and alone; only a request within them is
counted against its owner, so a flooding client spends its own allowance and not the owner's
(booking.domain.quotas explains the windows and the shards). A counter's document does not
depend on the owner's limits, only what it allows does: the client's counters are counted while
the owner is read (one wait, not two).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from booking import fanout, log
from booking.adapters import firestore_owners
from booking.adapters import firestore_rate_limits as store
from booking.domain import ids, quotas
from booking.domain.model import Owner
from booking.domain.problems import Problem
from booking.errors import DocumentMissing, TooManyRequests


def check(kind: str, now: datetime, *, client: str, owner_id: str | None = None,
          email: str | None = None, owner: Callable[[], Owner | None] | None = None) -> None:
    """Counts one request of `kind` (availability, book, change); TooManyRequests past a
    limit. An unknown owner gets the default limits and no owner counter. `owner` gives the
    owner as the request reads it anyway (None if unknown), instead of reading it again."""
    moment = now.timestamp()
    names = quotas.KINDS[kind]

    def client_counters(limits: dict[str, int]) -> list[quotas.Counter]:
        found = [quotas.counter(names[key], client, limits, moment)
                 for key in ("ip", "ip_hour") if key in names]
        if "email" in names and email:
            found.append(quotas.counter(names["email"], email.strip().lower(), limits, moment))
        return found

    reads: list[Callable[[], Any]] = [
        owner or functools.partial(_owner, owner_id),
        functools.partial(_hit, client_counters(quotas.effective(None)))]
    found, counts = fanout.run_all(reads)
    limits = quotas.effective(found.limits if found else None)
    first = client_counters(limits)  # the same documents, with what the owner allows
    over = quotas.over(first, counts)
    if over is not None:
        _refuse(over, kind)
    if found is not None and "owner" in names:
        _count_owner(names["owner"], found.id, limits, moment, kind)


def open_bookings_allowed(owner: Owner) -> int:
    return quotas.effective(owner.limits)["open_bookings_per_email"]


def _owner(owner_id: str | None) -> Owner | None:
    if not owner_id or not ids.valid("owner", owner_id):
        return None
    try:
        return firestore_owners.get_owner(owner_id)
    except DocumentMissing:
        return None


def _hit(counters: list[quotas.Counter]) -> list[int]:
    return store.hit([(c.doc_id, datetime.fromtimestamp(c.expires_at, UTC)) for c in counters])


def _count_owner(limit_name: str, owner_id: str, limits: dict[str, int], moment: float,
                 kind: str) -> None:
    """One shard at random; if it is used up, the shards that still had room, one by one
    (exact at the limit: booking.domain.quotas)."""
    shards = [quotas.counter(limit_name, owner_id, limits, moment, shard)
              for shard in range(quotas.SHARDS)]
    # Spreading writes, not a secret.
    mine = random.choice(shards)  # noqa: S311
    if _hit([mine])[0] <= mine.allowed:
        return
    others = quotas.with_room(shards, store.read([c.doc_id for c in shards]))
    random.shuffle(others)
    for shard in others:
        if _hit([shard])[0] <= shard.allowed:
            return
    _refuse(mine, kind)


def _refuse(over: quotas.Counter, kind: str) -> None:
    log.warning("request over an abuse limit", limit=over.limit_name, kind=kind)
    raise TooManyRequests(Problem("limits.exceeded", "Too many requests (%(limit)s); please try "
                                  "again in %(seconds)s seconds.", limit=over.limit_name,
                                  seconds=over.retry_after), over.retry_after)
