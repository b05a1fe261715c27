"""Google Meet made asynchronously, through google-api-python-client.

Source: "Create events" guide, conferences section,
https://developers.google.com/calendar/api/guides/create-events#conferencing ("The conference
creation is asynchronous, but you can always check the status of your request to let your users
know what's happening"; createRequest.status.statusCode pending / success / failure) and the
Event resource's conferenceData.createRequest.status
(https://developers.google.com/calendar/api/v3/reference/events).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.standins.google.calendar_testing import PushReceiver, calendar_service, mint_token
from tests.standins.google.control import GoogleControl
from tests.standins.server import StandinServer

ADA = "ada@example.com"


@pytest.fixture
def ada(google_server: StandinServer, standin: Any, control: GoogleControl) -> Any:
    control.create_account(ADA)
    return calendar_service(google_server.url, mint_token(standin.state, ADA))


def insert_with_meet(service: Any, request_id: str = "req-1") -> dict[str, Any]:
    body = {
        "summary": "Call", "start": {"dateTime": "2030-01-01T10:00:00Z"},
        "end": {"dateTime": "2030-01-01T11:00:00Z"},
        "conferenceData": {"createRequest": {
            "requestId": request_id, "conferenceSolutionKey": {"type": "hangoutsMeet"}}},
    }
    return dict(service.events().insert(calendarId="primary", body=body,
                                        conferenceDataVersion=1).execute())


def status_of(event: dict[str, Any]) -> str:
    return str(event["conferenceData"]["createRequest"]["status"]["statusCode"])


def test_pending_meet_becomes_success_on_a_later_read_with_a_push(
    ada: Any, control: GoogleControl
) -> None:
    """Pending on insert (no link yet); a later read shows success with hangoutLink and a new
    etag, and watchers are told the event changed."""
    control.calendar_settings(conference_status="pending", conference_delay=60)
    with PushReceiver() as hooks:
        ada.events().watch(calendarId="primary", body={
            "id": "c", "type": "web_hook", "address": hooks.url}).execute()
        event = insert_with_meet(ada)
        control.flush_push()
        assert status_of(event) == "pending" and "hangoutLink" not in event
        still = ada.events().get(calendarId="primary", eventId=event["id"]).execute()
        assert status_of(still) == "pending"

        control.advance_clock(61)
        done = ada.events().get(calendarId="primary", eventId=event["id"]).execute()
        control.flush_push()

        assert status_of(done) == "success"
        assert done["hangoutLink"].startswith("https://meet.google.com/")
        assert done["etag"] != event["etag"]
        states = [p.headers["x-goog-resource-state"] for p in hooks.pushes()]
        assert states == ["sync", "exists", "exists"]  # the insert, then the conference


def test_control_api_can_fail_a_pending_meet(ada: Any, control: GoogleControl) -> None:
    """statusCode failure: the event keeps no conference room and no hangoutLink."""
    control.calendar_settings(conference_status="pending", conference_delay=3600)
    event = insert_with_meet(ada)

    assert control.resolve_conferences(outcome="failure") == [event["id"]]

    failed = ada.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert status_of(failed) == "failure"
    assert "hangoutLink" not in failed and "entryPoints" not in failed["conferenceData"]
    token = ada.events().list(calendarId="primary").execute()["nextSyncToken"]
    assert ada.events().list(calendarId="primary", syncToken=token).execute()["items"] == []


def test_pending_meet_with_default_delay_is_done_by_the_next_call(
    ada: Any, control: GoogleControl
) -> None:
    """Create events guide, conferencing: pending on insert, then the next read shows the result."""
    control.calendar_settings(conference_status="pending")
    event = insert_with_meet(ada)
    assert status_of(event) == "pending"
    assert status_of(ada.events().get(calendarId="primary", eventId=event["id"]).execute()) == (
        "success")


def test_refused_conference_setting_changes_nothing(control: GoogleControl) -> None:
    """The control API's contract: 400 means nothing was applied (it once stored the value)."""
    with pytest.raises(AssertionError, match="400"):
        control.calendar_settings(conference_status="pending", conference_outcome="pending")
    assert control.calendar_settings()["conference_status"] == "success"
