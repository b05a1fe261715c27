"""How compute_slots scales with busy time: `python -m bench.availability` from the repo root.

Pure: no I/O but the table it prints. The owner works Mon-Fri 09:00-17:00 in Europe/Ljubljana
and offers 30-minute slots every 15 minutes over 60 days that include the 2026-03-29 clock
change; ten calendars' busy events are drawn with a fixed seed, each calendar sorted as Google
returns it, the calendars one after another. At these densities the union of ten calendars
leaves little of the working week free, so a first row with nobody busy shows what building
the ranges and the ~1,300 slots costs on its own. The baseline is Python's own sorted() over the
same intervals: the pipeline sorts once and then sweeps, so its time should stay a small
multiple of that sort, and ten times the events should cost about ten times as much.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from pathlib import Path

# functions-framework puts functions/ on sys.path in production; do the same here.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "functions"))

from booking.domain.availability import compute_slots, slot_is_offered  # noqa: E402
from booking.domain.intervals import Interval  # noqa: E402
from booking.domain.rules import AvailabilityRules, TimeRange, WeeklyHours  # noqa: E402

SEED = 20260329
CALENDARS = 10
FIRST_DAY = date(2026, 3, 9)
DAYS = 60
NOW = datetime(2026, 3, 8, 12, tzinfo=UTC)
REPEAT_SMALL = 25
REPEAT_LARGE = 11

RULES = AvailabilityRules(
    time_zone="Europe/Ljubljana",
    weekly_hours=WeeklyHours.of({day: [TimeRange(9 * 60, 17 * 60)] for day in range(5)}),
    duration_minutes=30,
    slot_interval_minutes=15,
    buffer_after_minutes=5,
    booking_window_days=90,
)
SPAN = Interval(
    datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC),
    datetime.combine(FIRST_DAY + timedelta(days=DAYS), datetime.min.time(), tzinfo=UTC),
)


def busy_calendars(total: int, seed: int) -> list[Interval]:
    """`total` events over the span in CALENDARS calendars, each calendar sorted by start."""
    rng = random.Random(seed)
    span_minutes = DAYS * 24 * 60
    events: list[Interval] = []
    for _ in range(CALENDARS):
        calendar = []
        for _ in range(total // CALENDARS):
            start = SPAN.start + timedelta(minutes=5 * rng.randrange(span_minutes // 5))
            length = timedelta(minutes=5 * rng.randint(3, 18))  # 15 minutes to an hour and a half
            calendar.append(Interval(start, start + length))
        events.extend(sorted(calendar, key=attrgetter("start")))
    return events


def median_ms(run: Callable[[], object], repeat: int) -> float:
    run()  # warm the zone cache and the allocator before timing
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def slots_for(busy: list[Interval]) -> list[Interval]:
    return compute_slots(RULES, span=SPAN, busy=busy, booked=[], now=NOW)


def main() -> None:
    small = busy_calendars(5_000, SEED)
    large = busy_calendars(50_000, SEED)
    free_slots = slots_for([])
    small_slots = slots_for(small)
    large_slots = slots_for(large)
    probe = small_slots[len(small_slots) // 2].start if small_slots else SPAN.start

    compute_free = median_ms(lambda: slots_for([]), REPEAT_SMALL)
    compute_small = median_ms(lambda: slots_for(small), REPEAT_SMALL)
    sort_small = median_ms(lambda: sorted(small, key=attrgetter("start")), REPEAT_SMALL)
    offered_small = median_ms(
        lambda: slot_is_offered(RULES, probe, busy=small, booked=[], now=NOW), REPEAT_SMALL
    )
    compute_large = median_ms(lambda: slots_for(large), REPEAT_LARGE)
    sort_large = median_ms(lambda: sorted(large, key=attrgetter("start")), REPEAT_LARGE)

    last_day = FIRST_DAY + timedelta(days=DAYS - 1)
    print(
        f"compute_slots: {RULES.time_zone}, Mon-Fri 09:00-17:00, {RULES.duration_minutes}-min"
        f" slots every {RULES.slot_interval_minutes} min, {DAYS} days {FIRST_DAY}..{last_day}"
        f" (DST change 2026-03-29), {CALENDARS} calendars, seed {SEED}"
    )
    rows = [
        ("compute_slots, nobody busy", "0", f"{len(free_slots):,}", compute_free, REPEAT_SMALL),
        ("compute_slots", f"{len(small):,}", f"{len(small_slots):,}", compute_small, REPEAT_SMALL),
        ("sorted(busy, key=start)", f"{len(small):,}", "", sort_small, REPEAT_SMALL),
        ("slot_is_offered (one day)", f"{len(small):,}", "", offered_small, REPEAT_SMALL),
        ("compute_slots", f"{len(large):,}", f"{len(large_slots):,}", compute_large, REPEAT_LARGE),
        ("sorted(busy, key=start)", f"{len(large):,}", "", sort_large, REPEAT_LARGE),
    ]
    print()
    print(f"{'what':<28}{'busy':>8}{'slots':>8}{'median ms':>12}{'runs':>6}")
    print("-" * 62)
    for what, busy, found, ms, runs in rows:
        print(f"{what:<28}{busy:>8}{found:>8}{ms:>12.2f}{runs:>6}")
    print("-" * 62)
    print(f"{'compute / sort at 5,000':<44}{compute_small / sort_small:>12.1f}x")
    print(f"{'compute / sort at 50,000':<44}{compute_large / sort_large:>12.1f}x")
    print(f"{'compute 50,000 / 5,000 (linear = 10)':<44}{compute_large / compute_small:>12.1f}x")


if __name__ == "__main__":
    main()
