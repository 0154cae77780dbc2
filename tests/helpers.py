"""Shared test utilities: where the seed's reference code lives."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = Path(os.environ.get("SEED_DIR", REPO.parent / "shared" / "seed"))


def import_seed_policy():
    """The seed's ``seed_policy`` module, or skip the test with the reason."""
    if not (SEED_DIR / "seed_policy.py").exists():
        pytest.skip(f"the seed's reference code is not at {SEED_DIR} (set SEED_DIR to compare against it)")
    if str(SEED_DIR) not in sys.path:
        sys.path.insert(0, str(SEED_DIR))
    import seed_policy

    return seed_policy


class MatrixObservationEnv(gym.Env):
    """A tiny environment whose observations are 2 x 3 matrices (discrete actions): for the 'not a flat vector' check.
    Registered as ``MatrixObservation-v0`` when this module is imported (also via ``--env tests.helpers:...``)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, shape=(2, 3), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, render_mode=None):
        self.render_mode = render_mode

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros((2, 3), dtype=np.float32), {}

    def step(self, action):
        return np.zeros((2, 3), dtype=np.float32), 1.0, True, False, {}


if "MatrixObservation-v0" not in gym.registry:
    gym.register("MatrixObservation-v0", entry_point=MatrixObservationEnv)
