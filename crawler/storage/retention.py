"""How long the raw archive is kept: by age and, optionally, by size, never the newest copy of any page.

`python -m crawler prune` (daily, from the crontab) deletes WARC files (with their indexes) older than
`PORTAL_ARCHIVE_KEEP_DAYS` (default 30), then, if `PORTAL_ARCHIVE_MAX_GB` is set and the archive is
still larger, the oldest files until it fits. A file that holds the newest capture of an article or
an image is never deleted, whatever its age: `reparse` re-extracts every stored article from it, and
the replay shows the page as it was last fetched. The file a running crawl is writing is never old.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from crawler.storage.archive import INDEX_SUFFIX, latest_by_page, read_archive


@dataclass
class PrunePlan:
    delete: list[Path] = field(default_factory=list)
    kept_newest: list[Path] = field(default_factory=list)  # old enough to go, kept: they hold a page's newest copy
    bytes_before: int = 0
    bytes_after: int = 0


def plan_prune(folder: Path, now: datetime, keep_days: float, max_bytes: int | None = None) -> PrunePlan:
    files = sorted(folder.glob("*.warc.gz"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    articles, images = latest_by_page(read_archive(folder))
    needed = {record.path for record in articles} | {record.path for record in images.values()}
    size = {path: path.stat().st_size + _index_size(path) for path in files}
    plan = PrunePlan(bytes_before=sum(size.values()))
    cutoff = (now - timedelta(days=keep_days)).timestamp()
    total = plan.bytes_before
    for path in files:  # oldest first
        old = path.stat().st_mtime < cutoff
        over = max_bytes is not None and total > max_bytes
        if not (old or over):
            continue
        if path in needed:
            plan.kept_newest.append(path)
            continue
        plan.delete.append(path)
        total -= size[path]
    plan.bytes_after = total
    return plan


def apply(plan: PrunePlan) -> None:
    for path in plan.delete:
        path.with_name(path.name + INDEX_SUFFIX).unlink(missing_ok=True)
        path.unlink(missing_ok=True)


def _index_size(path: Path) -> int:
    index = path.with_name(path.name + INDEX_SUFFIX)
    return index.stat().st_size if index.exists() else 0
