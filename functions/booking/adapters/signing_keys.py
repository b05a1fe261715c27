"""Our HMAC keys, one keyring per purpose, each its own Secret Manager secret:

    booking-key-sessions   owner session cookies and their server-side records
    booking-key-links      guests' Cancel / Reschedule links
    booking-key-oauth      OAuth state and the PKCE verifier derived from it
    booking-key-channels   the tokens Google echoes in push notifications

A function's service account may read only the keyrings its code uses (infra/iam.tf), so the
push intake, for one, can forge no session. Keyrings are created and rotated out of band by
`python -m scripts.keys` (never by Terraform: its state would hold them). An instance re-reads a
keyring every five minutes, and at once (at most every 30 s) when a token names a key id it does
not know, which is how a rotation reaches running instances.
"""

from __future__ import annotations

import time
from typing import Any

from booking import clients
from booking.adapters import secrets as secret_store
from booking.domain import keyrings, tokens
from booking.domain.tokens import Keyring
from booking.errors import ConfigError, PermanentError

SESSIONS = "sessions"
LINKS = "links"
OAUTH = "oauth"
CHANNELS = "channels"
PURPOSES = (SESSIONS, LINKS, OAUTH, CHANNELS)
SECRET_PREFIX = "booking-key-"  # noqa: S105 - a secret's name
CACHE_SECONDS = 300
RELOAD_AFTER_UNKNOWN_SECONDS = 30


def secret_id(purpose: str) -> str:
    return SECRET_PREFIX + purpose


def _load(purpose: str) -> Keyring:
    try:
        text = secret_store.get(secret_id(purpose))
    except PermanentError as exc:
        raise ConfigError(f"keyring {secret_id(purpose)} is missing: run "
                          "`python -m scripts.keys create` (README, Deploying)") from exc
    return keyrings.keyring(keyrings.parse(text), time.time())


def ring(purpose: str, *, reload: bool = False) -> Keyring:
    return clients.cached_for(  # type: ignore[no-any-return]
        f"keyring:{purpose}", CACHE_SECONDS, lambda: _load(purpose),
        min_age=RELOAD_AFTER_UNKNOWN_SECONDS if reload else None)


# One function per purpose, so a caller names the key it means and grep finds every user.
def sessions() -> Keyring:
    return ring(SESSIONS)


def links() -> Keyring:
    return ring(LINKS)


def oauth() -> Keyring:
    return ring(OAUTH)


def channels() -> Keyring:
    return ring(CHANNELS)


def verify(purpose: str, token_purpose: str, token: str, *, now: float) -> dict[str, Any]:
    """tokens.verify with the purpose's keyring, re-read once if the token names an unknown
    key (signed by an instance that saw a rotation before this one did)."""
    try:
        return tokens.verify(ring(purpose), token_purpose, token, now=now)
    except tokens.TokenError as exc:
        if not exc.unknown_key:
            raise
    return tokens.verify(ring(purpose, reload=True), token_purpose, token, now=now)


def check_channel_token(channel_id: str, token: str) -> bool:
    """True when `token` is the one we gave Google for this push channel."""
    label = f"channel.{channel_id}"
    if tokens.check_derived(channels(), label, token):
        return True
    return tokens.check_derived(ring(CHANNELS, reload=True), label, token)


def channel_token(channel_id: str) -> str:
    return tokens.derived_token(channels(), f"channel.{channel_id}")
