"""The owner function's route tables: the first pattern that fits names the resource, its rows
name the methods it takes, and an id is checked before any handler runs."""

from __future__ import annotations

import pytest
from flask import Request, Response
from werkzeug.test import EnvironBuilder

from booking.errors import MethodNotAllowed, NotFound
from booking.i18n import say
from booking.web.routes import Table


def _handler(name: str):  # type: ignore[no-untyped-def]
    def run(request: Request, context: str, args: dict[str, str]) -> Response:
        return Response(f"{name} {context} {sorted(args.items())}")
    return run


TABLE: Table[str] = Table([
    ("GET", r"/event-types/new", _handler("form")),
    ("GET", r"/event-types/(?P<slug>[^/]+)", _handler("show")),
    ("PUT", r"/event-types/(?P<slug>[^/]+)", _handler("replace")),
], id_kinds={"slug": ("event_type", "no such event type")}, missing="no such resource")


def _call(method: str, path: str) -> str:
    request = Request(EnvironBuilder(method=method, path=path).get_environ())
    return TABLE.dispatch(request, "mia", path).get_data(as_text=True)


def test_the_first_pattern_that_fits_wins_so_new_is_no_slug() -> None:
    assert _call("GET", "/event-types/new") == "form mia []"
    assert _call("GET", "/event-types/intro") == "show mia [('slug', 'intro')]"
    assert _call("PUT", "/event-types/intro") == "replace mia [('slug', 'intro')]"
    with pytest.raises(MethodNotAllowed, match="use GET"):
        _call("PUT", "/event-types/new")  # the form is not an event type called "new"


def test_a_method_the_resource_does_not_take_is_named_in_a_405() -> None:
    with pytest.raises(MethodNotAllowed) as refused:
        _call("DELETE", "/event-types/intro")
    assert refused.value.message == "use GET or PUT"
    # A message id like every other refusal: the reader's language wherever one is known.
    assert say("sl", refused.value.message) == "uporabite GET ali PUT"
    assert say("sl", MethodNotAllowed("DELETE", "GET", "PUT").message) \
        == "uporabite DELETE, GET ali PUT"
    assert MethodNotAllowed("POST").message == "use POST"


def test_a_malformed_id_is_a_404_before_any_method_check() -> None:
    for path in ("/event-types/__x__", "/event-types/.."):
        with pytest.raises(NotFound, match="no such event type"):
            _call("DELETE", path)
    with pytest.raises(NotFound, match="no such resource"):
        _call("GET", "/event-types/intro/extra")


def test_a_group_without_an_id_kind_is_refused_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="booking"):
        Table([("GET", r"/b/(?P<booking>[^/]+)", _handler("x"))], id_kinds={}, missing="-")
