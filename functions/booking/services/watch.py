"""Google push channels on the calendars we read, and the intake of their notifications.

Channels follow the settings: every calendar that is the default or checked for conflicts, of
every healthy connection, has one live `events.watch` channel. `reconcile` opens what is
missing, renews what expires within a day (a new channel first, then the old one stopped:
Google never extends a channel, and overlap is normal), and stops what is no longer chosen. It
runs at connect, on every settings change, and from resync.

A channel's token is derived from the `channels` keyring and its id (`channel_token`, with the
key id, so it survives a rotation's grace period): Google echoes it in every notification, and
the intake recomputes it instead of looking a secret up.

A notification only says "something changed on this calendar": the intake checks channel,
token and resource id, then runs a bounded incremental sync (services/sync.py). Message numbers
rise but are not consecutive, and pushes repeat, come out of order or get lost: a push whose
number is not above the last one seen changes nothing, and resync's periodic sync is the net
for lost ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from booking import log
from booking.adapters import firestore_channels as channels
from booking.adapters import firestore_owners as owners_store
from booking.adapters import firestore_sync as sync_store
from booking.adapters import google_calendar, signing_keys
from booking.config import get_settings
from booking.domain import ids
from booking.domain.model import Connection, Owner
from booking.domain.sync import renewal_due
from booking.errors import DocumentMissing, ExternalError, ReauthRequired
from booking.services import google_access
from booking.services import sync as calendar_sync

TTL_SECONDS = 7 * 24 * 3600
RENEW_AHEAD = timedelta(days=1)
# Seconds of syncing inside Google's request; the rest continues later. Google counts a push
# not answered within its timeout (5 s, the stand-in's push_timeout) as unanswered: the sync
# stops a second before, leaving time to record its outcome and answer.
INTAKE_BUDGET = 4.0


def channel_token(channel_id: str) -> str:
    """The one place a channel's verification token is made (and checked against)."""
    return signing_keys.channel_token(channel_id)


def open_channel(owner: Owner, conn: Connection, calendar_id: str, now: datetime) -> str | None:
    channel_id = uuid.uuid4().hex
    # Recorded before the watch call: Google's first (`sync`) message may arrive before the
    # watch call returns, and it starts this calendar's first sync.
    record = {"owner_id": owner.id, "connection_id": conn.id, "calendar_id": calendar_id,
              "resource_id": None, "status": "opening", "last_message": 0, "created_at": now,
              "expires_at": now + timedelta(seconds=TTL_SECONDS)}
    channels.save(channel_id, record)
    try:
        resp = google_calendar.watch(
            conn, calendar_id, channel_id=channel_id,
            address=get_settings().function_url("google_notifications"),
            token=channel_token(channel_id), ttl_seconds=TTL_SECONDS,
        )
    except ReauthRequired:
        channels.delete(channel_id)
        google_access.reconnect_needed(owner, conn, now)
        return None
    except ExternalError as exc:
        # A 404 is a calendar deleted in Google: nothing to watch until the settings change.
        channels.delete(channel_id)
        log.warning("could not open a push channel", owner=owner.id, connection=conn.id,
                    error=str(exc))
        return None
    expires_at = _expiry(resp.get("expiration"), now)
    channels.update(channel_id, {"resource_id": resp.get("resourceId"),
                                 "expiration": resp.get("expiration"),
                                 "expires_at": expires_at, "status": "active"})
    sync_store.set_channel_expiry(sync_store.key(owner.id, conn.id, calendar_id),
                                  calendar_sync.meta(owner.id, conn.id, calendar_id), expires_at)
    return channel_id


def _expiry(value: Any, now: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError):
        return now + timedelta(seconds=TTL_SECONDS)


def _stop(conn: Connection | None, channel_id: str, data: dict[str, Any], now: datetime) -> None:
    if conn is not None and conn.healthy:
        try:
            google_calendar.stop_channel(conn, channel_id, str(data.get("resource_id")))
        except ExternalError as exc:
            # It dies by itself at expiry; a late push for it is stopped again at intake.
            log.warning("could not stop a push channel", owner=data.get("owner_id"),
                        channel=channel_id, error=str(exc))
    channels.mark_stopped(channel_id, now)


def reconcile(owner: Owner, now: datetime) -> dict[str, int]:
    """Makes the owner's channels match the settings; returns what it did."""
    conns = {c.id: c for c in owners_store.list_connections(owner.id)}
    wanted = {(c.id, cal) for c in conns.values() if c.healthy
              for cal in calendar_sync.watched_calendars(owner, c)}
    have: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for channel_id, data in channels.for_owner(owner.id):
        have.setdefault((data["connection_id"], data["calendar_id"]), []).append(
            (channel_id, data))
    counts = {"opened": 0, "renewed": 0, "stopped": 0}
    for conn_id, calendar_id in sorted(wanted):
        current = have.get((conn_id, calendar_id), [])
        expiries: list[datetime] = [d["expires_at"] for _, d in current if d.get("expires_at")]
        newest = max(expiries, default=None)
        if current and not renewal_due(newest, now, RENEW_AHEAD):
            continue
        if open_channel(owner, conns[conn_id], calendar_id, now) is None:
            continue
        counts["renewed" if current else "opened"] += 1
        for channel_id, data in current:
            _stop(conns[conn_id], channel_id, data, now)
    for (conn_id, calendar_id), current in have.items():
        if (conn_id, calendar_id) in wanted:
            continue
        for channel_id, data in current:
            _stop(conns.get(conn_id), channel_id, data, now)
            counts["stopped"] += 1
        sync_store.delete(sync_store.key(owner.id, conn_id, calendar_id))
    return counts


def stop_all(owner: Owner, conn: Connection, now: datetime | None = None) -> None:
    """Before a disconnect: every channel of the connection stopped, its caches dropped."""
    now = now or datetime.now(UTC)
    for channel_id, data in channels.for_connection(owner.id, conn.id):
        _stop(conn, channel_id, data, now)
        sync_store.delete(sync_store.key(owner.id, conn.id, data["calendar_id"]))


def intake(headers: Mapping[str, str] | Any, now: datetime) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for one push. 404 for what is not ours (Google does not retry
    4xx); 503 only when Google failed during the sync, so Google retries the push."""
    # `headers` is case-insensitive (werkzeug), as HTTP header names are.
    channel_id = str(headers.get("X-Goog-Channel-ID") or "")
    token = str(headers.get("X-Goog-Channel-Token") or "")
    if not ids.valid("channel", channel_id):
        return 404, {"accepted": False}
    if not signing_keys.check_channel_token(channel_id, token):
        return 404, {"accepted": False}
    data = channels.get(channel_id)
    resource_id = str(headers.get("X-Goog-Resource-ID") or "")
    # While the watch call is still under way the resource id is not known yet; the token,
    # derived from our key, has already proved the channel ours.
    if data is None or (data.get("resource_id") is not None
                        and resource_id != str(data["resource_id"])):
        return 404, {"accepted": False}
    if data.get("status") == "stopped":
        conn = owners_store.find_connection(data["owner_id"], data["connection_id"])
        _stop(conn, channel_id, data, now)
        return 200, {"accepted": False, "stopped": True}
    number_text = str(headers.get("X-Goog-Message-Number") or "0")
    # Google counts up from 1 in a 64-bit field; anything else is not Google's.
    if not number_text.isascii() or not number_text.isdigit() or len(number_text) > 18:
        return 404, {"accepted": False}
    number = int(number_text)
    state = str(headers.get("X-Goog-Resource-State") or "")[:32]
    if not channels.record_message(channel_id, number, state, now):
        return 200, {"accepted": True, "sync": "seen"}  # a repeat or an older message
    try:
        # Google waits for our answer: short retries here, Google's own retry (or resync) after.
        outcome = calendar_sync.sync_calendar(data["owner_id"], data["connection_id"],
                                              data["calendar_id"], now, budget=INTAKE_BUDGET)
    except ExternalError as exc:
        log.warning("sync after a push failed; google will retry", channel=channel_id,
                    error=str(exc))
        return 503, {"accepted": True, "sync": "failed"}
    return 200, {"accepted": True, "sync": outcome.status, "changes": outcome.changes}


def maintain(now: datetime, *, limit: int) -> dict[str, int]:
    """resync: reconcile the owners whose channels expire within a day, and the next `limit`
    owners in turn (a cursor goes round all of them, so a channel that could not be opened
    is retried), and forget channel records that have expired."""
    counts: dict[str, int] = {}
    owners_done: set[str] = set()
    for channel_id, data in channels.expiring_before(now + RENEW_AHEAD, limit):
        if data.get("status") == "stopped" or data["expires_at"] <= now:
            if data["expires_at"] <= now:
                channels.delete(channel_id)
                counts["forgotten"] = counts.get("forgotten", 0) + 1
            continue
        owners_done.add(data["owner_id"])
    cursor = sync_store.get_cursor("owners")
    in_turn = owners_store.owner_ids(after=cursor, limit=limit)
    sync_store.set_cursor("owners", in_turn[-1] if len(in_turn) == limit else None)
    for owner_id in sorted(owners_done | set(in_turn)):
        try:
            owner = owners_store.get_owner(owner_id)
        except DocumentMissing:
            continue
        for name, n in reconcile(owner, now).items():
            counts[name] = counts.get(name, 0) + n
    return counts

