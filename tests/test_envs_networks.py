import gymnasium as gym
import numpy as np
import pytest

from . import helpers  # noqa: F401  (registers MatrixObservation-v0)
import torch

from lecture_utils import (A2CConfig, ConfigError, build_networks, count_parameters, env_dimensions, make_env,
                           rollout_episode, setup)


def test_make_env_seeded_start_states_repeat():
    a, b = make_env(seed=3), make_env(seed=3)
    assert np.array_equal(a.reset()[0], b.reset()[0])
    assert env_dimensions(a) == (4, 2)


def test_rollout_shapes_and_flags():
    env = make_env(seed=0)
    ep = rollout_episode(env, lambda obs: 0)
    assert ep.obs.shape == (ep.length, 4) and ep.next_obs.shape == (ep.length, 4)
    assert ep.obs.dtype == np.float32 and ep.actions.dtype == np.int64
    assert ep.terminated[-1] and not ep.terminated[:-1].any() and not ep.truncated.any()
    assert np.array_equal(ep.obs[1:], ep.next_obs[:-1])
    assert ep.total_reward == ep.length


def test_truncation_is_not_termination():
    env = make_env(seed=0)
    # Keep the pole up with a simple controller: push toward the side the pole leans.
    ep = rollout_episode(env, lambda obs: int(obs[2] + 0.5 * obs[3] > 0))
    assert ep.length == 500
    assert ep.truncated[-1] and not ep.terminated.any()


class _PassThrough(gym.Wrapper):
    """A wrapper that changes nothing: rollout_episode then steps the environment through Gymnasium's own calls."""


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_cartpole_fast_path_plays_gymnasiums_episodes_exactly(seed):
    """rollout_episode's CartPole fast path (physics on Python floats) against Gymnasium stepping the same seeded
    environment: the same arrays bit for bit, over episodes that terminate and ones the time limit truncates, and
    the environment carries on exactly (later resets, later steps) as if Gymnasium had stepped it."""
    from lecture_utils.envs import _plain_cartpole

    rng_fast, rng_slow = np.random.default_rng(seed), np.random.default_rng(seed)
    fast, slow = make_env(seed=seed), _PassThrough(make_env(seed=seed))

    def controller(rng):  # mostly the balancing rule of test_truncation_is_not_termination, sometimes random
        return lambda obs: int(rng.random() < 0.5) if rng.random() < 0.05 else int(obs[2] + 0.5 * obs[3] > 0)

    ends = set()
    for episode in range(12):
        policy_fast = controller(rng_fast) if episode % 3 else (lambda obs: int(rng_fast.random() < 0.5))
        policy_slow = controller(rng_slow) if episode % 3 else (lambda obs: int(rng_slow.random() < 0.5))
        a, b = rollout_episode(fast, policy_fast), rollout_episode(slow, policy_slow)
        for field in ("obs", "actions", "rewards", "next_obs", "terminated", "truncated"):
            x, y = getattr(a, field), getattr(b, field)
            assert x.dtype == y.dtype and np.array_equal(x, y), (episode, field)
        ends.add("truncated" if a.truncated[-1] else "terminated")
        assert np.array_equal(fast.unwrapped.state, slow.unwrapped.state)
    assert ends == {"truncated", "terminated"}
    assert _plain_cartpole(fast) is not None and _plain_cartpole(slow) is None
    # After an episode played on the fast path, Gymnasium's own step carries on from the same state.
    fast.reset()
    slow.reset()
    assert np.array_equal(fast.step(1)[0], slow.step(1)[0])


@pytest.mark.parametrize("env_id, fragment", [("NoSuchEnv-v0", "registered id"), ("Pendulum-v1", "Box"),
                                               ("CartPole-v99", "CartPole"), ("nosuchmod:Foo-v0", "'nosuchmod'"),
                                               ("MatrixObservation-v0", "FlattenObservation")])
def test_bad_environments_have_actionable_messages(env_id, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        make_env(env_id)
    assert "--env" in str(info.value)


def test_other_discrete_env_trains():
    from lecture_utils import train

    h = train(A2CConfig(env_id="Acrobot-v1", episodes=1), seed=0).history
    assert len(h) == 1


def test_render_rgb_array():
    env = make_env(seed=0, render_mode="rgb_array")
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3


def test_networks_match_the_seed_architecture():
    actor, critic = build_networks(4, 2, seed=0)
    assert count_parameters(actor) == 4 * 16 + 16 + 16 * 2 + 2
    assert count_parameters(critic) == 4 * 64 + 64 + 64 + 1
    x = torch.zeros(5, 4)
    assert actor(x).shape == (5, 2) and critic(x).shape == (5, 1)
    torch.testing.assert_close(actor(x).sum(-1), torch.ones(5))


def test_build_networks_leaves_global_rng_alone():
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    build_networks(4, 2, seed=99)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("field, value", [("episodes", -1), ("episodes", 2.5), ("gamma", 0.0), ("gamma", 1.01),
                                          ("actor_lr", "abc"), ("entropy_coef", -0.1), ("max_grad_norm", 0.0),
                                          ("gae_lambda", 1.5), ("implementation", "jax"), ("batch_size", 0),
                                          ("ratio_clip", 0.0), ("ratio_clip", 1.0), ("critic_target", "td1")])
def test_config_rejects_bad_values_naming_the_option(field, value):
    with pytest.raises(ConfigError, match="--" + field.replace("_", "-")):
        A2CConfig(**{field: value})


def test_config_defaults_are_the_seed():
    c = A2CConfig()
    assert (c.gamma, c.actor_lr, c.critic_lr, c.episodes, c.update_passes, c.batch_size, c.critic_steps) == \
        (0.99, 1e-3, 1e-3, 2000, 5, 32, 2)
    assert (c.entropy_coef, c.max_grad_norm, c.gae_lambda, c.log_prob_eps, c.ratio_clip) == (0.0, None, None, 1e-8, None)
    assert c.changes_from_seed() == {}
    assert A2CConfig.from_dict(c.replace(entropy_coef=0.01).to_dict()).changes_from_seed() == {"entropy_coef": 0.01}
    with pytest.raises(ConfigError, match="unknown"):
        A2CConfig.from_dict({"lr": 1})


def test_setup_fixes_randomness():
    setup(5)
    a = (np.random.rand(), torch.rand(1).item())
    setup(5)
    assert (np.random.rand(), torch.rand(1).item()) == a
    assert torch.get_num_threads() == 1


def test_a_flattened_matrix_environment_trains():
    import gymnasium as gym

    from lecture_utils import train

    env = gym.wrappers.FlattenObservation(gym.make("MatrixObservation-v0"))
    env.reset(seed=0)
    assert len(train(A2CConfig(episodes=2), seed=0, env=env).history) == 2
