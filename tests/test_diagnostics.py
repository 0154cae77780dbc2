import math

import numpy as np
import pandas as pd
import pytest

import torch

from lecture_utils import A2CConfig, discounted_returns, make_env, rollout_episode, train
from lecture_utils.collapse import (actor_steps_per_update, align_on_events, collapse_onset, collapse_onsets,
                                    crash_chances, find_crashes)
from lecture_utils.entropy import LN2, binary_entropy, entropy_slope, preferred_action_probability
from lecture_utils.exercises import check_earliest_collapse, check_entropy_of, check_entropy_slope
from lecture_utils.gradient_variance import actor_gradient_norms
from lecture_utils.plotting import compact_png
from lecture_utils.snapshots import agent_from_weights, train_with_snapshots
from lecture_utils.stats import thinned_curves


def _run(returns, seed=0, config="c"):
    return pd.DataFrame(dict(config=config, seed=seed, episode=np.arange(len(returns)),
                             **{"return": np.asarray(returns, dtype=float)}))


def test_binary_entropy_values():
    np.testing.assert_allclose(binary_entropy([0.5, 0.0, 1.0]), [LN2, 0.0, 0.0])
    assert binary_entropy(0.9) == pytest.approx(-(0.9 * math.log(0.9) + 0.1 * math.log(0.1)))
    assert binary_entropy(np.full((2, 3), 0.3)).shape == (2, 3)
    with pytest.raises(ValueError):
        binary_entropy(1.5)


def test_preferred_action_probability_inverts_entropy():
    p = np.array([0.5, 0.6, 0.8, 0.95, 0.999, 1.0])
    np.testing.assert_allclose(preferred_action_probability(binary_entropy(p)), p, atol=1e-9)
    # out-of-range entropies are clipped
    np.testing.assert_allclose(preferred_action_probability([-0.1, 1.0]), [1.0, 0.5], atol=1e-12)


def test_collapse_onset():
    good, bad = [300.0] * 50, [9.0] * 50
    assert collapse_onset(good + bad, window=20) == 50
    assert collapse_onset(bad + good, window=20) is None
    assert collapse_onset(bad, window=20) == 0
    # one lucky 30-step episode inside the collapse does not move the onset
    assert collapse_onset(good + bad[:10] + [30.0] + bad[:39], window=20) == 50
    assert collapse_onset([9.0] * 5, window=20) is None
    with pytest.raises(ValueError):
        collapse_onset(bad, window=0)


def test_collapse_onsets_per_run():
    table = pd.concat([_run([300.0] * 40 + [9.0] * 40, seed=0), _run([300.0] * 80, seed=1)])
    onsets = collapse_onsets(table).set_index("seed")["onset"]
    assert onsets[0] == 40 and np.isnan(onsets[1])


def test_find_crashes_and_recovery():
    returns = [200.0] * 30 + [9.0] * 40 + [300.0] * 30 + [9.0] * 30
    crashes = find_crashes(_run(returns), high=100, lookback=5, window=20)
    assert crashes["episode"].tolist() == [30, 100]
    assert crashes["recovered"].tolist() == [True, False]
    # the first block of 20 averaging >= 100 starts at 57 (7 x 300 + 13 x 9 = 2217): 27 episodes after the crash
    assert crashes["recover_after"].iloc[0] == 27
    assert np.isnan(crashes["recover_after"].iloc[1])
    assert crashes["return_before"].tolist() == [200.0, 300.0]
    assert find_crashes(_run([9.0] * 10)).empty
    # a lucky episode inside a collapse does not start a second crash
    lucky = [300.0] * 30 + [9.0, 40.0] + [9.0] * 40
    assert find_crashes(_run(lucky), lookback=5, window=20)["episode"].tolist() == [30]


def test_crash_chances():
    # a good stretch at the limit, then a crash at 30; a good stretch at 200, then a crash at 100
    returns = [500.0] * 30 + [9.0] * 40 + [200.0] * 30 + [9.0] * 30
    chances = crash_chances(_run(returns), limit=500, high=100, lookback=5, window=20)
    r = np.array(returns)
    expected = [e for e in range(5, len(r) - 20 + 1) if r[e - 5:e].mean() >= 100]
    assert chances["episode"].tolist() == expected
    assert chances.loc[chances["crash"], "episode"].tolist() == [30, 100]
    assert chances.loc[chances["crash"], "limit_before"].tolist() == [True, False]
    np.testing.assert_array_equal(chances["limit_before"], [r[e - 5:e].max() >= 500 for e in expected])
    # offsets count within each run of consecutive chances: 5..34 (at 34, (500 + 4 x 9) / 5 >= 100), then from 73
    # (at 73, (2 x 9 + 3 x 200) / 5 >= 100)
    first = chances[chances["episode"] <= 34]
    assert first["episode"].tolist() == list(range(5, 35)) and first["offset"].tolist() == list(range(30))
    second = chances[chances["episode"] > 34]
    assert second["episode"].iloc[0] == 73 and second["offset"].tolist() == list(range(len(second)))
    assert crash_chances(_run([9.0] * 10)).empty


def test_align_on_events():
    table = _run(np.arange(100.0))
    events = pd.DataFrame(dict(config=["c", "c"], seed=[0, 0], episode=[50, 2]))
    aligned = align_on_events(table, events, "return", before=3, after=2)
    first = aligned[aligned["event"] == 50]
    assert first["offset"].tolist() == [-3, -2, -1, 0, 1, 2]
    assert first["value"].tolist() == [47.0, 48.0, 49.0, 50.0, 51.0, 52.0]
    assert aligned[aligned["event"] == 2]["offset"].min() == -2  # clipped at the start of the run


def test_actor_steps_per_update():
    np.testing.assert_array_equal(actor_steps_per_update([500, 9, 32, 33]), [80, 5, 5, 10])
    np.testing.assert_array_equal(actor_steps_per_update([500, 9], A2CConfig(update_passes=3, batch_size=64)), [24, 3])


@pytest.mark.parametrize("config", [
    A2CConfig(episodes=12),
    A2CConfig(episodes=12, lr_schedule="linear", gae_lambda=0.9),
    A2CConfig(episodes=12, num_envs=2, rollout_steps=16, lr_schedule="linear", max_steps=3000),
], ids=["seed", "linear-lr", "rollouts"])
def test_train_with_snapshots_matches_one_call(config):
    history, snapshots = train_with_snapshots(config, seed=3, every=5)
    whole = train(config, seed=3)
    pd.testing.assert_frame_equal(history, whole.history)
    assert [s.episodes for s in snapshots] == sorted({5, 10, len(whole.history)} & set(range(1, len(whole.history) + 1)))
    final = agent_from_weights(snapshots[-1].weights)
    obs = np.random.RandomState(0).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_array_equal(final.probabilities(obs), whole.agent.probabilities(obs))
    if config.rollout_steps is None and config.lr_schedule == "constant":  # the snapshot is that of a shorter run
        first = train(config.replace(episodes=5), seed=3)
        np.testing.assert_array_equal(agent_from_weights(snapshots[0].weights).probabilities(obs),
                                      first.agent.probabilities(obs))


def test_exercise_checks(capsys):
    table = pd.concat([_run([300.0] * 40 + [9.0] * 40, seed=0), _run([300.0] * 20 + [9.0] * 60, seed=1)])
    assert check_earliest_collapse(table, 1, 20)
    assert not check_earliest_collapse(table, 0, 40)
    assert check_entropy_of(0.5, LN2)
    assert check_entropy_slope(0.9, float(-np.log(9) * 0.09))
    assert not check_entropy_slope(0.9, 0.2)
    assert not check_entropy_of(0.9, 0.5)
    assert "correct" in capsys.readouterr().out


def test_thinned_curves_smooth_then_keep_every_nth():
    table = pd.concat([_run(np.arange(10.0), seed=0), _run(np.zeros(10), seed=1)])
    thin = thinned_curves(table, "return", window=2, every=5)
    assert thin["episode"].tolist() == [4, 9, 4, 9]
    assert thin["return"].tolist() == [3.5, 8.5, 0.0, 0.0]
    with pytest.raises(ValueError):
        thinned_curves(table, "return", every=0)


def test_compact_png_is_a_small_palette_png():
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, ax = plt.subplots(figsize=(4, 3), dpi=72)
    rng = np.random.default_rng(0)
    for _ in range(10):
        ax.plot(rng.normal(size=500).cumsum(), lw=0.7, alpha=0.3)
    full = io.BytesIO()
    fig.savefig(full, format="png", bbox_inches="tight")
    data = compact_png(fig, colors=16)
    plt.close(fig)
    image = Image.open(io.BytesIO(data))
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and image.mode == "P"
    assert len(image.getcolors()) <= 16
    assert len(data) < len(full.getvalue())


def test_entropy_slope_matches_autograd():
    p = np.array([0.6, 0.82, 0.9, 0.99, 0.999])
    z = torch.tensor(np.log(p / (1 - p)), requires_grad=True)
    q = torch.sigmoid(z)
    entropy = -(q * torch.log(q) + (1 - q) * torch.log(1 - q))
    entropy.sum().backward()
    np.testing.assert_allclose(entropy_slope(p), z.grad.numpy(), rtol=1e-6)
    assert abs(entropy_slope(0.5)) < 1e-12
    with pytest.raises(ValueError):
        entropy_slope(1.0)


def test_actor_gradient_norms_per_minibatch():
    result = train(A2CConfig(episodes=3), seed=0)
    weights = result.agent.get_weights()
    episode = rollout_episode(make_env(seed=5), result.agent.act)
    table = actor_gradient_norms(weights, episode, A2CConfig(batch_size=8))
    assert table["start"].tolist() == list(range(0, episode.length, 8))
    assert table["steps"].sum() == episode.length
    # the first row by hand: both gradients of the first minibatch of 8 steps
    agent = agent_from_weights(weights, A2CConfig(implementation="torch"))
    obs, actions = torch.as_tensor(episode.obs[:8]), torch.as_tensor(episode.actions[:8])
    with torch.no_grad():
        adv = torch.as_tensor(discounted_returns(episode.rewards, 0.99)[:8], dtype=torch.float32)
        adv = adv - agent.critic(obs).squeeze(-1)

    def grad_norm(loss):
        grads = torch.autograd.grad(loss, list(agent.actor.parameters()))
        return float(torch.sqrt(sum((g ** 2).sum() for g in grads)))

    log_probs = torch.log(agent.actor(obs) + 1e-8)
    policy_loss = -(adv * log_probs.gather(1, actions[:, None]).squeeze(-1)).mean()
    assert table["policy_grad_norm"].iloc[0] == pytest.approx(grad_norm(policy_loss), rel=1e-5)
    probs = agent.actor(obs)
    log_probs = torch.log(probs + 1e-8)
    entropy = -(probs * log_probs).sum(-1).mean()
    assert table["entropy_grad_norm"].iloc[0] == pytest.approx(grad_norm(entropy), rel=1e-5)


def test_lecture_07_checkers_judge_without_giving_the_answer(capsys):
    from lecture_utils.exercises import check_log_probs, check_seeds_needed, check_switch_velocity
    from lecture_utils.stats import proportion_interval

    logits = np.array([0.0, -25.0], dtype=np.float32)
    probs = np.exp(logits) / np.exp(logits).sum()
    seed_way = float(np.log(probs[1] + np.float32(1e-8)))
    stable = float(logits[1] - np.log(np.exp(logits).sum()))
    assert check_log_probs(seed_way, stable)
    capsys.readouterr()
    assert not check_log_probs(-25.0, -18.4)  # swapped
    out = capsys.readouterr().out
    assert "18.4" not in out and "-25" not in out and out.count("not right yet") == 2

    grid = pd.DataFrame(dict(angle=[0.0] * 5 + [0.1] * 5, angular_velocity=list(np.linspace(-1, 1, 5)) * 2,
                             p_right=[0.0, 0.1, 0.3, 0.7, 1.0] + [1.0] * 5))
    crossing = float(np.interp(0.5, [0.0, 0.1, 0.3, 0.7, 1.0], np.linspace(-1, 1, 5)))
    assert check_switch_velocity(crossing + 0.1, grid)
    capsys.readouterr()
    assert not check_switch_velocity(crossing + 0.5, grid)
    out = capsys.readouterr().out
    assert "lower" in out and f"{crossing:.2f}" not in out

    needed = next(m for m in range(1, 100) if proportion_interval(m, m)[0] > 0.9)
    assert check_seeds_needed(needed)
    assert not check_seeds_needed(needed - 1) and not check_seeds_needed(needed + 1)
    out = capsys.readouterr().out
    assert str(needed) not in out.replace("correct", "")


def test_lecture_03_actor_loss_checker(capsys):
    from lecture_utils import TorchA2CAgent
    from lecture_utils.exercises import check_actor_loss, seed_actor_loss

    agent = TorchA2CAgent(A2CConfig(), 4, 2, seed=0)
    episode = rollout_episode(make_env(seed=0), agent.act)
    right = seed_actor_loss(agent, episode, 0.99, 8)
    assert check_actor_loss(right, agent, episode, 0.99)
    capsys.readouterr()
    assert not check_actor_loss(seed_actor_loss(agent, episode, 0.99, 32), agent, episode, 0.99)
    assert "set B = 8" in capsys.readouterr().out
    assert not check_actor_loss(right + 0.5, agent, episode, 0.99)
    assert f"{right:.3f}" not in capsys.readouterr().out
