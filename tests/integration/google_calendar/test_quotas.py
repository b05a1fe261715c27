"""Quotas of the Calendar stand-in, on by default, through google-api-python-client.

Sources: usage limits, https://developers.google.com/calendar/api/guides/quota (600 requests a
minute per user per project, 10,000 per project, a sliding minute; operational limits on
writing to one calendar in quick succession) and the errors page,
https://developers.google.com/calendar/api/guides/errors (403 userRateLimitExceeded,
403 rateLimitExceeded, 429 rateLimitExceeded, 403 quotaExceeded "Calendar usage limits
exceeded.", all in domain usageLimits).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.standins.google.calendar_testing import calendar_service, mint_token
from tests.standins.google.control import GoogleControl
from tests.standins.server import StandinServer

ADA = "ada@example.com"


@pytest.fixture
def frozen(standin: Any) -> Iterator[list[float]]:
    """The stand-in's clock stands still (tests move it with moment[0] += s) so a burst's
    timing does not depend on the machine's speed."""
    moment = [standin.state.clock()]
    real = standin.state.clock
    standin.state.clock = lambda: moment[0]
    try:
        yield moment
    finally:
        standin.state.clock = real


@pytest.fixture
def ada(google_server: StandinServer, standin: Any, control: GoogleControl) -> Any:
    control.create_account(ADA)
    return calendar_service(google_server.url, mint_token(standin.state, ADA))


def event(n: int) -> dict[str, Any]:
    return {"summary": f"e{n}", "start": {"dateTime": f"2030-01-01T{n % 24:02d}:00:00Z"},
            "end": {"dateTime": f"2030-01-01T{n % 24:02d}:30:00Z"}}


def refusal(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value.status_code, json.loads(caught.value.content)


def google_body(status: int, reason: str, message: str) -> dict[str, Any]:
    return {"error": {"errors": [{"domain": "usageLimits", "reason": reason, "message": message}],
                      "code": status, "message": message}}


def test_quotas_are_on_by_default_at_googles_figures(control: GoogleControl) -> None:
    """Usage limits page: 600 requests a minute per user per project, 10,000 per project."""
    settings = control.calendar_settings()
    assert (settings["quota_user_per_minute"], settings["quota_project_per_minute"]) == (
        600, 10000)
    assert settings["quota_calendar_writes_per_second"] > 0
    assert settings["quota_user_inserts_per_day"] > 0


def test_quick_writes_to_one_calendar_meet_403_rate_limit_by_default(
    ada: Any, frozen: list[float]
) -> None:
    """Operational limits: writes to one calendar in quick succession are refused with 403
    rateLimitExceeded (retry with backoff), without any setting."""
    for n in range(10):
        ada.events().insert(calendarId="primary", body=event(n)).execute()

    status, body = refusal(ada.events().insert(calendarId="primary", body=event(10)))
    assert (status, body) == (403, google_body(403, "rateLimitExceeded", "Rate Limit Exceeded"))
    ada.events().list(calendarId="primary").execute()  # reads are not writes

    frozen[0] += 1.0
    ada.events().insert(calendarId="primary", body=event(10)).execute()


def test_per_user_minute_quota_is_403_user_rate_limit_over_a_sliding_minute(
    ada: Any, control: GoogleControl, frozen: list[float]
) -> None:
    """Usage limits page ("calculated per minute using a sliding window") and errors page (403
    userRateLimitExceeded)."""
    control.calendar_settings(quota_user_per_minute=5)
    for _ in range(5):
        ada.calendarList().list().execute()
        frozen[0] += 10

    status, body = refusal(ada.calendarList().list())
    assert (status, body) == (403, google_body(403, "userRateLimitExceeded",
                                               "User Rate Limit Exceeded"))
    frozen[0] += 11  # the first call has left the sliding minute
    ada.calendarList().list().execute()


def test_per_project_minute_quota_is_429_rate_limit(
    ada: Any, control: GoogleControl, frozen: list[float]
) -> None:
    """Errors page: 429 "Too many requests", reason rateLimitExceeded."""
    control.calendar_settings(quota_project_per_minute=3)
    for _ in range(3):
        ada.calendarList().list().execute()

    status, body = refusal(ada.calendarList().list())
    assert (status, body) == (429, google_body(429, "rateLimitExceeded", "Rate Limit Exceeded"))


def test_calendar_usage_limit_is_403_quota_exceeded_and_not_retried_by_the_client(
    ada: Any, control: GoogleControl, standin: Any
) -> None:
    """403 quotaExceeded: "do not retry" (errors page); google-api-python-client's
    execute(num_retries=...) retries rate limits but not this reason."""
    control.calendar_settings(quota_user_inserts_per_day=2)
    ada.events().insert(calendarId="primary", body=event(1)).execute()
    ada.events().insert(calendarId="primary", body=event(2)).execute()

    with pytest.raises(HttpError) as caught:
        ada.events().insert(calendarId="primary", body=event(3)).execute(num_retries=3)

    assert (caught.value.status_code, json.loads(caught.value.content)) == (
        403, google_body(403, "quotaExceeded", "Calendar usage limits exceeded."))
    assert len(control.calendar_requests("events.insert")) == 3  # one try, no retries
    assert len(ada.events().list(calendarId="primary").execute()["items"]) == 2
