"""Lazy, cached clients: built on first use, once per instance, so a function's cold start pays
only for the libraries it touches (nothing is imported or built at module import).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from booking.config import get_settings

if TYPE_CHECKING:
    from google.cloud.firestore import Client as FirestoreClient
    from google.cloud.secretmanager import SecretManagerServiceClient
    from sendgrid import SendGridAPIClient

_lock = threading.RLock()
_cache: dict[str, Any] = {}
_building: dict[str, threading.Lock] = {}


def reset() -> None:
    """Forgets every client and the settings (tests and benches switch environments); cached
    objects that hold connections open (`close_on_reset`) close them."""
    with _lock:
        held = [v for v in _cache.values() if getattr(v, "close_on_reset", False)]
        _cache.clear()
        get_settings.cache_clear()
    for value in held:
        value.close()


def firestore() -> FirestoreClient:
    """The client. Adapters import the library's names from `google.cloud.firestore` alone,
    never from a `firestore_v1` submodule: the first request's reads run in threads
    (booking.fanout), and a submodule imported in one thread while another imports the package
    deadlocks Python's import locks or finds the package half made (a cold instance's 500).
    Importing the package is one lock, so concurrent first imports just wait for each other."""
    with _lock:
        if "firestore" not in _cache:
            from google.cloud import firestore as fs

            settings = get_settings()
            # With FIRESTORE_EMULATOR_HOST set the library talks to the emulator, unauthenticated.
            _cache["firestore"] = fs.Client(project=settings.project_id)
        return _cache["firestore"]  # type: ignore[no-any-return]


def secret_manager() -> SecretManagerServiceClient:
    with _lock:
        if "secret_manager" not in _cache:
            from google.cloud import secretmanager

            settings = get_settings()
            if settings.secret_manager_endpoint:
                from google.auth.credentials import AnonymousCredentials

                _cache["secret_manager"] = secretmanager.SecretManagerServiceClient(
                    credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                    transport="rest",
                    client_options={"api_endpoint": settings.secret_manager_endpoint},
                )
            else:
                _cache["secret_manager"] = secretmanager.SecretManagerServiceClient(
                    transport="rest"
                )
        return _cache["secret_manager"]  # type: ignore[no-any-return]


def sendgrid() -> SendGridAPIClient:
    with _lock:
        if "sendgrid" not in _cache:
            from sendgrid import SendGridAPIClient

            settings = get_settings()
            _cache["sendgrid"] = SendGridAPIClient(
                settings.need("sendgrid_api_key"), host=settings.sendgrid_host
            )
        return _cache["sendgrid"]  # type: ignore[no-any-return]


def cached(name: str, build: Any) -> Any:
    """A per-instance cache for adapters' own objects (credentials, discovery documents).

    Built under a lock of its own name, not the cache's: building the credentials of one
    Google account reads Secret Manager, and the other accounts of the same request must not
    wait for it."""
    with _lock:
        if name in _cache:
            return _cache[name]
        building = _building.setdefault(name, threading.Lock())
    with building:
        with _lock:
            if name in _cache:
                return _cache[name]
        value = build()
        with _lock:
            _cache[name] = value
            _building.pop(name, None)
        return value


def store(name: str, value: Any) -> None:
    """Puts a ready object in the cache (credentials built from a grant just received)."""
    with _lock:
        _cache[name] = value


def cached_for(name: str, seconds: float, build: Any, *, min_age: float | None = None) -> Any:
    """Like `cached`, but rebuilt once older than `seconds` (keys rotate: an instance must not
    keep the old ones forever). With `min_age`, rebuilt now if at least that old (a token named
    a key we have not seen yet), so a flood of made-up key ids cannot hammer the source. Built
    under a lock of its own name, as in `cached`."""

    def fresh(entry: tuple[float, Any] | None) -> bool:
        if entry is None:
            return False
        age = time.monotonic() - entry[0]
        return age < seconds and (min_age is None or age < min_age)

    with _lock:
        entry: tuple[float, Any] | None = _cache.get(name)
        if fresh(entry):
            return entry[1]  # type: ignore[index]
        building = _building.setdefault(name, threading.Lock())
    with building:
        with _lock:
            entry = _cache.get(name)
            # Rebuilt by another thread while this one waited: that is fresh enough.
            if entry is not None and time.monotonic() - entry[0] < (min_age or seconds):
                return entry[1]
        value = build()
        with _lock:
            _cache[name] = (time.monotonic(), value)
        return value
