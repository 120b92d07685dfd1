"""The main job on the local replica: both portals crawled into MongoDB, a summary, the analyst export."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from crawler.handoff.export import FORMATS, ExportFilters, export
from crawler.handoff.report import write_report
from crawler.portals import DEFAULT_DATABASE, NAMES, PORTALS
from crawler.storage.mongo import connect, start_embedded_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # crawler/cli/demo.py → the project


@dataclass
class DemoOptions:
    articles_per_site: int = 1000
    data_dir: Path = Path("data")
    fault_rate: float = 0.03
    database: str = DEFAULT_DATABASE


def run_spiders(base_urls: dict[str, str], mongo_uri: str, options: DemoOptions) -> dict[str, int]:
    """Both spiders at once, each its own `scrapy crawl` process, as scheduled jobs run them."""
    logs = options.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": options.database, "PORTAL_PROFILE": "replica",
           "PORTAL_DATA_DIR": str(options.data_dir.resolve())}
    procs = {}
    for spider in NAMES:
        log = (logs / f"{spider}.log").open("w", encoding="utf-8")
        cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"base_url={base_urls[spider]}"]
        procs[spider] = (subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log)
    codes = {}
    for spider, (proc, log) in procs.items():
        codes[spider] = proc.wait()
        log.close()
    return codes


def summarise(db, truth: list[dict], codes: dict[str, int], seconds: float, logs: Path) -> str:
    lines = [f"Crawled both portals of the replica in {seconds:.1f} s.", ""]
    lines.append(f"{'portal':<18}{'stored':>8}{'expected':>10}{'new':>7}{'changed':>9}{'rejects':>9}{'requests':>10}  exit")
    for spider in NAMES:
        expected = sum(1 for r in truth if r["site"] == spider and r["outcome"] == "stored")
        stored = db.articles.count_documents({"site": spider})
        run = db.crawl_runs.find_one({"spider": spider}, sort=[("started_at", -1)]) or {}
        counts = run.get("counts", {})
        lines.append(f"{spider:<18}{stored:>8}{expected:>10}{counts.get('articles_new', 0):>7}{counts.get('articles_changed', 0):>9}"
                     f"{db.rejects.count_documents({'site': spider}):>9}{counts.get('requests', 0):>10}  {codes[spider]}")
    reasons = Counter(reason.split(":", 1)[0] for doc in db.rejects.find({}, {"reasons": 1}) for reason in doc["reasons"])
    lines += ["", "rejects by reason: " + (", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "none")]
    lines.append(f"reposts marked duplicate_of: {db.articles.count_documents({'duplicate_of': {'$ne': None}})}")
    lines.append(f"crawl logs: {logs}")
    return "\n".join(lines)


class DemoUnavailable(RuntimeError):
    """The demo needs the replica, which lives in the source tree, not in the deployed egg."""


def run_demo(options: DemoOptions) -> int:
    try:
        from replica.server import Replica, ReplicaOptions  # the replica serves demos and tests only
    except ImportError as error:
        raise DemoUnavailable("the demo crawls the local replica of the portals, which is in the source tree and not in "
                              "the deployed package: run it from a checkout (make demo)") from error

    started = time.monotonic()
    server = None
    mongo_uri = os.environ.get("MONGO_URI")
    if not mongo_uri:
        server = start_embedded_server(options.data_dir.resolve() / "mongo")
        mongo_uri = server.uri
    print(f"MongoDB: {'embedded SecantusDB, data in ' + str(options.data_dir / 'mongo') if server else 'MONGO_URI'}", flush=True)
    try:
        replica_options = ReplicaOptions(articles_per_site=options.articles_per_site, fault_rate=options.fault_rate)
        with Replica(replica_options) as replica:
            base_urls = {spider: replica.base_url(spider) for spider in NAMES}
            print(f"Replica: {', '.join(f'{PORTALS[name].title} {url}' for name, url in base_urls.items())}, "
                  f"{options.articles_per_site} articles each", flush=True)
            codes = run_spiders(base_urls, mongo_uri, options)
            truth = replica.truth()
        client, db = connect(mongo_uri, options.database)
        try:
            print(summarise(db, truth, codes, time.monotonic() - started, options.data_dir / "logs"))
            handoff = export(db, options.data_dir / "exports", list(FORMATS), ExportFilters(), target="demo",
                             name="articles", progress=False)
            report = write_report(db, options.data_dir / "exports" / "report.html")
            print(f"analyst export: {handoff.rows} articles in " + ", ".join(str(p) for p in handoff.files))
            print(f"manifest: {handoff.manifest}; report: {report}")
        finally:
            client.close()
    finally:
        if server is not None:
            server.stop()
    return max(codes.values())


def run(args) -> int:  # `python -m crawler demo`
    try:
        return run_demo(DemoOptions(articles_per_site=args.articles, data_dir=args.data_dir, fault_rate=args.fault_rate))
    except DemoUnavailable as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1


def add_to(commands) -> None:
    demo = commands.add_parser("demo", help="crawl the local replica of both portals into MongoDB and summarise")
    demo.add_argument("--articles", type=int, default=1000, help="articles per portal in the replica (default 1000)")
    demo.add_argument("--data-dir", type=Path, default=Path("data"), help="where MongoDB data and logs go (default ./data)")
    demo.add_argument("--fault-rate", type=float, default=0.03, help="share of first requests the replica fails")
    demo.set_defaults(run=run)
