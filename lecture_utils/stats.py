"""Statistics across seeds, for tidy per-episode tables (columns ``config, seed, episode, <metrics>``).

One run of A2C is an anecdote: the same configuration can solve CartPole on one seed and collapse on the next. Every
claim in the lectures therefore rests on these summaries over seeds, with their spread.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = [
    "COLLAPSE_THRESHOLD", "smooth", "smoothed_curves", "median_band", "final_returns", "collapse_rate",
    "interquartile_mean", "bootstrap_ci", "summarize_final", "SOLVED_THRESHOLD", "steps_to_threshold", "solve_summary",
    "curves_over_steps", "proportion_interval", "thinned_curves",
]

#: A run counts as collapsed when its last-100-episode mean return is below this (a random policy scores ~22,
#: a collapsed one ~9).
COLLAPSE_THRESHOLD = 20.0


def smooth(values: ArrayLike, window: int) -> np.ndarray:
    """Trailing rolling mean over ``window`` episodes (shorter at the start), shape unchanged."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    return pd.Series(np.asarray(values, dtype=float)).rolling(window, min_periods=1).mean().to_numpy()


def smoothed_curves(table: pd.DataFrame, metric: str = "return", window: int = 50) -> pd.DataFrame:
    """``table`` with ``metric`` replaced by its per-run trailing rolling mean (one run = one config and seed)."""
    out = table[["config", "seed", "episode", metric]].copy()
    out[metric] = out.groupby(["config", "seed"], sort=False)[metric].transform(
        lambda s: s.rolling(window, min_periods=1).mean())
    return out


def median_band(table: pd.DataFrame, metric: str = "return", window: int = 50) -> pd.DataFrame:
    """Per config and episode: median, 25th and 75th percentile across seeds of the smoothed ``metric``.

    Columns ``config, episode, median, q25, q75, seeds``.
    """
    curves = smoothed_curves(table, metric, window)
    grouped = curves.groupby(["config", "episode"], sort=False)[metric]
    band = grouped.agg(median="median", q25=lambda s: s.quantile(0.25), q75=lambda s: s.quantile(0.75),
                       seeds="count")
    return band.reset_index()


def final_returns(table: pd.DataFrame, last: int = 100, metric: str = "return") -> pd.DataFrame:
    """Mean ``metric`` over each run's last ``last`` episodes: columns ``config, seed, final``."""
    # A stable sort keeps configs in order of first appearance and seeds in table order, so summaries (and the
    # bootstrap, which depends on the order of its input) do not depend on the sorting algorithm.
    tail = table.sort_values("episode", kind="stable").groupby(["config", "seed"], sort=False).tail(last)
    final = tail.groupby(["config", "seed"], sort=False)[metric].mean().rename("final").reset_index()
    # Configs in their order of first appearance in ``table`` (the experiment's order), seeds ascending.
    order = {config: index for index, config in enumerate(table["config"].unique())}
    final = final.sort_values(["config", "seed"], key=lambda col: col.map(order) if col.name == "config" else col,
                              kind="stable")
    return final.reset_index(drop=True)


def collapse_rate(table: pd.DataFrame, last: int = 100, threshold: float = COLLAPSE_THRESHOLD) -> pd.Series:
    """Share of seeds per config whose last-``last`` mean return is below ``threshold`` (0 to 1)."""
    final = final_returns(table, last)
    return final.groupby("config", sort=False)["final"].apply(lambda s: float((s < threshold).mean())).rename(
        "collapse_rate")


def interquartile_mean(values: ArrayLike, axis: int = -1) -> np.ndarray | float:
    """Mean of the middle 50% of the values (25% trimmed from each end): robust, yet uses half the data."""
    from scipy import stats as scipy_stats  # loaded when first used: it costs half a second

    return scipy_stats.trim_mean(np.asarray(values, dtype=float), 0.25, axis=axis)


def bootstrap_ci(
    values: ArrayLike,
    statistic: Callable[..., Any] = interquartile_mean,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``statistic`` over seeds (``scipy.stats.bootstrap``).

    Deterministic for a given ``seed``. With fewer than two distinct values the interval is the point itself.
    """
    data = np.asarray(values, dtype=float)
    if data.size < 2 or np.all(data == data[0]):
        point = float(statistic(data)) if data.size else float("nan")
        return point, point
    from scipy import stats as scipy_stats

    result = scipy_stats.bootstrap((data,), statistic, n_resamples=n_resamples, confidence_level=confidence,
                                   method="percentile", vectorized=True, rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def summarize_final(table: pd.DataFrame, last: int = 100, threshold: float = COLLAPSE_THRESHOLD,
                    seed: int = 0) -> pd.DataFrame:
    """One row per config: seeds, collapse rate, median, IQM and its 95% bootstrap CI of the last-``last`` return."""
    final = final_returns(table, last)
    rows = []
    for config, group in final.groupby("config", sort=False):
        values = group["final"].to_numpy()
        low, high = bootstrap_ci(values, seed=seed)
        rows.append(dict(config=config, seeds=len(values), collapsed=int((values < threshold).sum()),
                         collapse_rate=float((values < threshold).mean()), median=float(np.median(values)),
                         iqm=float(interquartile_mean(values)), iqm_low=low, iqm_high=high))
    return pd.DataFrame(rows)


#: CartPole-v1 counts as solved when the mean return over 100 consecutive episodes reaches this.
SOLVED_THRESHOLD = 475.0


def steps_to_threshold(table: pd.DataFrame, threshold: float = SOLVED_THRESHOLD, window: int = 100) -> pd.DataFrame:
    """Per run: the first episode at which the mean return of the last ``window`` episodes reaches ``threshold``,
    and the environment steps taken up to and including it. Columns ``config, seed, episode, steps`` (NaN: never).

    The steps are the lengths of the finished episodes; with several environments stepped together the steps of the
    episodes still running in the other environments are not counted (fewer than ``(num_envs - 1) * 500`` on
    CartPole-v1, a few per cent of a typical run)."""
    rows = []
    for (config, seed), run in table.groupby(["config", "seed"], sort=False):
        run = run.sort_values("episode", kind="stable")
        rolling = run["return"].rolling(window).mean().to_numpy()
        hits = np.flatnonzero(rolling >= threshold)
        if hits.size:
            first = int(hits[0])
            rows.append(dict(config=config, seed=seed, episode=int(run["episode"].iloc[first]),
                             steps=float(run["length"].iloc[: first + 1].sum())))
        else:
            rows.append(dict(config=config, seed=seed, episode=np.nan, steps=np.nan))
    return pd.DataFrame(rows)


def solve_summary(table: pd.DataFrame, threshold: float = SOLVED_THRESHOLD, last: int = 100) -> pd.DataFrame:
    """One row per config: how many seeds end solved (last-``last`` mean >= ``threshold``), how many ever reached
    it, the median steps to first reach it (over the seeds that did), and the collapse count."""
    final = final_returns(table, last)
    reach = steps_to_threshold(table, threshold, last)
    rows = []
    for config, group in final.groupby("config", sort=False):
        hits = reach.loc[reach["config"] == config, "steps"].dropna()
        rows.append(dict(config=config, seeds=len(group), solved_at_end=int((group["final"] >= threshold).sum()),
                         ever_solved=int(len(hits)), median_steps_to_solve=float(hits.median()) if len(hits) else np.nan,
                         collapsed=int((group["final"] < COLLAPSE_THRESHOLD).sum()),
                         median_final=float(group["final"].median())))
    return pd.DataFrame(rows)


def proportion_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a success rate (e.g. seeds solved out of seeds run), both ends in [0, 1].

    Unlike the textbook ``p +- z sqrt(p(1-p)/n)`` it stays inside [0, 1] and is not zero-width at 0 or n successes,
    which is exactly where a solve rate over ten seeds usually sits.
    """
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes} of {trials}")
    from scipy import stats as scipy_stats

    z = float(scipy_stats.norm.ppf(0.5 + confidence / 2))
    rate = successes / trials
    centre = (rate + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def curves_over_steps(table: pd.DataFrame, metric: str = "return", window: int = 50,
                      steps: np.ndarray | None = None) -> pd.DataFrame:
    """Each run's trailing rolling mean of ``metric`` as a function of environment steps, on a common step grid.

    A run's value at step ``s`` is that of the last episode finished by ``s`` (NaN before the first). ``steps``
    defaults to 100 points up to the longest run. Columns ``config, seed, steps, <metric>``: episodes are a poor
    x-axis when a good agent plays 500 steps per episode and a collapsed one 9.
    """
    if steps is None:
        longest = table.groupby(["config", "seed"], sort=False)["length"].sum().max()
        steps = np.linspace(0, longest, 101)[1:]
    frames = []
    for (config, seed), run in table.groupby(["config", "seed"], sort=False):
        run = run.sort_values("episode", kind="stable")
        finished_at = run["length"].cumsum().to_numpy()
        smoothed = run[metric].rolling(window, min_periods=1).mean().to_numpy()
        index = np.searchsorted(finished_at, steps, side="right") - 1
        values = np.where(index >= 0, smoothed[np.clip(index, 0, None)], np.nan)
        frames.append(pd.DataFrame({"config": config, "seed": seed, "steps": steps, metric: values}))
    return pd.concat(frames, ignore_index=True)


def thinned_curves(table: pd.DataFrame, metric: str, window: int = 20, every: int = 5) -> pd.DataFrame:
    """Per-run trailing rolling mean of ``metric`` over ``window`` episodes, kept at every ``every``-th episode.

    Columns ``config, seed, episode, <metric>``. Smoothing comes first, so each kept point still averages ``window``
    episodes; plotting it with ``plot_learning_curves(..., window=1)`` draws the same curves with ``every`` times
    fewer points (a notebook's stored figures stay small).
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    curves = smoothed_curves(table, metric, window)
    return curves[curves["episode"] % every == every - 1].reset_index(drop=True)
