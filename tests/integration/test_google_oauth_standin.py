"""The OAuth half of the Google stand-in, driven like Google: real HTTP, the real google-auth.

Pages are followed as a browser would (HTML forms parsed with the standard library), tokens are
exchanged with plain `requests`, refreshed with google.oauth2.credentials.Credentials and ID tokens
checked with google.oauth2.id_token.verify_token. The module serves its own app built from
oauth.blueprint() so it does not depend on the Calendar half's behaviour; one test checks the
composed GoogleStandin from conftest as well.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import google.auth.transport.requests
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from google.auth.exceptions import RefreshError
from google.oauth2 import id_token as google_id_token
from google.oauth2.credentials import Credentials

from tests.standins.google import oauth
from tests.standins.google.control_oauth import OAuthControl
from tests.standins.google.state import GoogleState, OAuthClient
from tests.standins.server import StandinServer

CLIENT_ID = "oauth-test.apps.googleusercontent.com"
CLIENT_SECRET = "oauth-test-secret"
OTHER_CLIENT_ID = "other.apps.googleusercontent.com"
OTHER_SECRET = "other-secret"
REDIRECT_URI = "http://127.0.0.1:8080/oauth_callback"
CALENDAR = "https://www.googleapis.com/auth/calendar"
EVENTS = "https://www.googleapis.com/auth/calendar.events"
ALICE = "alice@example.test"
BOB = "bob@example.test"


@dataclass
class Env:
    url: str
    state: GoogleState
    control: OAuthControl

    def auth_url(self, **params: str) -> str:
        query = {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": f"openid email profile {CALENDAR}",
            "state": "st-1",
            "access_type": "offline",
        }
        query.update(params)
        query = {k: v for k, v in query.items() if v is not None}
        return f"{self.url}/o/oauth2/v2/auth?{urllib.parse.urlencode(query)}"

    def exchange(self, code: str, **extra: str) -> requests.Response:
        data = {
            "code": code,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": REDIRECT_URI,
            "grant_type": "authorization_code",
        }
        data.update(extra)
        return requests.post(f"{self.url}/token", data=data, timeout=10)

    def tokens(self, auth_url: str, email: str = ALICE, **consent: Any) -> dict[str, Any]:
        """Consent through the control API and exchange the code; the token response."""
        code = redirect_params(self.control.consent(auth_url, email, **consent))["code"]
        resp = self.exchange(code)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def credentials(self, refresh_token: str, secret: str = CLIENT_SECRET) -> Credentials:
        return Credentials(
            token=None,
            refresh_token=refresh_token,
            token_uri=f"{self.url}/token",
            client_id=CLIENT_ID,
            client_secret=secret,
            scopes=None,
        )


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[StandinServer, GoogleState]]:
    state = GoogleState()
    app = Flask("oauth-standin-test")
    app.register_blueprint(oauth.blueprint(state))
    with StandinServer(app) as srv:
        yield srv, state


@pytest.fixture(autouse=True)
def env(server: tuple[StandinServer, GoogleState]) -> Env:
    srv, state = server
    state.reset()
    with state.lock:
        state.clients[CLIENT_ID] = OAuthClient(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
        state.clients[OTHER_CLIENT_ID] = OAuthClient(OTHER_CLIENT_ID, OTHER_SECRET, [REDIRECT_URI])
    control = OAuthControl(srv.url)
    control.create_account(ALICE, name="Alice Example", time_zone="Europe/Berlin")
    control.create_account(BOB, name="Bob Example")
    return Env(srv.url, state, control)


def google_request() -> google.auth.transport.requests.Request:
    return google.auth.transport.requests.Request()


def redirect_params(url: str) -> dict[str, str]:
    assert url.startswith(REDIRECT_URI + "?"), url
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


# ---- a tiny browser: parse forms, submit them -------------------------------------------------


class FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "inputs": [], "buttons": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "input":
            self._form["inputs"].append(a)
        elif self._form is not None and tag == "button":
            self._form["buttons"].append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def forms(resp: requests.Response) -> list[dict[str, Any]]:
    parser = FormParser()
    parser.feed(resp.text)
    return parser.forms


def submit(
    env: Env,
    form: dict[str, Any],
    button: str,
    tick: set[tuple[str, str]] | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> requests.Response:
    """Submit `form` with the button whose value is `button`; `tick` = checkboxes to tick
    (name, value); otherwise they are sent as the page left them."""
    data: list[tuple[str, str]] = []
    for field in form["inputs"]:
        kind = field.get("type", "text")
        if kind == "checkbox":
            on = (field["name"], field["value"]) in tick if tick is not None else "checked" in field
            if on:
                data.append((field["name"], field["value"]))
        else:
            data.append((field["name"], field.get("value", "")))
    clicked = [b for b in form["buttons"] if b.get("value") == button]
    assert clicked, f"no button {button!r} in {form['buttons']}"
    data.append((clicked[0]["name"], button))
    data += extra or []
    return requests.post(
        urllib.parse.urljoin(env.url, form["action"]), data=data, allow_redirects=False, timeout=10
    )


def choose(env: Env, page: requests.Response, email: str) -> requests.Response:
    for form in forms(page):
        if any(i.get("name") == "email" and i.get("value") == email for i in form["inputs"]):
            return submit(env, form, "choose")
    raise AssertionError(f"{email} is not offered on the account chooser")


def open_auth(env: Env, url: str) -> requests.Response:
    return requests.get(url, allow_redirects=False, timeout=10)


def checkbox_values(page: requests.Response) -> list[str]:
    [form] = forms(page)
    return [
        i["value"] for i in form["inputs"] if i.get("type") == "checkbox" and i["name"] == "scope"
    ]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


# ---- the pages ---------------------------------------------------------------------------------


def test_pages_flow_choose_continue_select_all_returns_code_and_tokens(env: Env) -> None:
    chooser = open_auth(env, env.auth_url(scope=f"openid email profile {CALENDAR} {EVENTS}"))
    assert chooser.status_code == 200
    assert "Choose an account" in chooser.text
    offered = {i["value"] for f in forms(chooser) for i in f["inputs"] if i.get("name") == "email"}
    assert offered == {ALICE, BOB}

    signin = choose(env, chooser, ALICE)
    assert signin.status_code == 200
    assert "wants to access your Google Account" in signin.text
    assert ALICE in signin.text

    consent = submit(env, forms(signin)[0], "continue")
    assert consent.status_code == 200
    # Google's granular screen: one box per API scope, none ticked, plus "Select all".
    assert checkbox_values(consent) == [CALENDAR, EVENTS]
    [form] = forms(consent)
    assert not any("checked" in i for i in form["inputs"] if i.get("type") == "checkbox")
    assert any(i.get("name") == "select_all" for i in form["inputs"])

    done = submit(env, form, "continue", tick={("select_all", "1")})
    assert done.status_code == 302
    params = redirect_params(done.headers["Location"])
    assert params["state"] == "st-1"
    assert params["authuser"] == "0"
    assert params["prompt"] == "consent"
    granted = params["scope"].split()
    assert {"openid", "email", "profile", CALENDAR, EVENTS} <= set(granted)
    assert oauth.EMAIL_SCOPE in granted  # Google adds the long forms next to the short ones

    resp = env.exchange(params["code"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert set(body["scope"].split()) == {
        "openid",
        oauth.EMAIL_SCOPE,
        oauth.PROFILE_SCOPE,
        CALENDAR,
        EVENTS,
    }
    assert body["refresh_token"].startswith("1//")
    assert "id_token" in body


def test_unticked_calendar_scope_is_not_granted(env: Env) -> None:
    consent = submit(
        env,
        forms(
            choose(
                env, open_auth(env, env.auth_url(scope=f"openid email {CALENDAR} {EVENTS}")), ALICE
            )
        )[0],
        "continue",
    )
    done = submit(env, forms(consent)[0], "continue", tick={("scope", EVENTS)})
    params = redirect_params(done.headers["Location"])
    assert CALENDAR not in params["scope"].split()
    body = env.exchange(params["code"]).json()
    assert CALENDAR not in body["scope"].split()
    assert EVENTS in body["scope"].split()
    header = f"Bearer {body['access_token']}"
    with pytest.raises(oauth.AuthError) as err:
        oauth.authenticate(env.state, header, {CALENDAR})
    assert (err.value.status, err.value.reason) == (403, "insufficientPermissions")
    assert oauth.authenticate(env.state, header, {CALENDAR, EVENTS}).email == ALICE


def test_forged_scope_in_consent_form_grants_nothing(env: Env) -> None:
    consent = submit(env, forms(choose(env, open_auth(env, env.auth_url()), ALICE))[0], "continue")
    gmail = "https://www.googleapis.com/auth/gmail.readonly"
    done = submit(env, forms(consent)[0], "continue", tick=set(), extra=[("scope", gmail)])
    params = redirect_params(done.headers["Location"])
    assert set(params["scope"].split()) == {
        "openid",
        "email",
        "profile",
        oauth.EMAIL_SCOPE,
        oauth.PROFILE_SCOPE,
    }


def test_consent_form_with_unknown_session_is_an_error_page(env: Env) -> None:
    chooser = open_auth(env, env.auth_url())
    [form, *_] = forms(chooser)
    for field in form["inputs"]:
        if field["name"] == "session":
            field["value"] = "forged"
    resp = submit(env, form, "choose")
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert "Error 400: invalid_request" in resp.text


@pytest.mark.parametrize("step", ["signin", "consent"])
def test_cancel_redirects_with_access_denied(env: Env, step: str) -> None:
    page = choose(env, open_auth(env, env.auth_url(state="s&t=1")), ALICE)
    if step == "consent":
        page = submit(env, forms(page)[0], "continue")
    done = submit(env, forms(page)[0], "cancel")
    assert done.status_code == 302
    assert redirect_params(done.headers["Location"]) == {"error": "access_denied", "state": "s&t=1"}
    assert not env.state.grants


def test_returning_user_skips_consent_and_gets_no_refresh_token(env: Env) -> None:
    first = env.tokens(env.auth_url())
    assert "refresh_token" in first
    done = choose(env, open_auth(env, env.auth_url()), ALICE)
    assert done.status_code == 302  # straight back: nothing new to consent to
    params = redirect_params(done.headers["Location"])
    assert params["prompt"] == "none"
    body = env.exchange(params["code"]).json()
    assert "refresh_token" not in body
    assert CALENDAR in body["scope"].split()


def test_login_hint_skips_the_chooser_unless_select_account(env: Env) -> None:
    page = open_auth(env, env.auth_url(login_hint=BOB))
    assert "wants to access your Google Account" in page.text
    assert BOB in page.text
    chooser = open_auth(env, env.auth_url(login_hint=BOB, prompt="select_account"))
    assert "Choose an account" in chooser.text


def test_prompt_none_returns_code_only_when_nothing_needs_asking(env: Env) -> None:
    silent = open_auth(env, env.auth_url(prompt="none", login_hint=ALICE))
    assert redirect_params(silent.headers["Location"]) == {
        "error": "consent_required",
        "state": "st-1",
    }
    env.tokens(env.auth_url())
    silent = open_auth(env, env.auth_url(prompt="none", login_hint=ALICE))
    params = redirect_params(silent.headers["Location"])
    assert params["prompt"] == "none"
    assert env.exchange(params["code"]).status_code == 200
    anonymous = open_auth(env, env.auth_url(prompt="none"))
    assert redirect_params(anonymous.headers["Location"])["error"] == "login_required"


def test_account_name_and_request_details_are_escaped(env: Env) -> None:
    env.control.create_account("mallory@example.test", name="<script>alert(1)</script>")
    chooser = open_auth(env, env.auth_url())
    assert "<script>" not in chooser.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in chooser.text
    signin = choose(env, chooser, "mallory@example.test")
    assert "<script>" not in signin.text
    bad = open_auth(env, env.auth_url(redirect_uri='http://evil.test/"><script>x()</script>'))
    assert bad.status_code == 400
    assert "<script>x()" not in bad.text
    assert "&lt;script&gt;x()" in bad.text


# ---- authorize errors: pages, never redirects --------------------------------------------------


def test_redirect_uri_mismatch_is_an_error_page_without_redirect(env: Env) -> None:
    resp = open_auth(env, env.auth_url(redirect_uri="http://127.0.0.1:8080/other"))
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert "Error 400: redirect_uri_mismatch" in resp.text
    assert "redirect_uri=http://127.0.0.1:8080/other" in resp.text


def test_unknown_client_is_an_invalid_client_page(env: Env) -> None:
    resp = open_auth(env, env.auth_url(client_id="nobody.apps.googleusercontent.com"))
    assert resp.status_code == 401
    assert "Location" not in resp.headers
    assert "Error 401: invalid_client" in resp.text
    assert "The OAuth client was not found." in resp.text


@pytest.mark.parametrize(
    ("params", "error", "text"),
    [
        ({"scope": ""}, "invalid_request", "Missing required parameter: scope"),
        ({"scope": "openid nonsense"}, "invalid_scope", "invalid=[nonsense]"),
        ({"response_type": "token"}, "unsupported_response_type", "token"),
        ({"prompt": "none consent"}, "invalid_request", "prompt"),
        ({"access_type": "forever"}, "invalid_request", "access_type"),
        ({"code_challenge_method": "S256"}, "invalid_request", "code_challenge"),
    ],
)
def test_malformed_authorize_request_is_an_error_page(
    env: Env, params: dict[str, str], error: str, text: str
) -> None:
    resp = open_auth(env, env.auth_url(**params))
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert f"Error 400: {error}" in resp.text
    assert text in resp.text


# ---- the control-API consent -------------------------------------------------------------------


def test_control_consent_grants_the_listed_scopes(env: Env) -> None:
    url = env.control.consent(
        env.auth_url(scope=f"openid email {CALENDAR} {EVENTS}"), BOB, granted_scopes=[EVENTS]
    )
    params = redirect_params(url)
    assert params["state"] == "st-1"
    assert params["prompt"] == "consent"
    body = env.exchange(params["code"]).json()
    assert set(body["scope"].split()) == {"openid", oauth.EMAIL_SCOPE, EVENTS}
    assert env.control.grants() == [
        {
            "email": BOB,
            "client_id": CLIENT_ID,
            "scopes": sorted({"openid", oauth.EMAIL_SCOPE, EVENTS}),
            "live_refresh_tokens": 1,
        }
    ]


def test_control_consent_deny_redirects_access_denied(env: Env) -> None:
    url = env.control.consent(env.auth_url(), ALICE, deny=True)
    assert redirect_params(url) == {"error": "access_denied", "state": "st-1"}


def test_control_consent_refuses_what_a_user_could_not_do(env: Env) -> None:
    with pytest.raises(AssertionError, match="400"):
        env.control.consent(env.auth_url(), ALICE, granted_scopes=[EVENTS])  # not requested
    with pytest.raises(AssertionError, match="redirect_uri_mismatch"):
        env.control.consent(env.auth_url(redirect_uri="http://elsewhere.test/cb"), ALICE)
    with pytest.raises(AssertionError, match="404"):
        env.control.consent(env.auth_url(), "nobody@example.test")


# ---- token endpoint: codes ---------------------------------------------------------------------


def test_pkce_s256_accepts_the_right_verifier_only(env: Env) -> None:
    verifier, challenge = pkce_pair()
    url = env.control.consent(
        env.auth_url(code_challenge=challenge, code_challenge_method="S256"), ALICE
    )
    code = redirect_params(url)["code"]
    wrong = env.exchange(code, code_verifier=pkce_pair()[0])
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "Invalid code verifier."}
    missing = env.exchange(code)
    assert missing.json()["error"] == "invalid_grant"
    right = env.exchange(code, code_verifier=verifier)
    assert right.status_code == 200, right.text


def test_pkce_without_method_is_plain(env: Env) -> None:
    verifier = secrets.token_urlsafe(48)
    code = redirect_params(env.control.consent(env.auth_url(code_challenge=verifier), ALICE))[
        "code"
    ]
    assert env.exchange(code, code_verifier=verifier + "x").status_code == 400
    assert env.exchange(code, code_verifier=verifier).status_code == 200


def test_verifier_for_a_code_without_challenge_is_refused(env: Env) -> None:
    code = redirect_params(env.control.consent(env.auth_url(), ALICE))["code"]
    resp = env.exchange(code, code_verifier=secrets.token_urlsafe(48))
    assert resp.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier or verifier is not needed.",
    }


def test_code_is_single_use(env: Env) -> None:
    code = redirect_params(env.control.consent(env.auth_url(), ALICE))["code"]
    assert env.exchange(code).status_code == 200
    again = env.exchange(code)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_description": "Bad Request"}


def test_code_expires_after_ten_minutes(env: Env) -> None:
    code = redirect_params(env.control.consent(env.auth_url(), ALICE))["code"]
    env.control.advance_clock(601)
    resp = env.exchange(code)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_grant"


def test_unknown_code_is_malformed(env: Env) -> None:
    resp = env.exchange("not-a-code")
    assert resp.json() == {"error": "invalid_grant", "error_description": "Malformed auth code."}


def test_token_redirect_uri_must_equal_the_authorize_one(env: Env) -> None:
    code = redirect_params(env.control.consent(env.auth_url(), ALICE))["code"]
    resp = env.exchange(code, redirect_uri=REDIRECT_URI + "/")
    assert resp.status_code == 400
    assert resp.json()["error"] == "redirect_uri_mismatch"
    assert env.exchange(code).status_code == 200


def test_client_authentication(env: Env) -> None:
    code = redirect_params(env.control.consent(env.auth_url(), ALICE))["code"]
    wrong = env.exchange(code, client_secret="nope")
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "invalid_client", "error_description": "Unauthorized"}
    unknown = env.exchange(code, client_id="nobody.apps.googleusercontent.com")
    assert unknown.status_code == 401
    assert unknown.json()["error_description"] == "The OAuth client was not found."
    other = env.exchange(code, client_id=OTHER_CLIENT_ID, client_secret=OTHER_SECRET)
    assert other.json()["error"] == "invalid_grant"  # a code belongs to the client it was for
    basic = requests.post(
        f"{env.url}/token",
        data={"code": code, "redirect_uri": REDIRECT_URI, "grant_type": "authorization_code"},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert basic.status_code == 200, basic.text


def test_unsupported_grant_type(env: Env) -> None:
    resp = requests.post(
        f"{env.url}/token",
        data={"grant_type": "password", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        timeout=10,
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "unsupported_grant_type"


def test_refresh_token_only_on_offline_first_consent_or_prompt_consent(env: Env) -> None:
    online = env.tokens(env.auth_url(access_type="online"))
    assert "refresh_token" not in online
    # The app was already consented to (online), so offline alone shows no screen: no token.
    assert "refresh_token" not in env.tokens(env.auth_url())
    assert "refresh_token" in env.tokens(env.auth_url(prompt="consent"))
    assert "refresh_token" in env.tokens(env.auth_url(), email=BOB)  # Bob's first consent
    assert "refresh_token" not in env.tokens(env.auth_url(), email=BOB)


def test_include_granted_scopes_adds_earlier_grants(env: Env) -> None:
    first = env.tokens(env.auth_url(scope=f"openid email {EVENTS}"))
    assert CALENDAR not in first["scope"].split()
    alone = env.tokens(env.auth_url(scope=f"openid {CALENDAR}"))
    assert set(alone["scope"].split()) == {"openid", CALENDAR}
    url = env.control.consent(
        env.auth_url(scope=f"openid {CALENDAR}", include_granted_scopes="true", prompt="consent"),
        ALICE,
    )
    assert {EVENTS, CALENDAR, "openid"} <= set(redirect_params(url)["scope"].split())
    both = env.exchange(redirect_params(url)["code"]).json()
    assert set(both["scope"].split()) == {"openid", oauth.EMAIL_SCOPE, EVENTS, CALENDAR}


# ---- refresh with google-auth ------------------------------------------------------------------


def test_google_auth_refresh_gives_a_new_working_access_token(env: Env) -> None:
    first = env.tokens(env.auth_url())
    creds = env.credentials(first["refresh_token"])
    creds.refresh(google_request())
    assert creds.valid
    assert creds.token != first["access_token"]
    assert creds.refresh_token == first["refresh_token"]  # Google sends none back; kept
    assert creds.id_token is not None
    claims = google_id_token.verify_token(
        creds.id_token, google_request(), audience=CLIENT_ID, certs_url=f"{env.url}/oauth2/v1/certs"
    )
    assert claims["email"] == ALICE
    assert "name" not in claims  # Google leaves profile claims out of refreshed ID tokens
    token = oauth.authenticate(env.state, f"Bearer {creds.token}", {CALENDAR})
    assert token.email == ALICE
    assert token.refresh_token == first["refresh_token"]


def test_token_latency_delays_each_refresh_without_queueing_them(env: Env) -> None:
    import threading

    creds = [env.credentials(env.tokens(env.auth_url(), email=who)["refresh_token"])
             for who in (ALICE, BOB)]
    env.control.set_token_latency(0.3)
    workers = [threading.Thread(target=c.refresh, args=(google_request(),)) for c in creds]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    refreshes = [r for r in env.state.requests if r["path"] == "/token"][-2:]
    assert all(c.valid for c in creds)
    assert all(r["at"] - r["started"] >= 0.3 for r in refreshes)
    # Both were in flight together: Google does not answer one account after another.
    assert max(r["started"] for r in refreshes) < min(r["at"] for r in refreshes)
    env.control.set_token_latency(0)


def test_expired_access_tokens_are_refused_until_refreshed(env: Env) -> None:
    first = env.tokens(env.auth_url())
    assert env.control.expire_access_tokens() == 1
    with pytest.raises(oauth.AuthError) as err:
        oauth.authenticate(env.state, f"Bearer {first['access_token']}", {CALENDAR})
    assert (err.value.status, err.value.reason) == (401, "authError")
    creds = env.credentials(first["refresh_token"])
    creds.refresh(google_request())
    oauth.authenticate(env.state, f"Bearer {creds.token}", {CALENDAR})


def test_access_token_lifetime_follows_the_stand_in_clock(env: Env) -> None:
    first = env.tokens(env.auth_url())
    header = f"Bearer {first['access_token']}"
    env.control.advance_clock(3590)
    oauth.authenticate(env.state, header, {CALENDAR})
    env.control.advance_clock(10)
    with pytest.raises(oauth.AuthError):
        oauth.authenticate(env.state, header, {CALENDAR})


def test_wrong_secret_on_refresh_raises_refresh_error(env: Env) -> None:
    first = env.tokens(env.auth_url())
    with pytest.raises(RefreshError, match="invalid_client"):
        env.credentials(first["refresh_token"], secret="wrong").refresh(google_request())


def test_refresh_with_unknown_token_is_invalid_grant(env: Env) -> None:
    with pytest.raises(RefreshError) as err:
        env.credentials("1//made-up").refresh(google_request())
    assert err.value.args[1] == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }


def test_refresh_may_narrow_but_not_widen_scopes(env: Env) -> None:
    first = env.tokens(env.auth_url(scope=f"openid email {EVENTS}"))
    narrow = Credentials(
        token=None,
        refresh_token=first["refresh_token"],
        token_uri=f"{env.url}/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=[EVENTS],
    )
    narrow.refresh(google_request())
    assert oauth.authenticate(env.state, f"Bearer {narrow.token}", set()).scopes == {EVENTS}
    wide = Credentials(
        token=None,
        refresh_token=first["refresh_token"],
        token_uri=f"{env.url}/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=[CALENDAR],
    )
    with pytest.raises(RefreshError, match="invalid_scope"):
        wide.refresh(google_request())


# ---- revocation --------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_either_token_kills_the_grant(env: Env, which: str) -> None:
    first = env.tokens(env.auth_url())
    resp = requests.post(f"{env.url}/revoke", data={"token": first[which]}, timeout=10)
    assert resp.status_code == 200
    assert resp.json() == {}
    with pytest.raises(RefreshError, match="invalid_grant: Token has been expired or revoked."):
        env.credentials(first["refresh_token"]).refresh(google_request())
    with pytest.raises(oauth.AuthError) as err:
        oauth.authenticate(env.state, f"Bearer {first['access_token']}", {CALENDAR})
    assert err.value.status == 401
    # The app is gone from the account, so the next consent is a first one again.
    assert "refresh_token" in env.tokens(env.auth_url())


def test_revoke_accepts_the_token_in_the_query(env: Env) -> None:
    first = env.tokens(env.auth_url())
    query = urllib.parse.urlencode({"token": first["refresh_token"]})
    assert requests.post(f"{env.url}/revoke?{query}", timeout=10).status_code == 200
    with pytest.raises(RefreshError):
        env.credentials(first["refresh_token"]).refresh(google_request())


def test_revoke_of_unknown_or_revoked_token_is_invalid_token(env: Env) -> None:
    first = env.tokens(env.auth_url())
    assert requests.post(f"{env.url}/revoke", data={"token": first["access_token"]}, timeout=10).ok
    for token in ("nonsense", first["access_token"], first["refresh_token"]):
        resp = requests.post(f"{env.url}/revoke", data={"token": token}, timeout=10)
        assert resp.status_code == 400
        assert resp.json() == {
            "error": "invalid_token",
            "error_description": "Token expired or revoked",
        }


def test_account_revoke_through_control_kills_only_that_account(env: Env) -> None:
    alice = env.tokens(env.auth_url())
    bob = env.tokens(env.auth_url(), email=BOB)
    assert env.control.revoke_account(ALICE) == [CLIENT_ID]
    with pytest.raises(RefreshError, match="invalid_grant"):
        env.credentials(alice["refresh_token"]).refresh(google_request())
    with pytest.raises(oauth.AuthError):
        oauth.authenticate(env.state, f"Bearer {alice['access_token']}", {CALENDAR})
    env.credentials(bob["refresh_token"]).refresh(google_request())
    assert [g["email"] for g in env.control.grants()] == [BOB]


def test_refresh_token_dies_after_six_months_unused(env: Env) -> None:
    first = env.tokens(env.auth_url())
    env.control.advance_clock(150 * 86400)
    env.credentials(first["refresh_token"]).refresh(google_request())  # use resets the clock
    env.control.advance_clock(150 * 86400)
    env.credentials(first["refresh_token"]).refresh(google_request())
    env.control.advance_clock(184 * 86400)
    with pytest.raises(RefreshError, match="invalid_grant"):
        env.credentials(first["refresh_token"]).refresh(google_request())


def test_testing_mode_client_refresh_tokens_die_after_seven_days(env: Env) -> None:
    env.control.set_client_testing(CLIENT_ID)
    api = env.tokens(env.auth_url())
    sign_in_only = env.tokens(env.auth_url(scope="openid email"), email=BOB)
    env.control.advance_clock(7 * 86400)
    with pytest.raises(RefreshError, match="invalid_grant"):
        env.credentials(api["refresh_token"]).refresh(google_request())
    env.credentials(sign_in_only["refresh_token"]).refresh(google_request())


def test_more_than_100_refresh_tokens_drop_the_oldest(env: Env) -> None:
    issued = [env.tokens(env.auth_url(prompt="consent"))["refresh_token"] for _ in range(101)]
    with pytest.raises(RefreshError, match="invalid_grant"):
        env.credentials(issued[0]).refresh(google_request())
    env.credentials(issued[1]).refresh(google_request())
    env.credentials(issued[-1]).refresh(google_request())


# ---- ID token, keys, discovery -----------------------------------------------------------------


def test_id_token_verifies_with_google_auth_against_the_pem_certs(env: Env) -> None:
    body = env.tokens(env.auth_url(nonce="n-123"))
    claims = google_id_token.verify_token(
        body["id_token"],
        google_request(),
        audience=CLIENT_ID,
        certs_url=f"{env.url}/oauth2/v1/certs",
    )
    assert claims["iss"] == env.url
    assert claims["aud"] == claims["azp"] == CLIENT_ID
    assert claims["email"] == ALICE
    assert claims["email_verified"] is True
    assert claims["name"] == "Alice Example"
    assert claims["nonce"] == "n-123"
    assert claims["sub"] == env.control.accounts()[0]["sub"] == oauth.account_sub(ALICE)
    assert claims["exp"] - claims["iat"] == 3600
    at_hash = base64.urlsafe_b64encode(hashlib.sha256(body["access_token"].encode()).digest()[:16])
    assert claims["at_hash"] == at_hash.rstrip(b"=").decode()
    with pytest.raises(ValueError):
        google_id_token.verify_token(
            body["id_token"],
            google_request(),
            audience="someone-else",
            certs_url=f"{env.url}/oauth2/v1/certs",
        )


def test_no_id_token_without_openid(env: Env) -> None:
    body = env.tokens(env.auth_url(scope=CALENDAR))
    assert "id_token" not in body
    assert body["scope"] == CALENDAR


def test_jwks_and_pem_certs_hold_the_same_key(env: Env) -> None:
    pem = requests.get(f"{env.url}/oauth2/v1/certs", timeout=10).json()
    [jwk] = requests.get(f"{env.url}/oauth2/v3/certs", timeout=10).json()["keys"]
    [(kid, cert_pem)] = pem.items()
    assert jwk["kid"] == kid
    public_key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    n = int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4)), "big")
    assert n == public_key.public_numbers().n
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")


def test_openid_configuration_points_at_this_server(env: Env) -> None:
    conf = requests.get(f"{env.url}/.well-known/openid-configuration", timeout=10).json()
    assert conf["issuer"] == env.url
    assert conf["authorization_endpoint"] == f"{env.url}/o/oauth2/v2/auth"
    assert conf["token_endpoint"] == f"{env.url}/token"
    assert conf["revocation_endpoint"] == f"{env.url}/revoke"
    assert conf["jwks_uri"] == f"{env.url}/oauth2/v3/certs"


def test_userinfo_and_tokeninfo(env: Env) -> None:
    body = env.tokens(env.auth_url())
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    info = requests.get(f"{env.url}/oauth2/v3/userinfo", headers=auth, timeout=10).json()
    assert info == {
        "sub": oauth.account_sub(ALICE),
        "name": "Alice Example",
        "email": ALICE,
        "email_verified": True,
    }
    assert requests.get(f"{env.url}/oauth2/v3/userinfo", timeout=10).status_code == 401
    tokeninfo = requests.get(
        f"{env.url}/oauth2/v3/tokeninfo", params={"access_token": body["access_token"]}, timeout=10
    ).json()
    assert tokeninfo["aud"] == CLIENT_ID
    assert CALENDAR in tokeninfo["scope"].split()
    assert tokeninfo["access_type"] == "offline"
    bad = requests.get(f"{env.url}/oauth2/v3/tokeninfo", params={"access_token": "x"}, timeout=10)
    assert bad.status_code == 400


# ---- authenticate() contract -------------------------------------------------------------------


def test_authenticate_contract(env: Env) -> None:
    body = env.tokens(env.auth_url(scope=f"openid email {EVENTS}"))
    header = f"Bearer {body['access_token']}"
    token = oauth.authenticate(env.state, header, {CALENDAR, EVENTS})
    assert (token.email, token.client_id) == (ALICE, CLIENT_ID)
    assert oauth.authenticate(env.state, header, {"email"}) is token  # short names count

    cases = [
        (None, {EVENTS}, 401, "required"),
        ("Bearer ya29.unknown", {EVENTS}, 401, "authError"),
        (f"Basic {body['access_token']}", {EVENTS}, 401, "authError"),
        (header, {CALENDAR}, 403, "insufficientPermissions"),
    ]
    for value, scopes, status, reason in cases:
        with pytest.raises(oauth.AuthError) as err:
            oauth.authenticate(env.state, value, scopes)
        assert (err.value.status, err.value.reason) == (status, reason)

    with pytest.raises(oauth.AuthError) as err:
        oauth.authenticate(env.state, header, {CALENDAR})
    assert err.value.body() == {
        "error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "errors": [
                {
                    "message": "Insufficient Permission",
                    "domain": "global",
                    "reason": "insufficientPermissions",
                }
            ],
            "status": "PERMISSION_DENIED",
        }
    }
    requests.post(f"{env.url}/revoke", data={"token": body["access_token"]}, timeout=10)
    with pytest.raises(oauth.AuthError) as err:
        oauth.authenticate(env.state, header, {EVENTS})
    assert err.value.message.startswith("Request had invalid authentication credentials.")
    assert err.value.body()["error"]["errors"][0]["location"] == "Authorization"
    assert 'error="invalid_token"' in err.value.www_authenticate


# ---- bookkeeping -------------------------------------------------------------------------------


def test_requests_are_recorded_with_the_raw_form(env: Env) -> None:
    body = env.tokens(env.auth_url())
    [entry] = [r for r in env.state.requests if r["path"] == "/token"]
    assert entry["service"] == "oauth"
    assert entry["method"] == "POST"
    assert entry["status"] == 200
    assert entry["form"]["client_id"] == CLIENT_ID
    assert entry["form"]["grant_type"] == "authorization_code"
    creds = env.credentials(body["refresh_token"])
    creds.refresh(google_request())
    refreshes = [r for r in env.state.requests if r["form"].get("grant_type") == "refresh_token"]
    assert refreshes[0]["form"]["refresh_token"] == body["refresh_token"]
    assert urllib.parse.quote(body["refresh_token"], safe="") in refreshes[0]["body"]
    assert not any(r["path"].startswith("/_control") for r in env.state.requests)


def test_reset_forgets_grants_tokens_and_clock(env: Env) -> None:
    first = env.tokens(env.auth_url())
    env.control.advance_clock(1000)
    env.state.reset()
    assert env.state.clock_offset == 0
    assert not env.state.accounts and not env.state.grants and not env.state.auth_codes
    assert not env.state.refresh_tokens and not env.state.consent_sessions
    with pytest.raises(oauth.AuthError):
        oauth.authenticate(env.state, f"Bearer {first['access_token']}", set())


def test_control_accounts(env: Env) -> None:
    accounts = {a["email"]: a for a in env.control.accounts()}
    assert accounts[ALICE]["time_zone"] == "Europe/Berlin"
    assert accounts[ALICE]["calendar_roles"] == {ALICE: "owner"}
    assert accounts[BOB]["sub"] == oauth.account_sub(BOB) != accounts[ALICE]["sub"]
    with pytest.raises(AssertionError, match="409"):
        env.control.create_account(ALICE)
    with pytest.raises(AssertionError, match="400"):
        env.control.create_account("carol@example.test", time_zone="Mars/Olympus")


def test_composed_google_standin_serves_the_oauth_half(google_server: StandinServer) -> None:
    """The conftest server (OAuth + Calendar in one app) answers the same flow."""
    standin = google_server.app
    standin.reset()
    standin.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    control = OAuthControl(google_server.url)
    control.create_account(ALICE)
    env = Env(google_server.url, standin.state, control)
    body = env.tokens(env.auth_url())
    creds = env.credentials(body["refresh_token"])
    creds.refresh(google_request())
    claims = google_id_token.verify_token(
        creds.id_token,
        google_request(),
        audience=CLIENT_ID,
        certs_url=f"{google_server.url}/oauth2/v1/certs",
    )
    assert claims["iss"] == google_server.url
    standin.reset()
