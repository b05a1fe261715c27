"""What the e2e tests share: a document that stands for another local run's data."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from tests.standins.firestore_emulator import free_port

LOCAL_PROJECT = "demo-booking-local"  # the project a first run keeps its data in


def _doc_url(host: str, doc: str) -> str:
    return (f"http://{host}/v1/projects/{LOCAL_PROJECT}/databases/(default)/documents/"
            f"owners/{doc}")


@pytest.fixture
def first_runs_owner(firestore_host: str) -> Iterator[str]:
    """A document the first run owns, written straight into the emulator over REST."""
    doc = f"first-run-{free_port()}"
    body = json.dumps({"fields": {"name": {"stringValue": "First run's owner"}}}).encode()
    req = urllib.request.Request(_doc_url(firestore_host, doc), data=body, method="PATCH",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    yield doc
    urllib.request.urlopen(urllib.request.Request(_doc_url(firestore_host, doc),
                                                  method="DELETE"), timeout=10).read()


def still_there(host: str, doc: str) -> bool:
    with urllib.request.urlopen(_doc_url(host, doc), timeout=10) as resp:
        return "First run's owner" in resp.read().decode()
