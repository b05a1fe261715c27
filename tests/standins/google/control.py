"""A small HTTP client for the Google stand-in's control API (/_control/...), for tests and the
local run. OAuth-side calls live in control_oauth.py, Calendar-side calls in control_calendar.py.
"""

from __future__ import annotations

from tests.standins.google.control_calendar import CalendarControl
from tests.standins.google.control_oauth import OAuthControl


class GoogleControl(OAuthControl, CalendarControl):
    """`GoogleControl("http://127.0.0.1:PORT")`: drives the stand-in as a user or a test would."""
