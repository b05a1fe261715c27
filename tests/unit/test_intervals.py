"""Interval sweeps, checked on examples and against a model: sets of whole minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain.intervals import Interval, intersect, normalise, subtract, widen

BASE = datetime(2026, 6, 1, tzinfo=UTC)
PROPERTIES = settings(max_examples=300, deadline=None, database=None)


def at(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


def iv(start: int, end: int) -> Interval:
    return Interval(at(start), at(end))


def h(hours: float) -> int:
    return round(hours * 60)


def minutes(intervals: list[Interval]) -> set[int]:
    """The model: the whole minutes an interval list covers."""
    covered: set[int] = set()
    for interval in intervals:
        first = (interval.start - BASE) // timedelta(minutes=1)
        last = (interval.end - BASE) // timedelta(minutes=1)
        covered.update(range(first, last))
    return covered


def assert_sorted_and_merged(intervals: list[Interval]) -> None:
    for earlier, later in zip(intervals, intervals[1:], strict=False):
        assert earlier.end < later.start, f"{earlier} and {later} overlap or touch"


raw_intervals = st.lists(
    st.tuples(st.integers(0, 300), st.integers(1, 120)).map(lambda p: iv(p[0], p[0] + p[1])),
    max_size=25,
)


@st.composite
def split_free(draw: st.DrawFn) -> list[Interval]:
    """Sorted, non-overlapping intervals, some of them touching (as working ranges may)."""
    merged = normalise(draw(raw_intervals))
    pieces: list[Interval] = []
    for interval in merged:
        length = (interval.end - interval.start) // timedelta(minutes=1)
        cut = draw(st.integers(0, length - 1))
        if cut:
            middle = interval.start + timedelta(minutes=cut)
            pieces += [Interval(interval.start, middle), Interval(middle, interval.end)]
        else:
            pieces.append(interval)
    return pieces


# --- Interval ------------------------------------------------------------------------------


def test_interval_rejects_naive_bounds() -> None:
    with pytest.raises(ValueError, match="aware UTC"):
        Interval(datetime(2026, 6, 1, 9), at(60))
    with pytest.raises(ValueError, match="aware UTC"):
        Interval(at(0), datetime(2026, 6, 1, 11))


@pytest.mark.parametrize(
    "zone",
    [ZoneInfo("UTC"), ZoneInfo("Europe/London"), timezone(timedelta(hours=1))],
    ids=["zoneinfo-utc", "london-in-summer", "fixed-plus-one"],
)
def test_interval_rejects_other_tzinfo_even_at_offset_zero(zone: ZoneInfo | timezone) -> None:
    with pytest.raises(ValueError, match="aware UTC"):
        Interval(datetime(2026, 1, 1, 9, tzinfo=zone), datetime(2026, 1, 1, 10, tzinfo=UTC))


@pytest.mark.parametrize(("start", "end"), [(60, 60), (61, 60)])
def test_interval_must_start_before_it_ends(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="start before it ends"):
        iv(start, end)


def test_interval_accepts_fixed_offset_zero_from_isoformat() -> None:
    parsed = datetime.fromisoformat("2026-06-01T09:00:00+00:00")
    assert Interval(parsed, parsed + timedelta(hours=1)).duration == timedelta(hours=1)


def test_touching_intervals_do_not_overlap() -> None:
    assert not iv(0, 60).overlaps(iv(60, 120))
    assert not iv(60, 120).overlaps(iv(0, 60))
    assert iv(0, 61).overlaps(iv(60, 120))
    assert iv(60, 120).overlaps(iv(0, 61))


def test_contains_includes_both_edges() -> None:
    assert iv(0, 60).contains(iv(0, 60))
    assert iv(0, 60).contains(iv(10, 20))
    assert not iv(0, 60).contains(iv(10, 61))
    assert not iv(10, 60).contains(iv(9, 20))


# --- normalise -----------------------------------------------------------------------------


def test_normalise_docstring_example() -> None:
    given_ = [iv(h(13), h(14)), iv(h(9), h(10)), iv(h(10), h(11)), iv(h(9.5), h(9.75))]
    assert normalise(given_) == [iv(h(9), h(11)), iv(h(13), h(14))]


def test_normalise_of_nothing_is_nothing() -> None:
    assert normalise([]) == []


def test_normalise_keeps_a_longer_interval_that_swallows_later_ones() -> None:
    assert normalise([iv(0, 100), iv(10, 20), iv(30, 40)]) == [iv(0, 100)]


def test_normalise_reuses_intervals_that_need_no_merge() -> None:
    first, second = iv(0, 10), iv(20, 30)
    merged = normalise([second, first])
    assert merged[0] is first and merged[1] is second


@PROPERTIES
@given(raw_intervals)
def test_normalise_covers_the_same_minutes_sorted_and_merged(intervals: list[Interval]) -> None:
    merged = normalise(intervals)
    assert minutes(merged) == minutes(intervals)
    assert_sorted_and_merged(merged)


# --- subtract ------------------------------------------------------------------------------


def test_subtract_module_example() -> None:
    working = [iv(h(9), h(12)), iv(h(13), h(17))]
    busy = normalise([iv(h(11), h(14)), iv(h(10), h(11)), iv(h(16), h(16.5))])
    assert busy == [iv(h(10), h(14)), iv(h(16), h(16.5))]
    assert subtract(working, busy) == [
        iv(h(9), h(10)),
        iv(h(14), h(16)),
        iv(h(16.5), h(17)),
    ]


def test_subtract_keeps_touching_free_intervals_apart() -> None:
    free = [iv(h(9), h(12)), iv(h(12), h(17))]
    assert subtract(free, [iv(h(11), h(13))]) == [iv(h(9), h(11)), iv(h(13), h(17))]
    assert subtract(free, []) == free


def test_subtract_busy_spanning_several_free_intervals() -> None:
    free = [iv(0, 10), iv(20, 30), iv(40, 50), iv(60, 70)]
    assert subtract(free, [iv(5, 65)]) == [iv(0, 5), iv(65, 70)]


def test_subtract_busy_exactly_covering_a_free_interval() -> None:
    assert subtract([iv(0, 10), iv(20, 30)], [iv(0, 10)]) == [iv(20, 30)]


@PROPERTIES
@given(split_free(), raw_intervals)
def test_subtract_removes_exactly_the_busy_minutes(
    free: list[Interval], raw_busy: list[Interval]
) -> None:
    busy = normalise(raw_busy)
    pieces = subtract(free, busy)
    assert minutes(pieces) == minutes(free) - minutes(busy)
    for earlier, later in zip(pieces, pieces[1:], strict=False):
        assert earlier.end <= later.start
    for piece in pieces:
        homes = [window for window in free if window.contains(piece)]
        assert len(homes) == 1, f"{piece} should lie in exactly one free interval"
        # Maximal: a piece ends at a busy start or its window's end, never in open free time.
        assert piece.end == homes[0].end or any(b.start == piece.end for b in busy)
        assert piece.start == homes[0].start or any(b.end == piece.start for b in busy)


# --- intersect -----------------------------------------------------------------------------


def test_intersect_docstring_example() -> None:
    assert intersect([iv(h(9), h(12)), iv(h(13), h(17))], [iv(h(11), h(14))]) == [
        iv(h(11), h(12)),
        iv(h(13), h(14)),
    ]


def test_intersect_with_nothing_is_nothing() -> None:
    assert intersect([iv(0, 10)], []) == []
    assert intersect([], [iv(0, 10)]) == []


def test_intersect_touching_only_is_empty() -> None:
    assert intersect([iv(0, 10)], [iv(10, 20)]) == []


@PROPERTIES
@given(split_free(), split_free())
def test_intersect_keeps_exactly_the_common_minutes(
    left: list[Interval], right: list[Interval]
) -> None:
    common = intersect(left, right)
    assert minutes(common) == minutes(left) & minutes(right)
    for earlier, later in zip(common, common[1:], strict=False):
        assert earlier.end <= later.start


# --- widen ---------------------------------------------------------------------------------


def test_widen_docstring_example() -> None:
    widened = widen(
        [iv(h(10), h(11)), iv(h(11) + 20, h(12))],
        before=timedelta(minutes=15),
        after=timedelta(minutes=10),
    )
    assert widened == [iv(h(9.75), h(12) + 10)]


def test_widen_by_nothing_still_merges() -> None:
    assert widen([iv(0, 10), iv(5, 20), iv(20, 30), iv(40, 50)], timedelta(0), timedelta(0)) == [
        iv(0, 30),
        iv(40, 50),
    ]


@pytest.mark.parametrize(("before", "after"), [(-1, 0), (0, -1)])
def test_widen_refuses_to_shrink(before: int, after: int) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        widen([iv(0, 60)], timedelta(minutes=before), timedelta(minutes=after))


@PROPERTIES
@given(raw_intervals, st.integers(0, 90), st.integers(0, 90))
def test_widen_equals_normalising_the_grown_intervals(
    intervals: list[Interval], before: int, after: int
) -> None:
    ordered = sorted(intervals, key=lambda i: i.start)
    grown = [
        Interval(i.start - timedelta(minutes=before), i.end + timedelta(minutes=after))
        for i in ordered
    ]
    widened = widen(ordered, timedelta(minutes=before), timedelta(minutes=after))
    assert widened == normalise(grown)
    assert_sorted_and_merged(widened)
