"""Environments: make a seeded Gymnasium environment and record one episode into arrays.

The recording mirrors the seed's ``run_episode``: reset (without a new seed, so one seed at creation fixes the whole
sequence of start states), act until the episode terminates or is truncated, and keep for every step the observation,
action, reward, next observation and both end flags.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, SupportsFloat, TypeVar

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from .errors import ConfigError

__all__ = ["Episode", "make_env", "rollout_episode", "env_dimensions", "open_env", "check_spaces", "space_dimensions"]

T = TypeVar("T")

#: A policy for recording: maps one observation, shape ``(obs_dim,)``, to an action index.
PolicyFn = Callable[[NDArray[np.float32]], int]


@dataclass(frozen=True)
class Episode:
    """One recorded episode of ``T`` steps, as arrays.

    Attributes:
        obs: ``(T, obs_dim)`` float32, the observation ``s_t`` the action was chosen in.
        actions: ``(T,)`` int64, the action ``a_t`` taken.
        rewards: ``(T,)`` float64, the reward ``r_t`` received after ``a_t`` (CartPole: 1.0 every step).
        next_obs: ``(T, obs_dim)`` float32, the observation ``s_{t+1}`` after the step.
        terminated: ``(T,)`` bool, true only where ``s_{t+1}`` is terminal (the pole fell or the cart left).
        truncated: ``(T,)`` bool, true only where the time limit cut the episode (500 steps on CartPole-v1).
    """

    obs: NDArray[np.float32]
    actions: NDArray[np.int64]
    rewards: NDArray[np.float64]
    next_obs: NDArray[np.float32]
    terminated: NDArray[np.bool_]
    truncated: NDArray[np.bool_]

    @property
    def length(self) -> int:
        """Number of steps ``T``."""
        return int(self.rewards.shape[0])

    @property
    def total_reward(self) -> float:
        """Undiscounted return of the episode (CartPole: its length)."""
        return float(self.rewards.sum())


def open_env(env_id: str, opener: Callable[[], T]) -> T:
    """``opener()`` (a ``gym.make`` or ``gym.make_vec`` of ``env_id``), with what can go wrong in it turned into one
    :class:`ConfigError` naming ``--env`` and a fix: an unknown id, a missing extra, a module that cannot be
    imported (``module:Env-v0`` ids, or an environment whose code needs an uninstalled package)."""
    try:
        return opener()
    except gym.error.Error as exc:  # NameNotFound, VersionNotFound, DependencyNotInstalled, ...
        reason = str(exc).rstrip(".")
    except ImportError as exc:
        missing = getattr(exc, "name", None)
        reason = (f"it needs the Python module {missing!r}, which cannot be imported" if missing
                  else f"importing its code failed ({str(exc).rstrip('.')})")
    raise ConfigError(f"invalid --env {env_id!r}: {reason}. Use a registered id with a discrete action space, "
                      "such as CartPole-v1") from None


def check_spaces(env_id: str, action_space: gym.Space, observation_space: gym.Space) -> None:
    """Raise :class:`ConfigError` unless the action space is Discrete and the observation a 1-D Box: the actor is a
    softmax over actions and both networks take a flat vector."""
    if not isinstance(action_space, gym.spaces.Discrete):
        raise ConfigError(
            f"invalid --env {env_id!r}: its action space is {type(action_space).__name__}, but A2C here samples from "
            "a softmax over a discrete action space; use e.g. CartPole-v1 or Acrobot-v1")
    if not isinstance(observation_space, gym.spaces.Box):
        raise ConfigError(f"invalid --env {env_id!r}: its observation space is {type(observation_space).__name__}; "
                          "a Box (vector) space is needed")
    if len(observation_space.shape) != 1:
        raise ConfigError(f"invalid --env {env_id!r}: its observations have shape {observation_space.shape}, but the "
                          "networks here take a flat vector; wrap the environment in "
                          "gymnasium.wrappers.FlattenObservation, or use e.g. CartPole-v1")


def space_dimensions(observation_space: gym.Space, action_space: gym.Space) -> tuple[int, int]:
    """``(obs_dim, n_actions)`` of spaces that passed :func:`check_spaces`."""
    assert isinstance(observation_space, gym.spaces.Box) and isinstance(action_space, gym.spaces.Discrete)
    return int(observation_space.shape[0]), int(action_space.n)


def make_env(env_id: str = "CartPole-v1", seed: int | None = None, render_mode: str | None = None) -> gym.Env:
    """Create a Gymnasium environment with a discrete action space, seeded if ``seed`` is given.

    Seeding resets the environment once with ``seed`` (as the seed script does), so the start states of all later
    unseeded resets follow from it. ``render_mode="rgb_array"`` makes ``env.render()`` return an
    ``(H, W, 3)`` uint8 frame; no window is ever opened.

    Raises:
        ConfigError: the id is unknown, needs a missing extra or module, has a continuous action space, or
            observations that are not a flat vector.
    """
    env = open_env(env_id, lambda: gym.make(env_id, render_mode=render_mode))
    try:
        check_spaces(env_id, env.action_space, env.observation_space)
    except ConfigError:
        env.close()
        raise
    if seed is not None:
        env.reset(seed=int(seed))
        env.action_space.seed(int(seed))
    return env


def env_dimensions(env: gym.Env) -> tuple[int, int]:
    """``(obs_dim, n_actions)``: the observation vector's length and the number of discrete actions."""
    check_spaces(getattr(env.spec, "id", "<custom>"), env.action_space, env.observation_space)
    return space_dimensions(env.observation_space, env.action_space)


def rollout_episode(env: gym.Env, policy: PolicyFn, seed: int | None = None) -> Episode:
    """Play one episode with ``policy`` and return it as an :class:`Episode`.

    ``seed`` (optional) reseeds the reset; by default the environment's own random stream continues, as in the seed.
    """
    obs, _ = env.reset(seed=seed)
    # One list of the T + 1 observations s_0..s_T instead of separate obs and next_obs lists (s_{t+1} is the next
    # step's s_t), and the end flags only once: the loop stops at the first step that terminates or truncates, so
    # every earlier step has both flags false. Same arrays as recording everything per step, fewer appends per step
    # (this loop runs once per environment step).
    observations = [obs]
    actions: list[int] = []
    rewards: list[SupportsFloat] = []
    add_obs, add_action, add_reward = observations.append, actions.append, rewards.append
    step = env.step
    while True:
        action = policy(obs)
        obs, reward, terminated, truncated, _ = step(action)
        add_obs(obs)
        add_action(action)
        add_reward(reward)
        if terminated or truncated:
            break
    length = len(actions)
    stacked = np.asarray(observations, dtype=np.float32).reshape(length + 1, -1)
    ends_terminated = np.zeros(length, dtype=bool)
    ends_truncated = np.zeros(length, dtype=bool)
    ends_terminated[-1] = bool(terminated)
    ends_truncated[-1] = bool(truncated)
    return Episode(
        obs=stacked[:-1],
        actions=np.asarray(actions, dtype=np.int64),
        rewards=np.asarray(rewards, dtype=np.float64),
        next_obs=stacked[1:].copy(),  # its own array, so that writing into one of obs/next_obs leaves the other
        terminated=ends_terminated,
        truncated=ends_truncated,
    )
