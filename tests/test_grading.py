"""The graded exercise's checker (lecture 08): the reference passes, planted bugs fail with messages that name them,
and the grader's training loop is the package's own (torch) training run when given the reference losses."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lecture_utils import A2CConfig, train
from lecture_utils.errors import ConfigError
from lecture_utils.grading import (A2CBatch, GradeReport, StudentA2CAgent, check_losses, example_batch, grade,
                                   reference_a2c_losses, train_hidden_seeds)
from lecture_utils import grading
from tests.helpers import REPO


def _losses(actor, critic, batch, gamma, *, mask="terminated", sign=-1.0, detach_advantage=True, detach_target=True,
            reduction="mean", squeeze_critic=True):
    """A student's answer written independently of the package, with one planted bug chosen by the keywords."""
    values = critic(batch.obs).squeeze(-1)
    advantage = batch.returns - (values.detach() if detach_advantage else values)
    log_pi = torch.log(actor(batch.obs) + 1e-8).gather(1, batch.actions[:, None]).squeeze(-1)
    actor_loss = sign * (advantage * log_pi).mean()
    not_done = {"terminated": 1 - batch.terminated, "none": torch.ones_like(batch.terminated),
                "done": (1 - batch.terminated) * (1 - batch.truncated)}[mask]
    target = batch.rewards + gamma * not_done * critic(batch.next_obs).squeeze(-1)
    if detach_target:
        target = target.detach()
    prediction = values if squeeze_critic else critic(batch.obs)
    squared = (prediction - target) ** 2
    return actor_loss, squared.mean() if reduction == "mean" else squared.sum()


def test_the_reference_passes_the_gradient_check():
    check = check_losses(reference_a2c_losses)
    assert check.passed and check.problems == () and check.implemented


@pytest.mark.parametrize("answer", [
    lambda a, c, b, g: _losses(a, c, b, g),
    # log-probabilities from a Categorical (no 1e-8) and F.mse_loss on (B,) shapes: right, within the tolerance
    lambda a, c, b, g: (-((b.returns - c(b.obs).squeeze(-1).detach())
                          * torch.distributions.Categorical(probs=a(b.obs)).log_prob(b.actions)).mean(),
                        F.mse_loss(c(b.obs).squeeze(-1),
                                   (b.rewards + g * (1 - b.terminated) * c(b.next_obs).squeeze(-1)).detach())),
], ids=["independent", "categorical-and-mse"])
def test_right_answers_written_other_ways_pass(answer):
    assert check_losses(answer).passed


PLANTED = {
    "no mask": (dict(mask="none"), "missing (1 - terminated) mask"),
    "sign error": (dict(sign=1.0), "sign error in the actor loss"),
    "advantage not detached": (dict(detach_advantage=False), "advantage not detached"),
    "target not detached": (dict(detach_target=False), "TD target not held fixed"),
    "truncated as done": (dict(mask="done"), "truncation treated as termination"),
    "sum instead of mean": (dict(reduction="sum"), "the critic loss sums the squared errors"),
    "(B, 1) minus (B,)": (dict(squeeze_critic=False), "shapes in the critic loss"),
}


@pytest.mark.parametrize("name", PLANTED)
def test_a_planted_bug_fails_with_a_message_that_names_it(name):
    keywords, expected = PLANTED[name]
    check = check_losses(lambda a, c, b, g: _losses(a, c, b, g, **keywords))
    assert not check.passed
    assert len(check.problems) == 1, check.problems  # the bug, and nothing else
    assert check.problems[0].startswith(expected), check.problems[0]


def test_two_bugs_at_once_are_both_named():
    check = check_losses(lambda a, c, b, g: _losses(a, c, b, g, mask="none", sign=1.0))
    assert len(check.problems) == 2
    assert {p.split(":")[0] for p in check.problems} == {"sign error in the actor loss",
                                                         "missing (1 - terminated) mask"}


def test_messages_do_not_print_the_answer():
    check = check_losses(lambda a, c, b, g: _losses(a, c, b, g, mask="none", sign=1.0, detach_advantage=False))
    text = "\n".join(check.problems)
    assert "gather(1, batch.actions[:, None]).squeeze" not in text and "mse_loss(" not in text


def test_a_failed_check_does_not_train(capsys):
    report = grade(lambda a, c, b, g: _losses(a, c, b, g, mask="none"))
    assert not report.passed and report.seeds == ()
    out = capsys.readouterr().out
    assert "gradient check" in out and "FAIL" in out and "not run" in out and out.rstrip().endswith("grade: FAIL")


def test_the_skeleton_is_reported_as_not_implemented(capsys):
    def skeleton(actor, critic, batch, gamma):
        raise NotImplementedError("write the two losses")

    report = grade(skeleton)
    assert not report.passed and not report.check.implemented and report.seeds == ()
    assert capsys.readouterr().out.startswith("not implemented yet")


@pytest.mark.parametrize("answer, expected", [
    (lambda a, c, b, g: 1 / 0, "your function raised ZeroDivisionError"),
    (lambda a, c, b, g: _losses(a, c, b, g)[0], "your function returned Tensor"),
    (lambda a, c, b, g: (_losses(a, c, b, g)[0].item(), _losses(a, c, b, g)[1]), "actor_loss is a float"),
    (lambda a, c, b, g: (a(b.obs).sum(1), _losses(a, c, b, g)[1]), "actor_loss has shape"),
    (lambda a, c, b, g: (_losses(a, c, b, g)[0].detach(), _losses(a, c, b, g)[1]), "actor_loss carries no gradient"),
], ids=["raises", "one-value", "float", "not-scalar", "detached"])
def test_malformed_answers_are_explained(answer, expected):
    check = check_losses(answer)
    assert not check.passed and check.problems[0].startswith(expected), check.problems


def test_an_answer_that_steps_the_networks_is_refused():
    def steps(actor, critic, batch, gamma):
        with torch.no_grad():
            next(actor.parameters()).add_(1.0)
        return _losses(actor, critic, batch, gamma)

    assert check_losses(steps).problems[0].startswith("your function changed the networks' weights")


def test_variants_with_default_forms_are_the_reference():
    actor, critic, batch = example_batch(seed=1)
    got = grading._variant_losses(actor, critic, batch, 0.99, grading._ActorForm(), grading._CriticForm())
    want = reference_a2c_losses(actor, critic, batch, 0.99)
    assert all(torch.equal(g, w) for g, w in zip(got, want, strict=True))


def test_the_graders_training_is_the_packages_torch_training_bit_for_bit():
    # Seed 3's first 30 episodes include ones longer than a minibatch, one of them 33 steps (a last minibatch of
    # one row, where a matrix product may take another kernel): the advantages must still be the seed's.
    config = A2CConfig(implementation="torch", episodes=30)
    expected = train(config, seed=3)
    agent = StudentA2CAgent(config, 4, 2, 3, reference_a2c_losses)
    got = train(config, seed=3, agent=agent)
    lengths = expected.history["length"].to_numpy()
    assert (lengths > config.batch_size).any() and (lengths % config.batch_size == 1).any()
    assert got.history.equals(expected.history)
    assert all(np.array_equal(v, got.agent.get_weights()[k]) for k, v in expected.agent.get_weights().items())
    assert agent.episode_returns == expected.history["return"].tolist()


def test_the_student_agent_runs_only_the_seeds_update():
    with pytest.raises(ConfigError, match="entropy_coef"):
        StudentA2CAgent(A2CConfig(implementation="torch", entropy_coef=0.01), 4, 2, 0, reference_a2c_losses)


def test_training_stops_once_the_bar_is_met_and_the_report_prints_no_digits_of_the_run(monkeypatch):
    monkeypatch.setattr(grading, "TARGET_RETURN", 30.0)  # seed 3's first episodes average about 30 steps
    result, = train_hidden_seeds(reference_a2c_losses, seeds=[3], episodes=40)
    assert result.passed and result.first_reached is not None and result.episodes == result.first_reached + 1
    monkeypatch.setattr(grading, "TARGET_RETURN", 1000.0)  # more than CartPole's 500 steps: never met
    short, = train_hidden_seeds(reference_a2c_losses, seeds=[3], episodes=5)
    assert not short.passed and short.first_reached is None and short.episodes == 5
    report = GradeReport(check=check_losses(reference_a2c_losses), seeds=(result, short))
    assert str(report).splitlines() == [
        "gradient check (6 random minibatches with terminal and truncated steps): PASS",
        "hidden seed 1 of 2: rolling-20 return reaches 30 within 40 episodes: PASS",
        "hidden seed 2 of 2: rolling-20 return reaches 1000 within 5 episodes: FAIL",
        "grade: FAIL",
    ]


def test_a_loss_that_breaks_training_fails_its_seed_with_the_reason():
    def breaks(actor, critic, batch, gamma):
        if len(batch) > 1:
            raise RuntimeError("boom")
        return reference_a2c_losses(actor, critic, batch, gamma)

    result, = train_hidden_seeds(breaks, seeds=[0], episodes=3)
    assert not result.passed and result.error == "RuntimeError: boom"


def test_the_pass_critic_answers_rows_of_the_episode_and_evaluates_anything_else():
    _, critic, batch = example_batch(seed=2, size=40)
    pass_critic = grading._PassCritic(critic)
    pass_critic.start_pass(critic, batch.obs)
    with torch.no_grad():
        whole = critic(batch.obs)
        assert torch.equal(pass_critic(batch.obs[32:40]), whole[32:40])
        assert torch.equal(pass_critic(batch[5:9].obs), whole[5:9])
        other = batch.obs[3:7].clone() + 1.0
        assert torch.equal(pass_critic(other), critic(other))
        assert torch.equal(pass_critic(batch.obs[::2]), critic(batch.obs[::2]))  # not consecutive rows


def test_batches_slice_every_field():
    _, _, batch = example_batch(seed=0, size=10)
    part = batch[2:5]
    assert isinstance(part, A2CBatch) and len(part) == 3 and torch.equal(part.returns, batch.returns[2:5])
    assert torch.equal(replace(batch, terminated=torch.zeros(10))[2:5].terminated, torch.zeros(3))


def test_the_notebook_shows_neither_the_hidden_seeds_nor_run_digits():
    text = (REPO / "notebooks" / "08_graded_a2c_update.ipynb").read_text(encoding="utf-8")
    assert not any(str(seed) in text for seed in grading._hidden_seeds())
    cells = json.loads(text)["cells"]
    graded = [c for c in cells if c["cell_type"] == "code" and "reference_report = grade(" in "".join(c["source"])]
    assert len(graded) == 1
    printed = "".join("".join(o.get("text", [])) for o in graded[0]["outputs"])
    assert "grade: PASS" in printed.splitlines()  # the grader's verdict line (the lecture's own checks follow it)
