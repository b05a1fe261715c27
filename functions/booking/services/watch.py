"""Google push channels on the calendars we read, so changes made in Google come back to us.

A channel's token is derived from our key and its id: Google echoes it in every notification,
and the intake recomputes it instead of looking a secret up.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from booking import log
from booking.adapters import firestore_channels as channels
from booking.adapters import google_calendar
from booking.adapters import secrets as secret_store
from booking.config import get_settings
from booking.domain import ids, tokens
from booking.domain.model import Connection, Owner
from booking.errors import ExternalError

TTL_SECONDS = 7 * 24 * 3600


def channel_token(channel_id: str) -> str:
    return tokens.derive(secret_store.signing_key(), f"channel.{channel_id}")


def open_channel(owner: Owner, conn: Connection, calendar_id: str, now: datetime) -> str | None:
    channel_id = uuid.uuid4().hex
    try:
        resp = google_calendar.watch(
            conn, calendar_id, channel_id=channel_id,
            address=get_settings().function_url("google_notifications"),
            token=channel_token(channel_id), ttl_seconds=TTL_SECONDS,
        )
    except ExternalError as exc:
        log.warning("could not open a push channel", owner=owner.id, connection=conn.id,
                    error=str(exc))
        return None
    channels.save(channel_id, {
        "owner_id": owner.id, "connection_id": conn.id, "calendar_id": calendar_id,
        "resource_id": resp.get("resourceId"), "expiration": resp.get("expiration"),
        "last_message": 0, "created_at": now,
    })
    return channel_id


def open_for(owner: Owner, conn: Connection, now: datetime) -> None:
    """One channel per calendar we read: the conflict calendars and the default calendar."""
    calendar_ids = set(conn.conflict_calendar_ids)
    if owner.default_calendar and owner.default_calendar.connection_id == conn.id:
        calendar_ids.add(owner.default_calendar.calendar_id)
    open_ids = {data["calendar_id"] for _, data in channels.for_connection(owner.id, conn.id)}
    for calendar_id in sorted(calendar_ids - open_ids):
        open_channel(owner, conn, calendar_id, now)


def stop_all(owner: Owner, conn: Connection) -> None:
    for channel_id, data in channels.for_connection(owner.id, conn.id):
        try:
            google_calendar.stop_channel(conn, channel_id, str(data.get("resource_id")))
        except ExternalError as exc:
            # The channel dies by itself at expiry; our record goes now so its pushes are refused.
            log.warning("could not stop a push channel", owner=owner.id, channel=channel_id,
                        error=str(exc))
        channels.delete(channel_id)


def accept(headers: Mapping[str, str] | Any, now: datetime) -> bool:
    """Checks a push's channel and token; records it. False for unknown or forged channels."""
    import hmac

    # `headers` is case-insensitive (werkzeug), as HTTP header names are.
    channel_id = str(headers.get("X-Goog-Channel-ID") or "")
    token = str(headers.get("X-Goog-Channel-Token") or "")
    if not ids.valid("channel", channel_id):
        return False
    # Opaque bytes: compare_digest refuses str with non-ASCII characters.
    expected = channel_token(channel_id).encode()
    if not hmac.compare_digest(token.encode("utf-8", "surrogateescape"), expected):
        return False
    data = channels.get(channel_id)
    if data is None:
        return False
    number_text = str(headers.get("X-Goog-Message-Number") or "0")
    # Google counts up from 1 in a 64-bit field; anything else is not Google's.
    if not number_text.isascii() or not number_text.isdigit() or len(number_text) > 18:
        return False
    state = str(headers.get("X-Goog-Resource-State") or "")[:32]
    channels.record_message(channel_id, int(number_text), state, now)
    return True
