"""Where the fast trainer's time goes: environment steps, acting, the update, and the rest (benchmarks/PROFILE.md).

Usage: OMP_NUM_THREADS=1 python benchmarks/profile_trainer.py [--seed 0] [--episodes 2000] [--repeat 3]

One ordinary ``train`` run (default config, NumPy implementation) with timers wrapped around ``rollout_episode``
(the episode's recording: CartPole's physics, which ``rollout_episode`` runs on Python floats for a plain Gymnasium
CartPole, and the acting inside it), ``agent.act``, ``agent.update`` and the two Adam steps inside it; the same run
without timers, to show what the timers cost; then the environment alone with uniformly random actions for the same
number of steps (resets included), through Gymnasium's ``env.step`` and through ``rollout_episode``: the floors no
agent can go below. Each measurement is the best of ``--repeat`` runs (the machine is shared).
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

from lecture_utils import A2CConfig, NumpyA2CAgent, env_dimensions, make_env, rollout_episode, train  # noqa: E402
from lecture_utils import trainer as trainer_module  # noqa: E402
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


def instrumented_run(config: A2CConfig, seed: int) -> tuple[dict[str, float], int]:
    """Seconds per part of one training run, and its env steps: ``train`` given a timed agent (subclass), with the
    trainer's ``rollout_episode`` timed (the module attribute, put back afterwards). ``total`` is wall-clock, ``cpu``
    the process's CPU time over the same run (their gap is time other processes took)."""
    clock = _Clock()
    env = make_env(config.env_id, seed=seed)
    agent = _TimedAgent(clock, config, *env_dimensions(env), seed)
    record = trainer_module.rollout_episode

    def timed_record(env: Any, policy: Any, seed: int | None = None) -> Any:
        return clock.time("rollout", record, env, policy, seed)

    trainer_module.rollout_episode = timed_record
    try:
        start, cpu = time.perf_counter(), time.process_time()
        history = train(config, seed=seed, agent=agent, env=env).history
        clock.totals["total"], clock.totals["cpu"] = time.perf_counter() - start, time.process_time() - cpu
    finally:
        trainer_module.rollout_episode = record
    return dict(clock.totals), int(history["length"].sum())


def plain_run(config: A2CConfig, seed: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of an ordinary ``train`` call."""
    start, cpu = time.perf_counter(), time.process_time()
    train(config, seed=seed)
    return time.perf_counter() - start, time.process_time() - cpu


def env_only(env_id: str, steps: int, seed: int) -> tuple[float, float]:
    """Wall-clock seconds for ``steps`` environment steps with random actions (drawn beforehand), resetting whenever
    an episode ends: through Gymnasium's ``env.step``, and through ``rollout_episode`` (its CartPole fast path)."""
    env = make_env(env_id, seed=seed)
    n_actions = env_dimensions(env)[1]
    actions = np.random.RandomState(seed).randint(n_actions, size=steps).tolist()
    step, reset = env.step, env.reset
    reset()
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = step(action)
        if terminated or truncated:
            reset()
    gym_seconds = time.perf_counter() - start
    env = make_env(env_id, seed=seed)
    env.reset()
    env.step(0)  # Gymnasium's checker looks at the first step; rollout_episode's fast path starts after it
    draws = iter(actions)
    start = time.perf_counter()
    done = 0
    while done < steps:
        done += rollout_episode(env, lambda obs: next(draws, 0)).length
    return gym_seconds, time.perf_counter() - start


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
    gym_s, fast_s = min(b[0] for b in bares), min(b[1] for b in bares)

    total = parts["total"]
    rest = total - parts["rollout"] - parts["update"]
    rows = [
        ("recording the episode, of which:", parts["rollout"]),
        ("    CartPole physics and recording (rollout_episode)", parts["rollout"] - parts["act"]),
        ("    agent.act (forward pass + sampling)", parts["act"]),
        ("agent.update, of which:", parts["update"]),
        ("    Adam steps (actor + critic)", parts["adam"]),
        ("    forward/backward passes, losses, bookkeeping", parts["update"] - parts["adam"]),
        ("the rest (entropy, per-episode table)", rest),
    ]
    print(f"seed {args.seed}, {args.episodes} episodes, {steps:,} env steps; best of {args.repeat} (wall clock)")
    print(f"{'part':<58} {'s':>7} {'share':>6} {'us/step':>8}")
    for name, seconds in rows:
        print(f"{name:<58} {seconds:7.2f} {seconds / total:6.1%} {seconds / steps * 1e6:8.2f}")
    print(f"{'total (with timers)':<58} {total:7.2f} {1:6.1%} {total / steps * 1e6:8.2f}")
    print(f"  (CPU time of that run: {parts['cpu']:.2f} s)")
    print(f"plain train() without timers: {plain:.2f} s wall ({plain_cpu:.2f} s CPU) = {steps / plain:,.0f} env steps/s")
    print(f"the environment alone, random actions, same {steps:,} steps: Gymnasium's env.step {gym_s:.2f} s "
          f"({steps / gym_s:,.0f} steps/s), rollout_episode {fast_s:.2f} s ({steps / fast_s:,.0f} steps/s); the "
          f"trainer takes {plain / fast_s:.1f}x the time of rollout_episode's bare environment")


if __name__ == "__main__":
    main()
