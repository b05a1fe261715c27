"""The stand-in checks Calendar traffic against calendar.v3.json and reports what breaks it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from googleapiclient.errors import HttpError

from tests.standins.google.calendar_testing import calendar_service, mint_token
from tests.standins.google.control import GoogleControl
from tests.standins.google.discovery_schema import DiscoverySchemas
from tests.standins.server import StandinServer

ADA = "ada@example.com"
WHEN = {"start": {"dateTime": "2030-01-07T10:00:00Z"}, "end": {"dateTime": "2030-01-07T11:00:00Z"}}


@pytest.fixture(autouse=True)
def standin(google_server: StandinServer) -> Iterator[Any]:
    google_server.app.reset()
    yield google_server.app
    google_server.app.reset()


@pytest.fixture
def token(google_server: StandinServer, standin: Any) -> str:
    GoogleControl(google_server.url).create_account(ADA)
    return mint_token(standin.state, ADA)


def test_a_misspelt_event_field_is_a_violation() -> None:
    schemas = DiscoverySchemas.load()

    found = schemas.check_request(
        "calendar.events.insert", {**WHEN, "extendedProperty": {"private": {"k": "v"}}}
    )

    assert len(found) == 1
    assert "calendar.events.insert" in found[0] and "'extendedProperty'" in found[0]
    assert schemas.check_request(
        "calendar.events.insert", {**WHEN, "extendedProperties": {"private": {"k": "v"}}}
    ) == []


def test_required_fields_types_formats_and_nulls_follow_the_method() -> None:
    schemas = DiscoverySchemas.load()

    missing_end = schemas.check_request("calendar.events.update", {"start": WHEN["start"]})
    wrong_type = schemas.check_request("calendar.events.insert", {**WHEN, "attendees": {}})
    bad_time = schemas.check_request(
        "calendar.freebusy.query", {"timeMin": "tomorrow", "timeMax": "2030-01-08T00:00:00Z"}
    )
    deleting = {"extendedProperties": {"private": {"gone": None}}}

    assert missing_end and "'end' is a required property" in missing_end[0]
    assert wrong_type and "$.attendees" in wrong_type[0]
    assert bad_time and "$.timeMin" in bad_time[0]
    assert schemas.check_request("calendar.events.patch", deleting) == []
    assert schemas.check_request("calendar.events.update", {**WHEN, **deleting})
    assert schemas.check_response("calendar.events.get", {"id": 5})
    assert schemas.check_query("calendar.events.list", {"singleEvent", "alt"}) == [
        "query calendar.events.list: unknown parameter 'singleEvent'"
    ]


def test_the_stand_in_reports_product_traffic_that_breaks_the_schema(
    google_server: StandinServer, standin: Any, token: str
) -> None:
    service = calendar_service(google_server.url, token)

    created = service.events().insert(calendarId="primary", body={
        **WHEN, "extendedProperty": {"private": {"booking": "b1"}}}).execute()
    requests.get(f"{google_server.url}/calendar/v3/calendars/primary/events",
                 params={"singleEvent": "true"}, headers={"Authorization": f"Bearer {token}"},
                 timeout=10)

    violations = standin.schema_violations()
    assert any("'extendedProperty'" in v for v in violations)
    assert any("unknown parameter 'singleEvent'" in v for v in violations)
    assert "extendedProperties" not in created  # Google drops what it does not know


def test_a_method_the_stand_in_does_not_serve_is_reported(
    google_server: StandinServer, standin: Any, token: str
) -> None:
    service = calendar_service(google_server.url, token)

    with pytest.raises(HttpError) as caught:
        service.events().move(calendarId="primary", eventId="abcdef",
                              destination="other@example.com").execute()

    assert caught.value.status_code == 404
    assert any("does not serve POST /calendar/v3/calendars/primary/events/abcdef/move" in v
               for v in standin.schema_violations())


def test_clean_traffic_leaves_no_violations(
    google_server: StandinServer, standin: Any, token: str
) -> None:
    service = calendar_service(google_server.url, token)
    event = service.events().insert(calendarId="primary", conferenceDataVersion=1, body={
        **WHEN,
        "attendees": [{"email": "guest@example.com"}],
        "reminders": {"useDefault": False, "overrides": [{"method": "email", "minutes": 30}]},
        "conferenceData": {"createRequest": {"requestId": "r1", "conferenceSolutionKey": {
            "type": "hangoutsMeet"}}},
    }).execute()
    service.events().patch(calendarId="primary", eventId=event["id"], body={
        "extendedProperties": {"private": {"k": None}}}).execute()
    listed = service.events().list(calendarId="primary").execute()
    service.events().list(calendarId="primary", syncToken=listed["nextSyncToken"]).execute()
    service.freebusy().query(body={"timeMin": "2030-01-07T00:00:00Z",
                                   "timeMax": "2030-01-08T00:00:00Z",
                                   "items": [{"id": "primary"}, {"id": "x@example.com"}]}
                             ).execute()
    service.calendarList().list().execute()
    service.calendars().get(calendarId="primary").execute()

    assert standin.schema_violations() == []
    assert event["attendees"] == [{"email": "guest@example.com", "responseStatus": "needsAction"}]
