"""The training loop: one episode, one update phase, one row of statistics; repeated ``config.episodes`` times.

Pseudocode (the seed's loop)::

    env reset with seed; actor, critic initialised from seed
    for episode in 1..N:
        record one episode by sampling actions from pi(.|s)
        repeat update_passes times:
            A_t = G_t - V(s_t) with the current critic
            for each minibatch of batch_size steps, in trajectory order:
                one actor step on -mean(A log pi(a|s))
                critic_steps critic steps on mean((V(s_t) - (r_t + gamma (1 - d_t) V(s_{t+1})))^2)
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

import gymnasium as gym
import numpy as np
import pandas as pd

from .agent import A2CAgent, policy_entropy
from .config import A2CConfig
from .envs import env_dimensions, make_env, rollout_episode
from .history import EPISODE_COLUMNS, EpisodeLog
from .numpy_agent import NumpyA2CAgent
from .torch_agent import TorchA2CAgent

__all__ = ["TrainResult", "train", "make_agent", "EPISODE_COLUMNS", "progress_line"]



@dataclass
class TrainResult:
    """What :func:`train` returns: the per-episode table, the trained agent and its environment (to keep playing)."""

    history: pd.DataFrame
    agent: A2CAgent
    env: gym.Env
    config: A2CConfig
    seed: int


def _train_from_rollouts(config: A2CConfig, seed: int, progress: bool, log_every: int,
                         log: Callable[[str], None] | None, agent: A2CAgent | None) -> TrainResult:
    """``rollout_steps`` set: learn from n-step rollouts of ``num_envs`` environments (see :mod:`.rollout_trainer`)."""
    from .rollout_trainer import train_rollouts

    # A rollout segment is not a whole episode, so its Monte Carlo return would be cut short: without an explicit
    # lambda the advantage is the n-step return bootstrapped with V, i.e. GAE with lambda = 1.
    agent_config = config if config.gae_lambda is not None else config.replace(gae_lambda=1.0)
    factory = (lambda obs_dim, n_actions: agent) if agent is not None else (
        lambda obs_dim, n_actions: make_agent(agent_config, obs_dim, n_actions, seed))
    history, trained, _ = train_rollouts(config, seed, factory, progress=progress, log_every=log_every, log=log)
    # Evaluation plays single episodes: a separate environment, seeded from the same seed.
    return TrainResult(history=history, agent=trained, env=make_env(config.env_id, seed=seed), config=config,
                       seed=seed)


def make_agent(config: A2CConfig, obs_dim: int, n_actions: int, seed: int) -> A2CAgent:
    """The agent of ``config.implementation``, initialised from ``seed``."""
    cls = NumpyA2CAgent if config.implementation == "numpy" else TorchA2CAgent
    return cls(config, obs_dim, n_actions, seed)


def progress_line(episode: int, history: dict[str, list[float]], window: int = 50) -> str:
    """A seed-style progress line: mean losses and return over the last ``window`` episodes."""
    def recent(key: str) -> float:
        return float(np.mean(history[key][-window:]))
    return (f"episode {episode:>5d}  actor_loss {recent('actor_loss'):>8.4f}  critic_loss {recent('critic_loss'):>8.4f}"
            f"  return(last {window}) {recent('return'):>6.1f}")


def train(
    config: A2CConfig | None = None,
    seed: int = 0,
    progress: bool = False,
    log_every: int = 0,
    log: Callable[[str], None] | None = None,
    agent: A2CAgent | None = None,
    env: gym.Env | None = None,
) -> TrainResult:
    """Train A2C for ``config.episodes`` episodes from ``seed`` and return the per-episode statistics.

    Args:
        config: hyperparameters; ``A2CConfig()`` is the seed's.
        seed: seeds the environment's start states, the initial weights and the action sampling. The same seed
            gives the same table bit for bit.
        progress: show a tqdm bar on stderr.
        log_every: if > 0, call ``log`` with :func:`progress_line` every ``log_every`` episodes (the seed prints every
            50), computed over the episodes before the current one, as the seed does.
        log: where progress lines go (default: print to stdout).
        agent, env: continue training an existing agent in its environment instead of starting afresh.

    Returns:
        :class:`TrainResult` whose ``history`` has one row per episode and the columns :data:`EPISODE_COLUMNS`.
    """
    config = config or A2CConfig()
    if config.rollout_steps is not None:
        return _train_from_rollouts(config, seed, progress, log_every, log, agent)
    if env is None:
        env = make_env(config.env_id, seed=seed)
    obs_dim, n_actions = env_dimensions(env)
    if agent is None:
        agent = make_agent(config, obs_dim, n_actions, seed)
    log = log or print
    history = EpisodeLog()
    episodes = range(config.episodes)
    if progress:
        from tqdm.std import tqdm  # plain text on stderr, also in notebooks (no widget output to compare)

        episodes = tqdm(episodes, desc=f"A2C seed {seed}", file=sys.stderr, mininterval=0.5)
    steps_taken = 0
    for episode_index in episodes:
        if config.max_steps is not None and steps_taken >= config.max_steps:
            break
        if config.lr_schedule == "linear":
            agent.set_learning_rate_scale(config.budget_left(episode_index, steps_taken))
        episode = rollout_episode(env, agent.act)
        steps_taken += episode.length
        # The entropy of the policy that acted, before this episode's update changes it.
        entropy = float(policy_entropy(agent.probabilities(episode.obs)).mean())
        stats = agent.update(episode)
        if log_every and episode_index > 0 and episode_index % log_every == 0:
            log(progress_line(episode_index, history.columns, log_every))
        history.append(episode_index, episode.total_reward, episode.length, entropy, stats)
    return TrainResult(history=history.frame(), agent=agent, env=env, config=config, seed=seed)
