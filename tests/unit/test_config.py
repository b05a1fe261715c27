"""Settings from the environment: every missing or bad variable is named, defaults are Google's."""

from __future__ import annotations

import pytest

from booking.config import NEEDED, Settings, load_settings
from booking.errors import BookingError, ConfigError

ALL = {
    "GOOGLE_CLOUD_PROJECT": "demo-project",
    "FUNCTION_BASE_URL": "https://europe-west1-demo-project.cloudfunctions.net",
    "MAIL_FROM": "bookings@example.com",
    "GOOGLE_CLIENT_ID": "client.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "client-secret",
    "SENDGRID_API_KEY": "SG.key",
}


NEEDED_BY_SOME = sorted(set(ALL) - {"GOOGLE_CLOUD_PROJECT"})
REQUIRED = ALL  # the bad-value tests start from a complete environment


def env(**changes: str) -> dict[str, str]:
    return {**ALL, **changes}


def config_error(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    return str(caught.value)


def test_the_required_variables_alone_make_settings_with_googles_endpoints() -> None:
    settings = load_settings(REQUIRED)
    assert settings == Settings(
        project_id="demo-project",
        base_url="https://europe-west1-demo-project.cloudfunctions.net",
        mail_from="bookings@example.com",
        google_client_id="client.apps.googleusercontent.com",
        google_client_secret="client-secret",
        sendgrid_api_key="SG.key",
    )
    assert settings.google_auth_uri == "https://accounts.google.com/o/oauth2/v2/auth"
    assert settings.google_token_uri == "https://oauth2.googleapis.com/token"
    assert settings.google_revoke_uri == "https://oauth2.googleapis.com/revoke"
    assert settings.google_certs_uri == "https://www.googleapis.com/oauth2/v1/certs"
    assert settings.google_issuer == "https://accounts.google.com"
    assert settings.google_calendar_endpoint == "https://www.googleapis.com/calendar/v3/"
    assert settings.sendgrid_host == "https://api.sendgrid.com"
    assert settings.firestore_emulator_host is None
    assert settings.secret_manager_endpoint is None
    assert settings.mail_from_name == "Bookings"


def test_only_the_project_is_required_of_every_function() -> None:
    assert "GOOGLE_CLOUD_PROJECT" in config_error({})
    settings = load_settings({"GOOGLE_CLOUD_PROJECT": "p"})
    assert settings.project_id == "p" and settings.sendgrid_api_key is None


@pytest.mark.parametrize("var", NEEDED_BY_SOME)
def test_a_missing_variable_is_named_when_the_code_needs_it(var: str) -> None:
    settings = load_settings({k: v for k, v in ALL.items() if k != var})
    attr = next(a for a, v in NEEDED.items() if v == var)
    with pytest.raises(ConfigError) as caught:
        settings.need(attr)
    assert str(caught.value) == f"missing environment variable: {var}"
    assert load_settings(ALL).need(attr) == getattr(load_settings(ALL), attr)


@pytest.mark.parametrize("var", NEEDED_BY_SOME)
def test_a_blank_variable_counts_as_missing(var: str) -> None:
    attr = next(a for a, v in NEEDED.items() if v == var)
    with pytest.raises(ConfigError, match=var):
        load_settings(env(**{var: "  "})).need(attr)


def test_function_urls_need_the_base_url() -> None:
    with pytest.raises(ConfigError, match="FUNCTION_BASE_URL"):
        load_settings({"GOOGLE_CLOUD_PROJECT": "p"}).function_url("book")


@pytest.mark.parametrize("var", ["FUNCTION_BASE_URL", "SENDGRID_HOST", "GOOGLE_AUTH_URI",
                                 "GOOGLE_TOKEN_URI", "GOOGLE_REVOKE_URI", "GOOGLE_CERTS_URI",
                                 "GOOGLE_CALENDAR_ENDPOINT", "SECRET_MANAGER_ENDPOINT"])
@pytest.mark.parametrize("value", ["not a url", "ftp://example.com/x", "https://",
                                   "localhost:8080", "//example.com/path"])
def test_a_bad_url_is_named(var: str, value: str) -> None:
    message = config_error(env(**{var: value}))
    assert var in message
    assert repr(value) in message


def test_the_calendar_endpoint_gets_a_trailing_slash() -> None:
    settings = load_settings(env(GOOGLE_CALENDAR_ENDPOINT="http://localhost:9100/calendar/v3"))
    assert settings.google_calendar_endpoint == "http://localhost:9100/calendar/v3/"
    again = load_settings(env(GOOGLE_CALENDAR_ENDPOINT="http://localhost:9100/calendar/v3/"))
    assert again.google_calendar_endpoint == "http://localhost:9100/calendar/v3/"


def test_the_base_url_loses_its_trailing_slash() -> None:
    settings = load_settings(env(FUNCTION_BASE_URL="http://localhost:8080/"))
    assert settings.base_url == "http://localhost:8080"
    assert settings.function_url("book") == "http://localhost:8080/book"


def test_optional_variables_override_the_defaults() -> None:
    settings = load_settings(env(
        FIRESTORE_EMULATOR_HOST="localhost:8081",
        SECRET_MANAGER_ENDPOINT="http://localhost:9200",
        SENDGRID_HOST="http://localhost:9300",
        GOOGLE_AUTH_URI="http://localhost:9400/auth",
        GOOGLE_TOKEN_URI="http://localhost:9400/token",
        GOOGLE_REVOKE_URI="http://localhost:9400/revoke",
        GOOGLE_CERTS_URI="http://localhost:9400/certs",
        GOOGLE_ISSUER="http://localhost:9400",
        MAIL_FROM_NAME="Ada's bookings",
    ))
    assert settings.firestore_emulator_host == "localhost:8081"
    assert settings.secret_manager_endpoint == "http://localhost:9200"
    assert settings.sendgrid_host == "http://localhost:9300"
    assert settings.google_auth_uri == "http://localhost:9400/auth"
    assert settings.google_token_uri == "http://localhost:9400/token"
    assert settings.google_revoke_uri == "http://localhost:9400/revoke"
    assert settings.google_certs_uri == "http://localhost:9400/certs"
    assert settings.google_issuer == "http://localhost:9400"
    assert settings.mail_from_name == "Ada's bookings"


def test_blank_optional_variables_keep_the_defaults() -> None:
    settings = load_settings(env(GOOGLE_TOKEN_URI="", SENDGRID_HOST="   ",
                                 FIRESTORE_EMULATOR_HOST=""))
    assert settings.google_token_uri == "https://oauth2.googleapis.com/token"
    assert settings.sendgrid_host == "https://api.sendgrid.com"
    assert settings.firestore_emulator_host is None


def test_values_are_trimmed() -> None:
    settings = load_settings(env(GOOGLE_CLOUD_PROJECT="  demo-project\n"))
    assert settings.project_id == "demo-project"


def test_mail_from_must_be_an_address() -> None:
    message = config_error(env(MAIL_FROM="bookings"))
    assert "MAIL_FROM" in message
    assert "'bookings'" in message


def test_config_error_is_a_server_error() -> None:
    assert issubclass(ConfigError, BookingError)
    assert ConfigError.status == 500


def test_unrelated_variables_are_ignored() -> None:
    assert load_settings(env(PATH="/usr/bin", HOME="/root")) == load_settings(REQUIRED)


def test_the_request_deadline_is_seconds_within_bounds() -> None:
    assert load_settings(env()).request_deadline_seconds == 10.0
    assert load_settings(env(REQUEST_DEADLINE_SECONDS="2.5")).request_deadline_seconds == 2.5
    for bad in ("0.5", "31", "soon"):
        with pytest.raises(ConfigError, match="REQUEST_DEADLINE_SECONDS"):
            load_settings(env(REQUEST_DEADLINE_SECONDS=bad))
