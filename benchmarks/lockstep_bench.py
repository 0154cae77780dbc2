"""Benchmark the lockstep trainer (``lecture_utils.lockstep.train_seeds``) against one process per seed and the
seed script (``make bench`` runs it after ``bench.py``).

Usage: python benchmarks/lockstep_bench.py [--quick] [--out benchmarks/results.md]

The report becomes the last section of ``--out`` (``bench.py``'s report, which ``make bench`` writes first): everything
from the line ``<!-- lockstep -->`` on is replaced, or the section is appended.

Every figure in the report comes from this run, on this machine:

(a) **The seed's configuration**, S seeds x E episodes: ``train_seeds`` in blocks on every core, against one
    ``train()`` per seed on every core (joblib over ``run_one``; ``run_sweep`` and ``make data`` train episodic
    configurations this way, since lockstep does not pay for them), against ``seed_reference.py`` (one run of one
    seed, its own timer; the rate is what compares, its trajectories part from ours after a few hundred episodes).
(b) **The recommended configuration** (8 environments x 32-step rollouts, PPO-style clip), S seeds x N steps: lockstep
    blocks on every core (``run_sweep``, as ``make data``) against one ``train()`` per seed on every core (on a
    subset of the seeds; steps/s compares).
(c) **Scaling**: one process, one core, ``train_seeds`` of the recommended configuration for S = 1, 4, 16, 32, 64 seeds
    (a shorter budget each): aggregate env steps/s, and the peak resident memory of the process.

Steps/s always counts every environment step of every seed, updates included (wall clock of the whole call).
Each measurement runs in a fresh single-threaded subprocess per worker.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench import SEED_SCRIPT, SINGLE_THREAD_ENV, git_state, machine_lines  # noqa: E402

DEFAULT_OUT = REPO / "benchmarks" / "results.md"
MARKER = "<!-- lockstep -->"


# -- workers (run in subprocesses) -------------------------------------------------------------------------------------
def _setup() -> None:
    for name, value in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(name, value)
    import torch

    torch.set_num_threads(1)


def _config(kind: str, budget: int) -> Any:
    from lecture_utils import A2CConfig
    from lecture_utils.experiments import RECOMMENDED_CONFIG

    return A2CConfig(episodes=budget) if kind == "seed" else RECOMMENDED_CONFIG.replace(max_steps=budget)


def _lockstep_block(config: Any, seeds: list[int]) -> Any:
    import pandas as pd

    from lecture_utils.lockstep import train_seeds

    return pd.concat([r.history.assign(seed=r.seed) for r in train_seeds(config, seeds)])


def worker_sweep(kind: str, budget: int, seeds: list[int], trainer: str) -> dict[str, Any]:
    """Every seed on every core: ``lockstep`` (``train_seeds`` on one block of seeds per core), ``sweep``
    (``run_sweep``, as ``make data`` trains: lockstep blocks for rollout configurations, seed by seed for episodic
    ones) or ``single`` (one train() per seed)."""
    _setup()
    from joblib import Parallel, delayed

    from lecture_utils.sweep import RunSpec, run_one, run_sweep

    config = _config(kind, budget)
    start = time.perf_counter()
    if trainer == "lockstep":
        import pandas as pd

        cores = len(os.sched_getaffinity(0))
        blocks = [seeds[k * len(seeds) // cores:(k + 1) * len(seeds) // cores] for k in range(cores)]
        table = pd.concat(Parallel(n_jobs=cores)(delayed(_lockstep_block)(config, b) for b in blocks if b))
    elif trainer == "sweep":
        table = run_sweep({"c": config}, seeds, n_jobs=-1)
    else:
        import pandas as pd

        table = pd.concat(Parallel(n_jobs=-1)(delayed(run_one)(RunSpec("c", config, s)) for s in seeds))
    seconds = time.perf_counter() - start
    lengths = table.groupby("seed")["length"].sum()
    steps = int(lengths.sum()) if kind == "seed" else len(seeds) * _rollout_steps(config)
    return {"seconds": seconds, "env_steps": steps, "lengths": [int(x) for x in lengths]}


def _rollout_steps(config: Any) -> int:
    """Environment steps a rollout run takes: whole rollouts until the budget is reached."""
    per_rollout = config.num_envs * config.rollout_steps
    return -(-config.max_steps // per_rollout) * per_rollout


def worker_scaling(budget: int, n_seeds: int) -> dict[str, Any]:
    _setup()
    from lecture_utils.lockstep import train_seeds

    config = _config("recommended", budget)
    start = time.perf_counter()
    train_seeds(config, list(range(n_seeds)))
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "env_steps": n_seeds * _rollout_steps(config), "peak_rss_mib": peak_kib / 1024}


def _run_worker(*args: str, timeout: float = 7200) -> Any:
    env = {**os.environ, **SINGLE_THREAD_ENV}
    done = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"worker {args} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _seed_script(seed: int, episodes: int) -> dict[str, Any]:
    env = {**os.environ, **SINGLE_THREAD_ENV}
    done = subprocess.run([sys.executable, str(SEED_SCRIPT), str(seed), str(episodes)], capture_output=True,
                          text=True, env=env, timeout=7200, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"seed script failed: {done.stderr.strip()[-2000:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return {"env_steps": int(summary["env_steps"]), "steps_per_s": float(summary["steps_per_s"])}


def data_workload(data_dir: Path = REPO / "data") -> dict[str, int]:
    """Env steps in the stored data sets, split by the trainer their sidecars record for each configuration:
    ``{"episodic": ..., "rollout": ...}`` (``train`` seed by seed, ``train_seeds`` in lockstep). What ``make data``
    trains, sized from its own output."""
    import pandas as pd

    steps = {"episodic": 0, "rollout": 0}
    for sidecar in sorted(data_dir.glob("*.json")):
        table_path = sidecar.with_suffix("").with_suffix(".csv.gz")
        trainers = json.loads(sidecar.read_text()).get("trainer")
        if not table_path.exists() or not isinstance(trainers, dict):
            continue  # weights, not training tables
        table = pd.read_csv(table_path, usecols=["config", "length"])
        for config, length in table.groupby("config")["length"].sum().items():
            kind = "rollout" if str(trainers.get(str(config), "")).endswith("train_seeds") else "episodic"
            steps[kind] += int(length)
    return steps


# -- the report ---------------------------------------------------------------------------------------------------------
def _rate(steps: float, seconds: float) -> str:
    return f"{steps / seconds:,.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small budgets (a check that it runs, not figures)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"report file (default {DEFAULT_OUT.relative_to(REPO)}; with --quick, none)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "sweep":
            result = worker_sweep(rest[0], int(rest[1]), [int(s) for s in rest[2].split(",")], rest[3])
        else:
            result = worker_scaling(int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return 0

    a_seeds, a_episodes = (list(range(4)), 200) if args.quick else (list(range(10)), 2000)
    b_seeds, b_steps = (list(range(4)), 20_000) if args.quick else (list(range(32)), 300_000)
    b_single_seeds = b_seeds[:2] if args.quick else b_seeds[:8]
    scaling_steps = 5_000 if args.quick else 30_000
    seed_script_runs = [(0, 100)] if args.quick else [(0, 500), (1, 500)]
    started = time.perf_counter()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [MARKER, "", "# Many seeds in lockstep", "",
             f"Generated by `python benchmarks/lockstep_bench.py{' --quick' if args.quick else ''}` (the second step of "
             "`make bench`) "
             f"on {dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()}, package at "
             f"{git_state()}. Written by the script; do not edit.", "", "## Machine (lockstep run)", "", *machine_lines(), ""]
    cores = len(os.sched_getaffinity(0))

    # (a) the seed's configuration
    seed_join = ",".join(map(str, a_seeds))
    lock_a = _run_worker("sweep", "seed", str(a_episodes), seed_join, "lockstep")
    single_a = _run_worker("sweep", "seed", str(a_episodes), seed_join, "single")
    script = [_seed_script(s, e) for s, e in seed_script_runs]
    script_rate = sum(r["env_steps"] for r in script) / sum(r["env_steps"] / r["steps_per_s"] for r in script)
    same = lock_a["lengths"] == single_a["lengths"]
    lines += [f"## (a) The seed's configuration: {len(a_seeds)} seeds x {a_episodes} episodes, {cores} cores", "",
              "| trainer | wall s | env steps | env steps/s | vs seed script |", "|---|---:|---:|---:|---:|",
              f"| lockstep blocks (`train_seeds`, one block per core) | {lock_a['seconds']:.1f} | {lock_a['env_steps']:,} | "
              f"{_rate(lock_a['env_steps'], lock_a['seconds'])} | "
              f"{lock_a['env_steps'] / lock_a['seconds'] / script_rate:.1f}x |",
              f"| one `train()` per seed, every core (what `run_sweep` and `make data` do for episodic "
              f"configurations) | {single_a['seconds']:.1f} | {single_a['env_steps']:,} | "
              f"{_rate(single_a['env_steps'], single_a['seconds'])} | "
              f"{single_a['env_steps'] / single_a['seconds'] / script_rate:.1f}x |",
              f"| `seed_reference.py`, one core (seeds {', '.join(f'{s} x {e} ep' for s, e in seed_script_runs)}) | | "
              f"{sum(r['env_steps'] for r in script):,} | {script_rate:,.0f} | 1.0x |", "",
              f"Both package trainers took the same env steps seed for seed: {'yes' if same else 'NO'} (lockstep is "
              "exact). The seed script runs fewer episodes here (its rate, not its time, compares: at its rate the "
              f"{len(a_seeds)} x {a_episodes} runs would take about "
              f"{lock_a['env_steps'] / script_rate / 60:.0f} min on one core).", ""]

    # (b) the recommended configuration
    lock_b = _run_worker("sweep", "recommended", str(b_steps), ",".join(map(str, b_seeds)), "sweep")
    single_b = _run_worker("sweep", "recommended", str(b_steps), ",".join(map(str, b_single_seeds)), "single")
    gain_b = (lock_b["env_steps"] / lock_b["seconds"]) / (single_b["env_steps"] / single_b["seconds"])
    lines += [f"## (b) The recommended configuration: {len(b_seeds)} seeds x {b_steps:,} steps, {cores} cores", "",
              "| trainer | seeds | wall s | env steps | env steps/s |", "|---|---:|---:|---:|---:|",
              f"| lockstep blocks (`run_sweep`, as `make data`) | {len(b_seeds)} | {lock_b['seconds']:.1f} | "
              f"{lock_b['env_steps']:,} | "
              f"{_rate(lock_b['env_steps'], lock_b['seconds'])} |",
              f"| one `train()` per seed, every core | {len(b_single_seeds)} | {single_b['seconds']:.1f} | "
              f"{single_b['env_steps']:,} | {_rate(single_b['env_steps'], single_b['seconds'])} |", "",
              f"Lockstep / one process per seed: **{gain_b:.1f}x** "
              "the env steps/s. The seed script has no such configuration.", ""]

    # (c) scaling
    lines += [f"## (c) Scaling: `train_seeds`, recommended configuration, {scaling_steps:,} steps per seed, one core",
              "", "| seeds S | wall s | env steps/s | peak RSS MiB |", "|---:|---:|---:|---:|"]
    scaling = {}
    for n_seeds in (1, 4, 16, 32, 64):
        # Best of two runs, each in a fresh process: one run alone is at the mercy of the host's noisy spells.
        runs = [_run_worker("scaling", str(scaling_steps), str(n_seeds)) for _ in range(2)]
        scaling[n_seeds] = r = {**min(runs, key=lambda run: run["seconds"]),
                                "peak_rss_mib": max(run["peak_rss_mib"] for run in runs)}
        lines.append(f"| {n_seeds} | {r['seconds']:.1f} | {_rate(r['env_steps'], r['seconds'])} | "
                     f"{r['peak_rss_mib']:.0f} |")
    lines += ["", "Best of two runs per S, each in a fresh process; peak RSS is the larger of the two."]
    if not args.quick:  # the targets are set for the full budgets
        rate_b = lock_b["env_steps"] / lock_b["seconds"]
        fastest_a = min(lock_a["seconds"], single_a["seconds"])

        def met(ok: bool) -> str:
            return "yes" if ok else "**no**"

        rate_a = lock_a["env_steps"] / fastest_a
        workload = data_workload()
        projected = workload["episodic"] / (single_a["env_steps"] / single_a["seconds"]) + workload["rollout"] / rate_b
        total = workload["episodic"] + workload["rollout"]
        lines += ["", "## Against the targets of the lockstep issue (16)", "",
                  f"Each target as the aggregate rate it needs on {cores} cores, updates included, against the rate "
                  "measured above.", "",
                  "| target | needs (env steps/s) | measured in this run | rate measured | needed / measured | met |",
                  "|---|---:|---|---:|---:|---|",
                  f"| rollout configuration, >= 200,000 env steps/s on {cores} cores | 200,000 | {rate_b:,.0f} (b) | "
                  f"{rate_b:,.0f} | {200_000 / rate_b:.2f}x | {met(rate_b >= 200_000)} |",
                  f"| seed configuration, {len(a_seeds)} seeds x {a_episodes} episodes, <= 10 s | "
                  f"{lock_a['env_steps'] / 10:,.0f} | {fastest_a:.1f} s (a, the faster package row) | {rate_a:,.0f} | "
                  f"{lock_a['env_steps'] / 10 / rate_a:.2f}x | {met(fastest_a <= 10)} |",
                  f"| recommended configuration, {len(b_seeds)} seeds x {b_steps:,} steps, <= 60 s | "
                  f"{lock_b['env_steps'] / 60:,.0f} | {lock_b['seconds']:.1f} s (b) | {rate_b:,.0f} | "
                  f"{lock_b['env_steps'] / 60 / rate_b:.2f}x | {met(lock_b['seconds'] <= 60)} |",
                  f"| `make data` from scratch, <= 10 minutes | {total / 600:,.0f} | {projected / 60:.0f} min projected "
                  f"(its episodic steps at (a)'s per-seed rate, the rest at (b)'s) | {total / projected:,.0f} | "
                  f"{total / 600 / (total / projected):.2f}x | {met(projected <= 600)} |",
                  f"| peak memory at S = 64 (report only) | | {scaling[64]['peak_rss_mib']:.0f} MiB (c) | | | |", "",
                  f"`make data`'s workload, from the stored data sets (`data_workload`): {total:,} env steps, "
                  f"{workload['episodic']:,} of them in episodic configurations (trained seed by seed) and "
                  f"{workload['rollout']:,} in rollout ones (lockstep blocks). The projection prices every rollout "
                  "step at (b)'s rate and leaves out the snapshot sets, process start-up and uneven loads; a real "
                  "remake can take less time than projected (paused arms skip their updates, a 16-environment arm "
                  "updates half as often) or more. README, Data, gives the measured time.",
                  "", "The single-seed targets (10x the seed script; the recipe's time to a rolling-100 return of 475) "
                  "are measured by `bench.py` (above) and `solve_race.py` (`solve_race.md`)."]
    lines += ["", f"Total benchmark time {time.perf_counter() - started:.0f} s; load average at the start {load}, at "
              f"the end {' / '.join(f'{x:.2f}' for x in os.getloadavg())}."]
    text = "\n".join(lines) + "\n"
    print(text)
    out = args.out if args.out is not None else (None if args.quick else DEFAULT_OUT)
    if out:
        from lecture_utils.atomic import atomic_write_text

        before = out.read_text().split(MARKER)[0].rstrip() + "\n\n" if out.exists() else ""
        atomic_write_text(out, before + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
