"""What Google does not promise, as switches a test turns on (all off by default).

Sources: the Event resource, https://developers.google.com/calendar/api/v3/reference/events
(id: "we cannot guarantee that ID collisions will be detected at event creation time");
OAuth 2.0 for web server apps, "Revoking a token",
https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke ("it might take
some time before the revocation has full effect"); events.list and freebusy.query
(https://developers.google.com/calendar/api/v3/reference/events/list,
https://developers.google.com/calendar/api/v3/reference/freebusy/query), which promise no
read-after-write visibility.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from tests.standins.google.calendar_testing import calendar_service, mint_token
from tests.standins.google.control import GoogleControl
from tests.standins.server import StandinServer

ADA = "ada@example.com"
WINDOW = {"timeMin": "2030-01-01T00:00:00Z", "timeMax": "2030-01-02T00:00:00Z"}


@pytest.fixture
def ada(google_server: StandinServer, standin: Any, control: GoogleControl) -> Any:
    control.create_account(ADA)
    return calendar_service(google_server.url, mint_token(standin.state, ADA))


def event(hour: int, **extra: Any) -> dict[str, Any]:
    return {"summary": "x", "start": {"dateTime": f"2030-01-01T{hour:02d}:00:00Z"},
            "end": {"dateTime": f"2030-01-01T{hour + 1:02d}:00:00Z"}, **extra}


def busy(service: Any) -> list[str]:
    got = service.freebusy().query(body={**WINDOW, "items": [{"id": "primary"}]}).execute()
    return [b["start"] for b in got["calendars"]["primary"]["busy"]]


def listed(service: Any) -> list[str]:
    items = service.events().list(calendarId="primary", **WINDOW).execute()["items"]
    return [e["start"]["dateTime"] for e in items]


def test_a_write_can_take_a_while_to_show_in_list_and_freebusy_yet_sync_misses_nothing(
    ada: Any, control: GoogleControl
) -> None:
    """events.list / freebusy.query references promise no read-after-write visibility; the sync
    guide promises every change comes in an incremental sync, so a hidden write must come later."""
    control.calendar_settings(visibility_lag=30)
    token = ada.events().list(calendarId="primary").execute()["nextSyncToken"]
    created = ada.events().insert(calendarId="primary", body=event(10)).execute()

    assert ada.events().get(calendarId="primary", eventId=created["id"]).execute()["id"]
    assert listed(ada) == [] and busy(ada) == []
    early = ada.events().list(calendarId="primary", syncToken=token).execute()
    assert early["items"] == []

    control.advance_clock(31)
    ada.events().patch(calendarId="primary", eventId=created["id"], body=event(14)).execute()
    assert listed(ada) == ["2030-01-01T10:00:00Z"]  # the move is not visible yet
    assert busy(ada) == ["2030-01-01T10:00:00Z"]
    control.advance_clock(31)

    assert listed(ada) == ["2030-01-01T14:00:00Z"] and busy(ada) == ["2030-01-01T14:00:00Z"]
    later = ada.events().list(calendarId="primary", syncToken=early["nextSyncToken"]).execute()
    assert [e["id"] for e in later["items"]] == [created["id"]]


def test_a_revocation_can_take_a_while_to_stop_access_tokens(
    ada: Any, control: GoogleControl
) -> None:
    """OAuth web-server guide, "Revoking a token": it might take some time before the revocation
    has full effect."""
    control.calendar_settings(revocation_delay=60)
    control.revoke_account(ADA)
    ada.calendarList().list().execute()  # still works: the revocation is not in effect yet

    control.advance_clock(61)

    assert refused_401(ada, control)


def test_revocation_is_immediate_by_default(ada: Any, control: GoogleControl) -> None:
    """OAuth web-server guide, "Revoking a token": by default the stand-in applies it at once."""
    control.revoke_account(ADA)
    assert refused_401(ada, control)


def refused_401(service: Any, control: GoogleControl) -> bool:
    """The call is refused with 401 (google-auth then tries to refresh a token it cannot)."""
    with pytest.raises(RefreshError):
        service.calendarList().list().execute()
    return bool(control.calendar_requests("calendarList.list")[-1]["status"] == 401)


def test_an_id_collision_can_go_undetected_so_a_409_is_no_proof(
    ada: Any, control: GoogleControl
) -> None:
    """With detection off an insert with a used id succeeds and replaces the other event: code
    that only trusts the 409 to keep one event per id is caught here."""
    ada.events().insert(calendarId="primary", body=event(9, id="booking00001")).execute()
    with pytest.raises(HttpError) as caught:
        ada.events().insert(calendarId="primary", body=event(11, id="booking00001")).execute()
    assert caught.value.status_code == 409

    control.calendar_settings(detect_id_collisions=False)
    again = ada.events().insert(calendarId="primary", body=event(11, id="booking00001")).execute()

    assert again["id"] == "booking00001"
    assert listed(ada) == ["2030-01-01T11:00:00Z"]
