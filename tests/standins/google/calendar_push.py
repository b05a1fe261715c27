"""Push notifications: events.watch channels, channels.stop, and delivery to web hooks.

Delivered as Google's push guide describes it (developers.google.com/calendar/api/guides/push):
- asynchronously: a change queues a message while the state lock is held (so it is committed
  before anything is sent); one background thread per GoogleState sends it `push_delay` seconds
  later, never from a request thread and never while holding the lock;
- right after a channel is created it gets a `sync` message; each later change to its calendar
  `exists`, a deleted calendar `not_exists`;
- message numbers increase but are not consecutive (each change takes the next number and the
  counter then jumps by a seeded random step of 1..push_number_step);
- quick successive changes are folded: a change that finds an unsent `exists` message of the
  same channel still waiting joins it (the message takes the newer number);
- a 500, 502, 503 or 504 answer, or none at all (refused, timed out), is retried after each of
  `push_retry_delays` (exponential); any other status is a failure and the message is dropped;
- a channel stops delivering at its expiration (checked before every attempt, on the stand-in's
  clock), when stopped, or when the stand-in is reset;
- a push can be lost on purpose: `push_loss_rate` (a share of first attempts) or "drop the next
  N" (CalendarStore.push_drop_next), as Google warns a small share may be.

Messages of one channel go out in order (a retried message holds back the ones behind it).
Every message's outcome lands in CalendarStore.deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import itertools
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.standins.google.calendar_model import (
    ApiError,
    CalendarData,
    CalendarStore,
    epoch,
    invalid,
    required,
    store,
)
from tests.standins.google.state import GoogleState

DEFAULT_TTL = 604800  # seconds: Google's default for events channels, and our cap
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"


RETRIED_STATUSES = {500, 502, 503, 504}


@dataclass
class Channel:
    id: str
    resource_id: str
    resource_uri: str
    calendar_id: str
    address: str
    token: str | None
    expiration_ms: int
    owner: str
    client_id: str = ""
    stopped: bool = False
    next_number: int = 1

    def live(self, now: float) -> bool:
        return not self.stopped and now * 1000 < self.expiration_ms

    def public(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "resourceId": self.resource_id,
            "resourceUri": self.resource_uri,
            "calendarId": self.calendar_id,
            "address": self.address,
            "token": self.token,
            "expiration": str(self.expiration_ms),
            "owner": self.owner,
            "clientId": self.client_id,
            "stopped": self.stopped,
            "expired": now * 1000 >= self.expiration_ms,
            "live": self.live(now),
        }


@dataclass
class _Message:
    store: CalendarStore
    channel_id: str
    state: str
    number: int
    due: float  # time.monotonic() of the first attempt
    attempts: int = 0
    folded: int = 0  # later changes that joined this message


_Key = tuple[int, str]  # (id of the store, channel id)


class _Worker:
    """One sender thread: a queue per channel, and a heap of when each channel's head is due."""

    def __init__(self, state: GoogleState) -> None:
        self._state = weakref.ref(state)
        self.cond = threading.Condition()
        self.queues: dict[_Key, deque[_Message]] = {}
        self.heap: list[tuple[float, int, _Key]] = []
        self.counter = itertools.count()
        self.in_flight = 0
        self.thread: threading.Thread | None = None

    def put(self, message: _Message, fold: bool) -> None:
        key = (id(message.store), message.channel_id)
        with self.cond:
            queue = self.queues.setdefault(key, deque())
            last = queue[-1] if queue else None
            if (fold and last is not None and last.attempts == 0
                    and last.state == message.state == "exists"):
                last.number = message.number
                last.folded += 1
                return
            queue.append(message)
            if len(queue) == 1:
                heapq.heappush(self.heap, (message.due, next(self.counter), key))
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="calendar-push", daemon=True)
                self.thread.start()
            self.cond.notify_all()

    def flush(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: not self.queues and not self.in_flight, timeout)

    def pending(self) -> int:
        with self.cond:
            return sum(len(q) for q in self.queues.values())

    def _next(self) -> tuple[_Key, _Message]:
        with self.cond:
            while True:
                wait = self.heap[0][0] - time.monotonic() if self.heap else None
                if wait is not None and wait <= 0:
                    break
                self.cond.wait(wait)
            _, _, key = heapq.heappop(self.heap)
            message = self.queues[key][0]
            message.attempts += 1
            self.in_flight += 1
            return key, message

    def _run(self) -> None:
        while True:
            key, message = self._next()
            retry_in: float | None = None
            try:
                state = self._state()
                if state is not None:
                    retry_in = _attempt(state, message)
            finally:
                with self.cond:
                    self.in_flight -= 1
                    queue = self.queues[key]
                    now = time.monotonic()
                    if retry_in is not None:
                        heapq.heappush(self.heap, (now + retry_in, next(self.counter), key))
                    else:
                        queue.popleft()
                        if queue:
                            heapq.heappush(
                                self.heap, (max(now, queue[0].due), next(self.counter), key)
                            )
                        else:
                            del self.queues[key]
                    self.cond.notify_all()


_workers: weakref.WeakKeyDictionary[GoogleState, _Worker] = weakref.WeakKeyDictionary()
_workers_lock = threading.Lock()


def _worker(state: GoogleState) -> _Worker:
    with _workers_lock:
        found = _workers.get(state)
        if found is None:
            found = _Worker(state)
            _workers[state] = found
        return found


def _record(state: GoogleState, message: _Message, channel: Channel | None, **outcome: Any) -> None:
    with state.lock:
        message.store.deliveries.append(
            {
                "channel_id": message.channel_id,
                "calendar_id": channel.calendar_id if channel else None,
                "resource_id": channel.resource_id if channel else None,
                "address": channel.address if channel else None,
                "state": message.state,
                "message_number": message.number,
                "folded": message.folded,
                "attempts": message.attempts,
                **outcome,
            }
        )


def _lost(st: CalendarStore) -> bool:
    """Whether this first attempt is lost on purpose: "drop the next N", else the loss rate."""
    if st.push_drop_next > 0:
        st.push_drop_next -= 1
        return True
    return st.settings.push_loss_rate > 0 and st.rng.random() < st.settings.push_loss_rate


def _attempt(state: GoogleState, message: _Message) -> float | None:
    """One try at sending; returns seconds until the next try, or None when the message is done."""
    with state.lock:
        current = state.calendar.get("store") is message.store
        channel = message.store.channels.get(message.channel_id) if current else None
        if channel is None or not channel.live(state.now()):
            why = "reset" if not current else "stopped or expired"
            _record(state, message, channel, status=None, delivered=False, dropped=why)
            return None
        if message.attempts == 1 and _lost(message.store):
            _record(state, message, channel, status=None, delivered=False, dropped="lost")
            return None
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": format_datetime(
                epoch(channel.expiration_ms / 1000), usegmt=True
            ),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": channel.resource_uri,
            "X-Goog-Resource-State": message.state,
            "X-Goog-Message-Number": str(message.number),
            "User-Agent": USER_AGENT,
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        address = channel.address
        delays = list(message.store.settings.push_retry_delays)
        timeout = message.store.settings.push_timeout
    try:
        status: int | None = requests.post(
            address, data=b"", headers=headers, timeout=timeout
        ).status_code
    except requests.RequestException:
        status = None  # no answer: refused, reset or timed out
    if status is not None and 200 <= status < 300:
        _record(state, message, channel, status=status, delivered=True, dropped=None)
        return None
    if status is not None and status not in RETRIED_STATUSES:
        # "Every other return status code is considered to be a message failure": not retried.
        _record(state, message, channel, status=status, delivered=False, dropped="failed")
        return None
    if message.attempts > len(delays):
        _record(state, message, channel, status=status, delivered=False, dropped="gave up")
        return None
    return float(delays[message.attempts - 1])


def _enqueue(state: GoogleState, st: CalendarStore, channel: Channel, resource_state: str) -> None:
    number = channel.next_number
    channel.next_number += st.rng.randint(1, max(1, st.settings.push_number_step))
    due = time.monotonic() + max(0.0, float(st.settings.push_delay))
    _worker(state).put(_Message(st, channel.id, resource_state, number, due),
                       fold=bool(st.settings.push_fold))


def notify(state: GoogleState, calendar_id: str, resource_state: str = "exists") -> None:
    """Queues a message for every live channel on the calendar; call with the lock held."""
    with state.lock:
        st = store(state)
        now = state.now()
        for channel in st.channels.values():
            if channel.calendar_id == calendar_id and channel.live(now):
                _enqueue(state, st, channel, resource_state)


def resource_id_for(calendar_id: str) -> str:
    digest = hashlib.sha256(f"events:{calendar_id}".encode()).digest()
    return base64.b32hexencode(digest).decode().lower().rstrip("=")[:27]


def watch(
    state: GoogleState,
    cal: CalendarData,
    caller: str,
    body: Any,
    resource_uri: str,
    client_id: str = "",
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    channel_id = body.get("id")
    if not channel_id or not isinstance(channel_id, str):
        raise required("Required", "id")
    if len(channel_id) > 64:
        raise invalid("Invalid value for: id", "id")
    if body.get("type") != "web_hook":
        raise invalid(f"Invalid value for: type {body.get('type')!r}", "type")
    address = body.get("address")
    if not address or not isinstance(address, str):
        raise required("Required", "address")
    parts = urlsplit(address)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS):
        raise ApiError(400, "push.webhookUrlNotHttps", f"WebHook callback must be HTTPS: {address}")
    params = body.get("params") or {}
    try:
        ttl = int(params.get("ttl", DEFAULT_TTL))
    except (TypeError, ValueError):
        raise invalid("Invalid value for: params.ttl", "params.ttl") from None
    with state.lock:
        st = store(state)
        now = state.now()
        existing = st.channels.get(channel_id)
        if existing is not None and existing.live(now):
            raise ApiError(400, "channelIdNotUnique", "Channel id not unique")
        expiration = int(now * 1000) + 1000 * max(1, min(ttl, DEFAULT_TTL))
        if body.get("expiration"):
            expiration = min(expiration, int(body["expiration"]))
        channel = Channel(
            id=channel_id,
            resource_id=resource_id_for(cal.id),
            resource_uri=resource_uri,
            calendar_id=cal.id,
            address=address,
            token=body.get("token"),
            expiration_ms=expiration,
            owner=caller,
            client_id=client_id,
        )
        st.channels[channel_id] = channel
        # Google confirms every new channel with a `sync` message before any change.
        _enqueue(state, st, channel, "sync")
    response = {
        "kind": "api#channel",
        "id": channel.id,
        "resourceId": channel.resource_id,
        "resourceUri": channel.resource_uri,
        "expiration": str(channel.expiration_ms),
    }
    if channel.token is not None:
        response["token"] = channel.token
    return response


def stop(state: GoogleState, body: Any, caller: str, client_id: str) -> None:
    """Stops a channel. Only the user and OAuth client that opened it may: for anyone else the
    channel does not exist, the answer an unknown channel gets."""
    if not isinstance(body, dict) or not body.get("id"):
        raise required("Required", "id")
    with state.lock:
        channel = store(state).channels.get(body["id"])
        if (
            channel is None
            or channel.stopped
            or (body.get("resourceId") and body["resourceId"] != channel.resource_id)
            or channel.owner != caller
            or channel.client_id != client_id
        ):
            raise ApiError(404, "notFound",
                           f"Channel '{body['id']}' not found for project 'standin'")
        channel.stopped = True


def expire(state: GoogleState, channel_id: str | None = None,
           calendar_id: str | None = None) -> list[str]:
    """Makes the chosen channels (all when neither is given) expire now."""
    with state.lock:
        now_ms = int(state.now() * 1000)
        done = []
        for channel in store(state).channels.values():
            if channel_id not in (None, channel.id) or calendar_id not in (
                None, channel.calendar_id
            ):
                continue
            channel.expiration_ms = min(channel.expiration_ms, now_ms)
            done.append(channel.id)
        return done


def flush_push(state: GoogleState, timeout: float = 10.0) -> bool:
    """Waits until every queued notification was delivered, retried out or dropped."""
    return _worker(state).flush(timeout)


def pending(state: GoogleState) -> int:
    return _worker(state).pending()
