"""Where the lockstep trainer's time goes, on the recommended configuration (benchmarks/PROFILE.md, second part).

Usage: OMP_NUM_THREADS=1 python benchmarks/profile_lockstep.py [--seeds 32] [--steps 30000]

One ``train_seeds(RECOMMENDED_CONFIG, seeds)`` run under cProfile, its functions' own time grouped into the parts of
the algorithm; then the same run without the profiler (wall clock), since cProfile inflates Python-level calls more
than NumPy's. Each group is the sum of the listed functions' own ("tottime") seconds; NumPy's ufunc reductions
(``max``/``sum`` along an axis) are counted apart, wherever they are called from.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from typing import Callable

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from lecture_utils.experiments import RECOMMENDED_CONFIG  # noqa: E402
from lecture_utils.lockstep import train_seeds  # noqa: E402

#: (label, predicate on (file, function name)); the first that matches takes a function's time.
GROUPS: list[tuple[str, Callable[[str, str], bool]]] = [
    ("network passes: FlatMLP.forward/backward (stacked matmuls, one BLAS call per seed)",
     lambda f, n: f.endswith("numpy_agent.py") and n in ("forward", "backward")),
    ("ufunc reductions (softmax max/sum, bias gradients, losses)", lambda f, n: "reduce" in n and "ufunc" in n),
    ("Adam steps", lambda f, n: f.endswith("numpy_agent.py") and (n == "step" or n.startswith("<listcomp>"))),
    ("gradient norms and clipping", lambda f, n: n in ("_l2_norms", "_clip_stacked_", "_clip_")),
    ("losses and gradients of the outputs (actor, critic)",
     lambda f, n: n in ("_actor_step_grad", "_actor_step_grad_log_softmax", "critic_loss_and_grad", "_probs",
                        "_log_probs", "_minibatch_step")),
    ("GAE advantages (critic passes counted above; the recursion over 256 steps)", lambda f, n: n == "_stacked_gae"),
    ("the update's bookkeeping (stacking batches, statistics)",
     lambda f, n: n in ("_update_one_length", "update", "_rows", "_write_rows", "rollout_batch")),
    ("CartPole: batched physics and resets", lambda f, n: f.endswith("envs.py") or "cartpole" in f),
    ("the rollout loop (sampling, buffers, episode table)", lambda f, n: f.endswith("lockstep.py")),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30_000)
    args = parser.parse_args()
    config = RECOMMENDED_CONFIG.replace(max_steps=args.steps)
    seeds = list(range(args.seeds))
    profiler = cProfile.Profile()
    profiler.enable()
    train_seeds(config, seeds)
    profiler.disable()
    stats = pstats.Stats(profiler)
    totals: dict[str, float] = {label: 0.0 for label, _ in GROUPS}
    other = 0.0
    for (file, _line, name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        label = next((label for label, match in GROUPS if match(file, name)), None)
        if label is None:
            other += own
        else:
            totals[label] += own
    profiled = sum(totals.values()) + other
    start = time.perf_counter()
    train_seeds(config, seeds)
    wall = time.perf_counter() - start
    per_rollout = config.num_envs * int(config.rollout_steps or 1)
    steps = args.seeds * -(-args.steps // per_rollout) * per_rollout
    print(f"train_seeds(RECOMMENDED_CONFIG, {args.seeds} seeds), {args.steps:,} steps each ({steps:,} env steps), "
          "one core")
    print(f"without the profiler: {wall:.2f} s wall = {steps / wall:,.0f} env steps/s; the own times under the "
          f"profiler sum to {profiled:.2f} s")
    print(f"{'part (own time under cProfile)':<88} {'s':>6} {'share':>6}")
    for label, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"{label:<88} {seconds:6.2f} {seconds / profiled:6.1%}")
    print(f"{'everything else (NumPy Python wrappers, stacking, the profiler itself)':<88} {other:6.2f} "
          f"{other / profiled:6.1%}")


if __name__ == "__main__":
    main()
