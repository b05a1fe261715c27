"""Drives the product as a person would, over HTTP: used by the integration tests, the e2e tests
and the local run's seeding."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from tests.standins.google.control import GoogleControl


def owner_browser(base_url: str, api_key: str) -> requests.Session:
    """The owner's browser, signed in: it holds the session cookie from /owner/login."""
    browser = requests.Session()
    resp = browser.post(f"{base_url}/owner/login", data={"api_key": api_key},
                        headers={"Origin": origin_of(base_url)}, allow_redirects=False,
                        timeout=30)
    assert resp.status_code == 303, (resp.status_code, resp.text[:500])
    return browser


def origin_of(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def same_origin_json(base_url: str) -> dict[str, str]:
    """What a page script of ours sends with a change (owner_http's CSRF rule)."""
    return {"Origin": origin_of(base_url), "Sec-Fetch-Site": "same-origin"}


def start_connect(base_url: str, browser: requests.Session,
                  login_hint: str | None = None) -> str:
    """What the owner's Connect button does: oauth_start answers with a redirect to Google and
    binds the attempt to this browser with a cookie."""
    params = {"login_hint": login_hint} if login_hint else None
    resp = browser.get(f"{base_url}/oauth_start", params=params, allow_redirects=False,
                       timeout=30)
    assert resp.status_code == 303, (resp.status_code, resp.text[:500])
    return str(resp.headers["Location"])


def connect_google_account(base_url: str, api_key: str, google_url: str, email: str,
                           granted_scopes: list[str] | None = None,
                           deny: bool = False) -> requests.Response:
    """Sign in -> Connect -> choose account -> Continue -> Select all (or what is given) -> back
    to us, all in the owner's browser. Returns our oauth_callback's answer (a redirect to the
    integration page when all went well)."""
    browser = owner_browser(base_url, api_key)
    auth_url = start_connect(base_url, browser)
    back = GoogleControl(google_url).consent(auth_url, email, granted_scopes=granted_scopes,
                                             deny=deny)
    return browser.get(back, allow_redirects=False, timeout=30)


def owner_api(base_url: str, api_key: str, method: str, path: str,
              json: Any = None) -> requests.Response:
    return requests.request(method, f"{base_url}/owner/api{path}", json=json,
                            headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
