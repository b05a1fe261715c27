"""Owners are tenants: each has an API key (stored only as a hash) and may trade it for a signed
session cookie for the owner pages."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.adapters import firestore_owners as store
from booking.adapters import secrets as secret_store
from booking.domain import ids, tokens
from booking.domain.model import Owner
from booking.errors import InvalidInput, NotFound, Unauthorized

EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
SESSION_SECONDS = 12 * 3600


def validate_zone(value: str, field: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidInput(field, "is not an IANA time zone such as Europe/Ljubljana") from exc
    return value


def create_owner(owner_id: str, name: str, email: str, time_zone: str, now: datetime) -> str:
    """Creates the owner and returns its API key; the key is shown once and never stored."""
    problems: dict[str, str] = {}
    if not ids.valid("owner", owner_id):
        problems["owner_id"] = "use 3-40 lowercase letters, digits or dashes"
    if not name.strip() or len(name) > 200:
        problems["name"] = "is required (at most 200 characters)"
    if not EMAIL.fullmatch(email):
        problems["email"] = "is not an email address"
    if problems:
        raise InvalidInput(problems)
    validate_zone(time_zone, "time_zone")
    secret = secrets.token_urlsafe(32)
    store.create_owner(
        Owner(id=owner_id, name=name.strip(), email=email, time_zone=time_zone,
              api_key_hash=tokens.hash_api_key(secret)),
        now,
    )
    return f"bk_{owner_id}_{secret}"


def authenticate_key(api_key: str) -> Owner:
    """The owner whose key this is; Unauthorized otherwise (never says which part was wrong)."""
    try:
        owner_id, secret = tokens.split_api_key(api_key.strip())
        owner = store.get_owner(owner_id)
    except (tokens.TokenError, NotFound) as exc:
        raise Unauthorized("a valid owner API key is required") from exc
    if not tokens.api_key_matches(secret, owner.api_key_hash):
        raise Unauthorized("a valid owner API key is required")
    return owner


def session_for(owner_id: str, now: datetime) -> str:
    return tokens.sign(secret_store.signing_key(), "owner_session", {"o": owner_id},
                       expires_at=int(now.timestamp()) + SESSION_SECONDS)


def authenticate_session(cookie: str, now: datetime) -> Owner:
    try:
        claims = tokens.verify(secret_store.signing_key(), "owner_session", cookie,
                               now=now.timestamp())
        return store.get_owner(str(claims["o"]))
    except (tokens.TokenError, NotFound, KeyError) as exc:
        raise Unauthorized("your session has ended; please sign in again") from exc


def get(owner_id: str) -> Owner:
    """The owner as stored now (after a settings change, say); NotFound for an unknown id."""
    if not ids.valid("owner", owner_id):
        raise NotFound("no such owner")
    return store.get_owner(owner_id)


def allowed_origins(owner_id: str) -> set[str]:
    """The sites that may call the public functions for this owner (none for an unknown id)."""
    try:
        return set(get(owner_id).allowed_origins)
    except NotFound:
        return set()
