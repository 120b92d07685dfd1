"""The data dictionary stays true: one row per exported column, each column drawn from the item model."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from crawler.handoff.export import COLUMNS
from crawler.items import EXTRACTED_FIELDS, ArticleItem

DICTIONARY = Path(__file__).resolve().parent.parent / "docs" / "data-dictionary.md"
# Columns the pipelines and the crawl add to what the parser extracts.
ADDED_BY_PIPELINES = {"id", "published_at_local", "published_date_local", "published_month_local",
                      "url_aliases", "content_hash", "revision", "duplicate_of", "repost_score", "repost_method",
                      "repost_matched_at", "repost_matched_with", "repost_candidates", "removed_at", "first_seen_at",
                      "last_seen_at", "last_changed_at", "job_id", "crawler_version"}


def documented() -> list[str]:
    return re.findall(r"^\| `([a-z_]+)` \|", DICTIONARY.read_text(encoding="utf-8"), flags=re.MULTILINE)


def test_one_row_per_exported_column_in_order():
    assert documented() == list(COLUMNS)


def test_every_column_comes_from_the_item_model_or_the_pipelines():
    model = {f.name for f in fields(ArticleItem)} | set(EXTRACTED_FIELDS)
    assert set(COLUMNS) - model <= ADDED_BY_PIPELINES
    assert set(EXTRACTED_FIELDS) - {"_id"} <= set(COLUMNS)  # nothing a parser extracts is left out


def test_every_row_has_a_type_a_meaning_an_example_and_a_derivation():
    for line in DICTIONARY.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\| `[a-z_]+` \|", line):  # the columns table (the JSON Lines table names nested fields)
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert len(cells) == 5 and all(cells[:3]) and cells[4], line
