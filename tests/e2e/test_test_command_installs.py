"""`scripts/test` with arguments installs Debian's chromium whenever the tests they select
include the browser tier, however they are selected (`-k`, no path at all, a node id), and not
for a run that needs no browser. Run here with CHROMIUM naming a missing binary, and `apt-get`
(and `sudo`) replaced by fakes that record the call; `--collect-only` so nothing else runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import ROOT


def _fake_machine(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    chromium = tmp_path / "chromium"
    log = tmp_path / "apt.log"
    (bin_dir / "apt-get").write_text(
        f'#!/bin/sh\necho "$*" >> {log}\n'
        f'case "$*" in *install*chromium*) printf "#!/bin/sh\\n" > {chromium}; '
        f"chmod +x {chromium};; esac\n")
    (bin_dir / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    for tool in ("apt-get", "sudo"):
        (bin_dir / tool).chmod(0o755)
    # An emulator named: the command skips looking for one (nothing here connects to it).
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CHROMIUM": str(chromium),
            "FIRESTORE_EMULATOR_HOST": "127.0.0.1:9"}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / "scripts" / "test"), "--collect-only", "-q", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_browser_tests_selected_by_keyword_get_chromium_installed(tmp_path: Path) -> None:
    env = _fake_machine(tmp_path)
    unit = _run(env, "tests/unit/test_intervals.py", "-k", "walks or merge")
    assert unit.returncode == 0, unit.stderr
    assert not (tmp_path / "apt.log").exists()  # no browser test selected: nothing installed

    # No path: pytest's testpaths (the other tiers left out only to keep this test quick).
    proc = _run(env, "-k", "test_guest_books_in_own_zone", "--ignore=tests/integration",
                "--ignore=tests/unit")
    assert proc.returncode == 0, proc.stderr
    assert "install -y -qq chromium" in (tmp_path / "apt.log").read_text()
    assert (tmp_path / "chromium").exists()
    assert "tests/browser/test_walks.py::test_guest_books_in_own_zone" in proc.stdout
