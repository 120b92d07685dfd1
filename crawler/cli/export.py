"""`python -m crawler export`: the articles (or rejects, revisions) as files for analysts, with a manifest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.cli.common import changed_since, data_dir_argument, database, unwritable_folder, usage_error, vietnam_date
from crawler.portals import NAMES, PORTALS


def run(args: argparse.Namespace) -> int:
    from crawler.handoff.export import FORMATS, ExportError, ExportFilters, export, export_collection

    if args.collection != "articles":
        others = [f"--{k.replace('_', '-')}" for k in ("since", "until", "category", "changed_since") if getattr(args, k)]
        if others or (args.format and args.format != ["jsonl"]):
            return usage_error(f"--collection {args.collection} exports JSON Lines and takes --site only, not "
                                f"{', '.join(others) or '--format ' + ','.join(args.format)}")
        if (problem := unwritable_folder(args.out)) is not None:
            print(f"export: {problem}", file=sys.stderr)
            return 1
        with database(args.data_dir) as db:
            result = export_collection(db, args.out, args.collection, args.site, args.name)
        print(f"exported {result.rows} {args.collection}: {result.files[0]}, {result.manifest}")
        return 0

    if args.since and args.until and args.since >= args.until:
        return usage_error(f"--since {args.since:%Y-%m-%d} is not before --until {args.until:%Y-%m-%d}: the range is empty")
    category = _category_slug(args.category, args.site) if args.category else None
    if isinstance(category, int):
        return category
    if (problem := unwritable_folder(args.out)) is not None:
        print(f"export: {problem}", file=sys.stderr)
        return 1
    filters = ExportFilters(site=args.site, since=args.since, until=args.until, category=category,
                            changed_since=args.changed_since)
    with database(args.data_dir) as db:
        try:
            result = export(db, args.out, args.format or list(FORMATS), filters, target=args.target, name=args.name)
        except ExportError as error:
            return usage_error(str(error))
        except OSError as error:
            print(f"export: could not write to {args.out} ({error.strerror or error}); nothing was left behind", file=sys.stderr)
            return 1
    if result.rows == 0:
        print("export: no article matches these filters", file=sys.stderr)
    print(f"exported {result.rows} articles: " + ", ".join(str(p) for p in [*result.files, result.manifest]))
    return 0


def _category_slug(wanted: str, site: str | None) -> str | int:
    """The slug of a category given by slug or by name (either portal's), or exit status 2 with the choices."""
    known = {name: slug for portal in PORTALS.values() if site in (None, portal.name)
             for slug, name in portal.categories.items()}
    from crawler.folding import matches

    for name, slug in known.items():
        if matches(wanted, slug) or matches(wanted, name):  # "An ninh - Quoc phong" finds "An ninh - Quốc phòng"
            return slug
    choices = "; ".join(f"{slug} ({name})" for name, slug in known.items())
    return usage_error(f"unknown category {wanted!r}; known: {choices}")


def add_to(commands: argparse._SubParsersAction) -> None:
    exporter = commands.add_parser("export", help="write articles for analysts: Parquet, CSV, JSON Lines, with a manifest")
    exporter.add_argument("--out", type=Path, default=Path("exports"), help="folder for the files (default ./exports)")
    exporter.add_argument("--format", action="append", choices=["parquet", "csv", "jsonl", "sqlite"],
                          help="repeat for several; default all (sqlite: the search database, <name>.db)")
    exporter.add_argument("--site", choices=NAMES)
    exporter.add_argument("--since", type=vietnam_date, help="published on or after this Vietnam date (YYYY-MM-DD), or a time with offset")
    exporter.add_argument("--until", type=vietnam_date, help="published before this Vietnam date (YYYY-MM-DD), or a time with offset")
    exporter.add_argument("--category", help="category slug (path) or name, e.g. an-ninh-quoc-phong or 'An ninh - Quốc phòng'")
    exporter.add_argument("--changed-since", type=changed_since,
                          help="a date, or 'last': what changed since this target's last delta")
    exporter.add_argument("--target", default="default", help="name of the handoff whose watermark --changed-since last uses")
    exporter.add_argument("--collection", default="articles", choices=["articles", "rejects", "article_revisions"],
                          help="what to export (default articles); rejects and article_revisions as JSON Lines")
    exporter.add_argument("--name", help="stable file name (without extension) instead of articles-<target>-<UTC time>")
    data_dir_argument(exporter, "without MONGO_URI, the embedded MongoDB in its mongo/ folder is read")
    exporter.set_defaults(run=run)
