"""Push notifications from the Calendar stand-in to a real web hook on 127.0.0.1.

Source for every behaviour here unless a test names another: Google's push guide,
https://developers.google.com/calendar/api/guides/push ("Receive notifications", "Message
numbers", "Retries", "Stop notifications", "Renew notification channels").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.standins.google.calendar_testing import (
    PushReceiver,
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
    control.create_account(ADA)
    return calendar_service(google_server.url, mint_token(standin.state, ADA))


@pytest.fixture
def hooks() -> Iterator[PushReceiver]:
    with PushReceiver() as receiver:
        yield receiver


def watch(service: Any, address: str, channel_id: str = "chan-1", calendar_id: str = "primary",
          **extra: Any) -> dict[str, Any]:
    body = {"id": channel_id, "type": "web_hook", "address": address, **extra}
    return dict(service.events().watch(calendarId=calendar_id, body=body).execute())


def an_event(n: int = 1) -> dict[str, Any]:
    return {"summary": f"event {n}", "start": {"dateTime": f"2030-01-0{n}T10:00:00Z"},
            "end": {"dateTime": f"2030-01-0{n}T11:00:00Z"}}


def test_watch_sends_sync_then_pushes_with_googles_headers_and_gapped_numbers(
    ada: Any, hooks: PushReceiver, control: GoogleControl, standin: Any
) -> None:
    """Push guide: a `sync` message first, then `exists` per change; X-Goog-Message-Number
    "increases ... but not necessarily consecutive" (the stand-in always leaves gaps somewhere)."""
    before_ms = standin.state.now() * 1000
    channel = watch(ada, hooks.url, token="target=bookings", params={"ttl": "3600"})
    control.flush_push()
    [sync] = hooks.pushes("chan-1")

    assert channel["kind"] == "api#channel" and channel["id"] == "chan-1"
    assert channel["token"] == "target=bookings"
    assert before_ms + 3600_000 <= int(channel["expiration"]) <= before_ms + 3610_000
    assert channel["resourceUri"].endswith(f"/calendar/v3/calendars/{ADA}/events?alt=json")
    assert sync.body == b""
    assert sync.headers["x-goog-resource-state"] == "sync"
    assert sync.headers["x-goog-message-number"] == "1"
    assert sync.headers["x-goog-channel-id"] == "chan-1"
    assert sync.headers["x-goog-channel-token"] == "target=bookings"
    assert sync.headers["x-goog-resource-id"] == channel["resourceId"]
    assert sync.headers["x-goog-resource-uri"] == channel["resourceUri"]
    expires = parsedate_to_datetime(sync.headers["x-goog-channel-expiration"])
    assert sync.headers["x-goog-channel-expiration"].endswith(" GMT")
    assert expires == datetime.fromtimestamp(int(channel["expiration"]) // 1000, UTC)

    # One change at a time (each push delivered before the next change), so nothing folds.
    event = ada.events().insert(calendarId="primary", body=an_event()).execute()
    control.flush_push()
    ada.events().patch(calendarId="primary", eventId=event["id"],
                       body={"summary": "renamed"}).execute()
    control.flush_push()
    control.add_busy(ADA, "2030-01-02T10:00:00Z", "2030-01-02T11:00:00Z")  # Ada, in the UI
    control.flush_push()
    ada.events().delete(calendarId="primary", eventId=event["id"]).execute()
    control.flush_push()

    pushes = hooks.pushes("chan-1")
    assert [p.headers["x-goog-resource-state"] for p in pushes] == ["sync"] + ["exists"] * 4
    numbers = [int(p.headers["x-goog-message-number"]) for p in pushes]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert numbers != list(range(1, 6)), "message numbers must not be consecutive"
    deliveries = control.push_deliveries("chan-1")
    assert [d["status"] for d in deliveries] == [200] * 5
    assert [d["message_number"] for d in deliveries] == numbers


def test_quick_successive_changes_fold_into_one_push(
    ada: Any, hooks: PushReceiver, control: GoogleControl
) -> None:
    """Push guide: notifications only say something changed, and Google may send one for
    several changes; a receiver must sync everything, not count pushes."""
    watch(ada, hooks.url)
    control.flush_push()
    control.calendar_settings(push_delay=0.3)
    for n in range(1, 5):
        ada.events().insert(calendarId="primary", body=an_event(n)).execute()
    control.flush_push()

    states = [p.headers["x-goog-resource-state"] for p in hooks.pushes()]
    assert states == ["sync", "exists"]
    [folded] = [d for d in control.push_deliveries() if d["state"] == "exists"]
    assert folded["folded"] == 3


def test_push_arrives_after_the_commit_and_a_short_delay(
    ada: Any, control: GoogleControl
) -> None:
    """Push guide: notifications are sent after the change; the receiver that syncs at once
    sees it (the push is not sent from inside the request that made the change)."""
    seen: list[list[str]] = []

    def sync_now(push: Any) -> None:
        if push.headers["x-goog-resource-state"] == "exists":
            items = ada.events().list(calendarId="primary").execute()["items"]
            seen.append([e["summary"] for e in items])

    with PushReceiver(on_push=sync_now) as hooks:
        watch(ada, hooks.url)
        control.flush_push()
        control.calendar_settings(push_delay=0.2)
        started = time.monotonic()
        ada.events().insert(calendarId="primary", body=an_event()).execute()
        control.flush_push()

        [_, change] = hooks.pushes()
        assert change.at - started >= 0.2
        assert seen == [["event 1"]]


def test_only_5xx_that_google_names_and_no_answer_are_retried(
    ada: Any, control: GoogleControl
) -> None:
    """Push guide, "Retries": Google retries with exponential backoff only on 500, 502, 503 and
    504; "every other return status code is considered to be a message failure" (no retry)."""
    with PushReceiver() as hook:
        for status in (502, 503, 504, 400, 404, 410, 429, 501):
            hook.fail_next, hook.fail_status, hook.attempts = 1, status, 0
            watch(ada, hook.url, f"chan-{status}")
            control.flush_push()
            [outcome] = control.push_deliveries(f"chan-{status}")
            if status in (502, 503, 504):
                assert (hook.attempts, outcome["delivered"], outcome["attempts"]) == (2, True, 2)
            else:
                assert hook.attempts == 1
                assert (outcome["status"], outcome["delivered"], outcome["dropped"]) == (
                    status, False, "failed")

        control.calendar_settings(push_timeout=0.1, push_retry_delays=[0.01, 0.02, 0.04, 0.08])
        hook.delay = 0.3  # answers too late: no answer, so retried, then given up
        watch(ada, hook.url, "silent")
        control.flush_push()
        [silent] = control.push_deliveries("silent")
        assert (silent["status"], silent["attempts"], silent["dropped"]) == (None, 5, "gave up")


def test_a_test_can_lose_pushes_on_purpose(
    ada: Any, hooks: PushReceiver, control: GoogleControl
) -> None:
    """Push guide: notifications are not 100% reliable ("expect a small percentage of messages
    to get dropped"); the control API loses the next N or a share of them."""
    watch(ada, hooks.url)
    control.flush_push()
    control.drop_pushes(1)
    ada.events().insert(calendarId="primary", body=an_event(1)).execute()
    control.flush_push()
    ada.events().insert(calendarId="primary", body=an_event(2)).execute()
    control.flush_push()

    assert [p.headers["x-goog-resource-state"] for p in hooks.pushes()] == ["sync", "exists"]
    assert [d["dropped"] for d in control.push_deliveries()][1:] == ["lost", None]

    control.calendar_settings(push_loss_rate=1.0)
    ada.events().insert(calendarId="primary", body=an_event(3)).execute()
    control.flush_push()
    assert len(hooks.pushes()) == 2
    assert control.push_deliveries()[-1]["dropped"] == "lost"


def test_settings_refused_with_400_change_nothing(control: GoogleControl) -> None:
    """The control API's own contract: a 400 answer leaves every setting as it was."""
    before = control.calendar_settings()
    for bad in ({"push_delay": 0.5, "conference_status": "maybe"}, {"push_loss_rate": 2},
                {"push_fold": "yes"}, {"nonsense": 1}):
        with pytest.raises(AssertionError, match="400"):
            control.calendar_settings(**bad)
    assert control.calendar_settings() == before


def test_resource_id_is_stable_per_calendar_and_channel_ids_are_unique(
    ada: Any, hooks: PushReceiver
) -> None:
    """Push guide, "Create notification channels": resourceId names the watched resource; a channel
    id must be unique (up to 64 characters); the address must be HTTPS."""
    first = watch(ada, hooks.url, "chan-a")
    second = watch(ada, hooks.url, "chan-b")

    assert first["resourceId"] == second["resourceId"]
    with pytest.raises(HttpError) as caught:
        watch(ada, hooks.url, "chan-a")
    assert caught.value.status_code == 400
    with pytest.raises(HttpError) as caught:
        watch(ada, "http://example.com/hook", "chan-c")
    assert (caught.value.status_code, error_reason(caught.value)) == (
        400, "push.webhookUrlNotHttps"
    )
    with pytest.raises(HttpError):
        watch(ada, hooks.url, "x" * 65)


def test_stopped_channel_gets_no_more_pushes(
    ada: Any, hooks: PushReceiver, control: GoogleControl
) -> None:
    """Push guide, "Stop notifications": channels.stop with the channel id and resource id."""
    channel = watch(ada, hooks.url)
    other = watch(ada, hooks.url, "chan-2")
    control.flush_push()

    ada.channels().stop(body={"id": channel["id"], "resourceId": channel["resourceId"]}).execute()
    ada.events().insert(calendarId="primary", body=an_event()).execute()
    control.flush_push()

    assert [p.headers["x-goog-resource-state"] for p in hooks.pushes("chan-1")] == ["sync"]
    assert [p.headers["x-goog-resource-state"] for p in hooks.pushes("chan-2")] == [
        "sync", "exists"]
    for body in ({"id": channel["id"], "resourceId": channel["resourceId"]},
                 {"id": "never-made", "resourceId": other["resourceId"]}):
        with pytest.raises(HttpError) as caught:
            ada.channels().stop(body=body).execute()
        assert (caught.value.status_code, error_reason(caught.value)) == (404, "notFound")


def test_only_the_user_and_client_that_opened_a_channel_can_stop_it(
    google_server: StandinServer, ada: Any, hooks: PushReceiver, control: GoogleControl,
    standin: Any
) -> None:
    """Push guide: "Each notification channel is associated both with a particular user and a
    particular resource"; channels.stop from another user or another OAuth client finds no such
    channel (404) and the channel keeps delivering."""
    control.create_account(BOB)
    control.create_calendar(TEAM, owner=BOB, shares={ADA: "reader"})
    channel = watch(ada, hooks.url, "team", calendar_id=TEAM)
    bob = calendar_service(google_server.url, mint_token(standin.state, BOB))
    other_client = "other.apps.googleusercontent.com"
    ada_elsewhere = calendar_service(
        google_server.url, mint_token(standin.state, ADA, client_id=other_client)
    )
    body = {"id": channel["id"], "resourceId": channel["resourceId"]}
    for stranger in (bob, ada_elsewhere):
        with pytest.raises(HttpError) as caught:
            stranger.channels().stop(body=body).execute()
        assert (caught.value.status_code, error_reason(caught.value)) == (404, "notFound")
    control.add_busy(TEAM, "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z")
    control.flush_push()
    assert [p.headers["x-goog-resource-state"] for p in hooks.pushes("team")] == [
        "sync", "exists"]

    ada.channels().stop(body=body).execute()
    assert [c["live"] for c in control.channels()] == [False]


def test_expired_channels_get_no_more_pushes_and_ttl_is_capped_at_seven_days(
    ada: Any, hooks: PushReceiver, control: GoogleControl, standin: Any
) -> None:
    """Push guide, "Renew notification channels": a channel stops at its expiration (checked
    on the stand-in's clock before each delivery); events channels default to one week."""
    now_ms = standin.state.now() * 1000
    default = watch(ada, hooks.url, "chan-default")
    capped = watch(ada, hooks.url, "chan-capped", params={"ttl": str(30 * 86400)})
    watch(ada, hooks.url, "chan-short", params={"ttl": "60"})
    control.flush_push()

    week_ms = 604800 * 1000
    assert now_ms + week_ms <= int(default["expiration"]) <= now_ms + week_ms + 10_000
    assert int(capped["expiration"]) <= int(default["expiration"]) + 10_000
    control.advance_clock(61)  # past chan-short's ttl
    control.expire_channels(channel_id="chan-capped")
    ada.events().insert(calendarId="primary", body=an_event()).execute()
    control.flush_push()

    def states(channel_id: str) -> list[str]:
        return [p.headers["x-goog-resource-state"] for p in hooks.pushes(channel_id)]

    assert states("chan-default") == ["sync", "exists"]
    assert states("chan-short") == ["sync"] and states("chan-capped") == ["sync"]
    live = {c["id"]: c["live"] for c in control.channels()}
    assert live == {"chan-default": True, "chan-capped": False, "chan-short": False}


def test_failed_pushes_are_retried_in_order_then_given_up(
    ada: Any, control: GoogleControl
) -> None:
    """Push guide, "Retries": a 500 is retried with exponential backoff; later messages of the
    channel wait behind it; after the last retry the message is given up."""
    with PushReceiver(fail_next=2) as flaky:
        watch(ada, flaky.url)
        ada.events().insert(calendarId="primary", body=an_event()).execute()
        control.flush_push()

        numbers = [int(p.headers["x-goog-message-number"]) for p in flaky.pushes()]
        assert numbers[0] == 1 and len(numbers) == 2 and numbers[1] > 1
        assert flaky.attempts == 4
        first = control.push_deliveries("chan-1")[0]
        assert (first["attempts"], first["status"], first["delivered"]) == (3, 200, True)

        flaky.fail_next = 100
        ada.events().insert(calendarId="primary", body=an_event(2)).execute()
        control.flush_push()

        last = control.push_deliveries("chan-1")[-1]
        assert (last["delivered"], last["status"], last["attempts"]) == (False, 500, 5)


def test_pushes_are_sent_from_the_background_not_the_request(
    ada: Any, control: GoogleControl
) -> None:
    """Push guide: notifications are sent to the web hook separately from the API call that made
    the change, so a slow receiver never slows the change."""
    with PushReceiver(delay=0.5) as slow:
        started = time.monotonic()
        watch(ada, slow.url)
        ada.events().insert(calendarId="primary", body=an_event()).execute()
        answered = time.monotonic() - started
        control.flush_push()

        assert answered < 0.5
        assert len(slow.pushes()) == 2


def test_changes_to_a_shared_calendar_reach_its_watchers(
    google_server: StandinServer, ada: Any, hooks: PushReceiver, control: GoogleControl
) -> None:
    """Push guide: a channel watches the resource, not the caller's own changes; a deleted calendar
    is reported as `not_exists`."""
    control.create_account(BOB)
    control.create_calendar(TEAM, owner=BOB, shares={ADA: "reader"})
    channel = watch(ada, hooks.url, "team", calendar_id=TEAM)

    event = control.add_busy(TEAM, "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z")
    control.flush_push()
    control.move_event(TEAM, event["id"], "2030-01-01T12:00:00Z", "2030-01-01T13:00:00Z")
    control.flush_push()
    control.delete_event(TEAM, event["id"])
    control.flush_push()
    control.delete_calendar(TEAM)
    control.flush_push()

    assert [p.headers["x-goog-resource-state"] for p in hooks.pushes("team")] == [
        "sync", "exists", "exists", "exists", "not_exists"]
    assert channel["resourceUri"].endswith(
        "/calendars/team-room@group.calendar.google.com/events?alt=json"
    )
