"""Execute lecture notebooks in place, the way CI re-executes them, and report each one's wall-clock time.

Usage: python tools/run_notebooks.py [--timeout S] [--times FILE] notebooks/NN_topic.ipynb ...

Each notebook runs top to bottom in a fresh kernel of this Python environment, from its own folder. Outputs and
execution counts are stored (nbval needs both); per-cell timing metadata and other noise are not.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOISY_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def clean_metadata(nb: nbformat.NotebookNode) -> None:
    """Drop per-cell timings and widget state, keep the kernelspec and language info."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for key in NOISY_CELL_METADATA:
            cell.metadata.pop(key, None)


def execute(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    seconds = time.perf_counter() - start
    clean_metadata(nb)
    nbformat.write(nb, path)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell before giving up (120)")
    parser.add_argument("--times", type=Path, help="also write a Markdown table of the times here")
    args = parser.parse_args()
    if not args.notebooks:
        print("no notebooks yet in notebooks/: nothing to execute")
        return 0
    rows = []
    for path in args.notebooks:
        seconds = execute(path, args.timeout)
        size_kb = path.stat().st_size / 1024
        rows.append((path.name, seconds, size_kb))
        print(f"{path.name:<32} {seconds:6.1f} s  {size_kb:7.0f} KB", flush=True)
    if args.times:
        lines = ["| notebook | seconds | size (KB) |", "|---|---:|---:|"]
        lines += [f"| {name} | {sec:.1f} | {kb:.0f} |" for name, sec, kb in rows]
        args.times.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
