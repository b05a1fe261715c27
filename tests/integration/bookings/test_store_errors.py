"""The Firestore adapters say what happened to the document (DocumentMissing, AlreadyExists,
LastOne); the services decide what a person reads, with its message id, in their language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.adapters import firestore_event_types, firestore_owners
from booking.errors import (
    AlreadyExists,
    BookingError,
    Conflict,
    DocumentMissing,
    LastOne,
    NotFound,
)
from booking.services import event_types
from tests.conftest import Stack
from tests.drivers import owner_api
from tests.integration.bookings.conftest import rules

NOW = datetime.now(UTC)


def test_adapters_say_what_happened_and_services_say_it_to_a_person(
        stack: Stack, owner_key: str) -> None:
    with pytest.raises(DocumentMissing) as missing:
        firestore_event_types.get("mia", "nope")
    assert not isinstance(missing.value, BookingError) and missing.value.kind == "event_type"
    owner = firestore_owners.get_owner("mia")
    with pytest.raises(NotFound) as refused:
        event_types.load(owner, "nope")
    assert refused.value.message.code == "event_type.not_found"  # type: ignore[attr-defined]

    kid = owner_api(stack.base_url, owner_key, "GET", "/keys").json()["keys"][0]["id"]
    with pytest.raises(LastOne):
        firestore_owners.remove_api_key("mia", kid)
    body = {"slug": "twice", "title": "Twice", "rules": rules()}
    assert owner_api(stack.base_url, owner_key, "POST", "/event-types",
                     json=body).status_code == 201
    with pytest.raises(AlreadyExists):
        firestore_event_types.create("mia", firestore_event_types.get("mia", "twice"), NOW)
    with pytest.raises(Conflict) as taken:
        event_types.create(owner, body, NOW)
    assert taken.value.message == "an event type with slug 'twice' exists already"

    # Through HTTP, in the owner's language.
    assert owner_api(stack.base_url, owner_key, "PATCH", "/settings",
                     json={"language": "sl"}).status_code == 200
    last = owner_api(stack.base_url, owner_key, "DELETE", f"/keys/{kid}")
    assert last.status_code == 409
    assert last.json()["message"].startswith("to je vaš edini ključ")
    again = owner_api(stack.base_url, owner_key, "POST", "/event-types", json=body)
    assert again.status_code == 409 and "'twice'" in again.json()["message"]
    gone = owner_api(stack.base_url, owner_key, "GET", "/event-types/nope")
    assert gone.status_code == 404 and gone.json()["message"] == "te vrste dogodka ni"
    assert owner_api(stack.base_url, owner_key, "GET", "/keys").json()["keys"][0]["id"] == kid
