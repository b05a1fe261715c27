"""Owner cookies on an https site: `__Host-` names, Secure, Path=/, no Domain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Response

from booking import clients
from booking.web import owner_http


@pytest.fixture
def https_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p")
    monkeypatch.setenv("FUNCTION_BASE_URL", "https://europe-west1-p.cloudfunctions.net")
    clients.reset()
    yield
    clients.reset()


def test_session_and_oauth_cookies_are_host_bound_on_https(https_site: None) -> None:
    resp = Response()
    owner_http._set_cookie(resp, "owner_session", "v", 60, "Strict")
    owner_http._set_cookie(resp, "oauth_attempt", "w", 60, "Lax")
    session, attempt = resp.headers.getlist("Set-Cookie")
    assert session.startswith("__Host-owner_session=v;")
    assert attempt.startswith("__Host-oauth_attempt=w;")
    for cookie in (session, attempt):
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie
    assert "SameSite=Strict" in session and "SameSite=Lax" in attempt
    assert owner_http.cookie_name("owner_session") == "__Host-owner_session"
