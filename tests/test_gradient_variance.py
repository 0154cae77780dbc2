import numpy as np
import pytest
import torch

from lecture_utils import A2CConfig, NumpyA2CAgent, TorchA2CAgent, build_networks, make_env, rollout_episode
from lecture_utils.gradient_variance import (ActorSnapshot, CriticSnapshot, advantage_sets, compare_estimators,
                                             describe_estimator, episode_gradients, estimator_table,
                                             gradient_estimates, paired_bias, project, sample_episodes,
                                             trace_covariance)
from lecture_utils.returns import discounted_returns

P_CARTPOLE = 16 * 4 + 16 + 2 * 16 + 2  # actor parameters: 114


def random_obs(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=0.5, size=(n, 4)).astype(np.float32)


# -- score function ------------------------------------------------------------------------------------------------
def test_score_vectors_by_hand_on_a_tiny_actor():
    # 2 inputs, 2 hidden units, 2 actions. W1 = 0 and b1 = (1, -1): hidden = relu(b1) = (1, 0) for every state.
    # W2 = 0, b2 = 0: both actions have probability 1/2, so dlog p_a/dlogits = onehot(a) - (1/2, 1/2).
    snap = ActorSnapshot(w1=np.zeros((2, 2)), b1=np.array([1.0, -1.0]), w2=np.zeros((2, 2)), b2=np.zeros(2))
    assert snap.n_params == 4 + 2 + 4 + 2
    score = snap.score_vectors(np.array([[0.3, -0.7]]), np.array([0]))[0]
    d_logits = np.array([0.5, -0.5])
    expected = np.concatenate([
        np.zeros(4),                                     # dW1: the gradient reaching the hidden layer is d_logits @ W2 = 0
        np.zeros(2),                                     # db1: likewise
        np.outer(d_logits, [1.0, 0.0]).ravel(),          # dW2 = d_logits (x) hidden
        d_logits,                                        # db2
    ])
    np.testing.assert_allclose(score, expected)


def test_score_vectors_match_autograd_on_the_seed_actor():
    actor, _ = build_networks(4, 2, seed=3)
    snap = ActorSnapshot.from_actor(actor)
    obs = random_obs(6)
    actions = np.array([0, 1, 1, 0, 1, 0])
    expected = []
    for s, a in zip(obs, actions, strict=True):
        actor.zero_grad()
        torch.log(actor(torch.as_tensor(s))[a]).backward()
        expected.append(torch.cat([p.grad.flatten() for p in actor.parameters()]).numpy())
    got = snap.score_vectors(obs, actions)
    assert got.shape == (6, P_CARTPOLE)
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-4, atol=1e-6)


def test_score_has_zero_mean_under_the_policy():
    # sum_a pi(a|s) grad log pi(a|s) = grad sum_a pi(a|s) = 0: why any baseline b(s) adds nothing in expectation.
    actor, _ = build_networks(4, 2, seed=0)
    snap = ActorSnapshot.from_actor(actor)
    obs = random_obs(5, seed=1)
    probs = snap.probabilities(obs)
    expected_score = sum(probs[:, [a]] * snap.score_vectors(obs, np.full(5, a)) for a in range(2))
    np.testing.assert_allclose(expected_score, 0.0, atol=1e-12)


def test_snapshots_match_both_agents():
    obs = random_obs(7)
    for cls in (TorchA2CAgent, NumpyA2CAgent):
        agent = cls(A2CConfig(), 4, 2, seed=5)
        np.testing.assert_allclose(ActorSnapshot.from_actor(agent).probabilities(obs), agent.probabilities(obs),
                                   rtol=1e-5)
        np.testing.assert_allclose(CriticSnapshot.from_critic(agent)(obs), agent.values(obs), rtol=1e-5, atol=1e-6)
    agent = TorchA2CAgent(A2CConfig(), 4, 2, seed=5)
    np.testing.assert_allclose(CriticSnapshot.from_critic(agent.critic)(obs), agent.values(obs), rtol=1e-5, atol=1e-6)


# -- pure functions on arrays ----------------------------------------------------------------------------------
def test_episode_gradients_by_hand():
    scores = [np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[1.0, 1.0]])]
    advantages = [np.array([3.0, 4.0]), np.array([-2.0])]
    np.testing.assert_allclose(episode_gradients(scores, advantages), [[3.0, 8.0], [-2.0, -2.0]])
    np.testing.assert_allclose(episode_gradients(scores, advantages, "mean"), [[1.5, 4.0], [-2.0, -2.0]])
    with pytest.raises(ValueError):
        episode_gradients(scores, [np.array([1.0]), np.array([1.0])])
    with pytest.raises(ValueError):
        episode_gradients(scores, advantages, "median")


def test_trace_covariance_by_hand():
    g = np.array([[0.0, 0.0], [2.0, 2.0]])
    # each column: values 0 and 2, mean 1, variance (1 + 1) / (2 - 1) = 2; trace = 4
    assert trace_covariance(g) == pytest.approx(4.0)
    g = np.random.default_rng(0).normal(size=(50, 3))
    assert trace_covariance(g) == pytest.approx(np.trace(np.cov(g.T)))
    with pytest.raises(ValueError):
        trace_covariance(np.ones(5))


def test_paired_bias_by_hand():
    ref = np.random.default_rng(1).normal(size=(10, 3))
    assert paired_bias(ref, ref) == (0.0, 0.0)
    bias, noise = paired_bias(ref + np.array([3.0, 4.0, 0.0]), ref)  # a constant shift: bias 5, no noise
    assert bias == pytest.approx(5.0) and noise == pytest.approx(0.0, abs=1e-12)
    # differences +-1 in one coordinate: mean 0, trace(Cov) = 10/9, noise = sqrt((10/9) / 10) = 1/3
    d = np.zeros((10, 3))
    d[:, 0] = [1.0, -1.0] * 5
    bias, noise = paired_bias(ref + d, ref)
    assert bias == pytest.approx(0.0, abs=1e-12) and noise == pytest.approx(1 / 3)


def test_project_by_hand():
    np.testing.assert_allclose(project([[3.0, 4.0], [1.0, 0.0]], [0.0, 2.0]), [4.0, 0.0])


def test_estimator_table_columns_and_reference_row():
    rng = np.random.default_rng(2)
    ref = rng.normal(size=(40, 3)) * 3.0
    table = estimator_table({"reinforce": ref, "shrunk": ref / 2})
    assert list(table.columns) == ["estimator", "advantage", "variance", "variance_reduction", "mean_norm", "bias",
                                   "bias_noise", "relative_bias"]
    row = table.set_index("estimator").loc["reinforce"]
    assert row.variance_reduction == 1.0 and row.bias == 0.0
    assert table.set_index("estimator").loc["shrunk", "variance_reduction"] == pytest.approx(4.0)
    assert describe_estimator("critic") == "G_t - V(s_t)" and describe_estimator("gae(0.9)") == "GAE, lambda = 0.9"


# -- advantages on recorded episodes -------------------------------------------------------------------------------
def test_advantage_sets_by_hand_on_a_short_episode():
    env = make_env(seed=0)
    ep = rollout_episode(env, lambda obs: 0)  # always push left: falls after a few steps, terminated
    assert ep.terminated[-1]
    values = lambda obs: np.full(len(obs), 2.0)  # noqa: E731  a constant critic V = 2
    sets = advantage_sets([ep], values, gamma=0.5, lambdas=(0.0, 1.0), constant_baseline=1.0)
    assert list(sets) == ["reinforce", "constant", "critic", "td0", "gae(0)", "gae(1)"]
    g = discounted_returns(ep.rewards, 0.5)
    np.testing.assert_allclose(sets["reinforce"][0], g)
    np.testing.assert_allclose(sets["constant"][0], g - 1.0)
    np.testing.assert_allclose(sets["critic"][0], g - 2.0)
    # TD(0): r + 0.5 * V(s') - V(s) = 1 + 1 - 2 = 0 before the end; at the terminal step nothing is bootstrapped: 1 - 2
    np.testing.assert_allclose(sets["td0"][0][:-1], 0.0)
    assert sets["td0"][0][-1] == pytest.approx(-1.0)
    np.testing.assert_allclose(sets["gae(0)"][0], sets["td0"][0])
    np.testing.assert_allclose(sets["gae(1)"][0], sets["critic"][0])  # lambda = 1 on a terminated episode: G - V
    # default constant baseline: the mean return over every sampled step; no critic: only the two critic-free sets
    sets = advantage_sets([ep, ep], None, gamma=0.5)
    assert list(sets) == ["reinforce", "constant"]
    np.testing.assert_allclose(sets["constant"][0], g - g.mean())


# -- sampling and the whole comparison -----------------------------------------------------------------------------
def test_sample_episodes_is_reproducible_and_leaves_the_agent_alone():
    agent = NumpyA2CAgent(A2CConfig(), 4, 2, seed=0)
    state = agent.rng.get_state()[1].copy()
    a = sample_episodes(agent, 4, seed=7)
    b = sample_episodes(ActorSnapshot.from_actor(agent), 4, seed=7)
    assert [e.length for e in a] == [e.length for e in b]
    assert all(np.array_equal(x.actions, y.actions) and np.array_equal(x.obs, y.obs) for x, y in zip(a, b, strict=True))
    assert np.array_equal(agent.rng.get_state()[1], state)


def test_compare_estimators_shapes_and_the_baselines_are_unbiased():
    agent = NumpyA2CAgent(A2CConfig(), 4, 2, seed=0)
    table, estimates, episodes = compare_estimators(agent, CriticSnapshot.from_critic(agent), n_episodes=120, seed=1,
                                                    lambdas=(0.9,))
    assert len(episodes) == 120
    assert set(estimates) == {"reinforce", "constant", "critic", "td0", "gae(0.9)"}
    assert all(g.shape == (120, P_CARTPOLE) for g in estimates.values())
    t = table.set_index("estimator")
    # A state-only baseline changes each estimate but not their expectation: the measured bias stays within chance.
    for name in ("constant", "critic"):
        assert t.loc[name, "bias"] < 3 * t.loc[name, "bias_noise"]
    # ... and a constant baseline near the mean return makes the estimates less noisy.
    assert t.loc["constant", "variance_reduction"] > 1


def test_gradient_estimates_constant_baseline_term_by_hand():
    # g(constant) - g(reinforce) = -b * sum_t score_t, episode by episode
    agent = NumpyA2CAgent(A2CConfig(), 4, 2, seed=2)
    snap = ActorSnapshot.from_actor(agent)
    episodes = sample_episodes(snap, 3, seed=0)
    est = gradient_estimates(snap, episodes, None, constant_baseline=10.0)
    sums = np.array([snap.score_vectors(e.obs, e.actions).sum(axis=0) for e in episodes])
    np.testing.assert_allclose(est["constant"] - est["reinforce"], -10.0 * sums, atol=1e-9)


def test_critic_snapshot_shapes_by_hand():
    # V(s) = w2 . relu(W1 s + b1) + b2 with W1 = I (2x2), b1 = (0, -1), w2 = (2, 3), b2 = 0.5
    critic = CriticSnapshot(w1=np.eye(2), b1=np.array([0.0, -1.0]), w2=np.array([[2.0, 3.0]]), b2=np.array([0.5]))
    # s = (1, 3): hidden = relu(1, 2) = (1, 2) -> 2 + 6 + 0.5 = 8.5; s = (-1, 0): hidden = (0, 0) -> 0.5
    np.testing.assert_allclose(critic(np.array([[1.0, 3.0], [-1.0, 0.0]])), [8.5, 0.5])
    assert critic(np.array([1.0, 3.0])).shape == (1,)


def test_plot_estimator_table_draws_two_panels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lecture_utils.gradient_variance import plot_estimator_table

    ref = np.random.default_rng(3).normal(size=(20, 4))
    fig = plot_estimator_table(estimator_table({"reinforce": ref, "half": ref / 2}), title="t")
    assert len(fig.axes) == 2 and fig.axes[0].get_yscale() == "log"
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["reinforce", "half"]
    plt.close(fig)
