"""What the commands share: the one rule that opens the database, argument types, one-line errors."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pymongo.database import Database

from crawler.portals import DEFAULT_DATABASE

USAGE = 2  # exit status of a bad argument


class NoDatabase(RuntimeError):
    """No MongoDB to read: MONGO_URI unset and no embedded database in the data folder, or a server that does not answer."""


def data_dir_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("PORTAL_DATA_DIR", "data")),
                        help=f"the crawls' PORTAL_DATA_DIR (default ./data): {what}")


@contextlib.contextmanager
def mongo_uri(data_dir: Path, create: bool = False) -> Iterator[str]:
    """The one rule every command opens MongoDB by: MONGO_URI, else the embedded database the crawls keep in
    the data folder (`<data-dir>/mongo`), served for as long as the command runs. For a command that only
    reads, a folder without one is an error, never a new empty database; one that writes (`create`: reparse,
    replay-spill) may start it. Raises NoDatabase.

    One server for the whole command: two crawlers in one process cannot each open the same folder.
    """
    from crawler.storage.mongo import MongoUnavailable, start_embedded_server

    if uri := os.environ.get("MONGO_URI"):
        yield uri
        return
    folder = data_dir.resolve() / "mongo"
    if not create and (not folder.is_dir() or not any(folder.iterdir())):
        raise NoDatabase(f"MONGO_URI is not set and {folder} holds no embedded database (the crawls' PORTAL_DATA_DIR is "
                         "given by --data-dir); set MONGO_URI to read a MongoDB server")
    try:
        server = start_embedded_server(folder)
    except MongoUnavailable as error:
        raise NoDatabase(str(error)) from error
    try:
        yield server.uri
    finally:
        server.stop()


@contextlib.contextmanager
def connected(uri: str, timeout_ms: int = 5000) -> Iterator[Database]:
    """The crawl's database (MONGO_DATABASE) on that server, for as long as the block runs (raises NoDatabase)."""
    from crawler.storage.mongo import MongoUnavailable, connect

    try:
        client, db = connect(uri, os.environ.get("MONGO_DATABASE", DEFAULT_DATABASE), timeout_ms=timeout_ms)
    except MongoUnavailable as error:
        raise NoDatabase(str(error)) from error
    try:
        yield db
    finally:
        client.close()


@contextlib.contextmanager
def database(data_dir: Path, timeout_ms: int = 5000, create: bool = False) -> Iterator[Database]:
    """The database by the one rule (`mongo_uri`), connected (raises NoDatabase)."""
    with mongo_uri(data_dir, create) as uri, connected(uri, timeout_ms) as db:
        yield db


def usage_error(message: str) -> int:
    print(f"python -m crawler: error: {message}", file=sys.stderr)
    return USAGE


def unwritable_folder(folder: Path) -> str | None:
    """Why files cannot be written in `folder` (created if need be), or None when they can."""
    if folder.exists() and not folder.is_dir():
        return f"{folder} exists and is not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return f"cannot write in {folder}: {error.strerror or error}"
    return None


def vietnam_date(value: str) -> datetime:
    """An ISO date or time: a date alone, or a time without offset, is Vietnam's (Asia/Ho_Chi_Minh)."""
    from crawler.dates import PORTAL_TZ

    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: write it as YYYY-MM-DD (a Vietnam date), "
                                         "or YYYY-MM-DDTHH:MM+07:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=PORTAL_TZ)


def changed_since(value: str) -> datetime | str:
    return "last" if value == "last" else vietnam_date(value)
