"""Signed, expiring tokens for links, OAuth state and owner sessions; owner API key hashing.

A token is `base64url(json claims) "." base64url(HMAC-SHA256(key, purpose "." claims))`. The
purpose is inside the MAC, so a cancel link can never pass as an OAuth state or a session, and
`exp` (epoch seconds) is inside the claims, so no one can stretch a link's life.

    >>> t = sign(b"k" * 32, "oauth_state", {"owner": "o1"}, expires_at=1_000)
    >>> verify(b"k" * 32, "oauth_state", t, now=999)["owner"]
    'o1'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from booking.domain import ids


class TokenError(ValueError):
    """The token is malformed, tampered with, of another purpose, or expired (`expired`)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, body: str) -> str:
    return _b64(hmac.new(key, f"{purpose}.{body}".encode(), hashlib.sha256).digest())


def sign(key: bytes, purpose: str, claims: dict[str, Any], *, expires_at: int) -> str:
    body = _b64(json.dumps({**claims, "exp": int(expires_at)}, separators=(",", ":")).encode())
    return f"{body}.{_mac(key, purpose, body)}"


def verify(key: bytes, purpose: str, token: str, *, now: float) -> dict[str, Any]:
    """Returns the claims; raises TokenError unless the MAC, the purpose and the expiry hold."""
    body, dot, mac = token.partition(".")
    if not dot or not body or not mac or len(token) > 4096 or not token.isascii():
        raise TokenError("malformed token")
    if not hmac.compare_digest(mac, _mac(key, purpose, body)):
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


def derive(key: bytes, label: str) -> str:
    """A secret derived from our key, e.g. the PKCE verifier of one OAuth attempt, so that it
    never has to be stored anywhere (43+ characters, as RFC 7636 asks)."""
    return _b64(hmac.new(key, f"derive.{label}".encode(), hashlib.sha256).digest())


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
