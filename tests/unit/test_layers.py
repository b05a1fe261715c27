"""Imports flow one way (STYLE.md): the web layer reaches services, never adapters; adapters
raise adapter errors (ExternalError, StoreError), never the answers a person reads. Read from
the source, so a new module is checked the day it is written."""

from __future__ import annotations

import ast
from pathlib import Path

from booking import errors

BOOKING = Path(__file__).resolve().parents[2] / "functions" / "booking"


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every `from X import name` and (module, "") of every `import X`,
    wherever it sits (entry points import lazily inside functions)."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
    return found


def _reaches_adapters(path: Path) -> list[str]:
    return [f"{module}.{name}" for module, name in _imports(path)
            if module.startswith("booking.adapters") or (module == "booking" and
                                                         name == "adapters")]


def test_the_web_layer_never_imports_an_adapter() -> None:
    web = sorted((BOOKING / "web").glob("*.py")) + [BOOKING.parent / "main.py"]
    assert len(web) > 5
    assert {p.name: _reaches_adapters(p) for p in web if _reaches_adapters(p)} == {}


def test_the_check_sees_an_adapter_import(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text("def f():\n    from booking.adapters import firestore_bookings\n")
    assert _reaches_adapters(page) == ["booking.adapters.firestore_bookings"]


def test_adapters_raise_adapter_errors_not_user_facing_ones() -> None:
    allowed = {name for name, value in vars(errors).items() if isinstance(value, type) and (
        issubclass(value, errors.ExternalError | errors.StoreError)
        or value is errors.ConfigError)}  # a missing keyring: the operator's error, a 500
    used = {path.name: sorted({name for module, name in _imports(path)
                               if module == "booking.errors"} - allowed)
            for path in sorted((BOOKING / "adapters").glob("*.py"))}
    assert {name: wrong for name, wrong in used.items() if wrong} == {}
