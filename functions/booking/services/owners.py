"""Owners are tenants: each has API keys (stored only as hashes; several at once during a
rotation, each revocable) and may trade one for a session cookie for the owner pages. Sessions
are recorded server-side: logout ends one at once, revoking a key ends every session signed in
with it."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.adapters import firestore_owners as store
from booking.adapters import signing_keys
from booking.domain import ids, tokens
from booking.domain.model import Owner
from booking.domain.problems import Problem
from booking.errors import DocumentMissing, InvalidInput, NotFound, Unauthorized
from booking.services.stored import translating

EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
SESSION_SECONDS = 12 * 3600
KEY_NEEDED = Problem("owner.key_needed", "a valid owner API key is required")
NO_OWNER = Problem("owner.not_found", "no such owner")


def validate_zone(value: str, field: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidInput(field, Problem("settings.time_zone", "is not an IANA time zone such as "
                                          "%(example)s", example="Europe/Ljubljana")) from exc
    return value


def _new_key(owner_id: str) -> tuple[str, str, str]:
    """(key id, the key as shown once, its stored hash)."""
    secret = secrets.token_urlsafe(32)
    return secrets.token_hex(4), f"bk_{owner_id}_{secret}", tokens.hash_api_key(secret)


@translating
def create_owner(owner_id: str, name: str, email: str, time_zone: str, now: datetime) -> str:
    """Creates the owner and returns its API key; the key is shown once and never stored."""
    problems: dict[str, Problem] = {}
    if not ids.valid("owner", owner_id):
        problems["owner_id"] = Problem("owner.id", "use 3-40 lowercase letters, digits or dashes")
    if not name.strip() or len(name) > 200:
        problems["name"] = Problem("owner.name", "is required (at most %(n)s characters)", n=200)
    if not EMAIL.fullmatch(email):
        problems["email"] = Problem("guest.email", "is not an email address")
    if problems:
        raise InvalidInput(problems)
    validate_zone(time_zone, "time_zone")
    kid, key, key_hash = _new_key(owner_id)
    store.create_owner(
        Owner(id=owner_id, name=name.strip(), email=email, time_zone=time_zone,
              api_keys={kid: key_hash}),
        now,
    )
    return key


@dataclass(frozen=True)
class Authenticated:
    owner: Owner
    key_id: str
    session_id: str | None = None  # set when signed in by session cookie


def authenticate_key(api_key: str) -> Authenticated:
    """The owner whose key this is; Unauthorized otherwise (never says which part was wrong)."""
    try:
        owner_id, secret = tokens.split_api_key(api_key.strip())
        owner = store.get_owner(owner_id)
    except (tokens.TokenError, DocumentMissing) as exc:
        raise Unauthorized(KEY_NEEDED) from exc
    for kid, key_hash in owner.api_keys.items():
        if tokens.api_key_matches(secret, key_hash):
            return Authenticated(owner, kid)
    raise Unauthorized(KEY_NEEDED)


@translating
def create_key(auth: Authenticated, now: datetime, *, replace_all: bool = False) -> dict[str, Any]:
    """A new API key (shown once). With `replace_all`, every other key is revoked in the same
    write and the sessions signed in with them end: that is a rotation after a leak."""
    kid, key, key_hash = _new_key(auth.owner.id)
    removed = store.add_api_key(auth.owner.id, kid, key_hash, now, replace_all=replace_all)
    if removed:
        store.delete_sessions_of_keys(auth.owner.id, removed)
    return {"id": kid, "api_key": key, "revoked": removed}


@translating
def list_keys(auth: Authenticated) -> list[dict[str, Any]]:
    keys = store.api_keys(auth.owner.id)
    return [{"id": kid, "created_at": data.get("created_at"), "this_request": kid == auth.key_id}
            for kid, data in sorted(keys.items(), key=lambda kv: str(kv[1].get("created_at")))]


@translating
def revoke_key(auth: Authenticated, kid: str) -> None:
    """The key stops working at once, and so does every session signed in with it."""
    store.remove_api_key(auth.owner.id, kid)
    store.delete_sessions_of_keys(auth.owner.id, [kid])


def session_for(auth: Authenticated, now: datetime) -> str:
    """A session recorded server-side (so logout and key revocation end it at once), named by a
    signed cookie."""
    sid = secrets.token_urlsafe(18)
    expires = now + timedelta(seconds=SESSION_SECONDS)
    store.create_session(auth.owner.id, sid, auth.key_id, now, expires)
    return tokens.sign(signing_keys.sessions(), "owner_session", {"o": auth.owner.id, "s": sid},
                       expires_at=int(expires.timestamp()))


def authenticate_session(cookie: str, now: datetime) -> Authenticated:
    ended = Unauthorized(Problem("session.ended", "your session has ended; please sign in again"))
    try:
        claims = signing_keys.verify(signing_keys.SESSIONS, "owner_session", cookie,
                                     now=now.timestamp())
        owner_id, sid = str(claims["o"]), str(claims["s"])
        session = store.get_session(owner_id, sid)
        owner = store.get_owner(owner_id)
    except (tokens.TokenError, DocumentMissing, KeyError) as exc:
        raise ended from exc
    if session is None or session.get("key_id") not in owner.api_keys:
        raise ended
    return Authenticated(owner, str(session["key_id"]), sid)


def end_session(auth: Authenticated) -> None:
    if auth.session_id:
        store.delete_session(auth.owner.id, auth.session_id)


@translating
def get(owner_id: str) -> Owner:
    """The owner as stored now (after a settings change, say); NotFound for an unknown id."""
    if not ids.valid("owner", owner_id):
        raise NotFound(NO_OWNER)
    return store.get_owner(owner_id)


def allowed_origins(owner_id: str) -> set[str]:
    """The sites that may call the public functions for this owner (none for an unknown id)."""
    try:
        return set(get(owner_id).allowed_origins)
    except NotFound:
        return set()
