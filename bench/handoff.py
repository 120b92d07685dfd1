"""Benchmark: the analysts' handoff at scale (exports, report, search database, a search through Datasette).

Fills an embedded MongoDB with N articles per portal in the record contract's shape (the replica's
expected records, cloned with new ids, URLs and dates: the shape and the text of real ones, written
straight into MongoDB, no crawl), then times, each as its own process as an analyst or cron runs it:
the export in Parquet, CSV and JSON Lines; the search database (`--format sqlite`); the report; and
a search through `python -m crawler explore` (the median of 20 requests of Datasette's JSON API,
`_search=do son`, the result count included). Prints a table, then with --json one JSON line last:
`export_s`, `sqlite_s`, `report_s`, `search_ms` (and `search_rare_ms`, a phrase in few articles), `peak_rss_mb`
(the largest of the three builds), and `read_s`,
the time to read the collection back (every build reads it once).
Goals on this machine at 100,000 articles a portal: each build ≤ 60 s, a search ≤ 200 ms, peak RSS ≤ 1 GB.

    .venv/bin/python bench/handoff.py --articles 100000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.dates import utc_now  # noqa: E402
from crawler.storage.mongo import connect, free_port, start_embedded_server  # noqa: E402
from pipelines.store import content_hash  # noqa: E402
from replica.corpus import build_corpus  # noqa: E402
from replica.drills import explore  # noqa: E402

DATABASE = "handoff_bench"
RARE_QUERY = "Chỉ thị 07"


def fill(db, per_site: int, templates: int) -> int:
    """N articles a portal: the replica's expected records, cloned (ids, URLs and dates new; text and shape kept)."""
    corpus = build_corpus(articles_per_site=min(per_site, templates))
    now = utc_now()
    by_site: dict[str, list[dict]] = {}
    for record in corpus.truth():
        if record["outcome"] == "stored" and record.get("body_text"):
            by_site.setdefault(record["site"], []).append(record)
    written = 0
    for site, records in by_site.items():
        batch = []
        for i in range(per_site):
            base = records[i % len(records)]
            native = str(10_000_000 + i)
            published = now - timedelta(hours=i * 0.7 + 1)  # a portal's few years of news, newest first
            doc = {k: v for k, v in base.items() if k not in ("_id", "outcome", "site", "native_id", "url", "published_at")}
            doc |= {"_id": f"{site}:{native}", "site": site, "native_id": native, "url": base["url"].replace(".html", f"-{i}.html"),
                    "published_at": published, "modified_at": None, "content_hash": content_hash(base.get("title"), base["body_text"]),
                    "revision": 1, "duplicate_of": None, "repost": None, "url_aliases": [],
                    "crawl": {"first_seen_at": now, "last_seen_at": now, "last_changed_at": now, "job_id": "bench",
                              "spider": site, "version": "bench", "http_status": 200}}
            batch.append(doc)
            if len(batch) == 2000:
                db.articles.insert_many(batch, ordered=False)
                written += len(batch)
                batch = []
        if batch:
            db.articles.insert_many(batch, ordered=False)
            written += len(batch)
    return written


# The command's own peak RSS (VmHWM, its memory map's; reset by exec), said as it exits. Not getrusage: Linux
# carries ru_maxrss across fork and exec, so every child would report this process's peak (the embedded MongoDB).
_PEAK = ("import atexit, re, runpy, sys; atexit.register(lambda: sys.stderr.write('PEAK_RSS_KB ' + re.search("
         "r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1) + '\\n')); "
         "sys.argv = ['crawler', *sys.argv[1:]]; runpy.run_module('crawler', run_name='__main__')")


def timed(args: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, output) of `python -m crawler <args>` in its own process."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _PEAK, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    peak = int(done.stderr.rsplit("PEAK_RSS_KB ", 1)[1].split()[0]) / 1024
    return seconds, peak, done.stdout


def search_ms(db_path: Path, env: dict, query: str = "do son", repeat: int = 20) -> tuple[float, int]:
    """The median time of a search of the articles table through Datasette's JSON API, and how many rows it finds."""
    port = free_port()
    with explore("--db", str(db_path), "--no-replay", port=port, env=env) as base:
        url = f"{base}/{db_path.stem}/articles.json?_search={urllib.parse.quote(query)}&_size=20&_shape=objects"
        times, found = [], 0
        for _ in range(repeat + 1):
            started = time.perf_counter()
            answer = json.loads(urllib.request.urlopen(url, timeout=60).read())
            times.append((time.perf_counter() - started) * 1000)
            found = answer.get("filtered_table_rows_count") or 0
    return statistics.median(times[1:]), found  # the first warms the page cache

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=10_000, help="articles per portal (default 10000)")
    parser.add_argument("--templates", type=int, default=1000, help="replica articles per portal the records are cloned from")
    parser.add_argument("--json", action="store_true", help="one JSON line last")
    parser.add_argument("--keep", type=Path, help="keep the exports in this folder (default: a temporary one, removed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="handoff-bench-") as folder:
        home = Path(folder)
        server = start_embedded_server(home / "mongo")
        try:
            client, db = connect(server.uri, DATABASE)
            started = time.monotonic()
            written = fill(db, args.articles, args.templates)
            fill_s = time.monotonic() - started
            started = time.monotonic()  # the floor under every build: reading the collection from this MongoDB
            for _ in db.articles.find({"removed_at": None}).sort("_id", 1).batch_size(1000):  # the export's query
                pass
            read_s = time.monotonic() - started
            client.close()
            env = {**os.environ, "MONGO_URI": server.uri, "MONGO_DATABASE": DATABASE}
            out = args.keep or home / "exports"
            export = ["export", "--out", str(out)]
            export_s, export_rss, _ = timed([*export, "--format", "parquet", "--format", "csv", "--format", "jsonl", "--name", "articles"],
                                            env)
            sqlite_s, sqlite_rss, _ = timed([*export, "--format", "sqlite", "--name", "search"], env)
            report_s, report_rss, _ = timed(["report", "--out", str(out / "report.html")], env)
            search, found = search_ms(out / "search.db", env)
            # A search finds what a phrase matches: "do son" is in 29% of these cloned articles, this one in 0.05%.
            rare, rare_found = search_ms(out / "search.db", env, query=RARE_QUERY)
            kept = (".parquet", ".csv", ".jsonl", ".db", ".html")
            sizes = {p.name: p.stat().st_size / 1e6 for p in sorted(out.iterdir()) if p.suffix in kept}
        finally:
            server.stop()
    figures = {"articles": written, "fill_s": round(fill_s, 1), "read_s": round(read_s, 1), "export_s": round(export_s, 1),
               "sqlite_s": round(sqlite_s, 1),
               "report_s": round(report_s, 1), "search_ms": round(search, 1), "search_found": found,
               "search_rare_ms": round(rare, 1), "search_rare_found": rare_found,
               "peak_rss_mb": round(max(export_rss, sqlite_rss, report_rss)), "export_rss_mb": round(export_rss),
               "sqlite_rss_mb": round(sqlite_rss), "report_rss_mb": round(report_rss)}
    print(f"{written} articles ({args.articles} a portal), written into MongoDB in {fill_s:.1f} s; "
          f"reading them all back takes {read_s:.1f} s (the floor under each build)")
    print(f"{'build':<28}{'seconds':>9}{'peak RSS MB':>13}")
    for name, seconds, rss in (("export (parquet, csv, jsonl)", export_s, export_rss), ("search database (sqlite)", sqlite_s, sqlite_rss),
                               ("report", report_s, report_rss)):
        print(f"{name:<28}{seconds:>9.1f}{rss:>13.0f}")
    print(f"search 'do son' through Datasette: {search:.1f} ms (median of 20), {found} articles")
    print(f"search '{RARE_QUERY}' through Datasette: {rare:.1f} ms (median of 20), {rare_found} articles")
    print("files: " + ", ".join(f"{name} {mb:.1f} MB" for name, mb in sizes.items()))
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
