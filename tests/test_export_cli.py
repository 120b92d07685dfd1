"""The analyst export as an analyst meets it: Vietnam dates, deltas that lose nothing, clean failures."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import crawler.handoff.export as export_module
from crawler.handoff.export import ExportError, ExportFilters, export
from pipelines.normalise import html_in_nfc
from tests.helpers import fresh_db

ROOT = Path(__file__).resolve().parent.parent
CITY, POLICE = "thanhphohaiphong", "congan_haiphong"


def article(site: str, native_id: str, published: datetime, changed: datetime, category: str) -> dict:
    return {"_id": f"{site}:{native_id}", "site": site, "native_id": native_id, "url": f"https://x/{native_id}.html",
            "title": f"Tin {native_id}", "published_at": published, "categories": [{"slug": category, "name": category}],
            "body_text": "Nội dung", "removed_at": None, "crawl": {"last_changed_at": changed}}


@pytest.fixture
def db(mongo_uri):
    database = fresh_db(mongo_uri, "export_cli")
    database.articles.insert_many([
        # Shown by the portal as "Cập nhật: 04/01/2018 06:40": the 3rd in UTC, the 4th in Vietnam.
        article(POLICE, "1", datetime(2018, 1, 3, 23, 40, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "Tin-An-ninh-trat-tu"),
        article(CITY, "2", datetime(2019, 11, 16, 2, 6, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "an-ninh-quoc-phong"),
    ])
    yield database
    database.client.close()


def cli(mongo_uri: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": "export_cli"}
    return subprocess.run([sys.executable, "-m", "crawler", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_dates_are_vietnam_dates_and_local_columns_stand_beside_utc(db, mongo_uri, tmp_path):
    done = cli(mongo_uri, "export", "--out", str(tmp_path), "--name", "day", "--site", POLICE,
               "--since", "2018-01-04", "--until", "2018-01-05")
    assert done.returncode == 0, done.stderr
    table = pq.read_table(tmp_path / "day.parquet").to_pylist()
    assert [r["id"] for r in table] == [f"{POLICE}:1"]
    assert str(table[0]["published_date_local"]) == "2018-01-04" and table[0]["published_at_local"].hour == 6
    row = json.loads((tmp_path / "day.jsonl").read_text(encoding="utf-8"))
    assert row["published_at"] == "2018-01-03T23:40:00+00:00" and row["published_at_local"] == "2018-01-04T06:40:00"
    assert row["published_month_local"] == "2018-01" and table[0]["published_at_local"].tzinfo is None  # wall clock, as shown
    assert row["removed_at"] is None and row["crawl"]["last_changed_at"] == "2026-01-01T00:00:00+00:00"
    manifest = json.loads((tmp_path / "day.manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows_by_site"] == {POLICE: 1} and manifest["period"]["first_published_at"].startswith("2018-01-03T23:40")
    mode = stat.S_IMODE((tmp_path / "day.parquet").stat().st_mode)
    assert mode & 0o044 == 0o044  # other analysts can read it


def test_a_target_keeps_to_its_filters_and_only_deltas_move_it(db, tmp_path):
    first = export(db, tmp_path, ["jsonl"], ExportFilters(site=POLICE, changed_since="last"), target="T1", name="a", progress=False)
    assert first.rows == 1
    with pytest.raises(ExportError, match="target 'T1' follows site=congan_haiphong"):
        export(db, tmp_path, ["jsonl"], ExportFilters(changed_since="last"), target="T1", name="b", progress=False)
    assert not (tmp_path / "b.jsonl").exists()
    export(db, tmp_path, ["jsonl"], ExportFilters(), target="T2", name="full", progress=False)  # a snapshot…
    first_delta = export(db, tmp_path, ["jsonl"], ExportFilters(changed_since="last"), target="T2", name="c", progress=False)
    assert first_delta.rows == 2  # …does not move the target: its first delta holds everything, and says so
    assert first_delta.manifest_data["first_copy"] is True
    later = export(db, tmp_path, ["jsonl"], ExportFilters(changed_since="last"), target="T2", name="d", progress=False)
    assert later.rows == 0 and later.manifest_data["first_copy"] is False


def test_a_failed_export_leaves_no_file_of_its_set(db, tmp_path, monkeypatch):
    real = export_module._FileWriter.close

    def disk_full_at_csv(writer):
        if writer.fmt == "csv":
            raise OSError(28, "No space left on device")
        real(writer)

    monkeypatch.setattr(export_module._FileWriter, "close", disk_full_at_csv)
    with pytest.raises(OSError):
        export(db, tmp_path, ["parquet", "csv", "jsonl", "sqlite"], ExportFilters(changed_since="last"), target="full", name="x",
               progress=False)
    assert list(tmp_path.iterdir()) == []
    assert db.export_watermarks.find_one({"_id": "full"}) is None  # nothing moved either


@pytest.mark.parametrize("args", [
    ["--since", "2024-13-45"], ["--since", "01/07/2024"], ["--changed-since", "yesterday"],
    ["--since", "2025-01-01", "--until", "2024-01-01"], ["--category", "Không có mục này"],
])
def test_bad_arguments_get_one_line_and_exit_status_2(db, mongo_uri, tmp_path, args):
    done = cli(mongo_uri, "export", "--out", str(tmp_path), *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "error" in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_category_may_be_given_by_its_name(db, mongo_uri, tmp_path):
    done = cli(mongo_uri, "export", "--out", str(tmp_path), "--name", "cat", "--format", "jsonl", "--category", "An ninh - Quốc phòng")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in (tmp_path / "cat.jsonl").read_text(encoding="utf-8").splitlines()] == [f"{CITY}:2"]


def test_an_output_that_cannot_be_written_is_refused_before_any_query(db, mongo_uri, tmp_path):
    a_file = tmp_path / "exports"
    a_file.write_text("not a folder")
    for out in (a_file, Path("/proc/exports")):
        done = cli(mongo_uri, "export", "--out", str(out))
        assert done.returncode == 1 and "Traceback" not in done.stderr and str(out) in done.stderr, done.stderr
    folder = tmp_path / "reports"
    folder.mkdir()
    done = cli(mongo_uri, "report", "--out", str(folder))
    assert done.returncode == 2 and "is a folder" in done.stderr and list(folder.iterdir()) == []


def test_body_html_is_spelled_like_the_text():
    assert html_in_nfc("<p>Ha\u0309i&nbsp;Pho\u0300ng &amp; &lt;b&gt;</p>") == "<p>Hải\u00a0Phòng &amp; &lt;b&gt;</p>"


def test_rejects_and_revisions_can_be_exported_too(db, mongo_uri, tmp_path):
    db.rejects.insert_one({"_id": f"{CITY}:https://x/9.html", "site": CITY, "url": "https://x/9.html", "reasons": ["missing_title"],
                           "raw": {"native_id": "9"}, "last_rejected_at": datetime(2026, 1, 2, tzinfo=UTC)})
    db.article_revisions.insert_one({"_id": f"{POLICE}:1:r1", "article_id": f"{POLICE}:1", "revision": 1, "title": "Tin cũ"})
    for collection, expected in (("rejects", f"{CITY}:https://x/9.html"), ("article_revisions", f"{POLICE}:1:r1")):
        done = cli(mongo_uri, "export", "--out", str(tmp_path), "--collection", collection, "--name", collection)
        assert done.returncode == 0, done.stderr
        [row] = [json.loads(line) for line in (tmp_path / f"{collection}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert row["id"] == expected
    refused = cli(mongo_uri, "export", "--out", str(tmp_path), "--collection", "rejects", "--since", "2024-01-01")
    assert refused.returncode == 2 and "takes --site only" in refused.stderr
