"""The analysts' search database: one SQLite file (`articles.db`) that Datasette serves and any SQLite tool opens.

Written with sqlite-utils from the export's rows, so its columns are the export's (flattened as in CSV:
a struct as `<column>_<key>`, a list as one ` | `-joined cell), text exactly as published (no
spreadsheet quoting: nothing here is a spreadsheet). Tables: `articles` (one row per article, with
`category` as a JSON array for Datasette's array facets),
`article_categories`, `images`, `reposts` (each repost and its original, with score and method),
`sites`, `rejects`. Full-text search is SQLite's FTS5 (`articles_fts`, bm25 ranking) over title,
summary and body, indexed *folded* (`crawler.folding.fold`: no diacritics, `đ` as `d`), so a query
folded the same way finds the same articles typed with or without diacritics. Views give the usual
counts: per month (Vietnam time) and portal, per month and category, per source publisher, and the
latest articles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

from crawler.folding import fold
from crawler.portals import PORTALS
from crawler.reasons import code_of

FTS_TABLE = "articles_fts"
SEARCHED = ("title", "summary", "body_text")
LONG_TEXTS = ("summary", "body_text", "body_html")  # placed last in the articles table

VIEWS = {
    "articles_per_month": """
        select published_month_local as month, site, count(*) as articles
        from articles where published_month_local is not null
        group by month, site order by month desc, site""",
    "articles_per_month_and_category": """
        select a.published_month_local as month, c.name as category, count(*) as articles
        from articles a join article_categories c on c.article_id = a.id
        where a.published_month_local is not null
        group by month, category order by month desc, articles desc""",
    "articles_per_publisher": """
        select coalesce(source_publisher, source_name) as publisher, site, count(*) as articles
        from articles where source_text is not null
        group by publisher, site order by articles desc""",
    "latest_articles": """
        select id, site, published_at_local, title, category, url
        from articles order by published_at desc limit 100""",
}


def _flat(row: dict, flat_row, archive_url) -> dict[str, Any]:
    out = dict(flat_row(row))
    out["category"] = json.dumps([c.get("name") or c.get("slug") for c in row["categories"]], ensure_ascii=False)
    if archive_url is not None:
        out["archive_url"] = archive_url(row)
    return out


class SearchDbWriter:
    """The search database written a batch of export rows at a time (memory bounded by a batch), finished by `close`."""

    def __init__(self, path: Path, rejects: Iterable[dict] = (), archive_url=None) -> None:
        from crawler.handoff.export import flat_of

        self.flat_row, self.archive_url, self.rows = flat_of, archive_url, 0
        self.db = sqlite_utils.Database(path)
        self.db.conn.execute("pragma journal_mode = off")  # a new file written once, renamed into place: no journal needed
        self.db.conn.execute("pragma synchronous = off")  # fsynced once by the caller when whole
        self.rejects = list(rejects)
        self._create()

    def _create(self) -> None:
        from crawler.handoff.export import flat_types

        db = self.db
        extra = {"category": str} | ({"archive_url": str} if self.archive_url is not None else {})
        columns = flat_types() | extra
        # The long texts last: a row's first columns then sit in its first page, and a search's count and facets, which
        # read a few short columns of every matching row, skip the overflow pages where the texts are.
        db["articles"].create({n: t for n, t in columns.items() if n not in LONG_TEXTS} | {n: columns[n] for n in LONG_TEXTS},
                              pk="id")
        article = [("article_id", "articles", "id")]
        db["article_categories"].create({"article_id": str, "slug": str, "name": str}, foreign_keys=article)
        db["images"].create({"article_id": str, "position": int, "url": str, "caption": str}, foreign_keys=article)
        db["reposts"].create({"article_id": str, "original_id": str, "score": float, "method": str, "site": str, "publisher": str},
                             foreign_keys=article)
        # The folded text, indexed (the shown columns keep the diacritics), rowid = articles' rowid. Contentless: the
        # index alone, no stored copy of the folded text (a search needs only the matching rowids and bm25).
        db.conn.execute(f"create virtual table {FTS_TABLE} using fts5({', '.join(SEARCHED)}, tokenize = 'unicode61', content = '')")

    def write(self, rows: list[dict]) -> None:
        first = self.rows + 1
        self.rows += len(rows)
        # sqlite-utils made the tables; rows go in through executemany (its insert_all handles each row in Python: a
        # third of the search database's time at 20,000 articles, by cProfile).
        self._insert("articles", [_flat(row, self.flat_row, self.archive_url) for row in rows])
        self._insert(FTS_TABLE, [{"rowid": first + n, **{name: fold(row.get(name) or "") for name in SEARCHED}}
                                 for n, row in enumerate(rows)])
        self._insert("article_categories", [{"article_id": row["id"], "slug": c.get("slug"), "name": c.get("name")}
                                            for row in rows for c in row["categories"]])
        self._insert("images", [{"article_id": row["id"], "position": n, "url": i.get("url"), "caption": i.get("caption")}
                                for row in rows for n, i in enumerate(row["images"], 1)])
        self._insert("reposts", [{"article_id": row["id"], "original_id": row["duplicate_of"], "score": row.get("repost_score"),
                                  "method": row.get("repost_method"), "site": row["site"],
                                  "publisher": (row.get("source") or {}).get("publisher")}
                                 for row in rows if row.get("duplicate_of")])

    def _insert(self, table: str, records: list[dict]) -> None:
        if not records:
            return
        columns = list(records[0])
        placeholders = ", ".join("?" for _ in columns)
        self.db.conn.executemany(f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) values ({placeholders})",
                                 [tuple(record[c] for c in columns) for record in records])

    def close(self) -> int:
        """Sites, rejects, indexes and views; how many articles the database holds."""
        db = self.db
        db["sites"].insert_all([{"site": p.name, "title": p.title, "origin": p.public_origin} for p in PORTALS.values()], pk="site")
        db["rejects"].create({"id": str, "site": str, "url": str, "reasons": str, "reason_codes": str, "first_rejected_at": str,
                              "last_rejected_at": str}, pk="id")
        db["rejects"].insert_all(({"id": r["_id"], "site": r.get("site"), "url": r.get("url"),
                                   "reasons": " | ".join(r.get("reasons") or []),
                                   "reason_codes": json.dumps(sorted({code_of(x) for x in r.get("reasons") or []})),
                                   "first_rejected_at": _text(r.get("first_rejected_at")),
                                   "last_rejected_at": _text(r.get("last_rejected_at"))} for r in self.rejects), batch_size=5000)
        for column in ("site", "published_date_local", "published_month_local", "published_at", "author", "source_publisher"):
            db["articles"].create_index([column], if_not_exists=True)
        db["article_categories"].create_index(["article_id"])
        db["article_categories"].create_index(["name"])
        db["images"].create_index(["article_id"])
        for name, sql in VIEWS.items():
            db.create_view(name, sql.strip())
        db.conn.execute("analyze")
        db.conn.commit()
        db.close()
        return self.rows


def _text(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


def search(path: Path, query: str, limit: int = 20) -> list[dict]:
    """The articles matching a query typed any way (folded as the index was), best first (bm25)."""
    db = sqlite_utils.Database(path)
    try:
        rows = db.query(f"select a.id, a.title, bm25({FTS_TABLE}) as rank from {FTS_TABLE} f join articles a on a.rowid = f.rowid "
                        f"where {FTS_TABLE} match :q order by rank limit :limit", {"q": fold_query(query), "limit": limit})
        return list(rows)
    finally:
        db.close()


OPERATORS = ("AND", "OR", "NOT", "NEAR")


def fold_query(query: str) -> str:
    """A search as typed, folded as the index is. Without quotes or operators it is one phrase: a Vietnamese word is
    often several syllables (`Đồ Sơn`, `Hải Phòng`), so `do son` means the syllables together, in that order, as
    `ilike '%đồ sơn%'` would. Quotes and FTS5 operators (upper case) are kept for those who want them."""
    folded = " ".join(fold(query).split())
    if not folded or '"' in folded or any(op in folded.split() for op in OPERATORS) or folded.endswith("*"):
        return folded
    return '"' + folded + '"'

