"""Connecting Google accounts: the OAuth dance, the connection record, and the owner's choices
(default calendar, conflict calendars, Google Meet).

The OAuth state is a signed token bound to the owner, valid 10 minutes, and backed by a Firestore
row that the callback consumes, so it works once. The PKCE verifier is derived from our key and
the state's nonce, so no secret of the attempt is stored anywhere.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from booking import log
from booking.adapters import firestore_owners as store
from booking.adapters import google_calendar, google_oauth
from booking.adapters import secrets as secret_store
from booking.config import CALENDAR_SCOPE, LOGIN_SCOPES, get_settings
from booking.domain import quotas, tokens
from booking.domain.locales import LOCALES
from booking.domain.model import CONNECTED, CalendarRef, Connection, Owner
from booking.domain.rules import WEEKDAYS
from booking.errors import BookingError, ExternalError, Gone, InvalidInput, NotFound
from booking.services import google_access

STATE_TTL = timedelta(minutes=10)
MAX_DAILY_CAP = 1000  # as for an event type's own max_bookings_per_day


class ConnectFailed(BookingError):
    """The OAuth round trip ended without a usable grant; nothing was stored."""

    status = 400
    code = "connect_failed"

    def __init__(self, message: str, reason: str = "other") -> None:
        super().__init__(message)
        self.reason = reason  # "denied", "calendar_not_granted" or "other": what the page says


@dataclass(frozen=True)
class Connected:
    owner_id: str
    email: str
    reconnected: bool


def _redirect_uri() -> str:
    return get_settings().function_url("oauth_callback")


def start(owner: Owner, now: datetime, login_hint: str | None = None) -> str:
    """Google's consent URL for a new (or renewed) connection of this owner."""
    key = secret_store.signing_key()
    nonce = secrets.token_urlsafe(24)
    expires = now + STATE_TTL
    store.create_oauth_state(nonce, owner.id, expires, now)
    state = tokens.sign(key, "oauth_state", {"o": owner.id, "n": nonce},
                        expires_at=int(expires.timestamp()))
    verifier = tokens.derive(key, f"pkce.{nonce}")
    return google_oauth.consent_url(
        get_settings(),
        scopes=[CALENDAR_SCOPE, *LOGIN_SCOPES],
        state=state,
        code_challenge=tokens.pkce_challenge(verifier),
        redirect_uri=_redirect_uri(),
        login_hint=login_hint,
    )


def _check_state(state: str, now: datetime) -> tuple[str, str]:
    try:
        claims = tokens.verify(secret_store.signing_key(), "oauth_state", state,
                               now=now.timestamp())
    except tokens.TokenError as exc:
        if exc.expired:
            raise Gone("this sign-in attempt took longer than 10 minutes; please start "
                       "again") from exc
        raise InvalidInput("state", "is not a valid sign-in attempt") from exc
    return str(claims["o"]), str(claims["n"])


def finish(params: dict[str, str], now: datetime) -> Connected:
    """Handles Google's redirect back. Raises with nothing stored unless all went well."""
    state = params.get("state", "")
    if not state:
        raise InvalidInput("state", "is missing")
    owner_id, nonce = _check_state(state, now)
    store.consume_oauth_state(nonce, owner_id, now)
    if params.get("error"):
        if params["error"] == "access_denied":
            raise ConnectFailed("You did not allow access to Google Calendar, so nothing was "
                                "connected. You can try again from your integrations page.",
                                "denied")
        raise ConnectFailed(f"Google did not connect the account ({params['error']}).")
    code = params.get("code", "")
    if not code:
        raise InvalidInput("code", "is missing")
    settings = get_settings()
    verifier = tokens.derive(secret_store.signing_key(), f"pkce.{nonce}")
    try:
        grant = google_oauth.exchange_code(settings, code=code, code_verifier=verifier,
                                           redirect_uri=_redirect_uri())
    except ExternalError as exc:
        log.warning("oauth code exchange failed", owner=owner_id, error=str(exc))
        raise ConnectFailed("Google did not accept this sign-in; please try connecting "
                            "again.") from exc
    if CALENDAR_SCOPE not in grant.scopes:
        # A partial grant is useless to us; hand it back rather than leave it dangling.
        google_oauth.revoke(settings, grant.access_token)
        raise ConnectFailed('Calendar access was not granted. Please connect again and tick '
                            '"Select all" on Google\'s permission page, so we can check your '
                            'calendars for conflicts and add bookings to them.',
                            "calendar_not_granted")
    if not grant.id_token or not grant.refresh_token:
        google_oauth.revoke(settings, grant.access_token)
        raise ConnectFailed("Google did not return what we need for offline access; please "
                            "connect again.")
    try:
        claims = google_oauth.verify_id_token(settings, grant.id_token)
    except ExternalError as exc:
        raise ConnectFailed("Google's answer could not be verified; please try again.") from exc
    return _store_connection(owner_id, claims, grant, now)


def _store_connection(owner_id: str, claims: dict[str, Any], grant: google_oauth.TokenGrant,
                      now: datetime) -> Connected:
    owner = store.get_owner(owner_id)
    conn_id = f"g{claims['sub']}"
    previous = store.find_connection(owner_id, conn_id)
    secret_id = f"google-refresh-{owner_id}-{conn_id}"
    assert grant.refresh_token is not None
    secret_store.put(secret_id, grant.refresh_token)
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
    )
    conn.calendars = google_calendar.calendar_list(conn)
    if previous is None and conn.primary is not None:
        conn.conflict_calendar_ids = [conn.primary.id]
    # Keep only choices that still exist in the account.
    conn.conflict_calendar_ids = [c for c in conn.conflict_calendar_ids if conn.calendar(c)]
    store.save_connection(owner_id, conn)
    if owner.default_calendar is None and conn.primary is not None and conn.primary.writable:
        owner.default_calendar = CalendarRef(conn.id, conn.primary.id)
        store.update_owner(owner_id, {"default_calendar": owner.default_calendar.to_dict()})
    from booking.services import watch

    watch.reconcile(store.get_owner(owner_id), now)
    log.info("google account connected", owner=owner_id, connection=conn_id,
             reconnected=previous is not None)
    return Connected(owner_id, conn.email, previous is not None)


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


def disconnect(owner: Owner, connection_id: str, now: datetime) -> None:
    """Revokes at Google, stops watch channels, deletes the secret and the record. Bookings keep
    their history (they hold copies of what they need)."""
    conn = store.get_connection(owner.id, connection_id)
    from booking.services import watch

    # Channels first: stopping them needs the grant that revoking ends.
    watch.stop_all(owner, conn, now)
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
    log.info("google account disconnected", owner=owner.id, connection=conn.id)


def _first_writable_primary(owner_id: str) -> dict[str, str] | None:
    for conn in store.list_connections(owner_id):
        if conn.primary is not None and conn.primary.writable:
            return CalendarRef(conn.id, conn.primary.id).to_dict()
    return None


def refresh_calendars(owner: Owner, connection_id: str, now: datetime) -> Connection:
    conn = store.get_connection(owner.id, connection_id)
    calendars = google_access.use(owner, conn, google_calendar.calendar_list, now)
    conn = replace(conn, calendars=calendars)
    conn.conflict_calendar_ids = [c for c in conn.conflict_calendar_ids if conn.calendar(c)]
    store.update_connection(owner.id, conn.id, {
        "calendars": [c.to_dict() for c in calendars],
        "conflict_calendar_ids": conn.conflict_calendar_ids,
    })
    from booking.services import watch

    watch.reconcile(store.get_owner(owner.id), now)
    return conn


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
            problems["default_calendar"] = "must be {connection_id, calendar_id}"
        else:
            conn = conns.get(ref["connection_id"])
            cal = conn.calendar(ref["calendar_id"]) if conn else None
            if cal is None:
                problems["default_calendar"] = "is not a calendar of a connected account"
            elif not cal.writable:
                problems["default_calendar"] = ("needs writer or owner access; this calendar "
                                                f"is {cal.access_role}")
            else:
                owner_updates["default_calendar"] = CalendarRef(conn.id, cal.id).to_dict()  # type: ignore[union-attr]

    if "conflict_calendars" in body:
        refs = body["conflict_calendars"]
        if not isinstance(refs, list):
            problems["conflict_calendars"] = "must be a list of {connection_id, calendar_id}"
        else:
            chosen: dict[str, list[str]] = {cid: [] for cid in conns}
            for i, ref in enumerate(refs):
                conn = conns.get(str(ref.get("connection_id"))) if isinstance(ref, dict) else None
                cal_id = ref.get("calendar_id") if isinstance(ref, dict) else None
                if conn is None or not isinstance(cal_id, str) or conn.calendar(cal_id) is None:
                    problems[f"conflict_calendars[{i}]"] = "is not a connected account's calendar"
                elif cal_id not in chosen[conn.id]:
                    chosen[conn.id].append(cal_id)
            conflict_updates = chosen

    if "meet_enabled" in body:
        if not isinstance(body["meet_enabled"], bool):
            problems["meet_enabled"] = "must be true or false"
        else:
            owner_updates["meet_enabled"] = body["meet_enabled"]

    if "language" in body:
        if body["language"] not in LOCALES:
            problems["language"] = f"must be one of {', '.join(LOCALES)}"
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
                problems[name] = ("must be a list of up to 20 " +
                                  ("origins such as https://coach.example" if
                                   name == "allowed_origins" else "https:// URLs"))
            else:
                owner_updates[name] = values

    if "max_bookings_per_day" in body:
        cap = body["max_bookings_per_day"]
        if cap is not None and (type(cap) is not int or not 1 <= cap <= MAX_DAILY_CAP):
            problems["max_bookings_per_day"] = (f"must be null (no cap) or 1 to {MAX_DAILY_CAP}:"
                                                " bookings of all event types on one day")
        else:
            owner_updates["max_bookings_per_day"] = cap

    if "locale" in body:
        try:
            owner_updates.update(_week_locale(body["locale"]))
        except ValueError:
            problems["locale"] = "must be a locale with its region such as sl-SI, en-GB or en-US"

    if "limits" in body:
        found, wrong = quotas.parse_limits(body["limits"])
        problems.update(wrong)
        # Keys left out keep what the owner set before; the defaults fill the rest.
        owner_updates["limits"] = {**owner.limits, **found}

    unknown = set(body) - {"default_calendar", "conflict_calendars", "meet_enabled",
                           "allowed_origins", "redirect_urls", "max_bookings_per_day",
                           "language", "time_zone", "locale", "limits"}
    for name in sorted(unknown):
        problems[name] = "is not a setting"
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
    except NotFound:
        raise NotFound("no such connection") from None
