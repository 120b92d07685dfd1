"""Each article as it was fetched: the WARC archive replayed by pywb, the web-archive replay tool.

`explore` keeps a pywb collection (`haiphong`) under `<data-dir>/replay`: its `archive/` links to the
project's WARC files (nothing is copied), its index is rebuilt by `wb-manager reindex` when the archive
has new files. Each article's row links to its newest capture, the page of its stored revision, at
`/haiphong/<capture time>/<the URL it was fetched from>`: against the live portals, its public URL; a
page the portal has since removed or edited stays viewable as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from crawler.storage.archive import latest_by_page, read_archive

COLLECTION = "haiphong"


PROJECT_ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str | None:
    """A pywb command: in $PORTAL_PYWB_BIN, in the project's `.venv-pywb` (make install builds it: pywb lives in an
    environment of its own, since it installs a top-level `tests` package), beside this Python, or on PATH."""
    for folder in (os.environ.get("PORTAL_PYWB_BIN"), PROJECT_ROOT / ".venv-pywb" / "bin", Path(sys.executable).parent):
        if folder and (Path(folder) / name).exists():
            return str(Path(folder) / name)
    return shutil.which(name)


def prepare_collection(replay_dir: Path, archive_dir: Path) -> int:
    """The collection's archive links to every WARC file, its index rebuilt when files were added; how many files."""
    wb_manager = tool("wb-manager")
    if wb_manager is None:
        raise RuntimeError("pywb is not installed: make install builds .venv-pywb (or set PORTAL_PYWB_BIN)")
    collection = replay_dir / "collections" / COLLECTION
    if not collection.exists():
        replay_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run([wb_manager, "init", COLLECTION], cwd=replay_dir, check=True, capture_output=True, timeout=120)
    linked = collection / "archive"
    added = 0
    for warc in sorted(archive_dir.glob("*.warc.gz")):
        link = linked / warc.name
        if not link.exists():
            link.symlink_to(warc.resolve())
            added += 1
    index = collection / "indexes" / "index.cdxj"
    if added or not index.exists():
        subprocess.run([wb_manager, "reindex", COLLECTION], cwd=replay_dir, check=True, capture_output=True, timeout=3600)
    return len(list(linked.glob("*.warc.gz")))


def archive_links(archive_dir: Path, base_url: str) -> Callable[[dict], str | None]:
    """For an export row, the replay URL of its article's newest capture (None if the archive has none)."""
    articles, _ = latest_by_page(read_archive(archive_dir))
    captures = {f"{r.site}:{r.native_id}": r for r in articles if r.native_id and r.date is not None}

    def link(row: dict) -> str | None:
        record = captures.get(row["id"])
        return f"{base_url}/{COLLECTION}/{record.date:%Y%m%d%H%M%S}/{record.url}" if record else None

    return link


def start_replay(replay_dir: Path, host: str, port: int) -> subprocess.Popen:
    wayback = tool("wayback")
    if wayback is None:
        raise RuntimeError("pywb is not installed: make install builds .venv-pywb (or set PORTAL_PYWB_BIN)")
    return subprocess.Popen([wayback, "-p", str(port), "-b", host], cwd=replay_dir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
