"""Push notifications: events.watch channels, channels.stop, and delivery to web hooks.

Changes are queued while the state lock is held (so message numbers follow the order of the
changes) and delivered by one background thread per GoogleState, never from a request thread
and never while holding the lock. Right after a channel is created it gets a `sync` message;
each later change to its calendar gets `exists`, a deleted calendar `not_exists`. A non-2xx
answer is retried after each of Settings.push_retry_delays; a stopped or expired channel (or a
reset stand-in) gets nothing more. Every message's outcome lands in CalendarStore.deliveries.
"""

from __future__ import annotations

import base64
import hashlib
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


class _Worker:
    def __init__(self, state: GoogleState) -> None:
        self._state = weakref.ref(state)
        self.cond = threading.Condition()
        self.queue: deque[_Message] = deque()
        self.in_flight = 0
        self.thread: threading.Thread | None = None

    def put(self, message: _Message) -> None:
        with self.cond:
            self.queue.append(message)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="calendar-push", daemon=True)
                self.thread.start()
            self.cond.notify_all()

    def flush(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: not self.queue and not self.in_flight, timeout)

    def pending(self) -> int:
        with self.cond:
            return len(self.queue) + self.in_flight

    def _run(self) -> None:
        while True:
            with self.cond:
                self.cond.wait_for(lambda: bool(self.queue))
                message = self.queue.popleft()
                self.in_flight += 1
            try:
                state = self._state()
                if state is not None:
                    _deliver(state, message)
            finally:
                with self.cond:
                    self.in_flight -= 1
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
                **outcome,
            }
        )


def _deliver(state: GoogleState, message: _Message) -> None:
    attempt = 0
    while True:
        with state.lock:
            current = state.calendar.get("store") is message.store
            channel = message.store.channels.get(message.channel_id) if current else None
            if channel is None or not channel.live(state.now()):
                why = "reset" if not current else "stopped or expired"
                _record(state, message, channel, status=None, attempts=attempt,
                        delivered=False, dropped=why)
                return
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
        attempt += 1
        try:
            status: int | None = requests.post(
                address, data=b"", headers=headers, timeout=timeout
            ).status_code
        except requests.RequestException:
            status = None
        if status is not None and 200 <= status < 300:
            _record(state, message, channel, status=status, attempts=attempt, delivered=True)
            return
        if attempt > len(delays):
            _record(state, message, channel, status=status, attempts=attempt, delivered=False,
                    dropped="gave up")
            return
        time.sleep(delays[attempt - 1])


def _enqueue(state: GoogleState, st: CalendarStore, channel: Channel, resource_state: str) -> None:
    number = channel.next_number
    channel.next_number += 1
    _worker(state).put(_Message(st, channel.id, resource_state, number))


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


def stop(state: GoogleState, body: Any) -> None:
    if not isinstance(body, dict) or not body.get("id"):
        raise required("Required", "id")
    with state.lock:
        channel = store(state).channels.get(body["id"])
        if (
            channel is None
            or channel.stopped
            or (body.get("resourceId") and body["resourceId"] != channel.resource_id)
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
