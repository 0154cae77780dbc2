"""The course's figure rules: on figures drawn here (a good one passes, bad ones fail), and on every figure stored
in the committed notebooks, through the description that ``show_figure`` stores in each output's metadata."""
import base64
import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from lecture_utils import setup  # noqa: E402
from lecture_utils.plotting import (FIGURE_METADATA_KEY, MIN_DPI, compact_png, course_style, describe_figure,  # noqa: E402
                                    figure_output, figure_problems, legend_outside)

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
MAX_NOTEBOOK_BYTES = 1_000_000


@pytest.fixture(autouse=True)
def course_style_applied():
    with matplotlib.rc_context():
        setup(seed=0)
        yield
    plt.close("all")


def good_figure():
    fig, ax = plt.subplots(figsize=(6, 3))
    x = np.arange(200)
    for k in range(10):
        ax.plot(x, np.sin(x / 20 + k) + k, label=f"config {k}")
    ax.axhline(0, color="grey", ls=":")  # an unlabelled reference line
    ax.set(xlabel="episode", ylabel="return (steps balanced)", title="Ten configs, ten distinct lines")
    legend_outside(ax)
    return fig


def test_a_good_figure_has_no_problems():
    description = describe_figure(good_figure())
    assert figure_problems(description) == []
    ax = description["axes"][0]
    assert description["dpi"] >= MIN_DPI and len(ax["lines"]) == 10 and ax["unlabelled_lines"] == 1
    assert ax["legend"]["outside"] and len(ax["legend"]["labels"]) == 10
    assert len({(line["color"], line["linestyle"]) for line in ax["lines"]}) == 10


def test_a_bad_figure_fails_every_rule():
    fig, (ax, other) = plt.subplots(1, 2, figsize=(6, 3), dpi=72)
    x = np.linspace(0, 1, 400)
    ax.plot(x, x, color="tab:orange", ls="-", label="+entropy")
    ax.plot(x, 1 - x, color="tab:orange", ls="-", label="+ratio clip")
    ax.plot(x, np.full_like(x, 0.95), color="tab:blue", label="flat")  # runs under the legend below
    ax.legend(loc="upper right", fontsize="x-small")
    other.plot(x, x, label="a")
    other.plot(x, x**2, label="b")  # two labelled lines and no legend
    problems = figure_problems(describe_figure(fig))
    text = "\n".join(problems)
    assert "dpi 72.0 < 100" in text
    assert "no figure title" in text
    assert "no title" in text and "no xlabel" in text and "no ylabel" in text
    assert "'+entropy' and '+ratio clip' share colour and style" in text
    assert "covers" in text
    assert "2 labelled lines, ['a', 'b'] in no legend" in text


def test_the_cycle_separates_ten_lines_in_colour_and_style():
    cycle = list(course_style()["axes.prop_cycle"])
    keys = [(entry["color"], entry["linestyle"]) for entry in cycle]
    assert len(set(keys)) == len(keys) >= 10
    assert all(a["color"] != b["color"] and a["linestyle"] != b["linestyle"] for a, b in zip(cycle, cycle[1:], strict=False))


def test_compact_png_keeps_close_line_colours_apart():
    fig, ax = plt.subplots(figsize=(4, 3))
    rng = np.random.default_rng(0)
    close = ["#E69F00", "#D55E00", "#F0A000", "#CC79A7", "#0072B2", "#56B4E9"]
    for color in close:
        ax.plot(rng.normal(size=300).cumsum(), color=color, lw=1.5)
    for _ in range(10):
        ax.plot(rng.normal(size=300).cumsum(), lw=0.7, alpha=0.3)  # many blended colours
    data = compact_png(fig)
    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=fig.dpi, bbox_inches="tight")
    image = Image.open(io.BytesIO(data))
    assert image.mode == "P"
    assert len(data) < len(full.getvalue())
    palette = {tuple(int(v) for v in matplotlib.colors.to_rgb(c) * np.array(255.0)) for c in close}
    kept = {rgb for _, rgb in image.convert("RGB").getcolors(maxcolors=1 << 16)}
    for rgb in palette:  # every line colour survives within a few levels per channel
        assert min(max(abs(a - b) for a, b in zip(rgb, k, strict=True)) for k in kept) <= 6, rgb


def test_figure_output_metadata_matches_the_png():
    data, metadata = figure_output(good_figure())
    description = metadata[FIGURE_METADATA_KEY]
    json.dumps(description)  # JSON-ready
    width, height = Image.open(io.BytesIO(data)).size
    assert abs(width - description["size_inches"][0] * description["dpi"]) <= 3
    assert abs(height - description["size_inches"][1] * description["dpi"]) <= 3


def stored_figures(path):
    nb = json.loads(path.read_text())
    for index, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                yield index, output


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_stored_figure_follows_the_rules(path):
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES, f"{path.name} is {path.stat().st_size} bytes"
    failures = []
    for index, output in stored_figures(path):
        description = output.get("metadata", {}).get(FIGURE_METADATA_KEY)
        if description is None:
            failures.append(f"cell {index}: a figure shown without show_figure (no description in its metadata)")
            continue
        failures += [f"cell {index}: {problem}" for problem in figure_problems(description)]
        width, height = Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"]))).size
        for pixels, inches, side in [(width, description["size_inches"][0], "width"),
                                     (height, description["size_inches"][1], "height")]:
            if pixels < inches * MIN_DPI - 3 or abs(pixels - inches * description["dpi"]) > 3:
                failures.append(f"cell {index}: PNG {side} {pixels} px for {inches} in at {description['dpi']} dpi")
    assert not failures, "\n".join(failures)
