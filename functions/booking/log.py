"""Structured JSON log lines that Cloud Logging reads (`severity`, `message`, plus fields).

Fields whose name suggests a credential are never written, whatever a caller passes.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

_SECRET_WORDS = ("token", "secret", "password", "api_key", "authorization", "code_verifier")


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        key: "[redacted]" if any(word in key.lower() for word in _SECRET_WORDS) else value
        for key, value in fields.items()
    }


def log(severity: str, message: str, **fields: Any) -> None:
    entry = {"severity": severity, "message": message, **_clean(fields)}
    print(json.dumps(entry, default=str), file=sys.stderr, flush=True)


def info(message: str, **fields: Any) -> None:
    log("INFO", message, **fields)


def warning(message: str, **fields: Any) -> None:
    log("WARNING", message, **fields)


def error(message: str, exc: BaseException | None = None, **fields: Any) -> None:
    if exc is not None:
        fields["exception"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    log("ERROR", message, **fields)
