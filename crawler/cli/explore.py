"""`python -m crawler explore`: the search database in Datasette, on loopback; built from MongoDB when missing."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

from crawler.cli.common import data_dir_argument, database, usage_error


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (systemd, a test, `kill`) stops Datasette and pywb as Ctrl-C does: no orphans


def run(args: argparse.Namespace) -> int:
    from crawler.storage.mongo import is_loopback

    signal.signal(signal.SIGTERM, _stop)

    if not is_loopback(args.host) and not args.allow_remote:
        print(f"explore: refusing to serve on {args.host}: the data is for the team (use --allow-remote to serve it anyway)",
              file=sys.stderr)
        return 2
    db_path = (args.db or args.data_dir / "articles.db").resolve()
    if args.db and not db_path.exists() and not args.rebuild:  # a mistyped --db is not a place to build a new database
        return usage_error(f"no search database at {db_path}: give an existing one, add --rebuild to build it there from "
                           "MongoDB, or leave --db out to use <data-dir>/articles.db")
    archive = args.data_dir.resolve() / "archive"
    replay = None
    if not args.no_replay and any(archive.glob("*.warc.gz")):
        from crawler.handoff.replay import prepare_collection, start_replay

        files = prepare_collection(args.data_dir.resolve() / "replay", archive)
        replay = start_replay(args.data_dir.resolve() / "replay", args.host, args.replay_port)
        print(f"pywb: http://{args.host}:{args.replay_port}/haiphong/ replays {files} archive files", flush=True)
    try:
        return serve(args, db_path, archive if replay is not None else None)
    except KeyboardInterrupt:
        return 0  # stopped while building the database
    finally:
        if replay is not None:
            replay.terminate()
            replay.wait(timeout=30)


def serve(args: argparse.Namespace, db_path: Path, archive: Path | None) -> int:
    if args.rebuild or not db_path.exists():
        from crawler.handoff.export import ExportFilters, export

        links = None
        if archive is not None:
            from crawler.handoff.replay import archive_links

            links = archive_links(archive, f"http://{args.host}:{args.replay_port}")
        print(f"building {db_path} from MongoDB…", flush=True)
        with database(args.data_dir) as mongo:
            result = export(mongo, db_path.parent, ["sqlite"], ExportFilters(), target="explore", name=db_path.stem, progress=False,
                            archive_url=links)
        print(f"{result.rows} articles in {db_path}", flush=True)
    try:
        from datasette import __version__  # noqa: F401 - the analysts' extra
    except ImportError:
        print("explore: Datasette is not installed: pip install '.[analysts]' (make install does)", file=sys.stderr)
        return 1
    import sqlite_utils

    from crawler.handoff.explore import PLUGINS_DIR, metadata

    columns = [c.name for c in sqlite_utils.Database(db_path)["articles"].columns]
    meta = db_path.with_suffix(".metadata.json")
    meta.write_text(json.dumps(metadata(db_path.stem, columns), ensure_ascii=False, indent=2), encoding="utf-8")
    command = [sys.executable, "-m", "datasette", "serve", str(db_path), "--metadata", str(meta), "--plugins-dir", str(PLUGINS_DIR),
               "--host", args.host, "--port", str(args.port), "--setting", "default_page_size", "50",
               "--setting", "sql_time_limit_ms", "5000", "--setting", "facet_time_limit_ms", "1000",
               "--setting", "suggest_facets", "off"]  # suggestions cost 10 times the search itself (bench/handoff.py)
    print(f"Datasette: http://{args.host}:{args.port}/  (Ctrl-C stops it)", flush=True)
    server = subprocess.Popen(command)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=30)
        return 0


def add_to(commands: argparse._SubParsersAction) -> None:
    explore = commands.add_parser("explore", help="search and browse the articles in a web page (Datasette, on 127.0.0.1)")
    data_dir_argument(explore, "the search database is <data-dir>/articles.db; without MONGO_URI, the embedded MongoDB is read")
    explore.add_argument("--db", type=Path, help="the search database to serve (default <data-dir>/articles.db, built from "
                         "MongoDB when missing; a --db that does not exist needs --rebuild)")
    explore.add_argument("--rebuild", action="store_true", help="build the search database from MongoDB even if it exists")
    explore.add_argument("--host", default="127.0.0.1", help="loopback only, unless --allow-remote")
    explore.add_argument("--allow-remote", action="store_true", help="serve a non-loopback address (no authentication!)")
    explore.add_argument("--port", type=int, default=8001)
    explore.add_argument("--replay-port", type=int, default=8002, help="pywb, replaying the archive (default 8002)")
    explore.add_argument("--no-replay", action="store_true", help="do not start pywb")
    explore.set_defaults(run=run)
