"""Cold-start import cost of each Cloud Function, against the libraries it cannot do without.

    python -m bench.coldstart              # every entry point of functions/main.py, 7 runs each
    python -m bench.coldstart -n 3 owner   # fewer runs, one function

How to read it. Each row is one entry point of functions/main.py. The two ms columns are the
median, over N fresh interpreters (cwd functions/, PYTHONPATH=functions, as on Cloud Functions),
of the time spent importing, counted as the child's CPU time: with warm bytecode and file cache,
importing is CPU-bound, so on an idle machine it equals the wall time, and on a busy one (tests
running beside it on two cores) it does not swell while the child waits for a core. The wall
medians are shown too. Interpreter start-up is the same for both sides and left out.

    ours            `import main`, then every import statement that the function's first request
                    can execute: the lazy imports in its body in main.py and, recursively, in
                    every function of ours it may reach (found with ast: its decorators, calls,
                    callbacks and the methods of classes it names, through booking.* modules and
                    their aliases). Both sides of every branch count; `except` clauses do not
                    (a cold start is measured where nothing fails). Importing a booking module
                    runs its top-level imports as Python would. So this is an upper bound on
                    what a successful first request loads.
    libraries only  just the third-party modules that function cannot work without (LIBRARIES
                    below: what it would need in any implementation).
    ratio           ours / libraries only. The target is <= 1.3: our own code, and whatever else
                    we pull in, should cost at most 30% on top of the SDKs we need anyway.

The import statements are found statically, so a function is measured without running it (no
emulator, no network); `--show` prints them. Bytecode is compiled once by a warm-up run first, as
it would be in a deployed image. A child that fails prints an error row and the run exits 1.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from scripts.functions_host import MAIN, function_names

FUNCTIONS_DIR = MAIN.parent
TARGET_RATIO = 1.3
RUNS = 7

_FLASK_WEB = ("functions_framework", "flask")
_OAUTH = ("requests", "google.oauth2.id_token")
_STATE = ("google.cloud.firestore", "google.cloud.secretmanager")
_CALENDAR = ("googleapiclient.discovery",)
_MAIL = ("sendgrid", "jinja2", "icalendar")

# What each function needs in any implementation: HTTP serving, then the SDKs of the services it
# talks to (Firestore for state, Secret Manager for refresh tokens and the signing key, Calendar,
# SendGrid, and Jinja2 / icalendar where it renders pages or invitations).
LIBRARIES: dict[str, tuple[str, ...]] = {
    "oauth_start": (*_FLASK_WEB, *_STATE),
    "oauth_callback": (*_FLASK_WEB, *_OAUTH, *_STATE, *_CALENDAR),
    # The owner cancels and reschedules bookings too: invitations and emails go out from here.
    "owner": (*_FLASK_WEB, *_OAUTH, *_STATE, *_CALENDAR, *_MAIL),
    # A push syncs the calendar: bookings moved or deleted in Google send emails from here.
    "google_notifications": ("functions_framework", *_STATE, *_CALENDAR, *_MAIL),
    # Reminders (signed links, invitations) and the outbox's Google writes run here.
    "resync": ("functions_framework", *_STATE, *_CALENDAR, *_MAIL),
    "availability": ("functions_framework", *_STATE, *_CALENDAR),
    "book": ("functions_framework", *_STATE, *_CALENDAR, *_MAIL),
    "cancel": ("functions_framework", *_STATE, *_CALENDAR, *_MAIL),
    "reschedule": ("functions_framework", *_STATE, *_CALENDAR, *_MAIL),
}

# Runs in the fresh interpreter: executes the statements it is given, prints what it cost.
_CHILD = """\
import json, sys, time
statements = json.loads(sys.argv[1])
namespace = {}
wall, cpu = time.perf_counter(), time.process_time()
for statement in statements:
    exec(statement, namespace)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"cpu_ms": cpu * 1000, "wall_ms": wall * 1000, "modules": len(sys.modules)}))
"""


# --- which import statements a function's first request can run ---------------------------------


@dataclass
class _Module:
    """One of our modules: its top-level functions and classes, and what its names stand for."""

    name: str
    defs: dict[str, ast.AST]  # functions and classes, and module-level variables' values
    aliases: dict[str, tuple[str, str | None]]  # name -> (module, None) or (module, attribute)


@dataclass
class _Walk:
    modules: dict[str, _Module | None] = field(default_factory=dict)
    seen: set[tuple[str, str]] = field(default_factory=set)
    statements: list[str] = field(default_factory=list)


def _source_of(module: str) -> Path | None:
    if module == "main":
        return MAIN
    if module != "booking" and not module.startswith("booking."):
        return None  # not ours: its own top-level imports happen when it is imported
    base = FUNCTIONS_DIR.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _bind(node: ast.Import | ast.ImportFrom) -> dict[str, tuple[str, str | None]]:
    """The names an import statement binds, each to a module or to an attribute of one."""
    bound: dict[str, tuple[str, str | None]] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                bound[alias.asname] = (alias.name, None)
            else:
                top = alias.name.split(".")[0]
                bound[top] = (top, None)
        return bound
    for alias in node.names:
        base = node.module or ""
        candidate = f"{base}.{alias.name}"
        target: tuple[str, str | None] = (
            (candidate, None) if _source_of(candidate) is not None else (base, alias.name)
        )
        bound[alias.asname or alias.name] = target
    return bound


def _load(walk: _Walk, module: str) -> _Module | None:
    if module not in walk.modules:
        path = _source_of(module)
        if path is None:
            walk.modules[module] = None
        else:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            defs: dict[str, ast.AST] = {}
            for node in tree.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    defs[node.name] = node
                elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                    # A table of callbacks (`_DELIVER = {"email": _deliver_email}`) is followed.
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        if isinstance(target, ast.Name):
                            defs[target.id] = node.value
            aliases: dict[str, tuple[str, str | None]] = {}
            for node in tree.body:
                if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "level", 0) == 0:
                    aliases.update(_bind(node))
            walk.modules[module] = _Module(module, defs, aliases)
    return walk.modules[module]


def _nodes(root: ast.AST) -> Iterable[ast.AST]:
    """Every node under `root` except those in `except` clauses: they run only after a failure,
    and a cold start is measured on the path where nothing fails."""
    yield root
    for child in ast.iter_child_nodes(root):
        if not isinstance(child, ast.ExceptHandler):
            yield from _nodes(child)


def _visit(walk: _Walk, module: str, name: str) -> None:
    """Collects the import statements of `module.name` and of everything of ours it references."""
    if (module, name) in walk.seen:
        return
    walk.seen.add((module, name))
    mod = _load(walk, module)
    if mod is None or name not in mod.defs:
        return
    definition = mod.defs[name]
    bodies: list[ast.AST] = [definition]
    if isinstance(definition, ast.ClassDef):  # a class named: any of its methods may run
        bodies = [
            item
            for item in definition.body
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
    for body in bodies:
        local: dict[str, tuple[str, str | None]] = {}
        nodes = list(_nodes(body))
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "level", 0) == 0:
                statement = ast.unparse(node)
                if statement not in walk.statements:
                    walk.statements.append(statement)
                local.update(_bind(node))
        for node in nodes:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                target = local.get(node.id) or mod.aliases.get(node.id)
                if target is not None and target[1] is not None:
                    _visit(walk, target[0], target[1])
                elif target is None and node.id in mod.defs:
                    _visit(walk, module, node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                target = local.get(node.value.id) or mod.aliases.get(node.value.id)
                if target is not None and target[1] is None:
                    _visit(walk, target[0], node.attr)


def first_request_imports(function: str) -> list[str]:
    """`import main` and every import statement `function`'s first request may execute."""
    walk = _Walk()
    _visit(walk, "main", function)
    return ["import main", *walk.statements]


# --- measuring ---------------------------------------------------------------------------------


class ChildFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Sample:
    cpu_ms: float
    wall_ms: float
    modules: int


def _run_child(statements: list[str]) -> Sample:
    env = {**os.environ, "PYTHONPATH": str(FUNCTIONS_DIR)}
    # Our modules' bytecode must be written by the warm-up run, as the libraries' was when pip
    # installed them: with PYTHONDONTWRITEBYTECODE inherited (some shells set it), every child
    # compiled all of booking/ again and "ours" counted the compiler (1.3-1.4x instead of 1.2x).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(statements)],
        cwd=FUNCTIONS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()
        raise ChildFailed(lines[-1])
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Sample(float(data["cpu_ms"]), float(data["wall_ms"]), int(data["modules"]))


def _import_statements(modules: Iterable[str]) -> list[str]:
    return [f"import {name}" for name in modules]


@dataclass(frozen=True)
class Row:
    function: str
    ours: Sample | None = None
    libraries: Sample | None = None
    error: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.libraries is None:
            return None
        return self.ours.cpu_ms / self.libraries.cpu_ms


def _median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.cpu_ms for s in samples),
        statistics.median(s.wall_ms for s in samples),
        int(statistics.median(s.modules for s in samples)),
    )


def measure(function: str, runs: int) -> Row:
    baseline = LIBRARIES.get(function)
    if baseline is None:
        return Row(function, error="no LIBRARIES entry: say what this function cannot do without")
    ours_statements = first_request_imports(function)
    libs_statements = _import_statements(baseline)
    try:
        # Warm-up: compiles bytecode and fills the OS file cache, as a deployed image would be.
        _run_child(ours_statements)
        _run_child(libs_statements)
        ours: list[Sample] = []
        libs: list[Sample] = []
        for _ in range(runs):  # interleaved, so a slow moment of the machine hits both sides
            ours.append(_run_child(ours_statements))
            libs.append(_run_child(libs_statements))
    except (ChildFailed, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
        return Row(function, error=f"{type(exc).__name__}: {exc}")
    return Row(function, _median(ours), _median(libs))


def render(rows: list[Row], runs: int) -> str:
    head = (
        f"{'function':<22} {'ours (ms)':>10} {'libraries only (ms)':>20} {'ratio':>7}  "
        f"{'wall ours/libs (ms)':>19}  {'modules ours/libs':>17}  target <= {TARGET_RATIO}x"
    )
    lines = [
        f"cold-start imports: CPU ms, median of {runs} fresh interpreter{'s' * (runs != 1)} "
        f"(Python {sys.version.split()[0]})",
        head,
        "-" * len(head),
    ]
    for row in rows:
        if row.error is not None or row.ours is None or row.libraries is None:
            lines.append(f"{row.function:<22} ERROR {row.error}")
            continue
        ratio = row.ratio or 0.0
        verdict = "ok" if ratio <= TARGET_RATIO else "OVER"
        wall = f"{row.ours.wall_ms:.0f}/{row.libraries.wall_ms:.0f}"
        modules = f"{row.ours.modules}/{row.libraries.modules}"
        lines.append(
            f"{row.function:<22} {row.ours.cpu_ms:>10.1f} {row.libraries.cpu_ms:>20.1f} "
            f"{ratio:>6.2f}x  {wall:>19}  {modules:>17}  {verdict}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("functions", nargs="*", help="entry points to measure (default: all)")
    parser.add_argument("-n", "--runs", type=int, default=RUNS, help="fresh interpreters per side")
    parser.add_argument(
        "--show",
        action="store_true",
        help="print each function's import statements and library list, then stop",
    )
    args = parser.parse_args(argv)
    names = function_names()
    unknown = sorted(set(args.functions) - set(names))
    if unknown:
        parser.error(f"not entry points of {MAIN.name}: {', '.join(unknown)}")
    selected = args.functions or names
    if args.show:
        for name in selected:
            print(f"{name}:")
            for statement in first_request_imports(name):
                print(f"    ours  {statement}")
            for library in LIBRARIES.get(name, ()):
                print(f"    lib   import {library}")
        return 0
    rows = [measure(name, max(args.runs, 1)) for name in selected]
    print(render(rows, max(args.runs, 1)))
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
