"""Versions that scrapyd runs in the order they were deployed, and an archive pruned without losing a page's newest copy."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from crawler.operations.deployment import make_version, sorted_like_scrapyd
from crawler.storage.archive import INDEX_SUFFIX
from crawler.storage.retention import apply, plan_prune


def test_our_versions_sort_in_deploy_order_where_git_counts_did_not():
    # The old scheme: commit counts as text. scrapyd runs the last of its order: r96, not r100.
    assert sorted_like_scrapyd(["r95-main", "r96-main", "r100-main"])[-1] == "r96-main"
    start = datetime(2026, 12, 5, 9, 59, 59, tzinfo=UTC)
    deployed = [make_version(start + timedelta(seconds=s), commit) for s, commit in
                ((0, "ffffffffffff"), (1, "000000000000"), (3600, "4212c13a8f1e-dirty"), (86400 * 40, "0123456789ab"),
                 (86400 * 400, "abcdef012345"))]
    assert sorted_like_scrapyd(list(reversed(deployed))) == deployed
    # Whatever the names scrapyd keeps (it rewrites characters outside [A-Za-z0-9_-]): ours need no rewriting.
    assert all(sorted_like_scrapyd([v]) == [v] for v in deployed)


@pytest.mark.parametrize("leftover", ["r96-main", "1.0", "zzz"])
def test_a_version_left_from_before_that_would_still_run_is_named(leftover):
    version = make_version(datetime(2026, 12, 5, tzinfo=UTC), "4212c13a8f1e")
    ordered = sorted_like_scrapyd([leftover, version])
    assert (ordered[-1] == leftover) == (leftover in ("r96-main", "zzz"))  # "1.0" sorts before a timestamp


def write_warc(folder, name: str, pages: list[tuple[str, str]], age_days: float) -> None:
    """A tiny archive file (and its sealed index) holding article pages (native id, date), `age_days` old."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = folder / name
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for native_id, date in pages:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            record = writer.create_warc_record(f"https://thanhphohaiphong.gov.vn/{native_id}.html", "response",
                                               payload=BytesIO(b"<html></html>"), length=13, http_headers=http,
                                               warc_headers_dict={"WARC-Date": date, "WARC-Portal-Site": "thanhphohaiphong",
                                                                  "WARC-Portal-Kind": "article", "WARC-Portal-Native-Id": native_id})
            writer.write_record(record)
    when = time.time() - age_days * 86400
    os.utime(path, (when, when))
    (folder / (name + INDEX_SUFFIX)).write_text("")  # unsealed: read from the file itself


def test_pruning_keeps_recent_files_and_every_pages_newest_copy(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    write_warc(folder, "thanhphohaiphong-1.warc.gz", [("a", "2026-09-01T00:00:00Z"), ("b", "2026-09-01T00:00:00Z")], 90)
    write_warc(folder, "thanhphohaiphong-2.warc.gz", [("a", "2026-10-01T00:00:00Z"), ("c", "2026-10-01T00:00:00Z")], 60)
    write_warc(folder, "thanhphohaiphong-3.warc.gz", [("a", "2026-11-30T00:00:00Z")], 5)
    plan = plan_prune(folder, datetime.now(UTC), keep_days=30)
    # File 1 is old and every page in it has a newer copy elsewhere... but b's only copy is there: kept.
    # File 2 holds c's only copy: kept. File 3 is recent. Nothing may go.
    assert plan.delete == [] and {p.name for p in plan.kept_newest} == {"thanhphohaiphong-1.warc.gz", "thanhphohaiphong-2.warc.gz"}
    write_warc(folder, "thanhphohaiphong-4.warc.gz", [("b", "2026-12-01T00:00:00Z"), ("c", "2026-12-01T00:00:00Z")], 1)
    plan = plan_prune(folder, datetime.now(UTC), keep_days=30)
    assert sorted(p.name for p in plan.delete) == ["thanhphohaiphong-1.warc.gz", "thanhphohaiphong-2.warc.gz"]
    apply(plan)
    assert sorted(p.name for p in folder.iterdir()) == [f"thanhphohaiphong-{n}.warc.gz{s}" for n in (3, 4) for s in ("", INDEX_SUFFIX)]
    # A size cap prunes the oldest files beyond age too, but never the newest copy of a page.
    assert plan_prune(folder, datetime.now(UTC), keep_days=30, max_bytes=1).delete == []
