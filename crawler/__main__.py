"""Command-line tools: `python -m crawler <command>`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="crawl the local replica of both portals into MongoDB and summarise")
    demo.add_argument("--articles", type=int, default=1000, help="articles per portal in the replica (default 1000)")
    demo.add_argument("--data-dir", type=Path, default=Path("data"), help="where MongoDB data and logs go (default ./data)")
    demo.add_argument("--fault-rate", type=float, default=0.03, help="share of first requests the replica fails")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from crawler.demo import DemoOptions, run_demo

        return run_demo(DemoOptions(articles_per_site=args.articles, data_dir=args.data_dir, fault_rate=args.fault_rate))
    return 2


if __name__ == "__main__":
    sys.exit(main())
