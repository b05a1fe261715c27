"""Serves every Cloud Function of functions/main.py on one port, each under its own name, the way
Cloud Functions URLs look: http://127.0.0.1:8080/availability, /book, /owner/integrations, ...
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

MAIN = Path(__file__).resolve().parent.parent / "functions" / "main.py"


def function_names(main: Path = MAIN) -> list[str]:
    """The entry points: top-level functions decorated with functions_framework.http."""
    tree = ast.parse(main.read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(
            ast.unparse(d).endswith("functions_framework.http") for d in node.decorator_list
        ):
            names.append(node.name)
    return names


def create_host(main: Path = MAIN, extra: dict[str, Any] | None = None) -> Any:
    """`extra` mounts more WSGI apps beside the functions (the local run's demo page)."""
    import functions_framework

    apps = {f"/{name}": _root_path(functions_framework.create_app(name, str(main)))
            for name in function_names(main)}
    return DispatcherMiddleware(NotFound(), {**apps, **(extra or {})})


def _root_path(app: Any) -> Any:
    """Cloud Functions hands `/name` to the function as path `/`; so do we (the dispatcher
    would leave it empty and Flask would answer with a redirect)."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("PATH_INFO"):
            environ["PATH_INFO"] = "/"
        return app(environ, start_response)

    return wsgi
