"""A2C from n-step rollouts of several environments stepped together (Gymnasium's vector API).

The seed learns once per finished episode, so a 500-step episode yields one (long, stale) batch and an early failure
a tiny one. The usual A2C instead steps ``num_envs`` environments in lockstep and learns every ``rollout_steps``
steps from the ``num_envs x rollout_steps`` transitions just collected, bootstrapping the unfinished tail of each
segment with the critic. Episodes keep running across updates; the environments reset themselves.

Pseudocode::

    envs = make_vec(env_id, num_envs), reset with seed
    until `episodes` episodes have finished:
        for k in 1..rollout_steps:  a ~ pi(.|s) for every env; step all envs
        advantages: GAE(lambda) over each env's segment (lambda = 1 if unset: the n-step return minus V),
                    stopping at episode ends, bootstrapping from V(s_next) unless terminated
        the agent's usual update on the batch (passes, minibatches, actor step, critic steps),
        unless freeze_at_return is set and the last 100 finished episodes, before this rollout, average at least that
"""
from __future__ import annotations

from typing import Callable

import gymnasium as gym
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .agent import NO_UPDATE, A2CAgent, check_update_finite, policy_entropy, sample_actions
from .config import A2CConfig
from .envs import CartPoleBatch, Episode, check_spaces, env_dimensions, make_env, open_env, space_dimensions
from .errors import ConfigError
from .history import EpisodeLog, TrainingMonitor, learning_frozen

__all__ = ["make_vector_env", "rollout_batch", "train_rollouts"]

#: One step of a rollout's environment copies, each array ``(num_envs, ...)``: the next observations (a new
#: episode's first where one ended), the states the episodes ended in (elsewhere the next observations), the
#: rewards, and the terminated and truncated flags.
StepResult = tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]


def make_vector_env(env_id: str, num_envs: int, seed: int | None = None) -> gym.vector.VectorEnv:
    """``num_envs`` copies of ``env_id`` stepped in lockstep, resetting themselves in the step that ends an episode
    (the final observation is kept in ``info["final_obs"]``). Seeded: copy ``i`` starts from ``seed + i``.

    Raises:
        ConfigError: as :func:`.envs.make_env`.
    """
    envs = open_env(env_id, lambda: gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync",
                                                 vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}))
    try:
        check_spaces(env_id, envs.single_action_space, envs.single_observation_space)
    except ConfigError:
        envs.close()
        raise
    if seed is not None:
        envs.reset(seed=int(seed))
    return envs


def rollout_batch(obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
                  terminated: np.ndarray, truncated: np.ndarray) -> Episode:
    """One update's batch from a rollout's buffers (``obs``/``next_obs``: ``(K, E, obs_dim)``; the others
    ``(K, E)``, for ``K`` steps of ``E`` environments): each environment's segment, back to back (``E * K`` rows).

    A segment's last step ends it: bootstrapped from ``V(s_K)`` unless terminated (marked truncated), so advantages
    never run from one environment's segment into the next one's.
    """
    obs_dim = obs.shape[-1]
    seg_trunc = truncated.copy()
    seg_trunc[-1] = ~terminated[-1]
    return Episode(obs=obs.transpose(1, 0, 2).reshape(-1, obs_dim).copy(),
                   actions=actions.T.reshape(-1).copy(), rewards=rewards.T.reshape(-1).copy(),
                   next_obs=next_obs.transpose(1, 0, 2).reshape(-1, obs_dim).copy(),
                   terminated=terminated.T.reshape(-1).copy(), truncated=seg_trunc.T.reshape(-1).copy())


def train_rollouts(config: A2CConfig, seed: int, agent_factory: Callable[[int, int], A2CAgent],
                   monitor: TrainingMonitor) -> tuple[pd.DataFrame, A2CAgent]:
    """Train until ``config.episodes`` episodes have finished (or ``max_steps`` steps); one row per finished episode.

    The row's losses, gradient norms and advantage spread are those of the update that follows the rollout in which
    the episode ended; its entropy is the mean policy entropy over the steps of that episode. ``monitor`` is told of
    each row after that update. Use it through :func:`.trainer.train`.
    """
    n_envs, n_steps = config.num_envs, int(config.rollout_steps or 1)
    # Gymnasium's CartPole: the copies stepped as one array (CartPoleBatch), with the trajectories Gymnasium's vector
    # environment gives (copy k reset with seed + k, as its reset(seed) does); any other environment: that vector
    # environment itself.
    copies = [make_env(config.env_id) for _ in range(n_envs)]
    vector_env: gym.vector.VectorEnv | None = None
    step: Callable[[NDArray[np.int64]], StepResult]
    if CartPoleBatch.supports(copies):
        batch = CartPoleBatch(copies)
        obs_dim, n_actions = env_dimensions(copies[0])
        obs = np.stack([batch.reset(k, seed=int(seed) + k) for k in range(n_envs)])

        def step(actions: NDArray[np.int64]) -> StepResult:
            ended_in, rewards, terminated, truncated = batch.step(actions)
            ended = np.flatnonzero(terminated | truncated)
            next_obs = ended_in.copy() if ended.size else ended_in
            for i in ended:
                next_obs[i] = batch.reset(int(i))
            return next_obs, ended_in, rewards, terminated, truncated
    else:
        for copy in copies:
            copy.close()
        vector_env = envs = make_vector_env(config.env_id, n_envs)
        obs_dim, n_actions = space_dimensions(envs.single_observation_space, envs.single_action_space)
        obs, _ = envs.reset(seed=int(seed))

        def step(actions: NDArray[np.int64]) -> StepResult:
            next_obs, rewards, terminated, truncated, info = envs.step(actions)
            ended_in = next_obs.copy()
            for i in np.flatnonzero(terminated | truncated):
                ended_in[i] = info["final_obs"][i]  # the vector environment has already reset this copy
            return next_obs, ended_in, rewards, terminated, truncated
    # Built after the resets, which draw from the environments' streams only, never from the agent's.
    agent = agent_factory(obs_dim, n_actions)
    history = EpisodeLog()
    running_return = np.zeros(n_envs)
    running_length = np.zeros(n_envs, dtype=np.int64)
    running_entropy = np.zeros(n_envs)
    finished = 0
    buf_obs = np.zeros((n_steps, n_envs, obs_dim), dtype=np.float32)
    buf_next = np.zeros_like(buf_obs)
    buf_act = np.zeros((n_steps, n_envs), dtype=np.int64)
    buf_rew = np.zeros((n_steps, n_envs))
    buf_term = np.zeros((n_steps, n_envs), dtype=bool)
    buf_trunc = np.zeros((n_steps, n_envs), dtype=bool)
    steps_taken = 0
    while finished < config.episodes and (config.max_steps is None or steps_taken < config.max_steps):
        frozen = learning_frozen(config, history)
        agent.follow_lr_schedule(finished, steps_taken)
        steps_taken += n_envs * n_steps
        ended_now: list[tuple[float, int, float]] = []
        for k in range(n_steps):
            probs = agent.probabilities(obs)
            actions = sample_actions(probs, agent.rng)
            next_obs, ended_in, rewards, terminated, truncated = step(actions)
            buf_obs[k], buf_act[k], buf_rew[k] = obs, actions, rewards
            buf_term[k], buf_trunc[k] = terminated, truncated
            buf_next[k] = ended_in  # the state each episode ended in, not the reset state that follows it
            running_return += rewards
            running_length += 1
            running_entropy += policy_entropy(probs)
            for i in np.flatnonzero(terminated | truncated):
                ended_now.append((float(running_return[i]), int(running_length[i]),
                                  float(running_entropy[i] / running_length[i])))
                running_return[i] = running_length[i] = running_entropy[i] = 0
            obs = next_obs
        if frozen:
            last_stats = NO_UPDATE
        else:
            last_stats = agent.update(rollout_batch(buf_obs, buf_act, buf_rew, buf_next, buf_term, buf_trunc))
            check_update_finite(last_stats, config, finished, seed)
        for episode_return, length, entropy in ended_now:
            if finished >= config.episodes:
                break
            history.append(finished, episode_return, length, entropy, last_stats)
            finished += 1
            monitor.episode_recorded(history, agent, steps_taken)
    if vector_env is not None:
        vector_env.close()
    return history.frame(), agent
