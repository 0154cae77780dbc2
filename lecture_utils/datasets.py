"""Data sets in ``data/``: a gzipped CSV table plus a JSON sidecar recording how it was made.

Writing is atomic and byte-reproducible (gzip without timestamp or file name, fixed float format), so making a data
set twice gives the same ``.csv.gz`` bytes. Loading checks everything a stale or damaged file could get wrong and
answers with one line naming the command that rebuilds it.
"""
from __future__ import annotations

import ast
import datetime as dt
import functools
import gzip
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from .atomic import atomic_write_bytes, atomic_write_text
from .config import A2CConfig
from .cpu_path import cpu_path
from .errors import DataError

__all__ = ["DATA_DIR", "FLOAT_FORMAT", "encode_table", "write_dataset", "read_sidecar", "load_dataset",
           "rebuild_command", "code_fingerprint", "training_sources", "package_versions"]

PACKAGE_DIR = Path(__file__).resolve().parent
#: Where data sets live: the repository's ``data/`` (override with the LECTURE_DATA_DIR environment variable).
DATA_DIR = Path(os.environ.get("LECTURE_DATA_DIR", PACKAGE_DIR.parent / "data"))
#: Floats are stored with 6 significant digits: enough for every statistic the lectures show, and it keeps data/
#: small (the float32 training statistics carry about 7).
FLOAT_FORMAT = "%.6g"
#: The module training starts from; the fingerprint covers it and every package module it imports, transitively.
#: Where training starts: the lockstep trainer, which imports the single-seed trainer and everything below it.
TRAINING_ENTRY = "lockstep.py"


def rebuild_command(name: str) -> str:
    return f"make data {name}"


def table_path(name: str, data_dir: Path | None = None) -> Path:
    return Path(data_dir or DATA_DIR) / f"{name}.csv.gz"


def sidecar_path(name: str, data_dir: Path | None = None) -> Path:
    return Path(data_dir or DATA_DIR) / f"{name}.json"


def encode_table(table: pd.DataFrame, float_format: str = FLOAT_FORMAT) -> bytes:
    """The exact bytes stored for ``table``: CSV with ``float_format`` (default :data:`FLOAT_FORMAT`), gzip with no
    timestamp or name."""
    text = table.to_csv(index=False, float_format=float_format, lineterminator="\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    return buffer.getvalue()


#: What decoding a damaged table can raise (bad gzip, truncated stream, bad CSV): callers turn it into one line.
DECODE_ERRORS = (OSError, EOFError, ValueError, zlib.error, pd.errors.ParserError, pd.errors.EmptyDataError)


def decode_table(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(gzip.decompress(data)))


def training_sources(entry: str = TRAINING_ENTRY) -> list[str]:
    """The package's modules that training runs: ``entry`` and every ``lecture_utils`` module it imports,
    transitively (imports inside functions included), sorted. Derived from the code, so a new module joins by
    being imported."""
    found: set[str] = set()
    pending = [entry]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        for node in ast.walk(ast.parse((PACKAGE_DIR / name).read_text(), filename=name)):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:  # from .returns import x
                    pending.append(node.module.split(".")[0] + ".py")
                else:  # from . import returns
                    pending.extend(alias.name + ".py" for alias in node.names)
    return sorted(n for n in found if (PACKAGE_DIR / n).is_file())


def _without_docstrings(tree: ast.AST) -> ast.AST:
    """``tree`` without any statement that is only a string: module, class and function docstrings, and the
    attribute docstrings under dataclass fields (such as every field of ``A2CConfig``), which do nothing when run."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and all(isinstance(s, ast.stmt) for s in body):
                kept = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                                and isinstance(s.value.value, str))]
                if len(kept) != len(body):
                    setattr(node, field, kept or [ast.Pass()])
    return tree


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the syntax trees of :func:`training_sources`, docstrings and comments left out, so that editing
    prose does not change it while any change to what the code does (or to its messages) does."""
    digest = hashlib.sha256()
    for name in training_sources():
        tree = _without_docstrings(ast.parse((PACKAGE_DIR / name).read_text(), filename=name))
        digest.update(name.encode() + b"\0" + ast.dump(tree, include_attributes=False).encode() + b"\0")
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("torch", "numpy", "gymnasium", "pandas", "scipy", "lecture_utils"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PACKAGE_DIR, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        # Only the package's own code counts: data files being rewritten by this very run are not a code change.
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "."], cwd=PACKAGE_DIR,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit + ("+uncommitted-changes" if dirty else "")) if commit else "unknown"


def write_dataset(name: str, table: pd.DataFrame, *, description: str, configs: Mapping[str, A2CConfig],
                  seeds: Sequence[int], command: str, extra: Mapping[str, Any] | None = None,
                  data_dir: Path | None = None, float_format: str = FLOAT_FORMAT,
                  trainer: str | Mapping[str, str] = "lecture_utils.lockstep.train_seeds") -> Path:
    """Write ``data/<name>.csv.gz`` and its sidecar ``data/<name>.json``, each atomically (table first).

    ``trainer`` names the function that trained the runs, or one per configuration (recorded in the sidecar)."""
    payload = encode_table(table, float_format)
    path = table_path(name, data_dir)
    atomic_write_bytes(path, payload)
    sidecar = {
        "name": name,
        "description": description,
        "file": path.name,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "rows": int(len(table)),
        "columns": list(table.columns),
        "seeds": [int(s) for s in seeds],
        "configs": {key: cfg.to_dict() for key, cfg in configs.items()},
        "command": command,
        "rebuild": rebuild_command(name),
        "code_fingerprint": code_fingerprint(),
        "versions": package_versions(),
        # Another CPU path computes other last bits, and long runs part ways: say which path made this table.
        "cpu_path": cpu_path(),
        "git_commit": _git_commit(),
        # Which trainer made the runs (lockstep blocks give each seed the table train(config, seed) gives).
        "trainer": trainer if isinstance(trainer, str) else dict(trainer),
        "date": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        **(dict(extra) if extra else {}),
    }
    atomic_write_text(sidecar_path(name, data_dir), json.dumps(sidecar, indent=2, sort_keys=False) + "\n")
    return path


def read_sidecar(name: str, data_dir: Path | None = None) -> dict[str, Any]:
    """The sidecar of data set ``name``; :class:`DataError` if it is missing or unreadable."""
    path = sidecar_path(name, data_dir)
    fix = f"rebuild it with `{rebuild_command(name)}`"
    try:
        sidecar = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"data set {name!r}: {path} is missing; {fix}") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"data set {name!r}: {path} is unreadable ({exc.__class__.__name__}); {fix}") from None
    if not isinstance(sidecar, dict):
        raise DataError(f"data set {name!r}: {path} holds a JSON {type(sidecar).__name__}, not the sidecar's object; "
                        f"{fix}")
    return sidecar


def load_dataset(name: str, expected_configs: Mapping[str, A2CConfig] | None = None,
                 required_columns: Sequence[str] = (), data_dir: Path | None = None) -> pd.DataFrame:
    """Load data set ``name`` after checking it; any problem raises :class:`DataError` naming ``make data <name>``.

    Checks: sidecar and table exist; the table's SHA-256 matches the sidecar (no corruption or hand edits); it
    parses; it has ``required_columns`` and the sidecar's columns; and, if ``expected_configs`` is given, the
    configurations it was made with equal those (the code's current definition of the experiment).
    """
    fix = f"rebuild it with `{rebuild_command(name)}`"
    sidecar = read_sidecar(name, data_dir)
    path = table_path(name, data_dir)
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"data set {name!r}: {path} is missing; {fix}") from None
    except OSError as exc:  # a folder in its place, a link loop, no permission
        raise DataError(f"data set {name!r}: {path} cannot be read ({exc.strerror or exc.__class__.__name__}); "
                        f"{fix}") from None
    if hashlib.sha256(payload).hexdigest() != sidecar.get("sha256"):
        raise DataError(f"data set {name!r}: {path} does not match its recorded checksum (corrupt or edited); {fix}")
    try:
        table = decode_table(payload)
    except DECODE_ERRORS as exc:
        raise DataError(f"data set {name!r}: {path} cannot be parsed ({exc.__class__.__name__}); {fix}") from None
    recorded_columns = sidecar.get("columns", [])
    if not isinstance(recorded_columns, list) or not all(isinstance(c, str) for c in recorded_columns):
        raise DataError(f"data set {name!r}: its sidecar's 'columns' is not a list of column names; {fix}")
    if "rows" in sidecar and sidecar["rows"] != len(table):
        raise DataError(f"data set {name!r}: {path} has {len(table)} rows, its sidecar records {sidecar['rows']!r}; "
                        f"{fix}")
    missing = [c for c in list(required_columns) + recorded_columns if c not in table.columns]
    if missing:
        raise DataError(f"data set {name!r}: {path} lacks column(s) {sorted(set(missing))}; {fix}")
    if expected_configs is not None:
        current = {key: cfg.to_dict() for key, cfg in expected_configs.items()}
        try:  # fields added to A2CConfig since the data were made take their (switched-off) defaults
            recorded = {key: A2CConfig.from_dict(value).to_dict() for key, value in sidecar.get("configs", {}).items()}
        except (TypeError, AttributeError, ValueError):
            raise DataError(f"data set {name!r}: its sidecar records configurations this code cannot read; {fix}") from None
        if recorded != current:
            changed = sorted(k for k in set(recorded) | set(current) if recorded.get(k) != current.get(k))
            raise DataError(f"data set {name!r} was made with other settings than the code now defines "
                            f"(configs {changed}); {fix}")
    recorded_fingerprint = sidecar.get("code_fingerprint")
    if recorded_fingerprint != code_fingerprint():
        # Not an error: a change to training code may leave every number the same (the slice tests check that the
        # first episodes still come out as stored). But the reader should know the file predates the code.
        print(f"note: data set {name!r} was made by other training code (fingerprint "
              f"{str(recorded_fingerprint)[:12]}, now {code_fingerprint()[:12]}); `{rebuild_command(name)}` remakes it "
              "with this code", file=sys.stderr)
    return table
