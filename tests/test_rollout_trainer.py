"""n-step rollouts of several environments stepped together."""
import numpy as np
import pandas as pd
import pytest

from lecture_utils import A2CConfig, ConfigError, EPISODE_COLUMNS, evaluate, train
from lecture_utils.agent import sample_actions
from lecture_utils.rollout_trainer import make_vector_env

VEC = dict(num_envs=4, rollout_steps=8, episodes=12)


def test_sample_actions_row_by_row_like_sample_action():
    probs = np.random.default_rng(0).dirichlet(np.ones(3), size=50).astype(np.float32)
    rng_a, rng_b = np.random.RandomState(1), np.random.RandomState(1)
    batched = sample_actions(probs, rng_a)
    # One draw per row in row order: the same as drawing row by row from the same stream.
    draws = rng_b.random_sample(50)
    single = [int(np.searchsorted(np.cumsum(p, dtype=np.float64) / np.cumsum(p, dtype=np.float64)[-1], u, "right"))
              for p, u in zip(probs, draws, strict=True)]
    assert batched.tolist() == single


@pytest.mark.parametrize("implementation", ["numpy", "torch"])
def test_deterministic_and_well_formed(implementation):
    config = A2CConfig(**VEC, implementation=implementation)
    a, b = train(config, seed=3).history, train(config, seed=3).history
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert list(a.columns) == EPISODE_COLUMNS and len(a) == 12
    assert (a["return"] == a["length"]).all() and a["episode"].tolist() == list(range(12))


def test_implementations_agree_on_a_short_run():
    fast = train(A2CConfig(**VEC), seed=1).history
    ref = train(A2CConfig(**VEC, implementation="torch"), seed=1).history
    assert fast["length"].tolist() == ref["length"].tolist()


def test_result_can_be_evaluated():
    result = train(A2CConfig(**VEC), seed=0)
    assert evaluate(result.agent, result.env, 2).returns.shape == (2,)


def test_config_needs_rollout_steps_for_several_envs():
    with pytest.raises(ConfigError, match="--rollout-steps"):
        A2CConfig(num_envs=8)


def test_vector_env_seeding_and_bad_ids():
    a, b = make_vector_env("CartPole-v1", 3), make_vector_env("CartPole-v1", 3)
    assert np.array_equal(a.reset(seed=5)[0], b.reset(seed=5)[0])
    with pytest.raises(ConfigError, match="--env"):
        make_vector_env("NoSuchEnv-v0", 2)
    with pytest.raises(ConfigError, match="discrete"):
        make_vector_env("Pendulum-v1", 2)
