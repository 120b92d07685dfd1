"""Datasette plugin (loaded with `--plugins-dir`): the articles' search box folds what is typed as the index was folded.

The index holds folded text (`crawler.folding`), so a search is folded on its way in. In the plain mode Datasette
passes `_search` through its SQL function `escape_fts`, which this plugin replaces: the text is folded and, without
quotes, made one phrase (`crawler.handoff.search.fold_query`) before Datasette's own escaping. `Đồ Sơn` then matches as
`"Do Son"`, and the box and the heading still show what was typed. The raw mode (`_searchmode=raw`: quotes and FTS5
operators kept) passes the text to FTS5 as it comes, so there the query string itself is folded on its way in. SQL gets
`fold(text)` and `fold_query(text)` for canned queries.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils import escape_fts

from crawler.folding import fold
from crawler.handoff.search import fold_query

MMAP_BYTES = 8 << 30  # an upper bound (SQLite maps what the file has); address space, not memory


@hookimpl(trylast=True)  # after Datasette's own functions: its `escape_fts` is replaced by the folding one
def prepare_connection(conn) -> None:
    conn.create_function("escape_fts", 1, lambda text: escape_fts(fold_query(text)) if text is not None else None)
    # Pages read through memory mapping, not a read call each: a search's count and facets visit every matching row.
    conn.execute(f"pragma mmap_size = {MMAP_BYTES}")
    conn.create_function("fold", 1, lambda text: fold(text) if text is not None else None, deterministic=True)
    conn.create_function("fold_query", 1, lambda text: fold_query(text) if text is not None else None, deterministic=True)


def folded_query_string(raw: bytes) -> bytes:
    """A raw-mode search's query string with the search folded (the plain mode folds in `escape_fts`)."""
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    if dict(pairs).get("_searchmode") != "raw":
        return raw
    return urlencode([(k, fold(v) if k == "_search" or k.startswith("_search_") else v) for k, v in pairs]).encode("ascii")


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def folding(scope, receive, send):
            if scope.get("type") == "http" and b"_search" in scope.get("query_string", b""):
                scope = dict(scope, query_string=folded_query_string(scope["query_string"]))
            await app(scope, receive, send)

        return folding

    return wrap
