"""Where the fast trainer's time goes: environment steps, acting, the update, and the rest (benchmarks/PROFILE.md).

Usage: OMP_NUM_THREADS=1 python benchmarks/profile_trainer.py [--seed 0] [--episodes 2000] [--repeat 3]

One ordinary ``train`` run (default config, NumPy implementation) with timers wrapped around ``env.step``,
``agent.act``, ``agent.update`` and the two Adam steps inside it; the same run without timers, to show what the
timers cost; then ``env.step`` alone with uniformly random actions for the same number of steps (resets included),
the floor that no agent can go below. Each measurement is the best of ``--repeat`` runs (the machine is shared).
"""
from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from typing import Any, Callable

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import gymnasium as gym  # noqa: E402

from lecture_utils import A2CConfig, NumpyA2CAgent, env_dimensions, make_env, train  # noqa: E402
from lecture_utils.numpy_agent import Adam  # noqa: E402

torch.set_num_threads(1)


class _Clock:
    """Accumulated seconds per part of a run."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)

    def time(self, key: str, fn: Callable[..., Any], *args: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.totals[key] += time.perf_counter() - start


class _TimedAdam(Adam):
    def __init__(self, clock: _Clock, *args: Any) -> None:
        super().__init__(*args)
        self.clock = clock

    def step(self, grad):  # type: ignore[no-untyped-def]
        return self.clock.time("adam", super().step, grad)


class _TimedAgent(NumpyA2CAgent):
    """The fast agent with timers around acting, the update and its Adam steps: subclasses, handed to ``train``
    through its ``agent`` argument, so the trainer and the agent's code run unchanged."""

    def __init__(self, clock: _Clock, *args: Any) -> None:
        super().__init__(*args)
        self.clock = clock
        # Fresh optimisers like the agent's own (nothing has stepped yet), with timers.
        self.actor_optimizer = _TimedAdam(clock, self.actor.params, self.config.actor_lr)
        self.critic_optimizer = _TimedAdam(clock, self.critic.params, self.config.critic_lr)

    def act(self, obs, greedy=False):  # type: ignore[no-untyped-def]
        return self.clock.time("act", super().act, obs, greedy)

    def update(self, episode):  # type: ignore[no-untyped-def]
        return self.clock.time("update", super().update, episode)


class _TimedStep(gym.Wrapper):
    """Times ``step`` of the wrapped environment (CartPole and Gymnasium's wrappers)."""

    def __init__(self, env: gym.Env, clock: _Clock) -> None:
        super().__init__(env)
        self.clock = clock

    def step(self, action):  # type: ignore[no-untyped-def]
        return self.clock.time("env.step", self.env.step, action)


def instrumented_run(config: A2CConfig, seed: int) -> tuple[dict[str, float], int]:
    """Seconds per part of one training run, and its env steps: ``train`` given a timed agent (subclass) and a timed
    environment (wrapper). ``total`` is wall-clock, ``cpu`` the process's CPU time over the same run (their gap is
    time other processes took)."""
    clock = _Clock()
    env = _TimedStep(make_env(config.env_id, seed=seed), clock)
    agent = _TimedAgent(clock, config, *env_dimensions(env), seed)
    start, cpu = time.perf_counter(), time.process_time()
    history = train(config, seed=seed, agent=agent, env=env).history
    clock.totals["total"], clock.totals["cpu"] = time.perf_counter() - start, time.process_time() - cpu
    return dict(clock.totals), int(history["length"].sum())


def plain_run(config: A2CConfig, seed: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of an ordinary ``train`` call."""
    start, cpu = time.perf_counter(), time.process_time()
    train(config, seed=seed)
    return time.perf_counter() - start, time.process_time() - cpu


def env_only(env_id: str, steps: int, seed: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds for ``steps`` calls of ``env.step`` with random actions, resetting whenever an
    episode ends."""
    env = make_env(env_id, seed=seed)
    n_actions = env_dimensions(env)[1]
    actions = np.random.RandomState(seed).randint(n_actions, size=steps).tolist()  # drawn beforehand
    step, reset = env.step, env.reset
    reset()
    start, cpu = time.perf_counter(), time.process_time()
    for action in actions:
        _, _, terminated, truncated, _ = step(action)
        if terminated or truncated:
            reset()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = A2CConfig(episodes=args.episodes)
    # Interleaved repeats, best (least disturbed) of each kind: on a shared machine, other processes' bursts then
    # hit the three measurements alike rather than one of them.
    runs, plains, bares = [], [], []
    for _ in range(args.repeat):
        runs.append(instrumented_run(config, args.seed))
        plains.append(plain_run(config, args.seed))
        bares.append(env_only(config.env_id, runs[-1][1], args.seed))
    parts, steps = min(runs, key=lambda r: r[0]["total"])
    plain, plain_cpu = min(plains)
    env_s, env_cpu = min(bares)

    total = parts["total"]
    rest = total - parts["env.step"] - parts["act"] - parts["update"]
    rows = [
        ("env.step (CartPole + its 3 Gymnasium wrappers)", parts["env.step"]),
        ("agent.act (forward pass + sampling)", parts["act"]),
        ("agent.update, of which:", parts["update"]),
        ("    Adam steps (actor + critic)", parts["adam"]),
        ("    forward/backward passes, losses, bookkeeping", parts["update"] - parts["adam"]),
        ("the rest (rollout recording, entropy, per-episode table)", rest),
    ]
    print(f"seed {args.seed}, {args.episodes} episodes, {steps:,} env steps; best of {args.repeat} (wall clock)")
    print(f"{'part':<58} {'s':>7} {'share':>6} {'us/step':>8}")
    for name, seconds in rows:
        print(f"{name:<58} {seconds:7.2f} {seconds / total:6.1%} {seconds / steps * 1e6:8.2f}")
    print(f"{'total (with timers)':<58} {total:7.2f} {1:6.1%} {total / steps * 1e6:8.2f}")
    print(f"  (CPU time of that run: {parts['cpu']:.2f} s)")
    print(f"plain train() without timers: {plain:.2f} s wall ({plain_cpu:.2f} s CPU) = {steps / plain:,.0f} env steps/s")
    print(f"env.step alone, random actions, same {steps:,} steps: {env_s:.2f} s wall ({env_cpu:.2f} s CPU) = "
          f"{steps / env_s:,.0f} steps/s; the trainer takes {plain / env_s:.1f}x the bare environment's time")


if __name__ == "__main__":
    main()
