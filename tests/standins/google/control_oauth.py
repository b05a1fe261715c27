"""Control calls for the OAuth half of the Google stand-in (see oauth.py for what they do)."""

from __future__ import annotations

from typing import Any

from tests.standins.google.control_base import ControlBase


class OAuthControl(ControlBase):
    def create_account(
        self, email: str, name: str | None = None, time_zone: str = "UTC"
    ) -> dict[str, Any]:
        """A Google account whose primary calendar (id = email) it owns; returns it with `sub`."""
        body: dict[str, Any] = {"email": email, "time_zone": time_zone}
        if name is not None:
            body["name"] = name
        account: dict[str, Any] = self._call("POST", "/accounts", json=body)
        return account

    def accounts(self) -> list[dict[str, Any]]:
        accounts: list[dict[str, Any]] = self._call("GET", "/accounts")
        return accounts

    def revoke_account(self, email: str) -> list[str]:
        """The user removes every app at myaccount.google.com/permissions; returns client ids."""
        result = self._call("POST", f"/accounts/{email}/revoke")
        return list(result["revoked_clients"])

    def grants(self) -> list[dict[str, Any]]:
        """Every (account, client) consent: scopes and how many refresh tokens still live."""
        grants: list[dict[str, Any]] = self._call("GET", "/grants")
        return grants

    def set_client_testing(self, client_id: str, testing: bool = True) -> None:
        """Consent screen in "Testing": refresh tokens with API scopes die after 7 days."""
        self._call("POST", f"/clients/{client_id}/testing", json={"testing": testing})

    def expire_access_tokens(self) -> int:
        """Every live access token expires now (forces the product to refresh)."""
        return int(self._call("POST", "/tokens/expire_access")["expired"])

    def set_token_latency(self, seconds: float) -> None:
        """The token endpoint waits this long before answering (0 = at once)."""
        self._call("POST", "/tokens/latency", json={"seconds": seconds})

    def advance_clock(self, seconds: float) -> float:
        """Moves the stand-in's clock forward; returns its new epoch time."""
        return float(self._call("POST", "/clock", json={"advance_seconds": seconds})["now"])

    def consent(
        self,
        auth_url: str,
        email: str,
        granted_scopes: list[str] | None = None,
        deny: bool = False,
    ) -> str:
        """Clicks through the consent pages as `email`; returns where Google sends the browser.

        `granted_scopes`: the boxes left ticked (None = all); sign-in scopes are always granted.
        """
        body = {
            "auth_url": auth_url,
            "email": email,
            "granted_scopes": granted_scopes,
            "deny": deny,
        }
        return str(self._call("POST", "/consent", json=body)["redirect"])
