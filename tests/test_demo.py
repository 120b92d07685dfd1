"""The main job's command: on the local replica as a newcomer runs it, and where it cannot run (the deployed egg)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.portals import NAMES


def test_the_demo_outside_the_source_tree_says_why_it_cannot_run(tmp_path):
    done = subprocess.run([sys.executable, "-m", "crawler", "demo", "--data-dir", str(tmp_path / "data")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and "run it from a checkout" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.e2e
def test_the_demo_crawls_both_portals_whole_and_writes_the_export(tmp_path):
    """The newcomer's first command, as the README gives it, on a small replica: every article it lists is stored."""
    project = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "MONGO_URI"}  # the embedded server, as on a fresh machine
    data = tmp_path / "data"
    done = subprocess.run([sys.executable, "-m", "crawler", "demo", "--articles", "25", "--fault-rate", "0", "--data-dir", str(data)],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line.split()[:1] and line.split()[0] in NAMES}
    assert set(rows) == set(NAMES)
    for spider, cells in rows.items():
        stored, expected, code = int(cells[1]), int(cells[2]), cells[-1]
        assert stored == expected > 0 and code == "0", (spider, cells)
    exports = data / "exports"
    assert (exports / "report.html").stat().st_size > 0
    assert any(exports.glob("*.csv")) and any(exports.glob("*.jsonl"))
