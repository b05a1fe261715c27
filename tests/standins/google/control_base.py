from __future__ import annotations

from typing import Any

import requests


class ControlBase:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()

    def _call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        resp = self.http.request(
            method, f"{self.base_url}/_control{path}", json=json, params=params or None, timeout=30
        )
        if resp.status_code >= 400:
            raise AssertionError(f"control {method} {path} -> {resp.status_code}: {resp.text}")
        return resp.json() if resp.content else None
