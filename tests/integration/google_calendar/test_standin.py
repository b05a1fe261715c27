"""The Calendar stand-in driven by the real google-api-python-client, as the product drives it.

Accounts come from the OAuth half's control API; access tokens are minted straight into the
shared state (the OAuth dance has its own tests) and checked by the real oauth.authenticate.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from googleapiclient.errors import HttpError

from tests.standins.google.calendar_testing import (
    EVENTS_SCOPE,
    READONLY_SCOPE,
    calendar_service,
    error_reason,
    mint_token,
)
from tests.standins.google.control import GoogleControl
from tests.standins.server import StandinServer

ADA = "ada@example.com"
BOB = "bob@example.com"
TEAM = "team-room@group.calendar.google.com"


@pytest.fixture
def ada(google_server: StandinServer, standin: Any, control: GoogleControl) -> Any:
    control.create_account(ADA, time_zone="Europe/Berlin")
    return calendar_service(google_server.url, mint_token(standin.state, ADA))


def timed(start: str, end: str, **fields: Any) -> dict[str, Any]:
    return {"start": {"dateTime": start}, "end": {"dateTime": end}, **fields}


def reason_of(call: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value.status_code, error_reason(caught.value)


# ---------------------------------------------------------------- calendarList


def test_calendar_list_shows_own_and_shared_calendars_with_roles_and_pages(
    ada: Any, control: GoogleControl
) -> None:
    control.create_account(BOB)
    control.create_calendar(TEAM, summary="Team room", owner=BOB, shares={ADA: "reader"},
                            time_zone="America/New_York")
    control.create_calendar("holidays@group.v.calendar.google.com", summary="Holidays",
                            shares={ADA: "freeBusyReader"})

    listed = ada.calendarList().list().execute()

    entries = {e["id"]: e for e in listed["items"]}
    assert set(entries) == {ADA, TEAM, "holidays@group.v.calendar.google.com"}
    assert entries[ADA]["primary"] is True and entries[ADA]["accessRole"] == "owner"
    assert entries[ADA]["summary"] == ADA and entries[ADA]["timeZone"] == "Europe/Berlin"
    assert "primary" not in entries[TEAM]
    assert entries[TEAM]["accessRole"] == "reader"
    assert entries[TEAM]["timeZone"] == "America/New_York"
    assert all(e["kind"] == "calendar#calendarListEntry" and e["etag"] for e in entries.values())

    first = ada.calendarList().list(maxResults=2).execute()
    second = ada.calendarList().list(maxResults=2, pageToken=first["nextPageToken"]).execute()
    assert [e["id"] for e in first["items"] + second["items"]] == [e["id"] for e in listed["items"]]
    assert "nextPageToken" not in second

    writable = ada.calendarList().list(minAccessRole="writer").execute()
    assert [e["id"] for e in writable["items"]] == [ADA]


# ---------------------------------------------------------------- insert / get / ids


def test_insert_with_client_id_is_idempotent_by_conflict_even_after_delete(ada: Any) -> None:
    body = timed("2030-01-07T10:00:00+01:00", "2030-01-07T11:00:00+01:00", id="booking0001",
                 summary="Intro call")

    created = ada.events().insert(calendarId="primary", body=body, sendUpdates="none").execute()

    assert created["id"] == "booking0001"
    assert created["status"] == "confirmed"
    assert created["iCalUID"] == "booking0001@google.com"
    assert created["organizer"] == {"email": ADA, "self": True}
    assert created["creator"] == {"email": ADA, "self": True}
    assert created["created"].endswith("Z") and len(created["created"]) == 24
    assert created["etag"].startswith('"') and created["htmlLink"].startswith("https://")
    assert created["reminders"] == {"useDefault": True}
    assert reason_of(ada.events().insert(calendarId="primary", body=body)) == (409, "duplicate")

    ada.events().delete(calendarId="primary", eventId="booking0001").execute()

    assert reason_of(ada.events().insert(calendarId="primary", body=body)) == (409, "duplicate")


@pytest.mark.parametrize("bad_id", ["abc", "booking_001", "BOOKING0001", "bookingwxyz"])
def test_insert_rejects_ids_outside_base32hex(ada: Any, bad_id: str) -> None:
    body = timed("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", id=bad_id)
    with pytest.raises(HttpError) as caught:
        ada.events().insert(calendarId="primary", body=body).execute()
    assert caught.value.status_code == 400
    assert error_reason(caught.value) == "invalid"
    assert "Invalid resource id value." in caught.value.content.decode()


def test_times_are_validated_and_written_in_the_calendar_zone(ada: Any) -> None:
    no_zone = timed("2030-01-07T10:00:00", "2030-01-07T11:00:00")
    assert reason_of(ada.events().insert(calendarId="primary", body=no_zone)) == (400, "required")
    backwards = timed("2030-01-07T11:00:00Z", "2030-01-07T10:00:00Z")
    assert reason_of(ada.events().insert(calendarId="primary", body=backwards)) == (
        400, "timeRangeEmpty"
    )
    zoned = {"start": {"dateTime": "2030-01-07T10:00:00", "timeZone": "America/New_York"},
             "end": {"dateTime": "2030-01-07T11:00:00", "timeZone": "America/New_York"}}

    utc = ada.events().insert(calendarId="primary", body=timed(
        "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z")).execute()
    new_york = ada.events().insert(calendarId="primary", body=zoned).execute()

    # Ada's calendar is in Europe/Berlin: Google answers in the calendar's zone.
    assert utc["start"] == {"dateTime": "2030-01-07T10:00:00+01:00"}
    assert new_york["start"] == {"dateTime": "2030-01-07T10:00:00-05:00",
                                 "timeZone": "America/New_York"}


def test_get_reads_deleted_events_and_deleting_twice_is_gone(ada: Any) -> None:
    event = ada.events().insert(calendarId="primary", body=timed(
        "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", summary="Gone soon")).execute()

    ada.events().delete(calendarId="primary", eventId=event["id"]).execute()

    again = ada.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert again["status"] == "cancelled" and again["summary"] == "Gone soon"
    assert again["etag"] != event["etag"]
    with pytest.raises(HttpError) as caught:
        ada.events().delete(calendarId="primary", eventId=event["id"]).execute()
    assert caught.value.status_code == 410 and error_reason(caught.value) == "deleted"
    assert "Resource has been deleted" in caught.value.content.decode()
    assert reason_of(ada.events().get(calendarId="primary", eventId="nosuchevent")) == (
        404, "notFound"
    )


# ---------------------------------------------------------------- modify


def test_patch_merges_update_replaces_and_stale_etag_is_412(ada: Any) -> None:
    event = ada.events().insert(calendarId="primary", body=timed(
        "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", summary="Call",
        description="agenda", extendedProperties={"private": {"booking": "b1", "kind": "x"}},
    )).execute()

    patched = ada.events().patch(calendarId="primary", eventId=event["id"], body={
        "summary": "Call (moved)",
        "extendedProperties": {"private": {"kind": None, "rescheduled": "1"}},
    }).execute()

    assert patched["description"] == "agenda"  # merged, not replaced
    assert patched["extendedProperties"]["private"] == {"booking": "b1", "rescheduled": "1"}
    assert patched["etag"] != event["etag"]
    assert patched["sequence"] == 0  # only time changes bump the sequence
    assert patched["updated"] >= event["updated"]

    stale = ada.events().patch(calendarId="primary", eventId=event["id"], body={"summary": "x"})
    stale.headers["If-Match"] = event["etag"]
    assert reason_of(stale) == (412, "conditionNotMet")
    stale_delete = ada.events().delete(calendarId="primary", eventId=event["id"])
    stale_delete.headers["If-Match"] = event["etag"]
    assert reason_of(stale_delete) == (412, "conditionNotMet")

    fresh = ada.events().update(calendarId="primary", eventId=event["id"], body=timed(
        "2030-01-08T10:00:00Z", "2030-01-08T11:00:00Z", summary="Replaced"))
    fresh.headers["If-Match"] = patched["etag"]
    updated = fresh.execute()

    assert "description" not in updated and "extendedProperties" not in updated
    assert updated["sequence"] == 1
    assert updated["id"] == event["id"] and updated["created"] == event["created"]


def test_reminders_are_validated(ada: Any) -> None:
    def insert(reminders: dict[str, Any]) -> Any:
        return ada.events().insert(calendarId="primary", body=timed(
            "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", reminders=reminders))

    popup = {"method": "popup", "minutes": 10}
    assert reason_of(insert({"useDefault": False, "overrides": [popup] * 6}))[0] == 400
    assert reason_of(insert({"useDefault": False, "overrides": [
        {"method": "sms", "minutes": 10}]}))[0] == 400
    assert reason_of(insert({"useDefault": False, "overrides": [
        {"method": "email", "minutes": 40321}]}))[0] == 400
    assert reason_of(insert({"useDefault": True, "overrides": [popup]})) == (
        400, "cannotUseDefaultRemindersAndSpecifyOverride"
    )

    five = [{"method": "email", "minutes": 40320}, *[popup] * 4]
    created = insert({"useDefault": False, "overrides": five}).execute()

    assert created["reminders"] == {"useDefault": False, "overrides": five}


def test_meet_is_created_only_with_conference_data_version_1_and_survives_patches(
    ada: Any,
) -> None:
    ask = {"createRequest": {"requestId": "req-1",
                             "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    body = timed("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", conferenceData=ask)

    ignored = ada.events().insert(calendarId="primary", body=body).execute()
    with_meet = ada.events().insert(calendarId="primary", body=body,
                                    conferenceDataVersion=1).execute()

    assert "conferenceData" not in ignored and "hangoutLink" not in ignored
    conf = with_meet["conferenceData"]
    assert conf["createRequest"]["status"] == {"statusCode": "success"}
    assert conf["conferenceSolution"]["key"] == {"type": "hangoutsMeet"}
    assert conf["conferenceSolution"]["name"] == "Google Meet"
    code = conf["conferenceId"]
    assert len(code) == 12 and code[3] == "-" and code[8] == "-"
    assert conf["entryPoints"][0] == {"entryPointType": "video",
                                      "uri": f"https://meet.google.com/{code}",
                                      "label": f"meet.google.com/{code}"}
    assert with_meet["hangoutLink"] == f"https://meet.google.com/{code}"

    moved = ada.events().patch(calendarId="primary", eventId=with_meet["id"], body={
        "start": {"dateTime": "2030-01-07T12:00:00Z"},
        "end": {"dateTime": "2030-01-07T13:00:00Z"},
        "conferenceData": None,  # ignored without conferenceDataVersion=1
    }).execute()
    reused = ada.events().patch(calendarId="primary", eventId=with_meet["id"],
                                body={"conferenceData": ask}, conferenceDataVersion=1).execute()
    dropped = ada.events().patch(calendarId="primary", eventId=with_meet["id"],
                                 body={"conferenceData": None},
                                 conferenceDataVersion=1).execute()

    assert moved["conferenceData"] == conf and moved["hangoutLink"] == with_meet["hangoutLink"]
    assert moved["sequence"] == 1
    assert reused["conferenceData"]["conferenceId"] == code  # a reused requestId is ignored
    assert "conferenceData" not in dropped and "hangoutLink" not in dropped


# ---------------------------------------------------------------- list and sync


def _insert_many(service: Any, count: int) -> list[str]:
    ids = []
    for n in range(count):
        day = f"2030-02-{n + 1:02d}"
        created = service.events().insert(calendarId="primary", body=timed(
            f"{day}T09:00:00Z", f"{day}T10:00:00Z", summary=f"event {n}",
            extendedProperties={"private": {"n": str(n)}})).execute()
        ids.append(created["id"])
    return ids


def _pages(service: Any, **params: Any) -> list[dict[str, Any]]:
    pages = [service.events().list(calendarId="primary", **params).execute()]
    while "nextPageToken" in pages[-1]:
        pages.append(service.events().list(calendarId="primary", pageToken=pages[-1][
            "nextPageToken"], **params).execute())
    return pages


def test_full_then_incremental_sync_pages_with_sync_token_only_on_the_last_page(
    ada: Any, control: GoogleControl
) -> None:
    ids = _insert_many(ada, 7)

    full = _pages(ada, maxResults=3)

    assert [len(p["items"]) for p in full] == [3, 3, 1]
    assert all("nextSyncToken" not in p for p in full[:-1])
    assert "nextSyncToken" in full[-1] and "nextPageToken" not in full[-1]
    assert [e["id"] for p in full for e in p["items"]] == ids
    ada.events().patch(calendarId="primary", eventId=ids[0], body={"summary": "renamed"}).execute()
    ada.events().delete(calendarId="primary", eventId=ids[1]).execute()
    control.move_event(ADA, ids[2], "2030-03-01T09:00:00Z", "2030-03-01T10:00:00Z")
    added = ada.events().insert(calendarId="primary", body=timed(
        "2030-03-02T09:00:00Z", "2030-03-02T10:00:00Z", summary="new")).execute()

    changes = _pages(ada, maxResults=2, syncToken=full[-1]["nextSyncToken"])

    assert [len(p["items"]) for p in changes] == [2, 2]
    assert "nextSyncToken" in changes[-1] and "nextSyncToken" not in changes[0]
    items = {e["id"]: e for p in changes for e in p["items"]}
    assert set(items) == {ids[0], ids[1], ids[2], added["id"]}
    assert items[ids[0]]["summary"] == "renamed"
    assert items[ids[1]] == {"kind": "calendar#event", "etag": items[ids[1]]["etag"],
                             "id": ids[1], "status": "cancelled"}
    assert items[ids[2]]["start"]["dateTime"] == "2030-03-01T10:00:00+01:00"

    quiet = ada.events().list(calendarId="primary",
                              syncToken=changes[-1]["nextSyncToken"]).execute()
    assert quiet["items"] == [] and "nextSyncToken" in quiet


@pytest.mark.parametrize(
    "restriction",
    [
        {"timeMin": "2030-01-01T00:00:00Z"},
        {"timeMax": "2030-01-01T00:00:00Z"},
        {"q": "call"},
        {"privateExtendedProperty": "n=1"},
        {"sharedExtendedProperty": "n=1"},
        {"orderBy": "updated"},
        {"iCalUID": "x@google.com"},
        {"updatedMin": "2030-01-01T00:00:00Z"},
        {"showDeleted": False},
    ],
)
def test_sync_token_refuses_request_restrictions(ada: Any, restriction: dict[str, Any]) -> None:
    token = ada.events().list(calendarId="primary").execute()["nextSyncToken"]

    status, reason = reason_of(ada.events().list(calendarId="primary", syncToken=token,
                                                 **restriction))

    assert (status, reason) == (400, "syncTokenWithRequestRestrictions")


def test_expired_sync_token_is_410_and_a_full_resync_recovers(
    ada: Any, control: GoogleControl
) -> None:
    _insert_many(ada, 2)
    token = ada.events().list(calendarId="primary").execute()["nextSyncToken"]

    control.expire_sync_tokens(ADA)

    assert reason_of(ada.events().list(calendarId="primary", syncToken=token)) == (
        410, "fullSyncRequired"
    )
    assert reason_of(ada.events().list(calendarId="primary", syncToken="garbage")) == (
        410, "fullSyncRequired"
    )
    resync = ada.events().list(calendarId="primary").execute()
    assert len(resync["items"]) == 2
    again = ada.events().list(calendarId="primary", syncToken=resync["nextSyncToken"]).execute()
    assert again["items"] == []


def test_list_filters_by_time_property_text_and_orders_by_start(ada: Any) -> None:
    ids = _insert_many(ada, 5)
    all_day = ada.events().insert(calendarId="primary", body={
        "summary": "Holiday", "start": {"date": "2030-02-03"}, "end": {"date": "2030-02-04"},
    }).execute()

    window = ada.events().list(calendarId="primary", timeMin="2030-02-02T10:00:00Z",
                               timeMax="2030-02-04T09:00:00Z", singleEvents=True,
                               orderBy="startTime").execute()
    tagged = ada.events().list(calendarId="primary", privateExtendedProperty="n=3").execute()
    text = ada.events().list(calendarId="primary", q="EVENT 4").execute()

    # timeMin bounds the end and timeMax the start, both exclusive; the all-day event spans
    # 2030-02-03 in Berlin, which starts at 2030-02-02T23:00Z.
    assert [e["id"] for e in window["items"]] == [all_day["id"], ids[2]]
    assert [e["id"] for e in tagged["items"]] == [ids[3]]
    assert [e["id"] for e in text["items"]] == [ids[4]]
    assert reason_of(ada.events().list(calendarId="primary", orderBy="startTime")) == (
        400, "invalid"
    )


def test_single_events_expands_a_weekly_series_across_dst(ada: Any) -> None:
    series = ada.events().insert(calendarId="primary", body={
        "summary": "Weekly",
        "start": {"dateTime": "2030-03-24T09:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-03-24T09:30:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
    }).execute()

    masters = ada.events().list(calendarId="primary").execute()["items"]
    instances = ada.events().list(calendarId="primary", singleEvents=True,
                                  orderBy="startTime").execute()["items"]

    assert [e["id"] for e in masters] == [series["id"]]
    assert [e["start"]["dateTime"] for e in instances] == [
        "2030-03-24T09:00:00+01:00", "2030-03-31T09:00:00+02:00", "2030-04-07T09:00:00+02:00"]
    assert {e["recurringEventId"] for e in instances} == {series["id"]}
    # Summer time starts in Berlin on 2030-03-31: the wall-clock time stays, the offset moves.
    assert instances[1]["id"] == f"{series['id']}_20300331T070000Z"


# ---------------------------------------------------------------- freebusy


def test_freebusy_over_several_calendars(
    ada: Any, control: GoogleControl
) -> None:
    control.create_account(BOB)
    control.create_calendar(TEAM, owner=BOB, shares={ADA: "freeBusyReader"})
    primary = "primary"
    for body in (
        timed("2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),
        timed("2030-01-07T09:30:00Z", "2030-01-07T10:30:00Z"),  # overlaps: merged
        timed("2030-01-07T12:00:00Z", "2030-01-07T13:00:00Z", transparency="transparent"),
        timed("2030-01-07T14:00:00Z", "2030-01-07T15:00:00Z", status="cancelled"),
        {"start": {"date": "2030-01-09"}, "end": {"date": "2030-01-10"}},  # Berlin day
    ):
        ada.events().insert(calendarId=primary, body=body).execute()
    gone = ada.events().insert(calendarId=primary, body=timed(
        "2030-01-07T16:00:00Z", "2030-01-07T17:00:00Z")).execute()
    ada.events().delete(calendarId=primary, eventId=gone["id"]).execute()
    control.add_busy(TEAM, "2030-01-08T08:00:00Z", "2030-01-08T09:00:00Z")
    control.add_busy(BOB, "2030-01-08T08:00:00Z", "2030-01-08T09:00:00Z")  # not shared

    answer = ada.freebusy().query(body={
        "timeMin": "2030-01-07T00:00:00Z",
        "timeMax": "2030-01-10T00:00:00Z",
        "items": [{"id": primary}, {"id": TEAM}, {"id": BOB}, {"id": "nobody@example.com"}],
    }).execute()

    cals = answer["calendars"]
    assert cals[primary] == {"busy": [
        {"start": "2030-01-07T09:00:00Z", "end": "2030-01-07T10:30:00Z"},
        {"start": "2030-01-08T23:00:00Z", "end": "2030-01-09T23:00:00Z"},
    ]}
    assert cals[TEAM] == {"busy": [{"start": "2030-01-08T08:00:00Z",
                                    "end": "2030-01-08T09:00:00Z"}]}
    not_found = {"busy": [], "errors": [{"domain": "global", "reason": "notFound"}]}
    assert cals[BOB] == not_found and cals["nobody@example.com"] == not_found
    assert answer["kind"] == "calendar#freeBusy"

    zoned = ada.freebusy().query(body={
        "timeMin": "2030-01-07T00:00:00Z", "timeMax": "2030-01-07T12:00:00Z",
        "timeZone": "Europe/Berlin", "items": [{"id": primary}],
    }).execute()
    assert zoned["calendars"][primary]["busy"] == [
        {"start": "2030-01-07T10:00:00+01:00", "end": "2030-01-07T11:30:00+01:00"}]


def test_freebusy_refuses_empty_and_too_long_ranges(ada: Any) -> None:
    def query(start: str, end: str) -> Any:
        return ada.freebusy().query(body={"timeMin": start, "timeMax": end,
                                          "items": [{"id": "primary"}]})

    assert reason_of(query("2030-01-07T00:00:00Z", "2030-01-07T00:00:00Z")) == (
        400, "timeRangeEmpty"
    )
    status, _ = reason_of(query("2030-01-01T00:00:00Z", "2030-04-02T00:00:00Z"))  # 91 days
    assert status == 400
    assert query("2030-01-01T00:00:00Z", "2030-04-01T00:00:00Z").execute()["calendars"]


def test_freebusy_answers_at_most_50_calendars(ada: Any) -> None:
    items = [{"id": "primary"}] + [{"id": f"c{n}@example.com"} for n in range(50)]

    answer = ada.freebusy().query(body={"timeMin": "2030-01-07T00:00:00Z",
                                        "timeMax": "2030-01-08T00:00:00Z",
                                        "items": items}).execute()

    assert answer["calendars"]["c48@example.com"]["errors"][0]["reason"] == "notFound"
    assert answer["calendars"]["c49@example.com"]["errors"][0]["reason"] == (
        "tooManyCalendarsRequested"
    )


# ---------------------------------------------------------------- access


def test_access_roles_limit_what_a_caller_may_do(
    google_server: StandinServer, ada: Any, control: GoogleControl, standin: Any
) -> None:
    control.create_account(BOB)
    control.create_calendar(TEAM, owner=BOB, shares={ADA: "reader"})
    control.create_calendar("busy-only@group.calendar.google.com", owner=BOB,
                            shares={ADA: "freeBusyReader"})
    control.add_busy(TEAM, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z", summary="Secret")
    control.add_busy("busy-only@group.calendar.google.com", "2030-01-07T09:00:00Z",
                     "2030-01-07T10:00:00Z", summary="Secret")
    body = timed("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z")

    with pytest.raises(HttpError) as caught:
        ada.events().insert(calendarId=TEAM, body=body).execute()
    assert caught.value.status_code == 403
    assert error_reason(caught.value) == "requiredAccessLevel"
    assert "You need to have writer access to this calendar." in caught.value.content.decode()
    assert reason_of(ada.events().insert(calendarId=BOB, body=body)) == (404, "notFound")
    assert ada.events().list(calendarId=TEAM).execute()["items"][0]["summary"] == "Secret"
    hidden = ada.events().list(calendarId="busy-only@group.calendar.google.com").execute()
    assert "summary" not in hidden["items"][0] and hidden["accessRole"] == "freeBusyReader"
    assert hidden["items"][0]["start"] == {"dateTime": "2030-01-07T09:00:00Z"}

    readonly = calendar_service(google_server.url, mint_token(standin.state, ADA,
                                                              (READONLY_SCOPE,)))
    events_only = calendar_service(google_server.url, mint_token(standin.state, ADA,
                                                                 (EVENTS_SCOPE,)))
    assert reason_of(readonly.events().insert(calendarId="primary", body=body)) == (
        403, "insufficientPermissions"
    )
    assert events_only.events().insert(calendarId="primary", body=body).execute()["id"]
    assert reason_of(events_only.calendarList().list()) == (403, "insufficientPermissions")
    # (google-auth would try to refresh on a 401, so ask without the client.)
    refused = requests.get(f"{google_server.url}/calendar/v3/users/me/calendarList",
                           headers={"Authorization": "Bearer ya29.not-a-token"}, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["error"]["errors"][0]["reason"] == "authError"
    assert "invalid_token" in refused.headers["WWW-Authenticate"]


# ---------------------------------------------------------------- faults, latency, records


def test_injected_503s_are_survived_by_client_retries_but_quota_exceeded_is_not(
    ada: Any, control: GoogleControl
) -> None:
    control.inject_calendar_fault("events.insert", 503, "backendError", count=2)
    request = ada.events().insert(calendarId="primary", body=timed(
        "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"))
    slept: list[float] = []
    request._sleep = slept.append  # the client's own backoff, without the wait

    created = request.execute(num_retries=3)

    assert created["id"] and len(slept) == 2
    statuses = [r["status"] for r in control.calendar_requests("events.insert")]
    assert statuses == [503, 503, 200]

    control.inject_calendar_fault("events.list", 403, "quotaExceeded", count=5)
    listing = ada.events().list(calendarId="primary")
    listing._sleep = slept.append
    with pytest.raises(HttpError) as caught:
        listing.execute(num_retries=3)
    body = caught.value.content.decode()
    assert error_reason(caught.value) == "quotaExceeded" and '"usageLimits"' in body
    assert len(control.calendar_requests("events.list")) == 1
    control.clear_calendar_faults()
    assert ada.events().list(calendarId="primary").execute()["items"]


def test_latency_delays_only_the_chosen_method(ada: Any, control: GoogleControl) -> None:
    control.set_calendar_latency("calendarList.list", 0.3)

    started = time.monotonic()
    ada.calendarList().list().execute()
    slow = time.monotonic() - started
    started = time.monotonic()
    ada.events().list(calendarId="primary").execute()
    fast = time.monotonic() - started

    assert slow >= 0.3 > fast


def test_a_slow_call_that_outlives_a_reset_changes_nothing_after_it(
    ada: Any, standin: Any, control: GoogleControl
) -> None:
    """Isolation between tests, not realism: an insert held by latency past the end of its test
    once landed in the next test's calendar and took that test's slot."""
    import threading

    control.set_calendar_latency("calendar.events.insert", 0.5)
    answers: list[int] = []

    def insert() -> None:
        try:
            ada.events().insert(calendarId="primary", body=timed(
                "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z")).execute()
            answers.append(200)
        except HttpError as exc:
            answers.append(exc.status_code)

    slow = threading.Thread(target=insert)
    slow.start()
    time.sleep(0.2)
    standin.reset()
    control.create_account(ADA, time_zone="Europe/Berlin")
    slow.join()

    assert answers == [503]
    assert control.list_events(ADA) == []
    assert control.calendar_requests("events.insert") == []


def test_requests_are_recorded_with_method_ids_bodies_and_statuses(
    ada: Any, control: GoogleControl
) -> None:
    ada.events().insert(calendarId="primary", sendUpdates="all", body=timed(
        "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", summary="Recorded")).execute()

    [insert] = control.calendar_requests("events.insert")
    [raw] = control.list_events(ADA)

    assert insert["method"] == "calendar.events.insert" and insert["service"] == "calendar"
    assert insert["http_method"] == "POST" and insert["status"] == 200
    assert insert["query"]["sendUpdates"] == "all"
    assert insert["body"]["summary"] == "Recorded"
    assert insert["response"]["id"] == raw["id"] and insert["caller"] == ADA
    assert raw["_standin"]["sendUpdates"] == ["all"]
