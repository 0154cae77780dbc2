"""What every A2C agent shares: acting by sampling from the actor's softmax, and the statistics of an update.

Two implementations of the seed's update live beside this module: :mod:`.torch_agent` (autograd, the readable one)
and :mod:`.numpy_agent` (gradients written out by hand, the fast one). Both derive from :class:`A2CAgent`, start from
the same initial weights for a given seed, and are tested against each other and against the seed's ``Policy``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .config import A2CConfig
from .envs import Episode
from .errors import TrainingDiverged
from .returns import gae_advantages

__all__ = ["A2CAgent", "UpdateStats", "NO_UPDATE", "sample_action", "sample_actions", "policy_entropy", "check_update_finite"]


@dataclass(frozen=True)
class UpdateStats:
    """What one call of :meth:`A2CAgent.update` reports (one per episode).

    ``actor_loss`` and ``critic_loss`` are those of the final minibatch of the final pass, as the seed logs them;
    the gradient norms (global L2 norm over one network's parameters, before any clipping) are averaged over every
    optimiser step of the update; ``advantage_std`` is the spread of the first pass's advantages. The update norms
    are what the optimiser did with those gradients: the global L2 norm of each Adam step's parameter change (after
    any clipping, in parameter units), averaged over the update's steps. Adam divides by a running gradient scale,
    so a gradient norm says little about how far the parameters moved; these say it directly.
    """

    actor_loss: float
    critic_loss: float
    actor_grad_norm: float
    critic_grad_norm: float
    advantage_std: float
    actor_update_norm: float
    critic_update_norm: float

    @classmethod
    def from_steps(cls, actor_loss: float, critic_loss: float, advantage_std: float, actor_grad_norms: list[float],
                   critic_grad_norms: list[float], actor_update_norms: list[float],
                   critic_update_norms: list[float]) -> "UpdateStats":
        """The statistics of an update from its per-step lists (one entry per optimiser step; empty lists give 0)."""
        def mean(values: list[float]) -> float:
            return float(np.mean(values)) if values else 0.0

        return cls(actor_loss=actor_loss, critic_loss=critic_loss, actor_grad_norm=mean(actor_grad_norms),
                   critic_grad_norm=mean(critic_grad_norms), advantage_std=advantage_std,
                   actor_update_norm=mean(actor_update_norms), critic_update_norm=mean(critic_update_norms))

    @classmethod
    def from_sums(cls, actor_loss: float, critic_loss: float, advantage_std: float, actor_grad_sum: float,
                  critic_grad_sum: float, actor_update_sum: float, critic_update_sum: float, actor_steps: int,
                  critic_steps: int) -> "UpdateStats":
        """The statistics of an update from running sums of its per-step norms, added in step order, and its
        numbers of actor and critic optimiser steps (no steps give 0)."""
        actors, critics = max(actor_steps, 1), max(critic_steps, 1)
        return cls(actor_loss=actor_loss, critic_loss=critic_loss, actor_grad_norm=actor_grad_sum / actors,
                   critic_grad_norm=critic_grad_sum / critics, advantage_std=advantage_std,
                   actor_update_norm=actor_update_sum / actors, critic_update_norm=critic_update_sum / critics)


#: The row statistics of an episode after which no update ran (learning paused by ``freeze_at_return``): NaN
#: throughout, since there was no loss, gradient or step to measure.
NO_UPDATE = UpdateStats(*(math.nan,) * 7)


def sample_action(probs: NDArray[np.floating] | list[float], rng: np.random.RandomState) -> int:
    """Sample an index from ``probs`` (shape ``(n_actions,)``) with one uniform draw from ``rng``.

    This is exactly what ``np.random.choice(n, p=probs)`` does (a float64 cumulative sum, normalised by its last
    entry, then the index of the first entry above one ``random_sample()``), without its argument checks, so a seeded
    ``RandomState`` yields the same actions as the seed's calls on NumPy's global generator. Python floats are IEEE
    doubles and the sum runs in the same order, so a loop over a list gives the same index as
    ``cumsum``/``searchsorted``, in a third of the time (this runs once per environment step).
    """
    cdf = []
    running = 0.0
    for p in (probs.tolist() if isinstance(probs, np.ndarray) else probs):
        running += p
        cdf.append(running)
    draw = rng.random_sample()
    for index, c in enumerate(cdf):
        if not c / running <= draw:  # "not <=" rather than ">": a NaN entry counts as above the draw, as in searchsorted
            return index
    return len(cdf) - 1  # unreachable for finite probabilities: the draw is < 1 and the last entry is exactly 1.0


def sample_actions(probs: NDArray[np.floating], rng: np.random.RandomState) -> NDArray[np.int64]:
    """One action per row of ``probs`` (``(E, A)`` -> ``(E,)``), one uniform draw per row: :func:`sample_action`'s
    rule, row by row, vectorised."""
    cdf = np.cumsum(probs, axis=1, dtype=np.float64)
    cdf /= cdf[:, -1:]
    draws = np.asarray(rng.random_sample(probs.shape[0]))  # (E,) uniform draws
    return np.minimum((cdf <= draws[:, None]).sum(axis=1), probs.shape[1] - 1).astype(np.int64)


def check_update_finite(stats: "UpdateStats", config: A2CConfig, episode: int, seed: int) -> None:
    """Raise :class:`TrainingDiverged` naming the seed and the likely option if an update's losses or gradients are
    not finite.

    Once a weight overflows every later number is NaN, so training stops at the first one instead of running on."""
    values = (stats.actor_loss, stats.critic_loss, stats.actor_grad_norm, stats.critic_grad_norm)
    if all(math.isfinite(v) for v in values):
        return
    names = ("actor loss", "critic loss", "actor gradient norm", "critic gradient norm")
    bad = next(f"{name} is {value}" for name, value in zip(names, values, strict=True) if not math.isfinite(value))
    fix = (f"Lower --actor-lr/--critic-lr (now {config.actor_lr:g}/{config.critic_lr:g}) or --entropy-coef "
           f"(now {config.entropy_coef:g})")
    if config.log_prob_eps == 0 and not config.stable_log_prob:
        # log(p + 0) is -inf, and its gradient infinite, as soon as a probability rounds to 0.
        fix += ", or set --stable-log-prob (or a positive --log-prob-eps: now 0)"
    raise TrainingDiverged(f"seed {seed}: training diverged in the update after episode {episode}: the {bad}. {fix}")


def policy_entropy(probs: NDArray[np.floating]) -> NDArray[np.float64]:
    """Entropy in nats of each row of ``probs`` (shape ``(B, n_actions)`` -> ``(B,)``); 0 log 0 counts as 0."""
    p = np.asarray(probs, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return -terms.sum(axis=-1)


class A2CAgent:
    """Base class: an actor, a critic, their optimisers and a NumPy random stream for acting.

    Subclasses implement :meth:`probabilities`, :meth:`values`, :meth:`update`, :meth:`get_weights` and
    :meth:`set_weights`. Weights are exchanged as dicts ``{"actor.0.weight": (16, obs_dim), ...}`` of float32 arrays.
    """

    def __init__(self, config: A2CConfig, obs_dim: int, n_actions: int, seed: int) -> None:
        self.config = config
        self.obs_dim = int(obs_dim)
        self.n_actions = int(n_actions)
        #: The acting random stream; seeded like the seed script's ``np.random.seed(seed)``.
        self.rng = np.random.RandomState(int(seed))

    # -- to implement -----------------------------------------------------------------------------------------
    def probabilities(self, obs: NDArray[np.floating]) -> NDArray[np.float32]:
        """Action probabilities ``pi(.|s)``: ``(obs_dim,) -> (n_actions,)`` or ``(B, obs_dim) -> (B, n_actions)``."""
        raise NotImplementedError

    def values(self, obs: NDArray[np.floating]) -> NDArray[np.float32]:
        """Critic estimates ``V(s)``: ``(B, obs_dim) -> (B,)``."""
        raise NotImplementedError

    def update(self, episode: Episode) -> UpdateStats:
        """The seed's update phase on one finished episode: ``update_passes`` passes of minibatch steps."""
        raise NotImplementedError

    def get_weights(self) -> dict[str, NDArray[np.float32]]:
        """Copy of all parameters, keyed ``actor.<layer>.<weight|bias>`` / ``critic.<layer>.<weight|bias>``."""
        raise NotImplementedError

    def set_weights(self, weights: dict[str, NDArray[np.floating]]) -> None:
        """Load parameters from :meth:`get_weights`' format (optimiser state is left as it is)."""
        raise NotImplementedError

    def set_learning_rate_scale(self, scale: float) -> None:
        """Set both optimisers' learning rates to ``scale`` times the configured ones (for schedules)."""
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------------------------
    def advantages(self, episode: Episode, returns: NDArray[np.float32]) -> NDArray[np.float32]:
        """Advantage estimates ``(T,)`` float32 for ``episode`` with the current critic (constants for the actor).

        ``returns``: ``(T,)`` float32 discounted returns ``G_t`` of the episode. The estimate is the seed's
        ``G_t - V(s_t)``, or GAE(``config.advantage_lambda``) with the TD error stopped at every episode end
        (bootstrapped from ``V(s_{t+1})`` unless terminated); standardised if ``config.normalize_advantages``.
        """
        return self.advantages_and_critic_targets(episode, returns)[0]

    def advantages_and_critic_targets(self, episode: Episode, returns: NDArray[np.float32]
                                      ) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        """:meth:`advantages`, and the critic's regression targets ``(T,)`` float32 if ``config.critic_target`` is
        ``"lambda_return"`` (else ``None``: the TD(0) target is recomputed at every critic step).

        The lambda-return is the advantage before normalisation plus the same ``V(s_t)`` it was computed with:
        ``G_t^lambda = A_t + V(s_t)``; with the seed's Monte Carlo advantage that is ``G_t`` itself.
        """
        cfg = self.config
        values = self.values(episode.obs)
        lam = cfg.advantage_lambda
        if lam is None:
            adv = returns - values  # the seed: Monte Carlo return minus the baseline V(s_t)
        else:
            adv = gae_advantages(episode.rewards, values, self.values(episode.next_obs), episode.terminated,
                                 cfg.gamma, lam, episode_ends=episode.terminated | episode.truncated).astype(np.float32)
        targets = None
        if cfg.critic_target == "lambda_return":
            targets = returns if lam is None else adv + values
        if cfg.normalize_advantages:
            adv = (adv - adv.mean()) / (adv.std() + np.float32(1e-8))
        return adv, targets

    def follow_lr_schedule(self, episodes_done: int, steps_done: int) -> None:
        """Before an update: scale the learning rates as ``config.lr_schedule`` says for the budget used so far."""
        if self.config.lr_schedule == "linear":
            self.set_learning_rate_scale(self.config.budget_left(episodes_done, steps_done))

    # -- shared, acting --------------------------------------------------------------------------------------------
    def act(self, obs: NDArray[np.floating], greedy: bool = False) -> int:
        """Choose an action for one observation: sampled from ``pi(.|s)`` as the seed does, or its argmax."""
        probs = self.probabilities(obs)
        if greedy:
            return int(np.argmax(probs))
        return sample_action(probs, self.rng)

    def greedy_policy(self, obs: NDArray[np.floating]) -> int:
        """The argmax action: ``act(obs, greedy=True)``, usable wherever a policy function is expected."""
        return self.act(obs, greedy=True)

    def __call__(self, obs: NDArray[np.floating]) -> int:
        return self.act(obs)
