"""Benchmark the package's A2C trainer against the seed script, and time the lectures (``make bench``).

Usage: python benchmarks/bench.py [--episodes 2000] [--seeds 8] [--quick] [--out benchmarks/results.md]

What it measures, in one run (every number in the report comes from this run):

1. **One seed at a time, interleaved.** For each seed ``s``: ``seed_reference.py s EPISODES`` (the original lecture
   code, PyTorch, in a subprocess), then the package's ``train(A2CConfig(episodes=EPISODES), seed=s)`` in a subprocess
   of its own; both single-threaded (``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``), same hyperparameters,
   seeds and episode counts. Interleaving spreads any change in the machine's load over both sides. Both sides time
   the training loop only (not interpreter start-up or imports; the seed script's final evaluation is not timed).
   Environment steps per second is the fair ratio: the two implementations round floats differently, so after a few
   hundred episodes their trajectories (and episode lengths) part; seconds per run are reported too.
2. **Multi-seed sweep.** The same seeds through :func:`lecture_utils.sweep.run_sweep` on every core, timed from the
   call to the returned table (worker start-up included), against the seed script run once per seed, one after
   another: those are the seed runs of part 1 (same seeds, same episode count), so they are reused, not re-run.
3. **Notebooks.** Each ``notebooks/NN_*.ipynb`` executed by ``tools/run_notebooks.py`` on a copy in a temporary
   folder (the repository's notebooks are not modified).
4. **Live-demo budget.** Default configuration, seeds 0..9: seconds of training (wall clock, from the ``train`` call)
   until the mean return of the last 20 episodes first reaches 200, timed at the end of each episode's update
   through ``train``'s per-episode ``log`` hook.

The report is printed and written atomically to ``--out`` with the exact command and the date.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

REPO = Path(__file__).resolve().parents[1]
SEED_SCRIPT = Path(os.environ.get("SEED_DIR", REPO.parent / "shared" / "seed")) / "seed_reference.py"
DEFAULT_OUT = REPO / "benchmarks" / "results.md"
#: Single-threaded BLAS/OpenMP in every timed subprocess: both sides then use one core, as the seed script does.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
LIVE_DEMO_SEEDS = 10
LIVE_DEMO_WINDOW = 20
LIVE_DEMO_TARGET = 200.0
#: Episodes a live demo may take before it counts as "not reached" (lecture 03's live run is 300 episodes).
LIVE_DEMO_CAP = 300


# ---------------------------------------------------------------------------------------------------------------
# Workers: run in subprocesses so that each timing starts from a fresh, single-threaded interpreter.
# ---------------------------------------------------------------------------------------------------------------
def _worker_setup() -> None:
    for name, value in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(name, value)
    import torch

    torch.set_num_threads(1)


def worker_train(seed: int, episodes: int) -> dict[str, Any]:
    """One package run, timed like the seed script times itself: the training loop, nothing after it."""
    _worker_setup()
    from lecture_utils import A2CConfig, train

    config = A2CConfig(episodes=episodes)
    start = time.perf_counter()
    history = train(config, seed=seed).history
    seconds = time.perf_counter() - start
    returns = history["return"].to_numpy()
    return {"seed": seed, "episodes": episodes, "train_s": seconds, "env_steps": int(history["length"].sum()),
            "last100_train": float(returns[-100:].mean()), "implementation": config.implementation}


def worker_live(seeds: Sequence[int], cap: int) -> list[dict[str, Any]]:
    """Per seed: seconds until the rolling-``LIVE_DEMO_WINDOW`` mean return first reaches ``LIVE_DEMO_TARGET``.

    ``train(..., on_episode=...)`` calls the callback once per episode, right after that episode's update; it only
    records ``time.perf_counter()``. The returns come from the finished run's table, so the run itself is the
    ordinary ``train``.
    """
    _worker_setup()
    import numpy as np

    from lecture_utils import A2CConfig, train

    out = []
    for seed in seeds:
        stamps: list[float] = []

        def stamp(_index: int, _agent: object, _steps: int, stamps: list[float] = stamps) -> None:
            stamps.append(time.perf_counter())

        start = time.perf_counter()
        history = train(A2CConfig(episodes=cap), seed=seed, on_episode=stamp).history
        returns = history["return"].to_numpy(dtype=float)
        lengths = history["length"].to_numpy()
        rolling = np.convolve(returns, np.ones(LIVE_DEMO_WINDOW) / LIVE_DEMO_WINDOW, mode="valid")
        hits = np.flatnonzero(rolling >= LIVE_DEMO_TARGET)
        record: dict[str, Any] = {"seed": seed, "cap": cap}
        if hits.size:
            episode = int(hits[0]) + LIVE_DEMO_WINDOW - 1  # the episode whose return completes the window
            record.update(reached=True, episode=episode, seconds=stamps[episode] - start,
                          env_steps=int(lengths[: episode + 1].sum()))
        else:
            record.update(reached=False, seconds=time.perf_counter() - start, env_steps=int(lengths.sum()))
        out.append(record)
    return out


# ---------------------------------------------------------------------------------------------------------------
# The driver.
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class RunTiming:
    """One timed training run: environment steps and seconds of its training loop."""

    seed: int
    env_steps: int
    seconds: float
    last100: float

    @property
    def steps_per_s(self) -> float:
        return self.env_steps / self.seconds


def _subprocess_json(args: list[str], timeout: float) -> Any:
    env = {**os.environ, **SINGLE_THREAD_ENV}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(args)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_seed_script(seed: int, episodes: int) -> RunTiming:
    """``seed_reference.py`` as is; its own timer covers the training loop only."""
    summary = _subprocess_json([sys.executable, str(SEED_SCRIPT), str(seed), str(episodes)], timeout=3600)
    steps = int(summary["env_steps"])
    # train_s is printed rounded to 0.1 s, steps_per_s to 1 step/s (from the unrounded time): the latter is the
    # precise one, so the seconds are recovered from it.
    rate = float(summary["steps_per_s"])
    seconds = steps / rate if rate > 0 else float(summary["train_s"])
    return RunTiming(seed, steps, seconds, float(summary["last100_train"]))


def run_package(seed: int, episodes: int) -> RunTiming:
    summary = _subprocess_json([sys.executable, __file__, "--worker", "train", str(seed), str(episodes)],
                               timeout=3600)
    return RunTiming(seed, int(summary["env_steps"]), float(summary["train_s"]), float(summary["last100_train"]))


def machine_lines() -> list[str]:
    """CPU model, cores, load and library versions: the context every timing here needs."""
    import gymnasium
    import joblib
    import numpy
    import pandas
    import torch

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"- CPU: {model}; {os.cpu_count()} logical cores, {usable} usable by this process",
        f"- load average (1/5/15 min) at the start: {load}",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}, torch {torch.__version__}, numpy {numpy.__version__}, "
        f"gymnasium {gymnasium.__version__}, pandas {pandas.__version__}, joblib {joblib.__version__}",
    ]


def git_state() -> str:
    """The commit the package was at, and whether its training code had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lecture_utils"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {head}" + (" (lecture_utils/ has uncommitted changes)" if dirty else "")


def _fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def _fmt_s(x: float) -> str:
    """Seconds with three significant-ish digits: short --quick runs would otherwise print 0.0."""
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def single_seed_section(seeds: Sequence[int], episodes: int) -> tuple[list[str], list[RunTiming], list[RunTiming]]:
    """Part 1: seed script then package, seed by seed."""
    seed_runs, package_runs = [], []
    for seed in seeds:
        seed_runs.append(run_seed_script(seed, episodes))
        package_runs.append(run_package(seed, episodes))
        s, p = seed_runs[-1], package_runs[-1]
        print(f"  seed {seed}: seed script {s.env_steps} steps in {s.seconds:.1f} s, "
              f"package {p.env_steps} steps in {p.seconds:.1f} s", file=sys.stderr, flush=True)
    lines = [
        "| seed | seed script: env steps | s | steps/s | package: env steps | s | steps/s | steps/s ratio "
        "| time ratio (seed s / package s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s, p in zip(seed_runs, package_runs, strict=True):
        lines.append(f"| {s.seed} | {s.env_steps:,} | {_fmt_s(s.seconds)} | {_fmt_rate(s.steps_per_s)} | "
                     f"{p.env_steps:,} | {_fmt_s(p.seconds)} | {_fmt_rate(p.steps_per_s)} | "
                     f"{p.steps_per_s / s.steps_per_s:.1f}x | {s.seconds / p.seconds:.1f}x |")
    s_steps, s_sec = sum(r.env_steps for r in seed_runs), sum(r.seconds for r in seed_runs)
    p_steps, p_sec = sum(r.env_steps for r in package_runs), sum(r.seconds for r in package_runs)
    n = len(seeds)
    lines.append(f"| **all {n}** | {s_steps:,} | {_fmt_s(s_sec / n)} per run | {_fmt_rate(s_steps / s_sec)} | "
                 f"{p_steps:,} | {_fmt_s(p_sec / n)} per run | {_fmt_rate(p_steps / p_sec)} | "
                 f"**{(p_steps / p_sec) / (s_steps / s_sec):.1f}x** | {s_sec / p_sec:.1f}x |")
    lines += [
        "",
        "Mean return of the last 100 training episodes (the runs part after a while, so these differ): seed script "
        + ", ".join(f"{r.last100:.0f}" for r in seed_runs) + "; package "
        + ", ".join(f"{r.last100:.0f}" for r in package_runs) + ".",
    ]
    return lines, seed_runs, package_runs


def sweep_section(seeds: Sequence[int], episodes: int, seed_runs: Sequence[RunTiming],
                  package_runs: Sequence[RunTiming]) -> list[str]:
    """Part 2: the package's sweep on every core against the seed script once per seed, one after another."""
    for name, value in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(name, value)  # inherited by joblib's workers (run_one also sets them)
    from joblib import cpu_count

    from lecture_utils import A2CConfig
    from lecture_utils.sweep import run_sweep

    start = time.perf_counter()
    table = run_sweep({"default": A2CConfig(episodes=episodes)}, list(seeds), n_jobs=-1)
    wall = time.perf_counter() - start
    per_seed = table.groupby("seed")["length"].sum()
    steps = int(per_seed.sum())
    same = all(int(per_seed[r.seed]) == r.env_steps for r in package_runs)
    seed_wall = sum(r.seconds for r in seed_runs)
    seed_steps = sum(r.env_steps for r in seed_runs)
    return [
        "| | runs | wall s | env steps | steps/s |",
        "|---|---:|---:|---:|---:|",
        f"| seed script, one run after another | {len(seed_runs)} | {_fmt_s(seed_wall)} | {seed_steps:,} | "
        f"{_fmt_rate(seed_steps / seed_wall)} |",
        f"| package `run_sweep(n_jobs=-1)`, {cpu_count()} workers | {len(seeds)} | {_fmt_s(wall)} | {steps:,} | "
        f"{_fmt_rate(steps / wall)} |",
        f"| **ratio** | | {seed_wall / wall:.1f}x less time | | **{(steps / wall) / (seed_steps / seed_wall):.1f}x** |",
        "",
        f"The seed-script row reuses the {len(seed_runs)} seed runs of the single-seed table (same seeds "
        f"{', '.join(map(str, seeds))}, same {episodes} episodes): their training seconds summed, which leaves out "
        "their interpreter start-up and final evaluation. The sweep's wall time includes starting the workers. "
        f"The sweep reproduced the single runs' env steps seed for seed: {'yes' if same else 'NO'}.",
    ]


def notebook_section() -> list[str]:
    """Part 3: time each lecture notebook on a copy, through tools/run_notebooks.py."""
    notebooks = sorted((REPO / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
    if not notebooks:
        return ["No notebooks in notebooks/ yet: nothing to time."]
    lines = ["| notebook | seconds | slowest cell | its seconds | status |", "|---|---:|---:|---:|---|"]
    env = {**os.environ, **SINGLE_THREAD_ENV, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}  # as `make lectures`
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        copy = Path(tmp) / "notebooks"
        # The whole folder, so notebooks find any files beside them; outputs they write land in the copy.
        shutil.copytree(REPO / "notebooks", copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for path in notebooks:
            times = Path(tmp) / f"{path.stem}.times.md"
            start = time.perf_counter()
            done = subprocess.run([sys.executable, str(REPO / "tools" / "run_notebooks.py"), "--times", str(times),
                                   str(copy / path.name)], capture_output=True, text=True, env=env, cwd=REPO)
            outer = time.perf_counter() - start
            if done.returncode == 0 and times.exists():
                fields = [f.strip() for f in times.read_text().splitlines()[-1].split("|")]
                seconds, cell, cell_seconds = float(fields[2]), fields[4], float(fields[5])
                lines.append(f"| {path.name} | {seconds:.1f} | {cell} | {cell_seconds:.1f} | ok |")
            else:
                reason = (done.stderr.strip().splitlines() or ["no output"])[-1][:160].replace("|", "/")
                lines.append(f"| {path.name} | {outer:.1f} | | | failed: {reason} |")
            print(f"  {lines[-1]}", file=sys.stderr, flush=True)
    lines += ["", "Seconds from kernel start to the last cell (tools/run_notebooks.py), run on copies in a temporary "
                  "folder, one kernel at a time; the slowest code cell by execution count, with its own seconds."]
    return lines


def live_demo_section(cap: int) -> list[str]:
    """Part 4: seconds until the rolling-20 mean return first reaches 200, default config, seeds 0..9."""
    seeds = list(range(LIVE_DEMO_SEEDS))
    records = _subprocess_json([sys.executable, __file__, "--worker", "live", ",".join(map(str, seeds)), str(cap)],
                               timeout=3600)
    lines = ["| seed | reached at episode | env steps | seconds |", "|---:|---:|---:|---:|"]
    reached = []
    for r in records:
        if r["reached"]:
            reached.append(r["seconds"])
            lines.append(f"| {r['seed']} | {r['episode']} | {r['env_steps']:,} | {r['seconds']:.2f} |")
        else:
            lines.append(f"| {r['seed']} | not within {r['cap']} | {r['env_steps']:,} | (> {r['seconds']:.2f}) |")
    if reached:
        ordered = sorted(reached)
        median = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
        lines += ["", f"Reached by {len(reached)} of {len(records)} seeds within {cap} episodes: median "
                      f"{median:.2f} s, worst {max(reached):.2f} s (numpy implementation, one core)."]
    else:
        lines += ["", f"No seed reached it within {cap} episodes."]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2000, help="episodes per run (2000, the seed's)")
    parser.add_argument("--seeds", type=int, default=8, help="seeds 0..N-1 for the single-seed and sweep parts (8)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 30 episodes, 2 seeds, live demo capped at 120 episodes, no notebooks, "
                             "nothing written unless --out is given")
    parser.add_argument("--out", type=Path, default=None, help=f"report file (default {DEFAULT_OUT.relative_to(REPO)})")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "SEEDS", "EPISODES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        kind, seeds, episodes = args.worker
        if kind == "train":
            print(json.dumps(worker_train(int(seeds), int(episodes))))
        else:
            print(json.dumps(worker_live([int(s) for s in seeds.split(",")], int(episodes))))
        return 0

    if not SEED_SCRIPT.exists():
        print(f"bench: the seed script is not at {SEED_SCRIPT}; set SEED_DIR to its folder", file=sys.stderr)
        return 2
    if args.quick:
        args.episodes, args.seeds = 30, 2
    out = args.out if args.out is not None else (None if args.quick else DEFAULT_OUT)
    if args.episodes < 1 or args.seeds < 1:
        parser.error("--episodes and --seeds must be at least 1")
    seeds = list(range(args.seeds))
    began = time.perf_counter()
    command = shlex.join([os.path.relpath(sys.executable, REPO), os.path.relpath(__file__, REPO),
                          *(sys.argv[1:] if argv is None else argv)])
    via_make = " (via `make bench`)" if os.environ.get("MAKELEVEL") else ""
    date = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    report = [
        "# Benchmark: package trainer vs. the seed script",
        "",
        f"Generated by `{command}`{via_make} on {date}, package at {git_state()}. Written by the script; do not edit.",
        "",
        "## Machine",
        "",
        *machine_lines(),
        "",
    ]

    def section(title: str, body: list[str], started: float) -> None:
        report.extend([f"## {title}", "", *body, "", f"_(section took {time.perf_counter() - started:.0f} s)_", ""])
        print(f"bench: {title} done after {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)

    t = time.perf_counter()
    print(f"bench: single-seed runs, {len(seeds)} seeds x {args.episodes} episodes", file=sys.stderr, flush=True)
    body, seed_runs, package_runs = single_seed_section(seeds, args.episodes)
    section(f"One seed at a time: {args.episodes} episodes, seeds {seeds[0]}..{seeds[-1]}, one core each", [
        "Seed script (`seed_reference.py`, PyTorch autograd) then package (`train(A2CConfig(episodes=N), seed=s)`, "
        "default `implementation=\"numpy\"`), alternately, each in its own single-threaded process; seconds are the "
        "training loop's. The steps/s ratio is the fair one (the trajectories part once float roundings differ); "
        "the time ratio compares whole runs of the same number of episodes.",
        "", *body], t)

    t = time.perf_counter()
    section(f"Multi-seed sweep: {len(seeds)} seeds x {args.episodes} episodes",
            sweep_section(seeds, args.episodes, seed_runs, package_runs), t)

    t = time.perf_counter()
    section("Notebooks", ["Skipped (--quick)."] if args.quick else notebook_section(), t)

    t = time.perf_counter()
    cap = 120 if args.quick else LIVE_DEMO_CAP
    section(f"Live-demo budget: seconds until the mean of the last {LIVE_DEMO_WINDOW} returns reaches "
            f"{LIVE_DEMO_TARGET:.0f}", live_demo_section(cap), t)

    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    report += [f"Total benchmark time {time.perf_counter() - began:.0f} s; load average at the end: {load}.", ""]
    text = "\n".join(report)
    print(text)
    if out is not None:
        from lecture_utils.atomic import atomic_write_text

        atomic_write_text(out, text)
        print(f"bench: wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
