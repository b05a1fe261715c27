"""A local Secret Manager v1 stand-in speaking the REST surface of google-cloud-secret-manager.

Point the real client at it with
`SecretManagerServiceClient(credentials=AnonymousCredentials(), transport="rest",
client_options={"api_endpoint": url})`. Paths, bodies and error shapes are Google's (see
secretmanager_v1/.../transports/rest_base.py for the URL templates); only global secrets
(`projects/*/secrets/*`) are served, not regional ones (`projects/*/locations/*/...`).

Behaviour copied from the real service, with the evidence:
- "latest" names the most recently *created* version whatever its state, so accessing it when the
  newest version is disabled or destroyed fails with 400 FAILED_PRECONDITION; it does not fall
  back to an older enabled version (AccessSecretVersionRequest docs: "an alias to the most recently
  created SecretVersion"; observed errors in google-github-actions/get-secretmanager-secrets#268
  and external-secrets/external-secrets#4042).
- A secret with no versions answers "latest" with 404 "Secret [...] not found or has no versions."
  (gcloud's output quoted in public code).
- A disabled or destroyed version answers access with 400 FAILED_PRECONDITION
  "Secret Version [...] is in DISABLED state." / "... DESTROYED state." (same issues). DESTROYED is
  terminal: enable, disable and destroy on it are FAILED_PRECONDITION too.
- Bad secret id: 400 INVALID_ARGUMENT "The provided Secret ID [x] does not match the expected
  format [[a-zA-Z_0-9]+]" (a production sample kept in googleapis/google-cloud-rust), although
  hyphens are accepted, as the product documentation says.
- Payload: empty is 400 "Secret Payload cannot be empty"; over 65536 bytes is 400 "Secret payload
  data length must be at most [65536] bytes." (both quoted from real runs in public code/issues).
- ETags: optional `etag` on enable/disable/destroy/delete; a mismatch is 400 FAILED_PRECONDITION
  and every modification, even a no-op, gives the resource a new etag (Secret Manager's ETag page).

Over REST the Python client picks the exception class from the HTTP status alone
(google.api_core.exceptions.from_http_status): 400 raises `BadRequest`, never `InvalidArgument` or
`FailedPrecondition`, and 409 raises `Conflict`, never `AlreadyExists`. The gRPC status travels
in the body's `error.status`, which callers read from `exc.response.json()`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeGuard

from werkzeug.wrappers import Request, Response

MAX_PAYLOAD_BYTES = 65536
_SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
_STATES = {"ENABLED": 1, "DISABLED": 2, "DESTROYED": 3}
_HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "UNIMPLEMENTED": 501,
}


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as Secret Manager reports it: crc32c(b"123456789") == 0xE3069283.

    Written out because google-crc32c is not among the pinned packages.
    """
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class ApiError(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = _HTTP_STATUS[status]


@dataclass
class _Version:
    number: int
    create_time: str
    payload: bytes
    crc32c: int
    client_checksum: bool
    etag: str
    state: str = "ENABLED"
    destroy_time: str | None = None


@dataclass
class _Secret:
    name: str
    create_time: str
    replication: dict[str, Any]
    labels: dict[str, str]
    annotations: dict[str, str]
    etag: str
    versions: list[_Version] = field(default_factory=list)


@dataclass(frozen=True)
class LoggedRequest:
    """One call as the stand-in understood it: `action` is the RPC name, `name` the resource."""

    method: str
    path: str
    action: str
    name: str
    status: int


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _etag() -> str:
    return f'"{secrets.token_hex(7)}"'


_Handler = Callable[["SecretManagerStandin", Request, dict[str, str]], tuple[int, dict[str, Any]]]
_SECRETS = r"/v1/projects/(?P<project>[^/:]+)/secrets"
_SECRET = _SECRETS + r"/(?P<secret>[^/:]+)"
_VERSION = _SECRET + r"/versions/(?P<version>[^/:]+)"


class SecretManagerStandin:
    """Secret Manager v1 over REST, in memory, thread-safe; a WSGI app.

    `requests` logs every call in order (tests assert what was deleted or read); `reset()` wipes
    secrets and log alike.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: dict[str, _Secret] = {}
        self.requests: list[LoggedRequest] = []

    # --- helpers for tests -------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._secrets.clear()
            self.requests.clear()

    def secret_names(self) -> list[str]:
        """Full resource names of the live secrets, e.g. `projects/p/secrets/s`, sorted."""
        with self._lock:
            return sorted(self._secrets)

    def live_version_count(self, secret: str) -> int:
        """Versions of `secret` not destroyed (enabled or disabled).

        `secret` is a full name (`projects/p/secrets/s`, as `secret_names()` gives) or a bare id,
        which must then name exactly one live secret across projects.
        """
        with self._lock:
            if "/" in secret:
                found = [self._secrets[secret]] if secret in self._secrets else []
            else:
                found = [s for n, s in self._secrets.items() if n.rsplit("/", 1)[1] == secret]
            if len(found) != 1:
                raise KeyError(f"{len(found)} secrets match {secret!r}")
            return sum(v.state != "DESTROYED" for v in found[0].versions)

    def put(self, project: str, secret_id: str, data: bytes) -> str:
        """Create the secret if missing, add `data` as a new enabled version; its name returned."""
        with self._lock:
            name = f"projects/{project}/secrets/{secret_id}"
            if name not in self._secrets:
                self._secrets[name] = _Secret(name, _now(), {"automatic": {}}, {}, {}, _etag())
            version = self._add_version(self._secrets[name], data, None)
            return f"{name}/versions/{version.number}"

    # --- WSGI ----------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        status, body, action, name = self._dispatch(request)
        with self._lock:
            self.requests.append(LoggedRequest(request.method, request.path, action, name, status))
        response = Response(json.dumps(body), status=status, content_type="application/json")
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> tuple[int, dict[str, Any], str, str]:
        for method, pattern, action, handler in _ROUTES:
            match = re.fullmatch(pattern, request.path)
            if match is None or request.method != method:
                continue
            params = match.groupdict()
            name = _resource_name(params)
            try:
                with self._lock:
                    status, body = handler(self, request, params)
            except ApiError as exc:
                status = exc.code
                body = {"error": {"code": exc.code, "message": exc.message, "status": exc.status}}
            return status, body, action, name
        message = f"The stand-in serves no {request.method} {request.path}."
        return 404, {"error": {"code": 404, "message": message, "status": "NOT_FOUND"}}, "", ""

    # --- resources -----------------------------------------------------------------------------

    def _secret(self, params: dict[str, str], *, for_latest: bool = False) -> _Secret:
        name = f"projects/{params['project']}/secrets/{params['secret']}"
        found = self._secrets.get(name)
        if found is None:
            suffix = " or has no versions" if for_latest else ""
            raise ApiError("NOT_FOUND", f"Secret [{name}] not found{suffix}.")
        return found

    def _version(self, params: dict[str, str]) -> tuple[_Secret, _Version]:
        latest = params["version"] == "latest"
        secret = self._secret(params, for_latest=latest)
        if latest:
            if not secret.versions:
                raise ApiError("NOT_FOUND", f"Secret [{secret.name}] not found or has no versions.")
            return secret, secret.versions[-1]
        number = params["version"]
        if number.isdigit() and 1 <= int(number) <= len(secret.versions):
            return secret, secret.versions[int(number) - 1]
        raise ApiError("NOT_FOUND", f"Secret Version [{secret.name}/versions/{number}] not found.")

    def _add_version(self, secret: _Secret, data: bytes, claimed_crc: int | None) -> _Version:
        if not data:
            raise ApiError("INVALID_ARGUMENT", "Secret Payload cannot be empty")
        if len(data) > MAX_PAYLOAD_BYTES:
            raise ApiError(
                "INVALID_ARGUMENT",
                f"Secret payload data length must be at most [{MAX_PAYLOAD_BYTES}] bytes.",
            )
        actual = crc32c(data)
        if claimed_crc is not None and claimed_crc != actual:
            # Wording unverified; the status is what matters to callers.
            raise ApiError(
                "INVALID_ARGUMENT",
                "The data_crc32c supplied with the payload does not match the payload's CRC32C.",
            )
        version = _Version(
            len(secret.versions) + 1, _now(), data, actual, claimed_crc is not None, _etag()
        )
        secret.versions.append(version)
        return version

    # --- handlers (called with the lock held) --------------------------------------------------

    def _create_secret(
        self, request: Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        secret_id = request.args.get("secretId", "")
        if not _SECRET_ID.fullmatch(secret_id):
            raise ApiError(
                "INVALID_ARGUMENT",
                f"The provided Secret ID [{secret_id}] does not match the expected format "
                "[[a-zA-Z_0-9]+]",
            )
        body = _json_body(request)
        replication = body.get("replication")
        if not _valid_replication(replication):
            # Wording unverified: Secret.replication is a required field of the v1 proto.
            raise ApiError("INVALID_ARGUMENT", "Secret.replication is required.")
        name = f"projects/{params['project']}/secrets/{secret_id}"
        if name in self._secrets:
            raise ApiError("ALREADY_EXISTS", f"Secret [{name}] already exists.")
        secret = _Secret(
            name,
            _now(),
            replication,
            dict(body.get("labels") or {}),
            dict(body.get("annotations") or {}),
            _etag(),
        )
        self._secrets[name] = secret
        return 200, _secret_json(secret)

    def _get_secret(self, request: Request, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        return 200, _secret_json(self._secret(params))

    def _delete_secret(
        self, request: Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        secret = self._secret(params)
        _check_etag(request.args.get("etag"), secret.etag)
        del self._secrets[secret.name]
        return 200, {}

    def _list_secrets(self, request: Request, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        _refuse_filter(request)
        prefix = f"projects/{params['project']}/secrets/"
        found = [s for name, s in sorted(self._secrets.items()) if name.startswith(prefix)]
        page, token = _page(request, found)
        return 200, _drop_empty(
            {
                "secrets": [_secret_json(s) for s in page],
                "nextPageToken": token,
                "totalSize": len(found),
            }
        )

    def _add_secret_version(
        self, request: Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        secret = self._secret(params)
        payload = _json_body(request).get("payload") or {}
        data = _decode_bytes(payload.get("data", ""))
        claimed = payload.get("dataCrc32c")
        try:
            claimed_crc = None if claimed is None else int(claimed)
        except (TypeError, ValueError) as exc:
            raise ApiError("INVALID_ARGUMENT", "payload.dataCrc32c is not an int64.") from exc
        version = self._add_version(secret, data, claimed_crc)
        return 200, _version_json(secret, version, _enum_ints(request))

    def _list_versions(
        self, request: Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        _refuse_filter(request)
        secret = self._secret(params)
        # Newest first, as gcloud lists them (order of the API itself unverified).
        ordered = list(reversed(secret.versions))
        page, token = _page(request, ordered)
        ints = _enum_ints(request)
        return 200, _drop_empty(
            {
                "versions": [_version_json(secret, v, ints) for v in page],
                "nextPageToken": token,
                "totalSize": len(ordered),
            }
        )

    def _get_version(self, request: Request, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        secret, version = self._version(params)
        return 200, _version_json(secret, version, _enum_ints(request))

    def _access_version(
        self, request: Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        secret, version = self._version(params)
        name = f"{secret.name}/versions/{version.number}"
        if version.state != "ENABLED":
            raise ApiError(
                "FAILED_PRECONDITION", f"Secret Version [{name}] is in {version.state} state."
            )
        return 200, {
            "name": name,
            "payload": {
                "data": base64.b64encode(version.payload).decode(),
                "dataCrc32c": str(version.crc32c),
            },
        }

    def _set_state(
        self, request: Request, params: dict[str, str], state: str
    ) -> tuple[int, dict[str, Any]]:
        secret, version = self._version(params)
        name = f"{secret.name}/versions/{version.number}"
        if version.state == "DESTROYED":
            raise ApiError("FAILED_PRECONDITION", f"Secret Version [{name}] is in DESTROYED state.")
        _check_etag(_json_body(request).get("etag"), version.etag)
        version.state = state
        version.etag = _etag()
        if state == "DESTROYED":
            version.payload = b""
            version.destroy_time = _now()
        return 200, _version_json(secret, version, _enum_ints(request))

    def _enable(self, request: Request, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        return self._set_state(request, params, "ENABLED")

    def _disable(self, request: Request, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        return self._set_state(request, params, "DISABLED")

    def _destroy(self, request: Request, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        return self._set_state(request, params, "DESTROYED")

    def _unimplemented(
        self, request: Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        raise ApiError(
            "UNIMPLEMENTED", "The Secret Manager stand-in does not implement this method."
        )


_ROUTES: list[tuple[str, str, str, _Handler]] = [
    ("POST", _SECRETS, "CreateSecret", SecretManagerStandin._create_secret),
    ("GET", _SECRETS, "ListSecrets", SecretManagerStandin._list_secrets),
    ("GET", _SECRET, "GetSecret", SecretManagerStandin._get_secret),
    ("DELETE", _SECRET, "DeleteSecret", SecretManagerStandin._delete_secret),
    ("PATCH", _SECRET, "UpdateSecret", SecretManagerStandin._unimplemented),
    ("POST", _SECRET + ":addVersion", "AddSecretVersion", SecretManagerStandin._add_secret_version),
    ("GET", _SECRET + "/versions", "ListSecretVersions", SecretManagerStandin._list_versions),
    ("GET", _VERSION, "GetSecretVersion", SecretManagerStandin._get_version),
    ("GET", _VERSION + ":access", "AccessSecretVersion", SecretManagerStandin._access_version),
    ("POST", _VERSION + ":enable", "EnableSecretVersion", SecretManagerStandin._enable),
    ("POST", _VERSION + ":disable", "DisableSecretVersion", SecretManagerStandin._disable),
    ("POST", _VERSION + ":destroy", "DestroySecretVersion", SecretManagerStandin._destroy),
]


def _resource_name(params: dict[str, str]) -> str:
    name = f"projects/{params['project']}"
    if "secret" in params:
        name += f"/secrets/{params['secret']}"
    if "version" in params:
        name += f"/versions/{params['version']}"
    return name


def _json_body(request: Request) -> dict[str, Any]:
    raw = request.get_data()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError("INVALID_ARGUMENT", "Invalid JSON payload received.") from exc
    if not isinstance(body, dict):
        raise ApiError("INVALID_ARGUMENT", "Invalid JSON payload received.")
    return body


def _decode_bytes(value: object) -> bytes:
    # Proto3 JSON bytes: standard or URL-safe base64, padding optional.
    if not isinstance(value, str):
        raise ApiError("INVALID_ARGUMENT", "payload.data must be a base64 string.")
    text = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError("INVALID_ARGUMENT", "payload.data is not valid base64.") from exc


def _valid_replication(replication: object) -> TypeGuard[dict[str, Any]]:
    if not isinstance(replication, dict) or len(replication) != 1:
        return False
    if "automatic" in replication:
        return isinstance(replication["automatic"], dict)
    managed = replication.get("userManaged")
    return (
        isinstance(managed, dict)
        and isinstance(managed.get("replicas"), list)
        and bool(managed["replicas"])
        and all(isinstance(r, dict) and r.get("location") for r in managed["replicas"])
    )


def _check_etag(given: object, current: str) -> None:
    if given and given != current:
        raise ApiError("FAILED_PRECONDITION", f"The etag provided [{given}] does not match.")


def _refuse_filter(request: Request) -> None:
    # Loud rather than silently unfiltered: a caller relying on a filter must learn it is ignored.
    if request.args.get("filter"):
        raise ApiError("UNIMPLEMENTED", "The Secret Manager stand-in does not support filter.")


def _page(request: Request, items: list[Any]) -> tuple[list[Any], str]:
    size = int(request.args.get("pageSize") or 0) or 25000
    start = int(request.args.get("pageToken") or 0)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else "")


def _enum_ints(request: Request) -> bool:
    # The client asks `$alt=json;enum-encoding=int`; Google then writes enums as numbers.
    return "enum-encoding=int" in request.args.get("$alt", "")


def _drop_empty(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v not in ("", [], None)}


def _secret_json(secret: _Secret) -> dict[str, Any]:
    return _drop_empty(
        {
            "name": secret.name,
            "replication": secret.replication,
            "createTime": secret.create_time,
            "labels": secret.labels or None,
            "annotations": secret.annotations or None,
            "etag": secret.etag,
        }
    )


def _version_json(secret: _Secret, version: _Version, enum_ints: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"{secret.name}/versions/{version.number}",
        "createTime": version.create_time,
        "state": _STATES[version.state] if enum_ints else version.state,
        "replicationStatus": _replication_status(secret.replication),
        "etag": version.etag,
        "clientSpecifiedPayloadChecksum": version.client_checksum,
    }
    if version.destroy_time is not None:
        body["destroyTime"] = version.destroy_time
    return body


def _replication_status(replication: dict[str, Any]) -> dict[str, Any]:
    if "automatic" in replication:
        return {"automatic": {}}
    replicas = replication["userManaged"]["replicas"]
    return {"userManaged": {"replicas": [{"location": r["location"]} for r in replicas]}}
