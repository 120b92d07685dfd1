"""Files the project writes are new files of its own: never through a symlink or a file planted under their name."""

from __future__ import annotations

import os

import pytest

from crawler.storage.files import create_new, write_atomically


def planted(tmp_path, name: str):
    """A file someone wants overwritten, and a symlink to it planted at `name` (in a folder of its own)."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / name
    link.parent.mkdir()
    link.symlink_to(victim)
    return victim, link


def test_a_whole_file_replaces_a_planted_symlink_and_leaves_its_target_alone(tmp_path):
    victim, report = planted(tmp_path, "out/report.html")
    (tmp_path / "out" / ".report.html.tmp").symlink_to(victim)  # the old predictable temporary name, planted too
    write_atomically(report, lambda tmp: tmp.write_text("<html>report</html>"))
    assert victim.read_text() == "keep me"
    assert not report.is_symlink() and report.read_text() == "<html>report</html>"
    assert oct(report.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_a_growing_file_is_never_opened_through_what_stands_under_its_name(tmp_path):
    victim, spill = planted(tmp_path, "spill/city-1.jsonl")
    with pytest.raises(FileExistsError):
        create_new(spill)
    assert victim.read_text() == "keep me" and list(spill.parent.iterdir()) == [spill]  # no temporary file left
    fresh = tmp_path / "spill" / "city-2.jsonl"
    with create_new(fresh, "a", encoding="utf-8") as out:
        out.write("line\n")
    assert fresh.read_text() == "line\n"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
