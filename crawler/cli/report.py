"""`python -m crawler report`: one self-contained HTML report of what MongoDB holds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.cli.common import data_dir_argument, database, unwritable_folder, usage_error


def run(args: argparse.Namespace) -> int:
    from crawler.handoff.report import write_report

    if args.out.is_dir():
        return usage_error(f"--out {args.out} is a folder: give the report's file name, e.g. {args.out / 'report.html'}")
    if (problem := unwritable_folder(args.out.parent)) is not None:
        print(f"report: {problem}", file=sys.stderr)
        return 1
    with database(args.data_dir) as db:
        print(f"report: {write_report(db, args.out)}")
    return 0


def add_to(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="write one self-contained HTML report of what MongoDB holds")
    report.add_argument("--out", type=Path, default=Path("exports/report.html"))
    data_dir_argument(report, "without MONGO_URI, the embedded MongoDB in its mongo/ folder is read")
    report.set_defaults(run=run)
