"""The owner's side of the data: owners, their Google connections and calendars."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CONNECTED = "connected"
NEEDS_RECONNECT = "needs_reconnect"
WRITABLE_ROLES = frozenset({"writer", "owner"})


@dataclass(frozen=True)
class CalendarRef:
    """One calendar of one connected Google account."""

    connection_id: str
    calendar_id: str

    def to_dict(self) -> dict[str, str]:
        return {"connection_id": self.connection_id, "calendar_id": self.calendar_id}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> CalendarRef:
        return CalendarRef(str(data["connection_id"]), str(data["calendar_id"]))


@dataclass(frozen=True)
class CalendarInfo:
    id: str
    summary: str
    access_role: str
    time_zone: str
    primary: bool = False

    @property
    def writable(self) -> bool:
        return self.access_role in WRITABLE_ROLES

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "summary": self.summary,
            "access_role": self.access_role,
            "time_zone": self.time_zone,
            "primary": self.primary,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> CalendarInfo:
        return CalendarInfo(
            id=str(data["id"]),
            summary=str(data.get("summary", "")),
            access_role=str(data.get("access_role", "reader")),
            time_zone=str(data.get("time_zone", "UTC")),
            primary=bool(data.get("primary", False)),
        )


@dataclass
class Connection:
    """A Google account an owner connected. Its refresh token lives in Secret Manager under
    `secret_id`; `token_version` changes on every reconnect so cached credentials are dropped."""

    id: str
    email: str
    sub: str
    status: str
    scopes: list[str]
    connected_at: datetime
    secret_id: str
    token_version: int
    calendars: list[CalendarInfo] = field(default_factory=list)
    conflict_calendar_ids: list[str] = field(default_factory=list)
    reconnect_notified: bool = False
    # Calendars the owner filed booked meetings under in Google (moved there): watched too, so
    # later changes there come back, though they block no slot.
    booking_calendar_ids: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.status == CONNECTED

    def calendar(self, calendar_id: str) -> CalendarInfo | None:
        return next((c for c in self.calendars if c.id == calendar_id), None)

    @property
    def primary(self) -> CalendarInfo | None:
        return next((c for c in self.calendars if c.primary), None)


@dataclass
class Owner:
    id: str
    name: str
    email: str
    time_zone: str
    api_keys: dict[str, str]  # key id -> SHA-256 of the key's secret; several during a rotation
    default_calendar: CalendarRef | None = None
    meet_enabled: bool = True
    allowed_origins: list[str] = field(default_factory=list)
    redirect_urls: list[str] = field(default_factory=list)
    # Owner-wide: bookings of all event types together on one day; None = no cap.
    max_bookings_per_day: int | None = None
    language: str = "en"  # what owner-facing pages and emails are written in
    # BCP 47 with a region (sl-SI, en-US): where the owner's weeks start (0 = Monday .. 6 =
    # Sunday, from CLDR when the locale is set), for weekly limits.
    locale: str | None = None
    week_start: int = 0
    # The owner's own abuse limits over the defaults (booking.domain.quotas), validated.
    limits: dict[str, int] = field(default_factory=dict)
