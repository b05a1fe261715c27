"""Routes as tables: the one way the owner function routes, its pages and its JSON API alike.

A table is rows of (method, path pattern, handler). The first pattern that fits a path names
the resource, and the rows with that same pattern are the methods it takes (any other is a 405
naming them), so ``/event-types/new`` listed before ``/event-types/(?P<slug>[^/]+)`` is never
read as a slug. Each named group is an id, checked against its kind (booking.domain.ids) before
it names a document; a malformed id is a 404, as an unknown one is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Generic, TypeVar

from flask import Request, Response

from booking.domain import ids
from booking.domain.problems import Problem
from booking.errors import MethodNotAllowed, NotFound

# What a path no table row fits gets (a message id: it reads in the reader's language).
NO_PAGE = Problem("page.not_found", "no such page")

C = TypeVar("C")
Handler = Callable[[Request, C, dict[str, str]], Response]


class Table(Generic[C]):
    def __init__(self, rows: Sequence[tuple[str, str, Handler[C]]],
                 id_kinds: Mapping[str, tuple[str, str]], missing: str) -> None:
        """`id_kinds` maps each group name to (its kind in booking.domain.ids, what the 404
        says); `missing` is what a path no row fits gets."""
        self.rows = [(method, re.compile(pattern), handler) for method, pattern, handler in rows]
        self.id_kinds = id_kinds
        self.missing = missing
        unknown = {name for _, pattern, _ in self.rows for name in pattern.groupindex
                   if name not in id_kinds}
        if unknown:
            raise ValueError(f"route groups without an id kind: {sorted(unknown)}")

    def match(self, path: str) -> tuple[dict[str, Handler[C]], dict[str, str]]:
        """The handler of each method the resource at `path` takes, and its ids, checked."""
        found: dict[str, Handler[C]] = {}
        args: dict[str, str] = {}
        first: re.Pattern[str] | None = None
        for method, pattern, handler in self.rows:
            fits = pattern.fullmatch(path)
            if fits and first in (None, pattern):
                first, args = pattern, fits.groupdict()
                found.setdefault(method, handler)
        for name, value in args.items():
            kind, message = self.id_kinds[name]
            if not ids.valid(kind, value):
                raise NotFound(message)
        return found, args

    def dispatch(self, request: Request, context: C, path: str) -> Response:
        found, args = self.match(path)
        if not found:
            raise NotFound(self.missing)
        handler = found.get(request.method)
        if handler is None:
            raise MethodNotAllowed(*sorted(found))
        return handler(request, context, args)
