"""Benchmark of two-way sync on the local stack.

    python -m bench.sync [--events 1000] [--moves 5]

1. One push that carries `--events` changed events: that many events are added to a conflict
   calendar while its channel is silent at Google, then one notification reaches the
   `google_notifications` function, which syncs them (incremental sync, every page) and fills
   the calendar's busy cache. Prints the time of that one request, the events.list pages it
   read, and the Firestore writes it made (every document write in this process, batches and
   transactions alike).
2. A booking moved in Google Calendar: `--moves` bookings are each moved through the stand-in's
   control API (as the owner would in the Calendar UI); prints the median and worst time from
   the move until both reschedule emails are in the SendGrid mailbox.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.stack import ACCOUNT_A, ACCOUNT_B, LocalStack, local_stack

WRITES = {"count": 0}


def _count_firestore_writes() -> Any:
    """Counts document writes (set, update, create, delete; in batches and transactions)."""
    from google.cloud.firestore_v1 import base_batch

    original = base_batch.BaseWriteBatch._add_write_pbs

    def counted(self: Any, write_pbs: Any) -> Any:
        WRITES["count"] += len(write_pbs)
        return original(self, write_pbs)

    base_batch.BaseWriteBatch._add_write_pbs = counted  # type: ignore[method-assign]

    def restore() -> None:
        base_batch.BaseWriteBatch._add_write_pbs = original  # type: ignore[method-assign]

    return restore


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--moves", type=int, default=5)
    args = parser.parse_args()
    with local_stack(busy_events=0, quiet=True) as st:
        st.flush_push()
        _one_big_push(st, args.events)
        _moves(st, args.moves)
    return 0


def _one_big_push(st: LocalStack, n: int) -> None:
    import requests

    ctl = st.control
    channel = next(c for c in ctl.channels() if c["calendarId"] == ACCOUNT_B and c["live"])
    ctl.expire_channels(channel_id=channel["id"])  # silent at Google while the events go in
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    for i in range(n):
        begin = start + timedelta(minutes=30 * i)
        ctl.add_event(ACCOUNT_B, {"summary": f"changed {i}",
                                  "start": {"dateTime": begin.isoformat()},
                                  "end": {"dateTime": (begin + timedelta(minutes=20)).isoformat()}})
    headers = {"X-Goog-Channel-ID": channel["id"], "X-Goog-Channel-Token": channel["token"],
               "X-Goog-Resource-ID": channel["resourceId"],
               "X-Goog-Resource-URI": channel["resourceUri"], "X-Goog-Resource-State": "exists",
               "X-Goog-Message-Number": "1000000"}
    restore = _count_firestore_writes()
    WRITES["count"] = 0
    before = st.google_mark()
    try:
        t0 = time.perf_counter()
        resp = requests.post(f"{st.base_url}/google_notifications", headers=headers, timeout=120)
        elapsed = time.perf_counter() - t0
    finally:
        restore()
    body = resp.json()
    pages = [c for c in st.calendar_calls(before) if c["method"] == "calendar.events.list"]
    print(f"one push carrying {n} changed events ({resp.status_code}, sync {body.get('sync')}, "
          f"{body.get('changes')} changes)")
    print(f"  time to answer     {elapsed * 1000:8.0f} ms")
    print(f"  events.list pages  {len(pages):8d}")
    print(f"  Firestore writes   {WRITES['count']:8d}")


def _moves(st: LocalStack, n: int) -> None:
    import requests

    # Bookings land in a@gmail.test, the default calendar (bench/stack.py).
    day = (datetime.now(UTC) + timedelta(days=21)).date()
    while day.weekday() != 1:
        day += timedelta(days=1)
    waits: list[float] = []
    for i in range(n):
        start = datetime(day.year, day.month, day.day, 8 + i, tzinfo=UTC)
        resp = requests.post(f"{st.base_url}/book", timeout=60, json={
            "owner": st.owner_id, "event_type": "call", "start": start.isoformat(),
            "name": "Guest", "email": f"guest{i}@example.org", "time_zone": "UTC"})
        assert resp.status_code == 201, resp.text
        st.flush_push()
        event_id = f"bk{resp.json()['booking']['id']}"
        mails = st.emails_sent()
        moved = start + timedelta(days=1)
        t0 = time.perf_counter()
        st.control.move_event(ACCOUNT_A, event_id, moved.isoformat(),
                              (moved + timedelta(minutes=30)).isoformat())
        while st.emails_sent() < mails + 2:
            if time.perf_counter() - t0 > 60:
                raise RuntimeError("the move did not come back within 60 s")
            time.sleep(0.01)
        waits.append(time.perf_counter() - t0)
    print(f"booking moved in Google -> booking moved and both emails sent ({n} moves)")
    print(f"  median             {statistics.median(waits) * 1000:8.0f} ms")
    print(f"  worst              {max(waits) * 1000:8.0f} ms")



if __name__ == "__main__":
    sys.exit(main())
