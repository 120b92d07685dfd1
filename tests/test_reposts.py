"""The repost decision on the replica's planted pairs: every kind of edit linked, routine notices kept apart."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.reposts.similarity import SHINGLE_WORDS, Body, Candidate, _shingles, best_match, compare, keys_of
from crawler.reposts.sweep import resolve_reposts
from crawler.storage.mongo import connect
from pipelines.store import ensure_indexes
from replica.corpus import REPOST_KINDS, build_corpus

CORPUS = build_corpus(700)
ARTICLES = {a.key: a for items in CORPUS.articles.values() for a in items if not a.verbatim_page}


def body(key: str) -> Body:
    return Body.of("\n\n".join(ARTICLES[key].paragraphs))


@pytest.mark.parametrize("kind", REPOST_KINDS)
def test_each_kind_of_edited_repost_is_linked_to_its_original_and_shares_a_key(kind):
    pairs = [(a.key, a.duplicate_of) for a in ARTICLES.values() if a.repost_kind == kind and a.duplicate_of in ARTICLES]
    assert pairs
    for copy, original in pairs:
        result = compare(body(copy), body(original))
        assert result.linked, (copy, result)
        assert set(keys_of(body(copy))) & set(keys_of(body(original)))
        assert result.method == ("exact" if kind in ("exact", "retitled") else "aligned")


def test_routine_notices_of_one_series_are_kept_for_review_and_never_linked():
    series = defaultdict(list)
    for a in ARTICLES.values():
        if a.lookalike and not a.duplicate_of:
            series[a.lookalike].append(a.key)
    assert set(series) == {"reception", "wanted", "fines"}
    rng = random.Random(7)
    for keys in series.values():
        for _ in range(20):
            one, other = rng.sample(keys, 2)
            result = compare(body(one), body(other))
            assert not result.linked and result.specific_substitutions >= 2, (one, other, result)
            assert result.for_review and "dates, names or figures" in result.why


def test_unrelated_articles_share_no_key():
    plain = [k for k, a in ARTICLES.items() if not a.lookalike and not a.duplicate_of][:150]
    keys = {k: set(keys_of(body(k))) for k in plain}
    shared = [(a, b) for i, a in enumerate(plain) for b in plain[i + 1:] if keys[a] & keys[b]
              and ARTICLES[b].duplicate_of != a and ARTICLES[a].duplicate_of != b]
    assert len(shared) <= 2  # a chance band collision at most; the comparison then says no
    assert all(not compare(body(a), body(b)).linked for a, b in shared)


def test_shingles_are_the_runs_of_words_joined_by_spaces_and_keys_are_the_same_from_any_thread():
    rng = random.Random(5)
    vocabulary = ["hải", "phòng", "đẩy", "mạnh", "a", "2020", "ủy_ban", "x" * 30, "ờ"]
    for length in (SHINGLE_WORDS - 1, SHINGLE_WORDS, SHINGLE_WORDS + 1, 200):
        words = tuple(rng.choice(vocabulary) for _ in range(length))
        runs = [" ".join(words[i:i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)]
        assert _shingles(words) == runs
    bodies = [Body.of(" ".join(rng.choice(vocabulary) for _ in range(300))) for _ in range(4)]
    here = [keys_of(body) for body in bodies]
    with ThreadPoolExecutor(max_workers=4) as pool:  # each thread its own sketch: none sees another's minimums
        assert list(pool.map(keys_of, bodies * 5)) == here * 5


def test_the_crawl_imports_datasketch_and_scipy_only_when_it_sketches_a_body():
    """`import datasketch` imports scipy, 1.2 s of a process's start: a recrawl that finds nothing new must not pay it."""
    check = ("import sys\n"
             "import crawler.settings, pipelines.normalise, pipelines.validate, pipelines.deduplicate, pipelines.store\n"
             "import spiders.thanhphohaiphong, spiders.congan_haiphong, spiders.reparse\n"
             "print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))\n"
             "from crawler.reposts.similarity import Body, keys_of\n"
             "keys_of(Body.of(' '.join(f'word{n}' for n in range(40))))\n"
             "print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", check], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "['datasketch', 'scipy']"]


def test_the_original_credits_no_source_else_is_the_earliest_and_a_title_breaks_ties():
    when = datetime(2024, 5, 1, tzinfo=UTC)
    text = "\n\n".join(ARTICLES[next(k for k, a in ARTICLES.items() if a.repost_kind == "exact")].paragraphs)
    copy = Candidate("c:1", "thanhphohaiphong", when - timedelta(days=2), True, "Tin A", 1)
    original = Candidate("p:1", "congan_haiphong", when, False, "Tin A", 0)
    assert min(copy, original, key=Candidate.order) is original  # crediting a source outweighs being earlier
    elsewhere = Candidate("p:2", "congan_haiphong", when, False, "Chuyện khác hẳn", 0)
    match, review = best_match(copy, Body.of(text), [(elsewhere, Body.of(text)), (original, Body.of(text))])
    assert match[0] is original and not review


@pytest.fixture
def reposts_db(mongo_uri, request):
    """An empty database of the test's own, with the store's indexes."""
    name = f"reposts_{request.node.name[5:40]}"
    client, db = connect(mongo_uri, name)
    client.drop_database(name)
    ensure_indexes(db)
    yield db
    client.close()


def store(db, key: str, article, published_at: datetime, credits_a_source: bool, changed_at: datetime) -> None:
    """A replica article as the store writes it, with its repost keys."""
    text = "\n\n".join(article.paragraphs)
    db.articles.insert_one({"_id": key, "site": article.site, "title": article.title, "published_at": published_at,
                            "source": {"name": "ANHP"} if credits_a_source else None, "body_text": text,
                            "dedup_keys": keys_of(Body.of(text)), "duplicate_of": None, "repost": None,
                            "crawl": {"last_changed_at": changed_at}})


def test_the_job_settles_only_what_changed_since_it_last_ran(reposts_db):
    db = reposts_db
    pair = next(a for a in ARTICLES.values() if a.repost_kind == "paragraph_dropped")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n, article in enumerate((ARTICLES[pair.duplicate_of], pair)):
        store(db, article.key, article, start + timedelta(days=n), credits_a_source=bool(n), changed_at=start)
    first = resolve_reposts(db, start + timedelta(hours=1))
    assert first["articles/reposts"] == 1 and first["reposts/settled"] == 2
    assert db.articles.find_one({"_id": pair.key})["duplicate_of"] == pair.duplicate_of
    assert resolve_reposts(db, start + timedelta(hours=2))["reposts/settled"] == 0  # nothing changed since
    db.articles.update_one({"_id": pair.key}, {"$set": {"body_text": "Một bài khác hẳn. " * 40, "dedup_keys": [],
                                                        "crawl.last_changed_at": start + timedelta(hours=3)}})
    assert resolve_reposts(db, start + timedelta(hours=4))["reposts/settled"] == 1
    assert db.articles.find_one({"_id": pair.key})["duplicate_of"] is None  # edited into another story: unlinked


def test_a_copy_links_to_the_original_of_its_story_even_when_that_original_is_outside_its_window(reposts_db):
    db = reposts_db
    pair = next(a for a in ARTICLES.values() if a.repost_kind == "exact")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    store(db, "a", ARTICLES[pair.duplicate_of], start, credits_a_source=False, changed_at=start)
    store(db, "b", pair, start + timedelta(days=50), credits_a_source=True, changed_at=start)
    assert resolve_reposts(db, start + timedelta(hours=1))["articles/reposts"] == 1
    # Within the window of b, not of a.
    store(db, "c", pair, start + timedelta(days=105), credits_a_source=True, changed_at=start + timedelta(hours=2))
    settled = resolve_reposts(db, start + timedelta(hours=3))
    assert settled["reposts/settled"] == 1 and settled["articles/reposts"] == 1
    assert {d["_id"]: d["duplicate_of"] for d in db.articles.find()} == {"a": None, "b": "a", "c": "a"}
