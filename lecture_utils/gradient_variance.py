r"""How noisy is a policy-gradient estimate? Measure it for a fixed policy and several advantage estimators.

For a *fixed* actor :math:`\pi_\theta` we sample ``N`` episodes and compute, for every episode ``i`` and every
estimator ``k``, one policy-gradient estimate

.. math::  g^{(k)}_i = \sum_{t=0}^{T_i-1} A^{(k)}_t \, \nabla_\theta \log \pi_\theta(a_t \mid s_t)
           \qquad (\text{shape } (P,), \; P = \text{number of actor parameters})

with the advantage choices (``gamma`` is the discount, ``V`` a given critic):

=================  ==============================================================================================
``reinforce``      :math:`A_t = G_t`, the Monte Carlo return (REINFORCE)
``constant``       :math:`A_t = G_t - b`, ``b`` one number: by default the mean of ``G_t`` over every step sampled
``critic``         :math:`A_t = G_t - V(s_t)`, the seed's advantage
``td0``            :math:`A_t = r_t + \gamma (1 - d_t) V(s_{t+1}) - V(s_t)`, the TD(0) error
``gae(lam)``       :math:`A_t = \sum_k (\gamma\lambda)^k \delta_{t+k}`, generalised advantage estimation
=================  ==============================================================================================

Each estimator's spread is the **trace of the covariance of its estimates across episodes**, i.e. the expected
squared distance of one episode's estimate from the estimator's mean (units: squared gradient units, summed over
the ``P`` parameters). Its **bias** is measured against the ``reinforce`` row, the norm of the mean of the paired
differences ``g^(k)_i - g^(reinforce)_i`` over the same episodes. That reference is not the gradient of the
discounted objective: ``reinforce`` weights the scores by ``G_t`` without the factor ``gamma**t`` (as the seed and
nearly all implementations do), so its expectation is neither ``grad J_gamma`` nor, for ``gamma < 1``, the gradient
of the undiscounted return (Thomas 2014; Nota & Thomas 2020; see :mod:`.policy_gradient`). ``bias`` is therefore the
distance of an estimator's expectation from the reference's. Pairing cancels the noise the estimators
share; what is left of that noise is reported as ``bias_noise``, the size the bias column would have by chance alone
if the true bias were zero. A baseline that depends only on the state (``constant``, ``critic``) adds nothing in
expectation; the bootstrapped estimators (``td0``, ``gae``) differ from the reference wherever the critic is wrong.

Gradients of :math:`\log \pi` are written out by hand for the seed's actor (``Linear -> ReLU -> Linear ->
softmax``) and checked against autograd in the tests; the actor's weights are copied once into a frozen
:class:`ActorSnapshot`, so sampling and scoring never touch the agent that is being studied.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .agent import sample_action
from .config import A2CConfig
from .envs import Episode, make_env, rollout_episode
from .returns import discounted_returns, gae_advantages, td_errors
from .snapshots import agent_from_weights

__all__ = [
    "actor_gradient_norms",
    "ActorSnapshot",
    "CriticSnapshot",
    "FrozenAgent",
    "sample_episodes",
    "advantage_sets",
    "episode_gradients",
    "gradient_estimates",
    "trace_covariance",
    "paired_bias",
    "project",
    "estimator_table",
    "compare_estimators",
    "describe_estimator",
    "plot_estimator_table",
    "DEFAULT_LAMBDAS",
]

#: GAE lambdas studied by default: between TD(0) (lambda = 0) and the Monte Carlo G - V (lambda = 1).
DEFAULT_LAMBDAS: tuple[float, ...] = (0.5, 0.9, 0.97)

#: Maps a batch of observations ``(B, obs_dim)`` to critic values ``(B,)`` (units: discounted reward).
ValuesFn = Callable[[NDArray[np.floating]], NDArray[np.floating]]

Reduction = Literal["sum", "mean"]


@dataclass(frozen=True)
class _TwoLayerSnapshot:
    """Frozen float64 weights of a ``Linear -> ReLU -> Linear`` network, PyTorch's layout:
    ``w1 (H, D)``, ``b1 (H,)``, ``w2 (out, H)``, ``b2 (out,)``."""

    w1: NDArray[np.float64]
    b1: NDArray[np.float64]
    w2: NDArray[np.float64]
    b2: NDArray[np.float64]

    @classmethod
    def from_weights(cls, weights: Mapping[str, ArrayLike], prefix: str = ""):
        """From a dict keyed ``{prefix}0.weight`` ... (an ``nn.Sequential``'s names, or an agent's prefixed ones)."""
        get = lambda name: np.array(weights[f"{prefix}{name}"], dtype=np.float64)  # noqa: E731
        return cls(get("0.weight"), get("0.bias"), get("2.weight"), get("2.bias"))

    @classmethod
    def _from_network_or_agent(cls, network: Any, agent_prefix: str):
        """From an ``nn.Sequential`` or from any agent with ``get_weights()`` (its ``agent_prefix`` entries)."""
        if hasattr(network, "get_weights"):
            return cls.from_weights(network.get_weights(), prefix=agent_prefix)
        return cls.from_weights({k: v.detach().cpu().numpy() for k, v in network.named_parameters()})


@dataclass(frozen=True)
class ActorSnapshot(_TwoLayerSnapshot):
    """A frozen float64 copy of the seed's actor ``obs -> Linear -> ReLU -> Linear -> softmax``.

    Attributes (PyTorch's layout, ``H`` hidden units, ``D`` = obs_dim, ``A`` = n_actions):
        w1: ``(H, D)``; b1: ``(H,)``; w2: ``(A, H)``; b2: ``(A,)``.

    Flattened parameter vectors (``(P,)``, ``P = H*D + H + A*H + A``) follow ``named_parameters()`` order:
    ``0.weight, 0.bias, 2.weight, 2.bias``, each row-major.
    """

    @classmethod
    def from_actor(cls, actor: object) -> "ActorSnapshot":
        """From an actor ``nn.Sequential`` (``make_actor``) or from any agent with ``get_weights()`` (both kinds)."""
        return cls._from_network_or_agent(actor, "actor.")

    # -- sizes -------------------------------------------------------------------------------------------------
    @property
    def n_params(self) -> int:
        """``P``, the number of actor parameters (the length of one gradient estimate)."""
        return int(self.w1.size + self.b1.size + self.w2.size + self.b2.size)

    @property
    def n_actions(self) -> int:
        return int(self.w2.shape[0])

    # -- forward and score -------------------------------------------------------------------------------------
    def probabilities(self, obs: ArrayLike) -> NDArray[np.float64]:
        """``pi(.|s)``: ``(B, D) -> (B, A)`` (or ``(D,) -> (A,)``)."""
        x = np.asarray(obs, dtype=np.float64)
        logits = np.maximum(x @ self.w1.T + self.b1, 0.0) @ self.w2.T + self.b2
        logits = logits - logits.max(axis=-1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=-1, keepdims=True)

    def score_vectors(self, obs: ArrayLike, actions: ArrayLike) -> NDArray[np.float64]:
        """Score function ``grad_theta log pi(a_t|s_t)`` of every step: ``obs (T, D), actions (T,) -> (T, P)``.

        Backpropagation by hand: ``dlog p_a / dlogits = onehot(a) - p``, then through ``Linear``, ``ReLU``,
        ``Linear``. (Exact ``log pi``; the seed's ``+1e-8`` inside the log changes nothing visible.)
        """
        x = np.asarray(obs, dtype=np.float64).reshape(-1, self.w1.shape[1])
        a = np.asarray(actions, dtype=np.int64).reshape(-1)
        pre = x @ self.w1.T + self.b1                        # (T, H)
        hidden = np.maximum(pre, 0.0)                        # (T, H)
        logits = hidden @ self.w2.T + self.b2                # (T, A)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        d_logits = -p
        d_logits[np.arange(len(a)), a] += 1.0                # onehot(a) - p, (T, A)
        d_pre = (d_logits @ self.w2) * (pre > 0)             # (T, H)
        t = len(a)
        return np.concatenate([
            (d_pre[:, :, None] * x[:, None, :]).reshape(t, -1),       # 0.weight (T, H*D)
            d_pre,                                                    # 0.bias   (T, H)
            (d_logits[:, :, None] * hidden[:, None, :]).reshape(t, -1),  # 2.weight (T, A*H)
            d_logits,                                                 # 2.bias   (T, A)
        ], axis=1)

    def policy(self, rng: np.random.RandomState) -> Callable[[NDArray[np.floating]], int]:
        """A policy function that samples ``a ~ pi(.|s)`` with one uniform draw from ``rng`` per step."""
        return lambda obs: sample_action(self.probabilities(obs), rng)


@dataclass(frozen=True)
class CriticSnapshot(_TwoLayerSnapshot):
    """A frozen float64 copy of the seed's critic ``obs -> Linear -> ReLU -> Linear``; calling it gives ``V(s)``.

    Attributes: w1 ``(H, D)``, b1 ``(H,)``, w2 ``(1, H)``, b2 ``(1,)``. Freezing matters when the agent goes on
    training: the snapshot keeps the critic that belongs to the snapshot of the actor.
    """

    @classmethod
    def from_critic(cls, critic: object) -> "CriticSnapshot":
        """From a critic ``nn.Sequential`` (``make_critic``) or from any agent with ``get_weights()``."""
        return cls._from_network_or_agent(critic, "critic.")

    def __call__(self, obs: ArrayLike) -> NDArray[np.float64]:
        """``V(s)``: ``(B, D) -> (B,)`` (units: discounted reward)."""
        x = np.asarray(obs, dtype=np.float64).reshape(-1, self.w1.shape[1])
        return (np.maximum(x @ self.w1.T + self.b1, 0.0) @ self.w2.T + self.b2)[:, 0]


class FrozenAgent:
    """A trained actor and critic frozen in float64: it acts, scores and evaluates alike on every CPU.

    A float32 agent's probabilities differ in their last bits between CPUs (BLAS and SIMD kernels), and now and then
    that flips a sampled action; in float64 such a flip needs a uniform draw within about 1e-16 of a probability,
    which does not happen in any lecture. Used wherever a lecture studies stored weights
    (:func:`~lecture_utils.snapshot_sets.load_snapshots`); it has the acting side of :class:`A2CAgent`
    (``act``, ``greedy_policy``, ``probabilities``, ``values``), so :func:`~lecture_utils.evaluation.evaluate` and
    :func:`~lecture_utils.envs.rollout_episode` take it as they take an agent. It does not learn.
    """

    def __init__(self, weights: Mapping[str, ArrayLike], seed: int = 0) -> None:
        """``weights`` as :meth:`A2CAgent.get_weights` gives them; ``seed`` seeds the acting random stream only."""
        self.actor = ActorSnapshot.from_weights(weights, prefix="actor.")
        self.critic = CriticSnapshot.from_weights(weights, prefix="critic.")
        self.rng = np.random.RandomState(seed)

    def probabilities(self, obs: ArrayLike) -> NDArray[np.float64]:
        """``pi(.|s)``: ``(B, D) -> (B, A)`` or ``(D,) -> (A,)``."""
        return self.actor.probabilities(obs)

    def values(self, obs: ArrayLike) -> NDArray[np.float64]:
        """``V(s)``: ``(B, D) -> (B,)`` (units: discounted reward)."""
        return self.critic(obs)

    def act(self, obs: ArrayLike) -> int:
        """Sample ``a ~ pi(.|s)`` for one observation ``(D,)``, with one uniform draw from the agent's stream."""
        return sample_action(self.actor.probabilities(obs), self.rng)

    def greedy_policy(self, obs: ArrayLike) -> int:
        """The most probable action for one observation ``(D,)``."""
        return int(np.argmax(self.actor.probabilities(obs)))


def sample_episodes(actor: ActorSnapshot | object, n_episodes: int, seed: int,
                    env_id: str = "CartPole-v1") -> list[Episode]:
    """Play ``n_episodes`` episodes with the fixed policy ``actor``; the same ``seed`` gives the same episodes.

    ``actor`` is an :class:`ActorSnapshot`, an actor ``nn.Sequential`` or an agent; its weights are copied first,
    and the agent's own random stream is not touched. Start states come from a fresh environment seeded with
    ``seed``; actions from ``np.random.RandomState(seed)``.
    """
    snapshot = actor if isinstance(actor, ActorSnapshot) else ActorSnapshot.from_actor(actor)
    env = make_env(env_id, seed=seed)
    policy = snapshot.policy(np.random.RandomState(int(seed)))
    try:
        return [rollout_episode(env, policy) for _ in range(int(n_episodes))]
    finally:
        env.close()


def advantage_sets(
    episodes: Sequence[Episode],
    values_fn: ValuesFn | None,
    gamma: float = 0.99,
    lambdas: Iterable[float] = DEFAULT_LAMBDAS,
    constant_baseline: float | None = None,
) -> dict[str, list[NDArray[np.float64]]]:
    """Every estimator's advantages, one ``(T_i,)`` array per episode, keyed by estimator name.

    Names: ``reinforce``, ``constant``, and (only if ``values_fn`` is given) ``critic``, ``td0``, ``gae(lam)``
    formatted like ``gae(0.9)``. ``constant_baseline`` defaults to the mean of ``G_t`` over every sampled step.
    The critic is called once on all observations and once on all next observations.
    """
    returns = [discounted_returns(ep.rewards, gamma) for ep in episodes]
    if constant_baseline is None:
        constant_baseline = float(np.concatenate(returns).mean())
    out: dict[str, list[NDArray[np.float64]]] = {
        "reinforce": returns,
        "constant": [g - constant_baseline for g in returns],
    }
    if values_fn is None:
        return out
    splits = np.cumsum([ep.length for ep in episodes])[:-1]
    values = np.split(np.asarray(values_fn(np.concatenate([ep.obs for ep in episodes])), dtype=np.float64), splits)
    next_values = np.split(
        np.asarray(values_fn(np.concatenate([ep.next_obs for ep in episodes])), dtype=np.float64), splits)
    out["critic"] = [g - v for g, v in zip(returns, values, strict=True)]
    out["td0"] = [td_errors(ep.rewards, v, nv, ep.terminated, gamma)
                  for ep, v, nv in zip(episodes, values, next_values, strict=True)]
    for lam in lambdas:
        out[f"gae({lam:g})"] = [gae_advantages(ep.rewards, v, nv, ep.terminated, gamma, lam)
                                for ep, v, nv in zip(episodes, values, next_values, strict=True)]
    return out


def episode_gradients(scores: Sequence[NDArray[np.floating]], advantages: Sequence[NDArray[np.floating]],
                      reduction: Reduction = "sum") -> NDArray[np.float64]:
    """One gradient estimate per episode: ``g_i = sum_t A_t * score_t`` (or the mean over ``t``).

    Args:
        scores: per episode, ``(T_i, P)`` score vectors from :meth:`ActorSnapshot.score_vectors`.
        advantages: per episode, ``(T_i,)`` advantages.
        reduction: ``"sum"`` (the sum over the steps; a state baseline leaves the expectation exactly unchanged) or
            ``"mean"`` (divide by ``T_i``, like the seed's ``.mean()`` loss; since ``T_i`` depends on the actions,
            a baseline then changes the expectation slightly).

    Returns:
        ``(N, P)`` float64, row ``i`` the estimate from episode ``i``.
    """
    if len(scores) != len(advantages):
        raise ValueError(f"{len(scores)} score arrays but {len(advantages)} advantage arrays")
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    rows = []
    for s, a in zip(scores, advantages, strict=True):
        s = np.asarray(s, dtype=np.float64)
        a = np.asarray(a, dtype=np.float64)
        if s.shape[0] != a.shape[0]:
            raise ValueError(f"scores have {s.shape[0]} steps but advantages {a.shape[0]}")
        g = a @ s
        rows.append(g / len(a) if reduction == "mean" else g)
    return np.asarray(rows, dtype=np.float64)


def gradient_estimates(actor: ActorSnapshot, episodes: Sequence[Episode], values_fn: ValuesFn | None,
                       gamma: float = 0.99, lambdas: Iterable[float] = DEFAULT_LAMBDAS,
                       constant_baseline: float | None = None,
                       reduction: Reduction = "sum") -> dict[str, NDArray[np.float64]]:
    """Every estimator's per-episode gradient estimates, ``{name: (N, P)}``; see :func:`advantage_sets`."""
    scores = [actor.score_vectors(ep.obs, ep.actions) for ep in episodes]
    advantages = advantage_sets(episodes, values_fn, gamma, lambdas, constant_baseline)
    return {name: episode_gradients(scores, adv, reduction) for name, adv in advantages.items()}


def trace_covariance(estimates: ArrayLike) -> float:
    """Variance of a vector estimator: ``trace(Cov)`` over ``N`` estimates ``(N, P)`` (``ddof=1``).

    Equals the mean squared distance of one estimate from the sample mean, times ``N / (N - 1)``; it measures the
    spread *across episodes*, summed over parameters, not the spread of the entries of one gradient.
    """
    g = np.asarray(estimates, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] < 2:
        raise ValueError(f"need estimates of shape (N >= 2, P), got {g.shape}")
    return float(((g - g.mean(axis=0)) ** 2).sum() / (g.shape[0] - 1))


def paired_bias(estimates: ArrayLike, reference: ArrayLike) -> tuple[float, float]:
    """``(bias, noise)`` of ``estimates`` against ``reference`` computed on the same episodes, both ``(N, P)``.

    ``bias = ||mean_i (g_i - ref_i)||``; ``noise = sqrt(trace(Cov(g - ref)) / N)``, the typical size of ``bias``
    when the true bias is zero (then ``E[bias^2] = noise^2``). A bias several times its noise is real.
    """
    d = np.asarray(estimates, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    bias = float(np.linalg.norm(d.mean(axis=0)))
    if not np.any(d):
        return bias, 0.0
    return bias, float(np.sqrt(trace_covariance(d) / d.shape[0]))


def project(estimates: ArrayLike, direction: ArrayLike) -> NDArray[np.float64]:
    """Component of each estimate ``(N, P)`` along ``direction`` ``(P,)`` (normalised here): shape ``(N,)``."""
    u = np.asarray(direction, dtype=np.float64)
    return np.asarray(estimates, dtype=np.float64) @ (u / np.linalg.norm(u))


def estimator_table(estimates: Mapping[str, ArrayLike], reference: str = "reinforce") -> pd.DataFrame:
    """One row per estimator: its variance and its bias against ``estimates[reference]``.

    Columns:
        ``estimator``; ``advantage`` (:func:`describe_estimator`); ``variance`` (trace of the covariance across
        episodes); ``variance_reduction`` (reference variance / this variance, > 1 means less noisy); ``mean_norm``
        (length of the mean estimate); ``bias`` and ``bias_noise`` (:func:`paired_bias`); ``relative_bias``
        (``bias`` / ``mean_norm`` of the reference).
    """
    ref = np.asarray(estimates[reference], dtype=np.float64)
    ref_var = trace_covariance(ref)
    ref_norm = float(np.linalg.norm(ref.mean(axis=0)))
    rows = []
    for name, g in estimates.items():
        g = np.asarray(g, dtype=np.float64)
        var = trace_covariance(g)
        bias, noise = paired_bias(g, ref)
        rows.append({
            "estimator": name,
            "advantage": describe_estimator(name),
            "variance": var,
            "variance_reduction": ref_var / var if var > 0 else np.inf,
            "mean_norm": float(np.linalg.norm(g.mean(axis=0))),
            "bias": bias,
            "bias_noise": noise,
            "relative_bias": bias / ref_norm if ref_norm > 0 else np.nan,
        })
    return pd.DataFrame(rows)


def compare_estimators(actor: ActorSnapshot | object, values_fn: ValuesFn | None, n_episodes: int = 300,
                       seed: int = 0, gamma: float = 0.99, lambdas: Iterable[float] = DEFAULT_LAMBDAS,
                       reduction: Reduction = "sum", env_id: str = "CartPole-v1"
                       ) -> tuple[pd.DataFrame, dict[str, NDArray[np.float64]], list[Episode]]:
    """Sample ``n_episodes`` with the fixed ``actor``, estimate with every estimator, and tabulate.

    Returns ``(table, estimates, episodes)``: :func:`estimator_table`'s DataFrame, ``{name: (N, P)}`` and the
    episodes themselves.
    """
    snapshot = actor if isinstance(actor, ActorSnapshot) else ActorSnapshot.from_actor(actor)
    episodes = sample_episodes(snapshot, n_episodes, seed, env_id)
    estimates = gradient_estimates(snapshot, episodes, values_fn, gamma, lambdas, reduction=reduction)
    return estimator_table(estimates), estimates, episodes


def describe_estimator(name: str) -> str:
    """The advantage an estimator name stands for, as plain text (``"critic"`` -> ``"G_t - V(s_t)"``)."""
    fixed = {
        "reinforce": "G_t",
        "constant": "G_t - b",
        "critic": "G_t - V(s_t)",
        "td0": "r_t + gamma (1-d_t) V(s_t+1) - V(s_t)",
    }
    if name in fixed:
        return fixed[name]
    if name.startswith("gae(") and name.endswith(")"):
        return f"GAE, lambda = {name[4:-1]}"
    return name


def plot_estimator_table(table: pd.DataFrame, title: str | None = None):
    """Two bar charts from :func:`estimator_table`: variance (log scale) and bias, with the bias' noise level.

    A bias bar that stays below its noise marker is what an estimator with the reference's expectation looks like
    at this sample size.
    Returns the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE

    names = list(table["estimator"])
    x = np.arange(len(names))
    fig, (ax_var, ax_bias) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    ax_var.bar(x, table["variance"], color=PALETTE[0])
    ax_var.set_yscale("log")
    ax_var.set_ylabel("variance (trace of covariance)")
    ax_var.set_title("variance (log scale)")
    ax_bias.bar(x, table["bias"], color=PALETTE[1], label="bias vs REINFORCE")
    ax_bias.scatter(x, table["bias_noise"], color="black", marker="_", s=300, zorder=3,
                    label="noise level (zero bias)")
    ax_bias.set_ylabel("bias (norm of mean difference)")
    ax_bias.set_title("bias, against its noise level")
    top = float(max(table["bias"].max(), table["bias_noise"].max()))
    ax_bias.set_ylim(0, 1.6 * top if top > 0 else 1.0)  # head room for the legend
    ax_bias.legend(loc="upper left", ncol=2, fontsize="small")
    for ax in (ax_var, ax_bias):
        ax.set_xticks(x, names, rotation=35, ha="right")
        ax.set_xlabel("advantage estimator")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def actor_gradient_norms(weights: dict[str, NDArray[np.floating]], episode: Episode,
                         config: A2CConfig | None = None) -> pd.DataFrame:
    """The two parts of the entropy-regularised actor gradient, minibatch by minibatch, on one recorded episode.

    With the actor and critic in ``weights`` (format of :meth:`A2CAgent.get_weights`) and the seed's Monte Carlo
    advantages ``A_t = G_t - V(s_t)``, every minibatch of ``config.batch_size`` consecutive steps (as in the first
    update pass; ``config`` defaults to the seed's, which also gives ``gamma`` and the ``eps`` of the log) gives the
    global L2 norm, over all actor parameters, of the gradient of

    * the policy-gradient loss ``-mean(A_t log(pi(a_t|s_t) + eps))`` (``policy_grad_norm``), and
    * the mean entropy ``mean(H[pi(.|s_t)])`` (``entropy_grad_norm``); the bonus adds ``beta`` times this gradient.

    Returns one row per minibatch: ``start`` (first step), ``steps``, ``policy_grad_norm``, ``entropy_grad_norm``.
    """
    import torch

    config = config or A2CConfig()
    gamma, batch_size, log_prob_eps = config.gamma, config.batch_size, config.log_prob_eps
    n_actions = int(np.asarray(weights["actor.2.weight"]).shape[0])
    agent = agent_from_weights(weights, A2CConfig(implementation="torch"), obs_dim=episode.obs.shape[1],
                               n_actions=n_actions)
    # float64: the norms of stored weights then print the same on every CPU (float32 kernels differ in last bits).
    actor, critic = agent.actor.double(), agent.critic.double()  # type: ignore[attr-defined]
    obs = torch.as_tensor(episode.obs, dtype=torch.float64)
    actions = torch.as_tensor(episode.actions)
    with torch.no_grad():
        returns = torch.as_tensor(discounted_returns(episode.rewards, gamma), dtype=torch.float64)
        advantages = returns - critic(obs).squeeze(-1)
    params = list(actor.parameters())

    def norm(grads: tuple) -> float:
        return float(torch.sqrt(sum((g ** 2).sum() for g in grads)))

    rows = []
    for start in range(0, episode.length, batch_size):
        batch = slice(start, start + batch_size)
        probs = actor(obs[batch])
        log_probs = torch.log(probs + log_prob_eps)
        policy_loss = -(advantages[batch] * log_probs.gather(1, actions[batch, None]).squeeze(-1)).mean()
        entropy = -(probs * log_probs).sum(-1).mean()
        g_policy = torch.autograd.grad(policy_loss, params, retain_graph=True)
        g_entropy = torch.autograd.grad(entropy, params)
        rows.append(dict(start=start, steps=int(probs.shape[0]), policy_grad_norm=norm(g_policy),
                         entropy_grad_norm=norm(g_entropy)))
    return pd.DataFrame(rows)
