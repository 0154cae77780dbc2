"""What a fixed training budget hides (lecture 07): a run's state at the end of its budget against its whole history.

"No run ends collapsed" describes the moment a budget stops; a run may have collapsed and recovered before it, or
collapse after it. :func:`collapse_history` reports, per run, both the end state and whether the run *ever*
collapsed, and when (in episodes and in environment steps), from a tidy per-episode table (columns ``config, seed,
episode, return, length``; returns in undiscounted reward, CartPole: steps balanced).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .collapse import collapse_onset
from .stats import COLLAPSE_THRESHOLD

__all__ = ["EVER_HIGH", "collapse_history"]

#: The level a run must first have reached (rolling mean) before a later fall counts as a collapse: ten times a
#: random policy's 22, so a run that never learned is not said to collapse.
EVER_HIGH = 200.0


def collapse_history(table: pd.DataFrame, window: int = 100, high: float = EVER_HIGH,
                     threshold: float = COLLAPSE_THRESHOLD, onset_window: int = 20) -> pd.DataFrame:
    """One row per run (``config, seed``) with

    * ``episodes``, ``steps``: the run's length (environment steps: the sum of its episode lengths);
    * ``ended_collapsed``: its last ``window`` episodes average below ``threshold`` (the lectures' end-of-run rule);
    * ``ever_collapsed``: after its rolling-``window`` mean return first reached ``high``, that mean later fell below
      ``threshold``; ``first_collapse_episode`` / ``first_collapse_step``: where it first did (the episode ending the
      window, and the environment steps up to and including it; NaN if never);
    * ``onset_step``: for a run that ends collapsed, the environment steps before the episode from which it stays
      collapsed to the end (:func:`.collapse.collapse_onset` with ``onset_window``); NaN otherwise.
    """
    rows = []
    for (config, seed), run in table.sort_values("episode", kind="stable").groupby(["config", "seed"], sort=False):
        returns = run["return"].to_numpy(dtype=np.float64)
        steps = np.cumsum(run["length"].to_numpy(dtype=np.int64))
        rolling = pd.Series(returns).rolling(window).mean().to_numpy()
        reached = np.flatnonzero(rolling >= high)
        fell = np.flatnonzero(rolling < threshold)
        if reached.size:
            fell = fell[fell > reached[0]]
        first = int(fell[0]) if reached.size and fell.size else None
        onset = collapse_onset(returns, threshold, onset_window)
        rows.append(dict(
            config=config, seed=seed, episodes=len(returns), steps=int(steps[-1]),
            ended_collapsed=bool(returns[-window:].mean() < threshold), ever_collapsed=first is not None,
            first_collapse_episode=np.nan if first is None else float(run["episode"].iloc[first]),
            first_collapse_step=np.nan if first is None else float(steps[first]),
            onset_step=np.nan if onset is None else float(steps[onset - 1] if onset > 0 else 0)))
    return pd.DataFrame(rows)
