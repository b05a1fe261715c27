"""Abuse limits: what each public request counts against, and whether it went over.

A limit is requests per window (a minute, or an hour for the `_hour` ones) for one key: a
client address, a guest email, or an owner. Counters are fixed windows; a refused request is
told when its window ends (`Retry-After`). Client limits are checked first, and only a
request within them counts against its owner: one flooding client then uses up its own
allowance, never the owner's, so the owner's other guests are unaffected.

An owner's counters are hot (every guest of a popular owner writes them; Firestore sustains
about one write a second on one document), so each is split into SHARDS documents whose shares
add up to the limit exactly (`shares`). A request increments one shard at random; if that
shard is past its share, it reads all the shards and tries, one by one, those it saw with room
(`with_room`), and is refused only when none had any. That is exact at the limit, concurrency
included: each share's first `share` increments are the only ones that pass on that shard, so
no more than the limit pass in a window; and a refusal means every shard had handed out its
whole share, so no fewer do either. It costs one write under the limit (as one document
would), and a refused request one write and one read of the SHARDS documents.

    >>> effective({"book_per_ip": 3})["book_per_ip"], effective(None)["book_per_ip"]
    (3, 10)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from booking.domain.problems import Problem

WINDOW_SECONDS = 60
SHARDS = 8

# Safe defaults, per minute (open_bookings_per_email: future bookings one guest email may hold
# with one owner). An owner may change each within BOUNDS through the owner API's settings.
DEFAULTS: dict[str, int] = {
    "availability_per_ip": 60,
    "availability_per_owner": 1200,
    "book_per_ip": 10,
    # A script that keeps under the minute's limit still cannot take a month of slots.
    "book_per_ip_hour": 30,
    "book_per_email": 5,
    "book_per_owner": 120,
    "changes_per_ip": 20,
    "open_bookings_per_email": 3,
}
BOUNDS: dict[str, tuple[int, int]] = {
    name: (1, 100000 if name.endswith("_owner") else 10000) for name in DEFAULTS
}
BOUNDS["open_bookings_per_email"] = (1, 1000)
WINDOWS = {name: 3600 if name.endswith("_hour") else WINDOW_SECONDS for name in DEFAULTS}

# Which limits each kind of request counts against, per key kind.
KINDS: dict[str, dict[str, str]] = {
    "availability": {"ip": "availability_per_ip", "owner": "availability_per_owner"},
    "book": {"ip": "book_per_ip", "ip_hour": "book_per_ip_hour", "email": "book_per_email",
             "owner": "book_per_owner"},
    "change": {"ip": "changes_per_ip"},
}


@dataclass(frozen=True)
class Counter:
    """One counter document: `doc_id` names it, `allowed` is the count it may reach, in a
    window that ends in `retry_after` seconds and should be forgotten at `expires_at`."""

    doc_id: str
    limit_name: str
    allowed: int
    retry_after: int
    expires_at: int


def effective(configured: Mapping[str, Any] | None) -> dict[str, int]:
    """The defaults with an owner's own values over them (already validated on the way in)."""
    return {**DEFAULTS, **{k: int(v) for k, v in (configured or {}).items() if k in DEFAULTS}}


def parse_limits(value: Any) -> tuple[dict[str, int], dict[str, Problem]]:
    """An owner's `limits` setting: (the valid values, problems by field)."""
    if not isinstance(value, Mapping):
        return {}, {"limits": Problem("limits.type", "must be an object such as %(example)s",
                                      example='{"book_per_ip": 10}')}
    found: dict[str, int] = {}
    problems: dict[str, Problem] = {}
    for name, raw in value.items():
        if name not in DEFAULTS:
            problems[f"limits.{name}"] = Problem("limits.unknown", "is not a limit: %(choices)s",
                                                 choices=", ".join(sorted(DEFAULTS)))
            continue
        low, high = BOUNDS[name]
        if not isinstance(raw, int) or isinstance(raw, bool) or not low <= raw <= high:
            problems[f"limits.{name}"] = Problem(
                "limits.range", "must be a whole number from %(low)s to %(high)s", low=low,
                high=high)
            continue
        found[name] = raw
    return found, problems


def window_of(epoch_seconds: float, seconds: int = WINDOW_SECONDS) -> tuple[int, int]:
    """(the window's start, whole seconds until it ends, at least 1)."""
    start = int(epoch_seconds) // seconds * seconds
    return start, max(1, math.ceil(start + seconds - epoch_seconds))


def counter(limit_name: str, key: str, limits: Mapping[str, int], epoch_seconds: float,
            shard: int | None = None) -> Counter:
    """The counter of `key` under `limit_name` in the window holding `epoch_seconds`. Keys are
    hashed: an address or an email never names a document, and any text makes a valid id."""
    digest = hashlib.sha256(f"{limit_name}\x1f{key}".encode("utf-8", "replace")).hexdigest()
    seconds = WINDOWS[limit_name]
    start, retry_after = window_of(epoch_seconds, seconds)
    doc_id = f"{limit_name}.{digest[:32]}.{start}"
    allowed = limits[limit_name]
    if shard is not None:
        doc_id, allowed = f"{doc_id}.{shard}", shares(allowed)[shard]
    return Counter(doc_id, limit_name, allowed, retry_after, start + 2 * seconds)


def shares(limit: int, shards: int = SHARDS) -> tuple[int, ...]:
    """A limit split over its shards so that the shares add up to it exactly.

    >>> shares(10)
    (2, 2, 1, 1, 1, 1, 1, 1)
    >>> shares(3)
    (1, 1, 1, 0, 0, 0, 0, 0)
    """
    return tuple(limit // shards + (1 if i < limit % shards else 0) for i in range(shards))


def with_room(counters: Sequence[Counter], counts: Sequence[int]) -> list[Counter]:
    """The shards that had room when read (their count below their share), in the order
    given: a request whose own shard was full tries these."""
    return [found for found, count in zip(counters, counts, strict=True) if count < found.allowed]


def over(counters: Sequence[Counter], counts: Sequence[int]) -> Counter | None:
    """The first counter past what it allows, after this request was counted."""
    for found, count in zip(counters, counts, strict=True):
        if count > found.allowed:
            return found
    return None
