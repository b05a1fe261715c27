"""A cold instance's first request reads Firestore from several threads at once
(booking.fanout), each importing the library where it first needs it. Those imports, made at
once in a fresh interpreter, must all succeed: a `firestore_v1` submodule imported in one thread
while another imports the package deadlocks Python's import locks (`_DeadlockError`) or finds
the package half made (`ImportError`), and the guest got a 500 (seen in CI on the cold
availability test)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

from tests.conftest import ROOT

SOURCE = ROOT / "functions" / "booking"

CHILD = """
import json, sys, threading
statements = json.loads(sys.argv[1])
start = threading.Barrier(len(statements), timeout=30)
failed = []
def run(statement):
    start.wait()
    try:
        exec(statement, {})
    except Exception as exc:
        failed.append(f"{statement}: {type(exc).__name__}: {exc}")
threads = [threading.Thread(target=run, args=(s,)) for s in statements]
for t in threads: t.start()
for t in threads: t.join(60)
print(json.dumps(failed))
"""


def _firestore_imports() -> list[str]:
    """Every distinct import of the Firestore library in our code, as written."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("google.cloud") and (
                    "firestore" in node.module or any("firestore" in a.name for a in node.names)):
                found.add(ast.unparse(node))
    return sorted(found)


def test_the_firestore_imports_our_threads_make_at_once_on_a_cold_instance_all_succeed() -> None:
    statements = _firestore_imports()
    assert "from google.cloud import firestore as fs" in statements
    # Each statement twice, all at once, in a few fresh interpreters side by side (the race
    # lost most times in a fresh interpreter when a submodule was imported on its own).
    children = [subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(statements * 2)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(4)]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err[-2000:]
        assert json.loads(out.strip().splitlines()[-1]) == []
