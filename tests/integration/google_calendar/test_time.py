"""Time passing on the Calendar stand-in's one clock (POST /_control/clock moves it).

Sources: the sync guide, https://developers.google.com/calendar/api/guides/sync ("Sometimes
sync tokens are invalidated by the server, for various reasons including token expiration ...
the server will respond with 410 Gone ... clear the client's store and perform a full sync");
the errors guide, https://developers.google.com/calendar/api/guides/errors (410 Gone:
fullSyncRequired, updatedMinTooLongAgo, deleted); events.list, updatedMin
(https://developers.google.com/calendar/api/v3/reference/events/list). Google states no ages:
the stand-in's (7 days for tokens, 30 for deleted events) are settings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.standins.google.calendar_testing import calendar_service, error_reason, mint_token
from tests.standins.google.control import GoogleControl
from tests.standins.server import StandinServer

ADA = "ada@example.com"
DAY = 86400.0
EVENT = {"summary": "x", "start": {"dateTime": "2030-01-01T10:00:00Z"},
         "end": {"dateTime": "2030-01-01T11:00:00Z"}}


@pytest.fixture
def ada(google_server: StandinServer, standin: Any, control: GoogleControl) -> Any:
    control.create_account(ADA)
    # A long-lived token: the clock moves by weeks in these tests.
    return calendar_service(google_server.url, mint_token(standin.state, ADA, lifetime=400 * DAY))


def gone(call: Any) -> str:
    with pytest.raises(HttpError) as caught:
        call.execute()
    assert caught.value.status_code == 410
    return error_reason(caught.value)


def test_sync_tokens_expire_after_their_age(ada: Any, control: GoogleControl) -> None:
    """Sync guide: an expired sync token answers 410 fullSyncRequired; a new full sync works."""
    ada.events().insert(calendarId="primary", body=EVENT).execute()
    old = ada.events().list(calendarId="primary").execute()["nextSyncToken"]
    control.advance_clock(6 * DAY)
    assert ada.events().list(calendarId="primary", syncToken=old).execute()["items"] == []

    control.advance_clock(1 * DAY + 60)
    assert gone(ada.events().list(calendarId="primary", syncToken=old)) == "fullSyncRequired"
    fresh = ada.events().list(calendarId="primary").execute()["nextSyncToken"]
    assert ada.events().list(calendarId="primary", syncToken=fresh).execute()["items"] == []

    control.calendar_settings(sync_token_max_age=60)
    control.advance_clock(61)
    assert gone(ada.events().list(calendarId="primary", syncToken=fresh)) == "fullSyncRequired"


def test_deleted_events_are_purged_after_the_retention(ada: Any, control: GoogleControl) -> None:
    """Errors guide / events.delete: a deleted event stays readable as cancelled for a while,
    then is gone (404); its id stays taken; a sync token from before the deletion can no longer
    report it, so it gets 410 fullSyncRequired even if it is young enough."""
    control.calendar_settings(sync_token_max_age=90 * DAY)
    event = ada.events().insert(calendarId="primary", body={**EVENT, "id": "purgeme1"}).execute()
    before = ada.events().list(calendarId="primary").execute()["nextSyncToken"]
    ada.events().delete(calendarId="primary", eventId=event["id"]).execute()
    control.advance_clock(29 * DAY)
    assert ada.events().get(calendarId="primary", eventId="purgeme1").execute()["status"] == (
        "cancelled")

    control.advance_clock(1 * DAY + 60)

    with pytest.raises(HttpError) as caught:
        ada.events().get(calendarId="primary", eventId="purgeme1").execute()
    assert caught.value.status_code == 404
    listed = ada.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    assert listed == []
    assert gone(ada.events().list(calendarId="primary", syncToken=before)) == "fullSyncRequired"
    with pytest.raises(HttpError) as caught:
        ada.events().insert(calendarId="primary", body={**EVENT, "id": "purgeme1"}).execute()
    assert caught.value.status_code == 409


def test_updated_min_too_far_back_is_410(ada: Any, control: GoogleControl, standin: Any) -> None:
    """Errors guide: 410 updatedMinTooLongAgo when updatedMin lies before what Google still
    keeps of deletions (the stand-in: the deleted-event retention)."""
    now = datetime.fromtimestamp(standin.state.now(), UTC)
    recent = (now - timedelta(days=29)).isoformat()
    ancient = (now - timedelta(days=31)).isoformat()

    ada.events().insert(calendarId="primary", body=EVENT).execute()

    assert len(ada.events().list(calendarId="primary", updatedMin=recent).execute()["items"]) == 1
    assert gone(ada.events().list(calendarId="primary", updatedMin=ancient)) == (
        "updatedMinTooLongAgo")
