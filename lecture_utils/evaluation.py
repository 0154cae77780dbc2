"""Evaluation: play N episodes with a trained agent and summarise the undiscounted returns."""
from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from .agent import A2CAgent
from .envs import rollout_episode

__all__ = ["EvalResult", "evaluate"]


@dataclass(frozen=True)
class EvalResult:
    """Returns of ``n`` evaluation episodes, shape ``(n,)``, and their summary."""

    returns: NDArray[np.float64]

    @property
    def mean(self) -> float:
        return float(self.returns.mean())

    @property
    def std(self) -> float:
        return float(self.returns.std())

    def __str__(self) -> str:
        return (f"{self.mean:.1f} +/- {self.std:.1f} over {len(self.returns)} episodes "
                f"(min {self.returns.min():.0f}, max {self.returns.max():.0f})")


def evaluate(agent: A2CAgent, env: gym.Env, episodes: int = 100, greedy: bool = False) -> EvalResult:
    """Mean and spread of the return over ``episodes`` episodes; no learning happens.

    By default actions are sampled from the policy, exactly as the seed's final score does (continuing the agent's
    and environment's random streams, so the score after :func:`~lecture_utils.trainer.train` matches the seed's).
    ``greedy=True`` takes the most probable action instead.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    policy = agent.greedy_policy if greedy else agent.act
    returns = np.array([rollout_episode(env, policy).total_reward for _ in range(episodes)])
    return EvalResult(returns=returns)
