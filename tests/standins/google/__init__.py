"""A local stand-in for Google's OAuth 2.0 and Calendar API v3 (see app.py)."""

from tests.standins.google.app import GoogleStandin

__all__ = ["GoogleStandin"]
