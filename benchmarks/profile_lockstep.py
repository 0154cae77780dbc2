"""Where the lockstep trainer's time goes, on the recommended configuration (benchmarks/PROFILE.md, second part).

Usage: OMP_NUM_THREADS=1 python benchmarks/profile_lockstep.py [--seeds 32] [--steps 30000] [--ops]

One ``train_seeds(RECOMMENDED_CONFIG, seeds)`` run under cProfile, its functions' own time grouped into the parts of
the algorithm; then the same run without the profiler (wall clock), since cProfile inflates Python-level calls more
than NumPy's. Each group is the sum of the listed functions' own ("tottime") seconds; NumPy's ufunc reductions
(``max``/``sum`` along an axis) are counted apart, wherever they are called from.
"""
from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import time
from typing import Callable, Sequence

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

from lecture_utils.experiments import RECOMMENDED_CONFIG  # noqa: E402
from lecture_utils.lockstep import train_seeds  # noqa: E402

#: (label, predicate on (file, function name)); the first that matches takes a function's time.
GROUPS: list[tuple[str, Callable[[str, str], bool]]] = [
    ("network passes: FlatMLP.forward/backward (stacked matmuls, bias, ReLU and its mask)",
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


def _microseconds(call: Callable[[], object], repeat: int = 5, number: int = 400) -> float:
    """Best of ``repeat`` timings of ``number`` calls, in microseconds per call."""
    call()
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            call()
        best = min(best, time.perf_counter() - start)
    return best / number * 1e6


def _operation_timings(count: int) -> dict[str, float]:
    """Microseconds per call of each operation of one stacked minibatch step with ``count`` seeds."""
    from lecture_utils.numpy_agent import NumpyA2CAgent, NumpyA2CStack, _clip_stacked_

    stack = NumpyA2CStack([NumpyA2CAgent(RECOMMENDED_CONFIG, 4, 2, seed) for seed in range(count)])
    rng = np.random.default_rng(0)
    batch = RECOMMENDED_CONFIG.batch_size
    x = rng.standard_normal((count, batch, 4)).astype(np.float32)
    x_next = rng.standard_normal((count, batch, 4)).astype(np.float32)
    taken = (np.arange(count)[:, None] * batch + np.arange(batch)) * 2 + rng.integers(0, 2, (count, batch))
    adv = rng.standard_normal((count, batch)).astype(np.float32)
    old = np.full((count, batch), math.log(0.5), np.float32)
    reward, discount = np.ones((count, batch, 1), np.float32), np.full((count, batch, 1), 0.99, np.float32)
    critic, actor = stack.critic, stack.actor
    hidden, values = critic.forward(x)
    d_hidden = values * critic.w2
    d_logits = actor.forward(x)[1]
    timings: dict[str, Callable[[], object]] = {
        "whole minibatch step (1 actor + 2 critic steps, clipping, Adam)":
            lambda: stack._minibatch_step(x, taken, adv, False, old, x_next, reward, discount, None),
        "actor step's loss and gradient (forward, log-softmax, surrogate, backward)":
            lambda: stack._actor_step_grad(x, taken, adv, False, old),
        "critic loss and gradient (forward + backward)": lambda: stack.critic_loss_and_grad(x, reward, False),
        "critic forward (2 stacked matmuls, bias, ReLU)": lambda: critic.forward(x),
        "critic backward, whole": lambda: critic.backward(x, hidden, values),
        "  dW2 = d_out^T h (stacked matmul, 1 x 32 @ 32 x 64)":
            lambda: np.matmul(values.swapaxes(-1, -2), hidden, out=critic.gw2),
        "  dh = d_out w2 by broadcasting (was a k = 1 matmul)": lambda: values * critic.w2,
        "  the same as a stacked matmul (32 x 1 @ 1 x 64)": lambda: np.matmul(values, critic.w2),
        "  ReLU mask (dh *= h > 0)": lambda: d_hidden * (hidden > 0),
        "  dW1 = dh^T x (stacked matmul, 64 x 32 @ 32 x 4)":
            lambda: np.matmul(d_hidden.swapaxes(-1, -2), x, out=critic.gw1),
        "  db1 = sum over rows (ufunc reduction)": lambda: np.add.reduce(d_hidden, axis=-2, out=critic.gb1),
        "actor's dh = d_logits w2 (stacked matmul, k = 2)": lambda: np.matmul(d_logits, actor.w2),
        "Adam step, critic (about 20 NumPy calls)": lambda: stack.critic_optimizer.step(critic.grad),
        "gradient norm and clipping, critic": lambda: _clip_stacked_(critic.grad, 0.5),
    }
    return {label: _microseconds(call) for label, call in timings.items()}


def operation_costs(seed_counts: Sequence[int] = (1, 10, 32)) -> list[tuple[str, list[float]]]:
    """Microseconds per call of the operations of one stacked minibatch step (the recommended configuration,
    full 32-row minibatches, random inputs), for stacks of each size in ``seed_counts``: ``[(label, [us per S])]``."""
    per_count = [_operation_timings(count) for count in seed_counts]
    return [(label, [timings[label] for timings in per_count]) for label in per_count[0]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--ops", action="store_true",
                        help="also time the operations of one stacked minibatch step for S = 1, 10 and 32")
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
    if args.ops:
        counts = (1, 10, 32)
        print("\none stacked minibatch step, operation by operation: microseconds per call (best of 5 x 400 calls)")
        print(f"{'operation':<80}" + "".join(f"{f'S = {c}':>9}" for c in counts) + f"{'per seed at 32':>16}")
        for label, costs in operation_costs(counts):
            print(f"{label:<80}" + "".join(f"{c:9.1f}" for c in costs) + f"{costs[-1] / counts[-1]:16.2f}")


if __name__ == "__main__":
    main()
