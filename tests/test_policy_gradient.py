"""Exact policy-gradient identities on the tiny tabular MDP (lecture_utils.policy_gradient)."""
import numpy as np
import pytest

from lecture_utils.policy_gradient import (TabularMDP, action_values, discounted_visitation, enumerate_trajectories,
                                           expected_estimate, expected_return, finite_difference_gradient,
                                           finite_difference_jacobian, finite_horizon_values,
                                           policy_gradient_theorem, score, softmax_policy, state_values,
                                           two_state_mdp)

THETA = np.array([[0.3, -0.2], [0.1, 0.4]])
H = 5


def test_mdp_rejects_bad_shapes_and_probabilities():
    mdp = two_state_mdp()
    with pytest.raises(ValueError):
        TabularMDP(mdp.P, mdp.R[:1], mdp.mu0, 0.9)
    with pytest.raises(ValueError):
        TabularMDP(mdp.P * 2, mdp.R, mdp.mu0, 0.9)
    with pytest.raises(ValueError):
        TabularMDP(mdp.P, mdp.R, mdp.mu0, 1.5)


def test_score_matches_finite_differences_of_log_pi():
    for s in range(2):
        for a in range(2):
            fd = finite_difference_gradient(lambda th, s=s, a=a: float(np.log(softmax_policy(th)[s, a])), THETA)
            assert np.allclose(score(THETA, s, a), fd, atol=1e-8)


def test_trajectory_probabilities_sum_to_one():
    tr = enumerate_trajectories(two_state_mdp(), THETA, H)
    assert tr.probs.shape == (4 ** H,) and tr.horizon == H
    assert np.isclose(tr.probs.sum(), 1.0)


def test_values_satisfy_bellman_and_advantage_has_mean_zero():
    mdp = two_state_mdp(0.9)
    pi = softmax_policy(THETA)
    V, Q = state_values(mdp, pi), action_values(mdp, pi)
    assert np.allclose(V, (pi * Q).sum(axis=1))
    assert np.allclose(((Q - V[:, None]) * pi).sum(axis=1), 0.0)
    assert np.isclose(discounted_visitation(mdp, pi).sum(), 1 / (1 - mdp.gamma))
    # The time-limited values approach the endless ones as the steps left grow.
    Vh, _ = finite_horizon_values(mdp, pi, 400)
    assert np.allclose(Vh[-1], V) and not np.allclose(Vh[5], V)
    with pytest.raises(ValueError):
        state_values(mdp.with_gamma(1.0), pi)


def test_policy_gradient_theorem_equals_finite_differences():
    mdp = two_state_mdp(0.9)
    fd = finite_difference_gradient(lambda th: float(mdp.mu0 @ state_values(mdp, softmax_policy(th))), THETA)
    assert np.allclose(policy_gradient_theorem(mdp, THETA), fd, atol=1e-7)


@pytest.mark.parametrize("kind", ["whole_return", "reward_to_go", "q_values"])
def test_unbiased_estimators_equal_the_gradient_of_the_discounted_objective(kind):
    mdp = two_state_mdp(0.9)
    fd = finite_difference_gradient(lambda th: expected_return(mdp, th, H), THETA)
    assert np.allclose(expected_estimate(mdp, THETA, H, kind), fd, atol=1e-7)
    assert np.allclose(expected_estimate(mdp, THETA, H, kind, baseline=[3.0, -5.0]), fd, atol=1e-7)


def test_discounted_returns_without_gamma_t_is_biased_and_no_gradient_field():
    mdp = two_state_mdp(0.9)
    fd = finite_difference_gradient(lambda th: expected_return(mdp, th, H), THETA)
    g = expected_estimate(mdp, THETA, H, "discounted_returns")
    assert np.abs(g - fd).max() > 0.05
    # A baseline does not change its expectation either.
    assert np.allclose(expected_estimate(mdp, THETA, H, "discounted_returns", baseline=[3.0, -5.0]), g)
    jac = finite_difference_jacobian(lambda th: expected_estimate(mdp, th, H, "discounted_returns"), THETA, 1e-5)
    assert np.abs(jac - jac.T).max() > 1e-3
    true_jac = finite_difference_jacobian(lambda th: expected_estimate(mdp, th, H, "reward_to_go"), THETA, 1e-5)
    assert np.abs(true_jac - true_jac.T).max() < 1e-7
    # With gamma = 1 it is the gradient of the undiscounted return over the horizon.
    undiscounted = mdp.with_gamma(1.0)
    fd1 = finite_difference_gradient(lambda th: expected_return(undiscounted, th, H), THETA)
    assert np.allclose(expected_estimate(undiscounted, THETA, H, "discounted_returns"), fd1, atol=1e-7)


def test_unknown_estimator_raises():
    with pytest.raises(ValueError):
        expected_estimate(two_state_mdp(), THETA, 2, "nonsense")  # type: ignore[arg-type]
