"""Files the project writes, created so that nothing planted in a folder can redirect them.

Every file is first created under a unique name of `tempfile.mkstemp` in its own folder (a new
file, `O_EXCL`, never through a symlink someone left there), then moved into place: a whole file
(`write_atomically`) is renamed over its name once written, so a reader never sees half of it;
a file that grows while a crawl runs (`create_new`: the archive, a spill) is linked to its name
at once, and fails if anything, a symlink included, already stands there.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any


def readable_mode() -> int:
    """The mode a new file gets under the process's umask (0644 under the usual 022)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename: no half file, ever."""
    with atomic_path(path) as tmp:
        write(tmp)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` to write while the block runs; renamed over `path` when the block ends
    without an error, removed otherwise (several can be open at once: a file set written in one pass)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with tmp.open("rb") as written:
            os.fsync(written.fileno())
        os.chmod(tmp, readable_mode())  # mkstemp makes 0600: other analysts must read the files
        os.replace(tmp, path)  # replaces a symlink standing at `path`, never what it points to
    finally:
        tmp.unlink(missing_ok=True)


def create_new(path: Path, mode: str = "ab", **open_args: Any) -> IO:
    """A new file at `path`, open for writing: made by mkstemp, then linked to its name (FileExistsError
    if anything is there already, a symlink included), so a file planted beforehand is never written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, readable_mode())
        os.link(tmp_name, path)
    except BaseException:
        os.close(handle)
        raise
    finally:
        os.unlink(tmp_name)
    return os.fdopen(handle, mode, **open_args)
