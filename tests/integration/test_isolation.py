"""Two tests' data never meet: whichever of these runs second would see the first one's writes
(Firestore documents, secrets, emails, Google accounts) if the harness did not wipe them."""

from __future__ import annotations

import pytest

from tests.conftest import MAIL_FROM, Stack
from tests.integration.helpers import firestore_docs, google, make_owner


def _nothing_left_over(stack: Stack) -> None:
    assert not [path for path, _ in firestore_docs() if path.startswith("owners/")]
    assert not [n for n in stack.secret_manager.secret_names() if "isolation" in n]
    assert stack.sendgrid.messages() == []
    assert google(stack).accounts() == []


def _leave_traces(stack: Stack, tag: str) -> None:
    from booking.adapters import secrets as secret_store

    make_owner(f"isolation-{tag}")
    secret_store.put(f"isolation-{tag}", "value")
    google(stack).create_account(f"{tag}@isolation.test")
    from sendgrid import SendGridAPIClient
    from sendgrid.helpers.mail import Mail

    SendGridAPIClient("SG.test-key", host=stack.sendgrid_url).send(Mail(
        from_email=MAIL_FROM, to_emails="b@example.test", subject=tag,
        plain_text_content="x"))
    assert len(stack.sendgrid.messages()) == 1


@pytest.mark.parametrize("tag", ["first", "second"])
def test_each_test_starts_from_empty_services(stack: Stack, tag: str) -> None:
    _nothing_left_over(stack)
    _leave_traces(stack, tag)
