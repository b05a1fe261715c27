"""Whether owed work is still owed when its turn comes: decided from the booking as it is now.

Every email and Google write is owed for one version of a booking (its `sequence`, raised by
each reschedule and by the cancellation). At delivery:

    rule "current"  (confirmation, reschedule, reminder, Meet link, conflict warning)
                    owed only while the booking is confirmed at that very sequence: no reminder
                    after a cancellation, no "Confirmed" after "Cancelled", no stale time
    rule "final"    (cancellation) always owed: it is the last word on a booking
    rule "google"   never dropped: a Google write brings the event to the booking's state as
                    it is when the write runs (a create for a booking cancelled meanwhile
                    deletes), so a late or repeated one is harmless and none is ever missing

Since a sequence only grows and a "current" email goes out only at its own sequence, what one
person receives about one booking follows the booking's history; within one sequence, a row
may name rows that must be finished first (`after`: the Meet link after the confirmation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

RULES = ("current", "final", "google")
READS_BOOKING = frozenset({"current"})  # the rules whose verdict depends on the booking
FINISHED = frozenset({"sent", "failed", "dropped"})


def stale_because(rule: str, owed_sequence: int, status: str, sequence: int) -> str | None:
    """None while the work is still owed; otherwise why it is dropped."""
    if rule != "current":
        return None
    if sequence > owed_sequence:
        return f"the booking moved on (sequence {owed_sequence} -> {sequence})"
    if status != "confirmed":
        return f"the booking is {status}"
    return None


def waiting_for(after: Sequence[str], statuses: Mapping[str, str]) -> list[str]:
    """The rows of `after` that exist and are not finished yet."""
    return [row for row in after if row in statuses and statuses[row] not in FINISHED]
