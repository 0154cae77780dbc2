"""Search random configurations for a case where the lockstep trainer and the single-seed trainer disagree.

``tests/test_lockstep.py`` checks ten chosen configurations. This script draws configurations at random over every
option of :class:`~lecture_utils.config.A2CConfig` (episodic and rollout, both critic targets, pausing, clipping,
widths down to one unit, minibatches of one row, no critic step, Acrobot and MountainCar through the general path, and
values that make training diverge) and seeds anywhere in ``[0, 2**32 - 1]``, and checks for each that seed ``s`` of
``train_seeds(config, seeds)`` is ``train(config, seed=s)``: the same per-episode table bit for bit and the same final
weights, or, where training diverges, the same :class:`~lecture_utils.errors.TrainingDiverged` message from both.

Usage: ``.venv/bin/python tools/fuzz_lockstep.py [--minutes 15] [--seed 1]`` (one core; most cases take seconds, a
PyTorch one with one-row minibatches a few minutes, and the search stops after the case running at the limit).
Prints each disagreement and a summary; exits 1 if there was any. The same ``--seed`` draws the same cases.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from lecture_utils import A2CConfig, train
from lecture_utils.errors import TrainingDiverged
from lecture_utils.lockstep import train_seeds

#: The values each field is drawn from (the first is the seed's where it has one). ``tests`` checks every field of
#: A2CConfig is here, so a new option cannot be left out of the search.
CHOICES: dict[str, list[Any]] = {
    "env_id": ["CartPole-v1"] * 6 + ["Acrobot-v1", "MountainCar-v0"],
    "episodes": [10, 30, 60],
    "gamma": [0.99, 1.0, 0.9, 0.5],
    "actor_lr": [1e-3, 3e-3, 0.05, 0.2],
    "critic_lr": [1e-3, 0.02],
    "actor_hidden": [16, 1, 3, 33],
    "critic_hidden": [64, 1, 7],
    "update_passes": [5, 1, 2],
    "batch_size": [32, 1, 5, 64, 1000],
    "critic_steps": [2, 0, 1, 3],
    "log_prob_eps": [1e-8, 0.0, 0.1],
    "entropy_coef": [0.0, 0.0, 0.01, 0.5],
    "max_grad_norm": [None, 0.5, 1e-3],
    "gae_lambda": [None, 0.0, 0.5, 0.95, 1.0],
    "max_steps": [None, None, 800, 1500, 4000],
    "lr_schedule": ["constant", "linear"],
    "stable_log_prob": [False, True],
    "normalize_advantages": [False, True],
    "num_envs": [1, 2, 5, 8],
    "rollout_steps": [None, 1, 3, 16, 32],
    "ratio_clip": [None, None, 0.2],
    "critic_target": ["td0", "lambda_return"],
    "freeze_at_return": [None, None, 20.0, 40.0],
    "implementation": ["numpy"] * 5 + ["torch"],
}


def draw_config(rng: random.Random) -> A2CConfig:
    """A random valid configuration: every field from :data:`CHOICES`, then the few combinations the configuration
    refuses mended (several environments need rollouts; the ratio clip needs ``stable_log_prob``)."""
    values = {name: rng.choice(options) for name, options in CHOICES.items()}
    if values["rollout_steps"] is None:
        values["num_envs"] = 1
    if values["ratio_clip"] is not None:
        values["stable_log_prob"] = True
    return A2CConfig(**values)


def draw_seeds(rng: random.Random) -> list[int]:
    """One to six distinct seeds, small ones or anywhere in NumPy's seed range."""
    count = rng.choice([1, 2, 3, 6])
    return rng.sample(range(2**32 - 1), count) if rng.random() < 0.5 else rng.sample(range(50), count)


def disagreement(config: A2CConfig, seeds: list[int]) -> str | None:
    """None if every seed of ``train_seeds(config, seeds)`` equals its own ``train`` run; else what differs."""
    try:
        results = train_seeds(config, seeds)
    except TrainingDiverged as block_error:
        for seed in seeds:  # the block stops at its first diverging seed: that seed's own run must say the same
            try:
                train(config, seed=seed)
            except TrainingDiverged as single_error:
                if str(single_error) == str(block_error):
                    return None
        return f"the block raised {block_error!s} and no single run raised the same"
    for result, seed in zip(results, seeds, strict=True):
        try:
            single = train(config, seed=seed)
        except TrainingDiverged as error:
            return f"seed {seed}: the single run diverged ({error}) and the block did not"
        try:
            pd.testing.assert_frame_equal(result.history, single.history, check_exact=True)
        except AssertionError as error:
            return f"seed {seed}: the per-episode tables differ: {str(error).splitlines()[0]}"
        ours, theirs = result.agent.get_weights(), single.agent.get_weights()
        if ours.keys() != theirs.keys() or not all(np.array_equal(ours[k], theirs[k]) for k in ours):
            return f"seed {seed}: the final weights differ"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="how long to search (default 15)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the draws (default 1)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # Gymnasium's notes on old environment versions
    rng = random.Random(args.seed)
    start, cases, found = time.perf_counter(), 0, 0
    while time.perf_counter() - start < 60 * args.minutes:
        config, seeds = draw_config(rng), draw_seeds(rng)
        cases += 1
        problem = disagreement(config, seeds)
        if problem is not None:
            found += 1
            changes = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
                       if getattr(config, f.name) != f.default}
            print(f"DISAGREE seeds {seeds}, A2CConfig(**{changes}): {problem}", flush=True)
    print(f"{cases} random configurations in {time.perf_counter() - start:.0f} s: {found} disagreements")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
