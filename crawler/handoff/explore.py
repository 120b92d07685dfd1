"""The analysts' web page: Datasette over the search database, with metadata from the data dictionary.

`python -m crawler explore` serves `articles.db` (crawler.handoff.search) on loopback, with the plugin
in `datasette_plugins/` folding the search box's query as the index was folded, facets (portal,
category, month, author, publisher), canned queries, and every column described from
`docs/data-dictionary.md` (Vietnamese and English titles, the source and licence).
"""

from __future__ import annotations

import re
from pathlib import Path

from crawler.portals import PORTALS

PLUGINS_DIR = Path(__file__).resolve().parent / "datasette_plugins"
DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"

QUERIES = {
    "search": {
        "title": "Tìm kiếm · Search (with or without diacritics)",
        "description": "Bài viết chứa cụm từ, gõ có dấu hay không dấu · Articles containing the words, typed with or without "
                       "diacritics (đ = d). Words without quotes are one phrase; use AND, OR, NOT and quotes for more.",
        "sql": "select a.id, a.site, a.published_at_local, a.title, a.url, bm25(articles_fts) as rank\n"
               "from articles_fts f join articles a on a.rowid = f.rowid\n"
               "where articles_fts match fold_query(:q)\norder by rank limit 500",
    },
    "counts_per_month": {
        "title": "Số bài theo tháng · Articles per month (Vietnam time)",
        "sql": "select month, sum(case when site = 'thanhphohaiphong' then articles else 0 end) as thanhphohaiphong,\n"
               "sum(case when site = 'congan_haiphong' then articles else 0 end) as congan_haiphong, sum(articles) as total\n"
               "from articles_per_month group by month order by month desc",
    },
    "cross_portal_reposts_by_publisher": {
        "title": "Bài đăng lại giữa hai cổng · Cross-portal reposts by publisher",
        "sql": "select coalesce(r.publisher, '(no publisher)') as publisher, a.site as repost_on, o.site as original_on,\n"
               "count(*) as reposts\nfrom reposts r join articles a on a.id = r.article_id join articles o on o.id = r.original_id\n"
               "where a.site <> o.site group by 1, 2, 3 order by reposts desc",
    },
    "qr_mismatches": {
        "title": "Mã QR không khớp URL · QR codes that do not match the article's URL",
        "sql": "select id, title, url, qr_payload from articles where qr_payload is not null and qr_matches_url = 0",
    },
    "rejects_by_reason": {
        "title": "Bản ghi bị loại theo lý do · Rejects by reason",
        "sql": "select j.value as reason, r.site, count(*) as rejects\nfrom rejects r, json_each(r.reason_codes) j\n"
               "group by 1, 2 order by rejects desc",
    },
}


def dictionary_columns(path: Path = DICTIONARY) -> dict[str, str]:
    """Column name → meaning, from the data dictionary's table."""
    columns = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|", line)
        if match:
            columns[match.group(1)] = f"{match.group(3).strip()} ({match.group(2).strip()})"
    return columns


def article_columns(names: list[str], described: dict[str, str]) -> dict[str, str]:
    """A description for every column of the articles table: its own row, or the row of the struct it comes from."""
    out = {}
    for name in names:
        if name in described:
            out[name] = described[name]
        elif name == "category":
            out[name] = "the names of the article's categories, as a JSON array (facet by it)"
        elif name == "archive_url":
            out[name] = "the page as it was fetched, replayed from the WARC archive"
        else:
            base = next((b for b in sorted(described, key=len, reverse=True) if name.startswith(b + "_")), None)
            out[name] = f"{described[base]}: its `{name[len(base) + 1:]}`" if base else name
    return out


def metadata(database: str, article_column_names: list[str]) -> dict:
    described = dictionary_columns()
    sources = ", ".join(f"{p.title} ({p.public_origin})" for p in PORTALS.values())
    return {
        "title": "Tin tức các cổng thông tin Hải Phòng · Hải Phòng government portals' news",
        "description": "Bản sao đầy đủ, sạch, cập nhật của tin tức hai cổng thông tin · A complete, clean, current copy of the news of "
                       "both portals. Search with or without diacritics; times are Vietnam time in the _local columns.",
        "source": sources,
        "source_url": next(iter(PORTALS.values())).public_origin,
        "license": "Nội dung thuộc các cổng thông tin; chỉ dùng để phân tích nội bộ · Content belongs to the portals; "
                   "for internal analysis only",
        "databases": {database: {
            "title": "Bài viết · Articles",
            "tables": {
                "articles": {
                    "title": "Bài viết · Articles",
                    "description": "Một dòng mỗi bài · One row per article. The search box finds words typed with or without "
                                   "diacritics (a phrase without quotes).",
                    "columns": article_columns(article_column_names, described),
                    "facets": ["site", {"list": "category"}, "published_month_local", "author", "source_publisher"],
                    "fts_table": "articles_fts", "fts_pk": "rowid", "sort_desc": "published_at", "label_column": "title",
                    "size": 50,
                },
                "article_categories": {"title": "Chuyên mục của bài · Article categories", "facets": ["name"]},
                "images": {"title": "Ảnh · Images"},
                "reposts": {"title": "Bài đăng lại · Reposts", "description": "Each repost and the original of its story",
                            "facets": ["site", "method", "publisher"]},
                "sites": {"title": "Cổng thông tin · Portals"},
                "rejects": {"title": "Bản ghi bị loại · Rejects", "description": "What is currently not stored, with every reason",
                            "facets": ["site", {"list": "reason_codes"}]},
                "articles_fts": {"hidden": True},
            },
            "queries": QUERIES,
        }},
    }
