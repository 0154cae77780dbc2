"""Collapse and crashes in training runs (lecture 04a; 04b reuses them): when a run falls and stays down, and what happens
around it.

Everything reads the tidy per-episode tables of :mod:`lecture_utils.experiments` (columns ``config, seed, episode,
return, ...``; one *run* is one config and one seed) and returns plain arrays or DataFrames. Returns and thresholds
are in undiscounted reward (CartPole: steps balanced), episodes counted from 0.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .config import A2CConfig
from .stats import COLLAPSE_THRESHOLD

__all__ = ['collapse_onset', 'collapse_onsets', 'find_crashes', 'crash_chances', 'align_on_events',
           'actor_steps_per_update']


def collapse_onset(returns: ArrayLike, threshold: float = COLLAPSE_THRESHOLD, window: int = 20) -> int | None:
    """The episode from which a run stays collapsed to the end, or ``None`` if it does not end collapsed.

    ``returns``: shape ``(episodes,)``, one run in episode order. The onset is the first episode ``e`` such that every
    block of ``window`` consecutive episodes starting at ``e`` or later averages below ``threshold``. A run whose
    last ``window`` episodes average ``threshold`` or more has no onset.
    """
    r = np.asarray(returns, dtype=np.float64)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if r.size < window:
        return None
    block_means = np.convolve(r, np.ones(window) / window, mode="valid")  # block_means[i] = mean(r[i:i + window])
    above = np.nonzero(block_means >= threshold)[0]
    if above.size and above[-1] == block_means.size - 1:
        return None
    return int(above[-1] + 1) if above.size else 0



def collapse_onsets(table: pd.DataFrame, threshold: float = COLLAPSE_THRESHOLD, window: int = 20) -> pd.DataFrame:
    """:func:`collapse_onset` of every run: columns ``config, seed, onset`` (``onset`` is NaN for runs that end well)."""
    rows = []
    for (config, seed), run in table.sort_values("episode", kind="stable").groupby(["config", "seed"], sort=False):
        onset = collapse_onset(run["return"].to_numpy(), threshold, window)
        rows.append(dict(config=config, seed=seed, onset=np.nan if onset is None else run["episode"].iloc[onset]))
    return pd.DataFrame(rows)



def find_crashes(table: pd.DataFrame, high: float = 100.0, threshold: float = COLLAPSE_THRESHOLD, lookback: int = 5,
                 window: int = 20) -> pd.DataFrame:
    """Every crash in every run: a good stretch followed at once by a collapsed one.

    Episode ``e`` starts a crash when the ``lookback`` episodes before it average at least ``high`` and the
    ``window`` episodes from ``e`` on (all of them must exist) average below ``threshold``, and episode ``e`` itself
    scores below ``threshold``. A crash whose ``lookback`` episodes include an earlier crash's first episode is that
    same crash, and is not counted again. A crash is *recovered* if some later block of ``window`` episodes averages
    ``high`` again.

    Returns one row per crash with columns ``config, seed, episode`` (first collapsed episode), ``return_before``
    (the return of episode ``e - 1``), ``max_before`` (the largest return of the ``lookback`` episodes before),
    ``recovered`` (bool) and ``recover_after`` (episodes from the crash to the first good block; NaN if none).
    """
    rows = []
    # Stable sort: the rows come out in table order on every CPU (NumPy's default quicksort runs SIMD sorting
    # networks that order equal episodes differently on AVX-512, AVX2 and baseline CPUs).
    for (config, seed), run in table.sort_values("episode", kind="stable").groupby(["config", "seed"], sort=False):
        r = run["return"].to_numpy(dtype=np.float64)
        episodes = run["episode"].to_numpy()
        if r.size < lookback + window:
            continue
        ahead = np.convolve(r, np.ones(window) / window, mode="valid")  # ahead[i] = mean(r[i:i + window])
        behind = np.convolve(r, np.ones(lookback) / lookback, mode="valid")  # behind[i] = mean(r[i:i + lookback])
        starts = np.arange(lookback, ahead.size)
        is_crash = (behind[starts - lookback] >= high) & (ahead[starts] < threshold) & (r[starts] < threshold)
        last = -lookback - 1
        for e in starts[is_crash]:
            if e - lookback <= last:  # the good stretch before it overlaps the previous crash: the same crash
                continue
            last = e
            good_later = np.nonzero(ahead[e + 1:] >= high)[0]
            rows.append(dict(config=config, seed=seed, episode=int(episodes[e]), return_before=float(r[e - 1]),
                             max_before=float(r[e - lookback:e].max()), recovered=bool(good_later.size),
                             recover_after=float(good_later[0] + 1) if good_later.size else np.nan))
    columns = ["config", "seed", "episode", "return_before", "max_before", "recovered", "recover_after"]
    return pd.DataFrame(rows, columns=columns)



def crash_chances(table: pd.DataFrame, limit: int = 500, high: float = 100.0, threshold: float = COLLAPSE_THRESHOLD,
                  lookback: int = 5, window: int = 20) -> pd.DataFrame:
    """Every moment at which a crash could start, whether one did, and whether the time limit was just reached.

    A *chance* is an episode ``e`` at which :func:`find_crashes` (same ``high``, ``threshold``, ``lookback``,
    ``window``) could start a crash: the ``lookback`` episodes before it average at least ``high`` and the ``window``
    episodes from ``e`` on exist. Returns one row per chance with columns ``config, seed, episode``,
    ``limit_before`` (one of the ``lookback`` episodes before returned ``limit`` or more), ``crash`` (a crash listed
    by :func:`find_crashes` starts here, so each crash is counted once) and ``offset`` (the position of the chance
    in its run of consecutive chances, from 0). The chances with ``offset % lookback == 0`` have disjoint
    ``lookback`` windows: a sample of the background whose episodes do not overlap.
    """
    crashes = find_crashes(table, high=high, threshold=threshold, lookback=lookback, window=window)
    started = set(zip(crashes["config"], crashes["seed"], crashes["episode"], strict=True))
    rows = []
    for (config, seed), run in table.sort_values("episode", kind="stable").groupby(["config", "seed"], sort=False):
        r = run["return"].to_numpy(dtype=np.float64)
        episodes = run["episode"].to_numpy()
        offset = -1
        for e in range(lookback, r.size - window + 1):
            before = r[e - lookback:e]
            if before.mean() < high:
                offset = -1
                continue
            offset += 1
            rows.append(dict(config=config, seed=seed, episode=int(episodes[e]),
                             limit_before=bool(before.max() >= limit),
                             crash=(config, seed, int(episodes[e])) in started, offset=offset))
    return pd.DataFrame(rows, columns=["config", "seed", "episode", "limit_before", "crash", "offset"])


def align_on_events(table: pd.DataFrame, events: pd.DataFrame, metric: str, before: int = 20,
                    after: int = 20) -> pd.DataFrame:
    """``metric`` around each event, for plots aligned on the event (offset 0 = the event's episode).

    ``events`` has columns ``config, seed, episode`` (as :func:`find_crashes` returns). Returns columns ``config,
    seed, event, offset, value`` with ``offset`` from ``-before`` to ``after`` (episodes outside the run are left
    out).
    """
    indexed = table.set_index(["config", "seed", "episode"])[metric].sort_index()
    frames = []
    for event in events.itertuples(index=False):
        run = indexed.loc[(event.config, event.seed)]
        window = run.loc[event.episode - before:event.episode + after]
        frames.append(pd.DataFrame(dict(config=event.config, seed=event.seed, event=event.episode,
                                        offset=window.index.to_numpy() - event.episode, value=window.to_numpy())))
    if not frames:
        return pd.DataFrame(columns=["config", "seed", "event", "offset", "value"])
    return pd.concat(frames, ignore_index=True)



def actor_steps_per_update(length: ArrayLike, config: A2CConfig | None = None) -> NDArray[np.int64]:
    """Actor optimiser steps in the update after an episode of ``length`` steps:
    ``update_passes * ceil(length / batch_size)`` of ``config`` (default: the seed's).

    Same shape as ``length``. The seed takes 5 passes of minibatches of 32, so a 500-step episode gives 80 Adam steps
    and a 9-step one gives 5.
    """
    config = config or A2CConfig()
    length = np.asarray(length, dtype=np.int64)
    return config.update_passes * -(-length // config.batch_size)
