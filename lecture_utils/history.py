"""The per-episode training table that both trainers fill (one row per finished episode), and what both do after
each row: a progress bar, a progress line every ``log_every`` episodes, and the caller's per-episode callback."""
from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np
import pandas as pd

from .agent import A2CAgent, UpdateStats
from .config import FREEZE_WINDOW, A2CConfig

__all__ = ["EPISODE_COLUMNS", "EpisodeLog", "learning_frozen", "EpisodeCallback", "TrainingMonitor", "progress_line",
           "progress_bar"]

#: Called after every finished episode's row is recorded, with the episode's index (from 0), the agent (after the
#: update that followed the episode) and the environment steps taken so far (every environment's, up to the end of
#: the current rollout). Both trainers call it the same way.
EpisodeCallback = Callable[[int, A2CAgent, int], Any]

#: Columns of the per-episode table, in order. ``episode`` counts from 0; ``return`` is undiscounted.
EPISODE_COLUMNS = [
    "episode", "return", "length", "actor_loss", "critic_loss", "entropy",
    "actor_grad_norm", "critic_grad_norm", "advantage_std", "actor_update_norm", "critic_update_norm",
]


class EpisodeLog:
    """Collects rows of :data:`EPISODE_COLUMNS`; ``columns`` holds them as lists (name -> values so far)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[float]] = {name: [] for name in EPISODE_COLUMNS}

    def __len__(self) -> int:
        return len(self.columns["episode"])

    def append(self, episode: int, episode_return: float, length: int, entropy: float, stats: UpdateStats) -> None:
        """One finished episode: its index, return, length, mean policy entropy (nats) and the update's stats."""
        for name, value in (
            ("episode", episode), ("return", episode_return), ("length", length),
            ("actor_loss", stats.actor_loss), ("critic_loss", stats.critic_loss), ("entropy", entropy),
            ("actor_grad_norm", stats.actor_grad_norm), ("critic_grad_norm", stats.critic_grad_norm),
            ("advantage_std", stats.advantage_std),
            ("actor_update_norm", stats.actor_update_norm), ("critic_update_norm", stats.critic_update_norm),
        ):
            self.columns[name].append(value)

    def recent_mean_return(self, window: int) -> float | None:
        """Mean return of the last ``window`` rows; ``None`` while fewer than ``window`` episodes have finished."""
        returns = self.columns["return"]
        return float(np.mean(returns[-window:])) if len(returns) >= window else None

    def frame(self) -> pd.DataFrame:
        """The table, with whole-number columns as int64."""
        history = pd.DataFrame(self.columns)
        history["episode"] = history["episode"].astype("int64")
        history["length"] = history["length"].astype("int64")
        return history


def learning_frozen(config: A2CConfig, log: EpisodeLog) -> bool:
    """True while ``config.freeze_at_return`` is set and the last :data:`~lecture_utils.config.FREEZE_WINDOW`
    finished episodes of ``log`` average at least that: the trainers ask before every episode (or rollout), and skip
    its update when the answer is yes."""
    if config.freeze_at_return is None:
        return False
    recent = log.recent_mean_return(FREEZE_WINDOW)
    return recent is not None and recent >= config.freeze_at_return


def progress_line(episodes_done: int, history: dict[str, list[float]], window: int = 50) -> str:
    """A seed-style progress line after ``episodes_done`` episodes: mean losses and return over the last ``window``."""
    def recent(key: str) -> float:
        return float(np.mean(history[key][-window:]))
    return (f"episode {episodes_done:>5d}  actor_loss {recent('actor_loss'):>8.4f}  critic_loss "
            f"{recent('critic_loss'):>8.4f}  return(last {window}) {recent('return'):>6.1f}")


def progress_bar(total: int, desc: str) -> Any:
    """The one progress-bar style of the package: tqdm's plain-text bar on stderr (also in notebooks, where stderr is
    not compared and no widget output is stored), redrawn at most twice a second."""
    from tqdm.std import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, mininterval=0.5)


class TrainingMonitor:
    """What both trainers do after recording an episode, in one place.

    Args:
        total: episodes planned (the progress bar's length).
        seed: shown in the bar's label.
        progress: show a tqdm bar on stderr (plain text, also in notebooks: no widget output to compare).
        log_every: if > 0, after every ``log_every``-th episode call ``log`` with :func:`progress_line` over the
            last ``log_every`` episodes, the current one included.
        log: where progress lines go (default ``print``).
        on_episode: an :data:`EpisodeCallback`.
    """

    def __init__(self, total: int, seed: int, progress: bool = False, log_every: int = 0,
                 log: Callable[[str], None] | None = None, on_episode: EpisodeCallback | None = None) -> None:
        self.log_every, self.log, self.on_episode = log_every, log or print, on_episode
        self.bar = progress_bar(total, f"A2C seed {seed}") if progress else None

    def episode_recorded(self, history: EpisodeLog, agent: A2CAgent, steps_taken: int) -> None:
        done = len(history)
        if self.bar is not None:
            self.bar.update(1)
        if self.log_every and done % self.log_every == 0:
            self.log(progress_line(done, history.columns, self.log_every))
        if self.on_episode is not None:
            self.on_episode(done - 1, agent, steps_taken)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
