"""The OAuth 2.0 half of the Google stand-in: authorize pages, token, revoke, certs, userinfo.

It behaves like accounts.google.com and oauth2.googleapis.com for the web-server flow the product
uses, so the real google-auth library can be pointed at it (token_uri, certs_url):

    GET  /o/oauth2/v2/auth             account chooser -> "wants to access" -> granular consent
    POST /token                        authorization_code and refresh_token grants
    POST /revoke                       kills the whole grant (account + client), as at Google
    GET  /oauth2/v1/certs              {kid: PEM certificate}   (google.oauth2.id_token format)
    GET  /oauth2/v3/certs              JWKS
    GET  /.well-known/openid-configuration
    GET  /oauth2/v3/userinfo, /oauth2/v3/tokeninfo

and a control API under /_control (accounts, clock, forced expiry, revocation, and a
non-interactive consent that runs the same code as the pages; /_control/tokens/latency makes
/token answer as slowly as Google's does).

Google behaviours mirrored on purpose, because the product must survive them:
- the user may untick scopes (granular consent): the code's `scope` can be less than requested;
- a refresh token comes only with access_type=offline when the consent screen was actually shown
  (first consent, new scopes, or prompt=consent); a returning user gets none;
- codes are single use, expire after 10 minutes and are bound to redirect_uri and PKCE;
- revoking any token (or the user removing the app) kills every token of that account + client;
- refresh tokens die after six months unused, after 7 days for a client in "Testing", and beyond
  100 live ones per account and client (the oldest goes);
- errors use Google's wording; never error_subtype invalid_rapt (google-auth would start reauth).

`authenticate()` / `AuthError` are the contract with the Calendar half (calendar.py).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import secrets
import time
import urllib.parse
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from flask import Blueprint, Response, jsonify, render_template_string, request, url_for
from flask import g as request_scope
from werkzeug.wrappers import Response as WerkzeugResponse

from tests.standins.google.state import (
    AccessToken,
    Account,
    AuthCode,
    GoogleState,
    Grant,
    OAuthClient,
    RefreshToken,
)

# --------------------------------------------------------------------------------------------
# Scopes

OPENID = "openid"
EMAIL_SCOPE = "https://www.googleapis.com/auth/userinfo.email"
PROFILE_SCOPE = "https://www.googleapis.com/auth/userinfo.profile"
# Google treats the short names as the long ones: a token granted "email" passes a check for
# .../userinfo.email. Everything here is stored in the long (canonical) form.
_SHORT_SCOPES = {"email": EMAIL_SCOPE, "profile": PROFILE_SCOPE}
SIGN_IN_SCOPES = frozenset({OPENID, EMAIL_SCOPE, PROFILE_SCOPE})
_API_SCOPE_PREFIX = "https://www.googleapis.com/auth/"

ACCESS_TOKEN_SECONDS = 3599
CODE_SECONDS = 600
CONSENT_SESSION_SECONDS = 3600
ID_TOKEN_SECONDS = 3600
REFRESH_TOKEN_UNUSED_SECONDS = 183 * 86400  # "not used for six months"
TESTING_REFRESH_TOKEN_SECONDS = 7 * 86400
REFRESH_TOKENS_PER_ACCOUNT_AND_CLIENT = 100

_EXPIRED_OR_REVOKED = "Token has been expired or revoked."


def canonical_scope(scope: str) -> str:
    return _SHORT_SCOPES.get(scope, scope)


def canonical_scopes(scopes: Iterable[str]) -> frozenset[str]:
    return frozenset(canonical_scope(s) for s in scopes)


def _is_known_scope(scope: str) -> bool:
    return (
        scope in SIGN_IN_SCOPES
        or scope in _SHORT_SCOPES
        or (scope.startswith(_API_SCOPE_PREFIX) and len(scope) > len(_API_SCOPE_PREFIX))
    )


@cache
def _scope_descriptions() -> dict[str, str]:
    """Consent-screen wording for Calendar scopes, from the installed discovery document."""
    import googleapiclient

    doc = (
        Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "calendar.v3.json"
    )
    try:
        scopes = json.loads(doc.read_text())["auth"]["oauth2"]["scopes"]
    except (OSError, KeyError, ValueError):
        return {}
    return {name: meta.get("description", name) for name, meta in scopes.items()}


def _describe_scope(scope: str) -> str:
    return _scope_descriptions().get(scope, scope)


# --------------------------------------------------------------------------------------------
# The contract with the Calendar half


class AuthError(Exception):
    """Why a Google API request is refused; calendar.py turns it into Google's JSON error.

    Contract: ``AuthError(status, reason, message)``
      - 401 ``"required"``: no Authorization header (Google's "Login Required.");
      - 401 ``"authError"``: a header that is not a live Bearer access token of this stand-in
        (unknown, expired, revoked, or another scheme); ``message`` is Google's "Request had
        invalid authentication credentials. Expected OAuth 2 access token, ...";
      - 403 ``"insufficientPermissions"``: a live token holding none of the scopes the method
        accepts; ``message`` is "Request had insufficient authentication scopes.".

    ``body()`` gives Google's error document for these and ``www_authenticate`` the header
    Google sends with them, so the Calendar half need not restate the wording.
    """

    _DETAIL = {
        "required": "Login Required.",
        "authError": "Invalid Credentials",
        "insufficientPermissions": "Insufficient Permission",
    }

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def status_name(self) -> str:
        return "UNAUTHENTICATED" if self.status == 401 else "PERMISSION_DENIED"

    @property
    def www_authenticate(self) -> str:
        realm = 'Bearer realm="https://accounts.google.com/"'
        if self.reason == "authError":
            return f'{realm}, error="invalid_token"'
        if self.reason == "insufficientPermissions":
            return f'{realm}, error="insufficient_scope"'
        return realm

    def body(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "message": self._DETAIL.get(self.reason, self.message),
            "domain": "global",
            "reason": self.reason,
        }
        if self.status == 401:
            item.update(location="Authorization", locationType="header")
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [item],
                "status": self.status_name,
            }
        }


_MISSING_CREDENTIALS = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
_INVALID_CREDENTIALS = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
_INSUFFICIENT_SCOPES = "Request had insufficient authentication scopes."


def authenticate(
    state: GoogleState, authorization_header: str | None, any_of_scopes: set[str]
) -> AccessToken:
    """The live access token behind ``Authorization: Bearer ...`` holding one of the scopes.

    ``any_of_scopes`` lists every scope the API method accepts (as in calendar.v3.json); an
    empty set accepts any live token. Short names ("email") count as their long forms. Raises
    AuthError (see there); never returns an expired or revoked token.
    """
    if not authorization_header or not authorization_header.strip():
        raise AuthError(401, "required", _MISSING_CREDENTIALS)
    scheme, _, value = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthError(401, "authError", _INVALID_CREDENTIALS)
    with state.lock:
        token = state.access_tokens.get(value.strip())
        if token is None or token.dead(state.now()):
            raise AuthError(401, "authError", _INVALID_CREDENTIALS)
        if any_of_scopes and not (token.scopes & canonical_scopes(any_of_scopes)):
            raise AuthError(403, "insufficientPermissions", _INSUFFICIENT_SCOPES)
        return token


# --------------------------------------------------------------------------------------------
# Signing keys: one RSA key per process, published as JWKS and as a self-signed certificate


@dataclass(frozen=True)
class _SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    certificate_pem: str
    jwk: dict[str, str]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _make_signing_key() -> _SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = hashlib.sha256(der).hexdigest()[:40]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "google-standin.invalid")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    numbers = public.public_numbers()
    jwk = {
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": kid,
        "n": _int_b64url(numbers.n),
        "e": _int_b64url(numbers.e),
    }
    pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return _SigningKey(kid=kid, private_key=key, certificate_pem=pem, jwk=jwk)


SIGNING_KEY = _make_signing_key()


def sign_jwt(claims: Mapping[str, Any]) -> str:
    """An RS256 JWT signed with the stand-in's key (kid in the header)."""
    header = {"alg": "RS256", "kid": SIGNING_KEY.kid, "typ": "JWT"}
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    )
    signature = SIGNING_KEY.private_key.sign(
        signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
    )
    return signing_input + "." + _b64url(signature)


# --------------------------------------------------------------------------------------------
# Accounts


def account_sub(email: str) -> str:
    """A Google-like subject id: 21 digits, stable for an email across runs."""
    digest = int.from_bytes(hashlib.sha256(email.lower().encode()).digest()[:12], "big")
    return "1" + str(digest % 10**20).zfill(20)


def _account_view(account: Account) -> dict[str, Any]:
    return {
        "email": account.email,
        "sub": account.sub,
        "name": account.name,
        "time_zone": account.time_zone,
        "calendar_roles": dict(account.calendar_roles),
    }


# --------------------------------------------------------------------------------------------
# The authorize request and the consent decision (shared by the pages and /_control/consent)


class _PageError(Exception):
    """A request Google answers with its own error page: nothing goes back to the client."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


@dataclass(frozen=True)
class _AuthRequest:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]  # as requested, in order, without repeats
    state: str | None
    access_type: str
    prompts: frozenset[str]
    include_granted_scopes: bool
    login_hint: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None

    @property
    def wanted(self) -> frozenset[str]:
        return canonical_scopes(self.scopes)


@dataclass
class _ConsentSession:
    """One authorize flow in progress; the pages' forms carry only its opaque id."""

    request: _AuthRequest
    created_at: float
    step: str = "choose"  # choose -> signin -> consent
    email: str | None = None
    listed: tuple[str, ...] = ()  # scopes offered with a checkbox on the consent page


_PROMPTS = {"none", "consent", "select_account"}
_PKCE_CHARS = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def _parse_authorize(state: GoogleState, params: Mapping[str, str]) -> _AuthRequest:
    """Validate an authorize request in Google's order; raise _PageError on the first fault.

    Google shows an error page, and never redirects, for a bad client or redirect_uri; it does
    the same for a missing scope and other malformed parameters ("Error 400: invalid_request").
    """

    def fail(error: str, description: str, status: int = 400) -> _PageError:
        return _PageError(status, error, description)

    client_id = params.get("client_id", "")
    if not client_id:
        raise fail("invalid_request", "Missing required parameter: client_id")
    client = state.clients.get(client_id)
    if client is None:
        raise fail("invalid_client", "The OAuth client was not found.", 401)
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        raise fail("invalid_request", "Missing required parameter: redirect_uri")
    if redirect_uri not in client.redirect_uris:
        raise fail(
            "redirect_uri_mismatch",
            "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 "
            "policy. If you're the app developer, register the redirect URI in the Google "
            "Cloud Console.",
        )
    response_type = params.get("response_type", "")
    if not response_type:
        raise fail("invalid_request", "Missing required parameter: response_type")
    if response_type != "code":
        raise fail("unsupported_response_type", f"Invalid response_type: {response_type}")
    raw_scope = params.get("scope", "")
    if not raw_scope.strip():
        raise fail("invalid_request", "Missing required parameter: scope")
    scopes: list[str] = []
    for scope in raw_scope.split():
        if scope not in scopes:
            scopes.append(scope)
    invalid = [s for s in scopes if not _is_known_scope(s)]
    if invalid:
        raise fail(
            "invalid_scope",
            f"Some requested scopes were invalid. {{invalid=[{', '.join(invalid)}]}}",
        )
    access_type = params.get("access_type") or "online"
    if access_type not in ("online", "offline"):
        raise fail("invalid_request", f"Invalid parameter value for access_type: {access_type}")
    prompts = frozenset(params.get("prompt", "").split())
    unknown_prompts = prompts - _PROMPTS
    if unknown_prompts or ("none" in prompts and len(prompts) > 1):
        raise fail(
            "invalid_request",
            f"Invalid parameter value for prompt: Invalid prompt: {params.get('prompt', '')}",
        )
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if method is not None and challenge is None:
        raise fail("invalid_request", "Missing required parameter: code_challenge")
    if challenge is not None:
        method = method or "plain"
        if method not in ("S256", "plain"):
            raise fail(
                "invalid_request",
                f"Invalid parameter value for code_challenge_method: {method}",
            )
        if not _PKCE_CHARS.match(challenge):
            raise fail("invalid_request", "Invalid parameter value for code_challenge.")
    return _AuthRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=tuple(scopes),
        state=params.get("state"),
        access_type=access_type,
        prompts=prompts,
        include_granted_scopes=params.get("include_granted_scopes", "").lower() == "true",
        login_hint=params.get("login_hint") or None,
        code_challenge=challenge,
        code_challenge_method=method,
        nonce=params.get("nonce") or None,
    )


def _redirect_url(redirect_uri: str, params: list[tuple[str, str]]) -> str:
    """redirect_uri with params appended to whatever query it already has."""
    parts = urllib.parse.urlsplit(redirect_uri)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + params
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _error_redirect(req: _AuthRequest, error: str) -> str:
    params = [("error", error)]
    if req.state is not None:
        params.append(("state", req.state))
    return _redirect_url(req.redirect_uri, params)


def _needs_consent(state: GoogleState, req: _AuthRequest, email: str) -> bool:
    if "consent" in req.prompts:
        return True
    grant = state.grants.get((email, req.client_id))
    return grant is None or not req.wanted <= grant.scopes


def _listed_scopes(state: GoogleState, req: _AuthRequest, email: str) -> tuple[str, ...]:
    """Scopes that get a checkbox: requested API scopes not already granted (all of them with
    prompt=consent). Sign-in scopes are granted by the "wants to access" step itself."""
    grant = state.grants.get((email, req.client_id))
    already = set() if grant is None or "consent" in req.prompts else grant.scopes
    listed = []
    for scope in req.scopes:
        canonical = canonical_scope(scope)
        if canonical not in SIGN_IN_SCOPES | already and canonical not in listed:
            listed.append(canonical)
    return tuple(listed)


def _redirect_scope(req: _AuthRequest, granted: frozenset[str]) -> str:
    """The `scope` Google puts in the redirect: the requested spellings that were granted, then
    the long forms (e.g. "email profile openid https://.../userinfo.email ...")."""
    out = [s for s in req.scopes if canonical_scope(s) in granted]
    out += [s for s in sorted(granted) if s not in out]
    return " ".join(out)


def _finish(
    state: GoogleState,
    req: _AuthRequest,
    email: str,
    listed: Iterable[str],
    ticked: Iterable[str],
    consent_shown: bool,
) -> str:
    """Record the consent, mint a code, and return the URL Google redirects the browser to.

    Granted = requested scopes that had no checkbox (sign-in scopes, ones granted before) plus
    the ticked ones; with include_granted_scopes, everything this account gave this client.
    """
    now = state.now()
    listed_set = set(listed)
    granted = (req.wanted - listed_set) | (set(ticked) & listed_set)
    key = (email, req.client_id)
    grant = state.grants.get(key)
    if grant is None:
        grant = state.grants[key] = Grant(email, req.client_id, set(), now)
    grant.scopes |= granted
    if consent_shown:
        grant.consented_at = now
    code_scopes = frozenset(grant.scopes if req.include_granted_scopes else granted)
    code = "4/0" + secrets.token_urlsafe(48)
    state.auth_codes[code] = AuthCode(
        code=code,
        client_id=req.client_id,
        redirect_uri=req.redirect_uri,
        email=email,
        scopes=code_scopes,
        issued_at=now,
        issue_refresh_token=req.access_type == "offline" and consent_shown,
        code_challenge=req.code_challenge,
        code_challenge_method=req.code_challenge_method,
        nonce=req.nonce,
    )
    params = []
    if req.state is not None:
        params.append(("state", req.state))
    params += [
        ("code", code),
        ("scope", _redirect_scope(req, code_scopes)),
        ("authuser", "0"),
        ("prompt", "consent" if consent_shown else "none"),
    ]
    return _redirect_url(req.redirect_uri, params)


def _silent_outcome(state: GoogleState, req: _AuthRequest, email: str | None) -> str:
    """prompt=none: a code if no screen is needed, else the OpenID Connect error."""
    if email is None or email not in state.accounts:
        return _error_redirect(req, "login_required")
    if _needs_consent(state, req, email):
        return _error_redirect(req, "consent_required")
    return _finish(state, req, email, (), (), consent_shown=False)


def consent_decision(
    state: GoogleState,
    params: Mapping[str, str],
    email: str,
    granted_scopes: Iterable[str] | None = None,
    deny: bool = False,
) -> str:
    """What the pages would do if `email` clicked through: the URL the browser is sent to.

    `granted_scopes` are the boxes the user leaves ticked (None: all of them; sign-in scopes
    are always granted). Raises _PageError where Google would show an error page, KeyError for
    an unknown account, ValueError for scopes that were not requested.
    """
    with state.lock:
        req = _parse_authorize(state, params)
        if email not in state.accounts:
            raise KeyError(email)
        if "none" in req.prompts:
            return _silent_outcome(state, req, email)
        if deny:
            return _error_redirect(req, "access_denied")
        if not _needs_consent(state, req, email):
            return _finish(state, req, email, (), (), consent_shown=False)
        listed = _listed_scopes(state, req, email)
        if granted_scopes is None:
            ticked = set(listed)
        else:
            ticked = set(canonical_scopes(granted_scopes))
            stray = ticked - req.wanted
            if stray:
                raise ValueError(f"not requested: {' '.join(sorted(stray))}")
        return _finish(state, req, email, listed, ticked, consent_shown=True)


# --------------------------------------------------------------------------------------------
# Pages (Jinja autoescapes every value in render_template_string)

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main>
"""
_FOOT = "</main></body></html>\n"


def _page(body: str) -> str:
    return _HEAD + body + _FOOT


_ERROR_PAGE = _page("""
<h1>Access blocked: Authorization Error</h1>
<p class="message">{{ description }}</p>
<p class="error">Error {{ status }}: {{ error }}</p>
{% if details %}
<h2>Request details</h2>
<ul class="details">
{% for name, value in details %}<li>{{ name }}={{ value }}</li>
{% endfor %}</ul>
{% endif %}
""")

_CHOOSE_PAGE = _page("""
<h1>Choose an account</h1>
<p>to continue to <span class="client">{{ client_id }}</span></p>
{% if not accounts %}<p class="empty">No accounts.</p>{% endif %}
<ul class="accounts">
{% for account in accounts %}<li>
<form method="post" action="{{ action }}">
<input type="hidden" name="session" value="{{ session_id }}">
<input type="hidden" name="email" value="{{ account.email }}">
<button type="submit" name="action" value="choose"><span class="name">{{ account.name }}</span>
<span class="email">{{ account.email }}</span></button>
</form>
</li>
{% endfor %}</ul>
""")

_SIGNIN_PAGE = _page("""
<h1><span class="client">{{ client_id }}</span> wants to access your Google Account</h1>
<p class="account"><span class="name">{{ account.name }}</span>
<span class="email">{{ account.email }}</span></p>
<p>Signing in will share your name, email address and profile picture with this app.</p>
<form method="post" action="{{ action }}">
<input type="hidden" name="session" value="{{ session_id }}">
<button type="submit" name="action" value="cancel">Cancel</button>
<button type="submit" name="action" value="continue">Continue</button>
</form>
""")

# Google's granular consent screen starts with every box unticked; "Select all" ticks them all.
_CONSENT_PAGE = _page("""
<h1><span class="client">{{ client_id }}</span> wants access to your Google Account</h1>
<p class="account">{{ account.email }}</p>
<form method="post" action="{{ action }}">
<input type="hidden" name="session" value="{{ session_id }}">
<p><label><input type="checkbox" name="select_all" value="1"> Select all</label></p>
<ul class="scopes">
{% for scope, text in scopes %}<li><label><input type="checkbox" name="scope" value="{{ scope }}">
{{ text }}</label></li>
{% endfor %}</ul>
<button type="submit" name="action" value="cancel">Cancel</button>
<button type="submit" name="action" value="continue">Continue</button>
</form>
""")


def _error_page(error: _PageError, details: Iterable[tuple[str, str]] = ()) -> Response:
    html = render_template_string(
        _ERROR_PAGE,
        title="Error",
        status=error.status,
        error=error.error,
        description=error.description,
        details=list(details),
    )
    return Response(html, status=error.status, mimetype="text/html")


def _redirect(url: str) -> Response:
    resp = Response("", status=302)
    resp.headers["Location"] = url
    return resp


# --------------------------------------------------------------------------------------------
# Token endpoint helpers


class _TokenError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


def _oauth_json(payload: Mapping[str, Any], status: int = 200) -> Response:
    resp = jsonify(dict(payload))
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
    resp.headers["Pragma"] = "no-cache"
    return resp


def _client_from_request(state: GoogleState, values: Mapping[str, str]) -> OAuthClient:
    """Client authentication: HTTP Basic, or client_id + client_secret in the form."""
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        client_id = urllib.parse.unquote_plus(auth.username or "")
        secret: str | None = urllib.parse.unquote_plus(auth.password or "")
    else:
        client_id = values.get("client_id", "")
        secret = values.get("client_secret")
    if not client_id:
        raise _TokenError(400, "invalid_request", "Could not determine client ID from request.")
    client = state.clients.get(client_id)
    if client is None:
        raise _TokenError(401, "invalid_client", "The OAuth client was not found.")
    if secret is None or secret == "":
        raise _TokenError(400, "invalid_request", "client_secret is missing.")
    if not secrets.compare_digest(secret.encode(), client.client_secret.encode()):
        raise _TokenError(401, "invalid_client", "Unauthorized")
    return client


def _pkce_ok(code: AuthCode, verifier: str) -> bool:
    assert code.code_challenge is not None
    if code.code_challenge_method == "S256":
        expected = _b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    else:
        expected = verifier
    return secrets.compare_digest(expected.encode(), code.code_challenge.encode())


def _id_token(
    state: GoogleState,
    issuer: str,
    client_id: str,
    email: str,
    scopes: frozenset[str],
    access_token: str,
    nonce: str | None,
    with_profile: bool,
) -> str:
    account = state.accounts[email]
    now = int(state.now())
    claims: dict[str, Any] = {
        "iss": issuer,
        "azp": client_id,
        "aud": client_id,
        "sub": account.sub,
    }
    if EMAIL_SCOPE in scopes:
        claims["email"] = account.email
        claims["email_verified"] = True
    claims["at_hash"] = _b64url(hashlib.sha256(access_token.encode()).digest()[:16])
    if nonce is not None:
        claims["nonce"] = nonce
    # Google leaves the profile claims out of ID tokens minted on refresh.
    if with_profile and PROFILE_SCOPE in scopes:
        claims["name"] = account.name
    claims["iat"] = now
    claims["exp"] = now + ID_TOKEN_SECONDS
    return sign_jwt(claims)


def _mint_access_token(
    state: GoogleState, email: str, client_id: str, scopes: frozenset[str], refresh: str | None
) -> AccessToken:
    token = AccessToken(
        token="ya29." + secrets.token_urlsafe(64),
        email=email,
        client_id=client_id,
        scopes=scopes,
        expires_at=state.now() + ACCESS_TOKEN_SECONDS,
        refresh_token=refresh,
    )
    state.access_tokens[token.token] = token
    return token


def _kill_refresh_token(state: GoogleState, refresh: RefreshToken) -> None:
    refresh.revoked = True
    for token in state.access_tokens.values():
        if token.refresh_token == refresh.token:
            token.revoked = True


def _mint_refresh_token(
    state: GoogleState, email: str, client_id: str, scopes: frozenset[str]
) -> RefreshToken:
    now = state.now()
    refresh = RefreshToken(
        token="1//" + secrets.token_urlsafe(72),
        email=email,
        client_id=client_id,
        scopes=scopes,
        issued_at=now,
        last_used_at=now,
    )
    state.refresh_tokens[refresh.token] = refresh
    live = sorted(
        (
            r
            for r in state.refresh_tokens.values()
            if r.email == email and r.client_id == client_id and not r.revoked
        ),
        key=lambda r: r.issued_at,
    )
    # Beyond 100 live tokens for one account and client Google drops the oldest, silently.
    for stale in live[: max(0, len(live) - REFRESH_TOKENS_PER_ACCOUNT_AND_CLIENT)]:
        _kill_refresh_token(state, stale)
    return refresh


def _refresh_token_dead(state: GoogleState, refresh: RefreshToken) -> bool:
    now = state.now()
    if refresh.revoked or now - refresh.last_used_at >= REFRESH_TOKEN_UNUSED_SECONDS:
        return True
    client = state.clients.get(refresh.client_id)
    return (
        client is not None
        and client.testing
        and not refresh.scopes <= SIGN_IN_SCOPES
        and now - refresh.issued_at >= TESTING_REFRESH_TOKEN_SECONDS
    )


def revoke_grant(state: GoogleState, email: str, client_id: str) -> bool:
    """Remove the app from the account (all its tokens and unused codes die). Lock held."""
    found = state.grants.pop((email, client_id), None) is not None
    for refresh in state.refresh_tokens.values():
        if refresh.email == email and refresh.client_id == client_id and not refresh.revoked:
            refresh.revoked = True
            found = True
    for token in state.access_tokens.values():
        if token.email == email and token.client_id == client_id and not token.revoked:
            if state.revocation_delay > 0:
                # The access token keeps working a while; refresh tokens die at once.
                if token.revoke_at is None:
                    token.revoke_at = state.now() + state.revocation_delay
            else:
                token.revoked = True
            found = True
    for code in state.auth_codes.values():
        if code.email == email and code.client_id == client_id:
            code.used = True
    return found


def _issuer() -> str:
    return request.host_url.rstrip("/")


def _exchange_code(
    state: GoogleState, client: OAuthClient, values: Mapping[str, str]
) -> dict[str, Any]:
    raw = values.get("code", "")
    if not raw:
        raise _TokenError(400, "invalid_request", "Missing required parameter: code")
    code = state.auth_codes.get(raw)
    if code is None:
        description = "Bad Request" if raw.startswith("4/") else "Malformed auth code."
        raise _TokenError(400, "invalid_grant", description)
    if code.used or state.now() - code.issued_at >= CODE_SECONDS:
        raise _TokenError(400, "invalid_grant", "Bad Request")
    if code.client_id != client.client_id:
        raise _TokenError(400, "invalid_grant", "Bad Request")
    if values.get("redirect_uri", "") != code.redirect_uri:
        raise _TokenError(400, "redirect_uri_mismatch", "Bad Request")
    verifier = values.get("code_verifier")
    if code.code_challenge is None:
        if verifier:
            raise _TokenError(400, "invalid_grant", "code_verifier or verifier is not needed.")
    elif not verifier:
        raise _TokenError(400, "invalid_grant", "Missing code verifier.")
    elif not _pkce_ok(code, verifier):
        raise _TokenError(400, "invalid_grant", "Invalid code verifier.")
    code.used = True
    refresh = (
        _mint_refresh_token(state, code.email, code.client_id, code.scopes)
        if code.issue_refresh_token
        else None
    )
    access = _mint_access_token(
        state, code.email, code.client_id, code.scopes, refresh.token if refresh else None
    )
    body: dict[str, Any] = {
        "access_token": access.token,
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": " ".join(sorted(code.scopes)),
        "token_type": "Bearer",
    }
    if OPENID in code.scopes:
        body["id_token"] = _id_token(
            state,
            _issuer(),
            code.client_id,
            code.email,
            code.scopes,
            access.token,
            code.nonce,
            with_profile=True,
        )
    if refresh is not None:
        body["refresh_token"] = refresh.token
    return body


def _refresh(state: GoogleState, client: OAuthClient, values: Mapping[str, str]) -> dict[str, Any]:
    raw = values.get("refresh_token", "")
    if not raw:
        raise _TokenError(400, "invalid_request", "Missing required parameter: refresh_token")
    refresh = state.refresh_tokens.get(raw)
    if refresh is None or _refresh_token_dead(state, refresh):
        raise _TokenError(400, "invalid_grant", _EXPIRED_OR_REVOKED)
    if refresh.client_id != client.client_id:
        raise _TokenError(401, "unauthorized_client", "Unauthorized")
    scopes = refresh.scopes
    asked = values.get("scope", "").split()
    if asked:
        wanted = canonical_scopes(asked)
        missing = wanted - refresh.scopes
        if missing:
            raise _TokenError(
                400,
                "invalid_scope",
                "Some requested scopes were invalid. "
                f"{{valid=[{', '.join(sorted(wanted & refresh.scopes))}], "
                f"invalid=[{', '.join(sorted(missing))}]}}",
            )
        scopes = wanted
    refresh.last_used_at = state.now()
    access = _mint_access_token(state, refresh.email, refresh.client_id, scopes, refresh.token)
    body: dict[str, Any] = {
        "access_token": access.token,
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": " ".join(sorted(scopes)),
        "token_type": "Bearer",
    }
    if OPENID in scopes:
        body["id_token"] = _id_token(
            state,
            _issuer(),
            refresh.client_id,
            refresh.email,
            scopes,
            access.token,
            None,
            with_profile=False,
        )
    return body


# --------------------------------------------------------------------------------------------
# The blueprint


def _query_params() -> dict[str, str]:
    """First value of each query parameter (Google ignores repeats the same way)."""
    return {key: request.args.get(key, "") for key in request.args}


def _json_error(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def blueprint(state: GoogleState) -> Blueprint:
    bp = Blueprint("google_oauth", __name__)

    @bp.before_request
    def _keep_body() -> None:
        # Cache the raw body before form parsing consumes the stream, for the request log.
        if not request.path.startswith("/_control"):
            request.get_data(cache=True)
            request_scope.started = state.now()

    @bp.after_request
    def _record(response: WerkzeugResponse) -> WerkzeugResponse:
        if not request.path.startswith("/_control"):
            entry = {
                "service": "oauth",
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode("latin-1"),
                "headers": dict(request.headers),
                "form": request.form.to_dict(flat=True),
                "body": request.get_data(as_text=True),
                "status": response.status_code,
                "started": request_scope.get("started"),  # with "at", shows which calls overlapped
                "at": state.now(),
            }
            with state.lock:
                state.requests.append(entry)
        return response

    # ---- authorize pages -------------------------------------------------------------------

    def session_or_page(form: Mapping[str, str], step: str) -> _ConsentSession | Response:
        with state.lock:
            session = state.consent_sessions.get(form.get("session", ""))
            if (
                not isinstance(session, _ConsentSession)
                or session.step != step
                or state.now() - session.created_at >= CONSENT_SESSION_SECONDS
            ):
                return _error_page(
                    _PageError(400, "invalid_request", "This sign-in session has expired.")
                )
            return session

    def after_choosing(session_id: str, session: _ConsentSession, email: str) -> Response:
        """Lock held. Straight back to the app when nothing new is asked, else the sign-in step."""
        req = session.request
        session.email = email
        if not _needs_consent(state, req, email):
            del state.consent_sessions[session_id]
            return _redirect(_finish(state, req, email, (), (), consent_shown=False))
        session.step = "signin"
        html = render_template_string(
            _SIGNIN_PAGE,
            title="Sign in",
            client_id=req.client_id,
            account=state.accounts[email],
            session_id=session_id,
            action=url_for("google_oauth.signin"),
        )
        return Response(html, mimetype="text/html")

    @bp.get("/o/oauth2/v2/auth")
    def authorize() -> Response:
        params = _query_params()
        with state.lock:
            try:
                req = _parse_authorize(state, params)
            except _PageError as exc:
                return _error_page(exc, params.items())
            if "none" in req.prompts:
                return _redirect(_silent_outcome(state, req, req.login_hint))
            session_id = secrets.token_urlsafe(24)
            session = _ConsentSession(request=req, created_at=state.now())
            state.consent_sessions[session_id] = session
            hinted = req.login_hint if req.login_hint in state.accounts else None
            if hinted is not None and "select_account" not in req.prompts:
                return after_choosing(session_id, session, hinted)
            html = render_template_string(
                _CHOOSE_PAGE,
                title="Sign in - Google Accounts",
                client_id=req.client_id,
                accounts=list(state.accounts.values()),
                session_id=session_id,
                action=url_for("google_oauth.choose"),
            )
        return Response(html, mimetype="text/html")

    @bp.post("/o/oauth2/v2/auth/choose")
    def choose() -> Response:
        found = session_or_page(request.form, "choose")
        if isinstance(found, Response):
            return found
        email = request.form.get("email", "")
        with state.lock:
            if email not in state.accounts:
                return _error_page(_PageError(400, "invalid_request", "Unknown account."))
            return after_choosing(request.form["session"], found, email)

    @bp.post("/o/oauth2/v2/auth/signin")
    def signin() -> Response:
        found = session_or_page(request.form, "signin")
        if isinstance(found, Response):
            return found
        session_id = request.form["session"]
        req, email = found.request, found.email
        assert email is not None
        with state.lock:
            if request.form.get("action") != "continue":
                del state.consent_sessions[session_id]
                return _redirect(_error_redirect(req, "access_denied"))
            listed = _listed_scopes(state, req, email)
            if not listed:
                del state.consent_sessions[session_id]
                return _redirect(_finish(state, req, email, (), (), consent_shown=True))
            found.step, found.listed = "consent", listed
            html = render_template_string(
                _CONSENT_PAGE,
                title="Grant access",
                client_id=req.client_id,
                account=state.accounts[email],
                session_id=session_id,
                scopes=[(scope, _describe_scope(scope)) for scope in listed],
                action=url_for("google_oauth.consent"),
            )
        return Response(html, mimetype="text/html")

    @bp.post("/o/oauth2/v2/auth/consent")
    def consent() -> Response:
        found = session_or_page(request.form, "consent")
        if isinstance(found, Response):
            return found
        session_id = request.form["session"]
        req, email = found.request, found.email
        assert email is not None
        with state.lock:
            del state.consent_sessions[session_id]
            if request.form.get("action") != "continue":
                return _redirect(_error_redirect(req, "access_denied"))
            # Only boxes that were on the page count: a forged scope value grants nothing.
            ticked = (
                set(found.listed)
                if request.form.get("select_all")
                else set(request.form.getlist("scope"))
            )
            url = _finish(state, req, email, found.listed, ticked, consent_shown=True)
        return _redirect(url)

    # ---- token, revoke, userinfo -----------------------------------------------------------

    @bp.post("/token")
    def token() -> Response:
        values = request.values.to_dict(flat=True)
        with state.lock:
            delay, generation = state.token_latency, state.generation
        if delay:
            time.sleep(delay)  # outside the lock: Google answers many refreshes at once
        with state.lock:
            if state.generation != generation:  # reset while it waited: not this state's caller
                return _json_error(503, "the stand-in was reset while this request waited")
            try:
                client = _client_from_request(state, values)
                grant_type = values.get("grant_type", "")
                if grant_type == "authorization_code":
                    body = _exchange_code(state, client, values)
                elif grant_type == "refresh_token":
                    body = _refresh(state, client, values)
                else:
                    raise _TokenError(
                        400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}"
                    )
            except _TokenError as exc:
                return _oauth_json(
                    {"error": exc.error, "error_description": exc.description}, exc.status
                )
        return _oauth_json(body)

    @bp.route("/revoke", methods=["GET", "POST"])
    def revoke() -> Response:
        raw = request.values.get("token", "")
        if not raw:
            return _oauth_json(
                {
                    "error": "invalid_request",
                    "error_description": "Missing required parameter: token",
                },
                400,
            )
        with state.lock:
            owner: tuple[str, str] | None = None
            refresh = state.refresh_tokens.get(raw)
            if refresh is not None and not _refresh_token_dead(state, refresh):
                owner = (refresh.email, refresh.client_id)
            access = state.access_tokens.get(raw)
            if access is not None and not access.revoked and access.expires_at > state.now():
                owner = (access.email, access.client_id)
            if owner is None:
                return _oauth_json(
                    {"error": "invalid_token", "error_description": "Token expired or revoked"},
                    400,
                )
            revoke_grant(state, *owner)
        return _oauth_json({})

    def bearer_token() -> AccessToken | None:
        try:
            return authenticate(state, request.headers.get("Authorization"), set())
        except AuthError:
            return None

    @bp.route("/oauth2/v3/userinfo", methods=["GET", "POST"])
    def userinfo() -> Response:
        token = bearer_token()
        if token is None:
            return _oauth_json(
                {"error": "invalid_request", "error_description": "Invalid Credentials"}, 401
            )
        with state.lock:
            account = state.accounts[token.email]
            body: dict[str, Any] = {"sub": account.sub}
            if PROFILE_SCOPE in token.scopes:
                body["name"] = account.name
            if EMAIL_SCOPE in token.scopes:
                body.update(email=account.email, email_verified=True)
        return _oauth_json(body)

    @bp.route("/oauth2/v3/tokeninfo", methods=["GET", "POST"])
    def tokeninfo() -> Response:
        raw = request.values.get("access_token", "")
        with state.lock:
            token = state.access_tokens.get(raw)
            now = state.now()
            if token is None or token.dead(now):
                return _oauth_json(
                    {"error": "invalid_token", "error_description": "Invalid Value"}, 400
                )
            account = state.accounts[token.email]
            body = {
                "azp": token.client_id,
                "aud": token.client_id,
                "sub": account.sub,
                "scope": " ".join(sorted(token.scopes)),
                "exp": str(int(token.expires_at)),
                "expires_in": str(int(token.expires_at - now)),
                "access_type": "offline" if token.refresh_token else "online",
            }
            if EMAIL_SCOPE in token.scopes:
                body.update(email=account.email, email_verified="true")
        return _oauth_json(body)

    # ---- keys and discovery ----------------------------------------------------------------

    @bp.get("/oauth2/v1/certs")
    def certs_pem() -> Response:
        return jsonify({SIGNING_KEY.kid: SIGNING_KEY.certificate_pem})

    @bp.get("/oauth2/v3/certs")
    def certs_jwks() -> Response:
        return jsonify({"keys": [SIGNING_KEY.jwk]})

    @bp.get("/.well-known/openid-configuration")
    def openid_configuration() -> Response:
        base = _issuer()
        return jsonify(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/o/oauth2/v2/auth",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/oauth2/v3/userinfo",
                "revocation_endpoint": f"{base}/revoke",
                "jwks_uri": f"{base}/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "claims_supported": [
                    "aud",
                    "email",
                    "email_verified",
                    "exp",
                    "iat",
                    "iss",
                    "name",
                    "sub",
                ],
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
            }
        )

    # ---- control API -----------------------------------------------------------------------

    @bp.post("/_control/accounts")
    def control_create_account() -> Any:
        body = request.get_json(force=True, silent=True) or {}
        email = str(body.get("email", "")).strip()
        if "@" not in email:
            return _json_error(400, "email is required")
        time_zone = str(body.get("time_zone") or "UTC")
        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return _json_error(400, f"unknown time_zone {time_zone!r}")
        name = str(body.get("name") or email.split("@", 1)[0])
        with state.lock:
            if email in state.accounts:
                return _json_error(409, f"account {email} exists")
            account = Account(email=email, sub=account_sub(email), name=name, time_zone=time_zone)
            account.calendar_roles[email] = "owner"
            state.accounts[email] = account
            return jsonify(_account_view(account)), 201

    @bp.get("/_control/accounts")
    def control_accounts() -> Any:
        with state.lock:
            return jsonify([_account_view(a) for a in state.accounts.values()])

    @bp.post("/_control/accounts/<path:email>/revoke")
    def control_revoke_account(email: str) -> Any:
        with state.lock:
            if email not in state.accounts:
                return _json_error(404, f"no account {email}")
            clients = sorted(
                {c for (e, c) in state.grants if e == email}
                | {r.client_id for r in state.refresh_tokens.values() if r.email == email}
                | {t.client_id for t in state.access_tokens.values() if t.email == email}
            )
            revoked = [c for c in clients if revoke_grant(state, email, c)]
            return jsonify({"email": email, "revoked_clients": revoked})

    @bp.get("/_control/grants")
    def control_grants() -> Any:
        with state.lock:
            return jsonify(
                [
                    {
                        "email": g.email,
                        "client_id": g.client_id,
                        "scopes": sorted(g.scopes),
                        "live_refresh_tokens": sum(
                            1
                            for r in state.refresh_tokens.values()
                            if r.email == g.email
                            and r.client_id == g.client_id
                            and not _refresh_token_dead(state, r)
                        ),
                    }
                    for g in state.grants.values()
                ]
            )

    @bp.post("/_control/clients/<path:client_id>/testing")
    def control_client_testing(client_id: str) -> Any:
        body = request.get_json(force=True, silent=True) or {}
        with state.lock:
            client = state.clients.get(client_id)
            if client is None:
                return _json_error(404, f"no client {client_id}")
            client.testing = bool(body.get("testing", True))
            return jsonify({"client_id": client_id, "testing": client.testing})

    @bp.post("/_control/tokens/expire_access")
    def control_expire_access() -> Any:
        with state.lock:
            now = state.now()
            live = [t for t in state.access_tokens.values() if t.expires_at > now]
            for token in live:
                token.expires_at = now
            return jsonify({"expired": len(live)})

    @bp.post("/_control/tokens/latency")
    def control_token_latency() -> Any:
        body = request.get_json(force=True, silent=True) or {}
        try:
            seconds = float(body["seconds"])
        except (KeyError, TypeError, ValueError):
            return _json_error(400, "seconds (a number) is required")
        if not 0 <= seconds <= 60:
            return _json_error(400, "seconds must be between 0 and 60")
        with state.lock:
            state.token_latency = seconds
            return jsonify({"seconds": seconds})

    @bp.post("/_control/clock")
    def control_clock() -> Any:
        body = request.get_json(force=True, silent=True) or {}
        try:
            seconds = float(body["advance_seconds"])
        except (KeyError, TypeError, ValueError):
            return _json_error(400, "advance_seconds (a number) is required")
        if seconds < 0:
            return _json_error(400, "the clock only moves forward")
        with state.lock:
            state.clock_offset += seconds
            return jsonify({"now": state.now()})

    @bp.post("/_control/consent")
    def control_consent() -> Any:
        body = request.get_json(force=True, silent=True) or {}
        auth_url = str(body.get("auth_url", ""))
        query = urllib.parse.urlsplit(auth_url).query
        params: dict[str, str] = {}
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params.setdefault(key, value)
        granted = body.get("granted_scopes")
        if granted is not None and not isinstance(granted, list):
            return _json_error(400, "granted_scopes must be a list or null")
        try:
            url = consent_decision(
                state,
                params,
                str(body.get("email", "")),
                granted_scopes=granted,
                deny=bool(body.get("deny", False)),
            )
        except _PageError as exc:
            return jsonify({"error": exc.error, "error_description": exc.description}), exc.status
        except KeyError as exc:
            return _json_error(404, f"no account {exc.args[0]}")
        except ValueError as exc:
            return _json_error(400, str(exc))
        return jsonify({"redirect": url})

    return bp


__all__ = [
    "AuthError",
    "SIGN_IN_SCOPES",
    "authenticate",
    "blueprint",
    "canonical_scope",
    "canonical_scopes",
    "consent_decision",
    "revoke_grant",
    "sign_jwt",
]
