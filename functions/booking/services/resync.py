"""The scheduled safety net (Cloud Scheduler calls `resync` every few minutes).

In order: channels renewed, opened where missing and forgotten once expired; an incremental
sync of the calendars synced longest ago (what a lost push left behind); reminders owed; the
outbox drained. Every part is bounded per run and picks up where the last run stopped, and each
is safe beside another run and beside push intake (leases on outbox rows and calendars).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

OWNERS_PER_RUN = 50
CALENDARS_PER_RUN = 200
SYNC_BUDGET = 120.0  # seconds of the function's 300
RUN_BUDGET = 270.0  # all of it, so the outbox drain stops before the function is cut off


def run(now: datetime) -> dict[str, Any]:
    from booking.deadline import Deadline
    from booking.services import outbox, reminders, sync, watch

    budget = Deadline.within(RUN_BUDGET)
    channels = watch.maintain(now, limit=OWNERS_PER_RUN)
    synced = sync.sync_stalest(now, limit=CALENDARS_PER_RUN, budget=SYNC_BUDGET)
    reminded = reminders.send_due(now)
    return {"channels": channels, "calendars": synced, "reminders": reminded,
            "outbox": outbox.drain(now, deadline=budget)}
