"""Fixtures shared by the Calendar stand-in's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.standins.google.control import GoogleControl
from tests.standins.server import StandinServer


@pytest.fixture(autouse=True)
def standin(google_server: StandinServer) -> Iterator[Any]:
    """A wiped stand-in; the test fails if its traffic broke calendar.v3.json."""
    google_server.app.reset()
    yield google_server.app
    violations = google_server.app.schema_violations()
    google_server.app.reset()
    assert not violations, "\n".join(violations)


@pytest.fixture
def control(google_server: StandinServer) -> GoogleControl:
    return GoogleControl(google_server.url)
