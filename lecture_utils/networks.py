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


def make_actor(obs_dim: int, n_actions: int, hidden: int = 16) -> nn.Sequential:
    """Policy network: maps observations ``(B, obs_dim)`` to action probabilities ``(B, n_actions)``."""
    return nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_actions), nn.Softmax(dim=-1))


def make_critic(obs_dim: int, hidden: int = 64) -> nn.Sequential:
    """Value network: maps observations ``(B, obs_dim)`` to state values ``(B, 1)`` (units: discounted reward)."""
    return nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))


def _reset_linear_(layer: nn.Linear, generator: torch.Generator) -> None:
    """Redo ``nn.Linear.reset_parameters`` with draws from ``generator``: Kaiming-uniform weights (``a = sqrt(5)``),
    then uniform biases in ``+-1/sqrt(fan_in)``; the same numbers the global generator would give in its place."""
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        fan_in = layer.weight.shape[1]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def build_networks(
    obs_dim: int, n_actions: int, seed: int, actor_hidden: int = 16, critic_hidden: int = 64
) -> tuple[nn.Sequential, nn.Sequential]:
    """``(actor, critic)`` initialised from ``seed`` as the seed script initialises them (PyTorch's default init).

    The weights are drawn from a private generator seeded with ``seed``, actor first: the same numbers as
    ``torch.manual_seed(seed)`` followed by the seed's two ``nn.Sequential``s, but independent of PyTorch's global
    random state, which concurrent runs in one process (threads of a Dask worker, say) would share.
    """
    generator = torch.Generator().manual_seed(int(seed))
    with torch.random.fork_rng(devices=[]):  # the layers' own default init draws from the global generator: undo it
        actor = make_actor(obs_dim, n_actions, actor_hidden)
        critic = make_critic(obs_dim, critic_hidden)
    for layer in (m for net in (actor, critic) for m in net if isinstance(m, nn.Linear)):
        _reset_linear_(layer, generator)
    return actor, critic


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def network_weights(module: nn.Module) -> dict[str, NDArray[np.float32]]:
    """Copy of every parameter as a float32 array, keyed like ``state_dict`` (``"0.weight"`` has shape (out, in))."""
    return {name: p.detach().numpy().copy() for name, p in module.named_parameters()}
