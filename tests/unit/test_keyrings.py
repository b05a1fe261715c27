"""The stored keyring and its rotation: the previous key verifies for the grace period only."""

from __future__ import annotations

import pytest

from booking.domain import keyrings
from booking.domain.keyrings import KeyringError

NOW = 1_800_000_000


def ring_of(*entries: dict[str, object]) -> list[dict[str, object]]:
    return keyrings.parse(keyrings.dump(list(entries)))


def test_a_new_keyring_round_trips_and_its_one_key_signs() -> None:
    entries = ring_of(keyrings.new_entry("k1", b"a" * 32, NOW))
    ring = keyrings.keyring(entries, NOW)
    assert ring.current == "k1" and ring.keys == {"k1": b"a" * 32}


def test_rotation_keeps_the_previous_key_for_the_grace_then_drops_it() -> None:
    first = ring_of(keyrings.new_entry("k1", b"a" * 32, NOW))
    second = keyrings.rotate(first, keyrings.new_entry("k2", b"b" * 32, NOW), now=NOW,
                             grace_seconds=3600)
    assert [e["id"] for e in second] == ["k2", "k1"]
    assert second[1]["retire_at"] == NOW + 3600
    assert set(keyrings.keyring(second, NOW + 3599).keys) == {"k1", "k2"}
    assert set(keyrings.keyring(second, NOW + 3600).keys) == {"k2"}
    # A second rotation within the grace: k1 keeps its own (earlier) date, k2 gets one.
    third = keyrings.rotate(second, keyrings.new_entry("k3", b"c" * 32, NOW + 60),
                            now=NOW + 60, grace_seconds=7200)
    assert [(e["id"], e.get("retire_at")) for e in third] == [
        ("k3", None), ("k2", NOW + 60 + 7200), ("k1", NOW + 3600)]
    # Once retired, a key leaves the stored document at the next rotation.
    fourth = keyrings.rotate(third, keyrings.new_entry("k4", b"d" * 32, NOW + 4000),
                             now=NOW + 4000, grace_seconds=0)
    assert [e["id"] for e in fourth] == ["k4"]


@pytest.mark.parametrize("text", [
    "not json", "{}", '{"keys": []}', '{"keys": [{"id": "k1"}]}',
    '{"keys": [{"id": "bad id", "secret": "YQ", "created": 1}]}', '{"keys": 5}',
])
def test_an_unreadable_keyring_is_an_error(text: str) -> None:
    with pytest.raises(KeyringError):
        keyrings.parse(text)


def test_new_keys_need_an_id_and_enough_randomness() -> None:
    with pytest.raises(KeyringError):
        keyrings.new_entry("k1", b"short", NOW)
    with pytest.raises(KeyringError):
        keyrings.new_entry("no spaces", b"a" * 32, NOW)


def test_a_retired_current_key_or_a_short_key_is_refused() -> None:
    retired = ring_of({**keyrings.new_entry("k1", b"a" * 32, NOW), "retire_at": NOW})
    with pytest.raises(KeyringError, match="retired"):
        keyrings.keyring(retired, NOW)
    short = ring_of({"id": "k1", "secret": "YWJj", "created": NOW})
    with pytest.raises(KeyringError):
        keyrings.keyring(short, NOW)
