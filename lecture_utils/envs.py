"""Environments: make a seeded Gymnasium environment and record one episode into arrays.

The recording mirrors the seed's ``run_episode``: reset (without a new seed, so one seed at creation fixes the whole
sequence of start states), act until the episode terminates or is truncated, and keep for every step the observation,
action, reward, next observation and both end flags.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence, SupportsFloat, TypeVar, cast

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from .errors import ConfigError

__all__ = ["Episode", "make_env", "rollout_episode", "env_dimensions", "open_env", "check_spaces", "space_dimensions",
           "CartPoleBatch"]

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
    core = _plain_cartpole(env)
    if core is not None:
        return _rollout_cartpole(env, core, obs, policy)
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


def _plain_cartpole(env: gym.Env) -> Any:
    """The ``CartPoleEnv`` inside ``env`` if ``env`` is exactly what ``gym.make("CartPole-v1")`` builds (time limit,
    order enforcing, a passive checker that has checked its first step; no rendering, the plain reward), else None."""
    from gymnasium.envs.classic_control.cartpole import CartPoleEnv
    from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker, TimeLimit

    if type(env) is not TimeLimit or type(env.env) is not OrderEnforcing:
        return None
    checker = env.env.env
    if type(checker) is not PassiveEnvChecker or not checker.checked_step or type(checker.env) is not CartPoleEnv:
        return None
    core = checker.env
    if core.render_mode is not None or core._sutton_barto_reward or core.kinematics_integrator != "euler":
        return None
    return core


def _rollout_cartpole(env: gym.Env, core: Any, obs: NDArray[np.float32], policy: PolicyFn) -> Episode:
    """:func:`rollout_episode` on a plain Gymnasium CartPole (see :func:`_plain_cartpole`), with ``CartPoleEnv.step``
    written out on Python floats: the same IEEE double operations in the same order (``np.square(v)`` is ``v * v``;
    cos and sin are still NumPy's), so the same episode, without the three wrappers' calls and the action-space
    check on every step. The environment's state, step counter and termination bookkeeping are written back at the
    end, so it carries on exactly as if it had been stepped (the policy must not read ``env``'s state meanwhile)."""
    limit = cast(int, env._max_episode_steps)  # type: ignore[attr-defined]
    gravity, masspole, total_mass = core.gravity, core.masspole, core.total_mass
    length, polemass_length, force_mag, tau = core.length, core.polemass_length, core.force_mag, core.tau
    x_threshold, theta_threshold = core.x_threshold, core.theta_threshold_radians
    cos, sin, float32 = np.cos, np.sin, np.float32
    x, x_dot, theta, theta_dot = core.state.tolist()
    observations = [obs]
    actions: list[int] = []
    add_obs, add_action = observations.append, actions.append
    steps = 0
    terminated = truncated = False
    while not (terminated or truncated):
        action = policy(obs)
        force = force_mag if action == 1 else -force_mag
        costheta, sintheta = float(cos(theta)), float(sin(theta))
        temp = (force + polemass_length * (theta_dot * theta_dot) * sintheta) / total_mass
        thetaacc = (gravity * sintheta - costheta * temp) / (
            length * (4.0 / 3.0 - masspole * (costheta * costheta) / total_mass))
        xacc = temp - polemass_length * thetaacc * costheta / total_mass
        x = x + tau * x_dot
        x_dot = x_dot + tau * xacc
        theta = theta + tau * theta_dot
        theta_dot = theta_dot + tau * thetaacc
        obs = np.array((x, x_dot, theta, theta_dot), dtype=float32)
        add_obs(obs)
        add_action(action)
        steps += 1
        terminated = x < -x_threshold or x > x_threshold or theta < -theta_threshold or theta > theta_threshold
        truncated = env._elapsed_steps + steps >= limit  # type: ignore[attr-defined]
    core.state = np.array((x, x_dot, theta, theta_dot), dtype=np.float64)
    if terminated:
        core.steps_beyond_terminated = 0
    env._elapsed_steps += steps  # type: ignore[attr-defined]
    stacked = np.asarray(observations, dtype=np.float32).reshape(steps + 1, -1)
    ends_terminated = np.zeros(steps, dtype=bool)
    ends_truncated = np.zeros(steps, dtype=bool)
    ends_terminated[-1], ends_truncated[-1] = terminated, truncated
    return Episode(obs=stacked[:-1], actions=np.asarray(actions, dtype=np.int64), rewards=np.ones(steps),
                   next_obs=stacked[1:].copy(), terminated=ends_terminated, truncated=ends_truncated)


class CartPoleBatch:
    """``N`` Gymnasium CartPoles stepped as one float64 array, each reset by its own Gymnasium environment.

    :meth:`step` is ``CartPoleEnv.step`` written over arrays with the same operations in the same order, so each
    row follows exactly the trajectory its own environment would; the time limit is the ``TimeLimit`` wrapper's.
    """

    def __init__(self, envs: Sequence[gym.Env]) -> None:
        self.envs = list(envs)
        core: Any = self.envs[0].unwrapped  # gymnasium's CartPoleEnv (see supports)
        self.limit = int(self.envs[0].spec.max_episode_steps) if self.envs[0].spec and \
            self.envs[0].spec.max_episode_steps else None
        self.gravity, self.masspole, self.total_mass = core.gravity, core.masspole, core.total_mass
        self.length, self.polemass_length, self.force_mag = core.length, core.polemass_length, core.force_mag
        self.tau, self.euler = core.tau, core.kinematics_integrator == "euler"
        self.x_threshold, self.theta_threshold = core.x_threshold, core.theta_threshold_radians
        self.state = np.zeros((len(self.envs), 4), dtype=np.float64)
        self.elapsed = np.zeros(len(self.envs), dtype=np.int64)

    @staticmethod
    def supports(envs: Sequence[gym.Env]) -> bool:
        """True if every environment is Gymnasium's CartPole with the same physics and its plain reward."""
        from gymnasium.envs.classic_control.cartpole import CartPoleEnv

        cores = [env.unwrapped for env in envs]
        if not all(type(core) is CartPoleEnv and not core._sutton_barto_reward for core in cores):
            return False
        keys = ("gravity", "masscart", "masspole", "length", "force_mag", "tau", "kinematics_integrator",
                "x_threshold", "theta_threshold_radians")
        first = [getattr(cores[0], k) for k in keys]
        limits = {env.spec.max_episode_steps if env.spec else None for env in envs}
        return all([getattr(core, k) for k in keys] == first for core in cores) and len(limits) == 1

    def reset(self, index: int, seed: int | None = None) -> NDArray[np.float32]:
        """Reset environment ``index`` from its own random stream (reseeded with ``seed`` if given); its first
        observation ``(4,)`` float32."""
        obs, _ = self.envs[index].reset(seed=seed)
        self.state[index] = self.envs[index].unwrapped.state  # type: ignore[attr-defined]
        self.elapsed[index] = 0
        return obs

    def step(self, actions: NDArray[np.int64]) -> tuple[NDArray[np.float32], NDArray[np.float64],
                                                        NDArray[np.bool_], NDArray[np.bool_]]:
        """Step every row: ``actions (N,)`` -> ``(obs (N, 4) float32, rewards (N,), terminated (N,), truncated (N,))``.

        Rows that ended must be reset before their next step (as with Gymnasium)."""
        x, x_dot, theta, theta_dot = self.state.T
        force = np.where(actions == 1, self.force_mag, -self.force_mag)
        costheta, sintheta = np.cos(theta), np.sin(theta)
        temp = (force + self.polemass_length * np.square(theta_dot) * sintheta) / self.total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * np.square(costheta) / self.total_mass))
        xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass
        if self.euler:
            x = x + self.tau * x_dot
            x_dot = x_dot + self.tau * xacc
            theta = theta + self.tau * theta_dot
            theta_dot = theta_dot + self.tau * thetaacc
        else:
            x_dot = x_dot + self.tau * xacc
            x = x + self.tau * x_dot
            theta_dot = theta_dot + self.tau * thetaacc
            theta = theta + self.tau * theta_dot
        state = self.state
        state[:, 0], state[:, 1], state[:, 2], state[:, 3] = x, x_dot, theta, theta_dot
        terminated = (x < -self.x_threshold) | (x > self.x_threshold) | (theta < -self.theta_threshold) | \
            (theta > self.theta_threshold)
        self.elapsed += 1
        truncated = self.elapsed >= self.limit if self.limit is not None else np.zeros_like(terminated)
        return state.astype(np.float32), np.ones(len(state)), terminated, truncated
