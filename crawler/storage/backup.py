"""A backup of the crawl's database in one file, and its restore: for the embedded server, or any MongoDB.

The file is gzip-compressed BSON (the format MongoDB stores and pymongo's `bson` reads): a header
document per collection (its name, its document count, its indexes), then its documents. A real
MongoDB is better served by `mongodump --archive --gzip` and `mongorestore`; this works on any server
that speaks the wire protocol, SecantusDB included, and needs nothing but pymongo.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import bson
from bson.codec_options import CodecOptions
from pymongo import IndexModel
from pymongo.database import Database

from crawler.storage.files import write_atomically

FORMAT = "haiphong-portal-crawler backup 1"
MARK = "__backup__"  # the key of the file's own documents (a collection's header): no stored record has it
CODEC = CodecOptions(tz_aware=True)
BATCH = 500


class BackupError(RuntimeError):
    """A file that is not a backup, a damaged one, or a database that is not empty."""


@dataclass
class BackupReport:
    counts: dict[str, int] = field(default_factory=dict)


def _indexes(db: Database, name: str) -> list[dict[str, Any]]:
    return [{"key": list(spec["key"].items() if hasattr(spec["key"], "items") else spec["key"]),
             **{k: v for k, v in spec.items() if k in ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")},
             "name": index_name}
            for index_name, spec in db[name].index_information().items() if index_name != "_id_"]


def backup(db: Database, out: Path) -> BackupReport:
    """Every collection of the database into `out` (written atomically: a backup is whole or absent)."""
    report = BackupReport()

    def write(tmp: Path) -> None:
        with gzip.open(tmp, "wb") as stream:
            stream.write(bson.encode({"format": FORMAT, "database": db.name}))
            for name in sorted(db.list_collection_names()):
                count = db[name].count_documents({})
                stream.write(bson.encode({MARK: "collection", "collection": name, "count": count, "indexes": _indexes(db, name)}))
                written = 0
                for doc in db[name].find({}, sort=[("_id", 1)]):
                    stream.write(bson.encode(doc))
                    written += 1
                report.counts[name] = written

    write_atomically(out, write)
    return report


def _documents(stream: BinaryIO) -> Iterator[dict]:
    try:
        yield from bson.decode_file_iter(stream, CODEC)
    except (bson.errors.InvalidBSON, OSError, EOFError) as error:
        raise BackupError(f"the backup is damaged or not a backup: {error}") from error


def restore(db: Database, path: Path, drop: bool = False) -> BackupReport:
    """The backup into `db`: refused when the database already holds data, unless `drop`."""
    report = BackupReport()
    with gzip.open(path, "rb") as stream:
        documents = _documents(stream)
        head = next(documents, None)
        if not head or head.get("format") != FORMAT:
            raise BackupError(f"{path} is not a backup of this crawler (no header {FORMAT!r})")
        busy = [n for n in db.list_collection_names() if db[n].estimated_document_count()]
        if busy and not drop:
            raise BackupError(f"database {db.name} already holds {', '.join(sorted(busy))}: restore into an empty database, "
                              "or pass --drop to replace it")
        for name in busy:
            db.drop_collection(name)
        header: dict | None = None
        batch: list[dict] = []

        def flush() -> None:
            if header is not None and batch:
                db[header["collection"]].insert_many(batch, ordered=True)
                report.counts[header["collection"]] = report.counts.get(header["collection"], 0) + len(batch)
            batch.clear()

        def check(done: dict | None) -> None:
            if done is not None and report.counts[done["collection"]] != done["count"]:
                raise BackupError(f"the backup is cut short: {done['collection']} holds {report.counts[done['collection']]} of "
                                  f"{done['count']} documents")

        for doc in documents:
            if doc.get(MARK) == "collection":
                flush()
                check(header)
                header = doc
                report.counts.setdefault(doc["collection"], 0)
                if doc["collection"] not in db.list_collection_names():  # an empty one too
                    db.create_collection(doc["collection"])
                for index in doc["indexes"]:
                    options = {k: v for k, v in index.items() if k != "key"}
                    db[doc["collection"]].create_indexes([IndexModel([tuple(k) for k in index["key"]], **options)])
                continue
            batch.append(doc)
            if len(batch) >= BATCH:
                flush()
        flush()
        check(header)
    return report
