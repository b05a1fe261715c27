"""google_calendar._http: one instance reuses its connections to Google (no new TCP or TLS
handshake per call), and each reuse takes the timeout of the call it serves (the request's
deadline bounds it, issue 12). The Calendar service is built once per instance and shared by
every account: each call still carries its own account's token (issue 17). A real local
HTTP/1.1 server that keeps connections open."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from booking import clients
from booking.adapters import google_calendar
from booking.domain.model import Connection


class _KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    peers: list[int] = []
    authorizations: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.peers.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.authorizations.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def server() -> Iterator[str]:
    clients.reset()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    _KeepAlive.peers = []
    _KeepAlive.authorizations = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    clients.reset()


def test_calls_one_after_another_share_a_connection_with_each_calls_timeout(
        server: str) -> None:
    with google_calendar._http(5.0) as first:
        assert first.request(server)[0].status == 200
    with google_calendar._http(1.5) as second:
        assert second is first
        (connection,) = second.connections.values()
        assert connection.timeout == 1.5 and connection.sock.gettimeout() == 1.5
        assert second.request(server)[0].status == 200
    assert len(_KeepAlive.peers) == 2 and len(set(_KeepAlive.peers)) == 1


def test_calls_at_once_each_get_their_own_client_and_a_failed_call_gives_none_back(
        server: str) -> None:
    with google_calendar._http(5.0) as one, google_calendar._http(5.0) as other:
        assert one is not other
        assert one.request(server)[0].status == 200
    with pytest.raises(RuntimeError), google_calendar._http(5.0) as broken:
        assert broken.request(server)[0].status == 200
        raise RuntimeError("timed out mid-answer")
    assert all(c.sock is None for c in broken.connections.values())  # closed, not kept
    with google_calendar._http(5.0) as later:
        assert later is not broken


def _account(n: int) -> Connection:
    return Connection(id=f"c{n}", email=f"{n}@gmail.test", sub=str(n), status="active",
                      scopes=[], connected_at=datetime(2026, 1, 1, tzinfo=UTC),
                      secret_id=f"secret-{n}", token_version=1)


BODY = {"timeMin": "2026-12-07T00:00:00Z", "timeMax": "2026-12-08T00:00:00Z",
        "items": [{"id": "primary"}]}


def test_one_shared_service_sends_each_accounts_own_token(
        server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"GOOGLE_CLOUD_PROJECT": "p", "GOOGLE_CALENDAR_ENDPOINT": server,
                        "GOOGLE_CLIENT_ID": "id", "GOOGLE_CLIENT_SECRET": "secret"}.items():
        monkeypatch.setenv(name, value)
    clients.reset()
    ada, bob = _account(1), _account(2)
    for conn, token in ((ada, "token-ada"), (bob, "token-bob")):
        google_calendar.use_grant(conn, access_token=token, refresh_token="r", expires_in=3600)
    for conn in (ada, bob, ada):
        google_calendar.call(conn, lambda s: s.freebusy().query(body=BODY), what="freebusy")
    assert _KeepAlive.authorizations == ["Bearer token-ada", "Bearer token-bob",
                                         "Bearer token-ada"]
    # Nothing reaches Google without an account's client, not even unauthenticated.
    with pytest.raises(RuntimeError, match="without its account's HTTP client"):
        google_calendar._calendar().freebusy().query(body=BODY).execute()
    assert len(_KeepAlive.authorizations) == 3
