"""The shape of every id that names a Firestore document, checked before it names one.

Firestore refuses ids with a slash, `.` and `..`, and `__x__`; an id that reaches it
unchecked is a 500, and one with a slash names a document in another collection. Each pattern
below is what we mint, so anything else is refused at the edge:

    >>> valid("owner", "coach-ana"), valid("owner", "a/b"), valid("booking", "__x__")
    (True, False, False)
"""

from __future__ import annotations

import re

from booking.domain.problems import Problem

PATTERNS = {
    "owner": re.compile(r"[a-z0-9][a-z0-9-]{2,39}"),
    "event_type": re.compile(r"[a-z0-9][a-z0-9-]{0,62}"),
    "booking": re.compile(r"[0-9a-f]{32}"),
    # "g" + Google's account `sub`: digits today, up to 255 characters by OpenID Connect.
    "connection": re.compile(r"g[0-9A-Za-z_-]{1,255}"),
    "channel": re.compile(r"[0-9a-f]{32}"),
    "api_key": re.compile(r"[0-9a-f]{8}"),  # a key's id, never the key (owners._new_key)
}

HINTS = {
    "owner": Problem("id.hint.owner", "3-40 lowercase letters, digits or dashes"),
    "event_type": Problem("id.hint.event_type", "1-63 lowercase letters, digits or dashes"),
    "booking": Problem("id.hint.hex32", "32 hexadecimal digits"),
    "connection": Problem("id.hint.connection", "g followed by the Google account id"),
    "channel": Problem("id.hint.hex32", "32 hexadecimal digits"),
    "api_key": Problem("id.hint.hex8", "8 hexadecimal digits"),
}


def valid(kind: str, value: object) -> bool:
    """Whether `value` is an id of `kind`; fullmatch, so a trailing newline is refused too."""
    return isinstance(value, str) and PATTERNS[kind].fullmatch(value) is not None


def problem(kind: str) -> Problem:
    return Problem("id.invalid", "is not a valid id (%(hint)s)", hint=HINTS[kind])
