import numpy as np
import pytest

from lecture_utils.returns import (discounted_returns, gae_advantages, mc_advantages, n_step_returns, td0_targets,
                                   td_errors)

G = 0.9


def test_discounted_returns_by_hand():
    # G_2 = 3, G_1 = 2 + 0.9*3 = 4.7, G_0 = 1 + 0.9*4.7 = 5.23
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], G), [5.23, 4.7, 3.0])


def test_discounted_returns_matches_the_seed_loop_bit_for_bit():
    rewards = list(np.random.default_rng(0).random(300))
    expected = np.zeros_like(rewards)
    s = 0
    for i in reversed(range(len(rewards))):
        s = s * 0.99 + rewards[i]
        expected[i] = s
    assert np.array_equal(discounted_returns(rewards, 0.99), expected)


def test_cartpole_return_of_constant_rewards_is_geometric():
    out = discounted_returns(np.ones(500), 0.99)
    assert out[0] == pytest.approx((1 - 0.99**500) / (1 - 0.99))
    assert out[-1] == 1.0


def test_mc_advantage_is_return_minus_value():
    np.testing.assert_allclose(mc_advantages([5.0, 3.0], [4.0, 3.5]), [1.0, -0.5])
    with pytest.raises(ValueError):
        mc_advantages([1.0, 2.0], [1.0])


def test_td0_target_masks_only_termination():
    rewards, next_values = [1.0, 1.0, 1.0], [10.0, 20.0, 30.0]
    # terminated last step: no bootstrap there
    np.testing.assert_allclose(td0_targets(rewards, next_values, [0, 0, 1], G), [10.0, 19.0, 1.0])
    # truncated last step (terminated all false): the bootstrap stays
    np.testing.assert_allclose(td0_targets(rewards, next_values, [0, 0, 0], G), [10.0, 19.0, 28.0])


def test_td_errors_subtract_values():
    np.testing.assert_allclose(td_errors([1.0], [2.0], [3.0], [False], G), [1.0 + 0.9 * 3.0 - 2.0])


def test_n_step_by_hand_with_truncation_and_termination():
    r, nv = [1.0, 2.0, 3.0], [10.0, 20.0, 30.0]
    # n=2, truncated: G0 = 1 + .9*2 + .81*20; G1 = 2 + .9*3 + .81*30; G2 = 3 + .9*30
    np.testing.assert_allclose(n_step_returns(r, nv, [0, 0, 0], G, 2),
                               [1 + 1.8 + 0.81 * 20, 2 + 2.7 + 0.81 * 30, 3 + 27.0])
    # terminated: the last bootstrap is dropped
    np.testing.assert_allclose(n_step_returns(r, nv, [0, 0, 1], G, 2), [1 + 1.8 + 0.81 * 20, 2 + 2.7, 3.0])


def test_n_step_limits():
    r, nv, term = [1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [0, 0, 1]
    np.testing.assert_allclose(n_step_returns(r, nv, term, G, 1), td0_targets(r, nv, term, G))
    np.testing.assert_allclose(n_step_returns(r, nv, term, G, 50), discounted_returns(r, G))
    with pytest.raises(ValueError):
        n_step_returns(r, nv, term, G, 0)


def test_gae_by_hand():
    r, v, nv, term = [1.0, 1.0], [0.5, 0.25], [0.25, 2.0], [0, 1]
    d1 = 1.0 - 0.25
    d0 = 1.0 + 0.9 * 0.25 - 0.5
    lam = 0.5
    np.testing.assert_allclose(gae_advantages(r, v, nv, term, G, lam), [d0 + 0.9 * lam * d1, d1])


def test_gae_limits():
    rng = np.random.default_rng(1)
    r, v = rng.random(40), rng.random(40)
    nv = np.append(v[1:], 0.7)
    term = np.zeros(40)
    term[-1] = 1
    np.testing.assert_allclose(gae_advantages(r, v, nv, term, 0.99, 0.0), td_errors(r, v, nv, term, 0.99))
    np.testing.assert_allclose(gae_advantages(r, v, nv, term, 0.99, 1.0),
                               discounted_returns(r, 0.99) - v, atol=1e-12)
    # truncated instead: lambda=1 bootstraps the final state's value
    trunc = np.zeros(40)
    expected = discounted_returns(r, 0.99) - v + 0.99 ** (40 - np.arange(40)) * 0.7
    np.testing.assert_allclose(gae_advantages(r, v, nv, trunc, 0.99, 1.0), expected, atol=1e-12)


@pytest.mark.parametrize("gamma", [0.0, -0.5, 1.5])
def test_bad_gamma(gamma):
    with pytest.raises(ValueError, match="gamma"):
        discounted_returns([1.0], gamma)


def test_inputs_not_modified_and_shape_checked():
    r = np.array([1.0, 2.0])
    discounted_returns(r, G)
    assert r.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="1-D"):
        discounted_returns(np.ones((2, 2)), G)


def test_gae_episode_ends_cut_the_sum_but_keep_the_bootstrap():
    r, v = np.ones(4), np.array([0.5, 0.4, 0.3, 0.2])
    nv = np.array([0.4, 7.0, 0.2, 9.0])  # steps 1 and 3 end segments; 7.0 and 9.0 are their final states' values
    term = np.zeros(4)
    ends = np.array([0, 1, 0, 1])
    joined = gae_advantages(r, v, nv, term, 0.9, 0.8, episode_ends=ends)
    first = gae_advantages(r[:2], v[:2], nv[:2], term[:2], 0.9, 0.8)
    second = gae_advantages(r[2:], v[2:], nv[2:], term[2:], 0.9, 0.8)
    np.testing.assert_allclose(joined, np.concatenate([first, second]))
    assert joined[1] == pytest.approx(1 + 0.9 * 7.0 - 0.4)
