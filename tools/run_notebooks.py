"""Execute lecture notebooks in place, the way CI re-executes them, and report each one's wall-clock time.

Usage: python tools/run_notebooks.py [--timeout S] [--times FILE] notebooks/NN_topic.ipynb ...

Each notebook runs top to bottom in a fresh kernel of this Python environment, from its own folder. Outputs and
execution counts are stored (nbval needs both); per-cell timing metadata and other noise are not. Each notebook's
line also names its slowest code cell (by execution count) and that cell's seconds: every cell of a lecture should
finish in seconds, live in class.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
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


def execute(path: Path, timeout: int) -> tuple[float, int, float]:
    """Run ``path`` in place; its wall-clock seconds, and the execution count and seconds of its slowest code cell."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    seconds = time.perf_counter() - start
    slowest = max(((cell.execution_count or 0, cell_seconds(cell)) for cell in nb.cells if cell.cell_type == "code"),
                  key=lambda pair: pair[1], default=(0, 0.0))
    clean_metadata(nb)
    nbformat.write(nb, path)
    return seconds, slowest[0], slowest[1]


def cell_seconds(cell: nbformat.NotebookNode) -> float:
    """Seconds a code cell took (from the kernel's execute_input to its execute_reply), 0 if not recorded."""
    timing = cell.metadata.get("execution", {})
    try:
        began = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        ended = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return (ended - began).total_seconds()


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
        seconds, slowest_cell, slowest_seconds = execute(path, args.timeout)
        size_kb = path.stat().st_size / 1024
        rows.append((path.name, seconds, size_kb, slowest_cell, slowest_seconds))
        print(f"{path.name:<40} {seconds:6.1f} s  {size_kb:7.0f} KB  slowest cell [{slowest_cell}] "
              f"{slowest_seconds:.1f} s", flush=True)
    if args.times:
        lines = ["| notebook | seconds | size (KB) | slowest cell | its seconds |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {name} | {sec:.1f} | {kb:.0f} | [{cell}] | {cell_sec:.1f} |"
                  for name, sec, kb, cell, cell_sec in rows]
        args.times.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
