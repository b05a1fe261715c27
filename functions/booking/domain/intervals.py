"""Half-open UTC intervals and the linear sweeps availability is built from.

Every function takes and returns lists sorted by start; each states whether it also needs its
input merged (no two intervals overlap or touch). Sorting happens once, in `normalise`; the rest
are two-pointer sweeps, so a pipeline of them costs O(n log n) for the sort and O(n) after it.

Worked example, in hours of one day (the docstrings below use the same shorthand, ``[9, 12)``
for ``Interval(09:00Z, 12:00Z)``)::

    working = [9, 12), [13, 17)
    busy    = normalise([[11, 14), [10, 11), [16, 16:30)])   -> [10, 14), [16, 16:30)
    subtract(working, busy)                                  -> [9, 10), [14, 16), [16:30, 17)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter

__all__ = ["Interval", "intersect", "normalise", "subtract", "widen"]

_ZERO = timedelta(0)
_by_start = attrgetter("start")


@dataclass(frozen=True, slots=True)
class Interval:
    """The instants ``start <= t < end``; both aware, in UTC (``tzinfo=datetime.UTC``), start < end.

    UTC only, because adding a duration to a datetime in a zone with DST is wall-clock arithmetic
    (Python keeps the tzinfo and does not re-resolve the offset): 01:30 + 1 h across a
    spring-forward night would be an instant that is two real hours later.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is not UTC or self.end.tzinfo is not UTC:
            raise ValueError(
                f"interval bounds must be aware UTC datetimes, got {self.start!r}, {self.end!r}"
            )
        if not self.start < self.end:
            raise ValueError(f"interval must start before it ends, got {self.start} .. {self.end}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        """True when the two share an instant; ``[9, 10)`` and ``[10, 11)`` only touch."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


def normalise(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort by start and merge intervals that overlap or touch.

    ``[[13, 14), [9, 10), [10, 11), [9:30, 9:45)]`` -> ``[[9, 11), [13, 14)]``
    """
    return _merge_sorted(sorted(intervals, key=_by_start))


def _merge_sorted(intervals: Sequence[Interval]) -> list[Interval]:
    # Intervals that survive unchanged are reused rather than rebuilt: with thousands of busy
    # events most do, and object construction dominates a sweep this simple.
    merged: list[Interval] = []
    if not intervals:
        return merged
    current = intervals[0]
    end = current.end
    for interval in intervals[1:]:
        if interval.start <= end:
            if interval.end > end:
                end = interval.end
            continue
        merged.append(current if end == current.end else Interval(current.start, end))
        current = interval
        end = interval.end
    merged.append(current if end == current.end else Interval(current.start, end))
    return merged


def subtract(free: Sequence[Interval], busy: Sequence[Interval]) -> list[Interval]:
    """The parts of `free` that no interval of `busy` covers.

    `free` is sorted and non-overlapping (touching is fine, and each of its intervals yields
    its own pieces, so ``[9, 12), [12, 17)`` stays split at 12); `busy` is sorted and merged.
    The pieces come out sorted, each inside one interval of `free`.

    ``subtract([[9, 12), [12, 17)], [[11, 13)])`` -> ``[[9, 11), [13, 17)]``

    Two pointers: a busy interval is passed over once for every free interval it reaches into,
    so the cost is O(len(free) + len(busy)) when busy intervals rarely span many free ones.
    """
    pieces: list[Interval] = []
    first = 0
    for window in free:
        while first < len(busy) and busy[first].end <= window.start:
            first += 1
        cursor = window.start
        index = first
        while index < len(busy) and busy[index].start < window.end:
            blocker = busy[index]
            if blocker.start > cursor:
                pieces.append(Interval(cursor, blocker.start))
            if blocker.end >= window.end:
                cursor = window.end
                break
            # Merged input guarantees blocker.end > cursor here, so the cursor only moves on.
            cursor = blocker.end
            index += 1
        if cursor < window.end:
            pieces.append(window if cursor == window.start else Interval(cursor, window.end))
    return pieces


def intersect(left: Sequence[Interval], right: Sequence[Interval]) -> list[Interval]:
    """The instants in both; each side sorted and non-overlapping.

    ``intersect([[9, 12), [13, 17)], [[11, 14)])`` -> ``[[11, 12), [13, 14)]``
    """
    common: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        a, b = left[i], right[j]
        start = max(a.start, b.start)
        end = min(a.end, b.end)
        if start < end:
            common.append(Interval(start, end))
        # The one that ends first can meet nothing further on the other side.
        if a.end <= b.end:
            i += 1
        else:
            j += 1
    return common


def widen(intervals: Sequence[Interval], before: timedelta, after: timedelta) -> list[Interval]:
    """Each interval grown by `before` at its start and `after` at its end, then merged.

    `intervals` is sorted by start (overlaps allowed); growing every start by the same amount
    keeps that order, so the merge needs no second sort.

    ``widen([[10, 11), [11:20, 12)], before=15 min, after=10 min)`` -> ``[[9:45, 12:10)]``
    (11:10 reaches past 11:05, so the two become one).
    """
    if before < _ZERO or after < _ZERO:
        raise ValueError(f"widen takes non-negative amounts, got before={before}, after={after}")
    if before == _ZERO and after == _ZERO:
        return _merge_sorted(intervals)
    return _merge_sorted([Interval(i.start - before, i.end + after) for i in intervals])
