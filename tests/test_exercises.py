"""Every exercise checker of lectures 00-02 and 04-06, each with a right and a wrong answer: the verdict, and a hint
that never prints the answer. (Lectures 03 and 07: tests/test_diagnostics.py.)"""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from lecture_utils import (build_networks, discounted_returns, gae_advantages, load_snapshots, make_env,
                           rollout_episode, td_errors)
from lecture_utils.entropy import binary_entropy, entropy_slope
from lecture_utils.exercises import (check_angle_only, check_best_lambda, check_break_even_beta, check_buffer_count,
                                     check_centered, check_critic_fit, check_earliest_collapse, check_end_reasons,
                                     check_entropy_of, check_entropy_slope, check_gif, check_noise_prediction,
                                     check_parameter_counts, check_td_errors, check_untrained_baseline)
from lecture_utils.gae_analysis import check_gae, check_lambda_for_horizon
from lecture_utils.gradient_variance import ActorSnapshot, compare_estimators
from lecture_utils.rendering import gif_bytes, lean_controller


def _verdict(capsys):
    return capsys.readouterr().out


def _shown(value, out, digits=(1, 2, 3, 4)):
    """Whether ``value`` appears in ``out`` written to any of ``digits`` decimals (or as an integer)."""
    forms = {f"{value:.{d}f}" for d in digits} | ({str(int(value))} if float(value).is_integer() else set())
    return any(form in out for form in forms)


# -- lecture 00 ----------------------------------------------------------------------------------------------------
def test_lecture_00_angle_only(capsys):
    env = make_env(seed=2)
    lengths = [rollout_episode(env, lambda obs: int(obs[2] > 0)).length for _ in range(10)]
    right = float(np.mean(lengths))
    assert check_angle_only(right)
    assert "correct" in _verdict(capsys)
    assert not check_angle_only(right + 5)
    out = _verdict(capsys)
    assert "not yet" in out and "lower" in out and not _shown(right, out)
    if lengths[0] != right:  # the usual slip: a fresh environment, hence the same episode, every time
        assert not check_angle_only(lengths[0])
        assert "make the environment once" in _verdict(capsys)


def test_lecture_00_centered(capsys):
    def centering(obs):
        x, x_dot, theta, theta_dot = obs
        return int(theta + 0.5 * theta_dot + 0.1 * x + 0.5 * x_dot > 0)

    assert check_centered(centering)
    assert "correct" in _verdict(capsys)
    assert not check_centered(lean_controller)
    assert "drifts" in _verdict(capsys)
    assert not check_centered(lambda obs: 0)
    assert "ended after" in _verdict(capsys)


def _random_policy(seed):
    rng = np.random.default_rng(seed)
    return lambda obs: int(rng.integers(2))


def test_lecture_00_end_reasons(capsys):
    env = make_env(seed=0)
    policy = _random_policy(1)
    last = np.array([rollout_episode(env, policy).next_obs[-1] for _ in range(100)])
    angle = int((np.abs(last[:, 2]) > env.unwrapped.theta_threshold_radians).sum())
    assert angle != 50
    assert check_end_reasons(angle, 100 - angle, _random_policy(1))
    assert "correct" in _verdict(capsys)
    assert not check_end_reasons(100 - angle, angle, _random_policy(1))
    out = _verdict(capsys)
    assert "not yet" in out and str(angle) not in out
    assert not check_end_reasons(angle, 0, _random_policy(1)) or angle == 100
    assert "add up" in _verdict(capsys) or angle == 100


def test_lecture_00_gif(capsys):
    frames = np.zeros((50, 16, 16, 3), dtype=np.uint8)
    frames[:, 4:8, 4:8] = 200
    assert check_gif(gif_bytes(frames, fps=5.0))  # 50 frames of 0.2 s: 500 steps in real time
    assert "correct" in _verdict(capsys)
    assert not check_gif(gif_bytes(frames, fps=10.0))
    assert "plays 5.0 s" in _verdict(capsys)
    assert not check_gif(None)
    assert "not GIF bytes" in _verdict(capsys)


# -- lecture 01 ----------------------------------------------------------------------------------------------------
def test_lecture_01_parameter_counts(capsys):
    right = ((4 + 1) * 64 + (64 + 1) * 2, (4 + 1) * 128 + (128 + 1) * 1)
    assert check_parameter_counts(right)
    assert "correct" in _verdict(capsys)
    assert not check_parameter_counts((right[0] - 2, right[1]))  # biases of the last layer forgotten
    out = _verdict(capsys)
    assert "actor" in out and "critic" not in out and str(right[0]) not in out
    assert not check_parameter_counts((None, None))
    assert _verdict(capsys).count("not yet") == 2


def _critic_data():
    actor = build_networks(4, 2, seed=0)[0]
    env = make_env(seed=0)
    rng = np.random.RandomState(0)

    def policy(obs):
        with torch.no_grad():
            return int(rng.random_sample() < float(actor(torch.as_tensor(obs))[1]))

    episodes = [rollout_episode(env, policy) for _ in range(20)]
    X = torch.as_tensor(np.concatenate([ep.obs for ep in episodes]))
    return X, np.concatenate([discounted_returns(ep.rewards, 0.99) for ep in episodes])


def test_lecture_01_critic_fit(capsys):
    X, G = _critic_data()
    y = torch.as_tensor(G, dtype=torch.float32)
    fits = {}
    for slip in (False, True):
        critic = build_networks(4, 2, seed=0)[1]
        opt = torch.optim.Adam(critic.parameters(), lr=0.01)
        for _ in range(300):
            out = critic(X) if slip else critic(X).squeeze(-1)  # the slip: (B, 1) - (B,) broadcasts to (B, B)
            loss = ((out - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        fits[slip] = critic
    assert check_critic_fit(fits[False], X, G)
    assert "correct" in _verdict(capsys)
    assert not check_critic_fit(fits[True], X, G)
    assert "broadcasts" in _verdict(capsys)
    assert not check_critic_fit(build_networks(4, 2, seed=0)[1], X, G)
    assert "not yet" in _verdict(capsys)


# -- lectures 02a and 02b ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def late_actor():
    return ActorSnapshot.from_weights(load_snapshots("02 seed 1")[1].weights, "actor.")


def test_lecture_02_untrained_baseline(capsys, late_actor):
    from lecture_utils.gradient_variance import CriticSnapshot

    untrained = CriticSnapshot.from_critic(build_networks(4, 2, seed=0)[1])
    table = compare_estimators(late_actor, untrained, n_episodes=30, seed=1, lambdas=())[0]
    truth = float(table.set_index("estimator").loc["critic", "variance_reduction"])
    assert check_untrained_baseline(truth, late_actor, n_episodes=30)
    assert "correct" in _verdict(capsys)
    assert not check_untrained_baseline(20.0, late_actor, n_episodes=30)
    out = _verdict(capsys)
    assert "lower" in out and not _shown(truth, out)


def test_lecture_02_td_errors(capsys):
    rewards = np.ones(5)
    values, next_values = np.array([5.0, 4.0, 3.0, 2.0, 1.5]), np.array([4.0, 3.0, 2.0, 1.5, 0.7])
    terminated = np.array([False] * 4 + [True])
    right = td_errors(rewards, values, next_values, terminated, 0.99)[-3:]
    assert check_td_errors(right, rewards, values, next_values, terminated, 0.99)
    assert "correct" in _verdict(capsys)
    unmasked = (rewards + 0.99 * next_values - values)[-3:]
    assert not check_td_errors(unmasked, rewards, values, next_values, terminated, 0.99)
    out = _verdict(capsys)
    assert "(1 - terminated)" in out and not any(_shown(v, out) for v in right)
    assert not check_td_errors(right + [0.0, 0.5, 0.0], rewards, values, next_values, terminated, 0.99)
    assert "entries 1 " in _verdict(capsys)
    assert not check_td_errors(None, rewards, values, next_values, terminated, 0.99)


def test_lecture_02_noise_prediction(capsys):
    table = pd.DataFrame(dict(estimator=["reinforce", "td0"], bias_noise=[0.0, 18.9]))
    assert check_noise_prediction(18.9 / 2, table)
    assert "correct" in _verdict(capsys)
    assert not check_noise_prediction(18.9 / 4, table)  # 1/N instead of 1/sqrt(N)
    out = _verdict(capsys)
    assert "higher" in out and not _shown(18.9 / 2, out)


# -- lectures 04a (collapse, entropy) and 04b (buffer count) -------------------------------------------------------
def _runs(*returns_per_seed):
    return pd.concat([pd.DataFrame(dict(config="c", seed=seed, episode=np.arange(len(r)), length=np.asarray(r),
                                        **{"return": np.asarray(r, dtype=float)}))
                      for seed, r in enumerate(returns_per_seed)], ignore_index=True)


def test_lecture_04_collapse_checkers_hide_the_onset(capsys):
    table = _runs([300] * 40 + [9] * 40, [300] * 20 + [9] * 60)
    assert check_earliest_collapse(table, 1, 20)
    assert "correct" in _verdict(capsys)
    assert not check_earliest_collapse(table, 0, 40)
    out = _verdict(capsys)
    assert "not seed 0" in out and "20" not in out
    assert not check_earliest_collapse(table, 1, 25)
    out = _verdict(capsys)
    assert "right seed" in out and "20" not in out


def test_lecture_04_buffer_count(capsys):
    table = _runs([300] * 40 + [9] * 40, [300] * 20 + [9] * 60)
    collected = 300 * 20
    assert check_buffer_count(collected, collected, table)
    assert "correct" in _verdict(capsys)
    assert check_buffer_count(collected, 5000, table, capacity=5000)
    _verdict(capsys)
    assert not check_buffer_count(300 * 40, 300 * 40, table)  # the other seed's count
    out = _verdict(capsys)
    assert out.count("not yet") == 2 and "6000" not in out and "6,000" not in out
    assert not check_buffer_count(collected, 100_000, table)
    out = _verdict(capsys)
    assert "buffer's content" in out and "transitions collected" not in out


def test_lecture_04_entropy_of(capsys):
    assert check_entropy_of(0.95, float(binary_entropy(0.95)))
    assert "correct" in _verdict(capsys)
    assert not check_entropy_of(0.95, float(-np.log(0.95)))  # one action only
    out = _verdict(capsys)
    assert "not quite" in out and not _shown(float(binary_entropy(0.95)), out)


# -- lecture 05 ----------------------------------------------------------------------------------------------------
def test_lecture_05_entropy_slope(capsys):
    right = float(entropy_slope(0.9))
    assert check_entropy_slope(0.9, right)
    assert "correct" in _verdict(capsys)
    assert not check_entropy_slope(0.9, -right)
    out = _verdict(capsys)
    assert "mind the sign" in out and not _shown(right, out) and not _shown(-right, out.replace(f"{-right}", ""))


def test_lecture_05_break_even_beta(capsys):
    sizes = pd.DataFrame(dict(policy_grad=[1.37, 0.61, 7.96], entropy_grad=[0.19, 0.35, 0.27]))
    right = 0.61 / 0.35
    assert check_break_even_beta(right, sizes)
    assert "correct" in _verdict(capsys)
    assert not check_break_even_beta(0.35 / 0.61, sizes)  # the ratio upside down
    out = _verdict(capsys)
    assert "higher" in out and not _shown(right, out)


# -- lecture 06 ----------------------------------------------------------------------------------------------------
def test_lecture_06_gae(capsys):
    rewards, values, next_values = np.ones(4), np.array([3.0, 2.5, 2.0, 1.0]), np.array([2.5, 2.0, 1.0, 0.0])
    terminated = np.array([False, False, False, True])
    right = gae_advantages(rewards, values, next_values, terminated, 0.99, 0.95)
    assert check_gae(right, rewards, values, next_values, terminated, 0.99, 0.95)
    assert "correct" in _verdict(capsys)
    wrong = right.copy()
    wrong[1] += 0.3
    assert not check_gae(wrong, rewards, values, next_values, terminated, 0.99, 0.95)
    out = _verdict(capsys)
    assert "step 1" in out and "too high" in out and not any(_shown(v, out) for v in right)


def test_lecture_06_lambda_for_horizon(capsys):
    right = (1 - 1 / 20) / 0.99
    assert check_lambda_for_horizon(20, right)
    assert "correct" in _verdict(capsys)
    assert not check_lambda_for_horizon(20, 0.95)
    out = _verdict(capsys)
    assert "not yet" in out and not _shown(right, out)


def test_lecture_06_best_lambda(capsys):
    table = pd.DataFrame({"lambda": [0.0, 0.5, 0.9, 1.0], "variance": [1250.0, 1180.0, 3900.0, 52100.0],
                          "bias": [138.0, 129.0, 86.0, 6.6]})
    best = {n: float(table.loc[(table["bias"] ** 2 + table["variance"] / n).idxmin(), "lambda"]) for n in (1, 300)}
    assert best[1] != best[300]
    for n in (1, 300):
        assert check_best_lambda(n, best[n], table)
        assert "correct" in _verdict(capsys)
        assert not check_best_lambda(n, best[301 - n], table)  # the other N's winner
        out = _verdict(capsys)
        assert "not yet" in out and f"{best[n]:g}" not in out.replace(f"N = {n}", "")
    assert not check_best_lambda(1, 0.7, table)
    assert "not one of the table's" in _verdict(capsys)
    assert math.isclose(best[300], 1.0)


def test_check_step_p_values(capsys):
    import pandas as pd

    from lecture_utils.exercises import check_step_p_values, step_p_values

    summary = pd.DataFrame({"solved_at_end": [35, 32, 38], "seeds": [40, 40, 40]},
                           index=["+8 envs", "+ratio clip", "-entropy"])
    p_clip, p_bonus = step_p_values(summary)
    assert 0 < p_bonus < p_clip <= 1
    assert check_step_p_values(p_clip, p_bonus, summary)
    capsys.readouterr()
    assert not check_step_p_values(p_clip / 2, p_bonus, summary)
    out = capsys.readouterr().out
    assert f"{p_clip:.2f}" not in out and f"{p_clip:.3f}" not in out and "not yet" in out


def test_multiple_choice_checker_judges_every_option_without_naming_the_right_one(capsys):
    from lecture_utils.exercises import MULTIPLE_CHOICE, check_choice

    assert len({right for right, _, _ in MULTIPLE_CHOICE.values()}) > 1  # the right letters vary
    for question, (right, options, hints) in MULTIPLE_CHOICE.items():
        assert set(hints) == set(options) - {right}
        assert check_choice(question, right) and check_choice(question, f"({right.upper()})")
        for wrong in set(options) - {right}:
            capsys.readouterr()
            assert not check_choice(question, wrong)
            out = capsys.readouterr().out
            assert "not this one" in out and options[right] not in out
            assert f"({right})" not in out and f"option {right}" not in out and f"answer is {right}" not in out
        assert not check_choice(question, None) and not check_choice(question, "z")
