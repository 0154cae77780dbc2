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


@pytest.mark.parametrize("implementation", ["numpy", "torch"])
def test_an_agent_used_directly_bootstraps_rollout_segments(implementation):
    # Two environments' 3-step segments back to back, none of them finished: the advantage must bootstrap each
    # segment from V at its end (GAE with lambda = 1), not run a Monte Carlo return across both segments.
    from lecture_utils import A2CConfig, Episode, gae_advantages, make_agent

    config = A2CConfig(num_envs=2, rollout_steps=3, implementation=implementation)
    assert config.gae_lambda is None and config.advantage_lambda == 1.0
    agent = make_agent(config, 4, 2, seed=0)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(6, 4)).astype(np.float32)
    next_obs = rng.normal(size=(6, 4)).astype(np.float32)
    segment_end = np.array([False, False, True, False, False, True])
    batch = Episode(obs=obs, actions=np.zeros(6, dtype=np.int64), rewards=np.ones(6), next_obs=next_obs,
                    terminated=np.zeros(6, dtype=bool), truncated=segment_end)
    returns = np.zeros(6, dtype=np.float32)  # unused with lambda set: proves the Monte Carlo path is not taken
    got = agent.advantages(batch, returns)
    values, next_values = agent.values(obs), agent.values(next_obs)
    expected = gae_advantages(batch.rewards, values, next_values, batch.terminated, config.gamma, 1.0,
                              episode_ends=segment_end)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # By hand for the first step: the TD errors of the first segment only, discounted (the second segment's steps
    # would enter a return leaking across the boundary).
    g = config.gamma
    deltas = 1 + g * next_values[:3].astype(np.float64) - values[:3]
    assert got[0] == pytest.approx(deltas[0] + g * deltas[1] + g**2 * deltas[2], rel=1e-5)
