"""What the store's own errors mean to a person: the one place where an adapter's StoreError
(no such document, exists already, used already, the last one, contention) becomes the
BookingError a page or the API answers with, worded as a message id.

Services wrap each public use case that reads or writes through the Firestore adapters in
`translating`; code that expects a document to be gone (resync, the outbox) catches
`DocumentMissing` itself instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from booking.domain.problems import Problem
from booking.errors import (
    AlreadyExists,
    AlreadyUsed,
    BookingError,
    Conflict,
    Contention,
    DocumentMissing,
    Gone,
    LastOne,
    NotFound,
    StoreError,
    Unavailable,
)

P = ParamSpec("P")
R = TypeVar("R")

MISSING = {
    "owner": Problem("owner.not_found", "no such owner"),
    "connection": Problem("connection.not_found", "no such connection"),
    "api_key": Problem("key.not_found", "no such key"),
    "booking": Problem("booking.not_found", "no such booking"),
    "event_type": Problem("event_type.not_found", "no such event type"),
}
STATE_UNKNOWN = Problem("connect.state.unknown",
                        "this sign-in attempt is unknown; please start again")
STATE_USED = Problem("connect.state.used", "this sign-in link was used already; please start "
                                           "again")
LAST_KEY = Problem("key.last", "this is your only key: create a new one before revoking it")
EXISTS = {
    "owner": Problem("owner.exists", "owner %(id)s exists already"),
    "event_type": Problem("event_type.exists", "an event type with slug %(id)s exists already"),
}
BUSY = Problem("store.busy", "too many changes at once; please try again")


def user_facing(exc: StoreError) -> BookingError:
    if isinstance(exc, DocumentMissing):
        if exc.kind == "oauth_state":
            return Gone(STATE_UNKNOWN)
        return NotFound(MISSING[exc.kind])
    if isinstance(exc, AlreadyUsed):
        return Gone(STATE_USED)
    if isinstance(exc, LastOne):
        return Conflict(LAST_KEY)
    if isinstance(exc, AlreadyExists):
        exists = EXISTS[exc.kind]
        return Conflict(Problem(exists.code, exists.template, id=repr(exc.detail)))
    if isinstance(exc, Contention):
        return Unavailable(BUSY)
    raise exc  # a StoreError this module does not know yet: a bug, answered as one (500)


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except StoreError as exc:
        raise user_facing(exc) from exc


def translating(use_case: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(use_case)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with translated():
            return use_case(*args, **kwargs)

    return run
