"""Race to solve CartPole-v1: the package's recommended recipe (PPO-style: its ratio clip is PPO's, lecture 07) against
Stable-Baselines3's A2C, same machine, same run; so a PPO-style learner against an A2C, not A2C against A2C.

For each seed, both learners train until the mean return of the last 100 finished training episodes first reaches
475 (CartPole-v1's "solved" threshold); we record the environment steps and the wall-clock seconds that took.
Stable-Baselines3 runs with the RL Baselines3 Zoo hyperparameters for CartPole-v1 (A2C, 8 environments,
``ent_coef`` 0, every other setting at SB3's default), capped at the zoo's 500,000 steps. Both use one thread.

Usage: python benchmarks/solve_race.py [--seeds N] [--out benchmarks/solve_race.md]
(needs requirements-bench.txt: ``make bench`` installs it).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from collections import deque
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402

from lecture_utils import train  # noqa: E402
from lecture_utils.atomic import atomic_write_text  # noqa: E402
from lecture_utils.experiments import RECOMMENDED_CONFIG  # noqa: E402
from lecture_utils.stats import SOLVED_THRESHOLD as SOLVED, steps_to_threshold  # noqa: E402
SB3_STEP_CAP = 500_000


def race_package(seed: int) -> tuple[int | None, float | None]:
    """Steps and seconds until the rolling-100 training return first reaches 475 (None: not within the budget).

    The steps are those the trainer had taken when it logged the solving episode: with several environments, every
    environment's steps up to the end of that rollout (as SB3's ``num_timesteps``), not just the finished episodes'.
    """
    stamps: list[tuple[float, int]] = []
    start = time.perf_counter()
    # Called after the update that follows each finished episode, with the steps taken so far: with several
    # environments every environment's steps up to the end of that rollout (as SB3's ``num_timesteps``).
    history = train(RECOMMENDED_CONFIG, seed=seed,
                    on_episode=lambda _index, _agent, steps: stamps.append((time.perf_counter(), steps))).history
    reached = steps_to_threshold(history.assign(config="recommended", seed=seed), SOLVED).iloc[0]
    if np.isnan(reached["episode"]):
        return None, None
    stamp, steps_taken = stamps[int(reached["episode"])]
    return steps_taken, stamp - start


def race_sb3(seed: int) -> tuple[int | None, float | None]:
    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    class StopWhenSolved(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.returns: deque[float] = deque(maxlen=100)
            self.solved_at: tuple[int, float] | None = None

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.returns.append(info["episode"]["r"])
            if len(self.returns) == 100 and np.mean(self.returns) >= SOLVED:
                self.solved_at = (self.num_timesteps, time.perf_counter() - start)
                return False
            return True

    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    model = A2C("MlpPolicy", env, ent_coef=0.0, seed=seed, device="cpu", verbose=0)
    callback = StopWhenSolved()
    start = time.perf_counter()
    model.learn(total_timesteps=SB3_STEP_CAP, callback=callback)
    return callback.solved_at if callback.solved_at else (None, None)


def ablation_lines(probe_steps: int = 50_000, repeats: int = 3) -> list[str]:
    """Per rung of the ablation: solve counts and median steps to solve from ``data/ablation`` (10 seeds), and the
    seconds that takes at the rung's own speed, measured here on a ``probe_steps``-step run of seed 0 (the fastest
    of ``repeats``: one 2-second run swings by a quarter with whatever else the machine does)."""
    from lecture_utils import load_experiment
    from lecture_utils.experiments import ablation_ladder
    from lecture_utils.stats import solve_summary

    summary = solve_summary(load_experiment("ablation")).set_index("config")
    lines = ["", "## The ablation rungs", "",
             f"Solve counts and median steps from `data/ablation` (10 seeds, 300,000 steps each); speed measured now on "
             f"a {probe_steps:,}-step run of seed 0 (fastest of {repeats}); seconds to solve = median steps / that speed.", "",
             "| rung | solved at end (of 10) | ever reached 475 | median steps to 475 | env steps/s | ~seconds to 475 |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, config in ablation_ladder().items():
        speed = 0.0
        for _ in range(repeats):
            start = time.perf_counter()
            history = train(config.replace(max_steps=probe_steps), seed=0).history
            speed = max(speed, history["length"].sum() / (time.perf_counter() - start))
        row = summary.loc[name]
        steps = row["median_steps_to_solve"]
        seconds = "-" if np.isnan(steps) else f"{steps / speed:.1f}"
        steps_text = "-" if np.isnan(steps) else f"{steps:,.0f}"
        lines.append(f"| {name} | {int(row['solved_at_end'])} | {int(row['ever_solved'])} | {steps_text} | "
                     f"{speed:,.0f} | {seconds} |")
        print(lines[-1], flush=True)
    return lines


def fmt(value: float | None, pattern: str) -> str:
    return "not solved" if value is None else pattern.format(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/solve_race.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for seed in range(args.seeds):
        ours = race_package(seed)
        theirs = race_sb3(seed)
        rows.append((seed, *ours, *theirs))
        print(f"seed {seed}: package {fmt(ours[0], '{:,}')} steps / {fmt(ours[1], '{:.1f}')} s;  "
              f"SB3 {fmt(theirs[0], '{:,}')} steps / {fmt(theirs[1], '{:.1f}')} s", flush=True)

    def median(column: int) -> float | None:
        values = [float(value) for value in (r[column] for r in rows) if value is not None]
        return float(np.median(values)) if len(values) == len(rows) else None

    lines = [
        "# Race to solve CartPole-v1 (rolling-100 training return >= 475)",
        "",
        f"Made by `python benchmarks/solve_race.py --seeds {args.seeds}` on {dt.date.today().isoformat()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, one thread per learner, "
        f"Python {platform.python_version()}, torch {torch.__version__}.",
        "",
        f"Package: `RECOMMENDED_CONFIG`, the PPO-style recipe of lecture 07 ({RECOMMENDED_CONFIG.changes_from_seed()}): "
        "a PPO-style learner against an A2C, not A2C against A2C. Its seconds are `train()`'s on one core until the "
        "solving episode's update. "
        f"Stable-Baselines3: A2C, zoo hyperparameters (8 envs, ent_coef 0), capped at {SB3_STEP_CAP:,} steps.",
        "",
        "| seed | package steps | package s | SB3 steps | SB3 s |",
        "|---:|---:|---:|---:|---:|",
    ]
    for seed, ps, pt, ss, st in rows:
        lines.append(f"| {seed} | {fmt(ps, '{:,}')} | {fmt(pt, '{:.1f}')} | {fmt(ss, '{:,}')} | {fmt(st, '{:.1f}')} |")
    medians = [median(c) for c in (1, 2, 3, 4)]
    lines.append("| median | " + " | ".join(fmt(m, "{:,.0f}" if i % 2 == 0 else "{:.1f}") for i, m in enumerate(medians)) + " |")
    steps_p, time_p, steps_s, time_s = medians
    if steps_p is not None and time_p is not None and steps_s is not None and time_s is not None:
        lines += ["", f"Package / SB3: {steps_p / steps_s:.2f}x the environment steps, "
                      f"{time_p / time_s:.2f}x the wall-clock time (medians)."]
    lines += ablation_lines()
    text = "\n".join(lines) + "\n"
    atomic_write_text(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
