"""`python -m crawler mongo-server`: the embedded MongoDB as a long-lived local service, loopback only."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from crawler.storage.mongo import MongoUnavailable, is_loopback, start_embedded_server

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


def add_to(commands: argparse._SubParsersAction) -> None:
    mongo = commands.add_parser("mongo-server", help="run the embedded MongoDB as a long-lived local service for jobs to share")
    mongo.add_argument("--data-dir", type=Path, default=Path("data/mongo"))
    mongo.add_argument("--host", default="127.0.0.1", help="loopback only, unless --allow-remote")
    mongo.add_argument("--allow-remote", action="store_true", help="serve a non-loopback address (no authentication!)")
    mongo.add_argument("--port", type=int, default=27017)
    mongo.set_defaults(run=run)
