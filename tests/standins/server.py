"""Runs a WSGI app as a real HTTP server on 127.0.0.1 in a background thread.

Every stand-in (Google, Secret Manager, SendGrid) is served this way, in tests and in the local
run, so the real client libraries talk real HTTP to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WSGIApp = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    # One line per request drowns test output and the local run's URLs; errors still print.
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def run_wsgi(self) -> None:
        # One request from its parsed headers to its last byte, whatever happens in between
        # (a caller that hung up makes werkzeug skip the body's close(), so count here).
        counter: StandinServer = self.server.standin  # type: ignore[attr-defined]
        counter._enter()
        try:
            super().run_wsgi()
        finally:
            counter._leave()


class StandinServer:
    """A threaded HTTP server for one WSGI app; `url` has no trailing slash.

    It counts the requests it is still answering (`active`, `wait_idle`): a caller that gave
    up waiting (Google's push timeout, a client's) leaves its request running here, and the
    harness must not wipe the services under it (tests/conftest.py: settle)."""

    def __init__(self, app: WSGIApp, port: int = 0, host: str = "127.0.0.1") -> None:
        self.app = app
        self._active = 0
        self._idle = threading.Condition()
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self._server.standin = self  # type: ignore[attr-defined]
        self.host = host
        self.port: int = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        # A short poll makes stop() quick (shutdown waits for the poll): tests start and stop
        # web hooks often.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"standin-{self.port}", daemon=True,
        )

    def _enter(self) -> None:
        with self._idle:
            self._active += 1

    def _leave(self) -> None:
        with self._idle:
            self._active -= 1
            self._idle.notify_all()

    @property
    def active(self) -> int:
        """Requests being answered now."""
        with self._idle:
            return self._active

    def wait_idle(self, timeout: float) -> bool:
        """Waits until no request is being answered; False if one still is after `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def start(self) -> StandinServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
