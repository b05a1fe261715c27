"""The owner's event types: validated on the way in, stored without the owner's zone."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking.adapters import firestore_event_types as store
from booking.domain.event_types import EventType, EventTypeError, parse_event_type
from booking.domain.model import Connection, Owner
from booking.domain.problems import Problem
from booking.domain.rules import NEW_START_TIMES
from booking.errors import DocumentMissing, InvalidInput, NotFound
from booking.services.stored import translating

NO_EVENT_TYPE = Problem("event_type.not_found", "no such event type")
# A guest's page cannot tell (and must not be told) which of the two is missing.
NO_OWNER_OR_EVENT_TYPE = Problem("event_type.not_found_for_guest", "no such owner or event type")
# ... and a paused one's page says so: its guests have a link the owner gave them.
PAUSED = Problem("event_type.paused", "This page is not taking bookings at the moment. "
                 "Please try again later, or contact the host.")
JSON_OBJECT = Problem("body.object", "must be a JSON object")


def _parse(owner: Owner, data: Any) -> EventType:
    if not isinstance(data, dict):
        raise InvalidInput("body", JSON_OBJECT)
    try:
        return parse_event_type(data, owner.time_zone, owner.week_start)
    except EventTypeError as exc:
        raise InvalidInput(exc.fields) from exc


def _new_defaults(data: Any) -> Any:
    """A new (or wholly replaced) event type without `start_times` gets today's default; a
    stored one without it keeps meaning how slots always started (the range's start)."""
    if isinstance(data, dict) and isinstance(data.get("rules"), dict) \
            and "start_times" not in data["rules"]:
        return {**data, "rules": {**data["rules"], "start_times": NEW_START_TIMES}}
    return data


@translating
def create(owner: Owner, data: Any, now: datetime) -> dict[str, Any]:
    event_type = _parse(owner, _new_defaults(data))
    store.create(owner.id, event_type.to_dict(), now)
    return event_type.to_dict()


@translating
def replace(owner: Owner, slug: str, data: Any, now: datetime) -> dict[str, Any]:
    if isinstance(data, dict) and data.get("slug", slug) != slug:
        raise InvalidInput("slug", Problem("event_type.slug.fixed", "cannot be changed; create "
                                                                  "a new event type instead"))
    event_type = _parse(owner, _new_defaults({**data, "slug": slug} if isinstance(data, dict)
                                             else data))
    store.replace(owner.id, event_type.to_dict(), now)
    return event_type.to_dict()


@translating
def load(owner: Owner, slug: str) -> EventType:
    return _evaluate(owner, store.get(owner.id, slug))


def _evaluate(owner: Owner, stored: Any) -> EventType:
    """A stored event type, evaluated in the owner's current zone and locale."""
    return parse_event_type(stored, owner.time_zone, owner.week_start)


@dataclass(frozen=True)
class ForGuest:
    owner: Owner
    event_type: EventType
    connections: list[Connection]


OwnerAndType = tuple[Owner | None, dict[str, Any] | None]


@translating
def for_guest(owner_id: str, slug: str,
              first: Callable[[], OwnerAndType] | None = None) -> ForGuest:
    """What a guest's request reads first, read at once (two Firestore requests, one wait): the
    owner with the event type in one batch, and the owner's Google connections; NotFound for a
    missing owner or event type, or one that is not active. `first` is that batch when the
    request's abuse count shares it (`fanout.once`)."""
    from booking import fanout
    from booking.adapters import firestore_owners as owners_store

    reads: list[Callable[[], Any]] = [
        first or functools.partial(store.get_with_owner, owner_id, slug),
        functools.partial(owners_store.list_connections, owner_id)]
    (owner, data), connections = fanout.run_all(reads)
    if owner is None:
        raise DocumentMissing("owner", owner_id)
    if data is None:
        raise DocumentMissing("event_type")
    event_type = _evaluate(owner, data)
    if not event_type.active:
        raise NotFound(NO_EVENT_TYPE)
    return ForGuest(owner, event_type, connections)


def load_active(owner: Owner, slug: str) -> EventType:
    event_type = load(owner, slug)
    if not event_type.active:
        raise NotFound(NO_EVENT_TYPE)
    return event_type


def list_all(owner: Owner) -> list[dict[str, Any]]:
    return store.list_all(owner.id)


@translating
def delete(owner: Owner, slug: str) -> None:
    store.delete(owner.id, slug)
