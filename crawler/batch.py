"""Batched, journaled, retried writes; what still cannot be written is spilled to a file, never lost."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bson import json_util
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure, PyMongoError

from crawler.dates import utc_now

log = logging.getLogger(__name__)

_TRANSIENT = (ConnectionFailure, OperationFailure)


def bulk_write_durably(collection: Collection, ops: Sequence[Any], attempts: int, spill_dir: Path) -> bool:
    """Write `ops` in one unordered bulk; retry transient failures with backoff.

    Returns True when written. When every attempt fails, the operations go to a JSON Lines
    file under `spill_dir` (replayable, see README) and False is returned.
    """
    if not ops:
        return True
    delay = 0.5
    for attempt in range(1, attempts + 1):
        try:
            collection.bulk_write(list(ops), ordered=False)
            return True
        except BulkWriteError as error:
            # Upserts by _id are idempotent, so replaying the whole batch is safe.
            log.warning("bulk write to %s partly failed (try %d): %s", collection.name, attempt, error.details.get("writeErrors", [])[:3])
            last: PyMongoError = error
        except _TRANSIENT as error:
            log.warning("bulk write to %s failed (try %d of %d): %s", collection.name, attempt, attempts, error)
            last = error
        if attempt < attempts:
            time.sleep(delay)
            delay = min(delay * 2, 10)
    spill(collection.name, ops, spill_dir, str(last))
    return False


def spill(collection_name: str, ops: Sequence[Any], spill_dir: Path, why: str) -> Path:
    spill_dir.mkdir(parents=True, exist_ok=True)
    path = spill_dir / f"{collection_name}-{utc_now():%Y%m%dT%H%M%S%f}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for op in ops:
            out.write(json.dumps({"op": type(op).__name__, "doc": op._doc if hasattr(op, "_doc") else None,
                                  "filter": getattr(op, "_filter", None)}, default=json_util.default, ensure_ascii=False) + "\n")
    log.error("MongoDB refused %d writes to %s (%s): kept in %s", len(ops), collection_name, why, path)
    return path


@dataclass(frozen=True)
class BatchPolicy:
    """How a pipeline stage writes: batch size, attempts, and where refused writes are kept."""

    batch_size: int
    attempts: int
    spill_dir: Path

    @classmethod
    def from_settings(cls, settings: Any) -> BatchPolicy:
        return cls(settings.getint("MONGO_BATCH_SIZE"), settings.getint("MONGO_WRITE_ATTEMPTS"),
                   Path(settings.get("PORTAL_DATA_DIR")) / "spill")

    def write(self, collection: Collection, ops: Sequence[Any], stats: Any) -> None:
        if not bulk_write_durably(collection, ops, self.attempts, self.spill_dir):
            stats.inc_value("mongo/spilled", len(ops))
