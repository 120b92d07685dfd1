"""The write jobs a crawl hands its durable writer, named in one place: their kinds and who carries them out.

A job is plain data (it may be spilled to a file and replayed by another process), so its kind
names the function that writes it; every such function is idempotent. The writer, the replay
of spill files and the commands take their handlers from `write_jobs()`: nothing registers
itself by being imported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping

from pymongo.database import Database

JobHandler = Callable[[Database, dict], Counter]

UPDATES = "updates"  # updates to any collection, in order (crawler/storage/durable.py)
ARTICLES = "articles"  # a batch of articles, with their revisions and the rejects they resolve (pipelines/store.py)
REPOSTS = "reposts"  # reposts settled across the collection (crawler/reposts/sweep.py)


def write_jobs() -> Mapping[str, JobHandler]:
    """Every kind of write job and the function that carries it out."""
    from crawler.reposts.sweep import resolve_reposts_job
    from crawler.storage.durable import apply_updates
    from pipelines.store import write_articles

    return {UPDATES: apply_updates, ARTICLES: write_articles, REPOSTS: resolve_reposts_job}
