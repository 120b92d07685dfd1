"""`python -m crawler reparse`: the archived responses through today's parsers and pipelines, with no network.

The work is shared among processes (`spiders/reparse_processes.py`, beside the reparse spider);
this command checks its arguments, opens MongoDB by the one rule, and prints what changed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crawler.cli.common import NoDatabase, connected, data_dir_argument, mongo_uri, vietnam_date
from crawler.portals import NAMES


def run(args: argparse.Namespace) -> int:
    from crawler.operations.runs import EXIT_REFUSED
    from spiders.reparse_processes import SpiderBusy, archived_sites, reparse_in_processes, reparse_shard

    archive = args.data_dir.resolve() / "archive"
    if args.shard:
        [site] = args.site
        return reparse_shard(site, archive, args.data_dir, args.shard, args.since, args.counts_file)
    sites = archived_sites(archive, args.site or list(NAMES))
    if not sites:
        print(f"reparse: no archive of {', '.join(args.site or NAMES)} in {archive} (PORTAL_ARCHIVE_ENABLED keeps one)",
              file=sys.stderr)
        return 1
    processes = max(1, (args.processes or os.cpu_count() or 1) // len(sites))
    try:
        with mongo_uri(args.data_dir, create=True) as uri:
            with connected(uri):  # one clear line when the server cannot be reached, not a traceback a process
                pass
            result = reparse_in_processes(uri, args.data_dir, sites, processes, args.since)
    except NoDatabase as error:
        print(f"reparse: {error}", file=sys.stderr)
        return 1
    except SpiderBusy as error:
        print(f"reparse: {error}", file=sys.stderr)
        return EXIT_REFUSED
    for site, counts in result.counts.items():
        n = counts.get("reparse/articles", 0)
        print(f"{site}: {n} archived articles re-extracted in {result.seconds:.1f} s ({n / result.seconds:.0f}/s, "
              f"{result.processes} processes): {counts.get('articles/new', 0)} new, {counts.get('articles/changed', 0)} changed, "
              f"{counts.get('articles/unchanged', 0)} unchanged, {counts.get('rejects/total', 0)} rejected, "
              f"{counts.get('reparse/images_missing', 0)} images missing from the archive")
    if isinstance(result.reposts, str):
        print(f"reparse: reposts not settled ({result.reposts}); the next crawl's reposts job settles them", file=sys.stderr)
        return max(result.exit_code, 1)
    reposts = result.reposts
    print(f"reposts: {reposts['reposts/settled']} articles settled, {reposts['articles/reposts']} linked to an original, "
          f"{reposts['reposts/for_review']} close pairs for review")
    return result.exit_code


def add_to(commands: argparse._SubParsersAction) -> None:
    reparse = commands.add_parser("reparse", help="re-extract the archived responses with today's parsers (no network)")
    data_dir_argument(reparse, "the archive is in its archive/ folder")
    reparse.add_argument("--site", action="append", choices=NAMES, help="repeat; default every portal with an archive")
    reparse.add_argument("--since", type=vietnam_date, help="only articles fetched on or after this Vietnam date")
    reparse.add_argument("--processes", type=int, help="processes to share the work (default: one a core)")
    reparse.add_argument("--shard", help=argparse.SUPPRESS)  # n/N: the share of one process (with one --site)
    reparse.add_argument("--counts-file", type=Path, help=argparse.SUPPRESS)  # where a process reports its counts
    reparse.set_defaults(run=run)
