"""One deadline for everything a request (or one outbox row) does outside: one object, passed
down explicitly, so calls made side by side (even on other threads) share the same budget.

    budget = Deadline.within(5.0)
    budget.remaining()          # seconds left, never below zero
    budget.timeout(15.0)        # an HTTP timeout that ends with the budget: min(15, remaining)
    budget.child(2.0)           # a sub-budget that ends no later than its parent

A retry loop asks `allows(pause)` before sleeping; an HTTP client gets `timeout(...)`, so one
slow call cannot outlive the guest's patience (or the outbox row's lease).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

MIN_TIMEOUT = 0.2  # a socket timeout of 0 means "non-blocking", never what we want


@dataclass(frozen=True)
class Deadline:
    ends_at: float  # on `clock`'s scale
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def within(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + max(0.0, seconds), clock)

    def remaining(self) -> float:
        return max(0.0, self.ends_at - self.clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def allows(self, pause: float) -> bool:
        """True if sleeping `pause` seconds still leaves time for another try."""
        return self.clock() + pause < self.ends_at

    def timeout(self, cap: float) -> float:
        return max(MIN_TIMEOUT, min(cap, self.remaining()))

    def child(self, seconds: float) -> Deadline:
        return Deadline(min(self.ends_at, self.clock() + max(0.0, seconds)), self.clock)


def for_request() -> Deadline:
    """The one deadline of a person's request (live free/busy, the first try of the Google
    event and the emails, HTTP timeouts included): REQUEST_DEADLINE_SECONDS, 10 s by default.
    The public functions' timeout (60 s in infra/functions.tf, checked against the largest
    allowed value by tests/unit/test_infra_consistency.py) leaves ample room to answer after
    it, so a committed booking is always answered, never cut off."""
    from booking.config import get_settings

    return Deadline.within(get_settings().request_deadline_seconds)
