"""The Google Calendar event we write for a booking, built from plain values (no I/O)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def event_body(*, event_id: str, booking_id: str, title: str, guest_name: str,
               guest_email: str, start: datetime, end: datetime, time_zone: str,
               details: str, meet: bool, reminders: Sequence[dict[str, Any]],
               owner_addresses: Collection[str], ical_uid: str,
               location: str = "", attendees: Sequence[tuple[str, str]] | None = None,
               summary: str | None = None) -> dict[str, Any]:
    """The body of events.insert. The guest is the one attendee, unless the guest is one of the
    owner's own addresses (an owner booking themself must not be invited to their own event).
    The Meet request id is the booking id, so a retried insert cannot ask for a second room.
    The iCalUID is the one our .ics invitations carry, so a mail client that imports the
    emailed invitation updates this event instead of adding a second one. A group slot's
    event passes its `attendees` (email, name) and `summary` instead of one guest's."""
    owners = {a.lower() for a in owner_addresses}
    invited = attendees if attendees is not None else \
        [] if guest_email.lower() in owners else [(guest_email, guest_name)]
    body: dict[str, Any] = {
        "id": event_id,
        "iCalUID": ical_uid,
        "summary": summary if summary is not None else f"{title} with {guest_name}",
        "description": details,
        "start": {"dateTime": _rfc3339(start), "timeZone": time_zone},
        "end": {"dateTime": _rfc3339(end), "timeZone": time_zone},
        "attendees": [{"email": email, "displayName": name, "responseStatus": "needsAction"}
                      for email, name in invited],
        "reminders": {"useDefault": False,
                      "overrides": [{"method": r["method"], "minutes": int(r["minutes"])}
                                    for r in reminders]},
        "extendedProperties": {"private": {"booking_id": booking_id}},
        "transparency": "opaque",
        "status": "confirmed",
    }
    if location:
        body["location"] = location
    if meet:
        body["conferenceData"] = {"createRequest": {
            "requestId": booking_id, "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    return body


def meet_link(event: dict[str, Any]) -> str | None:
    """The video link of a created event, once Google has made the room (status success)."""
    data = event.get("conferenceData") or {}
    for point in data.get("entryPoints", []):
        if point.get("entryPointType") == "video" and point.get("uri"):
            return str(point["uri"])
    link = event.get("hangoutLink")
    return str(link) if link else None
