"""Exports for analysts: Parquet, CSV (Excel-ready) and JSON Lines, with a manifest beside them.

Files are written whole or not at all (a temporary file, then an atomic rename), and the set is
whole or absent: a failed export removes what it wrote. `--changed-since last` exports what
changed since the previous delta of the same target, from a watermark kept in MongoDB; a target
follows one filter set (a delta with other filters is refused), and only deltas move it.
Removed articles are part of a delta (with `removed_at` set). Dates are UTC, with Vietnam-time
columns beside them (`published_at_local`, `published_date_local`): analysts count by the
calendar the portals publish in.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from bson.tz_util import utc as bson_utc
from pymongo.database import Database
from tqdm import tqdm

from crawler.dates import utc_now, wall_clock
from crawler.items import CONTENT, IDENTITY, fields_of
from crawler.storage.files import atomic_path, write_atomically
from crawler.storage.mongo import read_ahead

SCHEMA_VERSION = 2
FORMATS = ("parquet", "csv", "jsonl", "sqlite")
EXTENSIONS = {"sqlite": "db"}  # the search database is `<name>.db`
LIST_SEPARATOR = " | "  # how CSV cells hold lists: "an-ninh-quoc-phong | kinh-te"

_TS = pa.timestamp("us", tz="UTC")
# Vietnam wall-clock time, without a zone: DuckDB, pandas, SQLite and Excel all show it as the portals do
# (a zoned timestamp is shown in UTC by DuckDB, and Excel has no zones at all). Vietnam keeps UTC+7 all year.
_TS_LOCAL = pa.timestamp("us")
_NAMED = pa.struct([("slug", pa.string()), ("name", pa.string())])
_IMAGE = pa.struct([("url", pa.string()), ("caption", pa.string())])
_SOURCE = pa.struct([("text", pa.string()), ("name", pa.string()), ("publisher", pa.string())])
_CANDIDATE = pa.struct([("id", pa.string()), ("score", pa.float64()), ("why", pa.string())])
_QR = pa.struct([("image_url", pa.string()), ("caption", pa.string()), ("payload", pa.string()), ("matches_url", pa.bool_())])

def _field(name: str, as_list: bool = False) -> Callable[[dict], Any]:
    """A document's field as stored; a missing or null list as an empty one."""
    if as_list:
        return lambda d: d.get(name) or []
    return lambda d: d.get(name)


def _local_time(d: dict) -> datetime | None:
    """Vietnam wall-clock time of publication, as a naive datetime (see _TS_LOCAL)."""
    return _wall_clock(d["published_at"]) if d.get("published_at") else None


_wall_clock = lru_cache(maxsize=8)(wall_clock)  # three columns of a row ask for the same moment, one after the other


# The Parquet type of each field of the item model that is exported. Which fields there are, and
# in what order, is the model's (crawler.items): a new field without a type here fails at import.
_MODEL_TYPES: dict[str, pa.DataType] = {
    "site": pa.string(), "native_id": pa.string(), "url": pa.string(), "title": pa.string(), "summary": pa.string(),
    "published_at": _TS, "modified_at": _TS, "date_text": pa.string(), "categories": pa.list_(_NAMED), "author": pa.string(),
    "source": _SOURCE, "body_text": pa.string(), "body_html": pa.string(), "images": pa.list_(_IMAGE),
    "offsite_images": pa.list_(_IMAGE), "qr": _QR, "related_urls": pa.list_(pa.string()),
}
_GETTERS: dict[str, Callable[[dict], Any]] = {
    "qr": lambda d: {k: (d.get("qr") or {}).get(k) for k in ("image_url", "caption", "payload", "matches_url")} if d.get("qr") else None,
}
# Columns the store adds, placed after the model field they belong with.
_AFTER: dict[str, dict[str, tuple[pa.DataType, Callable[[dict], Any]]]] = {
    "url": {"url_aliases": (pa.list_(pa.string()), _field("url_aliases", as_list=True))},
    "published_at": {"published_at_local": (_TS_LOCAL, _local_time),
                     "published_date_local": (pa.date32(), lambda d: t.date() if (t := _local_time(d)) else None),
                     "published_month_local": (pa.string(), lambda d: f"{t:%Y-%m}" if (t := _local_time(d)) else None)},
}
_STORED = {
    "content_hash": (pa.string(), _field("content_hash")),
    "revision": (pa.int32(), _field("revision")),
    "duplicate_of": (pa.string(), _field("duplicate_of")),
    "repost_score": (pa.float64(), lambda d: (d.get("repost") or {}).get("score")),
    "repost_method": (pa.string(), lambda d: (d.get("repost") or {}).get("method")),
    "repost_matched_at": (_TS, lambda d: (d.get("repost") or {}).get("matched_at")),
    "repost_matched_with": (pa.string(), lambda d: (d.get("repost") or {}).get("matched_with")),
    "repost_candidates": (pa.list_(_CANDIDATE), lambda d: d.get("repost_candidates") or []),
    "removed_at": (_TS, _field("removed_at")),
    "first_seen_at": (_TS, lambda d: d.get("crawl", {}).get("first_seen_at")),
    "last_seen_at": (_TS, lambda d: d.get("crawl", {}).get("last_seen_at")),
    "last_changed_at": (_TS, lambda d: d.get("crawl", {}).get("last_changed_at")),
    "job_id": (pa.string(), lambda d: d.get("crawl", {}).get("job_id")),
    "crawler_version": (pa.string(), lambda d: d.get("crawl", {}).get("version")),
}


def _columns() -> dict[str, tuple[pa.DataType, Callable[[dict], Any]]]:
    columns: dict[str, tuple[pa.DataType, Callable[[dict], Any]]] = {"id": (pa.string(), lambda d: d["_id"])}
    for name in fields_of(IDENTITY, CONTENT):
        kind = _MODEL_TYPES[name]
        columns[name] = (kind, _GETTERS.get(name) or _field(name, as_list=pa.types.is_list(kind)))
        columns |= _AFTER.get(name, {})
    return columns | _STORED


LOCAL_COLUMNS = ("published_at_local", "published_date_local", "published_month_local")
# The exported columns: name -> (Parquet type, how a document gives it). The data dictionary
# (docs/data-dictionary.md) has one row per column; a test keeps the two in step.
COLUMNS = _columns()
SCHEMA = pa.schema([(name, kind) for name, (kind, _) in COLUMNS.items()])


@dataclass
class ExportFilters:
    site: str | None = None
    since: datetime | None = None  # publication date, inclusive
    until: datetime | None = None  # publication date, exclusive
    category: str | None = None
    changed_since: datetime | str | None = None  # a date, or "last" (the target's watermark)

    def query(self, watermark: datetime | None) -> dict:
        query: dict[str, Any] = {}
        if self.site:
            query["site"] = self.site
        if self.category:
            query["categories.slug"] = self.category
        dates = {k: v for k, v in (("$gte", self.since), ("$lt", self.until)) if v}
        if dates:
            query["published_at"] = dates
        if self.changed_since is not None:
            since = watermark if self.changed_since == "last" else self.changed_since
            if since is not None:  # a first delta of a target is everything
                query["$or"] = [{"crawl.last_changed_at": {"$gt": since}}, {"removed_at": {"$gt": since}}]
        else:
            query["removed_at"] = None  # a snapshot holds the live articles
        return query

    def describe(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(self).items()}

    def selection(self) -> dict:
        """What a target follows: the filters other than `changed_since`."""
        return {k: v for k, v in self.describe().items() if k != "changed_since"}


class ExportError(ValueError):
    """An export that cannot be made as asked (the message says why); nothing was written."""


@dataclass
class ExportResult:
    rows: int
    files: list[Path] = field(default_factory=list)
    manifest: Path | None = None
    manifest_data: dict = field(default_factory=dict)


# The store's own matching keys: not part of the record analysts get.
INTERNAL_FIELDS = ("dedup_keys",)


def rows_of(docs: Iterator[dict]) -> Iterator[dict]:
    """Each document as a flat row of COLUMNS, keeping the whole document (JSON Lines writes it as stored) less
    INTERNAL_FIELDS. They are dropped here, not by the query: the embedded MongoDB projects every document in
    Python before it sends the first (an exclusion projection cost 20 of an export's 54 s of reading at 200,000)."""
    for doc in docs:
        for name in INTERNAL_FIELDS:
            doc.pop(name, None)
        row = {name: get(doc) for name, (_, get) in COLUMNS.items()}
        row[_RECORD] = doc
        yield row


_RECORD = "__record__"


def full_record(row: dict) -> dict:
    """The stored record, nested as MongoDB holds it (with `crawl`), under `id`, with the Vietnam-time columns."""
    doc = dict(row[_RECORD])
    # `removed_at` is on every row (null while live): the store unsets it, analysts filter on it.
    return {"id": doc.pop("_id"), **doc, "removed_at": doc.get("removed_at"),
            **{name: row[name] for name in LOCAL_COLUMNS}}


def _csv_value(value: Any) -> Any:
    return _iso(value, sep=" ") if value.__class__ in _DATES else value


_DATES = (datetime, date)


def _iso(value: datetime | date, sep: str = "T") -> str:
    """UTC datetimes with their +00:00; Vietnam wall-clock ones (naive) as they read, `2019-11-16 09:06:12` in CSV
    and SQLite (what Excel and SQLite's date functions parse), ISO in JSON; dates as dates."""
    if isinstance(value, datetime):
        zone = value.tzinfo
        if zone is None:
            return value.isoformat(sep=sep)
        if zone is bson_utc or zone is UTC:  # as read from MongoDB: UTC already
            return value.isoformat()
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


@dataclass(frozen=True)
class FlatColumn:
    """One column of the flattened export (CSV, the search database), and where its cells come from."""

    name: str  # `<column>` or `<column>_<key>`
    column: str  # the export column (COLUMNS)
    key: str | None  # the struct's key, for a struct or a list of structs
    kind: pa.DataType | None  # its type; None for a list joined into one text cell


def _flat_columns() -> list[FlatColumn]:
    """CSV flattens by one rule: a struct becomes `<column>_<key>` columns, a list one cell joined by
    " | " (a list of structs, one such column per key)."""
    flat = []
    for name, (kind, _) in COLUMNS.items():
        joined = pa.types.is_list(kind)
        inner = kind.value_type if joined else kind
        if pa.types.is_struct(inner):
            flat += [FlatColumn(f"{name}_{f.name}", name, f.name, None if joined else f.type) for f in inner]
        else:
            flat.append(FlatColumn(name, name, None, None if joined else kind))
    return flat


# Decided once: the CSV's header, the search database's typed table and the Data Package's schema all follow it.
FLAT_COLUMNS = _flat_columns()


def csv_columns() -> list[str]:
    return [c.name for c in FLAT_COLUMNS]


def flat_types() -> dict[str, type]:
    """The Python type of each flattened column, for a typed SQLite table."""
    def python(kind: pa.DataType | None) -> type:
        if kind is None:
            return str
        if pa.types.is_boolean(kind) or pa.types.is_integer(kind):
            return int
        return float if pa.types.is_floating(kind) else str

    return {c.name: python(c.kind) for c in FLAT_COLUMNS}


# What a spreadsheet reads as the start of a formula (OWASP, CSV injection): such a cell gets a leading `'`.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that Excel or LibreOffice shows as text, never runs: `=HYPERLINK(…)` becomes `'=HYPERLINK(…)`."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_row(row: dict) -> list:
    """One CSV row, in csv_columns' order: flattened, every cell spreadsheet-safe."""
    return [spreadsheet_safe(value) for value in flat_of(row).values()]


def flat_of(row: dict) -> dict:
    """The row flattened, once: the CSV and the search database both need it."""
    flat = row.get(_FLAT)
    if flat is None:
        flat = row[_FLAT] = flat_row(row)
    return flat


_FLAT = "__flat__"


def _cell_of(c: FlatColumn) -> Callable[[Any], Any]:
    """How a column's value becomes its cell (decided once per column, not once per cell)."""
    if c.kind is None and c.key:  # a list of structs: each item's value for the key
        return lambda value, key=c.key: LIST_SEPARATOR.join(str(v.get(key) or "") for v in value)
    if c.kind is None:  # a list of text
        return LIST_SEPARATOR.join
    if c.key:  # a struct's value
        return lambda value, key=c.key: _csv_value((value or {}).get(key))
    return _csv_value


_FLAT_PLAN = [(c.name, c.column, _cell_of(c)) for c in FLAT_COLUMNS]


def flat_row(row: dict) -> dict:
    """The row flattened (FLAT_COLUMNS): structs as `<column>_<key>` cells, lists as one ` | `-joined cell."""
    return {name: cell(row[column]) for name, column, cell in _FLAT_PLAN}


def _json_default(value: Any) -> Any:
    """What JSON cannot hold as it is: dates and times, as ISO text (see _iso)."""
    if isinstance(value, datetime | date):
        return _iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def to_json(value: Any) -> str:
    """One record as a JSON line's text: UTF-8 as it reads, dates and times in ISO."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


class _FileWriter:
    """One format of an export, written a batch of rows at a time into its temporary file."""

    def __init__(self, fmt: str, tmp: Path, rejects: list[dict], archive_url) -> None:
        self.fmt, self.closed = fmt, False
        if fmt == "parquet":
            self.parquet = pq.ParquetWriter(tmp, SCHEMA, compression="zstd")
            self._release = self.parquet.close
        elif fmt == "csv":
            self.handle = tmp.open("w", encoding="utf-8-sig", newline="")  # the BOM makes Excel read UTF-8
            self._release = self.handle.close
            self.csv = csv.writer(self.handle)
            self.csv.writerow(csv_columns())
        elif fmt == "jsonl":
            self.handle = tmp.open("w", encoding="utf-8")
            self._release = self.handle.close
        elif fmt == "sqlite":
            from crawler.handoff.search import SearchDbWriter

            self.search = SearchDbWriter(tmp, rejects, archive_url)
            self._release = self.search.db.close
        else:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")

    def write(self, rows: list[dict]) -> None:
        if self.fmt == "parquet":
            self.parquet.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))  # the schema's columns only
        elif self.fmt == "csv":
            self.csv.writerows([csv_row(row) for row in rows])
        elif self.fmt == "jsonl":
            self.handle.writelines([to_json(full_record(row)) + "\n" for row in rows])
        else:
            self.search.write(rows)

    def close(self) -> None:
        self.closed = True
        if self.fmt == "sqlite":
            self.search.close()  # its indexes and views, then the file
        else:
            self._release()

    def abandon(self) -> None:
        """Let go of the file when the export failed (its temporary file is then removed)."""
        if not self.closed:
            with contextlib.suppress(Exception):
                self._release()


@dataclass
class _Tally:
    """What the manifest says of the rows, counted as they pass."""

    rows: int = 0
    by_site: dict[str, int] = field(default_factory=dict)
    removed: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def add(self, rows: list[dict]) -> None:
        for row in rows:
            self.rows += 1
            self.by_site[row["site"]] = self.by_site.get(row["site"], 0) + 1
            self.removed += row["removed_at"] is not None
            if (published := row["published_at"]) is not None:
                self.first = published if self.first is None or published < self.first else self.first
                self.last = published if self.last is None or published > self.last else self.last


BATCH_ROWS = 1000  # rows held at once: an export's memory does not grow with the collection


def _batches(rows: Iterator[dict], size: int = BATCH_ROWS) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export(db: Database, out_dir: Path, formats: list[str], filters: ExportFilters, target: str = "default",
           name: str | None = None, progress: bool | None = None, archive_url=None) -> ExportResult:
    """Export the articles that match `filters` in each format, then the manifest, then the watermark."""
    started = utc_now()
    mark = db.export_watermarks.find_one({"_id": target}) or {}
    delta = filters.changed_since == "last"
    followed = mark.get("filters", {k: None for k in filters.selection()}) if mark else None
    if delta and followed is not None and followed != filters.selection():
        asked = ", ".join(f"{k}={v}" for k, v in filters.selection().items() if v) or "everything"
        held = ", ".join(f"{k}={v}" for k, v in followed.items() if v) or "everything"
        raise ExportError(f"target {target!r} follows {held}; this delta asks for {asked}. A target's deltas keep to one "
                          "selection (else what changed elsewhere would be skipped): use another --target")
    query = filters.query(mark.get("exported_until"))
    cursor = db.articles.find(query).sort("_id", 1).batch_size(BATCH_ROWS)
    show = sys.stderr.isatty() if progress is None else progress
    # The bar's total costs a scan of its own (12 s of the embedded server's time at 200,000 articles): only for a bar shown.
    total = db.articles.count_documents(query) if show else None
    # The server sends the next documents while these are written (crawler.storage.mongo.read_ahead).
    rows = tqdm(rows_of(read_ahead(cursor, chunk=BATCH_ROWS)), total=total, desc="articles", unit="", disable=not show)
    base = name or f"articles-{target}-{started:%Y%m%dT%H%M%SZ}"
    result = ExportResult(rows=0)
    rejects = list(db.rejects.find({"site": filters.site} if filters.site else {})) if "sqlite" in formats else []
    with _whole_or_absent(result):
        _write_set(result, out_dir, base, formats, rows, filters, target, started, mark, rejects, archive_url)
    if delta:  # only a delta moves the target on, once every file is safely written
        db.export_watermarks.update_one({"_id": target}, {"$set": {"exported_until": started, "filters": filters.selection(),
                                                                   "last_manifest": result.manifest_data}}, upsert=True)
    return result


OTHER_COLLECTIONS = ("rejects", "article_revisions")


def export_collection(db: Database, out_dir: Path, collection: str, site: str | None, name: str | None = None) -> ExportResult:
    """`rejects` or `article_revisions` as JSON Lines (nested, as stored), with a manifest; the set whole or absent."""
    if collection not in OTHER_COLLECTIONS:
        raise ExportError(f"--collection must be articles, {' or '.join(OTHER_COLLECTIONS)}, not {collection!r}")
    started = utc_now()
    query = {} if not site else {"site": site} if collection == "rejects" else {"article_id": {"$regex": f"^{site}:"}}
    docs = [{"id": d.pop("_id"), **d} for d in db[collection].find(query).sort("_id", 1)]
    base = name or f"{collection}-{started:%Y%m%dT%H%M%SZ}"
    result = ExportResult(rows=len(docs))
    path, result.manifest = out_dir / f"{base}.jsonl", out_dir / f"{base}.manifest.json"
    with _whole_or_absent(result):
        result.files.append(path)
        write_atomically(path, lambda tmp: tmp.write_text("".join(to_json(d) + "\n"
                                                                   for d in docs), "utf-8"))
        result.manifest_data = {"schema_version": SCHEMA_VERSION, "generated_at": started.isoformat(), "collection": collection,
                                "filters": {"site": site}, "rows": len(docs), "files": [_file_entry(path)]}
        _write_manifest(result)
    return result


@contextmanager
def _whole_or_absent(result: ExportResult) -> Iterator[None]:
    """The files of an export as a set: when writing any of them fails, those already written are removed."""
    try:
        yield
    except BaseException:
        for path in [*result.files, result.manifest]:
            if path is not None:
                path.unlink(missing_ok=True)
        raise


def _file_entry(path: Path) -> dict:
    """A written file as the manifest lists it: name, format, size, checksum."""
    fmt = {"db": "sqlite"}.get(path.suffix[1:], path.suffix[1:])
    return {"name": path.name, "format": fmt, "bytes": path.stat().st_size, "sha256": _sha256(path)}


def _write_manifest(result: ExportResult) -> None:
    write_atomically(result.manifest, lambda tmp: tmp.write_text(json.dumps(result.manifest_data, ensure_ascii=False, indent=2),
                                                                  "utf-8"))


def _write_set(result: ExportResult, out_dir: Path, base: str, formats: list[str], rows: Iterator[dict], filters: ExportFilters,
               target: str, started: datetime, mark: dict, rejects: list[dict] = (), archive_url=None) -> None:
    """Every format in one pass over the rows, a batch at a time; each file renamed into place once all are whole."""
    tally = _Tally()
    with contextlib.ExitStack() as files:
        writers = []
        for fmt in formats:
            path = out_dir / f"{base}.{EXTENSIONS.get(fmt, fmt)}"
            result.files.append(path)
            writers.append(writer := _FileWriter(fmt, files.enter_context(atomic_path(path)), rejects, archive_url))
            files.callback(writer.abandon)  # before its temporary file is removed, on failure
        for batch in _batches(rows):
            tally.add(batch)
            for writer in writers:
                writer.write(batch)
        for writer in writers:
            writer.close()
    result.rows = tally.rows
    published = [p for p in (tally.first, tally.last) if p is not None]
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": started.isoformat(),
        "target": target,
        "filters": filters.describe(),
        "changed_since": (mark.get("exported_until").isoformat() if filters.changed_since == "last" and mark else
                          filters.describe()["changed_since"]),
        "rows": tally.rows,
        "rows_by_site": dict(sorted(tally.by_site.items())),
        "removed_rows": tally.removed,
        # A delta with no watermark before it holds every article: a full first copy, not what changed.
        "first_copy": filters.changed_since == "last" and not mark,
        "period": {"first_published_at": _iso(published[0]) if published else None,
                   "last_published_at": _iso(published[-1]) if published else None,
                   # The same in Vietnam wall-clock time, the zone the filters (--since, --until) use.
                   "first_published_at_local": _iso(wall_clock(published[0])) if published else None,
                   "last_published_at_local": _iso(wall_clock(published[-1])) if published else None,
                   "time_zone_local": "Asia/Ho_Chi_Minh (UTC+07:00)"},
        "files": [_file_entry(p) for p in result.files],
        "columns": list(COLUMNS),
    }
    result.manifest = out_dir / f"{base}.manifest.json"
    result.manifest_data = manifest
    _write_manifest(result)
    from crawler.handoff.datapackage import write_datapackage

    package = out_dir / f"{base}.datapackage.json"
    result.files.append(package)  # removed with the set if anything fails
    write_atomically(package, lambda tmp: write_datapackage(tmp, manifest["files"], base, manifest["generated_at"]))
