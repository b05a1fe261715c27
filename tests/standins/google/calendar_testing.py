"""Helpers for tests that drive the Calendar stand-in with the real google-api-python-client.

    token = mint_token(standin.state, "ada@example.com")
    service = calendar_service(server.url, token)
    with PushReceiver() as hooks:
        service.events().watch(calendarId="primary", body={..., "address": hooks.url}).execute()
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, request

from tests.standins.google.state import AccessToken, GoogleState
from tests.standins.server import StandinServer

FULL_SCOPE = "https://www.googleapis.com/auth/calendar"
READONLY_SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"


def mint_token(
    state: GoogleState,
    email: str,
    scopes: tuple[str, ...] = (FULL_SCOPE,),
    lifetime: float = 3600.0,
    client_id: str = "calendar-tests.apps.googleusercontent.com",
) -> str:
    """An access token for an existing account, as if the OAuth dance had happened."""
    token = "ya29.standin-" + secrets.token_urlsafe(24)
    with state.lock:
        state.access_tokens[token] = AccessToken(
            token=token,
            email=email,
            client_id=client_id,
            scopes=frozenset(scopes),
            expires_at=state.now() + lifetime,
        )
    return token


def calendar_service(base_url: str, token: str) -> Any:
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    return build(
        "calendar",
        "v3",
        credentials=Credentials(token),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": f"{base_url}/calendar/v3/"},
        static_discovery=True,
        cache_discovery=False,
    )


def error_reason(exc: Any) -> str:
    """The reason of a googleapiclient HttpError, e.g. "fullSyncRequired"."""
    return str(json.loads(exc.content)["error"]["errors"][0]["reason"])


@dataclass
class Push:
    headers: dict[str, str]  # lower-case names: "x-goog-resource-state"
    body: bytes
    at: float = 0.0  # time.monotonic() on arrival


@dataclass
class PushReceiver:
    """A web hook on 127.0.0.1 that records Google's push notifications.

    `fail_next` answers that many requests with `fail_status` (500 unless told) before
    accepting again; `delay` makes every answer that many seconds slow; `on_push` runs inside
    the request for each accepted push (to look at Google's state at that moment).
    """

    fail_next: int = 0
    fail_status: int = 500
    delay: float = 0.0
    on_push: Callable[[Push], None] | None = None
    received: list[Push] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        app = Flask("push-receiver")

        @app.post("/hook")
        def hook() -> tuple[str, int]:
            time.sleep(self.delay)
            with self._lock:
                self.attempts += 1
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return "try later", self.fail_status
                push = Push({k.lower(): v for k, v in request.headers.items()},
                            request.get_data(), time.monotonic())
                self.received.append(push)
            if self.on_push is not None:
                self.on_push(push)
            return "", 200

        self._server = StandinServer(app)
        self.url = f"{self._server.url}/hook"

    def pushes(self, channel_id: str | None = None) -> list[Push]:
        with self._lock:
            return [
                p for p in self.received
                if channel_id is None or p.headers.get("x-goog-channel-id") == channel_id
            ]

    def __enter__(self) -> PushReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
