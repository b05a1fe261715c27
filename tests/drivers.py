"""Drives the product as a person would, over HTTP: used by the integration tests, the e2e tests
and the local run's seeding."""

from __future__ import annotations

from typing import Any

import requests

from tests.standins.google.control import GoogleControl


def start_connect(base_url: str, api_key: str, login_hint: str | None = None) -> str:
    """What the owner's Connect button does: oauth_start answers with a redirect to Google."""
    params = {"login_hint": login_hint} if login_hint else None
    resp = requests.get(f"{base_url}/oauth_start", params=params,
                        headers={"Authorization": f"Bearer {api_key}"},
                        allow_redirects=False, timeout=30)
    assert resp.status_code == 303, (resp.status_code, resp.text[:500])
    return str(resp.headers["Location"])


def connect_google_account(base_url: str, api_key: str, google_url: str, email: str,
                           granted_scopes: list[str] | None = None,
                           deny: bool = False) -> requests.Response:
    """Connect -> choose account -> Continue -> Select all (or what is given) -> back to us.
    Returns our oauth_callback's answer (a redirect to the integration page when all went well).
    """
    auth_url = start_connect(base_url, api_key, login_hint=None)
    back = GoogleControl(google_url).consent(auth_url, email, granted_scopes=granted_scopes,
                                             deny=deny)
    return requests.get(back, allow_redirects=False, timeout=30)


def owner_api(base_url: str, api_key: str, method: str, path: str,
              json: Any = None) -> requests.Response:
    return requests.request(method, f"{base_url}/owner/api{path}", json=json,
                            headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
