"""Datasette plugin (loaded with `--plugins-dir`): the articles' search box folds what is typed as the index was folded.

Datasette passes `_search` to FTS5 as it comes; the index holds folded text (`crawler.folding`), so the
query is folded on its way in: `_search=Đồ Sơn` becomes `_search="Do Son"`, in the plain mode (an
unquoted query is one phrase, see `crawler.handoff.search.fold_query`) and in the raw one (`_searchmode=raw`:
quotes and operators kept). SQL gets `fold(text)` and `fold_query(text)` for canned queries.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl

from crawler.folding import fold
from crawler.handoff.search import fold_query

MMAP_BYTES = 8 << 30  # an upper bound (SQLite maps what the file has); address space, not memory


@hookimpl
def prepare_connection(conn) -> None:
    # Pages read through memory mapping, not a read call each: a search's count and facets visit every matching row.
    conn.execute(f"pragma mmap_size = {MMAP_BYTES}")
    conn.create_function("fold", 1, lambda text: fold(text) if text is not None else None, deterministic=True)
    conn.create_function("fold_query", 1, lambda text: fold_query(text) if text is not None else None, deterministic=True)


def folded_query_string(raw: bytes) -> bytes:
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    raw_mode = dict(pairs).get("_searchmode") == "raw"
    out = [(k, (fold(v) if raw_mode else fold_query(v)) if k == "_search" or k.startswith("_search_") else v)
           for k, v in pairs]
    return urlencode(out).encode("ascii")


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def folding(scope, receive, send):
            if scope.get("type") == "http" and b"_search" in scope.get("query_string", b""):
                scope = dict(scope, query_string=folded_query_string(scope["query_string"]))
            await app(scope, receive, send)

        return folding

    return wrap
