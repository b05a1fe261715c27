"""Signing keys: one keyring per purpose, created and rotated by the setup command
(`python -m scripts.keys`), with a key id in what they sign and a grace period for the previous
key. Driven through HTTP; the rotation is the operator's command, run as in production."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import Stack
from tests.drivers import owner_browser
from tests.integration.helpers import make_owner


@pytest.fixture
def fresh_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Instances whose keyring cache has expired (it lasts five minutes in production)."""
    from booking.adapters import signing_keys

    monkeypatch.setattr(signing_keys, "CACHE_SECONDS", 0)


def _api(stack: Stack, cookies: dict[str, str]) -> int:
    return requests.get(f"{stack.base_url}/owner/api/connections", cookies=cookies,
                        timeout=30).status_code


def test_each_purpose_has_its_own_keyring_made_by_the_setup_command(stack: Stack) -> None:
    from scripts import keys

    names = {n.rsplit("/", 1)[-1] for n in stack.secret_manager.secret_names()}
    assert {"booking-key-sessions", "booking-key-links", "booking-key-oauth",
            "booking-key-channels"} <= names
    assert "link-signing-key" not in names
    assert keys.create_missing() == []  # idempotent: a second run changes nothing


def test_a_rotated_session_key_keeps_old_sessions_for_the_grace_and_then_ends_them(
        stack: Stack, fresh_caches: None) -> None:
    from scripts import keys

    key = make_owner("coach")
    before = dict(owner_browser(stack.base_url, key).cookies)
    old_kid = before["owner_session"].split(".")[0]
    new_kid = keys.rotate("sessions", grace_hours=1)
    assert new_kid != old_kid
    assert _api(stack, before) == 200  # within the grace period
    after = dict(owner_browser(stack.base_url, key).cookies)
    assert after["owner_session"].split(".")[0] == new_kid
    keys.rotate("sessions", grace_hours=0)  # a leak: no grace
    assert _api(stack, before) == 401
    assert _api(stack, after) == 401
    assert _api(stack, dict(owner_browser(stack.base_url, key).cookies)) == 200


def test_a_key_of_one_purpose_signs_nothing_of_another(stack: Stack) -> None:
    from booking.adapters import signing_keys
    from booking.domain import tokens

    key = make_owner("coach")
    cookie = dict(owner_browser(stack.base_url, key).cookies)["owner_session"]
    # The same claims signed with the links key under the session purpose: refused.
    claims = tokens.verify(signing_keys.sessions(), "owner_session", cookie, now=0)
    forged = tokens.sign(signing_keys.links(), "owner_session",
                         {k: v for k, v in claims.items() if k != "exp"},
                         expires_at=claims["exp"])
    assert _api(stack, {"owner_session": forged}) == 401
    # A session cookie is no cancel link.
    page = requests.get(f"{stack.base_url}/cancel", params={"token": cookie}, timeout=30)
    assert page.status_code == 404
