"""The stored form of a purpose's keyring and its rotation (pure: time is an argument).

A keyring is one Secret Manager secret holding JSON, newest key first:

    {"keys": [{"id": "k20261203-a1b2", "secret": "<base64url, 32+ bytes>", "created": 1764770000},
              {"id": "k20261101-9f8e", "secret": "...", "created": 1761990000,
               "retire_at": 1764856400}]}

The first key signs. A rotation puts a new key first and gives the previous one a `retire_at`
(now + grace): until then it still verifies what it signed (links already in inboxes, sessions,
push channels), after that it is gone. Keys retired earlier are dropped from the new document.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from booking.domain.tokens import KEY_ID, Keyring


class KeyringError(ValueError):
    """The stored keyring is unreadable or holds no usable key."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse(text: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(text)
        keys = doc["keys"]
        entries = [{"id": str(k["id"]), "secret": str(k["secret"]), "created": int(k["created"]),
                    **({"retire_at": int(k["retire_at"])} if k.get("retire_at") else {})}
                   for k in keys]
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyringError("the keyring is not {keys: [{id, secret, created}]}") from exc
    if not entries or not all(KEY_ID.fullmatch(str(k["id"])) for k in entries):
        raise KeyringError("the keyring has no key, or a key id that is not [A-Za-z0-9-]{1,40}")
    return entries


def dump(entries: list[dict[str, Any]]) -> str:
    return json.dumps({"keys": entries}, separators=(",", ":"))


def new_entry(kid: str, secret: bytes, now: int) -> dict[str, Any]:
    if len(secret) < 32 or not KEY_ID.fullmatch(kid):
        raise KeyringError("a key needs an id of [A-Za-z0-9-]{1,40} and 32+ random bytes")
    return {"id": kid, "secret": _b64(secret), "created": int(now)}


def rotate(entries: list[dict[str, Any]], new: dict[str, Any], *, now: int,
           grace_seconds: int) -> list[dict[str, Any]]:
    """`new` signs from now on; the current key verifies for `grace_seconds` more; older keys
    keep their own date if it comes sooner; keys past it are dropped (grace 0 drops them all:
    a rotation after a leak)."""
    kept = []
    for i, entry in enumerate(entries):
        retire_at = min(entry.get("retire_at", now + grace_seconds if i == 0 else now),
                        now + grace_seconds)
        if retire_at > now:
            kept.append({**entry, "retire_at": retire_at})
    return [new, *kept]


def keyring(entries: list[dict[str, Any]], now: float) -> Keyring:
    """The keys usable at `now`: the first signs; retired ones are left out."""
    live = {k["id"]: _unb64(k["secret"]) for k in entries
            if "retire_at" not in k or k["retire_at"] > now}
    if entries[0]["id"] not in live:
        raise KeyringError("the current key is marked retired")
    try:
        return Keyring(entries[0]["id"], live)
    except ValueError as exc:
        raise KeyringError(str(exc)) from exc
