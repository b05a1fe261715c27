"""One booking as its emails and invitations describe it, and its times as people read them.

Times are stored as aware UTC instants and only turned into wall-clock text for one reader, in
that reader's IANA zone. The label always carries the zone name *and* the offset in force at that
instant, because a name alone hides the DST state and an offset alone hides the place:

    >>> from datetime import UTC, datetime
    >>> format_range(datetime(2026, 3, 16, 13, tzinfo=UTC), datetime(2026, 3, 16, 13, 30,
    ...     tzinfo=UTC), "America/New_York")
    'Monday, 16 March 2026, 09:00–09:30 (America/New_York, GMT-04:00)'

Day and month names come from Babel's CLDR tables for the reader's language (`locales`), not
`strftime`, so the text never depends on the process locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.domain import locales


@dataclass(frozen=True)
class Meeting:
    """Everything an email or invitation says about one booking.

    `sequence` starts at 0 and the caller raises it on every reschedule and cancellation, so
    calendar clients take the newer invitation for the same `uid` as an update. `start` and `end`
    must be aware; they are kept in UTC.
    """

    booking_id: str
    sequence: int
    title: str
    description: str
    start: datetime
    end: datetime
    owner_name: str
    owner_email: str
    owner_time_zone: str
    guest_name: str
    guest_email: str
    guest_time_zone: str
    notes: str = ""
    answers: tuple[tuple[str, str], ...] = ()
    meet_link: str | None = None
    location: str = ""
    event_link: str | None = None
    cancel_url: str | None = None
    reschedule_url: str | None = None
    uid_domain: str = "booking.local"
    guest_locale: str = locales.DEFAULT_LOCALE
    owner_locale: str = locales.DEFAULT_LOCALE
    # Minutes before the start at which the invitation's alarms ring: the event type's own
    # reminders, as Google's event has them.
    alarm_minutes: tuple[int, ...] = (10,)
    # A seat of a group event: the slot's seats, and how many are taken with this change (the
    # owner gets one email per seat, each saying how full the slot is). 1 for a meeting.
    seats: int = 1
    seats_taken: int = 0

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"Meeting.{name} must be timezone-aware, got {value!r}")
            # Frozen, so normalise through object.__setattr__; equality of aware datetimes is by
            # instant, so this changes nothing a caller can compare against.
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.end <= self.start:
            raise ValueError(f"Meeting.end {self.end} must be after Meeting.start {self.start}")
        if self.sequence < 0:
            raise ValueError(f"Meeting.sequence must not be negative, got {self.sequence}")
        for name in ("owner_time_zone", "guest_time_zone"):
            zone_info(getattr(self, name), field=f"Meeting.{name}")
        locales.check(self.guest_locale)
        locales.check(self.owner_locale)

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start) // timedelta(minutes=1))

    @property
    def uid(self) -> str:
        """The iCalendar UID: the same for the booking's whole life, across reschedules."""
        return f"{self.booking_id}@{self.uid_domain}"

    def when(self, zone: str, locale: str = locales.DEFAULT_LOCALE) -> str:
        """The meeting's time range for a reader in `zone`, e.g. for the guest's own zone."""
        return format_range(self.start, self.end, zone, locale)

    def short_start(self, zone: str, locale: str = locales.DEFAULT_LOCALE) -> str:
        """The start as a subject line shows it: ``Tue 1 Dec 09:00``."""
        return format_short(self.start, zone, locale)


def zone_info(zone: str, *, field: str = "time zone") -> ZoneInfo:
    """`ZoneInfo(zone)`, with an unknown or malformed name as a ValueError naming the field."""
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"{field}: unknown IANA time zone {zone!r}") from exc


def gmt_offset(local: datetime) -> str:
    """``GMT+05:45`` for Kathmandu; the offset in force at that very instant."""
    offset = local.utcoffset()
    if offset is None:
        raise ValueError(f"{local!r} has no UTC offset")
    minutes = int(offset // timedelta(minutes=1))
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours:02d}:{mins:02d}"


def format_day(local: datetime, locale: str = locales.DEFAULT_LOCALE) -> str:
    """``Tuesday, 1 December 2026`` / ``torek, 1. december 2026``."""
    return locales.long_day(local, locale)


def _clock(local: datetime) -> str:
    return f"{local.hour:02d}:{local.minute:02d}"


def _local(at: datetime, zone: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {at!r}")
    return at.astimezone(zone_info(zone))


def format_range(start: datetime, end: datetime, zone: str,
                 locale: str = locales.DEFAULT_LOCALE) -> str:
    """A time range as a reader in `zone` sees it on the wall clock.

    ``Tuesday, 1 December 2026, 09:00–09:30 (Europe/Ljubljana, GMT+01:00)``; a range that ends
    on another local day names both days. When the clocks change during the range, each end
    carries its own offset: on 25 October 2026 in Ljubljana 02:30 happens twice, and
    ``02:30–02:30`` with one offset would read as a zero-minute meeting.
    """
    a, b = _local(start, zone), _local(end, zone)
    a_day = format_day(a, locale)
    if a.utcoffset() != b.utcoffset():
        b_day = "" if a.date() == b.date() else f"{format_day(b, locale)}, "
        return (
            f"{a_day}, {_clock(a)} {gmt_offset(a)} – "
            f"{b_day}{_clock(b)} {gmt_offset(b)} ({zone})"
        )
    if a.date() == b.date():
        return f"{a_day}, {_clock(a)}–{_clock(b)} ({zone}, {gmt_offset(a)})"
    return (f"{a_day}, {_clock(a)} – {format_day(b, locale)}, {_clock(b)} "
            f"({zone}, {gmt_offset(a)})")


def format_clock(at: datetime, zone: str) -> str:
    """``10:05 (Europe/Ljubljana)``: a moment within the hour, such as a hold's end."""
    return f"{_clock(_local(at, zone))} ({zone})"


def format_short(at: datetime, zone: str, locale: str = locales.DEFAULT_LOCALE) -> str:
    """``Tue 1 Dec 09:00``: the compact wall-clock start a subject line has room for."""
    return locales.short_start(_local(at, zone), locale)


def format_duration(minutes: int, locale: str = locales.DEFAULT_LOCALE) -> str:
    """``30 minutes``, ``1 hour``, ``1 hour 30 minutes``, ``2 days``."""
    return locales.duration(minutes, locale)
