"""The abuse limits' pure rules: effective values, validation, windows, counters, the verdict."""

from __future__ import annotations

import pytest

from booking.domain import quotas


def test_owner_values_override_the_defaults_and_unknown_keys_are_ignored() -> None:
    found = quotas.effective({"book_per_ip": 3, "stale": 9})
    assert found["book_per_ip"] == 3 and found["book_per_email"] == quotas.DEFAULTS[
        "book_per_email"] and "stale" not in found
    assert quotas.effective(None) == quotas.DEFAULTS


@pytest.mark.parametrize(("value", "problem"), [
    ([], "limits"),
    ({"book_per_ip": 0}, "limits.book_per_ip"),
    ({"book_per_ip": True}, "limits.book_per_ip"),
    ({"book_per_owner": 100001}, "limits.book_per_owner"),
    ({"open_bookings_per_email": 1001}, "limits.open_bookings_per_email"),
    ({"per_planet": 1}, "limits.per_planet"),
])
def test_bad_limits_are_named(value: object, problem: str) -> None:
    found, problems = quotas.parse_limits(value)
    assert problem in problems and found == {}


def test_good_limits_are_kept() -> None:
    assert quotas.parse_limits({"book_per_owner": 100000, "changes_per_ip": 1}) == (
        {"book_per_owner": 100000, "changes_per_ip": 1}, {})


def test_windows_are_whole_minutes_and_retry_after_is_at_least_a_second() -> None:
    assert quotas.window_of(61.5) == (60, 59)
    start, retry = quotas.window_of(119.999)
    assert (start, retry) == (60, 1)
    assert quotas.window_of(120.0) == (120, 60)


def test_counters_hash_their_key_and_shards_share_the_limit() -> None:
    limits = quotas.effective({"book_per_owner": 20})
    plain = quotas.counter("book_per_ip", "a/b\n..", limits, 61.5)
    assert "/" not in plain.doc_id and plain.doc_id.endswith(".60") and plain.allowed == 10
    assert (plain.retry_after, plain.expires_at) == (59, 180)
    shard = quotas.counter("book_per_owner", "coach", limits, 60, shard=3)
    assert shard.doc_id.endswith(".60.3") and shard.allowed == 3  # 20 = 3+3+3+3+2+2+2+2
    assert quotas.counter("book_per_owner", "coach", limits, 60, shard=4).allowed == 2
    assert quotas.counter("book_per_ip", "x", limits, 60) != quotas.counter(
        "book_per_email", "x", limits, 60)


def test_hourly_limits_count_in_hour_windows() -> None:
    hourly = quotas.counter("book_per_ip_hour", "1.2.3.4", quotas.DEFAULTS, 3600 + 61.0)
    assert hourly.doc_id.endswith(".3600") and hourly.retry_after == 3600 - 61
    assert hourly.allowed == quotas.DEFAULTS["book_per_ip_hour"]


def test_the_first_counter_past_its_allowance_is_named() -> None:
    limits = quotas.DEFAULTS
    ip = quotas.counter("book_per_ip", "1.2.3.4", limits, 0)
    email = quotas.counter("book_per_email", "a@b.c", limits, 0)
    assert quotas.over([ip, email], [10, 5]) is None
    assert quotas.over([ip, email], [10, 6]) == email
    assert quotas.over([ip, email], [11, 6]) == ip


@pytest.mark.parametrize("limit", [1, 3, 7, 8, 9, 16, 20, 121, 100000])
def test_shard_shares_add_up_to_the_limit_exactly(limit: int) -> None:
    found = quotas.shares(limit)
    assert sum(found) == limit and len(found) == quotas.SHARDS
    assert max(found) - min(found) <= 1


def test_a_request_whose_shard_is_used_up_may_try_only_shards_with_room() -> None:
    limits = quotas.effective({"book_per_owner": 10})  # shares 2, 2, 1, 1, 1, 1, 1, 1
    shards = [quotas.counter("book_per_owner", "coach", limits, 0, s) for s in range(8)]
    room = quotas.with_room(shards, [2, 1, 1, 0, 5, 1, 1, 1])
    assert [s.doc_id[-1] for s in room] == ["1", "3"]
    assert quotas.with_room(shards, [2, 2, 1, 1, 1, 1, 1, 1]) == []  # the whole limit passed
