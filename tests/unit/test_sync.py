"""Sync decisions: changes made in Google Calendar become actions here, echoes become nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking.domain.intervals import Interval
from booking.domain.model import CalendarRef
from booking.domain.sync import (
    Answered,
    Cancelled,
    Change,
    ClearBusy,
    Declined,
    Expand,
    Followed,
    Moved,
    SetBusy,
    StoredBooking,
    booking_id_of,
    clip,
    decide,
    fresh,
    parse,
    renewal_due,
    within,
)

ZONE = ZoneInfo("Europe/Ljubljana")
BID = "0123456789abcdef0123456789abcdef"
EID = f"bk{BID}"
CAL = CalendarRef("g1", "mia@gmail.test")
OTHER = CalendarRef("g2", "work@example.test")
NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)


def at(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


SLOT = Interval(at(9), at(9, 30))
LATER = Interval(at(11), at(11, 30))


def booking(**extra: Any) -> StoredBooking:
    fields: dict[str, Any] = {"id": BID, "status": "confirmed", "span": SLOT,
                              "guest_email": "Guest@Example.org", "calendar": CAL,
                              "written": SLOT}
    fields.update(extra)
    return StoredBooking(**fields)


def item(**extra: Any) -> dict[str, Any]:
    return {"id": EID, "status": "confirmed",
            "start": {"dateTime": "2026-12-02T10:00:00+01:00", "timeZone": "Europe/Ljubljana"},
            "end": {"dateTime": "2026-12-02T10:30:00+01:00"}, **extra}


def test_parse_reads_times_in_utc_and_finds_our_booking_id() -> None:
    change = parse(item(), ZONE)
    assert change == Change(EID, cancelled=False, span=SLOT, busy=True, booking_id=BID)


def test_parse_all_day_event_is_busy_from_midnight_in_the_calendars_zone() -> None:
    change = parse({"id": "x1", "start": {"date": "2026-12-02"}, "end": {"date": "2026-12-03"}},
                   ZONE)
    assert change.span == Interval(at(23, day=1), at(23))
    assert change.booking_id is None and change.busy


def test_parse_floating_date_time_takes_the_calendars_zone() -> None:
    change = parse({"id": "x1", "start": {"dateTime": "2026-12-02T10:00:00"},
                    "end": {"dateTime": "2026-12-02T10:30:00"}}, ZONE)
    assert change.span == SLOT


def test_parse_deleted_event_has_only_its_id() -> None:
    change = parse({"id": EID, "status": "cancelled"}, ZONE)
    assert change.cancelled and change.span is None and not change.busy
    assert change.booking_id == BID


def test_parse_free_and_declined_events_are_not_busy() -> None:
    assert not parse(item(transparency="transparent"), ZONE).busy
    declined = parse(item(attendees=[{"email": "me@x", "self": True,
                                      "responseStatus": "declined"}]), ZONE)
    assert not declined.busy and declined.declined_by == frozenset({"me@x"})
    accepted = parse(item(attendees=[{"email": "me@x", "self": True,
                                      "responseStatus": "accepted"}]), ZONE)
    assert accepted.busy and accepted.declined_by == frozenset()


def test_parse_event_with_missing_or_empty_times_has_no_span() -> None:
    assert parse({"id": "x", "start": {}, "end": {}}, ZONE).span is None
    assert parse({"id": "x"}, ZONE).span is None
    assert parse({"id": "x", "start": {"timeZone": "UTC"}, "end": {"timeZone": "UTC"}},
                 ZONE).span is None
    same = {"dateTime": "2026-12-02T10:00:00+01:00"}
    assert parse({"id": "x", "start": same, "end": same}, ZONE).span is None


def test_booking_id_only_from_our_own_event_ids() -> None:
    assert booking_id_of(EID) == BID
    assert booking_id_of(f"{EID}_20261202T090000Z") is None
    assert booking_id_of("abc") is None


def test_other_events_only_update_the_busy_cache() -> None:
    busy = Change("e1", cancelled=False, span=SLOT, busy=True, booking_id=None)
    gone = Change("e2", cancelled=True, span=None, busy=False, booking_id=None)
    assert decide(CAL, [busy, gone], {}, {}, now=NOW) == [SetBusy("e1", SLOT), ClearBusy("e2")]


def test_recurring_series_is_expanded_and_its_occurrences_are_set_one_by_one() -> None:
    master = parse(item(id="s1", recurrence=["RRULE:FREQ=WEEKLY"], iCalUID="s1@google.com"),
                   ZONE)
    moved = parse(item(id="s1_20261202T090000Z", recurringEventId="s1"), ZONE)
    gone = parse({"id": "s1_20261209T090000Z", "status": "cancelled",
                  "recurringEventId": "s1"}, ZONE)
    deleted = parse({"id": "s1", "status": "cancelled"}, ZONE)
    assert decide(CAL, [master, moved, gone, deleted], {}, {}, now=NOW) == [
        Expand("s1", "s1@google.com"), SetBusy("s1_20261202T090000Z", SLOT),
        ClearBusy("s1_20261209T090000Z"), ClearBusy("s1")]


def test_event_moved_in_google_moves_the_booking() -> None:
    moved = parse(item(start={"dateTime": "2026-12-02T11:00:00Z"},
                       end={"dateTime": "2026-12-02T11:30:00Z"}), ZONE)
    assert decide(CAL, [moved], {BID: booking()}, {}, now=NOW) == [SetBusy(EID, LATER),
                                                          Moved(BID, LATER)]


def test_echo_of_our_own_write_changes_nothing() -> None:
    echo = parse(item(summary="renamed", description="new words"), ZONE)
    assert decide(CAL, [echo], {BID: booking()}, {}, now=NOW) == [SetBusy(EID, SLOT)]


def test_echo_of_the_old_time_while_our_reschedule_is_on_its_way_changes_nothing() -> None:
    old = parse(item(), ZONE)
    stored = booking(span=LATER, written=SLOT)
    assert decide(CAL, [old], {BID: stored}, {}, now=NOW) == [SetBusy(EID, SLOT)]


def test_deleted_in_google_cancels_the_booking() -> None:
    gone = parse({"id": EID, "status": "cancelled"}, ZONE)
    assert decide(CAL, [gone], {BID: booking()}, {}, now=NOW) == [ClearBusy(EID), Cancelled(BID)]


def test_cancelled_booking_ignores_its_events_echoes() -> None:
    gone = parse({"id": EID, "status": "cancelled"}, ZONE)
    assert decide(CAL, [gone], {BID: booking(status="cancelled")}, {}, now=NOW) == [ClearBusy(EID)]
    assert decide(CAL, [gone], {}, {}, now=NOW) == [ClearBusy(EID)]


def test_event_moved_to_another_calendar_is_followed_not_cancelled() -> None:
    gone = parse({"id": EID, "status": "cancelled"}, ZONE)
    assert decide(CAL, [gone], {BID: booking()}, {BID: OTHER}, now=NOW) == [ClearBusy(EID),
                                                                   Followed(BID, OTHER)]
    arrived = parse(item(), ZONE)
    assert decide(OTHER, [arrived], {BID: booking()}, {}, now=NOW) == [SetBusy(EID, SLOT),
                                                              Followed(BID, OTHER)]
    # The old calendar's delete seen after the booking followed: nothing more.
    assert decide(CAL, [gone], {BID: booking(calendar=OTHER)}, {}, now=NOW) == [ClearBusy(EID)]


def test_guest_declining_in_google_is_noted_once() -> None:
    declined = parse(item(attendees=[{"email": "guest@example.org",
                                      "responseStatus": "declined"}]), ZONE)
    assert decide(CAL, [declined], {BID: booking()}, {}, now=NOW)[1:] == [Declined(BID)]
    assert decide(CAL, [declined], {BID: booking(guest_declined=True)}, {}, now=NOW)[1:] == []


def test_guest_answering_again_after_declining_lifts_the_mark() -> None:
    """Accepted after all, or Google reset the answer when the time changed: the next decline
    is a new one to tell."""
    answered = parse(item(attendees=[{"email": "guest@example.org",
                                      "responseStatus": "needsAction"}]), ZONE)
    assert decide(CAL, [answered], {BID: booking(guest_declined=True)}, {}, now=NOW)[1:] == \
        [Answered(BID)]
    assert decide(CAL, [answered], {BID: booking()}, {}, now=NOW)[1:] == []


def test_each_seat_of_a_group_event_declines_for_itself() -> None:
    from booking.domain.sync import declined_seats

    change = parse(item(attendees=[{"email": "ANA@example.org", "responseStatus": "declined"},
                                   {"email": "bo@example.org", "responseStatus": "accepted"}]),
                   ZONE)
    seats = [booking(id="a", guest_email="ana@example.org"),
             booking(id="b", guest_email="bo@example.org"),
             booking(id="c", guest_email="ana@example.org", guest_declined=True),
             booking(id="d", guest_email="ana@example.org", status="cancelled")]
    assert declined_seats(change, seats) == [Declined("a")]


def test_clip_and_within() -> None:
    window = Interval(at(9, 15), at(12))
    assert clip(SLOT, window) == Interval(at(9, 15), at(9, 30))
    assert clip(SLOT, Interval(at(10), at(12))) is None
    assert within([SLOT, LATER], Interval(at(10), at(12))) == [LATER]


def test_cache_is_fresh_only_with_a_live_channel_a_recent_sync_and_coverage() -> None:
    span = Interval(at(9), at(17))
    ok: dict[str, Any] = {"channel_expires_at": NOW + timedelta(days=1),
                          "synced_at": NOW - timedelta(minutes=1), "dirty_since": None,
                          "covered": Interval(NOW, NOW + timedelta(days=30)), "span": span,
                          "now": NOW, "max_age": timedelta(minutes=15),
                          "max_dirty": timedelta(seconds=60)}
    assert fresh(**ok)
    assert fresh(**{**ok, "dirty_since": NOW - timedelta(seconds=5)})
    for change in ({"channel_expires_at": None}, {"channel_expires_at": NOW},
                   {"synced_at": None}, {"synced_at": NOW - timedelta(hours=1)},
                   {"dirty_since": NOW - timedelta(minutes=5)}, {"covered": None},
                   {"covered": Interval(NOW, at(12))}):
        assert not fresh(**{**ok, **change}), change


def test_renewal_due_within_a_day_of_expiry() -> None:
    day = timedelta(days=1)
    assert renewal_due(None, NOW, day)
    assert renewal_due(NOW + timedelta(hours=3), NOW, day)
    assert not renewal_due(NOW + timedelta(days=3), NOW, day)


def test_a_meeting_that_has_ended_is_history_unless_moved_to_a_time_to_come() -> None:
    """Owners clear old events out of their calendars: that cancels nothing and mails nobody."""
    after = SLOT.end + timedelta(days=1)
    gone = parse({"id": EID, "status": "cancelled"}, ZONE)
    assert decide(CAL, [gone], {BID: booking()}, {}, now=after) == [ClearBusy(EID)]
    filed = parse(item(start={"dateTime": "2026-12-02T11:00:00+01:00"},
                       end={"dateTime": "2026-12-02T11:30:00+01:00"}), ZONE)  # a past time
    span = filed.span
    assert span is not None and span != SLOT
    declined = parse(item(attendees=[{"email": "guest@example.org",
                                      "responseStatus": "declined"}]), ZONE)
    assert decide(CAL, [filed, declined], {BID: booking()}, {}, now=after) == \
        [SetBusy(EID, span), SetBusy(EID, SLOT)]
    # A missed meeting dragged to next week is a meeting again.
    ahead = parse(item(start={"dateTime": "2026-12-09T10:00:00+01:00"},
                       end={"dateTime": "2026-12-09T10:30:00+01:00"}), ZONE)
    assert ahead.span is not None
    assert decide(CAL, [ahead], {BID: booking()}, {}, now=after) == \
        [SetBusy(EID, ahead.span), Moved(BID, ahead.span)]
