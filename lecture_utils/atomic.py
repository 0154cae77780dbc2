"""Atomic file writes: a result file is either absent, the old version, or complete; never half-written.

Each writer writes to a temporary file in the destination's folder, flushes it to disk, then renames it over the
destination (``os.replace`` is atomic on one file system). An interrupted run leaves at most a stray ``.tmp-*`` file.
"""
from __future__ import annotations

import os
import secrets
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from .errors import ConfigError

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text", "check_writable"]


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``, on an error it is deleted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Mode 0o666 with the process's umask applied by the kernel, as for any ordinary file (mkstemp would make 0600);
    # O_EXCL makes the name ours alone.
    while True:
        tmp_name = str(path.parent / f".tmp-{path.name}-{secrets.token_hex(6)}")
        try:
            fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
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


#: Compressed suffixes a result file could be asked for: only gzip is written (``.gz``); the others are refused.
OTHER_COMPRESSIONS = (".bz2", ".xz", ".zip", ".zst", ".tar")


def check_writable(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Fail early, with a :class:`ConfigError` naming ``option``, if ``path`` cannot be written; create its folder.

    Refused: an empty name, a folder (or a name ending in a path separator), an existing path that is not a regular
    file (a device such as ``/dev/full``, a pipe, a socket: an atomic write would replace it), a link loop, a
    compression other than gzip, and a folder that cannot be written. A link to a file is followed: the returned
    path is its target, so the write goes through the link instead of replacing it.
    """
    text = os.fspath(path)
    path = Path(path)
    example = "give a file name such as runs/a2c.csv"
    if not text:
        raise ConfigError(f"invalid {option} '': it is empty; {example}")
    if path.is_dir() or text.endswith((os.sep, "/")):
        raise ConfigError(f"invalid {option} {text!r}: it is a folder; {example}")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:  # a link loop, a path through a file, no permission to look
        raise ConfigError(f"invalid {option} {text!r}: cannot use it ({exc.strerror or exc}); {example}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise ConfigError(f"invalid {option} {text!r}: it exists and is not a regular file (a device, pipe or "
                          f"socket), which a result file must not replace; {example}")
    if path.suffix.lower() in OTHER_COMPRESSIONS:
        raise ConfigError(f"invalid {option} {text!r}: {path.suffix} is not written here; use .csv, or .csv.gz for gzip")
    if path.is_symlink():  # write through a link to its target; replacing the link itself would surprise
        path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-check-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"invalid {option} {str(path)!r}: cannot write there ({exc.strerror or exc}); choose a writable path"
        ) from None
    return path
