"""The per-episode training table that both trainers fill: one row per finished episode."""
from __future__ import annotations

import pandas as pd

from .agent import UpdateStats

__all__ = ["EPISODE_COLUMNS", "EpisodeLog"]

#: Columns of the per-episode table, in order. ``episode`` counts from 0; ``return`` is undiscounted.
EPISODE_COLUMNS = [
    "episode", "return", "length", "actor_loss", "critic_loss", "entropy",
    "actor_grad_norm", "critic_grad_norm", "advantage_std",
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
        ):
            self.columns[name].append(value)

    def frame(self) -> pd.DataFrame:
        """The table, with whole-number columns as int64."""
        history = pd.DataFrame(self.columns)
        history["episode"] = history["episode"].astype("int64")
        history["length"] = history["length"].astype("int64")
        return history
