"""Refresh tokens live in Secret Manager only: never in Firestore, logs or any response."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import Stack
from tests.drivers import connect_google_account, owner_api
from tests.integration.helpers import firestore_docs, google, make_owner


def test_refresh_tokens_appear_in_no_document_log_or_response(
    stack: Stack, capfd: pytest.CaptureFixture[str]
) -> None:
    g = google(stack)
    g.create_account("leak@gmail.test", "Leak Test")
    g.create_account("leak2@gmail.test", "Leak Test 2")
    key = make_owner("leaky")
    responses: list[requests.Response] = [
        connect_google_account(stack.base_url, key, stack.google_url, "leak@gmail.test"),
        connect_google_account(stack.base_url, key, stack.google_url, "leak@gmail.test"),
        connect_google_account(stack.base_url, key, stack.google_url, "leak2@gmail.test"),
    ]
    view = owner_api(stack.base_url, key, "GET", "/connections")
    responses.append(view)
    conn_ids = [c["id"] for c in view.json()["connections"]]
    responses.append(owner_api(stack.base_url, key, "POST", f"/connections/{conn_ids[0]}/refresh"))
    g.revoke_account("leak2@gmail.test")
    g.expire_access_tokens()
    responses.append(owner_api(stack.base_url, key, "POST", f"/connections/{conn_ids[1]}/refresh"))
    responses.append(owner_api(stack.base_url, key, "DELETE", f"/connections/{conn_ids[0]}"))

    issued = stack.google.issued_refresh_tokens()
    assert len(issued) >= 3
    documents = repr(firestore_docs())
    logs = capfd.readouterr()
    bodies = [r.text + repr(dict(r.headers)) for r in responses]
    mails = repr(stack.sendgrid.messages())
    for token in issued:
        assert token not in documents
        assert token not in logs.out and token not in logs.err
        assert all(token not in body for body in bodies)
        assert token not in mails
