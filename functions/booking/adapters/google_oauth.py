"""Google's OAuth 2.0 endpoints: the consent URL, the code exchange, id_token checks, revoke."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from booking.config import Settings
from booking.errors import PermanentError, TransientError

_TIMEOUT = 15


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scopes: frozenset[str]
    id_token: str | None


def consent_url(settings: Settings, *, scopes: list[str], state: str, code_challenge: str,
                redirect_uri: str, login_hint: str | None = None) -> str:
    params = {
        "client_id": settings.need("google_client_id"),
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "access_type": "offline",
        # consent, so Google issues a refresh token even for an account that consented before.
        "prompt": "consent select_account",
        "include_granted_scopes": "true",
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if login_hint:
        params["login_hint"] = login_hint
    return f"{settings.google_auth_uri}?{urlencode(params)}"


def _post(url: str, data: dict[str, str]) -> Any:
    import requests

    try:
        return requests.post(url, data=data, timeout=_TIMEOUT)
    except requests.RequestException as exc:
        raise TransientError("google", f"{url} unreachable: {type(exc).__name__}") from exc


def exchange_code(settings: Settings, *, code: str, code_verifier: str,
                  redirect_uri: str) -> TokenGrant:
    resp = _post(
        settings.google_token_uri,
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": code_verifier,
            "redirect_uri": redirect_uri,
            "client_id": settings.need("google_client_id"),
            "client_secret": settings.need("google_client_secret"),
        },
    )
    if resp.status_code >= 500 or resp.status_code == 429:
        raise TransientError("google", f"token endpoint answered {resp.status_code}")
    try:
        body = resp.json()
    except ValueError as exc:
        raise TransientError("google", "token endpoint answered no JSON") from exc
    if resp.status_code != 200:
        # Only the error word: the description may echo what we sent.
        raise PermanentError("google", f"code exchange refused: {body.get('error')}",
                             resp.status_code)
    return TokenGrant(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token"),
        expires_in=int(body.get("expires_in", 3600)),
        scopes=frozenset(str(body.get("scope", "")).split()),
        id_token=body.get("id_token"),
    )


def verify_id_token(settings: Settings, token: str) -> dict[str, Any]:
    """Checks signature, audience, expiry and issuer; returns the claims (email, sub...)."""
    import google.auth.transport.requests
    from google.auth import exceptions as gexc
    from google.oauth2 import id_token

    request = google.auth.transport.requests.Request()
    try:
        claims: Mapping[str, Any] = id_token.verify_token(
            token, request, audience=settings.need("google_client_id"),
            certs_url=settings.google_certs_uri,
        )
    except (ValueError, gexc.GoogleAuthError) as exc:
        raise PermanentError("google", f"id_token rejected: {type(exc).__name__}") from exc
    issuers = {settings.google_issuer, "accounts.google.com", "https://accounts.google.com"}
    if claims.get("iss") not in issuers:
        raise PermanentError("google", "id_token from an unexpected issuer")
    if not claims.get("email") or not claims.get("sub"):
        raise PermanentError("google", "id_token carries no email")
    return dict(claims)


def revoke(settings: Settings, token: str) -> bool:
    """Revokes a grant at Google. False when Google says the token is already invalid."""
    resp = _post(settings.google_revoke_uri, {"token": token})
    if resp.status_code >= 500:
        raise TransientError("google", f"revoke answered {resp.status_code}")
    return bool(resp.status_code == 200)
