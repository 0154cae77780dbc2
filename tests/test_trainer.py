import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lecture_utils import EPISODE_COLUMNS, A2CConfig, ConfigError, evaluate, make_agent, make_env, train
from lecture_utils.errors import TrainingDiverged
from lecture_utils.trainer import progress_line

from .helpers import SEED_DIR


@pytest.mark.parametrize("implementation", ["numpy", "torch"])
def test_same_seed_same_dataframe(implementation):
    config = A2CConfig(episodes=40, implementation=implementation)
    a, b = train(config, seed=13).history, train(config, seed=13).history
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert list(a.columns) == EPISODE_COLUMNS and len(a) == 40
    assert not a.equals(train(config, seed=14).history)


def test_history_values_are_consistent():
    h = train(A2CConfig(episodes=30), seed=2).history
    assert (h["return"] == h["length"]).all()  # CartPole pays 1 per step
    assert h["episode"].tolist() == list(range(30))
    assert ((h["entropy"] > 0) & (h["entropy"] <= np.log(2) + 1e-9)).all()
    assert (h[["actor_grad_norm", "critic_grad_norm", "advantage_std"]] >= 0).all().all()


@pytest.mark.parametrize("seed", [4, 21])
def test_reproduces_seed_reference_script(seed):
    """The torch implementation plays exactly the seed script's episodes; the numpy one agrees on this stretch."""
    script = SEED_DIR / "seed_reference.py"
    if not script.exists():
        pytest.skip(f"the seed's reference script is not at {script}")
    episodes = 50
    out = subprocess.run([sys.executable, str(script), str(seed), str(episodes)], capture_output=True, text=True,
                         check=True)
    summary = json.loads(out.stdout)
    for implementation in ("torch", "numpy"):
        result = train(A2CConfig(episodes=episodes, implementation=implementation), seed=seed)
        assert int(result.history["length"].sum()) == summary["env_steps"], implementation
        assert result.history["return"].mean() == pytest.approx(summary["curve"][0], abs=1e-9)
    score = evaluate(result.agent, result.env, 100)
    assert score.mean == pytest.approx(summary["final_score"], abs=1e-9)


def test_continue_training_and_greedy_eval():
    first = train(A2CConfig(episodes=10), seed=0)
    more = train(A2CConfig(episodes=5), seed=0, agent=first.agent, env=first.env)
    assert len(more.history) == 5
    greedy = evaluate(more.agent, more.env, 3, greedy=True)
    assert greedy.returns.shape == (3,) and "over 3 episodes" in str(greedy)


def test_progress_lines():
    lines = []
    train(A2CConfig(episodes=11), seed=0, log_every=5, log=lines.append)
    assert len(lines) == 2 and lines[0].startswith("episode     5")


ROLLOUTS = A2CConfig(episodes=9, num_envs=2, rollout_steps=8)


@pytest.mark.parametrize("config", [A2CConfig(episodes=9), A2CConfig(episodes=9, lr_schedule="linear", max_steps=400),
                                    ROLLOUTS, ROLLOUTS.replace(gae_lambda=0.9, lr_schedule="linear")],
                         ids=["seed", "episodic-linear-lr", "rollouts", "rollouts-gae-linear-lr"])
def test_one_contract_for_every_configuration(config):
    calls, lines = [], []
    result = train(config, seed=2, log_every=4, log=lines.append,
                   on_episode=lambda index, agent, steps: calls.append((index, agent, steps)))
    history = result.history
    assert list(history.columns) == EPISODE_COLUMNS
    assert [c[0] for c in calls] == list(range(len(history)))  # once per row, after it
    assert all(c[1] is result.agent for c in calls)
    steps = [c[2] for c in calls]
    assert steps == sorted(steps) and steps[-1] >= history["length"].sum()
    if config.rollout_steps is None:  # episodic: exactly the finished episodes' steps
        assert steps == history["length"].cumsum().tolist()
    # The same logging convention: after every 4th episode, over the last 4 rows, the current one included.
    assert [line.split()[1] for line in lines] == [str(n) for n in range(4, len(history) + 1, 4)]
    assert lines[0] == progress_line(4, {k: history[k].tolist()[:4] for k in history.columns}, 4)


def test_a_given_agent_with_a_rollout_config_trains_as_a_fresh_one():
    # The rollouts' implicit lambda = 1 belongs to the configuration, not to how train() made the agent.
    fresh = train(ROLLOUTS, seed=5)
    given = train(ROLLOUTS, seed=5, agent=make_agent(ROLLOUTS, 4, 2, 5))
    pd.testing.assert_frame_equal(fresh.history, given.history)


def test_env_with_a_rollout_config_is_refused():
    with pytest.raises(ConfigError, match="leave env unset"):
        train(ROLLOUTS, seed=0, env=make_env(seed=0))


@pytest.mark.parametrize("options, name", [(dict(actor_lr=1e10, critic_lr=1e10), "--actor-lr"),
                                           (dict(entropy_coef=1e30), "--entropy-coef"),
                                           (dict(actor_lr=1e10, critic_lr=1e10, num_envs=2, rollout_steps=8), "--critic-lr")])
def test_a_diverging_run_stops_at_the_first_non_finite_number(options, name, recwarn):
    with pytest.raises(TrainingDiverged) as info:
        train(A2CConfig(episodes=200, **options), seed=3)
    message = str(info.value)
    assert message.startswith("seed 3: training diverged") and name in message and "\n" not in message
    assert "--stable-log-prob" not in message  # that hint is for log_prob_eps = 0 alone
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


#: Seed 4 of this configuration (no epsilon inside log pi, a large actor step) reaches log 0 = -inf at episode 14.
LOG_OF_ZERO = A2CConfig(episodes=30, log_prob_eps=0.0, actor_lr=0.2)


def test_a_run_diverging_through_log_of_zero_is_told_of_the_stable_log_prob():
    with pytest.raises(TrainingDiverged, match=r"^seed 4: .*after episode 14: .*--stable-log-prob"):
        train(LOG_OF_ZERO, seed=4)
    train(LOG_OF_ZERO.replace(stable_log_prob=True), seed=4)  # the fix the message names: no divergence


#: Runs whose learning pauses and then resumes: seed 6 episodic pauses after episode 113 and learns again from 197;
#: seed 4 from rollouts pauses, resumes and pauses again.
PAUSE_AND_RESUME = [(A2CConfig(episodes=260, freeze_at_return=99.0), 6),
                    (A2CConfig(episodes=260, num_envs=4, rollout_steps=16, gae_lambda=0.95, freeze_at_return=62.0), 4)]


@pytest.mark.parametrize(("config", "seed"), PAUSE_AND_RESUME, ids=["episodic", "rollouts"])
def test_freeze_at_return_pauses_learning_exactly_while_the_last_100_returns_reach_it(config, seed):
    weights_after, steps_after = [], []

    def record(index, agent, steps):
        weights_after.append(agent.get_weights())
        steps_after.append(steps)

    history = train(config, seed=seed, on_episode=record).history
    update_columns = ["actor_loss", "critic_loss", "actor_grad_norm", "critic_grad_norm", "advantage_std",
                      "actor_update_norm", "critic_update_norm"]
    paused = history[update_columns].isna().all(axis=1).to_numpy()
    assert not (history[update_columns].isna().any(axis=1).to_numpy() & ~paused).any()  # all NaN or none
    assert np.count_nonzero(np.diff(paused.astype(int))) >= 2, "the test needs a run that pauses and resumes"
    returns = history["return"].to_numpy()
    # The decision is taken before each episode (episodic) or rollout, from the rows recorded by then: a rollout's
    # rows share the steps count of its end, and the rows before its first one are those recorded before it began.
    first_row = {}
    for row, steps in enumerate(steps_after):
        first_row.setdefault(steps, row)
    for row, steps in enumerate(steps_after):
        before = row if config.rollout_steps is None else first_row[steps]
        expected = before >= 100 and returns[before - 100:before].mean() >= config.freeze_at_return
        assert paused[row] == expected, f"row {row}"
    # Nothing moves while paused.
    for row in np.flatnonzero(paused):
        assert all(np.array_equal(weights_after[row][k], weights_after[row - 1][k]) for k in weights_after[row])
    assert len(history) == config.episodes


def test_freeze_at_return_off_by_default_and_validated():
    assert A2CConfig().freeze_at_return is None
    for bad in (float("nan"), float("inf"), True, "500"):
        with pytest.raises(ConfigError, match="--freeze-at-return"):
            A2CConfig(freeze_at_return=bad)
