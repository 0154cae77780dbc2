"""Atomic file writes: a result file is either absent, the old version, or complete; never half-written.

Each writer writes to a temporary file in the destination's folder, flushes it to disk, then renames it over the
destination (``os.replace`` is atomic on one file system). An interrupted run leaves at most a stray ``.tmp-*`` file.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from .errors import ConfigError

_UMASK = os.umask(0)
os.umask(_UMASK)

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text", "check_writable"]


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``, on an error it is deleted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary shared files
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def check_writable(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Fail early, with a :class:`ConfigError` naming ``option``, if ``path`` cannot be written; create its folder."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"invalid {option} {str(path)!r}: it is a folder; give a file name such as runs/a2c.csv")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-check-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"invalid {option} {str(path)!r}: cannot write there ({exc.strerror or exc}); choose a writable path"
        ) from None
    return path
