"""Benchmark: repost detection against the replica's ground truth, and what it costs.

The replica plants reposts of every kind of edit (retitled, lead rewritten, a paragraph dropped
or added, a typo fixed, all at once, exact), a portal's own republications, and routine notices
whose siblings share most of their text but are other stories. Their records go into an
embedded MongoDB as the store writes them (pending), the `reposts` job settles them, and each
link is checked against the truth: precision and recall per kind of edit, look-alikes linked,
the seed pair, and the time per article. With `--crawl-articles N`, a crawl of both portals of
an N-article replica is timed in the same run, and the resolution's share of a crawl of the
benchmark's size is worked out from it.

    .venv/bin/python bench/reposts.py --articles 5000
    .venv/bin/python bench/reposts.py --articles 50000 --crawl-articles 2000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.cli.demo import DemoOptions, run_spiders  # noqa: E402
from crawler.portals import NAMES  # noqa: E402
from crawler.reposts.similarity import Body, keys_of  # noqa: E402
from crawler.reposts.sweep import resolve_reposts  # noqa: E402
from crawler.storage.mongo import connect, start_embedded_server  # noqa: E402
from pipelines.store import ensure_indexes  # noqa: E402
from replica.corpus import build_corpus  # noqa: E402
from replica.server import Replica, ReplicaOptions  # noqa: E402

SEED_COPY, SEED_ORIGINAL = "thanhphohaiphong:24168", "congan_haiphong:149022"


def stored_records(articles: int) -> tuple[list[dict], dict[str, dict]]:
    """The records the store would hold for the replica (pending), and what the truth says of each."""
    corpus = build_corpus(articles)
    docs, truth = [], {}
    for article in (a for items in corpus.articles.values() for a in items):
        record = article.expected_record()
        if record["outcome"] == "rejected":
            continue
        if article.verbatim_page:  # the seed page: its body as the golden file has it
            golden = json.loads((ROOT / "tests" / "golden" / f"{article.site}-{article.native_id}.json").read_text(encoding="utf-8"))
            record |= {k: golden[k] for k in ("title", "published_at", "source", "body_text")}
            record["published_at"] = datetime.fromisoformat(record["published_at"])
        docs.append({"_id": record["_id"], "site": record["site"], "title": record["title"], "source": record["source"],
                     "published_at": record["published_at"], "body_text": record["body_text"], "duplicate_of": None,
                     "repost": None, "crawl": {"last_changed_at": datetime.now(UTC) - timedelta(hours=1)}})
        truth[record["_id"]] = {"duplicate_of": record["duplicate_of"], "kind": article.repost_kind, "lookalike": article.lookalike,
                                "site": article.site}
    return docs, truth


def measure(articles: int) -> dict:
    docs, truth = stored_records(articles)
    started = time.perf_counter()
    for doc in docs:  # what the deduplicate stage adds to each article during the crawl
        doc["dedup_keys"] = keys_of(Body.of(doc["body_text"]))
    keys_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        server = start_embedded_server(Path(tmp) / "mongo")
        try:
            client, db = connect(server.uri, "bench_reposts")
            ensure_indexes(db)  # the store's
            for i in range(0, len(docs), 1000):
                db.articles.insert_many(docs[i:i + 1000])
            started = time.perf_counter()
            counts = resolve_reposts(db, datetime.now(UTC))
            seconds = time.perf_counter() - started
            found = {d["_id"]: d for d in db.articles.find({}, {"duplicate_of": 1, "repost_candidates": 1})}
            again = time.perf_counter()
            resolve_reposts(db, datetime.now(UTC))  # nothing pending: what an idle run's close costs
            idle = time.perf_counter() - again
            client.close()
        finally:
            server.stop()
    return {"docs": len(docs), "truth": truth, "found": found, "seconds": seconds, "idle_seconds": idle, "counts": counts,
            "keys_seconds": keys_seconds}


def score(result: dict) -> dict:
    truth, found = result["truth"], result["found"]
    per_kind: dict[str, Counter] = {}
    linked = correct = 0
    lookalikes_linked = 0
    wrong: list[str] = []
    for _id, expected in truth.items():
        got = found[_id].get("duplicate_of")
        kind = expected["kind"] or ("look-alike" if expected["lookalike"] else None)
        if expected["duplicate_of"]:
            kind = expected["kind"] or "seed"
            where = "across" if expected["duplicate_of"].split(":")[0] != expected["site"] else "same portal"
            bucket = per_kind.setdefault(f"{kind} ({where})", Counter())
            bucket["reposts"] += 1
            bucket["found"] += got == expected["duplicate_of"]
        elif expected["lookalike"]:
            bucket = per_kind.setdefault("look-alike (not a repost)", Counter())
            bucket["articles"] += 1
            bucket["linked"] += got is not None
            bucket["for_review"] += bool(found[_id].get("repost_candidates"))
        if got:
            linked += 1
            correct += got == expected["duplicate_of"]
            if got != expected["duplicate_of"]:
                wrong.append(f"{_id} -> {got} (truth: {expected['duplicate_of'] or 'no repost'}; "
                             f"{expected['kind'] or expected['lookalike'] or 'plain'} vs {truth.get(got, {}).get('lookalike') or 'plain'})")
            lookalikes_linked += bool(expected["lookalike"]) and got != expected["duplicate_of"]
    reposts = sum(1 for t in truth.values() if t["duplicate_of"])
    found_right = sum(1 for _id, t in truth.items() if t["duplicate_of"] and found[_id].get("duplicate_of") == t["duplicate_of"])
    return {"per_kind": per_kind, "precision": correct / linked if linked else 1.0, "recall": found_right / reposts if reposts else 1.0,
            "links": linked, "reposts": reposts, "lookalikes_linked": lookalikes_linked,
            "seed_pair": found.get(SEED_COPY, {}).get("duplicate_of") == SEED_ORIGINAL, "wrong": wrong}


def crawl_rate(articles: int) -> float:
    """Articles stored per second by a full crawl of both portals (each its own process, as scheduled)."""
    with tempfile.TemporaryDirectory() as tmp:
        options = DemoOptions(articles_per_site=articles, data_dir=Path(tmp), fault_rate=0.0, database="bench_reposts_crawl")
        server = start_embedded_server(Path(tmp) / "mongo")
        try:
            with Replica(ReplicaOptions(articles_per_site=articles, fault_rate=0.0)) as replica:
                started = time.monotonic()
                run_spiders({s: replica.base_url(s) for s in NAMES}, server.uri, options)
                seconds = time.monotonic() - started
            client, db = connect(server.uri, options.database)
            stored = db.articles.count_documents({})
            client.close()
        finally:
            server.stop()
    return stored / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000, help="articles per portal (default 5000)")
    parser.add_argument("--crawl-articles", type=int, default=0, help="also time a crawl of this many articles per portal")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args()
    result = measure(args.articles)
    figures = score(result)
    print(f"replica: {args.articles} articles per portal, {result['docs']} stored records, {figures['reposts']} reposts planted")
    print(f"{'kind':<36}{'reposts':>8}{'found':>7}{'recall':>8}   {'look-alikes':>11}{'linked':>7}{'review':>7}")
    for kind, c in sorted(figures["per_kind"].items()):
        if "reposts" in c:
            print(f"{kind:<36}{c['reposts']:>8}{c['found']:>7}{c['found'] / c['reposts']:>8.1%}")
        else:
            print(f"{kind:<36}{'':>8}{'':>7}{'':>8}   {c['articles']:>11}{c['linked']:>7}{c['for_review']:>7}")
    for line in figures["wrong"][:8]:
        print(f"  wrong link: {line}")
    per_article_ms = 1000 * (result["seconds"] + result["keys_seconds"]) / result["docs"]
    print(f"overall: precision {figures['precision']:.3f} ({figures['links']} links), recall {figures['recall']:.3f}, "
          f"look-alikes linked {figures['lookalikes_linked']}, seed pair linked: {figures['seed_pair']}")
    print(f"time: {result['keys_seconds']:.1f} s for the keys (the deduplicate stage), {result['seconds']:.1f} s to settle "
          f"{result['docs']} new articles (the reposts job, {result['counts']['reposts/compared']} comparisons): "
          f"{per_article_ms:.2f} ms an article; {result['idle_seconds']:.2f} s for a job with nothing new")
    out = {"articles": args.articles, "precision": figures["precision"], "recall": figures["recall"],
           "lookalikes_linked": figures["lookalikes_linked"], "seed_pair": figures["seed_pair"],
           "keys_seconds": result["keys_seconds"], "resolve_seconds": result["seconds"], "ms_per_article": per_article_ms}
    if args.crawl_articles:
        rate = crawl_rate(args.crawl_articles)
        crawl_seconds = result["docs"] / rate
        out |= {"crawl_articles_per_s": rate, "share_of_crawl": (result["seconds"] + result["keys_seconds"]) / crawl_seconds}
        print(f"crawl: {rate:.1f} articles/s stored (replica of {args.crawl_articles} per portal); a full crawl of "
              f"{result['docs']} articles at that rate takes {crawl_seconds:.0f} s, of which repost resolution "
              f"would be {out['share_of_crawl']:.1%}")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
