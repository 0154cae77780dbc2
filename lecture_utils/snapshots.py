"""Snapshots of an agent's weights during one ordinary training run, and agents rebuilt from stored weights."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .agent import A2CAgent
from .config import A2CConfig
from .trainer import make_agent, train

__all__ = ['Snapshot', 'train_with_snapshots', 'agent_from_weights']


@dataclass(frozen=True)
class Snapshot:
    """The weights of an agent after ``episodes`` training episodes (format of :meth:`A2CAgent.get_weights`)."""

    episodes: int
    weights: dict[str, NDArray[np.float32]]



def train_with_snapshots(config: A2CConfig, seed: int, every: int) -> tuple[pd.DataFrame, list[Snapshot]]:
    """``train(config, seed)``, keeping a copy of the weights every ``every`` episodes and after the last one.

    One ordinary :func:`train` call with a per-episode callback, so the history is the very table
    ``train(config, seed).history`` gives, for every configuration (LR schedules and rollouts included). A snapshot
    holds the weights right after the update that follows its episode (with rollouts: the update after the rollout
    in which the episode ended).
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    snapshots: list[Snapshot] = []

    def keep(index: int, agent: A2CAgent, _steps: int) -> None:
        if (index + 1) % every == 0:
            snapshots.append(Snapshot(index + 1, agent.get_weights()))

    result = train(config, seed=seed, on_episode=keep)
    if not snapshots or snapshots[-1].episodes != len(result.history):  # a step budget can end between snapshots
        snapshots.append(Snapshot(len(result.history), result.agent.get_weights()))
    return result.history, snapshots



def agent_from_weights(weights: dict[str, NDArray[np.floating]], config: A2CConfig | None = None, obs_dim: int = 4,
                       n_actions: int = 2, seed: int = 0) -> A2CAgent:
    """A fresh agent (CartPole's 4 observations and 2 actions by default) holding ``weights``.

    ``seed`` seeds only its acting random stream; its optimiser state is new.
    """
    agent = make_agent(config or A2CConfig(), obs_dim, n_actions, seed)
    agent.set_weights(weights)
    return agent
