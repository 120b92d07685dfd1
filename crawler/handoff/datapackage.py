"""A Frictionless Data Package beside each export: what every file holds, in a form tools read.

`<name>.datapackage.json` lists the set's files. The CSV is described by a Table Schema generated
from the export's columns (`crawler.handoff.export.COLUMNS`, which come from the item model) and
the data dictionary: each field's type, its description, the primary key `id`, and the time zone
of each time (UTC, or Vietnam wall-clock for the `_local` columns). The other files are listed
with their format, size and SHA-256. `frictionless validate <name>.datapackage.json` checks the
whole set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from crawler.handoff.explore import dictionary_columns
from crawler.portals import PORTALS

_MEDIA = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "jsonl": "application/jsonl",
          "sqlite": "application/vnd.sqlite3"}


def _type(kind: pa.DataType) -> dict:
    if pa.types.is_timestamp(kind):
        zone = "UTC" if kind.tz else "Asia/Ho_Chi_Minh wall-clock time (UTC+07:00), without offset"
        return {"type": "datetime", "format": "any", "timeZone": zone}
    if pa.types.is_date(kind):
        return {"type": "date"}
    if pa.types.is_integer(kind):
        return {"type": "integer"}
    if pa.types.is_floating(kind):
        return {"type": "number"}
    if pa.types.is_boolean(kind):
        return {"type": "boolean"}
    return {"type": "string"}


def csv_schema() -> dict:
    """The Table Schema of the export's CSV: one field per CSV column, as the export flattens them (FLAT_COLUMNS)."""
    from crawler.handoff.export import FLAT_COLUMNS, LIST_SEPARATOR

    described = dictionary_columns()
    fields = []
    for c in FLAT_COLUMNS:
        meaning = described.get(c.column, c.column)
        description = f"{meaning}: its `{c.key}`" if c.key else meaning
        if c.kind is None:
            description += f", one per item, joined by `{LIST_SEPARATOR}`" if c.key else f", joined by `{LIST_SEPARATOR}`"
        fields.append({"name": c.name, "description": description, **({"type": "string"} if c.kind is None else _type(c.kind))})
    return {"fields": fields, "primaryKey": ["id"], "missingValues": [""]}


def write_datapackage(path: Path, files: list[dict], name: str, generated_at: str) -> None:
    """The package for an export set (`files` as the manifest lists them)."""
    resources = []
    for entry in files:
        fmt = entry["format"]
        resource = {"name": entry["name"].rsplit(".", 1)[0].lower().replace("_", "-") + f"-{fmt}", "path": entry["name"],
                    "format": fmt, "mediatype": _MEDIA.get(fmt, "application/octet-stream"), "bytes": entry["bytes"],
                    "hash": f"sha256:{entry['sha256']}"}
        if fmt == "csv":
            resource |= {"type": "table", "encoding": "utf-8-sig", "dialect": {"csv": {"delimiter": ","}}, "schema": csv_schema()}
        else:
            resource["type"] = "file"
        resources.append(resource)
    package = {
        "name": name.lower().replace("_", "-"),
        "title": "Tin tức các cổng thông tin Hải Phòng · Hải Phòng government portals' news",
        "description": "Articles of the city news portal and the city police portal, one row each; times in UTC, with "
                       "Vietnam wall-clock columns (_local). See docs/data-dictionary.md.",
        "created": generated_at,
        "sources": [{"title": p.title, "path": p.public_origin} for p in PORTALS.values()],
        "licenses": [{"name": "other-closed", "title": "Content belongs to the portals; for internal analysis only"}],
        "resources": resources,
    }
    path.write_text(json.dumps(package, ensure_ascii=False, indent=2), encoding="utf-8")
