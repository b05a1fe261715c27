"""The Calendar side of the Google stand-in's control API (see calendar.py for the routes).

Names carry "calendar" where the OAuth side could plausibly want the same word, because
GoogleControl mixes both clients into one class.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

from tests.standins.google.control_base import ControlBase


def _when(value: str | dict[str, Any]) -> dict[str, Any]:
    """"2024-05-01" -> all-day; "2024-05-01T09:00:00+02:00" -> timed; dicts pass through."""
    if isinstance(value, dict):
        return value
    return {"dateTime": value} if "T" in value else {"date": value}


def _cal(calendar_id: str) -> str:
    return quote(calendar_id, safe="@")


class CalendarControl(ControlBase):
    def _object(self, method: str, path: str, json: Any = None, **params: Any) -> dict[str, Any]:
        return cast(dict[str, Any], self._call(method, path, json=json, **params))

    def _items(self, method: str, path: str, json: Any = None, **params: Any) -> list[Any]:
        return cast(list[Any], self._call(method, path, json=json, **params))

    # -- calendars

    def create_calendar(
        self,
        calendar_id: str,
        *,
        summary: str | None = None,
        time_zone: str = "UTC",
        owner: str = "",
        shares: dict[str, str] | None = None,
        description: str = "",
    ) -> dict[str, Any]:
        """A calendar owned by `owner`, shared as {email: freeBusyReader|reader|writer|owner}."""
        return self._object(
            "POST",
            "/calendars",
            json={
                "id": calendar_id,
                "summary": summary,
                "time_zone": time_zone,
                "owner": owner,
                "shares": shares or {},
                "description": description,
            },
        )

    def calendars(self) -> list[dict[str, Any]]:
        return self._items("GET", "/calendars")

    def delete_calendar(self, calendar_id: str) -> None:
        self._call("DELETE", f"/calendars/{_cal(calendar_id)}")

    # -- events, as the calendar's owner would change them in Google Calendar

    def add_event(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        return self._object("POST", f"/calendars/{_cal(calendar_id)}/events", json=event)

    def add_busy(
        self,
        calendar_id: str,
        start: str | dict[str, Any],
        end: str | dict[str, Any],
        summary: str = "Busy",
        **fields: Any,
    ) -> dict[str, Any]:
        return self.add_event(
            calendar_id, {"summary": summary, "start": _when(start), "end": _when(end), **fields}
        )

    def edit_event(
        self, calendar_id: str, event_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        return self._object(
            "PATCH", f"/calendars/{_cal(calendar_id)}/events/{event_id}", json=changes
        )

    def move_event(
        self, calendar_id: str, event_id: str, start: str | dict[str, Any],
        end: str | dict[str, Any],
    ) -> dict[str, Any]:
        return self.edit_event(calendar_id, event_id, {"start": _when(start), "end": _when(end)})

    def delete_event(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        return self._object("DELETE", f"/calendars/{_cal(calendar_id)}/events/{event_id}")

    def list_events(self, calendar_id: str) -> list[dict[str, Any]]:
        """Every event as stored, deleted ones included; `_standin`: deleted, seq, sendUpdates."""
        return self._items("GET", f"/calendars/{_cal(calendar_id)}/events")

    # -- failure and timing

    def inject_calendar_fault(
        self,
        method: str,
        status: int,
        reason: str,
        count: int = 1,
        message: str | None = None,
    ) -> dict[str, Any]:
        """The next `count` calls of `method` ("events.insert", or "*") fail as Google would."""
        return self._object(
            "POST",
            "/faults",
            json={"method": method, "status": status, "reason": reason, "count": count,
                  "message": message},
        )

    def clear_calendar_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_calendar_latency(self, method: str, seconds: float) -> dict[str, float]:
        return self._object("POST", "/latency", json={"method": method, "seconds": seconds})

    def calendar_settings(self, **settings: Any) -> dict[str, Any]:
        """Changes stand-in settings (see tests/standins/README.md for each); returns them all.
        A refused value raises and changes nothing."""
        return self._object("POST", "/calendar/settings", json=settings)

    # -- what happened

    def calendar_requests(self, method: str | None = None) -> list[dict[str, Any]]:
        if method is None:
            return self._items("GET", "/calendar/requests")
        return self._items("GET", "/calendar/requests", name=method)

    def expire_sync_tokens(self, calendar_id: str | None = None) -> list[str]:
        result = self._object("POST", "/sync-tokens/expire", json={"calendar_id": calendar_id})
        return list(result["expired"])

    # -- push

    def channels(self) -> list[dict[str, Any]]:
        return self._items("GET", "/channels")

    def expire_channels(
        self, channel_id: str | None = None, calendar_id: str | None = None
    ) -> list[str]:
        result = self._object(
            "POST", "/channels/expire", json={"channel_id": channel_id, "calendar_id": calendar_id}
        )
        return list(result["expired"])

    def push_deliveries(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        if channel_id is None:
            return self._items("GET", "/push/deliveries")
        return self._items("GET", "/push/deliveries", channel_id=channel_id)

    def resolve_conferences(
        self, outcome: str | None = None, calendar_id: str | None = None,
        event_id: str | None = None,
    ) -> list[str]:
        """Finishes pending Meet requests now (all, or the chosen ones) as success or failure
        (default: the conference_outcome setting); returns the event ids."""
        result = self._object("POST", "/conferences/resolve", json={
            "outcome": outcome, "calendar_id": calendar_id, "event_id": event_id})
        return list(result["resolved"])

    def drop_pushes(self, count: int = 1) -> None:
        """The next `count` push messages are lost (never sent), as Google warns some may be."""
        self._call("POST", "/push/drop", json={"count": count})

    def flush_push(self, timeout: float = 10.0) -> None:
        """Returns once every queued push was delivered (raises if that takes over `timeout`)."""
        self._call("POST", "/push/flush", json={"timeout": timeout})
