"""The corners of the small domain modules that the larger test files do not reach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from booking.domain.ics import invitation
from booking.domain.meeting import Meeting, format_duration, gmt_offset
from booking.domain.model import CalendarInfo, CalendarRef, Connection

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _meeting(**changes: object) -> Meeting:
    base: dict[str, object] = dict(
        booking_id="b1", sequence=0, title="Intro", description="", start=START,
        end=START + timedelta(minutes=30), owner_name="Owner", owner_email="o@example.org",
        owner_time_zone="Europe/Ljubljana", guest_name="Guest", guest_email="g@example.org",
        guest_time_zone="UTC")
    base.update(changes)
    return Meeting(**base)  # type: ignore[arg-type]


def test_meeting_refuses_a_negative_sequence_and_naive_times() -> None:
    with pytest.raises(ValueError, match="sequence"):
        _meeting(sequence=-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        _meeting(start=datetime(2026, 12, 1, 9, 0))


def test_gmt_offset_and_duration_refuse_what_cannot_be_shown() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        gmt_offset(datetime(2026, 12, 1, 9, 0))
    with pytest.raises(ValueError, match="negative"):
        format_duration(-5)


def test_meeting_when_refuses_a_naive_datetime_via_format_helpers() -> None:
    from booking.domain.meeting import format_range

    with pytest.raises(ValueError, match="timezone-aware"):
        format_range(datetime(2026, 12, 1, 9, 0), START, "UTC")


def test_invitation_without_description_or_location_has_neither() -> None:
    cal = icalendar.Calendar.from_ical(invitation(_meeting(), stamp=START))
    event = cal.walk("VEVENT")[0]
    assert "LOCATION" not in event


def test_calendar_refs_and_infos_round_trip_and_roles_decide_writability() -> None:
    ref = CalendarRef("c1", "cal@example.org")
    assert CalendarRef.from_dict(ref.to_dict()) == ref
    info = CalendarInfo("cal", "Cal", "reader", "UTC")
    assert CalendarInfo.from_dict(info.to_dict()) == info and not info.writable
    assert CalendarInfo("cal", "Cal", "writer", "UTC").writable
    conn = Connection(id="c1", email="a@example.org", sub="1", status="needs_reconnect",
                      scopes=[], connected_at=START, secret_id="s", token_version=1,
                      calendars=[info, CalendarInfo("p", "P", "owner", "UTC", primary=True)])
    assert not conn.healthy
    assert conn.calendar("cal") == info and conn.calendar("nope") is None
    assert conn.primary is not None and conn.primary.id == "p"
