"""An owner's script reads the owner API's instants as ISO 8601, as it writes them: a
space-separated "2026-12-08 09:00:00+00:00" (str() of a datetime) is not what JavaScript's
Date or most JSON clients promise to parse."""

from __future__ import annotations

import re

from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import at, book, next_tuesday

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)")


def test_owner_api_answers_instants_in_iso_8601(stack: Stack, owner_key: str) -> None:
    resp = book(stack, at(next_tuesday(), "10:00"))
    assert resp.status_code == 201, resp.text
    booking_id = resp.json()["booking"]["id"]
    listed = owner_api(stack.base_url, owner_key, "GET", "/bookings")
    moved = owner_api(stack.base_url, owner_key, "POST", f"/bookings/{booking_id}/reschedule",
                      json={"start": at(next_tuesday(), "11:00").isoformat()})
    assert listed.status_code == 200 and moved.status_code == 200, moved.text
    for booking in [*listed.json()["bookings"], moved.json()["booking"]]:
        for key in ("start", "end"):
            assert ISO.fullmatch(booking[key]), (key, booking[key])
