"""Recurring events in the Calendar stand-in, through google-api-python-client.

Sources: the recurring-events guide, https://developers.google.com/calendar/api/guides/recurringevents
("Modify or delete instances", instance ids `<seriesId>_<start>`), the events.instances reference,
https://developers.google.com/calendar/api/v3/reference/events/instances, the Event resource
(recurringEventId, originalStartTime) and the sync guide,
https://developers.google.com/calendar/api/guides/sync (a cancelled occurrence carries id,
recurringEventId and originalStartTime).
"""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.standins.google.calendar_testing import calendar_service, error_reason, mint_token
from tests.standins.google.control import GoogleControl
from tests.standins.server import StandinServer

ADA = "ada@example.com"
ZONE = "Europe/Ljubljana"  # summer time starts on 2030-03-31
UTC_STARTS = ["20300318T080000Z", "20300325T080000Z", "20300401T070000Z", "20300408T070000Z"]


@pytest.fixture
def ada(google_server: StandinServer, standin: Any, control: GoogleControl) -> Any:
    control.create_account(ADA, time_zone=ZONE)
    return calendar_service(google_server.url, mint_token(standin.state, ADA))


def weekly(service: Any, *extra_rules: str, count: int = 4) -> dict[str, Any]:
    body = {
        "summary": "Coaching",
        "start": {"dateTime": "2030-03-18T09:00:00", "timeZone": ZONE},
        "end": {"dateTime": "2030-03-18T10:00:00", "timeZone": ZONE},
        "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count}", *extra_rules],
    }
    return dict(service.events().insert(calendarId="primary", body=body).execute())


def single(service: Any, **params: Any) -> list[dict[str, Any]]:
    return list(service.events().list(
        calendarId="primary", singleEvents=True, orderBy="startTime",
        timeMin="2030-03-01T00:00:00Z", timeMax="2030-05-01T00:00:00Z", **params,
    ).execute()["items"])


def test_instances_have_google_ids_and_keep_local_time_across_dst(ada: Any) -> None:
    """events.instances: one item per occurrence, id `<seriesId>_<UTC start>`, expanded in the
    series' zone (09:00 local stays 09:00 when summer time starts)."""
    series = weekly(ada)

    items = ada.events().instances(calendarId="primary", eventId=series["id"]).execute()["items"]

    assert [i["id"] for i in items] == [f"{series['id']}_{s}" for s in UTC_STARTS]
    assert [i["start"]["dateTime"] for i in items] == [
        "2030-03-18T09:00:00+01:00", "2030-03-25T09:00:00+01:00",
        "2030-04-01T09:00:00+02:00", "2030-04-08T09:00:00+02:00"]
    assert all(i["recurringEventId"] == series["id"] for i in items)
    assert all(i["originalStartTime"] == i["start"] for i in items)
    assert "recurrence" not in items[0]
    page = ada.events().instances(calendarId="primary", eventId=series["id"], maxResults=3,
                                  timeMin="2030-03-20T00:00:00Z").execute()
    assert [i["id"][-16:] for i in page["items"]] == UTC_STARTS[1:]
    assert "nextPageToken" not in page


def test_one_occurrence_can_be_read_patched_moved_and_cancelled(ada: Any) -> None:
    """Recurring-events guide, "Modify or delete instances": an instance is changed through
    its own id; events.list shows the series plus its changed occurrences (recurringEventId,
    originalStartTime); singleEvents=true puts each in its new place; a cancelled one shows
    only with showDeleted, as `status: cancelled`."""
    series = weekly(ada)
    first, second, third, fourth = (f"{series['id']}_{s}" for s in UTC_STARTS)

    got = ada.events().get(calendarId="primary", eventId=first).execute()
    assert (got["summary"], got["recurringEventId"]) == ("Coaching", series["id"])
    ada.events().patch(calendarId="primary", eventId=second, body={"summary": "Moved room"}
                       ).execute()
    moved = ada.events().patch(calendarId="primary", eventId=third, body={
        "start": {"dateTime": "2030-04-01T11:00:00", "timeZone": ZONE},
        "end": {"dateTime": "2030-04-01T12:00:00", "timeZone": ZONE}}).execute()
    ada.events().delete(calendarId="primary", eventId=fourth).execute()

    assert moved["id"] == third and moved["originalStartTime"]["dateTime"] == (
        "2030-04-01T09:00:00+02:00")
    expanded = single(ada)
    assert [(e["id"], e["summary"], e["start"]["dateTime"]) for e in expanded] == [
        (first, "Coaching", "2030-03-18T09:00:00+01:00"),
        (second, "Moved room", "2030-03-25T09:00:00+01:00"),
        (third, "Coaching", "2030-04-01T11:00:00+02:00"),
    ]
    plain = ada.events().list(calendarId="primary").execute()["items"]
    assert sorted(e["id"] for e in plain) == sorted([series["id"], second, third])
    with_deleted = ada.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    [gone] = [e for e in with_deleted if e["id"] == fourth]
    assert (gone["status"], gone["recurringEventId"]) == ("cancelled", series["id"])
    assert gone["originalStartTime"]["dateTime"] == "2030-04-08T09:00:00+02:00"
    assert ada.events().get(calendarId="primary", eventId=fourth).execute()["status"] == (
        "cancelled")
    instances = ada.events().instances(calendarId="primary", eventId=series["id"]).execute()
    assert [i["id"] for i in instances["items"]] == [first, second, third]
    with pytest.raises(HttpError) as caught:
        ada.events().delete(calendarId="primary", eventId=fourth).execute()
    assert (caught.value.status_code, error_reason(caught.value)) == (410, "deleted")
    with pytest.raises(HttpError) as caught:
        ada.events().get(calendarId="primary", eventId=f"{series['id']}_20300319T080000Z"
                         ).execute()
    assert caught.value.status_code == 404


def test_incremental_sync_returns_changed_and_cancelled_occurrences(ada: Any) -> None:
    """Sync guide: after a full sync, a changed occurrence comes back as an event with
    recurringEventId and originalStartTime; a cancelled one as id, recurringEventId,
    originalStartTime and `status: cancelled`."""
    series = weekly(ada)
    token = ada.events().list(calendarId="primary").execute()["nextSyncToken"]
    second, fourth = (f"{series['id']}_{UTC_STARTS[i]}" for i in (1, 3))
    ada.events().patch(calendarId="primary", eventId=second, body={"summary": "Late"}).execute()
    ada.events().delete(calendarId="primary", eventId=fourth).execute()

    changes = ada.events().list(calendarId="primary", syncToken=token).execute()["items"]

    by_id = {c["id"]: c for c in changes}
    assert set(by_id) == {second, fourth}
    assert by_id[second]["summary"] == "Late"
    assert by_id[second]["recurringEventId"] == series["id"]
    assert set(by_id[fourth]) == {"kind", "etag", "id", "status", "recurringEventId",
                                  "originalStartTime"}
    assert by_id[fourth]["status"] == "cancelled"


def test_exdate_and_moved_occurrences_expand_the_same_in_lists_and_freebusy(ada: Any) -> None:
    """RFC 5545 EXDATE in `recurrence` (Event.recurrence) removes an occurrence; a moved one
    blocks its new time only; freebusy.query counts occurrences as singleEvents shows them."""
    series = weekly(ada, f"EXDATE;TZID={ZONE}:20300325T090000", count=4)
    third = f"{series['id']}_{UTC_STARTS[2]}"
    ada.events().patch(calendarId="primary", eventId=third, body={
        "start": {"dateTime": "2030-04-02T15:00:00", "timeZone": ZONE},
        "end": {"dateTime": "2030-04-02T16:30:00", "timeZone": ZONE}}).execute()

    listed = [(e["start"]["dateTime"], e["end"]["dateTime"]) for e in single(ada, timeZone="UTC")]
    busy = ada.freebusy().query(body={
        "timeMin": "2030-03-01T00:00:00Z", "timeMax": "2030-05-01T00:00:00Z", "timeZone": "UTC",
        "items": [{"id": "primary"}]}).execute()["calendars"]["primary"]["busy"]

    assert listed == [
        ("2030-03-18T08:00:00Z", "2030-03-18T09:00:00Z"),
        ("2030-04-02T13:00:00Z", "2030-04-02T14:30:00Z"),
        ("2030-04-08T07:00:00Z", "2030-04-08T08:00:00Z"),
    ]
    assert [(b["start"], b["end"]) for b in busy] == listed


def test_deleting_the_series_cancels_its_changed_occurrences(ada: Any) -> None:
    """Recurring-events guide: deleting the recurring event removes every instance."""
    series = weekly(ada)
    second = f"{series['id']}_{UTC_STARTS[1]}"
    ada.events().patch(calendarId="primary", eventId=second, body={"summary": "x"}).execute()

    ada.events().delete(calendarId="primary", eventId=series["id"]).execute()

    assert single(ada) == []
    assert ada.events().get(calendarId="primary", eventId=second).execute()["status"] == (
        "cancelled")
