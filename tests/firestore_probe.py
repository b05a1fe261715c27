"""Counts the Firestore RPCs this process makes, with when each started and ended, so tests and
benches can tell how many a request waited for one after another (its critical path) without
timing it.

    probe = FirestoreProbe.install()     # the next Firestore client built records its RPCs
    mark = probe.mark()
    ...                                  # a request served in this process
    calls = probe.calls(mark, "/book")   # [{"method", "started", "at", "path"}] of that function
    round_trips(calls)                   # tests.integration.helpers: the longest chain

It wraps the emulator's gRPC channel (google-cloud-firestore builds it in
`BaseClient._emulator_channel`) with a client interceptor: a unary call ends when its answer
arrives, a streamed one (RunQuery, BatchGetDocuments) when the server closes the stream. Each
call is tagged with the path of the HTTP request it served (Flask's request context is a context
variable, and booking.fanout runs tasks in a copy of it), so the calls of pushes handled beside
a request are told apart from the request's own.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import grpc


class _Recorder(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(self, probe: FirestoreProbe) -> None:
        self.probe = probe

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        started, path = time.perf_counter(), _request_path()
        self.probe.wait()
        outcome = continuation(details, request)  # a blocking channel: answered by now
        self.probe.record(details.method, path, started, time.perf_counter())
        return outcome

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        started, path = time.perf_counter(), _request_path()
        self.probe.wait()
        stream = continuation(details, request)
        # Ends when the server closes the stream, whether or not the caller read it all (a
        # single document's get reads one message of BatchGetDocuments).
        stream.add_done_callback(
            lambda _: self.probe.record(details.method, path, started, time.perf_counter()))
        return stream


def _request_path() -> str | None:
    import flask

    if not flask.has_request_context():
        return None
    return flask.request.script_root + flask.request.path


class FirestoreProbe:
    _installed: FirestoreProbe | None = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[dict[str, Any]] = []
        # Seconds added to every RPC (as Firestore's network would): calls made at once then
        # visibly overlap even if a thread starts a little late on a busy machine.
        self.latency = 0.0

    def wait(self) -> None:
        if self.latency:
            time.sleep(self.latency)

    @classmethod
    def install(cls) -> FirestoreProbe:
        """Patches the emulator channel (once per process) and forgets the cached Firestore
        client, so the next one is built with the recorder."""
        from google.cloud.firestore_v1 import base_client

        from booking import clients

        if cls._installed is None:
            probe = cls()
            original = base_client.BaseClient._emulator_channel

            def channel(self: Any, transport: Any) -> Any:
                return grpc.intercept_channel(original(self, transport), _Recorder(probe))

            base_client.BaseClient._emulator_channel = channel  # type: ignore[method-assign]
            cls._installed = probe
        with clients._lock:
            clients._cache.pop("firestore", None)
        return cls._installed

    def record(self, method: str, path: str | None, started: float, ended: float) -> None:
        with self._lock:
            self._calls.append({"method": method.rsplit("/", 1)[-1], "path": path,
                                "started": started, "at": ended})

    def mark(self) -> int:
        with self._lock:
            return len(self._calls)

    def calls(self, since: int = 0, path: str | None = None,
              until: int | None = None) -> list[dict[str, Any]]:
        """The calls recorded since a mark; with `path`, those made serving a request to a URL
        path starting with it ("/book")."""
        with self._lock:
            found = list(self._calls[since:until])
        if path is None:
            return found
        return [c for c in found if c["path"] and c["path"].startswith(path)]
