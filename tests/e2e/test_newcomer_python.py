"""A newcomer's machine with an older Python: the README asks for 3.11+, and both README commands
say so plainly instead of failing later inside pip with a resolver error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import ROOT


def test_both_commands_stop_clearly_on_a_python_older_than_3_11(tmp_path: Path) -> None:
    fake = tmp_path / "python3.11"  # found first, as a distribution's python3.11 shim would be
    fake.write_text('#!/bin/sh\n[ "$1" = "--version" ] && { echo "Python 3.9.2"; exit 0; }\n'
                    "exit 1\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    for command in ("scripts/run-local", "scripts/test"):
        proc = subprocess.run([str(ROOT / command), "--help"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, (command, proc.stdout, proc.stderr)
        assert "Python 3.11 or newer is required" in proc.stderr
        assert "Python 3.9.2" in proc.stderr
