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
        (option freeze_at_return: no update while the last 100 returns, before this episode, average that much)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import gymnasium as gym
import numpy as np
import pandas as pd

from .agent import NO_UPDATE, A2CAgent, check_update_finite, policy_entropy
from .config import A2CConfig
from .envs import env_dimensions, make_env, rollout_episode
from .errors import ConfigError
from .history import EPISODE_COLUMNS, EpisodeCallback, EpisodeLog, TrainingMonitor, learning_frozen, progress_line
from .numpy_agent import NumpyA2CAgent
from .torch_agent import TorchA2CAgent

__all__ = ["TrainResult", "train", "make_agent", "EPISODE_COLUMNS", "EpisodeCallback", "progress_line"]


@dataclass
class TrainResult:
    """What :func:`train` returns: the per-episode table, the trained agent and its environment (to keep playing)."""

    history: pd.DataFrame
    agent: A2CAgent
    env: gym.Env
    config: A2CConfig
    seed: int


def make_agent(config: A2CConfig, obs_dim: int, n_actions: int, seed: int) -> A2CAgent:
    """The agent of ``config.implementation``, initialised from ``seed``."""
    cls = NumpyA2CAgent if config.implementation == "numpy" else TorchA2CAgent
    return cls(config, obs_dim, n_actions, seed)


def train(
    config: A2CConfig | None = None,
    seed: int = 0,
    progress: bool = False,
    log_every: int = 0,
    log: Callable[[str], None] | None = None,
    agent: A2CAgent | None = None,
    env: gym.Env | None = None,
    on_episode: EpisodeCallback | None = None,
) -> TrainResult:
    """Train A2C for ``config.episodes`` episodes from ``seed`` and return the per-episode statistics.

    One contract for every configuration, episodic (the seed's) or from rollouts (``rollout_steps`` set, see
    :mod:`.rollout_trainer`): the same table columns, a row per finished episode, and after each row the progress
    bar, the progress line and ``on_episode``, in that order.

    Args:
        config: hyperparameters; ``A2CConfig()`` is the seed's.
        seed: seeds the environment's start states, the initial weights and the action sampling. The same seed
            gives the same table bit for bit.
        progress: show a tqdm bar on stderr.
        log_every: if > 0, call ``log`` with :func:`progress_line` after every ``log_every``-th episode, over the
            last ``log_every`` episodes (the seed prints every 50).
        log: where progress lines go (default: print to stdout).
        agent: continue training this agent instead of a fresh one (its own configuration decides its update).
        env: with episodic training, play in this environment (e.g. to continue where a previous call stopped).
            A rollout configuration steps its own vector environments, so ``env`` must then be left unset.
        on_episode: called as ``on_episode(episode_index, agent, steps_taken)`` after every episode's row is
            recorded and its update done (e.g. to take snapshots or timestamps).

    Returns:
        :class:`TrainResult` whose ``history`` has one row per episode and the columns :data:`EPISODE_COLUMNS`.

    Raises:
        ConfigError: a bad environment, or ``env`` given with a rollout configuration.
        TrainingDiverged: an update's loss or gradient norm stopped being finite (the message names the options).
    """
    config = config or A2CConfig()
    monitor = TrainingMonitor(config.episodes, seed, progress, log_every, log, on_episode)
    try:
        # Overflow shows up as a non-finite loss, which stops training with one line; NumPy's own warnings would
        # only repeat it, deep inside the update, every step until then.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if config.rollout_steps is not None:
                return _train_from_rollouts(config, seed, agent, env, monitor)
            return _train_episodes(config, seed, agent, env, monitor)
    finally:
        monitor.close()


def _train_episodes(config: A2CConfig, seed: int, agent: A2CAgent | None, env: gym.Env | None,
                    monitor: TrainingMonitor) -> TrainResult:
    """The seed's loop: one update phase after every whole episode."""
    if env is None:
        env = make_env(config.env_id, seed=seed)
    obs_dim, n_actions = env_dimensions(env)
    if agent is None:
        agent = make_agent(config, obs_dim, n_actions, seed)
    history = EpisodeLog()
    steps_taken = 0
    for episode_index in range(config.episodes):
        if config.max_steps is not None and steps_taken >= config.max_steps:
            break
        frozen = learning_frozen(config, history)
        agent.follow_lr_schedule(episode_index, steps_taken)
        episode = rollout_episode(env, agent.act)
        steps_taken += episode.length
        # The entropy of the policy that acted, before this episode's update changes it.
        entropy = float(policy_entropy(agent.probabilities(episode.obs)).mean())
        if frozen:
            stats = NO_UPDATE
        else:
            stats = agent.update(episode)
            check_update_finite(stats, config, episode_index, seed)
        history.append(episode_index, episode.total_reward, episode.length, entropy, stats)
        monitor.episode_recorded(history, agent, steps_taken)
    return TrainResult(history=history.frame(), agent=agent, env=env, config=config, seed=seed)


def _train_from_rollouts(config: A2CConfig, seed: int, agent: A2CAgent | None, env: gym.Env | None,
                         monitor: TrainingMonitor) -> TrainResult:
    """``rollout_steps`` set: learn from n-step rollouts of ``num_envs`` environments (see :mod:`.rollout_trainer`)."""
    from .rollout_trainer import train_rollouts

    if env is not None:
        raise ConfigError("train(env=...) plays whole episodes in one environment, but this configuration sets "
                          "rollout_steps and steps its own vector environments: leave env unset")
    factory = (lambda obs_dim, n_actions: agent) if agent is not None else (
        lambda obs_dim, n_actions: make_agent(config, obs_dim, n_actions, seed))
    history, trained = train_rollouts(config, seed, factory, monitor)
    # Evaluation plays single episodes: a separate environment, seeded from the same seed.
    return TrainResult(history=history, agent=trained, env=make_env(config.env_id, seed=seed), config=config,
                       seed=seed)
