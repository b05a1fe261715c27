"""fanout.run_all: independent calls at once, results in order, failures as a loop would."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from booking import fanout

REQUEST = contextvars.ContextVar("request", default="none")


def test_results_keep_task_order_and_tasks_run_together() -> None:
    barrier = threading.Barrier(3, timeout=5)  # breaks unless all three run at once

    def task(i: int) -> int:
        barrier.wait()
        time.sleep(0.01 * (3 - i))  # finish in reverse order
        return i

    assert fanout.run_all([lambda i=i: task(i) for i in range(3)]) == [0, 1, 2]


def test_first_failure_in_task_order_is_raised_after_every_task_finished() -> None:
    finished: list[str] = []

    def slow_ok() -> str:
        time.sleep(0.05)
        finished.append("slow")
        return "ok"

    def fails(message: str) -> str:
        raise ValueError(message)

    with pytest.raises(ValueError, match="first"):
        fanout.run_all([lambda: fails("first"), slow_ok, lambda: fails("second")])
    assert finished == ["slow"]


def test_tasks_see_the_callers_context() -> None:
    token = REQUEST.set("guest-42")
    try:
        assert fanout.run_all([REQUEST.get, REQUEST.get]) == ["guest-42", "guest-42"]
    finally:
        REQUEST.reset(token)


def test_gated_reads_run_beside_the_gate_and_a_refusing_gate_wins() -> None:
    barrier = threading.Barrier(2, timeout=5)  # breaks unless gate and reads run at once

    def gate() -> None:
        barrier.wait()

    def reads() -> str:
        barrier.wait()
        return "read"

    assert fanout.gated(gate, reads) == "read"
    assert fanout.gated(None, lambda: "alone") == "alone"

    def refuse() -> None:
        raise PermissionError("429")

    def missing() -> str:
        raise LookupError("404")

    with pytest.raises(PermissionError):  # the count refuses before a 404 is told
        fanout.gated(refuse, missing)


def test_once_reads_once_for_every_task_that_asks_at_once() -> None:
    reads: list[int] = []
    barrier = threading.Barrier(3, timeout=5)

    def read() -> str:
        reads.append(1)
        time.sleep(0.05)  # the other tasks ask while it is being read
        return "owner"

    shared = fanout.once(read)

    def task() -> str:
        barrier.wait()
        return shared()

    assert fanout.run_all([task, task, task]) == ["owner"] * 3
    assert len(reads) == 1


def test_once_gives_every_asker_the_reads_error() -> None:
    reads: list[int] = []

    def read() -> str:
        reads.append(1)
        raise LookupError("store down")

    shared = fanout.once(read)
    for _ in range(2):
        with pytest.raises(LookupError, match="store down"):
            shared()
    assert len(reads) == 1
