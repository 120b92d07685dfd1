"""`python -m crawler prune`: the raw archive kept for PORTAL_ARCHIVE_KEEP_DAYS, never a page's newest copy."""

from __future__ import annotations

import argparse
import os

from crawler.cli.common import data_dir_argument


def run(args: argparse.Namespace) -> int:
    from crawler.dates import utc_now
    from crawler.storage.retention import apply, plan_prune

    folder = args.data_dir.resolve() / "archive"
    max_bytes = int(args.max_gb * 1024**3) if args.max_gb else None
    plan = plan_prune(folder, utc_now(), args.keep_days, max_bytes)
    if not args.dry_run:
        apply(plan)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"archive {folder}: {verb} {len(plan.delete)} files ({(plan.bytes_before - plan.bytes_after) / 1e6:.1f} MB), "
          f"{plan.bytes_after / 1e6:.1f} MB left; kept {len(plan.kept_newest)} old files holding a page's newest copy")
    return 0


def add_to(commands: argparse._SubParsersAction) -> None:
    prune = commands.add_parser("prune", help="delete archive files past the retention (never a page's newest copy)")
    data_dir_argument(prune, "its archive/ folder is pruned")
    prune.add_argument("--keep-days", type=float, default=float(os.environ.get("PORTAL_ARCHIVE_KEEP_DAYS") or 30),
                       help="days an archive file is kept (default $PORTAL_ARCHIVE_KEEP_DAYS, else 30)")
    prune.add_argument("--max-gb", type=float, default=float(os.environ.get("PORTAL_ARCHIVE_MAX_GB") or 0) or None,
                       help="then delete the oldest files until the archive fits (default $PORTAL_ARCHIVE_MAX_GB, else no cap)")
    prune.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    prune.set_defaults(run=run)
