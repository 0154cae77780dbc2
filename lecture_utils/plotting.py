"""The course's figure style, and plots of tidy per-episode tables (``config, seed, episode, <metric>``).

Knows DataFrames, not trainers. Every notebook figure goes through :func:`show_figure`, which stores a description
of the figure next to it; :func:`figure_problems` checks that description against the course's rules.

Every learning-curve plot shows the spread over seeds: thin per-seed traces, the median across seeds and the
interquartile band, never one curve alone.
"""
from __future__ import annotations

import io
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from .stats import COLLAPSE_THRESHOLD, final_returns, median_band, smoothed_curves, summarize_final

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_learning_curves", "plot_final_returns", "plot_metric_by_config", "plot_network_maps", "course_style",
           "cycle_style", "legend_outside", "compact_png", "describe_figure", "figure_problems", "figure_output",
           "show_figure", "metric_label", "METRIC_LABELS", "PALETTE", "LINESTYLES"]


def _pyplot():
    """matplotlib.pyplot, imported when the first figure is drawn (it costs most of a second at import)."""
    import matplotlib.pyplot as plt

    return plt


# -- the course's figure style ---------------------------------------------------------------------------------
#: Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/), without its yellow, which is
#: too pale on white for a projector. Order: the most distinct hues first.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
#: Line styles that pair with the palette: line ``i`` gets colour ``i % 7`` and style ``i % 4``, so the first 28
#: lines of an axes differ in colour or style, and any two consecutive lines in both.
LINESTYLES = ("-", "--", "-.", ":")
#: Colours with a fixed meaning: thresholds and reference lines, the median over runs, individual runs.
REFERENCE_COLOR = "#555555"
MEDIAN_COLOR = "#000000"
#: The smallest resolution of a stored figure: projector-ready.
MIN_DPI = 100
#: A legend inside the axes may cover at most this fraction of the plotted points.
MAX_LEGEND_COVER = 0.01
#: The key of a figure's description in the metadata of its notebook output (see :func:`describe_figure`).
FIGURE_METADATA_KEY = "lecture_utils/figure"


def course_style() -> dict:
    """The matplotlib settings every figure of the course uses; :func:`~lecture_utils.session.setup` applies them.

    100 dpi, text readable from the back of a room, and a property cycle of colour *and* line style from
    :data:`PALETTE` and :data:`LINESTYLES`, so lines stay distinct in grey scale and for colour-blind readers.
    """
    from cycler import cycler

    n = len(PALETTE) * len(LINESTYLES)
    return {
        "figure.figsize": (7.0, 3.6),
        "figure.dpi": MIN_DPI,
        "savefig.dpi": MIN_DPI,
        "font.size": 11,
        "axes.titlesize": 11.5,
        "figure.titlesize": 12.5,
        "axes.labelsize": 11,
        "xtick.labelsize": 10,
        "ytick.labelsize": 10,
        "legend.fontsize": 9.5,
        "legend.framealpha": 0.9,
        "lines.linewidth": 1.8,
        "axes.prop_cycle": cycler(color=[PALETTE[i % len(PALETTE)] for i in range(n)],
                                  linestyle=[LINESTYLES[i % len(LINESTYLES)] for i in range(n)]),
        "image.cmap": "viridis",
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "lecture",
    }


def cycle_style(index: int) -> dict:
    """Colour and line style of the ``index``-th entry of the course's property cycle (``color=``, ``linestyle=``)."""
    return {"color": PALETTE[index % len(PALETTE)], "linestyle": LINESTYLES[index % len(LINESTYLES)]}


def legend_outside(ax: "Axes", **kwargs):
    """A legend to the right of ``ax``, outside the data: for plots with many lines."""
    kwargs.setdefault("loc", "upper left")
    kwargs.setdefault("bbox_to_anchor", (1.01, 1.0))
    kwargs.setdefault("borderaxespad", 0.0)
    return ax.legend(**kwargs)


# -- plots of per-episode tables ----------------------------------------------------------------------------------
#: Axis labels in words, with units, for the metric columns of the per-episode tables.
METRIC_LABELS = {
    "return": "return (steps balanced)",
    "length": "episode length (steps)",
    "entropy": "policy entropy (nats)",
    "p_preferred": "P(preferred action)",
    "advantage_std": "advantage spread (std, reward units)",
    "actor_grad_norm": "actor gradient norm (L2)",
    "critic_grad_norm": "critic gradient norm (L2)",
    "actor_update_norm": "actor parameter change per Adam step (L2)",
    "critic_update_norm": "critic parameter change per Adam step (L2)",
}


def metric_label(metric: str, window: int = 1) -> str:
    """``metric`` in words with its unit (:data:`METRIC_LABELS`), plus the smoothing window if there is one."""
    label = METRIC_LABELS.get(metric, metric.replace("_", " "))
    return label if window <= 1 else f"{label}, mean of {window} episodes"


def plot_learning_curves(table: pd.DataFrame, metric: str = "return", window: int = 50, ax: "Axes | None" = None,
                         configs: Sequence[str] | None = None, per_seed: bool = True,
                         title: str | None = None, ylabel: str | None = None) -> "Axes":
    """Per-seed smoothed traces (thin), median across seeds (thick) and 25-75% band, one colour and line style per
    config (the course's cycle, :func:`cycle_style`). The legend sits inside the axes for up to three configs and to
    the right of it for more."""
    plt = _pyplot()
    ax = ax or plt.subplots()[1]
    configs = list(configs or table["config"].unique())
    curves = smoothed_curves(table[table["config"].isin(configs)], metric, window)
    band = median_band(table[table["config"].isin(configs)], metric, window)
    for index, config in enumerate(configs):
        style = cycle_style(index)
        if per_seed:
            for _, run in curves[curves["config"] == config].groupby("seed"):
                ax.plot(run["episode"], run[metric], color=style["color"], ls="-", alpha=0.25, lw=0.7)
        b = band[band["config"] == config]
        seeds = int(b["seeds"].max())
        ax.plot(b["episode"], b["median"], lw=2.2, label=f"{config}: median of {seeds} seeds", **style)
        ax.fill_between(b["episode"], b["q25"], b["q75"], color=style["color"], alpha=0.2, lw=0)
    ax.set_xlabel("episode")
    ax.set_ylabel(ylabel or metric_label(metric, window))
    if title:
        ax.set_title(title)
    if len(configs) <= 3:
        ax.legend(loc="best")
    else:
        legend_outside(ax)
    return ax


def plot_final_returns(table: pd.DataFrame, last: int = 100, ax: "Axes | None" = None,
                       threshold: float = COLLAPSE_THRESHOLD, xlabel: str = "configuration") -> "Axes":
    """Each seed's last-``last`` mean return as a dot, with the IQM and its 95% bootstrap CI, per config."""
    ax = ax or _pyplot().subplots()[1]
    final = final_returns(table, last)
    summary = summarize_final(table, last, threshold)
    configs = list(summary["config"])
    rng = np.random.default_rng(0)  # horizontal jitter only, so overlapping seeds stay visible
    for index, config in enumerate(configs):
        values = final.loc[final["config"] == config, "final"].to_numpy()
        ax.scatter(index + rng.uniform(-0.15, 0.15, len(values)), values, s=16, alpha=0.75, color=PALETTE[0],
                   label="one seed" if index == 0 else None)
        row = summary.iloc[index]
        ax.errorbar(index + 0.3, row["iqm"], yerr=[[row["iqm"] - row["iqm_low"]], [row["iqm_high"] - row["iqm"]]],
                    fmt="D", color=MEDIAN_COLOR, capsize=4, ms=5, label="IQM, 95% CI" if index == 0 else None)
    ax.axhline(threshold, color=PALETTE[3], ls=":", lw=1.2, label=f"collapse threshold ({threshold:g})")
    ax.set_xticks(range(len(configs)), configs)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"mean return, last {last} episodes")
    legend_outside(ax)
    return ax


def plot_metric_by_config(table: pd.DataFrame, metric: str, window: int = 50, ax: "Axes | None" = None,
                          log: bool = False) -> "Axes":
    """Median across seeds (and 25-75% band) of a smoothed metric, one line per config, no per-seed traces."""
    ax = plot_learning_curves(table, metric, window, ax=ax, per_seed=False)
    if log:
        ax.set_yscale("log")
    return ax


def plot_network_maps(grids: dict[str, pd.DataFrame], axes=None):
    """Two rows of heatmaps from :func:`~lecture_utils.network_maps.network_grid` tables, one column per agent:
    the critic's V(s) (top, each map with its own colour scale) and the actor's P(push right) (bottom, 0 to 1)."""
    plt = _pyplot()
    names = list(grids)
    if axes is None:
        fig, axes = plt.subplots(2, len(names), figsize=(3.6 * len(names), 6.2), squeeze=False,
                                 constrained_layout=True)
    for column, name in enumerate(names):
        grid = grids[name]
        angles = np.sort(grid["angle"].unique())
        velocities = np.sort(grid["angular_velocity"].unique())
        extent = (np.degrees(angles[0]), np.degrees(angles[-1]), velocities[0], velocities[-1])
        for row, (key, cmap, limits) in enumerate((("value", "viridis", None), ("p_right", "coolwarm", (0, 1)))):
            image = grid.pivot(index="angular_velocity", columns="angle", values=key).to_numpy()
            ax = axes[row][column]
            shown = ax.imshow(image, origin="lower", aspect="auto", extent=extent, cmap=cmap,
                              vmin=limits[0] if limits else None, vmax=limits[1] if limits else None)
            what = "critic V(s) (return)" if key == "value" else "actor P(push right)"
            plt.colorbar(shown, ax=ax, shrink=0.8).set_label(what)
            ax.set_title(f"{name}: {what.split(' (')[0]}")
            ax.set_xlabel("pole angle (deg)")
            ax.set_ylabel("angular velocity (rad/s)")
            ax.grid(False)
    return axes


# -- figures in a notebook -----------------------------------------------------------------------------------------
def compact_png(fig, colors: int | None = None, tolerance: int = 6) -> bytes:
    """``fig`` as a small PNG (tight bounding box, the figure's own dpi), with as few palette colours as it needs.

    A plot with ten noisy, anti-aliased per-seed traces has thousands of colours and compresses badly as a
    full-colour PNG. Here the palette adapts to the picture: a figure with at most 256 colours is stored exactly
    (lossless); otherwise the smallest palette of 32, 64, 128 or 256 colours is used that keeps every colour that
    covers a visible area (a line's colour, a band, text) within ``tolerance`` (0-255 per channel) of the original,
    so two lines of similar colour never merge into one. Only anti-aliasing edges are approximated. ``colors``
    forces a palette size instead.
    """
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    pixels = np.asarray(image).reshape(-1, 3)
    codes = (pixels[:, 0].astype(np.int64) << 16) | (pixels[:, 1].astype(np.int64) << 8) | pixels[:, 2]
    unique, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    out = io.BytesIO()
    if colors is None and len(unique) <= 256:
        exact = Image.fromarray(inverse.reshape(image.size[1], image.size[0]).astype(np.uint8), mode="P")
        palette = np.stack([(unique >> 16) & 255, (unique >> 8) & 255, unique & 255], axis=1).astype(np.uint8)
        exact.putpalette(palette.ravel().tolist())
        exact.save(out, format="PNG", optimize=True)
        return out.getvalue()
    # colours that fill at least 0.02% of the picture (or 40 pixels): line cores, bands, text, not edge blends
    visible = counts >= max(40, int(0.0002 * len(codes)))
    for n in ([colors] if colors else [32, 64, 128, 256]):
        quantized = image.quantize(colors=n, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        if colors is None and n < 256:
            table = np.asarray((quantized.getpalette() or [])[: 3 * n], dtype=np.int64).reshape(-1, 3)
            shown = table[np.asarray(quantized).reshape(-1)]
            error = np.abs(shown - pixels).max(axis=1)
            worst = np.zeros(len(unique), dtype=np.int64)
            np.maximum.at(worst, inverse, error)
            if worst[visible].max(initial=0) > tolerance:
                continue
        quantized.save(out, format="PNG", optimize=True)
        return out.getvalue()
    raise AssertionError("unreachable")  # pragma: no cover


def _renderer(fig):
    """The figure's renderer, after a draw (so legend positions and tick labels are final)."""
    fig.draw_without_rendering()
    return fig._get_renderer()


def _display_points(ax, renderer) -> np.ndarray:
    """Points of the data drawn in ``ax``, in display pixels, inside the axes: the vertices of every line (with 8
    points per segment, so a segment that crosses a legend counts), every scatter point and a grid over every bar."""
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    chunks = []
    for line in ax.get_lines():
        if not isinstance(line, Line2D) or not line.get_visible():
            continue
        xy = line.get_transform().transform(line.get_path().vertices)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) > 1:
            t = np.linspace(0.0, 1.0, 8, endpoint=False)[None, :, None]
            xy = np.concatenate([(xy[:-1, None, :] * (1 - t) + xy[1:, None, :] * t).reshape(-1, 2), xy[-1:]])
        chunks.append(xy)
    for collection in ax.collections:
        if isinstance(collection, PathCollection) and collection.get_visible():
            chunks.append(collection.get_offset_transform().transform(collection.get_offsets()))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_label() != "":
            box = patch.get_window_extent(renderer)
            gx, gy = np.meshgrid(np.linspace(box.x0, box.x1, 5), np.linspace(box.y0, box.y1, 5))
            chunks.append(np.column_stack([gx.ravel(), gy.ravel()]))
    if not chunks:
        return np.zeros((0, 2))
    points = np.concatenate(chunks)
    points = points[np.isfinite(points).all(axis=1)]
    box = ax.get_window_extent(renderer)
    inside = (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
    return points[inside]


def _shared_label(ax, axis: str, fig) -> str:
    """The label of ``ax``'s x or y axis, else the one of an axes it shares that axis with, else the figure's."""
    own = ax.get_xlabel() if axis == "x" else ax.get_ylabel()
    if own.strip():
        return own.strip()
    group = ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes()
    for sibling in group.get_siblings(ax):
        label = sibling.get_xlabel() if axis == "x" else sibling.get_ylabel()
        if label.strip():
            return label.strip()
    return (fig.get_supxlabel() if axis == "x" else fig.get_supylabel()).strip()


def describe_figure(fig) -> dict:
    """What a reader needs from ``fig``, as JSON-ready data that depends only on the figure's properties.

    ``dpi``; ``size_inches`` of the saved (tight) picture; ``title``: the figure's title (its suptitle, or the title
    of its only axes), which should state the finding; per axes: ``kind`` (``plot``, ``image``, ``colorbar`` or
    ``off`` for pictures without axes), ``title``, ``xlabel`` and ``ylabel`` (a label shared with a neighbouring
    axes counts), the ``lines`` that have a legend label (colour, line style, marker), the number of
    ``unlabelled_lines`` (per-seed traces, reference lines), and the ``legend``: its labels, whether it sits
    outside the axes, and the fraction of the plotted points it ``covers``; ``figure_legend_labels``.
    """
    from matplotlib import colors as mcolors

    renderer = _renderer(fig)
    box = fig.get_tightbbox(renderer).padded(float(_pyplot().rcParams["savefig.pad_inches"]))
    axes = []
    for ax in fig.axes:
        kind = ("colorbar" if getattr(ax, "_colorbar", None) is not None else "off" if not ax.axison
                else "image" if ax.images else "plot")
        lines, unlabelled = [], 0
        for line in ax.get_lines():
            label = str(line.get_label())
            if label.startswith("_") or not label.strip():
                unlabelled += 1
                continue
            lines.append({"label": label, "color": mcolors.to_hex(line.get_color()),
                          "linestyle": str(line.get_linestyle()), "marker": str(line.get_marker())})
        legend = ax.get_legend()
        legend_info = None
        if legend is not None and legend.get_visible():
            frame = legend.get_window_extent(renderer)
            area = ax.get_window_extent(renderer)
            outside = (frame.x0 >= area.x1 - 1 or frame.x1 <= area.x0 + 1 or frame.y0 >= area.y1 - 1
                       or frame.y1 <= area.y0 + 1)
            points = _display_points(ax, renderer)
            covered = ((points[:, 0] >= frame.x0) & (points[:, 0] <= frame.x1)
                       & (points[:, 1] >= frame.y0) & (points[:, 1] <= frame.y1))
            legend_info = {"labels": [text.get_text() for text in legend.get_texts()], "outside": bool(outside),
                           "covers": round(float(covered.mean()) if len(points) else 0.0, 4)}
        axes.append({"kind": kind, "title": ax.get_title().strip() or ax.get_title(loc="left").strip(),
                     "xlabel": _shared_label(ax, "x", fig), "ylabel": _shared_label(ax, "y", fig),
                     "lines": lines, "unlabelled_lines": unlabelled, "legend": legend_info})
    plots = [a for a in axes if a["kind"] != "colorbar"]
    title = fig.get_suptitle().strip() or (plots[0]["title"] if len(plots) == 1 else "")
    figure_legends = [text.get_text() for legend in fig.legends for text in legend.get_texts()]
    return {"dpi": round(float(fig.dpi), 2), "size_inches": [round(box.width, 2), round(box.height, 2)],
            "title": title, "figure_legend_labels": figure_legends, "axes": axes}


def figure_problems(description: dict) -> list[str]:
    """Every way a :func:`describe_figure` description breaks the course's rules for a figure (``[]``: none).

    The rules: at least :data:`MIN_DPI` dpi; a figure title (the finding); every panel titled; axes with data
    labelled on both axes (colour bars: their scale); no two labelled lines of one axes with the same colour, line
    style and marker; where an axes has two or more labelled lines, each of them in a legend (its own, the figure's,
    or one shared with another panel); a legend inside the axes covers at most :data:`MAX_LEGEND_COVER` of the
    plotted points.
    """
    problems = []
    legend_labels = set(description.get("figure_legend_labels", []))
    for ax in description.get("axes", []):
        legend_labels.update(ax["legend"]["labels"] if ax["legend"] else [])
    if description.get("dpi", 0) < MIN_DPI:
        problems.append(f"dpi {description.get('dpi')} < {MIN_DPI}")
    if not description.get("title"):
        problems.append("no figure title stating the finding")
    for index, ax in enumerate(description.get("axes", [])):
        where = f"axes {index} ({ax.get('title') or 'untitled'})"
        if ax["kind"] == "colorbar":
            if not (ax["ylabel"] or ax["xlabel"]):
                problems.append(f"{where}: colour bar without a label")
            continue
        if not ax["title"]:
            problems.append(f"{where}: no title")
        if ax["kind"] in ("plot", "image"):
            for axis in ("xlabel", "ylabel"):
                if not ax[axis]:
                    problems.append(f"{where}: no {axis}")
        seen: dict[tuple, str] = {}
        for line in ax["lines"]:
            key = (line["color"], line["linestyle"], line["marker"])
            if key in seen:
                problems.append(f"{where}: lines {seen[key]!r} and {line['label']!r} share colour and style {key}")
            seen.setdefault(key, line["label"])
        missing = [line["label"] for line in ax["lines"] if line["label"] not in legend_labels]
        if len(ax["lines"]) >= 2 and missing:
            problems.append(f"{where}: {len(ax['lines'])} labelled lines, {missing} in no legend")
        legend = ax["legend"]
        if legend and not legend["outside"] and legend["covers"] > MAX_LEGEND_COVER:
            problems.append(f"{where}: the legend covers {legend['covers']:.1%} of the plotted points")
    return problems


def figure_output(fig=None, colors: int | None = None) -> tuple[bytes, dict]:
    """``fig`` (default: the current figure) as :func:`compact_png` bytes and the notebook output metadata that
    describes it (``{FIGURE_METADATA_KEY: describe_figure(fig)}``); the figure is closed."""
    plt = _pyplot()
    fig = fig or plt.gcf()
    try:
        data = compact_png(fig, colors)
        description = describe_figure(fig)
    finally:
        plt.close(fig)
    return data, {FIGURE_METADATA_KEY: description}


def show_figure(fig=None, colors: int | None = None) -> None:
    """Show ``fig`` (default: the current figure) in the notebook as a :func:`compact_png`, then close it.

    Every figure of the course goes through here instead of ``plt.show()``: the output carries a description of
    the figure in its metadata (:func:`describe_figure`), which the tests check against :func:`figure_problems`.
    Returns nothing, so no repr is printed.
    """
    from IPython.display import Image, display

    data, metadata = figure_output(fig, colors)
    display(Image(data=data, format="png"), metadata=metadata)
