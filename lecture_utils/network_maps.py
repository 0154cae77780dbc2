"""What the networks learned, on a grid of states: the critic's V(s) and the actor's P(push right | s).

CartPole's state is (cart position, cart velocity, pole angle, pole angular velocity). The two pole coordinates
decide almost everything, so the maps vary those and hold the cart at rest in the middle (position 0, velocity 0).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .agent import A2CAgent

__all__ = ["POLE_ANGLE_LIMIT", "network_grid"]

#: CartPole-v1 terminates when the pole leans more than 12 degrees (0.2095 rad) from upright.
POLE_ANGLE_LIMIT = 12 * 2 * np.pi / 360


def network_grid(agent: A2CAgent, n: int = 41, angle_limit: float = POLE_ANGLE_LIMIT,
                 velocity_limit: float = 2.0, cart_position: float = 0.0, cart_velocity: float = 0.0) -> pd.DataFrame:
    """Evaluate both networks on an ``n x n`` grid of pole angle (rad) x pole angular velocity (rad/s).

    Returns a tidy table with columns ``angle, angular_velocity, value, p_right`` (``n * n`` rows), where ``value`` is
    the critic's estimate in discounted-return units and ``p_right`` the actor's probability of action 1 (push right).
    """
    angles = np.linspace(-angle_limit, angle_limit, n)
    velocities = np.linspace(-velocity_limit, velocity_limit, n)
    angle_grid, velocity_grid = np.meshgrid(angles, velocities, indexing="xy")
    states = np.zeros((angle_grid.size, 4), dtype=np.float32)
    states[:, 0], states[:, 1] = cart_position, cart_velocity
    states[:, 2], states[:, 3] = angle_grid.ravel(), velocity_grid.ravel()
    probs = agent.probabilities(states)
    return pd.DataFrame({
        "angle": states[:, 2].astype(float), "angular_velocity": states[:, 3].astype(float),
        "value": agent.values(states).astype(float), "p_right": probs[:, 1].astype(float),
    })
