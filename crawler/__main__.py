"""Command-line tools: `python -m crawler <command>` (demo, export, report, schedule, mongo-server, replay-spill, reparse, health)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pymongo.database import Database
from pymongo.errors import PyMongoError

from crawler.portals import DEFAULT_DATABASE, NAMES, PORTALS
from crawler.urls import redact


def _demo(args: argparse.Namespace) -> int:
    from crawler.demo import DemoOptions, DemoUnavailable, run_demo  # each command loads what it needs

    try:
        return run_demo(DemoOptions(articles_per_site=args.articles, data_dir=args.data_dir, fault_rate=args.fault_rate))
    except DemoUnavailable as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1


def _schedule(args: argparse.Namespace) -> int:
    from crawler.scheduling import REFUSED, Cluster, Scheduled, ScrapydError, node_urls, pairs

    try:
        cluster = Cluster.from_environment(node_urls(args.scrapyd), args.project)
        outcome = cluster.schedule(args.spider, pairs(args.arg, "-a"), pairs(args.set, "-s"))
    except (ScrapydError, ValueError) as error:
        print(redact(f"could not schedule {args.spider}: {error}"), file=sys.stderr)
        return 1
    if not isinstance(outcome, Scheduled):
        ids = ", ".join(f"{job.job} ({job.state} on {redact(job.node)})" for job in outcome)
        print(f"not scheduling {args.spider}: a job of it is already pending or running: {ids}", file=sys.stderr)
        return REFUSED
    print(f"scheduled {args.spider}: job {outcome.job}, version {outcome.version or 'latest'}, on {redact(outcome.node)}")
    return 0


@contextlib.contextmanager
def _database(command: str) -> Iterator[Database]:
    """The database named by MONGO_URI / MONGO_DATABASE, or a clear message and exit status 1."""
    from crawler.mongo import MongoUnavailable, connect

    uri = os.environ.get("MONGO_URI")
    if not uri:
        sys.exit(f"{command} reads MongoDB: set MONGO_URI (e.g. the server `python -m crawler mongo-server` runs)")
    try:
        client, db = connect(uri, os.environ.get("MONGO_DATABASE", DEFAULT_DATABASE))
    except MongoUnavailable as error:
        sys.exit(str(error))
    try:
        yield db
    finally:
        client.close()


def _export(args: argparse.Namespace) -> int:
    from crawler.export import ExportError, ExportFilters, export, export_collection

    if args.collection != "articles":
        others = [f"--{k.replace('_', '-')}" for k in ("since", "until", "category", "changed_since") if getattr(args, k)]
        if others or (args.format and args.format != ["jsonl"]):
            return _usage_error(f"--collection {args.collection} exports JSON Lines and takes --site only, not "
                                f"{', '.join(others) or '--format ' + ','.join(args.format)}")
        if (problem := _unwritable_folder(args.out)) is not None:
            print(f"export: {problem}", file=sys.stderr)
            return 1
        with _database("export") as db:
            result = export_collection(db, args.out, args.collection, args.site, args.name)
        print(f"exported {result.rows} {args.collection}: {result.files[0]}, {result.manifest}")
        return 0

    if args.since and args.until and args.since >= args.until:
        return _usage_error(f"--since {args.since:%Y-%m-%d} is not before --until {args.until:%Y-%m-%d}: the range is empty")
    category = _category_slug(args.category, args.site) if args.category else None
    if isinstance(category, int):
        return category
    if (problem := _unwritable_folder(args.out)) is not None:
        print(f"export: {problem}", file=sys.stderr)
        return 1
    filters = ExportFilters(site=args.site, since=args.since, until=args.until, category=category,
                            changed_since=args.changed_since)
    with _database("export") as db:
        try:
            result = export(db, args.out, args.format or ["parquet", "csv", "jsonl"], filters, target=args.target, name=args.name)
        except ExportError as error:
            return _usage_error(str(error))
        except OSError as error:
            print(f"export: could not write to {args.out} ({error.strerror or error}); nothing was left behind", file=sys.stderr)
            return 1
    if result.rows == 0:
        print("export: no article matches these filters", file=sys.stderr)
    print(f"exported {result.rows} articles: " + ", ".join(str(p) for p in [*result.files, result.manifest]))
    return 0


def _usage_error(message: str) -> int:
    print(f"python -m crawler: error: {message}", file=sys.stderr)
    return 2


def _unwritable_folder(folder: Path) -> str | None:
    """Why files cannot be written in `folder` (created if need be), or None when they can."""
    if folder.exists() and not folder.is_dir():
        return f"{folder} exists and is not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return f"cannot write in {folder}: {error.strerror or error}"
    return None


def _category_slug(wanted: str, site: str | None) -> str | int:
    """The slug of a category given by slug or by name (either portal's), or exit status 2 with the choices."""
    known = {name: slug for portal in PORTALS.values() if site in (None, portal.name)
             for slug, name in portal.categories.items()}
    for name, slug in known.items():
        if wanted.strip().casefold() in (slug.casefold(), name.casefold()):
            return slug
    choices = "; ".join(f"{slug} ({name})" for name, slug in known.items())
    return _usage_error(f"unknown category {wanted!r}; known: {choices}")


def _report(args: argparse.Namespace) -> int:
    from crawler.report import write_report

    if args.out.is_dir():
        return _usage_error(f"--out {args.out} is a folder: give the report's file name, e.g. {args.out / 'report.html'}")
    if (problem := _unwritable_folder(args.out.parent)) is not None:
        print(f"report: {problem}", file=sys.stderr)
        return 1
    with _database("report") as db:
        print(f"report: {write_report(db, args.out)}")
    return 0


def _vietnam_date(value: str) -> datetime:
    """An ISO date or time: a date alone, or a time without offset, is Vietnam's (Asia/Ho_Chi_Minh)."""
    from crawler.dates import PORTAL_TZ

    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: write it as YYYY-MM-DD (a Vietnam date), "
                                         "or YYYY-MM-DDTHH:MM+07:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=PORTAL_TZ)


def _changed_since(value: str) -> datetime | str:
    return "last" if value == "last" else _vietnam_date(value)


@contextlib.contextmanager
def _crawl_database(data_dir: Path, timeout_ms: int = 5000) -> Iterator[Database]:
    """The MongoDB a crawl would use: MONGO_URI, else the embedded one in the data folder (raises MongoUnavailable)."""
    with _crawl_mongo_uri(data_dir) as uri, _connected(uri, timeout_ms) as db:
        yield db


@contextlib.contextmanager
def _connected(uri: str, timeout_ms: int = 5000) -> Iterator[Database]:
    """The crawl's database (MONGO_DATABASE) on that server, for as long as the block runs (raises MongoUnavailable)."""
    from crawler.mongo import connect

    client, db = connect(uri, os.environ.get("MONGO_DATABASE", DEFAULT_DATABASE), timeout_ms=timeout_ms)
    try:
        yield db
    finally:
        client.close()


@contextlib.contextmanager
def _crawl_mongo_uri(data_dir: Path) -> Iterator[str]:
    """MONGO_URI, else one embedded server on the data folder for as long as the command runs (raises MongoUnavailable).

    One for the whole command: two crawlers in one process cannot each open the same folder.
    """
    from crawler.mongo import start_embedded_server

    if uri := os.environ.get("MONGO_URI"):
        yield uri
        return
    server = start_embedded_server(data_dir.resolve() / "mongo")
    try:
        yield server.uri
    finally:
        server.stop()


def _replay_spill(args: argparse.Namespace) -> int:
    """Write what crawls spilled while MongoDB was away, oldest first (a crawl also does it when it starts)."""
    import pipelines.deduplicate
    import pipelines.store  # noqa: F401 - they register the write jobs they own
    from crawler.durable import replay_spills, spill_files
    from crawler.mongo import MongoUnavailable

    spill_dir = args.data_dir / "spill"
    files = spill_files(spill_dir, args.spider)
    if not files:
        print(f"nothing to replay: no spill files{' of ' + args.spider if args.spider else ''} in {spill_dir}")
        return 0
    try:
        with _crawl_database(args.data_dir) as db:
            report = replay_spills(db, spill_dir, args.spider)
    except MongoUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    except PyMongoError as error:
        print(f"MongoDB failed during the replay ({type(error).__name__}); run it again: it resumes where it stopped",
              file=sys.stderr)
        return 1
    print(f"replayed {report.files} spill files: {report.jobs} writes, {report.records} records"
          + (f"; {report.refused} refused by MongoDB, kept in {spill_dir / 'refused'}" if report.refused else ""))
    return 1 if report.refused else 0


def _reparse(args: argparse.Namespace) -> int:
    """The archived responses through today's parsers and pipelines, with no network; what changed.

    Re-extraction is bound by one core a process, so the work is shared among processes (one a
    core, `--processes`): each portal's archived articles split by a hash of their id, every
    process a crawler of its own into the same MongoDB, as concurrent scrapyd jobs are.
    """
    import json
    import subprocess
    import time

    archive = args.data_dir.resolve() / "archive"
    if args.shard:
        return _reparse_shard(args, archive)
    sites = [site for site in (args.site or NAMES) if any(archive.glob(f"{site}-*.warc.gz"))]
    if not sites:
        print(f"reparse: no archive of {', '.join(args.site or NAMES)} in {archive} (PORTAL_ARCHIVE_ENABLED keeps one)",
              file=sys.stderr)
        return 1
    from crawler.mongo import MongoUnavailable

    per_site = max(1, (args.processes or os.cpu_count() or 1) // len(sites))
    started = time.monotonic()
    try:
        with _crawl_mongo_uri(args.data_dir) as uri:
            with _connected(uri):  # one clear line when the server cannot be reached, not a traceback a process
                pass
            children = {(site, n): subprocess.Popen(
                [sys.executable, "-m", "crawler", "reparse", "--site", site, "--data-dir", str(args.data_dir), "--shard", f"{n}/{per_site}"]
                + (["--since", args.since.isoformat()] if args.since else []),
                env={**os.environ, "MONGO_URI": uri}, stdout=subprocess.PIPE, text=True) for site in sites for n in range(per_site)}
            results = {key: (child.communicate()[0], child.returncode) for key, child in children.items()}
            reposts = _settle_reposts(uri)
    except MongoUnavailable as error:
        print(f"reparse: {error}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - started
    code = 0
    for site in sites:
        shards = [results[(site, n)] for n in range(per_site)]
        counts: dict[str, int] = {}
        for out, status in shards:
            code = max(code, status)
            last = out.strip().splitlines()[-1:] or ["{}"]
            for key, value in json.loads(last[0] if last[0].startswith("{") else "{}").items():
                counts[key] = counts.get(key, 0) + value
        n = counts.get("reparse/articles", 0)
        print(f"{site}: {n} archived articles re-extracted in {seconds:.1f} s ({n / seconds:.0f}/s, {per_site} processes): "
              f"{counts.get('articles/new', 0)} new, {counts.get('articles/changed', 0)} changed, "
              f"{counts.get('articles/unchanged', 0)} unchanged, {counts.get('rejects/total', 0)} rejected, "
              f"{counts.get('reparse/images_missing', 0)} images missing from the archive")
    if isinstance(reposts, str):
        print(f"reparse: reposts not settled ({reposts}); the next crawl's reposts job settles them", file=sys.stderr)
        return max(code, 1)
    print(f"reposts: {reposts['reposts/settled']} articles settled, {reposts['articles/reposts']} linked to an original, "
          f"{reposts['reposts/for_review']} close pairs for review")
    return code


def _settle_reposts(uri: str) -> Counter | str:
    """Reposts across the collection, once the re-extracted articles are all written: the counts, or what went wrong.

    Nothing is lost if it fails: the articles stay marked as changed since the last settling,
    and the next reposts job (any crawl's, at its close) takes them up.
    """
    from crawler.dates import utc_now
    from crawler.mongo import MongoUnavailable
    from pipelines.deduplicate import resolve_reposts

    try:
        with _connected(uri) as db:
            return resolve_reposts(db, utc_now())
    except (MongoUnavailable, PyMongoError) as error:  # the processes' counts are still printed
        return f"{type(error).__name__}: {error}"


_SHARD_COUNTS = ("reparse/articles", "articles/new", "articles/changed", "articles/unchanged", "rejects/total",
                 "reparse/images_missing")


def _reparse_shard(args: argparse.Namespace, archive: Path) -> int:
    """One process's share of one portal (`--shard n/N`); its counts as one JSON line for the parent."""
    import json

    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from spiders.reparse import reparse_spider

    [site] = args.site
    settings = get_project_settings()
    settings.setdict({"MONGO_URI": os.environ["MONGO_URI"], "PORTAL_DATA_DIR": str(args.data_dir.resolve()),
                      "PORTAL_ARCHIVE_ENABLED": False, "PORTAL_MONITORS_ENABLED": False,
                      "SPIDERMON_ADD_FIELD_COVERAGE": False,  # no monitor runs to read it
                      "PORTAL_REPOSTS_AT_CLOSE": False}, priority="cmdline")  # the command settles them once, after all processes
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(reparse_spider(site))
    process.crawl(crawler, archive=str(archive), since=args.since.isoformat() if args.since else None, shard=args.shard)
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({key: int(stats.get(key, 0)) for key in _SHARD_COUNTS}))
    return int(stats.get("run/exit_code", 1))


def _health(args: argparse.Namespace) -> int:
    import json

    from crawler.dates import utc_now
    from crawler.health import OK, PROBLEM, UNREADABLE, spider_health
    from crawler.mongo import MongoUnavailable

    try:
        with _crawl_database(args.data_dir, timeout_ms=args.timeout * 1000) as db:
            report = [spider_health(db, spider, utc_now(), args.max_age) for spider in args.spider]
    except (MongoUnavailable, PyMongoError) as error:
        print(f"UNKNOWN cannot read crawl_runs: {str(error).splitlines()[0][:200]}", file=sys.stderr)
        return UNREADABLE
    if args.json:
        print(json.dumps([h.as_json() for h in report], ensure_ascii=False, indent=2))
    else:
        print("\n".join(h.line() for h in report))
    return OK if all(h.ok for h in report) else PROBLEM


def _mongo_server(args: argparse.Namespace) -> int:
    from crawler.mongo import MongoUnavailable, is_loopback, start_embedded_server

    if not is_loopback(args.host):
        if not args.allow_remote:
            print(f"error: --host {args.host} is not a loopback address: the embedded MongoDB has no authentication, so it "
                  "serves this machine only; beyond it use a real MongoDB with authentication (or say --allow-remote)",
                  file=sys.stderr)
            return 2
        print(f"WARNING: serving MongoDB on {args.host} WITHOUT AUTHENTICATION: anyone who reaches it can read and change "
              "every record", file=sys.stderr)
    try:
        server = start_embedded_server(args.data_dir.resolve(), port=args.port, host=args.host)
    except MongoUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    print(f"MongoDB (SecantusDB) serving {args.data_dir} at {server.uri} — set MONGO_URI={server.uri}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="crawl the local replica of both portals into MongoDB and summarise")
    demo.add_argument("--articles", type=int, default=1000, help="articles per portal in the replica (default 1000)")
    demo.add_argument("--data-dir", type=Path, default=Path("data"), help="where MongoDB data and logs go (default ./data)")
    demo.add_argument("--fault-rate", type=float, default=0.03, help="share of first requests the replica fails")
    demo.set_defaults(run=_demo)

    schedule = commands.add_parser("schedule", help="schedule a spider on scrapyd unless a job of it is pending or running")
    schedule.add_argument("spider", choices=NAMES)
    schedule.add_argument("--scrapyd", action="append", metavar="URL",
                          help="a scrapyd node; repeat (or list, comma-separated) for several; default $SCRAPYD_URL "
                               "(credentials: SCRAPYD_USERNAME and SCRAPYD_PASSWORD, else ~/.netrc)")
    schedule.add_argument("--project", default=os.environ.get("SCRAPYD_PROJECT", "haiphong_portal"))
    schedule.add_argument("-a", dest="arg", action="append", default=[], metavar="NAME=VALUE", help="spider argument")
    schedule.add_argument("-s", dest="set", action="append", default=[], metavar="NAME=VALUE", help="job setting")
    schedule.set_defaults(run=_schedule)

    exporter = commands.add_parser("export", help="write articles for analysts: Parquet, CSV, JSON Lines, with a manifest")
    exporter.add_argument("--out", type=Path, default=Path("exports"), help="folder for the files (default ./exports)")
    exporter.add_argument("--format", action="append", choices=["parquet", "csv", "jsonl"], help="repeat for several; default all")
    exporter.add_argument("--site", choices=NAMES)
    exporter.add_argument("--since", type=_vietnam_date, help="published on or after this Vietnam date (YYYY-MM-DD), or a time with offset")
    exporter.add_argument("--until", type=_vietnam_date, help="published before this Vietnam date (YYYY-MM-DD), or a time with offset")
    exporter.add_argument("--category", help="category slug (path) or name, e.g. an-ninh-quoc-phong or 'An ninh - Quốc phòng'")
    exporter.add_argument("--changed-since", type=_changed_since,
                          help="a date, or 'last': what changed since this target's last delta")
    exporter.add_argument("--target", default="default", help="name of the handoff whose watermark --changed-since last uses")
    exporter.add_argument("--collection", default="articles", choices=["articles", "rejects", "article_revisions"],
                          help="what to export (default articles); rejects and article_revisions as JSON Lines")
    exporter.add_argument("--name", help="stable file name (without extension) instead of articles-<target>-<UTC time>")
    exporter.set_defaults(run=_export)

    report = commands.add_parser("report", help="write one self-contained HTML report of what MongoDB holds")
    report.add_argument("--out", type=Path, default=Path("exports/report.html"))
    report.set_defaults(run=_report)

    mongo = commands.add_parser("mongo-server", help="run the embedded MongoDB as a long-lived local service for jobs to share")
    mongo.add_argument("--data-dir", type=Path, default=Path("data/mongo"))
    mongo.add_argument("--host", default="127.0.0.1", help="loopback only, unless --allow-remote")
    mongo.add_argument("--allow-remote", action="store_true", help="serve a non-loopback address (no authentication!)")
    mongo.add_argument("--port", type=int, default=27017)
    mongo.set_defaults(run=_mongo_server)

    health = commands.add_parser("health", help="each spider's last run and monitors; exit 0 all well, 1 a problem, 2 no MongoDB")
    health.add_argument("--json", action="store_true", help="one JSON document, for machines")
    health.add_argument("--max-age", type=float, default=float(os.environ.get("PORTAL_HEALTH_MAX_AGE_HOURS", "36")),
                        help="hours the last successful run may be old (default 36)")
    health.add_argument("--timeout", type=int, default=5, help="seconds to wait for MongoDB (default 5)")
    health.add_argument("--data-dir", type=Path, default=Path(os.environ.get("PORTAL_DATA_DIR", "data")),
                        help="without MONGO_URI: the data folder whose embedded MongoDB to read (default ./data, as make demo)")
    health.add_argument("--spider", action="append", choices=NAMES, help="repeat; default every portal")
    health.set_defaults(run=_health)

    reparse = commands.add_parser("reparse", help="re-extract the archived responses with today's parsers (no network)")
    reparse.add_argument("--data-dir", type=Path, default=Path(os.environ.get("PORTAL_DATA_DIR", "data")),
                         help="the crawls' PORTAL_DATA_DIR (default ./data): the archive is in its archive/ folder")
    reparse.add_argument("--site", action="append", choices=NAMES, help="repeat; default every portal with an archive")
    reparse.add_argument("--since", type=_vietnam_date, help="only articles fetched on or after this Vietnam date")
    reparse.add_argument("--processes", type=int, help="processes to share the work (default: one a core)")
    reparse.add_argument("--shard", help=argparse.SUPPRESS)  # n/N: the share of one process (with one --site)
    reparse.set_defaults(run=_reparse)

    replay = commands.add_parser("replay-spill", help="write what crawls spilled to files while MongoDB was away")
    replay.add_argument("--data-dir", type=Path, default=Path(os.environ.get("PORTAL_DATA_DIR", "data")),
                        help="the crawls' PORTAL_DATA_DIR (default ./data): spill files are in its spill/ folder")
    replay.add_argument("--spider", choices=NAMES, help="only this spider's spills")
    replay.set_defaults(run=_replay_spill)

    args = parser.parse_args(argv)
    if args.command == "health" and not args.spider:
        args.spider = list(NAMES)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
