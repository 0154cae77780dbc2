"""What every A2C agent shares: acting by sampling from the actor's softmax, and the statistics of an update.

Two implementations of the seed's update live beside this module: :mod:`.torch_agent` (autograd, the readable one)
and :mod:`.numpy_agent` (gradients written out by hand, the fast one). Both derive from :class:`A2CAgent`, start from
the same initial weights for a given seed, and are tested against each other and against the seed's ``Policy``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .config import A2CConfig
from .envs import Episode

__all__ = ["A2CAgent", "UpdateStats", "sample_action", "policy_entropy"]


@dataclass(frozen=True)
class UpdateStats:
    """What one call of :meth:`A2CAgent.update` reports (one per episode).

    ``actor_loss`` and ``critic_loss`` are those of the final minibatch of the final pass, as the seed logs them;
    the gradient norms (global L2 norm over one network's parameters, before any clipping) are averaged over every
    optimiser step of the update; ``advantage_std`` is the spread of the first pass's advantages.
    """

    actor_loss: float
    critic_loss: float
    actor_grad_norm: float
    critic_grad_norm: float
    advantage_std: float


def sample_action(probs: NDArray[np.floating], rng: np.random.RandomState) -> int:
    """Sample an index from ``probs`` (shape ``(n_actions,)``) with one uniform draw from ``rng``.

    This is exactly what ``np.random.choice(n, p=probs)`` does (cumulative sum in float64, normalised, then
    ``searchsorted`` of one ``random_sample()``), without its argument checks, so a seeded ``RandomState`` yields the
    same actions as the seed's calls on NumPy's global generator.
    """
    cdf = np.cumsum(probs, dtype=np.float64)
    cdf /= cdf[-1]
    return int(cdf.searchsorted(rng.random_sample(), side="right"))


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
