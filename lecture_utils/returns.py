"""Returns, targets and advantages: pure maths on 1-D arrays, one value per time step of an episode.

Conventions for every function here (``T`` is the episode length):

* ``rewards``: shape ``(T,)``, the reward received after the action at step ``t``.
* ``values``: shape ``(T,)``, the critic's estimate ``V(s_t)``.
* ``next_values``: shape ``(T,)``, ``V(s_{t+1})``: the value of the state reached *after* step ``t``.
* ``terminated``: shape ``(T,)``, true where ``s_{t+1}`` is terminal (the pole fell). A terminal state has no future,
  so nothing is bootstrapped from it.
* Truncation (the 500-step time limit) is **not** termination: the state after the last step still has a future, and
  the bootstrapped estimators (TD(0), n-step, GAE) add ``gamma * V(s_T)`` there. Only the plain Monte Carlo return,
  as in the seed, stops summing at the end of the recorded episode, whichever way it ended.

All functions return float64 arrays of shape ``(T,)`` and do not modify their inputs.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "discounted_returns",
    "mc_advantages",
    "td0_targets",
    "td_errors",
    "n_step_returns",
    "gae_advantages",
]


def _as_1d(name: str, x: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array with one entry per time step, got shape {arr.shape}")
    return arr


def _check_gamma(gamma: float) -> None:
    if not 0.0 < gamma <= 1.0:
        raise ValueError(f"gamma must lie in (0, 1], got {gamma}")


def discounted_returns(rewards: ArrayLike, gamma: float) -> NDArray[np.float64]:
    r"""Monte Carlo return of every step: :math:`G_t = \sum_{k=0}^{T-1-t} \gamma^k r_{t+k}`.

    Computed backwards with :math:`G_t = r_t + \gamma G_{t+1}` and :math:`G_T = 0`, in float64 and in the same order
    of operations as the seed (``s = s * gamma + r``), so the float32 returns it feeds to the networks are identical.
    Nothing is bootstrapped after the last recorded step, even if the episode was truncated.
    """
    _check_gamma(gamma)
    rewards = _as_1d("rewards", rewards)
    # On Python floats: the same IEEE double operations as on NumPy scalars, at a fraction of the cost per step.
    backwards = []
    running = 0.0
    for reward in reversed(rewards.tolist()):
        running = running * gamma + reward
        backwards.append(running)
    return np.array(backwards[::-1], dtype=np.float64).reshape(rewards.shape)


def mc_advantages(returns: ArrayLike, values: ArrayLike) -> NDArray[np.float64]:
    r"""The seed's advantage estimate :math:`A_t = G_t - V(s_t)`: the return minus the critic's baseline."""
    returns = _as_1d("returns", returns)
    values = _as_1d("values", values)
    if returns.shape != values.shape:
        raise ValueError(f"returns {returns.shape} and values {values.shape} must have the same shape")
    return returns - values


def td0_targets(rewards: ArrayLike, next_values: ArrayLike, terminated: ArrayLike, gamma: float) -> NDArray[np.float64]:
    r"""One-step TD targets :math:`y_t = r_t + \gamma (1 - d_t) V(s_{t+1})`, with :math:`d_t` = terminated.

    A truncated last step keeps its bootstrap term: the time limit ended the recording, not the task.
    """
    _check_gamma(gamma)
    rewards = _as_1d("rewards", rewards)
    next_values = _as_1d("next_values", next_values)
    not_done = 1.0 - _as_1d("terminated", terminated)
    return rewards + gamma * not_done * next_values


def td_errors(
    rewards: ArrayLike, values: ArrayLike, next_values: ArrayLike, terminated: ArrayLike, gamma: float
) -> NDArray[np.float64]:
    r"""TD residuals :math:`\delta_t = r_t + \gamma (1 - d_t) V(s_{t+1}) - V(s_t)`: the TD(0) advantage."""
    return td0_targets(rewards, next_values, terminated, gamma) - _as_1d("values", values)


def n_step_returns(
    rewards: ArrayLike, next_values: ArrayLike, terminated: ArrayLike, gamma: float, n: int
) -> NDArray[np.float64]:
    r"""n-step bootstrapped returns :math:`G^{(n)}_t = \sum_{k=0}^{m-1} \gamma^k r_{t+k} + \gamma^m (1-d) V(s_{t+m})`.

    ``m = min(n, T - t)``: near the end of the episode fewer than ``n`` rewards remain. The bootstrap value is
    ``next_values[t + m - 1]`` (the state after the last summed reward) and is dropped where that state is terminal.
    ``n = 1`` gives :func:`td0_targets`; ``n >= T`` on a terminated episode gives :func:`discounted_returns`.
    """
    _check_gamma(gamma)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive whole number, got {n}")
    rewards = _as_1d("rewards", rewards)
    next_values = _as_1d("next_values", next_values)
    not_done = 1.0 - _as_1d("terminated", terminated)
    horizon = len(rewards)
    out = np.empty(horizon)
    for t in range(horizon):
        last = min(t + int(n), horizon) - 1
        discounts = gamma ** np.arange(last - t + 1)
        out[t] = discounts @ rewards[t : last + 1] + gamma ** (last - t + 1) * not_done[last] * next_values[last]
    return out


def gae_advantages(
    rewards: ArrayLike,
    values: ArrayLike,
    next_values: ArrayLike,
    terminated: ArrayLike,
    gamma: float,
    lam: float,
    episode_ends: ArrayLike | None = None,
) -> NDArray[np.float64]:
    r"""Generalised advantage estimates :math:`\hat A_t = \sum_{k \ge 0} (\gamma\lambda)^k \delta_{t+k}`.

    Computed backwards, :math:`\hat A_t = \delta_t + \gamma\lambda (1 - e_t) \hat A_{t+1}`, where :math:`e_t`
    marks the last step of an episode. ``episode_ends`` (shape ``(T,)``, default: ``terminated``) lets one array hold
    several episodes or rollout segments back to back: a step that ends by truncation or at a segment's end stops the
    sum there, while its TD residual still bootstraps from ``V(s_{t+1})`` because it was not terminated.
    ``lam = 0`` gives the TD(0) advantage :func:`td_errors`; ``lam = 1`` gives the bootstrapped return minus
    ``V(s_t)`` (equal to :func:`mc_advantages` on an episode that ended by termination).
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam (GAE lambda) must lie in [0, 1], got {lam}")
    deltas = td_errors(rewards, values, next_values, terminated, gamma)
    not_done = 1.0 - _as_1d("episode_ends", terminated if episode_ends is None else episode_ends)
    # On Python floats, as in discounted_returns; (gamma * lam) is formed first, as the expression always did.
    decay = gamma * lam
    backwards = []
    running = 0.0
    for delta, carry in zip(reversed(deltas.tolist()), reversed(not_done.tolist()), strict=True):
        running = delta + decay * carry * running
        backwards.append(running)
    return np.array(backwards[::-1], dtype=np.float64).reshape(deltas.shape)
