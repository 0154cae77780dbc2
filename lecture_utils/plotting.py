"""Plots of tidy per-episode tables (``config, seed, episode, <metric>``). Knows DataFrames, not trainers.

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

__all__ = ["plot_learning_curves", "plot_final_returns", "plot_metric_by_config", "compact_png", "show_figure"]


def _pyplot():
    """matplotlib.pyplot, imported when the first figure is drawn (it costs most of a second at import)."""
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curves(table: pd.DataFrame, metric: str = "return", window: int = 50, ax: "Axes | None" = None,
                         configs: Sequence[str] | None = None, per_seed: bool = True,
                         title: str | None = None) -> "Axes":
    """Per-seed smoothed traces (thin), median across seeds (thick) and 25-75% band, one colour per config."""
    plt = _pyplot()
    ax = ax or plt.subplots()[1]
    configs = list(configs or table["config"].unique())
    curves = smoothed_curves(table[table["config"].isin(configs)], metric, window)
    band = median_band(table[table["config"].isin(configs)], metric, window)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, config in enumerate(configs):
        color = colors[index % len(colors)]
        if per_seed:
            for _, run in curves[curves["config"] == config].groupby("seed"):
                ax.plot(run["episode"], run[metric], color=color, alpha=0.25, lw=0.7)
        b = band[band["config"] == config]
        seeds = int(b["seeds"].max())
        ax.plot(b["episode"], b["median"], color=color, lw=2, label=f"{config}: median of {seeds} seeds")
        ax.fill_between(b["episode"], b["q25"], b["q75"], color=color, alpha=0.2)
    ax.set_xlabel("episode")
    ax.set_ylabel(f"{metric} (rolling mean of {window})")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_final_returns(table: pd.DataFrame, last: int = 100, ax: "Axes | None" = None,
                       threshold: float = COLLAPSE_THRESHOLD) -> "Axes":
    """Each seed's last-``last`` mean return as a dot, with the IQM and its 95% bootstrap CI, per config."""
    ax = ax or _pyplot().subplots()[1]
    final = final_returns(table, last)
    summary = summarize_final(table, last, threshold)
    configs = list(summary["config"])
    rng = np.random.default_rng(0)  # horizontal jitter only, so overlapping seeds stay visible
    for index, config in enumerate(configs):
        values = final.loc[final["config"] == config, "final"].to_numpy()
        ax.scatter(index + rng.uniform(-0.15, 0.15, len(values)), values, s=14, alpha=0.7, color="tab:blue")
        row = summary.iloc[index]
        ax.errorbar(index + 0.3, row["iqm"], yerr=[[row["iqm"] - row["iqm_low"]], [row["iqm_high"] - row["iqm"]]],
                    fmt="D", color="black", capsize=4, ms=5)
    ax.axhline(threshold, color="tab:red", ls=":", lw=1, label=f"collapse threshold ({threshold:g})")
    ax.set_xticks(range(len(configs)), configs)
    ax.set_ylabel(f"mean return, last {last} episodes")
    ax.legend(loc="best", fontsize="small")
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
        fig, axes = plt.subplots(2, len(names), figsize=(3.0 * len(names), 5.2), squeeze=False,
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
            plt.colorbar(shown, ax=ax, shrink=0.8)
            ax.set_title(f"{name}: {'V(s)' if key == 'value' else 'P(push right)'}", fontsize=9)
            ax.set_xlabel("pole angle (deg)", fontsize=8)
            ax.set_ylabel("angular velocity (rad/s)", fontsize=8)
            ax.grid(False)
    return axes


# -- figures in a notebook -----------------------------------------------------------------------------------------
def compact_png(fig, colors: int = 32) -> bytes:
    """``fig`` as a PNG with a palette of ``colors`` colours (tight bounding box, the figure's own dpi).

    Plots of ten noisy per-seed traces compress badly as full-colour PNG (100-170 KB each at 72 dpi); a 32-colour
    palette looks the same on screen at about a third of the size, which keeps a stored notebook small.
    """
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    palette = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def show_figure(fig=None, colors: int = 32) -> None:
    """Show ``fig`` (default: the current figure) in the notebook as a :func:`compact_png`, then close it.

    Use it instead of ``plt.show()`` for figures with many traces; it returns nothing, so no repr is printed.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    fig = fig or plt.gcf()
    data = compact_png(fig, colors)
    plt.close(fig)
    display(Image(data=data, format="png"))
