"""Each lecture's first cell states its time in class, by the rule in tools/class_time.py, for the notebook as it is."""
import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("notebooks/[0-9][0-9]*_*.ipynb"))
_spec = importlib.util.spec_from_file_location("class_time", ROOT / "tools" / "class_time.py")
class_time = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(class_time)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_first_cell_states_time_and_what_it_builds_on(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source
    assert "**Builds on:**" in first
    assert class_time.time_line(nb) in first, "run `python tools/class_time.py --write` after editing a lecture"


def test_the_rule_counts_words_and_cells():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("word " * 1200),
                                         *[nbformat.v4.new_code_cell("1") for _ in range(20)]])
    assert class_time.class_minutes(nb) == (30, 1200, 20)  # 10 minutes of reading + 20 cells
    nb.cells[0].source += "\n\n" + class_time.time_line(nb)
    assert class_time.class_minutes(nb)[1] == 1200  # the time line itself is not counted
