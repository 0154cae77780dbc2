r"""Exact policy-gradient quantities on a tiny tabular MDP, to check the foundations of lectures 02a and 02b.

Everything here is computed exactly (linear solves, or sums over *every* trajectory of a short horizon), so a
lecture can check an identity to rounding error instead of estimating it from samples:

* the MDP :class:`TabularMDP`: ``S`` states, ``A`` actions, transition probabilities ``P[s, a, s']``, expected
  rewards ``R[s, a]``, a start distribution ``mu0[s]`` and a discount ``gamma``;
* a softmax policy with one logit per state and action, ``pi(a|s) = softmax(theta[s])_a``, ``theta`` of shape
  ``(S, A)`` (:func:`softmax_policy`), and its score :func:`score` ``= grad_theta log pi(a|s)``;
* the values of the endless discounted problem, :math:`V^\pi`, :math:`Q^\pi`, :math:`A^\pi = Q^\pi - V^\pi`
  (:func:`state_values`, :func:`action_values`), the discounted state visitation (:func:`discounted_visitation`) and
  the policy-gradient theorem of Sutton et al. (2000) (:func:`policy_gradient_theorem`);
* the same quantities for an episode cut after ``horizon`` steps, as CartPole-v1 cuts at 500:
  :func:`finite_horizon_values` (values that depend on the steps left), :func:`enumerate_trajectories`,
  :func:`expected_return` (the objective :math:`J`) and :func:`expected_estimate` (the exact expectation of a
  per-episode gradient estimator, for the weightings used in practice and in the textbooks);
* :func:`finite_difference_gradient` and :func:`finite_difference_jacobian`, the references the checks compare with.

The discounting bias (Thomas 2014; Nota & Thomas 2020): the estimator that weights each score by the discounted
return still to come, :math:`\sum_t G_t \nabla\log\pi(a_t|s_t)`, without the factor :math:`\gamma^t`, is what
practical implementations (and this course's demo) compute; its expectation is neither the gradient of the
discounted objective nor, for :math:`\gamma < 1`, of the undiscounted one (``kind="discounted_returns"``).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "TabularMDP",
    "Trajectories",
    "two_state_mdp",
    "softmax_policy",
    "score",
    "state_values",
    "action_values",
    "discounted_visitation",
    "policy_gradient_theorem",
    "finite_horizon_values",
    "enumerate_trajectories",
    "expected_return",
    "expected_estimate",
    "finite_difference_gradient",
    "finite_difference_jacobian",
]

Estimator = Literal["whole_return", "reward_to_go", "discounted_returns", "q_values"]


@dataclass(frozen=True)
class TabularMDP:
    """A finite MDP. Shapes: ``P (S, A, S)`` with rows summing to 1, ``R (S, A)`` (expected reward of taking ``a``
    in ``s``, reward units), ``mu0 (S,)`` (start distribution); ``gamma`` in ``[0, 1]``."""

    P: NDArray[np.float64]
    R: NDArray[np.float64]
    mu0: NDArray[np.float64]
    gamma: float

    def __post_init__(self) -> None:
        s, a, s2 = self.P.shape
        if s != s2 or self.R.shape != (s, a) or self.mu0.shape != (s,):
            raise ValueError(f"inconsistent shapes P {self.P.shape}, R {self.R.shape}, mu0 {self.mu0.shape}")
        if not np.allclose(self.P.sum(axis=2), 1.0) or not np.isclose(self.mu0.sum(), 1.0):
            raise ValueError("P[s, a, :] and mu0 must be probability distributions")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {self.gamma}")

    @property
    def n_states(self) -> int:
        return int(self.P.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.P.shape[1])

    def with_gamma(self, gamma: float) -> "TabularMDP":
        """The same MDP with another discount."""
        return TabularMDP(self.P, self.R, self.mu0, float(gamma))


def two_state_mdp(gamma: float = 0.9) -> TabularMDP:
    """The lectures' example: two states, two actions. Action 0 pays now (reward 1 in state 0), action 1 pays later
    (it mostly leads to state 1, where action 1 earns 2). Starts in state 0 with probability 0.8."""
    P = np.array([[[0.9, 0.1], [0.2, 0.8]],
                  [[0.7, 0.3], [0.1, 0.9]]])
    R = np.array([[1.0, 0.0],
                  [0.0, 2.0]])
    return TabularMDP(P, R, np.array([0.8, 0.2]), float(gamma))


def softmax_policy(theta: ArrayLike) -> NDArray[np.float64]:
    """``pi[s, a] = exp(theta[s, a]) / sum_b exp(theta[s, b])``: ``(S, A) -> (S, A)``, rows summing to 1."""
    z = np.asarray(theta, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def score(theta: ArrayLike, state: int, action: int) -> NDArray[np.float64]:
    """``grad_theta log pi(action | state)``, shape ``(S, A)``: row ``state`` is ``onehot(action) - pi(.|state)``,
    every other row is zero (a state's logits change only that state's probabilities)."""
    pi = softmax_policy(theta)
    g = np.zeros_like(pi)
    g[state] = -pi[state]
    g[state, action] += 1.0
    return g


def _policy_matrices(mdp: TabularMDP, pi: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``P_pi[s, s'] = sum_a pi(a|s) P(s'|s, a)`` ``(S, S)`` and ``r_pi[s] = sum_a pi(a|s) R(s, a)`` ``(S,)``."""
    return np.einsum("sa,sat->st", pi, mdp.P), (pi * mdp.R).sum(axis=1)


def state_values(mdp: TabularMDP, pi: ArrayLike) -> NDArray[np.float64]:
    r"""``V^pi (S,)`` of the endless discounted problem: the solution of the Bellman equation
    :math:`V = r_\pi + \gamma P_\pi V`, i.e. :math:`V = (I - \gamma P_\pi)^{-1} r_\pi` (needs ``gamma < 1``)."""
    if mdp.gamma >= 1.0:
        raise ValueError("the endless problem needs gamma < 1; use finite_horizon_values for gamma = 1")
    p_pi, r_pi = _policy_matrices(mdp, np.asarray(pi, dtype=np.float64))
    return np.asarray(np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * p_pi, r_pi), dtype=np.float64)


def action_values(mdp: TabularMDP, pi: ArrayLike) -> NDArray[np.float64]:
    r"""``Q^pi (S, A)``: :math:`Q(s, a) = R(s, a) + \gamma \sum_{s'} P(s'|s, a) V^\pi(s')`."""
    return mdp.R + mdp.gamma * mdp.P @ state_values(mdp, pi)


def discounted_visitation(mdp: TabularMDP, pi: ArrayLike) -> NDArray[np.float64]:
    r"""``d (S,)``, :math:`d(s) = \sum_{t \ge 0} \gamma^t \Pr(s_t = s)` from ``mu0``; it sums to
    :math:`1/(1-\gamma)` (not normalised): :math:`d^\top = \mu_0^\top (I - \gamma P_\pi)^{-1}`."""
    p_pi, _ = _policy_matrices(mdp, np.asarray(pi, dtype=np.float64))
    return np.asarray(np.linalg.solve((np.eye(mdp.n_states) - mdp.gamma * p_pi).T, mdp.mu0), dtype=np.float64)


def policy_gradient_theorem(mdp: TabularMDP, theta: ArrayLike) -> NDArray[np.float64]:
    r"""``(S, A)``: :math:`\sum_s d(s) \sum_a \pi(a|s)\, Q^\pi(s, a)\, \nabla_\theta \log \pi(a|s)`, the gradient of
    :math:`J = \mu_0^\top V^\pi` by the policy-gradient theorem (Sutton et al. 2000), for the endless problem."""
    pi = softmax_policy(theta)
    d, q = discounted_visitation(mdp, pi), action_values(mdp, pi)
    grad = np.zeros_like(pi)
    for s in range(mdp.n_states):
        for a in range(mdp.n_actions):
            grad += d[s] * pi[s, a] * q[s, a] * score(theta, s, a)
    return grad


def finite_horizon_values(mdp: TabularMDP, pi: ArrayLike, horizon: int) -> tuple[NDArray[np.float64],
                                                                                   NDArray[np.float64]]:
    r"""Values of an episode cut after ``horizon`` steps: ``(V, Q)`` of shapes ``(horizon + 1, S)`` and
    ``(horizon + 1, S, A)``, row ``h`` for ``h`` steps left (row 0 is zero). By backward recursion
    :math:`Q_h = R + \gamma P V_{h-1}`, :math:`V_h(s) = \sum_a \pi(a|s) Q_h(s, a)`; works for ``gamma = 1`` too."""
    pi = np.asarray(pi, dtype=np.float64)
    V = np.zeros((horizon + 1, mdp.n_states))
    Q = np.zeros((horizon + 1, mdp.n_states, mdp.n_actions))
    for h in range(1, horizon + 1):
        Q[h] = mdp.R + mdp.gamma * mdp.P @ V[h - 1]
        V[h] = (pi * Q[h]).sum(axis=1)
    return V, Q


@dataclass(frozen=True)
class Trajectories:
    """Every trajectory of ``H`` steps with its probability: ``probs (N,)`` summing to 1, ``states (N, H)``,
    ``actions (N, H)``, ``rewards (N, H)`` (``r_t = R[s_t, a_t]``)."""

    probs: NDArray[np.float64]
    states: NDArray[np.int64]
    actions: NDArray[np.int64]
    rewards: NDArray[np.float64]

    @property
    def horizon(self) -> int:
        return int(self.states.shape[1])


def enumerate_trajectories(mdp: TabularMDP, theta: ArrayLike, horizon: int) -> Trajectories:
    r"""All :math:`(S A)^H` trajectories :math:`\tau = (s_0, a_0, \dots, s_{H-1}, a_{H-1})` of the policy
    ``softmax(theta)``, with :math:`P(\tau) = \mu_0(s_0) \prod_t \pi(a_t|s_t) \prod_{t<H-1} P(s_{t+1}|s_t, a_t)`.
    Keep ``(S A)^H`` small (a few thousand)."""
    pi = softmax_policy(theta)
    S, A = mdp.n_states, mdp.n_actions
    grid = np.array(list(itertools.product(*([range(S), range(A)] * horizon))), dtype=np.int64)
    states, actions = grid[:, 0::2], grid[:, 1::2]
    probs = mdp.mu0[states[:, 0]] * np.prod(pi[states, actions], axis=1)
    if horizon > 1:
        probs = probs * np.prod(mdp.P[states[:, :-1], actions[:, :-1], states[:, 1:]], axis=1)
    return Trajectories(probs, states, actions, mdp.R[states, actions])


def expected_return(mdp: TabularMDP, theta: ArrayLike, horizon: int) -> float:
    r"""The objective :math:`J(\theta) = \mathbb{E}_{\tau \sim \pi_\theta}[\sum_{t<H} \gamma^t r_t]`, exactly."""
    tr = enumerate_trajectories(mdp, theta, horizon)
    return float(tr.probs @ (tr.rewards @ mdp.gamma ** np.arange(horizon)))


def expected_estimate(mdp: TabularMDP, theta: ArrayLike, horizon: int, kind: Estimator,
                      baseline: ArrayLike | None = None) -> NDArray[np.float64]:
    r"""The exact expectation over trajectories of one per-episode gradient estimate
    :math:`\hat g = \sum_{t<H} \Psi_t \nabla_\theta \log \pi(a_t|s_t)`, shape ``(S, A)``. ``kind`` picks
    :math:`\Psi_t` (with :math:`G_t = \sum_{k \ge t} \gamma^{k-t} r_k`):

    * ``"whole_return"``: :math:`\sum_{k} \gamma^k r_k`, the whole episode's discounted return at every step
      (the log-derivative trick applied to :math:`P(\tau)`); expectation :math:`\nabla J`;
    * ``"reward_to_go"``: :math:`\sum_{k \ge t} \gamma^k r_k = \gamma^t G_t` (rewards before ``t`` dropped);
      expectation :math:`\nabla J`;
    * ``"discounted_returns"``: :math:`G_t`, without the factor :math:`\gamma^t` (what practical implementations
      and this course's demo use); expectation :math:`\nabla J` only for ``gamma = 1``;
    * ``"q_values"``: :math:`\gamma^t Q_{H-t}(s_t, a_t)` (the true values with ``H - t`` steps left);
      expectation :math:`\nabla J`.

    ``baseline`` ``(S,)``, if given, is subtracted from :math:`\Psi_t` as :math:`b(s_t)` (times :math:`\gamma^t`
    for the kinds that carry that factor); a baseline that depends only on the state leaves the expectation
    unchanged.
    """
    tr = enumerate_trajectories(mdp, theta, horizon)
    disc = mdp.gamma ** np.arange(horizon)                                       # (H,) gamma^t
    discounted = tr.rewards * disc                                               # (N, H) gamma^t r_t
    to_go = np.cumsum(discounted[:, ::-1], axis=1)[:, ::-1]                      # (N, H) sum_{k>=t} gamma^k r_k
    if kind == "whole_return":
        psi = np.repeat(discounted.sum(axis=1, keepdims=True), horizon, axis=1)
    elif kind == "reward_to_go":
        psi = to_go
    elif kind == "discounted_returns":
        psi = to_go / np.where(disc > 0, disc, 1.0)                              # G_t
    elif kind == "q_values":
        _, Q = finite_horizon_values(mdp, softmax_policy(theta), horizon)
        steps_left = horizon - np.arange(horizon)                                # (H,)
        psi = disc * Q[steps_left, tr.states, tr.actions]
    else:
        raise ValueError(f"unknown estimator {kind!r}")
    if baseline is not None:
        b = np.asarray(baseline, dtype=np.float64)[tr.states]                    # (N, H) b(s_t)
        psi = psi - (b if kind == "discounted_returns" else disc * b)
    pi = softmax_policy(theta)
    onehot = np.eye(mdp.n_actions)[tr.actions]                                   # (N, H, A)
    grad = np.zeros_like(pi)
    weights = tr.probs[:, None] * psi                                            # (N, H)
    for s in range(mdp.n_states):
        at_s = tr.states == s                                                    # (N, H)
        grad[s] = np.einsum("nh,nha->a", weights * at_s, onehot - pi[s])
    return grad


def finite_difference_gradient(f: Callable[[NDArray[np.float64]], float], theta: ArrayLike,
                               eps: float = 1e-6) -> NDArray[np.float64]:
    """Central differences ``(f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps)`` for every entry of ``theta``;
    same shape as ``theta``. Accurate to about ``eps**2`` plus rounding ``1e-16 / eps``."""
    theta = np.asarray(theta, dtype=np.float64)
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[i] = eps
        grad[i] = (f(theta + step) - f(theta - step)) / (2 * eps)
    return grad


def finite_difference_jacobian(f: Callable[[NDArray[np.float64]], NDArray[np.float64]], theta: ArrayLike,
                               eps: float = 1e-6) -> NDArray[np.float64]:
    """``(n, n)`` Jacobian of a vector field ``f: theta -> same shape`` (``n = theta.size``), by central
    differences: entry ``[i, j]`` is ``d f_i / d theta_j``. A vector field is the gradient of some function only
    if this matrix is symmetric (it is then that function's Hessian)."""
    theta = np.asarray(theta, dtype=np.float64)
    n = theta.size
    J = np.zeros((n, n))
    for j in range(n):
        step = np.zeros(n)
        step[j] = eps
        up = np.asarray(f(theta + step.reshape(theta.shape)), dtype=np.float64).ravel()
        down = np.asarray(f(theta - step.reshape(theta.shape)), dtype=np.float64).ravel()
        J[:, j] = (up - down) / (2 * eps)
    return J
