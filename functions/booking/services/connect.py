"""Connecting Google accounts: the OAuth dance, the connection record, and the owner's choices
(default calendar, conflict calendars, Google Meet).

The OAuth state is a signed token (the `oauth` keyring) bound to the owner, valid 10 minutes,
and backed by a Firestore row that the callback consumes, so it works once. It is also bound to
whoever started it, because a consent link is easy to forward ("please reconnect my calendar")
and whoever completes it would otherwise attach *their* Google account to the owner:
  - started in the owner's signed-in browser: oauth_start sets a short-lived cookie derived from
    the state's nonce, and the callback goes on only in a browser that holds it;
  - started with an API key (no browser of ours to bind): the callback only shows a confirmation
    page, and nothing is attached until the owner, signed in, confirms it (same-origin JSON).
The PKCE verifier is derived from the key and the state's nonce, so no secret of the attempt is
stored. Nothing is stored unless the whole callback succeeds: the new grant reads the calendar
list first, then the refresh token and the record are written; if writing fails the grant is
handed back to Google (unless another connection uses that Google account).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from booking import log
from booking.adapters import firestore_owners as store
from booking.adapters import google_calendar, google_oauth, signing_keys
from booking.adapters import secrets as secret_store
from booking.config import CALENDAR_SCOPES, LOGIN_SCOPES, get_settings
from booking.domain import quotas, tokens
from booking.domain.locales import LOCALES
from booking.domain.model import CONNECTED, CalendarRef, Connection, Owner
from booking.domain.problems import Problem
from booking.domain.rules import WEEKDAYS
from booking.errors import (
    BookingError,
    DocumentMissing,
    ExternalError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
)
from booking.services import google_access, stored
from booking.services.stored import translating

STATE_TTL = timedelta(minutes=10)
MAX_DAILY_CAP = 1000  # as for an event type's own max_bookings_per_day
BROWSER = "b"  # started in the owner's signed-in browser: bound by a cookie
API = "a"  # started with an API key: the signed-in owner confirms before anything is attached


MISSING = Problem("connect.missing", "is missing")
NOT_A_CALENDAR = Problem("settings.calendar.unknown", "is not a calendar of a connected account")
CALENDAR_SHAPE = "{connection_id, calendar_id}"


class ConnectFailed(BookingError):
    """The OAuth round trip ended without a usable grant; nothing was stored."""

    status = 400
    code = "connect_failed"

    def __init__(self, message: Problem, reason: str = "other") -> None:
        super().__init__(message)
        self.reason = reason  # "denied", "calendar_not_granted" or "other": what the page says


@dataclass(frozen=True)
class Connected:
    owner_id: str
    email: str
    reconnected: bool


@dataclass(frozen=True)
class Started:
    url: str  # Google's consent screen
    binding: str | None  # the cookie value that binds a browser-started attempt


@dataclass(frozen=True)
class Pending:
    """An API-started attempt back from Google, waiting for its owner's confirmation."""

    owner_id: str
    code: str
    state: str


def _redirect_uri() -> str:
    return get_settings().function_url("oauth_callback")


def _binding(ring: tokens.Keyring, nonce: str, kid: str) -> str:
    return tokens.derive(ring, f"browser.{nonce}", kid)


def start(owner: Owner, now: datetime, login_hint: str | None = None, *,
          browser: bool) -> Started:
    """Google's consent URL for a new (or renewed) connection of this owner; with `browser`, the
    value of the cookie that must come back with Google's redirect."""
    ring = signing_keys.oauth()
    nonce = secrets.token_urlsafe(24)
    expires = now + STATE_TTL
    mode = BROWSER if browser else API
    store.create_oauth_state(nonce, owner.id, expires, now)
    state = tokens.sign(ring, "oauth_state", {"o": owner.id, "n": nonce, "m": mode},
                        expires_at=int(expires.timestamp()))
    verifier = tokens.derive(ring, f"pkce.{nonce}")
    url = google_oauth.consent_url(
        get_settings(),
        scopes=[*CALENDAR_SCOPES, *LOGIN_SCOPES],
        state=state,
        code_challenge=tokens.pkce_challenge(verifier),
        redirect_uri=_redirect_uri(),
        login_hint=login_hint,
    )
    return Started(url, _binding(ring, nonce, ring.current) if browser else None)


@dataclass(frozen=True)
class _State:
    owner_id: str
    nonce: str
    mode: str
    kid: str


def _check_state(state: str, now: datetime) -> _State:
    if not state:
        raise InvalidInput("state", MISSING)
    try:
        claims = signing_keys.verify(signing_keys.OAUTH, "oauth_state", state,
                                     now=now.timestamp())
    except tokens.TokenError as exc:
        if exc.expired:
            raise Gone(Problem("connect.state.expired", "this sign-in attempt took longer "
                                                        "than 10 minutes; please start again")) \
                from exc
        raise InvalidInput("state", Problem("connect.state.invalid",
                                            "is not a valid sign-in attempt")) from exc
    return _State(str(claims["o"]), str(claims["n"]), str(claims.get("m", API)),
                  tokens.key_id(state))


def _google_refused(params: dict[str, str]) -> None:
    # Google's own words (error, error_description) are never shown: they are attacker-chosen
    # text in a link anyone can craft.
    if params.get("error") == "access_denied":
        raise ConnectFailed(Problem("connect.denied", "You did not allow access to Google "
                                    "Calendar, so nothing was connected. You can try again from "
                                    "your integrations page."), "denied")
    if params.get("error"):
        raise ConnectFailed(Problem("connect.google_error", "Google did not connect the account. "
                                    "Please try again from your integrations page."))


@translating
def finish(params: dict[str, str], binding: str | None, now: datetime) -> Connected | Pending:
    """Handles Google's redirect back. A browser-started attempt goes on only in the browser
    that started it (`binding`, its cookie); an API-started one comes back as Pending for the
    owner to confirm. Raises with nothing stored unless all went well."""
    st = _check_state(params.get("state", ""), now)
    if st.mode == BROWSER:
        expected = _binding(signing_keys.ring(signing_keys.OAUTH), st.nonce, st.kid)
        if not binding or not hmac.compare_digest(binding.encode(), expected.encode()):
            raise Forbidden(Problem(
                "connect.other_browser", "This connection was started in another browser. "
                "Sign in to your own account and press Connect there: a link from someone else "
                "would attach your Google calendar to their account."))
    _google_refused(params)
    code = params.get("code", "")
    if not code:
        raise InvalidInput("code", MISSING)
    if st.mode != BROWSER:
        return Pending(st.owner_id, code, params["state"])
    return _complete(st, code, now)


@translating
def confirm(owner: Owner, body: dict[str, Any], now: datetime) -> Connected:
    """The signed-in owner confirms an API-started attempt (finish returned Pending)."""
    st = _check_state(str(body.get("state", "")), now)
    if st.mode == BROWSER:
        raise InvalidInput("state", Problem("connect.state.not_pending",
                                            "is not waiting for a confirmation"))
    if st.owner_id != owner.id:
        raise Forbidden(Problem("connect.other_owner", "This connection was started for another "
                                "account: it cannot be attached to yours."))
    code = body.get("code")
    if not isinstance(code, str) or not code:
        raise InvalidInput("code", MISSING)
    return _complete(st, code, now)


def _complete(st: _State, code: str, now: datetime) -> Connected:
    store.consume_oauth_state(st.nonce, st.owner_id, now)
    settings = get_settings()
    ring = signing_keys.ring(signing_keys.OAUTH)
    verifier = tokens.derive(ring, f"pkce.{st.nonce}", st.kid)
    try:
        grant = google_oauth.exchange_code(settings, code=code, code_verifier=verifier,
                                           redirect_uri=_redirect_uri())
    except ExternalError as exc:
        log.warning("oauth code exchange failed", owner=st.owner_id, error=str(exc))
        raise ConnectFailed(Problem("connect.exchange", "Google did not accept this sign-in; "
                                    "please try connecting again.")) from exc
    if not grant.id_token:
        # Without a verified account we cannot tell whether revoking would end someone else's
        # connection of the same account, so the unused grant is left to expire.
        raise ConnectFailed(Problem("connect.no_account", "Google did not say which account "
                                    "this is; please connect again."))
    try:
        claims = google_oauth.verify_id_token(settings, grant.id_token)
    except ExternalError as exc:
        raise ConnectFailed(Problem("connect.unverified", "Google's answer could not be "
                                    "verified; please try again.")) from exc
    try:
        _check_grant(grant)
        try:
            return _store_connection(st.owner_id, claims, grant, now)
        except ExternalError as exc:
            log.warning("connecting failed after the grant", owner=st.owner_id, error=str(exc))
            raise ConnectFailed(Problem("connect.calendars_unreadable", "Google did not let us "
                                        "read your calendars just now, so nothing was "
                                        "connected. Please try again.")) from exc
    except BaseException:
        _hand_back(grant, str(claims["sub"]))
        raise


def _check_grant(grant: google_oauth.TokenGrant) -> None:
    if any(scope not in grant.scopes for scope in CALENDAR_SCOPES):
        raise ConnectFailed(Problem(
            "connect.calendar_not_granted", 'Calendar access was not granted. Please connect '
            'again and tick "Select all" on Google\'s permission page, so we can list your '
            'calendars, check them for conflicts and add bookings to your calendar.'),
            "calendar_not_granted")
    if not grant.refresh_token:
        raise ConnectFailed(Problem("connect.no_refresh_token", "Google did not return what we "
                                    "need for offline access; please connect again."))


def _hand_back(grant: google_oauth.TokenGrant, sub: str | None) -> None:
    """A grant we will not keep goes back to Google, unless a connection (of any owner) uses
    the same Google account: revoking is per account and client, so it would end theirs too."""
    if sub is not None and store.connections_of_google_account(sub):
        return
    try:
        google_oauth.revoke(get_settings(), grant.access_token)
    except ExternalError as exc:
        log.warning("could not hand a grant back to google", error=str(exc))


def _store_connection(owner_id: str, claims: dict[str, Any], grant: google_oauth.TokenGrant,
                      now: datetime) -> Connected:
    owner = store.get_owner(owner_id)
    conn_id = f"g{claims['sub']}"
    previous = store.find_connection(owner_id, conn_id)
    secret_id = f"google-refresh-{owner_id}-{conn_id}"
    assert grant.refresh_token is not None
    conn = Connection(
        id=conn_id,
        email=str(claims["email"]),
        sub=str(claims["sub"]),
        status=CONNECTED,
        scopes=sorted(grant.scopes),
        connected_at=now,
        secret_id=secret_id,
        token_version=(previous.token_version + 1) if previous else 1,
        conflict_calendar_ids=previous.conflict_calendar_ids if previous else [],
        booking_calendar_ids=previous.booking_calendar_ids if previous else [],
    )
    # Read with the new grant before anything is written: a failure here stores nothing.
    google_calendar.use_grant(conn, access_token=grant.access_token,
                              refresh_token=grant.refresh_token, expires_in=grant.expires_in)
    conn.calendars = google_calendar.calendar_list(conn)
    if previous is None and conn.primary is not None:
        conn.conflict_calendar_ids = [conn.primary.id]
    # Keep only choices that still exist in the account.
    conn.conflict_calendar_ids = [c for c in conn.conflict_calendar_ids if conn.calendar(c)]
    conn.booking_calendar_ids = [c for c in conn.booking_calendar_ids if conn.calendar(c)]
    version = secret_store.add_version(secret_id, grant.refresh_token)
    try:
        store.save_connection(owner_id, conn)
    except BaseException:
        secret_store.forget_version(secret_id, version, delete_secret=previous is None)
        raise
    # The record points at the new token: older versions (a reconnect's) can go.
    secret_store.destroy_older_versions(secret_id, version)
    if owner.default_calendar is None and conn.primary is not None and conn.primary.writable:
        owner.default_calendar = CalendarRef(conn.id, conn.primary.id)
        store.update_owner(owner_id, {"default_calendar": owner.default_calendar.to_dict()})
    from booking.services import watch

    watch.reconcile(store.get_owner(owner_id), now)
    if previous is not None:
        _resume_google_writes(owner_id, now)
    log.info("google account connected", owner=owner_id, connection=conn_id,
             reconnected=previous is not None)
    return Connected(owner_id, conn.email, previous is not None)


def _resume_google_writes(owner_id: str, now: datetime) -> None:
    """A reconnect restores the writes that waited for it (a booking cancelled meanwhile
    leaves Google's calendar now, not at its row's next look). Best effort: a failure here
    leaves them to the resync, and the connection is stored already."""
    from booking.services import outbox

    try:
        done = outbox.resume_google_writes(owner_id, now)
    except Exception as exc:  # noqa: BLE001 - the rows stay owed; resync delivers them
        log.warning("waiting google writes not resumed", owner=owner_id,
                    error=f"{type(exc).__name__}: {exc}")
        return
    if done:
        log.info("google writes resumed after reconnect", owner=owner_id, **done)


def connection_view(owner: Owner, conn: Connection) -> dict[str, Any]:
    default = owner.default_calendar
    return {
        "id": conn.id,
        "email": conn.email,
        "status": conn.status,
        "scopes": conn.scopes,
        "connected_at": conn.connected_at.isoformat(),
        "calendars": [
            {
                **cal.to_dict(),
                "writable": cal.writable,
                "check_conflicts": cal.id in conn.conflict_calendar_ids,
                "default": default is not None and default == CalendarRef(conn.id, cal.id),
            }
            for cal in conn.calendars
        ],
    }


def overview(owner: Owner) -> dict[str, Any]:
    conns = store.list_connections(owner.id)
    return {
        "owner": {"id": owner.id, "name": owner.name, "email": owner.email,
                  "time_zone": owner.time_zone, "language": owner.language},
        "meet_enabled": owner.meet_enabled,
        "allowed_origins": owner.allowed_origins,
        "redirect_urls": owner.redirect_urls,
        "max_bookings_per_day": owner.max_bookings_per_day,
        "locale": owner.locale,
        "week_start": WEEKDAYS[owner.week_start],
        "limits": quotas.effective(owner.limits),
        "default_calendar": owner.default_calendar.to_dict() if owner.default_calendar else None,
        "connections": [connection_view(owner, c) for c in conns],
    }


@translating
def disconnect(owner: Owner, connection_id: str, now: datetime) -> None:
    """Stops watch channels, revokes at Google (only when no other connection, of this owner or
    another, uses the same Google account: a revoke ends the grant for all of them), deletes the
    secret and the record. Bookings keep their history (they hold copies of what they need)."""
    conn = store.get_connection(owner.id, connection_id)
    from booking.services import watch

    # Channels first: stopping them needs the grant that revoking ends.
    watch.stop_all(owner, conn, now)
    others = [c for c in store.connections_of_google_account(conn.sub)
              if c != (owner.id, conn.id)]
    if not others:
        try:
            google_oauth.revoke(get_settings(), secret_store.get(conn.secret_id))
        except ExternalError as exc:
            # The owner asked to disconnect; a grant we can no longer read or revoke must not
            # keep the connection alive here. Google drops unused grants after six months.
            log.warning("revoke at google failed", owner=owner.id, connection=conn.id,
                        error=str(exc))
    secret_store.delete(conn.secret_id)
    store.delete_connection(owner.id, conn.id)
    updates: dict[str, Any] = {}
    if owner.default_calendar and owner.default_calendar.connection_id == conn.id:
        updates["default_calendar"] = _first_writable_primary(owner.id)
    if updates:
        store.update_owner(owner.id, updates)
    log.info("google account disconnected", owner=owner.id, connection=conn.id,
             revoked=not others)


def _first_writable_primary(owner_id: str) -> dict[str, str] | None:
    for conn in store.list_connections(owner_id):
        if conn.primary is not None and conn.primary.writable:
            return CalendarRef(conn.id, conn.primary.id).to_dict()
    return None


@translating
def refresh_calendars(owner: Owner, connection_id: str, now: datetime) -> Connection:
    conn = store.get_connection(owner.id, connection_id)
    calendars = google_access.use(owner, conn, google_calendar.calendar_list, now,
                                  owner_asks=True)
    conn = replace(conn, calendars=calendars)
    conn.conflict_calendar_ids = [c for c in conn.conflict_calendar_ids if conn.calendar(c)]
    store.update_connection(owner.id, conn.id, {
        "calendars": [c.to_dict() for c in calendars],
        "conflict_calendar_ids": conn.conflict_calendar_ids,
    })
    from booking.services import watch

    watch.reconcile(store.get_owner(owner.id), now)
    return conn


@translating
def update_settings(owner: Owner, body: dict[str, Any]) -> None:
    """Applies the owner's choices; validates all of them before changing anything."""
    conns = {c.id: c for c in store.list_connections(owner.id)}
    owner_updates: dict[str, Any] = {}
    conflict_updates: dict[str, list[str]] = {}
    problems: dict[str, str] = {}

    if "default_calendar" in body:
        ref = body["default_calendar"]
        if not isinstance(ref, dict) or not isinstance(ref.get("connection_id"), str) or \
                not isinstance(ref.get("calendar_id"), str):
            problems["default_calendar"] = Problem("settings.calendar.shape",
                                                   "must be %(shape)s", shape=CALENDAR_SHAPE)
        else:
            conn = conns.get(ref["connection_id"])
            cal = conn.calendar(ref["calendar_id"]) if conn else None
            if cal is None:
                problems["default_calendar"] = NOT_A_CALENDAR
            elif not cal.writable:
                problems["default_calendar"] = Problem(
                    "settings.default_calendar.read_only",
                    "needs writer or owner access; this calendar is %(role)s",
                    role=cal.access_role)
            else:
                owner_updates["default_calendar"] = CalendarRef(conn.id, cal.id).to_dict()  # type: ignore[union-attr]

    if "conflict_calendars" in body:
        refs = body["conflict_calendars"]
        if not isinstance(refs, list):
            problems["conflict_calendars"] = Problem("settings.calendars.shape",
                                                     "must be a list of %(shape)s",
                                                     shape=CALENDAR_SHAPE)
        else:
            chosen: dict[str, list[str]] = {cid: [] for cid in conns}
            for i, ref in enumerate(refs):
                conn = conns.get(str(ref.get("connection_id"))) if isinstance(ref, dict) else None
                cal_id = ref.get("calendar_id") if isinstance(ref, dict) else None
                if conn is None or not isinstance(cal_id, str) or conn.calendar(cal_id) is None:
                    problems[f"conflict_calendars[{i}]"] = NOT_A_CALENDAR
                elif cal_id not in chosen[conn.id]:
                    chosen[conn.id].append(cal_id)
            conflict_updates = chosen

    if "meet_enabled" in body:
        if not isinstance(body["meet_enabled"], bool):
            problems["meet_enabled"] = Problem("settings.bool", "must be true or false")
        else:
            owner_updates["meet_enabled"] = body["meet_enabled"]

    if "language" in body:
        if body["language"] not in LOCALES:
            problems["language"] = Problem("settings.language", "must be one of %(choices)s",
                                           choices=", ".join(LOCALES))
        else:
            owner_updates["language"] = body["language"]
    if "time_zone" in body:
        from booking.services.owners import validate_zone

        try:
            zone = body["time_zone"]
            owner_updates["time_zone"] = validate_zone(zone if isinstance(zone, str) else "",
                                                       "time_zone")
        except InvalidInput as exc:
            problems.update(exc.fields)

    for name in ("allowed_origins", "redirect_urls"):
        if name in body:
            values = body[name]
            if not isinstance(values, list) or len(values) > 20 or not all(
                    isinstance(v, str) and _is_web_address(v, origin=name == "allowed_origins")
                    for v in values):
                problems[name] = (
                    Problem("settings.origins", "must be a list of up to %(n)s origins such as "
                            "%(example)s", n=20, example="https://coach.example")
                    if name == "allowed_origins" else
                    Problem("settings.urls", "must be a list of up to %(n)s %(scheme)s URLs",
                            n=20, scheme="https://"))
            else:
                owner_updates[name] = values

    if "max_bookings_per_day" in body:
        cap = body["max_bookings_per_day"]
        if cap is not None and (type(cap) is not int or not 1 <= cap <= MAX_DAILY_CAP):
            problems["max_bookings_per_day"] = Problem(
                "settings.daily_cap", "must be null (no cap) or 1 to %(high)s: bookings of all "
                "event types on one day", high=MAX_DAILY_CAP)
        else:
            owner_updates["max_bookings_per_day"] = cap

    if "locale" in body:
        try:
            owner_updates.update(_week_locale(body["locale"]))
        except ValueError:
            problems["locale"] = Problem("settings.locale", "must be a locale with its region "
                                         "such as %(examples)s", examples="sl-SI, en-GB or en-US")

    if "limits" in body:
        found, wrong = quotas.parse_limits(body["limits"])
        problems.update(wrong)
        # Keys left out keep what the owner set before; the defaults fill the rest.
        owner_updates["limits"] = {**owner.limits, **found}

    unknown = set(body) - {"default_calendar", "conflict_calendars", "meet_enabled",
                           "allowed_origins", "redirect_urls", "max_bookings_per_day",
                           "language", "time_zone", "locale", "limits"}
    for name in sorted(unknown):
        problems[name] = Problem("settings.unknown", "is not a setting")
    if problems:
        raise InvalidInput(problems)
    for conn_id, ids in conflict_updates.items():
        store.update_connection(owner.id, conn_id, {"conflict_calendar_ids": ids})
    if owner_updates:
        store.update_owner(owner.id, owner_updates)
    if "default_calendar" in owner_updates or conflict_updates:
        from datetime import UTC

        from booking.services import watch

        # A calendar chosen now is watched now; one no longer chosen stops being watched.
        watch.reconcile(store.get_owner(owner.id), datetime.now(UTC))


def _week_locale(value: Any) -> dict[str, Any]:
    """The owner's locale and the first day of its week (CLDR weekData, through Babel), kept
    on the owner so that availability never loads locale data; null is ISO's Monday."""
    if value is None:
        return {"locale": None, "week_start": 0}
    from babel import Locale, UnknownLocaleError

    if not isinstance(value, str) or not value.strip():
        raise ValueError("not a locale")
    try:
        found = Locale.parse(value.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError("not a locale") from exc
    spelled = "-".join(p for p in (found.language, found.script, found.territory) if p)
    return {"locale": spelled, "week_start": found.first_week_day}


def _is_web_address(value: str, *, origin: bool) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or "\n" in value:
        return False
    return not origin or (parts.path in ("", "/") and not parts.query) and not value.endswith("/")


def require_connection(owner: Owner, connection_id: str) -> Connection:
    try:
        return store.get_connection(owner.id, connection_id)
    except DocumentMissing:
        raise NotFound(stored.MISSING["connection"]) from None
