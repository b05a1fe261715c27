"""One frozen Settings object built from the environment, checked once, on first use.

Every function needs the project; the rest is needed only by the functions whose code reads it
(`Settings.need`), so each deployed function is given its own variables and secrets and nothing
more (infra/functions.tf, proven by tests/unit/test_infra_consistency.py). A value that is set
is checked at load; one that is missing stops the function with an error naming the variable the
first time its code needs it. The Google endpoints default to Google's own. Tests and the local
run point every endpoint at the emulator and the stand-ins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from booking.errors import ConfigError

# The narrowest Calendar scopes that do the job (calendar.v3.json, each method's `scopes`):
#   calendarList.list                          calendar.calendarlist.readonly
#   freebusy.query (any conflict calendar)     calendar.freebusy
#   events insert/patch/delete/list/watch      calendar.events (the default calendar may be one
#                                              the owner can write but does not own, which
#                                              calendar.events.owned would not cover)
# channels.stop accepts any of them. The full `calendar` scope (calendars, ACLs, settings) is
# never asked for.
CALENDAR_SCOPES = (
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.events",
)
LOGIN_SCOPES = ("openid", "https://www.googleapis.com/auth/userinfo.email")


@dataclass(frozen=True)
class Settings:
    project_id: str
    base_url: str | None = None  # where the functions answer: {base_url}/{function_name}
    mail_from: str | None = None
    google_client_id: str | None = None
    google_client_secret: str | None = None
    sendgrid_api_key: str | None = None
    firestore_emulator_host: str | None = None
    secret_manager_endpoint: str | None = None  # None: the real Secret Manager
    sendgrid_host: str = "https://api.sendgrid.com"
    google_auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
    google_revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    google_certs_uri: str = "https://www.googleapis.com/oauth2/v1/certs"
    google_issuer: str = "https://accounts.google.com"
    google_calendar_endpoint: str = "https://www.googleapis.com/calendar/v3/"
    mail_from_name: str = "Bookings"
    # Which X-Forwarded-For entry, from the right, is the client: 1 on Cloud Functions, 2
    # behind an external load balancer (it appends the address Google's front end saw).
    client_ip_hops: int = 1
    # What a person's request may spend on outside services, all calls together (see
    # booking.deadline); the public functions' timeout in infra/ leaves room to answer after it.
    request_deadline_seconds: float = 10.0

    def need(self, attr: str) -> str:
        """The value of a setting this code path cannot do without; ConfigError naming its
        variable when the function was deployed without it."""
        value = getattr(self, attr)
        if not value:
            raise ConfigError(f"missing environment variable: {_var_of(attr)}")
        return str(value)

    def function_url(self, name: str) -> str:
        return f"{self.need('base_url')}/{name}"


_REQUIRED = {
    "project_id": "GOOGLE_CLOUD_PROJECT",
}
# Needed by some functions only (Settings.need); infra/ sets each where its code reads it.
NEEDED = {
    "base_url": "FUNCTION_BASE_URL",
    "mail_from": "MAIL_FROM",
    "google_client_id": "GOOGLE_CLIENT_ID",
    "google_client_secret": "GOOGLE_CLIENT_SECRET",
    "sendgrid_api_key": "SENDGRID_API_KEY",
}
_OPTIONAL = {
    **NEEDED,
    "firestore_emulator_host": "FIRESTORE_EMULATOR_HOST",
    "secret_manager_endpoint": "SECRET_MANAGER_ENDPOINT",
    "sendgrid_host": "SENDGRID_HOST",
    "google_auth_uri": "GOOGLE_AUTH_URI",
    "google_token_uri": "GOOGLE_TOKEN_URI",
    "google_revoke_uri": "GOOGLE_REVOKE_URI",
    "google_certs_uri": "GOOGLE_CERTS_URI",
    "google_issuer": "GOOGLE_ISSUER",
    "google_calendar_endpoint": "GOOGLE_CALENDAR_ENDPOINT",
    "mail_from_name": "MAIL_FROM_NAME",
    "client_ip_hops": "CLIENT_IP_HOPS",
    "request_deadline_seconds": "REQUEST_DEADLINE_SECONDS",
}
_URLS = ("base_url", "sendgrid_host", "google_auth_uri", "google_token_uri", "google_revoke_uri",
         "google_certs_uri", "google_calendar_endpoint", "secret_manager_endpoint")


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Builds Settings from `environ`; a missing or bad variable raises ConfigError naming it."""
    values: dict[str, str] = {}
    missing = [var for var in _REQUIRED.values() if not environ.get(var, "").strip()]
    if missing:
        raise ConfigError("missing environment variable(s): " + ", ".join(missing))
    for attr, var in {**_REQUIRED, **_OPTIONAL}.items():
        value = environ.get(var, "").strip()
        if value:
            values[attr] = value
    for attr in _URLS:
        if attr in values:
            parts = urlsplit(values[attr])
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"{_var_of(attr)} must be an http(s) URL, got {values[attr]!r}")
    if "base_url" in values:
        values["base_url"] = values["base_url"].rstrip("/")
    endpoint = values.get("google_calendar_endpoint")
    if endpoint and not endpoint.endswith("/"):
        # googleapiclient joins paths onto the endpoint: without the slash it drops "v3".
        values["google_calendar_endpoint"] = endpoint + "/"
    hops = values.pop("client_ip_hops", "1")
    if not hops.isdigit() or not 1 <= int(hops) <= 5:
        raise ConfigError(f"CLIENT_IP_HOPS must be a number from 1 to 5, got {hops!r}")
    if "request_deadline_seconds" in values:
        try:
            seconds = float(values["request_deadline_seconds"])
        except ValueError:
            seconds = 0.0
        if not 1.0 <= seconds <= 30.0:
            raise ConfigError("REQUEST_DEADLINE_SECONDS must be a number of seconds from 1 to "
                              f"30, got {values['request_deadline_seconds']!r}")
        values["request_deadline_seconds"] = seconds  # type: ignore[assignment]
    if "mail_from" in values and "@" not in values["mail_from"]:
        raise ConfigError(f"MAIL_FROM must be an email address, got {values['mail_from']!r}")
    return Settings(**values, client_ip_hops=int(hops))  # type: ignore[arg-type]


def _var_of(attr: str) -> str:
    return {**_REQUIRED, **_OPTIONAL}[attr]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings(os.environ)
