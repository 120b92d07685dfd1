"""The main job's command where it cannot run: outside the source tree (the deployed egg has no replica)."""

from __future__ import annotations

import subprocess
import sys


def test_the_demo_outside_the_source_tree_says_why_it_cannot_run(tmp_path):
    done = subprocess.run([sys.executable, "-m", "crawler", "demo", "--data-dir", str(tmp_path / "data")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and "run it from a checkout" in done.stderr and "Traceback" not in done.stderr
