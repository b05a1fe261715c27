"""Signed, expiring tokens for links, OAuth state and owner sessions; owner API key hashing.

A token is `kid "." base64url(json claims) "." base64url(HMAC-SHA256(key[kid], purpose "." kid
"." claims))`. Each purpose has its own keyring (booking.adapters.signing_keys), and the purpose
is inside the MAC as well, so a cancel link can never pass as an OAuth state or a session. The
key id says which key of the ring signed it: after a rotation the previous key still verifies
until it is retired, while new tokens use the current one. `exp` (epoch seconds) is inside the
claims, so no one can stretch a link's life.

    >>> ring = Keyring("k1", {"k1": b"k" * 32})
    >>> t = sign(ring, "oauth_state", {"owner": "o1"}, expires_at=1_000)
    >>> verify(ring, "oauth_state", t, now=999)["owner"]
    'o1'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from booking.domain import ids
from booking.domain.problems import Problem

# What a guest is told for any link that is not ours (tampered, wrong purpose, unknown key).
LINK_INVALID = Problem("link.invalid", "This link is not valid.")
# ... and for one that expired with its meeting's start.
LINK_EXPIRED = Problem("link.expired", "This link has expired: the meeting has already started.")

KEY_ID = re.compile(r"^[A-Za-z0-9-]{1,40}$")


class TokenError(ValueError):
    """The token is malformed, tampered with, of another purpose, signed by a key we do not hold
    (`unknown_key`), or expired (`expired`)."""

    def __init__(self, message: str, *, expired: bool = False,
                 unknown_key: bool = False) -> None:
        super().__init__(message)
        self.expired = expired
        self.unknown_key = unknown_key


@dataclass(frozen=True)
class Keyring:
    """The keys of one purpose: `current` signs, every key in `keys` verifies."""

    current: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError("the current key is not in the ring")
        if not all(KEY_ID.fullmatch(kid) and len(key) >= 32 for kid, key in self.keys.items()):
            raise ValueError("key ids are 1-40 letters, digits or dashes; keys 32+ bytes")

    def key(self, kid: str) -> bytes:
        try:
            return self.keys[kid]
        except KeyError:
            raise TokenError("signed by an unknown key", unknown_key=True) from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, message: str) -> str:
    return _b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def sign(ring: Keyring, purpose: str, claims: dict[str, Any], *, expires_at: int) -> str:
    kid = ring.current
    body = _b64(json.dumps({**claims, "exp": int(expires_at)}, separators=(",", ":")).encode())
    return f"{kid}.{body}.{_mac(ring.key(kid), f'{purpose}.{kid}.{body}')}"


def key_id(token: str) -> str:
    """The key id a token names (not yet verified); raises TokenError when it names none."""
    kid, dot, _ = token.partition(".")
    if not dot or not KEY_ID.fullmatch(kid):
        raise TokenError("malformed token")
    return kid


def verify(ring: Keyring, purpose: str, token: str, *, now: float) -> dict[str, Any]:
    """Returns the claims; raises TokenError unless the MAC, the purpose and the expiry hold."""
    if len(token) > 4096 or not token.isascii():
        raise TokenError("malformed token")
    kid = key_id(token)
    body, dot, mac = token[len(kid) + 1:].partition(".")
    if not dot or not body or not mac:
        raise TokenError("malformed token")
    if not hmac.compare_digest(mac, _mac(ring.key(kid), f"{purpose}.{kid}.{body}")):
        raise TokenError("bad signature")
    try:
        claims = json.loads(_unb64(body))
    except ValueError as exc:
        raise TokenError("malformed token") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise TokenError("malformed token")
    if now >= claims["exp"]:
        raise TokenError("expired", expired=True)
    return claims


def derive(ring: Keyring, label: str, kid: str | None = None) -> str:
    """A secret derived from the ring's key `kid` (default: the current one), e.g. the PKCE
    verifier of one OAuth attempt, so it never has to be stored (43 characters, as RFC 7636
    asks)."""
    return _mac(ring.key(kid or ring.current), f"derive.{label}")


def derived_token(ring: Keyring, label: str) -> str:
    """`kid "." derive(label)`: a value a third party echoes back to us (a push channel's token),
    checked with `check_derived` by whichever key made it."""
    return f"{ring.current}.{derive(ring, label)}"


def check_derived(ring: Keyring, label: str, token: str) -> bool:
    try:
        kid = key_id(token)
        expected = f"{kid}.{derive(ring, label, kid)}"
    except TokenError:
        return False
    # Opaque bytes: compare_digest refuses str with non-ASCII characters.
    return hmac.compare_digest(token.encode("utf-8", "surrogateescape"), expected.encode())


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(sha256(verifier)) without padding."""
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(secret), stored_hash)


def split_api_key(key: str) -> tuple[str, str]:
    """Owner API keys read `bk_<owner id>_<secret>`; returns (owner id, secret) or raises."""
    prefix, _, rest = key.partition("_")
    owner_id, _, secret = rest.partition("_")
    if prefix != "bk" or not ids.valid("owner", owner_id) or len(secret) < 32:
        raise TokenError("malformed API key")
    return owner_id, secret
