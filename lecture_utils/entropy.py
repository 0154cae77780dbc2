"""The entropy of a two-action policy, for the lectures on collapse (04a) and the entropy bonus (05).

Entropies in nats; ``p`` is the probability of one (or the preferred) action.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ['LN2', 'binary_entropy', 'preferred_action_probability', 'entropy_slope']


#: The largest entropy a two-action policy can have, ln 2 ~ 0.693 nats (both actions at probability 0.5).
LN2 = math.log(2.0)



def binary_entropy(p: ArrayLike) -> NDArray[np.float64]:
    """Entropy in nats of a two-action policy that takes one action with probability ``p`` (any shape, in [0, 1]).

    ``H(p) = -p ln p - (1 - p) ln(1 - p)``, with ``0 ln 0 = 0``; same shape as ``p``.
    """
    p = np.asarray(p, dtype=np.float64)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("probabilities must lie in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0) + np.where(p < 1, (1 - p) * np.log1p(-p), 0.0)
    return -terms



def preferred_action_probability(entropy: ArrayLike, iterations: int = 60) -> NDArray[np.float64]:
    """Invert :func:`binary_entropy` on [0.5, 1]: the probability of the more likely of two actions.

    ``entropy`` (nats, any shape) is clipped to [0, ln 2]; the result has the same shape, 0.5 at ln 2 and 1 at 0.
    Bisection (``H`` decreases on [0.5, 1]); 60 halvings leave an error below 1e-15.

    Applied to the *mean* entropy over an episode's states it gives the preferred-action probability of a state of
    average entropy, not the mean of the per-state probabilities.
    """
    h = np.clip(np.asarray(entropy, dtype=np.float64), 0.0, LN2)
    low = np.full(h.shape, 0.5)
    high = np.ones(h.shape)
    for _ in range(iterations):
        mid = (low + high) / 2
        too_uncertain = binary_entropy(mid) > h  # the answer lies above mid
        low = np.where(too_uncertain, mid, low)
        high = np.where(too_uncertain, high, mid)
    return (low + high) / 2



def entropy_slope(p: ArrayLike) -> NDArray[np.float64]:
    """How fast the entropy of a two-action softmax changes with its logit gap ``z = ln(p / (1 - p))``.

    ``dH/dz = -z p (1 - p)`` (nats per unit of logit), for the preferred-action probability ``p`` in (0, 1); same
    shape as ``p``. Zero at ``p = 1/2`` (the maximum of ``H``), largest in size near ``p = 0.82``, and vanishing as
    ``p -> 1``: an entropy bonus pushes hardest on a policy that is sure but not yet certain.
    """
    p = np.asarray(p, dtype=np.float64)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("probabilities must lie strictly between 0 and 1")
    return -np.log(p / (1 - p)) * p * (1 - p) + 0.0  # + 0.0 turns the -0.0 at p = 1/2 into 0.0
