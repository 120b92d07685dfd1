"""`python -m crawler backup --out FILE`: the configured database in one file."""

from __future__ import annotations

import argparse
from pathlib import Path

from crawler.cli.common import data_dir_argument, database


def run(args: argparse.Namespace) -> int:
    from crawler.storage.backup import backup

    with database(args.data_dir) as db:
        report = backup(db, args.out)
    print(f"backed up {db.name} to {args.out}: " + ", ".join(f"{name} {count}" for name, count in report.counts.items()))
    return 0


def add_to(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("backup", help="the database (MONGO_URI, else the embedded one) into one file")
    parser.add_argument("--out", type=Path, required=True, help="the backup file (gzip-compressed BSON), written atomically")
    data_dir_argument(parser, "without MONGO_URI, the embedded MongoDB in its mongo/ folder is backed up")
    parser.set_defaults(run=run)
