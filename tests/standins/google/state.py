"""Shared state of the Google stand-in: accounts, OAuth clients, grants and calendars.

The OAuth part (oauth.py) owns accounts, clients, codes and tokens; the Calendar part
(calendar.py) owns calendars, events, sync tokens and watch channels. Both read this one object,
under its lock, so a revoked grant stops Calendar calls at once, as at Google.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    # An External app whose consent screen is in "Testing": its refresh tokens die 7 days after
    # issue unless they carry only sign-in scopes (openid, email, profile).
    testing: bool = False


@dataclass
class Account:
    email: str
    sub: str
    name: str
    time_zone: str = "UTC"  # the primary calendar's zone
    # Calendars this account sees in its calendarList, by calendar id -> access role
    # (freeBusyReader / reader / writer / owner). Its primary calendar's id is its email.
    calendar_roles: dict[str, str] = field(default_factory=dict)


@dataclass
class AccessToken:
    token: str
    email: str
    client_id: str
    scopes: frozenset[str]  # canonical: "email" is stored as .../auth/userinfo.email
    expires_at: float  # epoch seconds
    refresh_token: str | None = None  # the refresh token it came from; revoking it kills this
    revoked: bool = False
    revoke_at: float | None = None  # a revocation still taking effect (revocation_delay)

    def dead(self, now: float) -> bool:
        """Expired, revoked, or revoked a while ago and that has now taken effect."""
        return (self.revoked or self.expires_at <= now
                or (self.revoke_at is not None and self.revoke_at <= now))


@dataclass
class RefreshToken:
    token: str
    email: str
    client_id: str
    scopes: frozenset[str]
    revoked: bool = False
    issued_at: float = 0.0
    last_used_at: float = 0.0  # unused for six months -> dead, as at Google


@dataclass
class Grant:
    """What one account has consented to for one client (myaccount.google.com/permissions)."""

    email: str
    client_id: str
    scopes: set[str]
    consented_at: float


@dataclass
class AuthCode:
    """An authorization code: single use, valid 10 minutes, bound to client and redirect_uri."""

    code: str
    client_id: str
    redirect_uri: str
    email: str
    scopes: frozenset[str]
    issued_at: float
    issue_refresh_token: bool  # access_type=offline and the consent screen was shown
    code_challenge: str | None = None
    code_challenge_method: str | None = None  # "S256" or "plain"
    nonce: str | None = None
    used: bool = False


class GoogleState:
    """Everything the stand-in knows. Hold `lock` while reading or writing."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock = time.time  # replaceable so tests can move time
        self.clients: dict[str, OAuthClient] = {}
        self.accounts: dict[str, Account] = {}  # by email
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.grants: dict[tuple[str, str], Grant] = {}  # by (email, client_id)
        self.auth_codes: dict[str, AuthCode] = {}
        # oauth.py's authorize flows in progress (account chooser -> consent), by opaque id.
        self.consent_sessions: dict[str, Any] = {}
        # Seconds added to `clock` by the control API; reset() brings it back to 0.
        self.clock_offset = 0.0
        # Seconds before a revocation stops access tokens (Google: "it might take some time
        # before the revocation has full effect"); set through the Calendar settings.
        self.revocation_delay = 0.0
        # Free for the Calendar part: calendars, events, channels, sync tokens, faults, requests.
        self.calendar: dict[str, Any] = {}
        # Calendar traffic that broke calendar.v3.json's schemas; the test harness fails on any.
        self.schema_violations: list[str] = []
        # Every request seen, for tests: dicts with method, path, query, headers, body, status.
        self.requests: list[dict[str, Any]] = []
        # Seconds the token endpoint waits before answering (Google's is ~100 ms away).
        self.token_latency = 0.0
        # Counts resets. A request still waiting out its latency when the state is reset belongs
        # to the world before it: it must not act on the next test's state (a 20 s insert once
        # landed a past test's event in a fresh test's calendar and took its slot).
        self.generation = 0

    def reset(self) -> None:
        """Forget everything (between tests) but keep the lock, the clock and the count."""
        with self.lock:
            lock, clock, generation = self.lock, self.clock, self.generation
            self.__init__()  # type: ignore[misc]
            self.lock, self.clock, self.generation = lock, clock, generation + 1

    def now(self) -> float:
        return self.clock() + self.clock_offset
