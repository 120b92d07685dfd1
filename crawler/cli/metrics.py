"""`python -m crawler metrics`: each portal's last run in the Prometheus text format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pymongo.errors import PyMongoError

from crawler.cli.common import NoDatabase, data_dir_argument, database
from crawler.portals import NAMES
from crawler.urls import redact


def run(args: argparse.Namespace) -> int:
    from prometheus_client import generate_latest

    from crawler.operations.metrics import registry_for
    from crawler.storage.files import write_atomically

    spill_dir = args.data_dir.resolve() / "spill"
    code = 0
    try:
        with database(args.data_dir, timeout_ms=args.timeout * 1000) as db:
            registry = registry_for(db, list(NAMES), spill_dir)
            text = generate_latest(registry)
    except (NoDatabase, PyMongoError) as error:
        print(f"metrics: MongoDB cannot be read ({redact(str(error).splitlines()[0])[:200]}): haiphong_crawler_up 0", file=sys.stderr)
        text, code = generate_latest(registry_for(None, list(NAMES), spill_dir)), 1
    if args.out:
        write_atomically(args.out, lambda tmp: tmp.write_bytes(text))  # node_exporter never reads half a file
    else:
        sys.stdout.write(text.decode())
    return code


def add_to(commands: argparse._SubParsersAction) -> None:
    metrics = commands.add_parser("metrics", help="each portal's last run as Prometheus metrics (for node_exporter's textfile collector)")
    metrics.add_argument("--out", type=Path, help="write to this file, atomically (default: stdout)")
    metrics.add_argument("--timeout", type=int, default=5, help="seconds to wait for MongoDB (default 5)")
    data_dir_argument(metrics, "its spill/ folder is counted; without MONGO_URI, the embedded MongoDB in its mongo/ folder is read")
    metrics.set_defaults(run=run)
