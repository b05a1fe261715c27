"""The Google stand-in as one WSGI app: OAuth endpoints and Calendar API v3 on one server.

Paths mirror Google's so only the host differs: /o/oauth2/v2/auth, /token, /revoke,
/oauth2/v3/certs, /.well-known/openid-configuration, /calendar/v3/... ; the control API for tests
and the local run lives under /_control/.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.standins.google import calendar, oauth
from tests.standins.google.state import GoogleState, OAuthClient


class GoogleStandin:
    def __init__(self) -> None:
        self.state = GoogleState()
        self.app = Flask("google-standin")
        self.app.register_blueprint(oauth.blueprint(self.state))
        self.app.register_blueprint(calendar.blueprint(self.state))

    def reset(self) -> None:
        self.state.reset()

    def register_client(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        with self.state.lock:
            self.state.clients[client_id] = OAuthClient(client_id, client_secret, redirect_uris)

    def schema_violations(self) -> list[str]:
        with self.state.lock:
            return list(self.state.schema_violations)

    def issued_refresh_tokens(self) -> list[str]:
        """Every refresh token the stand-in ever issued in this test (revoked ones too)."""
        with self.state.lock:
            return list(self.state.refresh_tokens)

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app.wsgi_app(environ, start_response)

    __call__ = wsgi_app
