"""Secret Manager: refresh tokens (one secret per Google connection) and our signing keyrings.

Nothing else in the product sees a refresh token's value: this adapter stores it and
google_credentials.py reads it back. SDK errors become ours here.
"""

from __future__ import annotations

from booking import clients
from booking.config import get_settings
from booking.errors import PermanentError, TransientError


def _project_path() -> str:
    return f"projects/{get_settings().project_id}"


def _translate(exc: Exception, what: str) -> Exception:
    # The REST transport picks the exception class from the HTTP status alone (a 400
    # FAILED_PRECONDITION arrives as BadRequest), so the status code is what we go by.
    status = int(getattr(exc, "code", 0) or 0)
    if 400 <= status < 500 and status not in (408, 429):
        return PermanentError("secret_manager", f"{what}: {type(exc).__name__}", status)
    return TransientError("secret_manager", f"{what}: {type(exc).__name__}", status or None)


def add_version(secret_id: str, value: str) -> str:
    """Stores `value` as the newest version of `secret_id` (created if needed); returns the
    version's name. Older versions stay until destroy_older_versions."""
    from google.api_core import exceptions as gexc

    client = clients.secret_manager()
    parent = _project_path()
    try:
        client.create_secret(
            request={
                "parent": parent,
                "secret_id": secret_id,
                "secret": {"replication": {"automatic": {}}},
            }
        )
    except gexc.Conflict:  # 409 ALREADY_EXISTS: a reconnect adds a version to it
        pass
    except gexc.GoogleAPICallError as exc:
        raise _translate(exc, "create secret") from exc
    try:
        version = client.add_secret_version(
            request={"parent": f"{parent}/secrets/{secret_id}",
                     "payload": {"data": value.encode()}}
        )
    except gexc.GoogleAPICallError as exc:
        raise _translate(exc, "add secret version") from exc
    return str(version.name)


def destroy_older_versions(secret_id: str, keep: str) -> None:
    """Destroys every live version but `keep`, so a replaced refresh token does not linger."""
    from google.api_core import exceptions as gexc

    client = clients.secret_manager()
    try:
        for old in client.list_secret_versions(
                request={"parent": f"{_project_path()}/secrets/{secret_id}"}):
            # 1 = ENABLED, 2 = DISABLED in the v1 enum.
            if old.name != keep and int(old.state) in (1, 2):
                client.destroy_secret_version(request={"name": old.name})
    except gexc.GoogleAPICallError as exc:
        raise _translate(exc, "destroy old secret versions") from exc


def forget_version(secret_id: str, version: str, *, delete_secret: bool) -> None:
    """Undoes add_version after a later step failed: the secret goes if it was new, else only
    the version (the older one stays in use). Best effort: it runs while another error is on
    its way up."""
    from google.api_core import exceptions as gexc

    try:
        if delete_secret:
            delete(secret_id)
        else:
            clients.secret_manager().destroy_secret_version(request={"name": version})
    except (gexc.GoogleAPICallError, PermanentError, TransientError):
        pass


def put(secret_id: str, value: str) -> str:
    """add_version, then destroy_older_versions: the secret holds `value` alone."""
    version = add_version(secret_id, value)
    destroy_older_versions(secret_id, version)
    return version


def get(secret_id: str, version: str = "latest") -> str:
    from google.api_core import exceptions as gexc

    name = f"{_project_path()}/secrets/{secret_id}/versions/{version}"
    try:
        resp = clients.secret_manager().access_secret_version(request={"name": name})
    except gexc.GoogleAPICallError as exc:
        raise _translate(exc, "access secret") from exc
    return bytes(resp.payload.data).decode()


def delete(secret_id: str) -> None:
    """Deletes the secret and all its versions; an already deleted one is fine."""
    from google.api_core import exceptions as gexc

    try:
        clients.secret_manager().delete_secret(
            request={"name": f"{_project_path()}/secrets/{secret_id}"}
        )
    except gexc.NotFound:  # deleted already: the outcome we want
        return
    except gexc.GoogleAPICallError as exc:
        raise _translate(exc, "delete secret") from exc
