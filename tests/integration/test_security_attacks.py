"""Issue 13's attacks, each through HTTP on the local stack: a forwarded consent link, a shared
Google account's disconnect, cross-site posts with the owner's cookie, sessions after logout,
API keys after rotation, Google's error text, a callback that fails half-way."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import Stack
from tests.drivers import (
    connect_google_account,
    origin_of,
    owner_api,
    owner_browser,
    same_origin_json,
    start_connect,
)
from tests.integration.helpers import connection_docs, google, make_owner, owner_doc

OWNER_ACCOUNT = "ana@gmail.test"
VICTIM = "victim@gmail.test"
SHARED = "front.desk@example.test"
EVIL = "https://evil.example"


@pytest.fixture
def owner_key(stack: Stack) -> str:
    g = google(stack)
    for email, name in ((OWNER_ACCOUNT, "Ana"), (VICTIM, "Vic Tim"), (SHARED, "Front desk")):
        g.create_account(email, name, time_zone="Europe/Ljubljana")
    return make_owner("coach")


def _refresh_secrets(stack: Stack) -> list[str]:
    return sorted(n for n in stack.secret_manager.secret_names() if "/google-refresh-" in n)


def _live_tokens(stack: Stack, email: str) -> int:
    return sum(g["live_refresh_tokens"] for g in google(stack).grants() if g["email"] == email)


# --- 1. the OAuth state is no longer a bearer ---------------------------------------------------

def test_a_forwarded_consent_link_cannot_attach_someone_elses_account(
        stack: Stack, owner_key: str) -> None:
    """Owner starts Connect in their browser and sends the Google link to someone ("please
    reconnect my calendar"); that person completes it in their own browser."""
    owner = owner_browser(stack.base_url, owner_key)
    link = start_connect(stack.base_url, owner)
    victims_browser = requests.Session()
    back = google(stack).consent(link, VICTIM)
    resp = victims_browser.get(back, allow_redirects=False, timeout=30)
    assert resp.status_code == 403
    assert "started in another browser" in resp.text
    assert connection_docs("coach") == []
    assert _refresh_secrets(stack) == []
    # The code was never exchanged: the victim holds no grant for our client.
    assert _live_tokens(stack, VICTIM) == 0


def test_an_api_started_link_needs_the_signed_in_owner_to_confirm(
        stack: Stack, owner_key: str) -> None:
    url = owner_api(stack.base_url, owner_key, "GET", "/oauth/start").json()["url"]
    back = google(stack).consent(url, VICTIM)
    victims_browser = requests.Session()
    page = victims_browser.get(back, allow_redirects=False, timeout=30)
    assert page.status_code == 200 and "Connect this Google account?" in page.text
    assert connection_docs("coach") == []
    fields = parse_qs(urlsplit(back).query)
    body = {"form": {"state": fields["state"], "code": fields["code"]}}
    callback = f"{stack.base_url}/oauth_callback"
    # The victim has no session of the owner's.
    refused = victims_browser.post(callback, json=body, headers=same_origin_json(stack.base_url),
                                   allow_redirects=False, timeout=30)
    assert refused.status_code == 401
    # Another owner, signed in, cannot take it either.
    other = owner_browser(stack.base_url, make_owner("other", email="other@owner.test"))
    taken = other.post(callback, json=body, headers=same_origin_json(stack.base_url),
                       allow_redirects=False, timeout=30)
    assert taken.status_code == 403
    # Nor can a cross-site form post riding the owner's own cookie.
    owner = owner_browser(stack.base_url, owner_key)
    forged = owner.post(callback, data={"state": fields["state"][0], "code": fields["code"][0]},
                        headers={"Origin": EVIL}, allow_redirects=False, timeout=30)
    assert forged.status_code == 403
    assert connection_docs("coach") == [] and connection_docs("other") == []
    assert _refresh_secrets(stack) == []
    # The owner, signed in, confirming from our page: connected.
    done = owner.post(callback, json=body, headers=same_origin_json(stack.base_url),
                      allow_redirects=False, timeout=30)
    assert done.status_code == 303, done.text
    assert [c["email"] for c in connection_docs("coach")] == [VICTIM]


def test_a_confirmation_page_hides_the_form_from_other_sites(
        stack: Stack, owner_key: str) -> None:
    url = owner_api(stack.base_url, owner_key, "GET", "/oauth/start").json()["url"]
    page = requests.get(google(stack).consent(url, OWNER_ACCOUNT), allow_redirects=False,
                        timeout=30)
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


# --- 2. disconnect revokes only what nobody else uses ---------------------------------------

def test_disconnecting_a_shared_google_account_leaves_the_other_owner_connected(
        stack: Stack, owner_key: str) -> None:
    other_key = make_owner("other", email="other@owner.test")
    for key in (owner_key, other_key):
        assert connect_google_account(stack.base_url, key, stack.google_url,
                                      SHARED).status_code == 303
    mine = owner_api(stack.base_url, owner_key, "GET", "/connections").json()["connections"][0]
    assert owner_api(stack.base_url, owner_key, "DELETE",
                     f"/connections/{mine['id']}").status_code == 200
    google(stack).expire_access_tokens()  # the other owner's next call must refresh
    theirs = owner_api(stack.base_url, other_key, "GET", "/connections").json()["connections"]
    refreshed = owner_api(stack.base_url, other_key, "POST",
                          f"/connections/{theirs[0]['id']}/refresh")
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["status"] == "connected"
    assert _live_tokens(stack, SHARED) >= 1
    # The last one to disconnect does revoke.
    assert owner_api(stack.base_url, other_key, "DELETE",
                     f"/connections/{theirs[0]['id']}").status_code == 200
    assert _live_tokens(stack, SHARED) == 0


# --- 3. nothing stored unless the whole callback succeeds; no Google text echoed ------------

def test_a_callback_that_fails_after_the_grant_stores_nothing_and_hands_it_back(
        stack: Stack, owner_key: str) -> None:
    google(stack).inject_calendar_fault("calendarList.list", 403, "forbidden")
    resp = connect_google_account(stack.base_url, owner_key, stack.google_url, OWNER_ACCOUNT)
    assert resp.status_code == 400
    assert "nothing was connected" in resp.text
    assert connection_docs("coach") == []
    assert _refresh_secrets(stack) == []
    assert _live_tokens(stack, OWNER_ACCOUNT) == 0


def test_google_error_text_from_the_redirect_is_not_shown(stack: Stack, owner_key: str) -> None:
    owner = owner_browser(stack.base_url, owner_key)
    state = parse_qs(urlsplit(start_connect(stack.base_url, owner)).query)["state"][0]
    resp = owner.get(f"{stack.base_url}/oauth_callback", params={
        "state": state, "error": "Call 1-900-SCAM to restore your account",
        "error_description": "Your account is suspended"}, allow_redirects=False, timeout=30)
    assert resp.status_code == 400
    assert "SCAM" not in resp.text and "suspended" not in resp.text
    assert "did not connect the account" in resp.text


def test_the_consent_asks_only_the_narrow_calendar_scopes(stack: Stack, owner_key: str) -> None:
    owner = owner_browser(stack.base_url, owner_key)
    scopes = set(parse_qs(urlsplit(start_connect(stack.base_url, owner)).query)["scope"][0]
                 .split())
    assert scopes == {
        "openid", "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
        "https://www.googleapis.com/auth/calendar.freebusy",
        "https://www.googleapis.com/auth/calendar.events"}


# --- 4. the owner's cookie: same-origin JSON only, sessions end server-side ------------------

def _connected_owner(stack: Stack, owner_key: str) -> requests.Session:
    assert connect_google_account(stack.base_url, owner_key, stack.google_url,
                                  OWNER_ACCOUNT).status_code == 303
    return owner_browser(stack.base_url, owner_key)


def test_cross_site_posts_with_the_owners_cookie_change_nothing(
        stack: Stack, owner_key: str) -> None:
    owner = _connected_owner(stack, owner_key)
    conn_id = connection_docs("coach")[0]
    conn = owner_api(stack.base_url, owner_key, "GET", "/connections").json()["connections"][0]
    api = f"{stack.base_url}/owner/api"
    attempts = [
        # A classic cross-site form: form-encoded, from another origin.
        owner.post(f"{api}/settings", data={"meet_enabled": "false"},
                   headers={"Origin": EVIL}, timeout=30),
        owner.post(f"{stack.base_url}/owner/integrations/{conn['id']}/disconnect",
                   data={}, headers={"Origin": EVIL}, allow_redirects=False, timeout=30),
        # A form-encoded post even from our own origin (only JSON is accepted).
        owner.post(f"{api}/settings", data={"meet_enabled": "false"},
                   headers={"Origin": origin_of(stack.base_url)}, timeout=30),
        # JSON, but cross-site (a fetch with no-cors cannot send it; a browser says so).
        owner.patch(f"{api}/settings", json={"meet_enabled": False},
                    headers={"Sec-Fetch-Site": "cross-site", "Origin": EVIL}, timeout=30),
        owner.delete(f"{api}/connections/{conn['id']}", headers={"Origin": EVIL}, timeout=30),
        # JSON with neither Origin nor Sec-Fetch-Site: not provably ours.
        owner.patch(f"{api}/settings", json={"meet_enabled": False}, timeout=30),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert owner_doc("coach")["meet_enabled"] is True
    assert len(connection_docs("coach")) == 1 and conn_id
    ours = owner.patch(f"{api}/settings", json={"meet_enabled": False},
                       headers=same_origin_json(stack.base_url), timeout=30)
    assert ours.status_code == 200
    assert owner_doc("coach")["meet_enabled"] is False
    # The page's forms arrive as JSON from our own script and still work.
    page_form = owner.post(f"{stack.base_url}/owner/integrations/settings",
                           json={"form": {"meet_enabled": ["on"]}},
                           headers=same_origin_json(stack.base_url), allow_redirects=False,
                           timeout=30)
    assert page_form.status_code == 303
    assert owner_doc("coach")["meet_enabled"] is True


def test_a_session_ends_at_logout_even_if_its_cookie_was_kept(
        stack: Stack, owner_key: str) -> None:
    owner = owner_browser(stack.base_url, owner_key)
    stolen = dict(owner.cookies)
    assert owner.get(f"{stack.base_url}/owner/api/connections", timeout=30).status_code == 200
    out = owner.post(f"{stack.base_url}/owner/logout", json={},
                     headers=same_origin_json(stack.base_url), allow_redirects=False,
                     timeout=30)
    assert out.status_code == 303
    replay = requests.get(f"{stack.base_url}/owner/api/connections", cookies=stolen, timeout=30)
    assert replay.status_code == 401
    page = requests.get(f"{stack.base_url}/owner/integrations", cookies=stolen,
                        allow_redirects=False, timeout=30)
    assert page.status_code == 303 and page.headers["Location"].endswith("/owner/login")


def test_a_cross_site_logout_is_refused(stack: Stack, owner_key: str) -> None:
    owner = owner_browser(stack.base_url, owner_key)
    forced = owner.post(f"{stack.base_url}/owner/logout", data={}, headers={"Origin": EVIL},
                        allow_redirects=False, timeout=30)
    assert forced.status_code == 403
    assert owner.get(f"{stack.base_url}/owner/api/connections", timeout=30).status_code == 200


def test_rotating_the_api_key_ends_the_old_key_and_its_sessions(
        stack: Stack, owner_key: str) -> None:
    browser = owner_browser(stack.base_url, owner_key)
    rotated = owner_api(stack.base_url, owner_key, "POST", "/keys", json={"replace_all": True})
    assert rotated.status_code == 201
    new_key = rotated.json()["api_key"]
    assert new_key != owner_key and rotated.json()["revoked"]
    assert owner_api(stack.base_url, owner_key, "GET", "/connections").status_code == 401
    assert browser.get(f"{stack.base_url}/owner/api/connections", timeout=30).status_code == 401
    assert owner_api(stack.base_url, new_key, "GET", "/connections").status_code == 200
    assert "api_key" not in str(owner_doc("coach")).replace("api_keys", "")
    assert new_key.split("_", 2)[2] not in str(owner_doc("coach"))


def test_a_revoked_key_stops_working_and_the_last_key_cannot_be_revoked(
        stack: Stack, owner_key: str) -> None:
    second = owner_api(stack.base_url, owner_key, "POST", "/keys", json={}).json()
    keys = owner_api(stack.base_url, second["api_key"], "GET", "/keys").json()["keys"]
    assert len(keys) == 2
    first_id = next(k["id"] for k in keys if k["id"] != second["id"])
    browser = owner_browser(stack.base_url, owner_key)
    assert owner_api(stack.base_url, second["api_key"], "DELETE",
                     f"/keys/{first_id}").status_code == 200
    assert owner_api(stack.base_url, owner_key, "GET", "/connections").status_code == 401
    assert browser.get(f"{stack.base_url}/owner/api/connections", timeout=30).status_code == 401
    last = owner_api(stack.base_url, second["api_key"], "DELETE", f"/keys/{second['id']}")
    assert last.status_code == 409
    assert owner_api(stack.base_url, second["api_key"], "GET", "/connections").status_code == 200


def test_session_cookie_is_host_bound_httponly_and_strict(stack: Stack, owner_key: str) -> None:
    login = requests.post(f"{stack.base_url}/owner/login", data={"api_key": owner_key},
                          headers={"Origin": origin_of(stack.base_url)},
                          allow_redirects=False, timeout=30)
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    # Over http (this stack) there is no __Host- prefix: browsers accept it only with Secure.
    assert cookie.startswith("owner_session=")


def test_the_shell_command_rotates_an_owners_key(
        stack: Stack, owner_key: str, capsys: pytest.CaptureFixture[str]) -> None:
    from scripts import owner

    assert owner.main(["rotate-key", "coach"]) == 0
    new_key = capsys.readouterr().out.strip()
    assert owner_api(stack.base_url, owner_key, "GET", "/connections").status_code == 401
    assert owner_api(stack.base_url, new_key, "GET", "/connections").status_code == 200
