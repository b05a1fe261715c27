"""Connecting Google accounts end to end: our functions over HTTP, the Google and Secret Manager
stand-ins, the Firestore emulator, the real client libraries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from booking.config import CALENDAR_SCOPES
from tests.conftest import Stack
from tests.drivers import connect_google_account, owner_api, owner_browser, start_connect
from tests.integration.helpers import connection_docs, google, make_owner, owner_doc

ACCOUNT_A = "alex@gmail.test"
ACCOUNT_B = "alex.work@example.test"


@pytest.fixture
def owner_key(stack: Stack) -> str:
    g = google(stack)
    g.create_account(ACCOUNT_A, "Alex", time_zone="Europe/Ljubljana")
    g.create_account(ACCOUNT_B, "Alex at work", time_zone="America/New_York")
    return make_owner("coach")


def _secret_ids(stack: Stack) -> list[str]:
    """The refresh-token secrets (our signing key lives beside them)."""
    return sorted(n for n in stack.secret_manager.secret_names() if "/google-refresh-" in n)


def test_two_accounts_connect_with_defaults_and_secrets_only_in_secret_manager(
    stack: Stack, owner_key: str
) -> None:
    first = connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A)
    assert first.status_code == 303
    assert first.headers["Location"].endswith("/owner/integrations?connected=1")
    second = connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_B)
    assert second.status_code == 303

    view = owner_api(stack.base_url, owner_key, "GET", "/connections").json()
    assert [c["email"] for c in view["connections"]] == [ACCOUNT_A, ACCOUNT_B]
    assert all(c["status"] == "connected" for c in view["connections"])
    first_conn = view["connections"][0]
    # The first account's primary calendar becomes the default; each primary is checked.
    assert view["default_calendar"] == {"connection_id": first_conn["id"],
                                        "calendar_id": ACCOUNT_A}
    for conn in view["connections"]:
        primary = next(c for c in conn["calendars"] if c["primary"])
        assert primary["check_conflicts"] is True
        assert primary["access_role"] == "owner"
    second_primary = next(c for c in view["connections"][1]["calendars"] if c["primary"])
    assert second_primary["time_zone"] == "America/New_York"
    assert view["meet_enabled"] is True

    # One secret per connection; the stored refresh token is the one Google issued.
    assert len(_secret_ids(stack)) == 2
    for doc in connection_docs("coach"):
        assert set(CALENDAR_SCOPES) <= set(doc["scopes"])
        assert "https://www.googleapis.com/auth/calendar" not in doc["scopes"]
        assert "refresh_token" not in str(doc)


def test_integration_page_shows_connected_accounts_after_login(
    stack: Stack, owner_key: str
) -> None:
    connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A)
    browser = requests.Session()
    login = browser.post(f"{stack.base_url}/owner/login", data={"api_key": owner_key},
                         allow_redirects=False, timeout=30)
    assert login.status_code == 303
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = browser.get(f"{stack.base_url}/owner/integrations", timeout=30)
    assert page.status_code == 200
    assert ACCOUNT_A in page.text and "Connected" in page.text
    assert "Coach &lt;Owner&gt;" in page.text  # the owner's name is escaped
    assert page.headers["Cache-Control"] == "no-store"


def test_reconnecting_the_same_account_updates_it_without_duplicates(
    stack: Stack, owner_key: str
) -> None:
    connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A)
    before = connection_docs("coach")[0]
    again = connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A)
    assert again.headers["Location"].endswith("?reconnected=1")
    docs = connection_docs("coach")
    assert len(docs) == 1
    assert docs[0]["token_version"] == before["token_version"] + 1
    assert len(_secret_ids(stack)) == 1
    # The replaced refresh token's version was destroyed: only one version is live.
    assert stack.secret_manager.live_version_count(_secret_ids(stack)[0]) == 1


def _callback(stack: Stack, **params: str) -> requests.Response:
    return requests.get(f"{stack.base_url}/oauth_callback", params=params,
                        allow_redirects=False, timeout=30)


def _nothing_stored(stack: Stack) -> None:
    assert connection_docs("coach") == []
    assert _secret_ids(stack) == []


def test_tampered_state_is_refused_and_nothing_is_stored(stack: Stack, owner_key: str) -> None:
    browser = owner_browser(stack.base_url, owner_key)
    auth_url = start_connect(stack.base_url, browser)
    back = google(stack).consent(auth_url, ACCOUNT_A)
    query = parse_qs(urlsplit(back).query)
    state = query["state"][0]
    tampered = state[:-3] + ("AAA" if not state.endswith("AAA") else "BBB")
    resp = browser.get(f"{stack.base_url}/oauth_callback",
                       params={"code": query["code"][0], "state": tampered},
                       allow_redirects=False, timeout=30)
    assert resp.status_code == 400
    assert "not a valid sign-in attempt" in resp.text
    _nothing_stored(stack)


def test_reused_state_is_refused_the_second_time(stack: Stack, owner_key: str) -> None:
    browser = owner_browser(stack.base_url, owner_key)
    auth_url = start_connect(stack.base_url, browser)
    back = google(stack).consent(auth_url, ACCOUNT_A)
    binding = browser.cookies["oauth_attempt"]
    assert browser.get(back, allow_redirects=False, timeout=30).status_code == 303
    assert "oauth_attempt" not in browser.cookies  # the callback clears it
    browser.cookies.set("oauth_attempt", binding)  # even with it kept, the state works once
    replay = browser.get(back, allow_redirects=False, timeout=30)
    assert replay.status_code == 410
    assert "used already" in replay.text
    assert len(connection_docs("coach")) == 1


def test_expired_state_is_refused(stack: Stack, owner_key: str) -> None:
    from booking.adapters import signing_keys
    from booking.domain import tokens

    past = datetime.now(UTC) - timedelta(minutes=11)
    state = tokens.sign(signing_keys.oauth(), "oauth_state", {"o": "coach", "n": "x" * 32},
                        expires_at=int((past + timedelta(minutes=10)).timestamp()))
    resp = _callback(stack, code="whatever", state=state)
    assert resp.status_code == 410
    assert "10 minutes" in resp.text
    _nothing_stored(stack)


def test_missing_state_names_the_field(stack: Stack, owner_key: str) -> None:
    resp = _callback(stack, code="abc")
    assert resp.status_code == 400
    assert "state" in resp.text


def test_unticked_calendar_scope_asks_to_select_all_and_stores_nothing(
    stack: Stack, owner_key: str
) -> None:
    resp = connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A,
                                  granted_scopes=[])
    assert resp.status_code == 400
    assert "Select all" in resp.text
    # Not a dead end: the page leads back into the flow and to the integration page.
    assert f'href="{stack.base_url}/oauth_start">Connect again' in resp.text
    assert f'href="{stack.base_url}/owner/integrations">Back to integrations' in resp.text
    _nothing_stored(stack)
    # The partial grant was handed back to Google.
    grants = [g for g in google(stack).grants() if g["email"] == ACCOUNT_A]
    assert all(g["live_refresh_tokens"] == 0 for g in grants)


def test_a_failed_connect_speaks_the_owners_language_not_the_browsers(
    stack: Stack, owner_key: str
) -> None:
    assert owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                     json={"language": "sl"}).status_code == 200
    resp = connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A,
                                  deny=True)  # the requests browser asks for no language
    assert resp.status_code == 400
    assert "Dostopa do Google Koledarja niste dovolili" in resp.text
    assert ">Poveži znova</a>" in resp.text
    _nothing_stored(stack)


def test_access_denied_ends_on_a_clear_page_with_nothing_stored(
    stack: Stack, owner_key: str
) -> None:
    resp = connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A,
                                  deny=True)
    assert resp.status_code == 400
    assert "did not allow access" in resp.text
    _nothing_stored(stack)


def test_failed_code_exchange_ends_on_a_clear_page(stack: Stack, owner_key: str) -> None:
    browser = owner_browser(stack.base_url, owner_key)
    auth_url = start_connect(stack.base_url, browser)
    back = google(stack).consent(auth_url, ACCOUNT_A)
    query = parse_qs(urlsplit(back).query)
    resp = browser.get(f"{stack.base_url}/oauth_callback",
                       params={"code": "not-a-code", "state": query["state"][0]},
                       allow_redirects=False, timeout=30)
    assert resp.status_code == 400
    assert "did not accept this sign-in" in resp.text
    _nothing_stored(stack)


def test_disconnect_revokes_stops_channels_and_deletes_the_secret(
    stack: Stack, owner_key: str
) -> None:
    connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A)
    connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_B)
    conns = owner_api(stack.base_url, owner_key, "GET", "/connections").json()["connections"]
    first = conns[0]["id"]
    open_channels = [c for c in google(stack).channels()
                     if c["calendarId"] == ACCOUNT_A and c["live"]]
    assert open_channels, "connecting should watch the account's calendars"

    resp = owner_api(stack.base_url, owner_key, "DELETE", f"/connections/{first}")
    assert resp.status_code == 200
    view = owner_api(stack.base_url, owner_key, "GET", "/connections").json()
    assert [c["email"] for c in view["connections"]] == [ACCOUNT_B]
    # The default calendar moved to the remaining account's primary.
    assert view["default_calendar"]["calendar_id"] == ACCOUNT_B
    assert len(_secret_ids(stack)) == 1
    grants = {g["email"]: g for g in google(stack).grants()}
    assert grants.get(ACCOUNT_A, {}).get("live_refresh_tokens", 0) == 0
    assert grants[ACCOUNT_B]["live_refresh_tokens"] == 1
    assert not [c for c in google(stack).channels()
                if c["calendarId"] == ACCOUNT_A and c["live"]]


def test_default_calendar_must_be_writable_and_conflicts_span_accounts(
    stack: Stack, owner_key: str
) -> None:
    g = google(stack)
    g.create_calendar("holidays@group.test", summary="Holidays", time_zone="Europe/Ljubljana",
                      owner=ACCOUNT_B, shares={ACCOUNT_A: "reader"})
    connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A)
    connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_B)
    conns = owner_api(stack.base_url, owner_key, "GET", "/connections").json()["connections"]
    a, b = conns[0]["id"], conns[1]["id"]

    refused = owner_api(stack.base_url, owner_key, "PATCH", "/settings", json={
        "default_calendar": {"connection_id": a, "calendar_id": "holidays@group.test"},
        "meet_enabled": False,
    })
    assert refused.status_code == 400
    assert "writer or owner" in refused.json()["fields"]["default_calendar"]
    assert owner_doc("coach")["meet_enabled"] is True  # nothing changed

    ok = owner_api(stack.base_url, owner_key, "PATCH", "/settings", json={
        "default_calendar": {"connection_id": b, "calendar_id": ACCOUNT_B},
        "conflict_calendars": [{"connection_id": a, "calendar_id": "holidays@group.test"},
                               {"connection_id": b, "calendar_id": ACCOUNT_B}],
        "meet_enabled": False,
    })
    assert ok.status_code == 200, ok.text
    view = ok.json()
    assert view["default_calendar"] == {"connection_id": b, "calendar_id": ACCOUNT_B}
    assert view["meet_enabled"] is False
    checked = {(c["id"], cal["id"]) for c in view["connections"] for cal in c["calendars"]
               if cal["check_conflicts"]}
    assert checked == {(a, "holidays@group.test"), (b, ACCOUNT_B)}


def test_refresh_calendars_picks_up_a_new_calendar(stack: Stack, owner_key: str) -> None:
    connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A)
    conn_id = owner_api(stack.base_url, owner_key, "GET", "/connections").json()[
        "connections"][0]["id"]
    google(stack).create_calendar("clients@group.test", summary="Clients",
                                  time_zone="Europe/Ljubljana", owner=ACCOUNT_A)
    resp = owner_api(stack.base_url, owner_key, "POST", f"/connections/{conn_id}/refresh")
    assert resp.status_code == 200
    assert "clients@group.test" in [c["id"] for c in resp.json()["calendars"]]


def test_revoked_grant_marks_needs_reconnect_emails_once_and_reconnect_heals(
    stack: Stack, owner_key: str
) -> None:
    connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A)
    conn_id = owner_api(stack.base_url, owner_key, "GET", "/connections").json()[
        "connections"][0]["id"]
    google(stack).revoke_account(ACCOUNT_A)
    google(stack).expire_access_tokens()

    for _ in range(2):
        resp = owner_api(stack.base_url, owner_key, "POST", f"/connections/{conn_id}/refresh")
        assert resp.status_code == 503
        assert ACCOUNT_A in resp.json()["message"]
    view = owner_api(stack.base_url, owner_key, "GET", "/connections").json()
    assert view["connections"][0]["status"] == "needs_reconnect"
    mails = [m for m in stack.sendgrid.messages() if "Reconnect" in m["subject"]]
    assert len(mails) == 1
    assert mails[0]["to"] == ["coach@owner.test"]
    assert "/owner/integrations" in mails[0]["text"]

    healed = connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A)
    assert healed.status_code == 303
    view = owner_api(stack.base_url, owner_key, "GET", "/connections").json()
    assert [c["status"] for c in view["connections"]] == ["connected"]
    again = owner_api(stack.base_url, owner_key, "POST", f"/connections/{conn_id}/refresh")
    assert again.status_code == 200


def test_another_owners_key_is_refused_on_every_management_endpoint(
    stack: Stack, owner_key: str
) -> None:
    connect_google_account(stack.base_url, owner_key, stack.google_url, ACCOUNT_A)
    conn_id = owner_api(stack.base_url, owner_key, "GET", "/connections").json()[
        "connections"][0]["id"]
    other_key = make_owner("intruder", email="intruder@owner.test")
    assert owner_api(stack.base_url, other_key, "GET", "/connections").json()[
        "connections"] == []
    for method, path in [("GET", f"/connections/{conn_id}"),
                         ("DELETE", f"/connections/{conn_id}"),
                         ("POST", f"/connections/{conn_id}/refresh")]:
        assert owner_api(stack.base_url, other_key, method, path).status_code == 404
    settings = owner_api(stack.base_url, other_key, "PATCH", "/settings", json={
        "default_calendar": {"connection_id": conn_id, "calendar_id": ACCOUNT_A}})
    assert settings.status_code == 400
    # No key, or a forged one: 401.
    assert requests.get(f"{stack.base_url}/owner/api/connections", timeout=30).status_code == 401
    forged = owner_key[:-4] + "abcd"
    assert owner_api(stack.base_url, forged, "GET", "/connections").status_code == 401
    assert len(connection_docs("coach")) == 1
