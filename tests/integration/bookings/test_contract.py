"""The published contract (functions/openapi.yaml), fuzzed against the running functions.

Schemathesis generates requests from the document, valid ones and invalid ones, for every
operation; each answer must be no 5xx, a status, content type, headers and body the document
lists, and a 4xx must change nothing in Firestore (nor send mail). Bounded in examples and
wall time so the whole run costs tens of seconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ROOT, Stack

CONTRACT = ROOT / "functions" / "openapi.yaml"
EXAMPLES = 6  # per operation and mode: 23 operations x 2 modes, about 40 s in all
BUDGET_SECONDS = 120.0  # a guard: alone on CI the fuzzing takes about 40 s
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# Written on every request by design (the abuse limits' counters), so not "stored".
COUNTERS = ("rate_limits",)
# The fuzzer may revoke its own key: `POST /owner/api/keys {"replace_all": true}` revokes every
# other key, `DELETE /owner/api/keys/{id}` one (should it hit the id). Both are fuzzed like
# everything else; after each, a key that stopped working is replaced by a new one made
# through the owners service (as `scripts.owner rotate-key` would), and the fuzzing goes on.
KEY_CHANGES = ("POST /owner/api/keys", "DELETE /owner/api/keys/{key_id}")


def _working_key(stack: Stack, key: str, owner_id: str = "mia") -> str:
    """`key` if it still opens the owner API, else a new key of that owner."""
    from datetime import UTC, datetime

    from booking.adapters import firestore_owners
    from booking.services import owners

    resp = requests.get(f"{stack.base_url}/owner/api/keys", timeout=30,
                        headers={"Authorization": f"Bearer {key}"})
    if resp.status_code == 200:
        return key
    assert resp.status_code == 401, resp.text
    auth = owners.Authenticated(firestore_owners.get_owner(owner_id), "fuzzer")
    return str(owners.create_key(auth, datetime.now(UTC))["api_key"])


def _state(stack: Stack) -> list[tuple[str, str]]:
    """Every document but the counters, which are not even read: they grow with each request.
    Google's pushes (after a 2xx changed a calendar) land first, as they would have anyway."""
    from booking import clients
    from tests.standins.google.calendar_push import flush_push

    assert flush_push(stack.google.state)

    found: list[tuple[str, str]] = []

    def walk(collection: Any) -> None:
        for snap in collection.stream():
            found.append((snap.reference.path, repr(snap.to_dict())))
            for sub in snap.reference.collections():
                walk(sub)

    for col in clients.firestore().collections():
        if col.id not in COUNTERS:
            walk(col)
    return sorted(found)


def test_the_contract_is_served_by_the_owner_function(stack: Stack) -> None:
    resp = requests.get(f"{stack.base_url}/owner/openapi.yaml", timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/yaml")
    assert resp.content == Path(CONTRACT).read_bytes()


def test_fuzzed_requests_get_no_5xx_conform_and_store_nothing_on_4xx(
        stack: Stack, owner_key: str) -> None:
    schema = schemathesis.openapi.from_path(str(CONTRACT))
    auth = {"Authorization": f"Bearer {owner_key}"}
    keys_lost = [0]
    deadline = time.monotonic() + BUDGET_SECONDS
    answers: list[tuple[str, int]] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    state: list[Any] = [_state(stack), len(stack.sendgrid.messages())]

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if time.monotonic() > deadline:
                pytest.fail(f"the fuzzer ran past {BUDGET_SECONDS} s at {operation.label}")
            began = time.monotonic()

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                # Each request from its own address, as many guests would: the abuse limits
                # are the flood test's business, not the contract's.
                client = f"10.0.{len(answers) // 250}.{len(answers) % 250}"
                response = case.call(base_url=stack.base_url, timeout=30, allow_redirects=False,
                                     headers={**auth, "X-Forwarded-For": client})
                case.validate_response(response, checks=CHECKS)
                label = f"{case.method} {case.operation.path}"
                answers.append((label, response.status_code))
                if label in KEY_CHANGES and response.status_code < 300:
                    key = auth["Authorization"].removeprefix("Bearer ")
                    fresh = _working_key(stack, key)
                    keys_lost[0] += fresh != key
                    auth["Authorization"] = f"Bearer {fresh}"
                # Requests run one at a time, so the state after the last one is the state
                # before this one: one read of Firestore per request.
                after = _state(stack)
                if 400 <= response.status_code < 500:
                    assert after == state[0], f"{case.method} {case.path} stored on a 4xx"
                    assert len(stack.sendgrid.messages()) == state[1]
                state[:] = [after, len(stack.sendgrid.messages())]

            try:
                run()
            except Unsatisfiable:
                # Nothing in the operation can be made invalid (no parameters, no body).
                assert mode is GenerationMode.NEGATIVE, operation.label
            print(f"{operation.label} {mode}: {time.monotonic() - began:.1f} s")
    # The fuzzer reached past validation: many operations answered something else than a 400.
    reached = {label for label, status in answers if status != 400}
    assert len(reached) >= 15, sorted(set(answers))
    # The key operations were reached (a new key was made) and the run survived any rotation.
    assert ("POST /owner/api/keys", 201) in answers, sorted(set(answers))
    print(f"keys lost to the fuzzer and replaced: {keys_lost[0]}")
