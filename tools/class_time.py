"""How long each lecture takes in class, by one stated rule, and the line each lecture's first cell carries.

Usage: python tools/class_time.py [--write] [NOTEBOOK ...]

The rule: reading the prose aloud and discussing it at about 120 words a minute, plus about a minute per code cell
(run it, read its output), rounded to 5 minutes. It is a planning estimate, not a measurement; the unit test
``tests/test_class_time.py`` keeps every first cell's line equal to what the rule gives for the notebook as it is.
``--write`` puts (or updates) the line right after the first cell's "**Builds on:**" paragraph.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

WORDS_PER_MINUTE = 120
MINUTES_PER_CODE_CELL = 1.0
LINE_PATTERN = re.compile(r"^\*\*Time in class:\*\* .*$", re.MULTILINE)


def class_minutes(nb: nbformat.NotebookNode) -> tuple[int, int, int]:
    """``(minutes, words, code_cells)`` of a notebook by the rule above; the time line itself is not counted."""
    words = sum(len(re.findall(r"\w+", LINE_PATTERN.sub("", cell.source)))
                for cell in nb.cells if cell.cell_type == "markdown")
    code_cells = sum(1 for cell in nb.cells if cell.cell_type == "code")
    raw = words / WORDS_PER_MINUTE + code_cells * MINUTES_PER_CODE_CELL
    return max(5, 5 * round(raw / 5)), words, code_cells


def time_line(nb: nbformat.NotebookNode) -> str:
    minutes, words, code_cells = class_minutes(nb)
    return (f"**Time in class:** about {minutes} minutes ({words:,} words to read and discuss, {code_cells} code cells "
            "to run; estimated by `tools/class_time.py`).")


def with_time_line(source: str, line: str) -> str:
    """``source`` (a first cell) with ``line`` replacing its time line, or inserted after its "Builds on" paragraph."""
    if LINE_PATTERN.search(source):
        return LINE_PATTERN.sub(line, source)
    paragraphs = source.split("\n\n")
    index = next((i for i, p in enumerate(paragraphs) if p.startswith("**Builds on:**")), 0)
    paragraphs.insert(index + 1, line)
    return "\n\n".join(paragraphs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--write", action="store_true", help="update the line in each notebook's first cell")
    args = parser.parse_args()
    paths = args.notebooks or sorted(Path(__file__).resolve().parents[1].glob("notebooks/[0-9][0-9]*_*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        minutes, words, code_cells = class_minutes(nb)
        print(f"{path.name:<36} {minutes:>3} min  ({words:>5} words, {code_cells:>2} code cells)")
        if args.write:
            nb.cells[0].source = with_time_line(nb.cells[0].source, time_line(nb))
            nbformat.write(nb, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
