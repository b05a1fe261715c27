"""Independent outside calls of one request, made at once: the request waits for the slowest
call, not for the sum of them (one free/busy query per Google account, say).

Each call gets its own short-lived pool, bounded by MAX_PARALLEL, so nothing outlives the
request or is shared with another one. The request's `Deadline` is an argument of each task, so
all of them share one budget; tasks also run in a copy of the caller's context.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")

# Threads per fan-out. Google answers each account separately, so 8 covers almost every owner
# in one round trip; bench/ sets 1 to measure the old one-after-another path.
MAX_PARALLEL = 8


def run_all(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Every task's result, in order. The first failure in task order is raised, as a loop
    would have raised it, but only once every task has finished: none is left running."""
    if len(tasks) <= 1 or MAX_PARALLEL <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=min(len(tasks), MAX_PARALLEL),
                            thread_name_prefix="fanout") as pool:
        futures = [pool.submit(contextvars.copy_context().run, task) for task in tasks]
        wait(futures)
    return [future.result() for future in futures]


def gated(gate: Callable[[], None] | None, reads: Callable[[], T]) -> T:
    """`reads` while `gate` (an abuse-limit count) runs: the request waits for the slower of
    the two, not for both. The gate's failure is raised first, so a refused request is refused
    as before; `reads` must only read (nothing written, no Google call) until the gate passed."""
    if gate is None:
        return reads()
    _, result = run_all([gate, reads])
    return result  # type: ignore[return-value]


def once(read: Callable[[], T]) -> Callable[[], T]:
    """`read` made at most once however many tasks of a request ask: the first to ask makes it,
    the others wait for its result, or its error. For a read two tasks at once both need (a
    guest's request: the owner, for the abuse count and for the answer)."""
    lock = threading.Lock()
    done: list[tuple[bool, Any]] = []

    def get() -> T:
        with lock:
            if not done:
                try:
                    done.append((True, read()))
                except Exception as exc:  # noqa: BLE001 - every asker gets it
                    done.append((False, exc))
        ok, value = done[0]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    return get
