"""The package's two A2C implementations against the seed's Policy.update, autograd, and each other."""
import numpy as np
import pytest
import torch

from lecture_utils import A2CConfig, Episode, NumpyA2CAgent, TorchA2CAgent, make_env, rollout_episode, sample_action
from lecture_utils.numpy_agent import FlatMLP
from lecture_utils.returns import discounted_returns, gae_advantages

from .helpers import import_seed_policy

IMPLEMENTATIONS = [TorchA2CAgent, NumpyA2CAgent]


def _seed_episode(seed_policy, seed: int):
    """Seed Policy built as the seed script builds it, and one episode it recorded with the seed's run_episode."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    policy = seed_policy.Policy(4, 2)
    env = make_env("CartPole-v1", seed=seed)
    data = seed_policy.run_episode(env, policy)
    obs, act, rew, next_obs, done = data
    episode = Episode(obs=np.array(obs), actions=np.array(act, dtype=np.int64), rewards=np.array(rew),
                      next_obs=np.array(next_obs), terminated=np.array(done), truncated=np.zeros(len(rew), bool))
    return policy, data, episode


def _params(module):
    return [p.detach().numpy().copy() for p in module.parameters()]


@pytest.mark.parametrize("agent_cls", IMPLEMENTATIONS)
@pytest.mark.parametrize("seed", [3, 11])
@pytest.mark.parametrize("passes", [1, 5])
def test_one_update_matches_seed_policy_update(agent_cls, seed, passes):
    seed_policy = import_seed_policy()
    policy, data, episode = _seed_episode(seed_policy, seed)
    agent = agent_cls(A2CConfig(update_passes=passes), 4, 2, seed)
    weights = agent.get_weights()
    for ours, theirs in zip([v for k, v in weights.items() if k.startswith("actor")], _params(policy.act_net), strict=True):
        assert np.array_equal(ours, theirs), "same seed must give the seed's initial weights"
    for _ in range(passes):
        seed_actor_loss, seed_critic_loss = policy.update(data)
    stats = agent.update(episode)
    weights = agent.get_weights()
    ours_actor = [v for k, v in weights.items() if k.startswith("actor")]
    ours_critic = [v for k, v in weights.items() if k.startswith("critic")]
    for ours, theirs in zip(ours_actor, _params(policy.act_net), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    for ours, theirs in zip(ours_critic, _params(policy.v_net), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert stats.actor_loss == pytest.approx(seed_actor_loss, abs=1e-6)
    assert stats.critic_loss == pytest.approx(seed_critic_loss, abs=1e-6)


def test_torch_agent_is_bit_identical_to_seed_update():
    seed_policy = import_seed_policy()
    policy, data, episode = _seed_episode(seed_policy, 5)
    agent = TorchA2CAgent(A2CConfig(), 4, 2, 5)
    for _ in range(5):
        policy.update(data)
    agent.update(episode)
    theirs_all = _params(policy.act_net) + _params(policy.v_net)
    for ours, theirs in zip(_params(agent.actor) + _params(agent.critic), theirs_all, strict=True):
        assert np.array_equal(ours, theirs)


def _random_batch(rng, batch=7, obs_dim=4, n_actions=3):
    x = rng.normal(size=(batch, obs_dim)).astype(np.float32)
    actions = rng.integers(0, n_actions, size=batch)
    adv = rng.normal(size=batch).astype(np.float32)
    target = rng.normal(size=(batch, 1)).astype(np.float32)
    return x, actions, adv, target


@pytest.mark.parametrize("entropy_coef", [0.0, 0.05])
def test_hand_written_gradients_match_autograd(entropy_coef):
    rng = np.random.default_rng(0)
    config = A2CConfig(entropy_coef=entropy_coef)
    fast = NumpyA2CAgent(config, 4, 3, seed=2)
    ref = TorchA2CAgent(config, 4, 3, seed=2)
    x, actions, adv, target = _random_batch(rng)
    fast_loss = fast.actor_loss_and_grad(x, actions, adv)
    probs = ref.actor(torch.as_tensor(x))
    log_probs = torch.log(probs + 1e-8)
    loss = -(torch.as_tensor(adv) * log_probs.gather(1, torch.as_tensor(actions)[:, None]).squeeze(-1)).mean()
    loss = loss - entropy_coef * (-(probs * log_probs).sum(-1).mean())
    loss.backward()
    expected = torch.cat([p.grad.flatten() for p in ref.actor.parameters()]).numpy()
    np.testing.assert_allclose(fast.actor.grad, expected, rtol=1e-5, atol=1e-6)
    assert fast_loss == pytest.approx(loss.item(), abs=1e-6)

    fast_closs = fast.critic_loss_and_grad(x, target)
    closs = torch.nn.functional.mse_loss(ref.critic(torch.as_tensor(x)), torch.as_tensor(target))
    closs.backward()
    expected = torch.cat([p.grad.flatten() for p in ref.critic.parameters()]).numpy()
    np.testing.assert_allclose(fast.critic.grad, expected, rtol=1e-5, atol=1e-6)
    assert fast_closs == pytest.approx(closs.item(), rel=1e-6)


@pytest.mark.parametrize("options", [dict(entropy_coef=0.01), dict(max_grad_norm=0.5), dict(gae_lambda=0.95),
                                     dict(entropy_coef=0.01, max_grad_norm=1.0, gae_lambda=0.9),
                                     dict(stable_log_prob=True), dict(stable_log_prob=True, entropy_coef=0.05),
                                     dict(normalize_advantages=True),
                                     dict(stable_log_prob=True, normalize_advantages=True, gae_lambda=0.95,
                                          entropy_coef=0.01, max_grad_norm=0.5),
                                     dict(ratio_clip=0.2, stable_log_prob=True),
                                     dict(ratio_clip=0.1, stable_log_prob=True, normalize_advantages=True,
                                          gae_lambda=0.95, entropy_coef=0.01, max_grad_norm=0.5, update_passes=8),
                                     dict(critic_target="lambda_return"),
                                     dict(critic_target="lambda_return", gae_lambda=0.9, normalize_advantages=True,
                                          max_grad_norm=0.5)])
def test_options_agree_between_implementations(options):
    config = A2CConfig(**options)
    env = make_env(seed=4)
    episode = rollout_episode(env, TorchA2CAgent(config, 4, 2, 4).act)
    fast, ref = NumpyA2CAgent(config, 4, 2, 4), TorchA2CAgent(config, 4, 2, 4)
    s_fast, s_ref = fast.update(episode), ref.update(episode)
    for key, value in ref.get_weights().items():
        np.testing.assert_allclose(fast.get_weights()[key], value, atol=1e-5, err_msg=key)
    assert s_fast.actor_grad_norm == pytest.approx(s_ref.actor_grad_norm, rel=1e-4)
    assert s_fast.critic_grad_norm == pytest.approx(s_ref.critic_grad_norm, rel=1e-4)
    assert s_fast.advantage_std == pytest.approx(s_ref.advantage_std, rel=1e-4)
    assert s_fast.actor_update_norm == pytest.approx(s_ref.actor_update_norm, rel=1e-3)
    assert s_fast.critic_update_norm == pytest.approx(s_ref.critic_update_norm, rel=1e-3)


@pytest.mark.parametrize("agent_cls", [NumpyA2CAgent, TorchA2CAgent])
@pytest.mark.parametrize("critic_steps", [1, 3])
def test_update_norms_are_the_parameter_changes(agent_cls, critic_steps):
    """One pass, one minibatch: the reported update norms are how far each network's parameters moved, and Adam's
    first step moves each parameter by about lr whatever the gradient's size."""
    config = A2CConfig(update_passes=1, batch_size=10_000, critic_steps=critic_steps)
    episode = rollout_episode(make_env(seed=2), TorchA2CAgent(config, 4, 2, 2).act)
    agent = agent_cls(config, 4, 2, 2)
    before = agent.get_weights()
    stats = agent.update(episode)
    after = agent.get_weights()

    def moved(prefix):
        return float(np.sqrt(sum(np.sum((after[k].astype(np.float64) - before[k]) ** 2) for k in after
                                 if k.startswith(prefix))))
    assert stats.actor_update_norm == pytest.approx(moved("actor."), rel=1e-3)
    # Adam's first step is lr * g / (|g| + eps): about lr for every parameter whose gradient is not zero.
    n_moved = sum(int(np.sum(after[k] != before[k])) for k in after if k.startswith("actor."))
    assert stats.actor_update_norm == pytest.approx(config.actor_lr * np.sqrt(n_moved), rel=0.02)
    if critic_steps == 1:
        assert stats.critic_update_norm == pytest.approx(moved("critic."), rel=1e-3)
    else:  # the mean of several steps' norms is at least the straight-line distance divided by the number of steps
        assert stats.critic_update_norm >= moved("critic.") / critic_steps * (1 - 1e-6)


def test_lambda_return_targets_are_advantage_plus_value():
    """critic_target="lambda_return": with GAE the targets are A^GAE + V(s) (before normalisation); with the seed's
    Monte Carlo advantage they are G_t; TD(0) (the seed) has none."""
    env = make_env(seed=6)
    episode = rollout_episode(env, TorchA2CAgent(A2CConfig(), 4, 2, 6).act)
    returns = discounted_returns(episode.rewards, 0.99).astype(np.float32)
    agent = NumpyA2CAgent(A2CConfig(critic_target="lambda_return", gae_lambda=0.8, normalize_advantages=True), 4, 2, 6)
    adv, targets = agent.advantages_and_critic_targets(episode, returns)
    raw = gae_advantages(episode.rewards, agent.values(episode.obs), agent.values(episode.next_obs),
                         episode.terminated, 0.99, 0.8, episode_ends=episode.terminated | episode.truncated)
    np.testing.assert_allclose(targets, raw + agent.values(episode.obs), rtol=1e-5, atol=1e-5)
    assert abs(float(adv.mean())) < 1e-5 and not np.allclose(targets - agent.values(episode.obs), adv)
    mc = NumpyA2CAgent(A2CConfig(critic_target="lambda_return"), 4, 2, 6)
    np.testing.assert_array_equal(mc.advantages_and_critic_targets(episode, returns)[1], returns)
    assert NumpyA2CAgent(A2CConfig(), 4, 2, 6).advantages_and_critic_targets(episode, returns)[1] is None


def test_lambda_return_critic_regresses_on_the_fixed_targets():
    """One critic step with the lambda-return target is a step on mean((V - G^lambda)^2) with G^lambda fixed: its
    gradient matches autograd's on that loss (no bootstrapped V(s') inside)."""
    config = A2CConfig(critic_target="lambda_return", gae_lambda=0.9, update_passes=1, batch_size=10_000,
                       critic_steps=1)
    episode = rollout_episode(make_env(seed=8), TorchA2CAgent(config, 4, 2, 8).act)
    returns = discounted_returns(episode.rewards, 0.99).astype(np.float32)
    agent = NumpyA2CAgent(config, 4, 2, 8)
    _, targets = agent.advantages_and_critic_targets(episode, returns)
    ref = TorchA2CAgent(config, 4, 2, 8)
    loss = torch.nn.functional.mse_loss(ref.critic(torch.as_tensor(episode.obs)), torch.as_tensor(targets)[:, None])
    loss.backward()
    agent.update(episode)
    expected = torch.cat([p.grad.flatten() for p in ref.critic.parameters()]).numpy()
    np.testing.assert_allclose(agent.critic.grad, expected, rtol=1e-4, atol=1e-6)


def test_clipping_bounds_the_gradient_norm():
    """Clipping bounds the gradient handed to Adam (as clip_grad_norm_ does), not Adam's step, which is about lr per
    parameter whatever the gradient's scale."""
    from lecture_utils.numpy_agent import _clip_

    rng = np.random.default_rng(0)
    grad = rng.normal(size=114).astype(np.float32) * 10
    norm = float(np.linalg.norm(grad))
    assert _clip_(grad.copy(), None) == pytest.approx(norm, rel=1e-6)
    clipped = grad.copy()
    assert _clip_(clipped, 0.5) == pytest.approx(norm, rel=1e-6)  # reports the norm before clipping
    assert np.linalg.norm(clipped) == pytest.approx(0.5, rel=1e-5)
    np.testing.assert_allclose(clipped / np.linalg.norm(clipped), grad / norm, rtol=1e-5)  # same direction
    small = grad / (10 * norm)  # norm 0.1, under the limit: untouched
    untouched = small.copy()
    _clip_(untouched, 0.5)
    np.testing.assert_array_equal(untouched, small)
    # In an update, clipping changes the weights (the clipped rows feed Adam's moments differently).
    episode = rollout_episode(make_env(seed=0), TorchA2CAgent(A2CConfig(), 4, 2, 0).act)
    free, limited = NumpyA2CAgent(A2CConfig(), 4, 2, 0), NumpyA2CAgent(A2CConfig(max_grad_norm=1e-3), 4, 2, 0)
    free.update(episode)
    limited.update(episode)
    assert not np.allclose(free.actor.params, limited.actor.params)


def test_sample_action_matches_numpy_choice():
    probs = np.array([0.2, 0.5, 0.3], dtype=np.float32)
    ours, theirs = np.random.RandomState(7), np.random.RandomState(7)
    assert [sample_action(probs, ours) for _ in range(500)] == [int(theirs.choice(3, p=probs)) for _ in range(500)]


def test_act_paths_agree():
    for cls in IMPLEMENTATIONS:
        agent = cls(A2CConfig(), 4, 2, 1)
        obs = np.array([0.01, -0.2, 0.03, 0.4], dtype=np.float32)
        probs = agent.probabilities(obs)
        assert probs.shape == (2,) and probs.sum() == pytest.approx(1.0, abs=1e-6)
        assert agent.act(obs, greedy=True) == int(np.argmax(probs))
        assert agent.values(obs[None]).shape == (1,)


def test_flat_mlp_views_share_memory():
    net = FlatMLP(4, 16, 2)
    net.w1[0, 0] = 3.0
    assert net.params[0] == 3.0 and net.params.size == 4 * 16 + 16 + 16 * 2 + 2


@pytest.mark.parametrize("seeds", [None, 5])
def test_critic_backward_gives_the_matrix_products_numbers(seeds):
    """The one-output network's backward broadcasts d_out * w2 instead of the (B x 1) @ (1 x H) matmul: the same
    floats bit for bit, on this machine's BLAS (wide magnitudes, zeros and negative zeros included)."""
    rng = np.random.default_rng(11)
    lead = () if seeds is None else (seeds,)
    net = FlatMLP(4, 64, 1, seeds=seeds)
    net.params[...] = (rng.standard_normal(net.params.shape) * 10.0 ** rng.uniform(-6, 6, net.params.shape)
                       ).astype(np.float32)
    x = (rng.standard_normal((*lead, 37, 4)) * 10.0 ** rng.uniform(-4, 4, (*lead, 37, 4))).astype(np.float32)
    hidden, out = net.forward(x)
    d_out = (out * rng.choice([0.0, -0.0, 1e-12, 3.7, -1e5], size=out.shape)).astype(np.float32)
    net.backward(x, hidden, d_out)
    assert np.isfinite(net.grad).all() and np.count_nonzero(net.gw1) > net.gw1.size // 4
    d_hidden = np.matmul(d_out, net.w2)  # the general path, as BLAS computes it
    d_hidden *= hidden > 0
    np.testing.assert_array_equal(net.gw1, np.matmul(d_hidden.swapaxes(-1, -2), x))
    np.testing.assert_array_equal(net.gb1, np.add.reduce(d_hidden, axis=-2))
    np.testing.assert_array_equal(d_out * net.w2, np.matmul(d_out, net.w2))


@pytest.mark.parametrize("entropy_coef", [0.0, 0.05])
def test_log_softmax_gradients_match_autograd(entropy_coef):
    rng = np.random.default_rng(3)
    config = A2CConfig(entropy_coef=entropy_coef, stable_log_prob=True)
    fast, ref = NumpyA2CAgent(config, 4, 3, seed=5), TorchA2CAgent(config, 4, 3, seed=5)
    x, actions, adv, _ = _random_batch(rng)
    fast_loss = fast.actor_loss_and_grad(x, actions, adv)
    log_probs = torch.log_softmax(ref.actor[:-1](torch.as_tensor(x)), dim=-1)
    loss = -(torch.as_tensor(adv) * log_probs.gather(1, torch.as_tensor(actions)[:, None]).squeeze(-1)).mean()
    loss = loss - entropy_coef * (-(log_probs.exp() * log_probs).sum(-1).mean())
    loss.backward()
    expected = torch.cat([p.grad.flatten() for p in ref.actor.parameters()]).numpy()
    np.testing.assert_allclose(fast.actor.grad, expected, rtol=1e-5, atol=1e-6)
    assert fast_loss == pytest.approx(loss.item(), abs=1e-6)


@pytest.mark.parametrize("entropy_coef", [0.0, 0.05])
def test_clipped_surrogate_gradients_match_autograd(entropy_coef):
    rng = np.random.default_rng(8)
    config = A2CConfig(entropy_coef=entropy_coef, ratio_clip=0.2, stable_log_prob=True)
    fast, ref = NumpyA2CAgent(config, 4, 3, seed=6), TorchA2CAgent(config, 4, 3, seed=6)
    x, actions, adv, _ = _random_batch(rng, batch=64)
    log_probs = torch.log_softmax(ref.actor[:-1](torch.as_tensor(x)), dim=-1)
    taken = log_probs.gather(1, torch.as_tensor(actions)[:, None]).squeeze(-1)
    # Old policies whose ratios pi/pi_old spread over [0.5, 1.6]: inside the clip range, and outside on both sides.
    ratio_target = rng.uniform(0.5, 1.6, size=64)
    old = (taken.detach().numpy() - np.log(ratio_target)).astype(np.float32)
    fast_loss = fast.actor_loss_and_grad(x, actions, adv, old_log_probs=old)
    ratio = torch.exp(taken - torch.as_tensor(old))
    a = torch.as_tensor(adv)
    loss = -torch.minimum(ratio * a, torch.clamp(ratio, 0.8, 1.2) * a).mean()
    loss = loss - entropy_coef * (-(log_probs.exp() * log_probs).sum(-1).mean())
    loss.backward()
    expected = torch.cat([p.grad.flatten() for p in ref.actor.parameters()]).numpy()
    outside = ((ratio_target > 1.2) & (adv > 0)) | ((ratio_target < 0.8) & (adv < 0))
    assert 5 < outside.sum() < 59, "the batch must exercise both the clipped and the unclipped branch"
    np.testing.assert_allclose(fast.actor.grad, expected, rtol=1e-5, atol=1e-6)
    assert fast_loss == pytest.approx(loss.item(), abs=1e-6)


@pytest.mark.parametrize("agent_cls", IMPLEMENTATIONS)
def test_ratio_clip_keeps_many_passes_near_the_old_policy(agent_cls):
    """Twenty aggressive passes over one batch move the policy far; the clipped surrogate keeps it near pi_old."""
    episode = rollout_episode(make_env(seed=2), TorchA2CAgent(A2CConfig(), 4, 2, 2).act)
    moves = {}
    for clip in (None, 0.05):
        config = A2CConfig(ratio_clip=clip, stable_log_prob=True, normalize_advantages=True, update_passes=20,
                           actor_lr=1e-2)
        agent = agent_cls(config, 4, 2, 2)
        before = agent.probabilities(episode.obs)
        agent.update(episode)
        after = agent.probabilities(episode.obs)
        taken = np.arange(episode.length), episode.actions
        moves[clip] = float(np.abs(np.log(after[taken] / before[taken])).mean())
    assert moves[0.05] < 0.5 * moves[None]


def test_linear_schedule_reaches_small_rates():
    from lecture_utils import train

    for implementation in ("numpy", "torch"):
        result = train(A2CConfig(episodes=4, lr_schedule="linear", implementation=implementation), seed=0)
        lr = (result.agent.actor_optimizer.lr if implementation == "numpy"
              else result.agent.actor_optimizer.param_groups[0]["lr"])
        assert lr == pytest.approx(1e-3 * (1 - 3 / 4))
