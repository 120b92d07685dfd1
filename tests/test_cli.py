"""The command line's errors: one line on stderr, exit status 2, whatever the command and the mistake."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT


@pytest.mark.parametrize("args", [
    ["export", "--since", "2026-13-01"], ["export", "--site", "nowhere"], ["export", "--format", "xls"],
    ["export", "--category", "no such category"], ["health", "--spider", "x"], ["health", "--max-age", "soon"],
    ["deploy", "--rollback", "--delete", "v1"], ["explore", "--db", "no-such-folder/articles.db", "--no-replay"], ["nocommand"], [],
])
def test_a_bad_argument_is_one_line_and_exit_status_2(args, tmp_path):
    done = subprocess.run([sys.executable, "-m", "crawler", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PORTAL_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2, done
    assert len(done.stderr.strip().splitlines()) == 1 and "error:" in done.stderr and "usage:" not in done.stderr, done.stderr
