"""The seed's two networks, built with ``torch.nn`` exactly as the seed builds them.

* Actor ``pi_theta``: ``obs (B, obs_dim) -> Linear -> ReLU (B, 16) -> Linear -> softmax -> probs (B, n_actions)``.
* Critic ``V_phi``: ``obs (B, obs_dim) -> Linear -> ReLU (B, 64) -> Linear -> values (B, 1)``.

:func:`build_networks` seeds PyTorch and creates the actor *then* the critic, the seed's order, so the same seed gives
the same initial weights as the seed script, without touching PyTorch's global random state.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

__all__ = ["make_actor", "make_critic", "build_networks", "count_parameters", "network_weights"]


def _linear(n_in: int, n_out: int, generator: torch.Generator | None) -> nn.Linear:
    """``nn.Linear`` with PyTorch's default initialisation, drawn from ``generator`` if one is given.

    The draws are exactly those of ``nn.Linear.reset_parameters`` (Kaiming-uniform weights with ``a = sqrt(5)``,
    then uniform biases in ``+-1/sqrt(n_in)``), so a generator seeded like ``torch.manual_seed(seed)`` gives the same
    weights, without touching PyTorch's global random state (which concurrent runs in one process would share).
    """
    if generator is None:
        return nn.Linear(n_in, n_out)
    layer = torch.nn.utils.skip_init(nn.Linear, n_in, n_out)
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        bound = 1 / math.sqrt(n_in) if n_in > 0 else 0.0
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return layer


def make_actor(obs_dim: int, n_actions: int, hidden: int = 16,
               generator: torch.Generator | None = None) -> nn.Sequential:
    """Policy network: maps observations ``(B, obs_dim)`` to action probabilities ``(B, n_actions)``."""
    return nn.Sequential(_linear(obs_dim, hidden, generator), nn.ReLU(), _linear(hidden, n_actions, generator),
                         nn.Softmax(dim=-1))


def make_critic(obs_dim: int, hidden: int = 64, generator: torch.Generator | None = None) -> nn.Sequential:
    """Value network: maps observations ``(B, obs_dim)`` to state values ``(B, 1)`` (units: discounted reward)."""
    return nn.Sequential(_linear(obs_dim, hidden, generator), nn.ReLU(), _linear(hidden, 1, generator))


def build_networks(
    obs_dim: int, n_actions: int, seed: int, actor_hidden: int = 16, critic_hidden: int = 64
) -> tuple[nn.Sequential, nn.Sequential]:
    """``(actor, critic)`` initialised from ``seed`` as the seed script initialises them (PyTorch's default init).

    The draws come from a private generator seeded with ``seed``, the actor's first: the same numbers as
    ``torch.manual_seed(seed)`` followed by the seed's two ``nn.Sequential``s, and safe when several runs build
    networks at once in one process (threads of a Dask worker, say).
    """
    generator = torch.Generator().manual_seed(int(seed))
    actor = make_actor(obs_dim, n_actions, actor_hidden, generator)
    critic = make_critic(obs_dim, critic_hidden, generator)
    return actor, critic


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def network_weights(module: nn.Module) -> dict[str, NDArray[np.float32]]:
    """Copy of every parameter as a float32 array, keyed like ``state_dict`` (``"0.weight"`` has shape (out, in))."""
    return {name: p.detach().numpy().copy() for name, p in module.named_parameters()}
