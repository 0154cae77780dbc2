import numpy as np
import pytest

from lecture_utils import A2CConfig, NumpyA2CAgent
from lecture_utils.network_maps import POLE_ANGLE_LIMIT, network_grid


def test_grid_shape_range_and_values():
    agent = NumpyA2CAgent(A2CConfig(), 4, 2, seed=0)
    grid = network_grid(agent, n=5, velocity_limit=1.5)
    assert len(grid) == 25 and list(grid.columns) == ["angle", "angular_velocity", "value", "p_right"]
    assert grid["angle"].min() == pytest.approx(-POLE_ANGLE_LIMIT, rel=1e-6)
    assert grid["angular_velocity"].max() == pytest.approx(1.5)
    state = np.array([[0, 0, grid["angle"][7], grid["angular_velocity"][7]]], dtype=np.float32)
    assert grid["p_right"][7] == pytest.approx(float(agent.probabilities(state)[0, 1]), rel=1e-6)
    assert grid["value"][7] == pytest.approx(float(agent.values(state)[0]), rel=1e-6)
    assert grid["p_right"].between(0, 1).all()
