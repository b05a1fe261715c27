"""What each Cloud Function's code can reach, read from the source (no import, no run).

A call graph over functions/: nodes are top-level functions and classes of each module of ours;
an edge is any reference to another (a call, or a function passed along such as
`google_access.use(owner, conn, google_calendar.calendar_list, now)`), through the module's
imports wherever they sit (the entry points import lazily inside functions). From each entry
point of main.py the reachable nodes tell what that function may need:
  - `X.need("attr")` and `.function_url(...)`: the environment variables of booking.config;
  - references to signing_keys.SESSIONS / LINKS / OAUTH / CHANNELS: the keyrings it reads;
  - calls into adapters.secrets (other than signing_keys' own keyring reads): refresh tokens,
    `read` for get, `write` for the rest;
  - clients.firestore / clients.sendgrid: Firestore, SendGrid.
Module-level tables count as nodes, and a ("booking.module", "name") pair of strings as a
reference (the outbox's handlers are imported by name). It over-approximates (a branch never
taken still counts) and never under-approximates for code written in this style: calls go
through module aliases, names imported from our modules, or such pairs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
KEYRING_CONSTANTS = {"SESSIONS": "sessions", "LINKS": "links", "OAUTH": "oauth",
                     "CHANNELS": "channels"}
REFRESH_READ = {"get"}
REFRESH_WRITE = {"add_version", "destroy_older_versions", "forget_version", "put", "delete"}

Node = tuple[str, str]  # (module, top-level name)


@dataclass
class Needs:
    settings: set[str] = field(default_factory=set)  # Settings attributes
    keyrings: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)  # "read", "write"
    firestore: bool = False
    sendgrid: bool = False


def _module_file(module: str) -> Path | None:
    base = FUNCTIONS / module.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


@dataclass
class _Module:
    name: str
    tree: ast.Module
    defs: dict[str, ast.AST]
    aliases: dict[str, str]  # local name -> module
    names: dict[str, Node]  # local name -> (module, name) imported from a module of ours


@cache
def _module(name: str) -> _Module | None:
    path = _module_file(name)
    if path is None:
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defs: dict[str, ast.AST] = {
        n.name: n for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    for n in tree.body:  # module-level tables (handler maps) are nodes too
        targets = n.targets if isinstance(n, ast.Assign) else \
            [n.target] if isinstance(n, ast.AnnAssign) and n.value else []
        for t in targets:
            if isinstance(t, ast.Name):
                defs[t.id] = n
    aliases, names = _imports(tree)
    return _Module(name, tree, defs, aliases, names)


def _imports(tree: ast.AST) -> tuple[dict[str, str], dict[str, Node]]:
    """The local names that imports of our modules bind anywhere under `tree`."""
    aliases: dict[str, str] = {}
    names: dict[str, Node] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in ("booking", "main"):
                    aliases[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split(".")[0] == "booking":
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                if _module_file(sub):
                    aliases[a.asname or a.name] = sub
                else:
                    names[a.asname or a.name] = (node.module, a.name)
    return aliases, names


def _edges_and_marks(node: Node) -> tuple[set[Node], Needs]:
    module = _module(node[0])
    needs = Needs()
    edges: set[Node] = set()
    if module is None or node[1] not in module.defs:
        return edges, needs
    # A function's own imports win over the module's (main.py binds `service` in each entry
    # point to a different module).
    local_aliases, local_names = _imports(module.defs[node[1]])
    aliases = {**module.aliases, **local_aliases}
    imported = {**module.names, **local_names}
    for sub in ast.walk(module.defs[node[1]]):
        target: Node | None = None
        if isinstance(sub, ast.Name):
            if sub.id in module.defs and sub.id != node[1]:
                target = (module.name, sub.id)
            elif sub.id in imported:
                target = imported[sub.id]
            if module.name == "booking.adapters.signing_keys" and sub.id in KEYRING_CONSTANTS:
                needs.keyrings.add(KEYRING_CONSTANTS[sub.id])
        elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and \
                sub.value.id in aliases:
            target = (aliases[sub.value.id], sub.attr)
        elif isinstance(sub, ast.Tuple) and len(sub.elts) == 2 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in sub.elts) \
                and str(sub.elts[0].value).startswith("booking."):  # type: ignore[attr-defined]
            # ("booking.services.x", "handler"): imported by name on first use (outbox).
            target = (str(sub.elts[0].value), str(sub.elts[1].value))  # type: ignore[attr-defined]
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            if sub.func.attr == "need" and sub.args and isinstance(sub.args[0], ast.Constant):
                needs.settings.add(str(sub.args[0].value))
            elif sub.func.attr == "function_url":
                needs.settings.add("base_url")
        if target is None:
            continue
        edges.add(target)
        if target[0] == "booking.adapters.signing_keys" and target[1] in KEYRING_CONSTANTS:
            needs.keyrings.add(KEYRING_CONSTANTS[target[1]])
        if target[0] == "booking.adapters.secrets" and \
                module.name != "booking.adapters.signing_keys":
            if target[1] in REFRESH_READ:
                needs.refresh_tokens.add("read")
            elif target[1] in REFRESH_WRITE:
                needs.refresh_tokens.add("write")
        if target == ("booking.clients", "firestore"):
            needs.firestore = True
        if target == ("booking.clients", "sendgrid"):
            needs.sendgrid = True
    return edges, needs


def _reachable(start: Node) -> Iterator[Node]:
    seen: set[Node] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        yield node
        todo.extend(_edges_and_marks(node)[0] - seen)


def needs_of(entry_point: str) -> Needs:
    """Everything the entry point `entry_point` of functions/main.py may reach."""
    total = Needs()
    for node in _reachable(("main", entry_point)):
        needs = _edges_and_marks(node)[1]
        total.settings |= needs.settings
        total.keyrings |= needs.keyrings
        total.refresh_tokens |= needs.refresh_tokens
        total.firestore |= needs.firestore
        total.sendgrid |= needs.sendgrid
    return total
