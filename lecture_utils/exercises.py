"""Checkers for the lectures' exercises: each prints whether the answer is right and, if not, a hint that does not
give the answer away, and returns the verdict."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .collapse import collapse_onsets
from .envs import Episode
from .returns import discounted_returns
from .entropy import binary_entropy, entropy_slope
from .stats import proportion_interval

__all__ = ["check_earliest_collapse", "check_entropy_slope", "check_entropy_of", "check_log_probs",
           "check_switch_velocity", "check_seeds_needed", "check_actor_loss"]


def check_earliest_collapse(table: pd.DataFrame, seed: int, episode: int) -> bool:
    """Exercise check: is ``seed`` the run whose final collapse starts earliest, and ``episode`` its onset?"""
    onsets = collapse_onsets(table).dropna(subset=["onset"])
    if onsets.empty:
        print("no run in this table ends collapsed: nothing to find")
        return False
    best = onsets.sort_values(["onset", "seed"], kind="stable").iloc[0]
    right_seed = int(seed) == int(best["seed"])
    right_episode = int(episode) == int(best["onset"])
    if right_seed and right_episode:
        print(f"correct: seed {seed} stays collapsed from episode {episode} on")
    elif right_seed:
        print(f"right seed, but its onset is not episode {episode}: use collapse_onset on its returns")
    else:
        print(f"not seed {seed}: compare the onsets of all runs (collapse_onsets)")
    return right_seed and right_episode



def check_entropy_slope(p: float, answer: float, tolerance: float = 1e-3) -> bool:
    """Exercise check: is ``answer`` dH/dz of a two-action softmax whose preferred action has probability ``p``?"""
    truth = float(entropy_slope(p))
    ok = abs(float(answer) - truth) <= tolerance
    print("correct" if ok else f"not quite: dH/dz at p = {p} is not {answer}; z = ln(p / (1 - p)), and mind the sign")
    return ok



def check_entropy_of(p: float, answer: float, tolerance: float = 1e-3) -> bool:
    """Exercise check: is ``answer`` the entropy in nats of a two-action policy with probabilities ``p, 1 - p``?"""
    truth = float(binary_entropy(p))
    ok = abs(float(answer) - truth) <= tolerance
    print("correct" if ok else f"not quite: H({p}) is not {answer}; remember natural logs and both actions")
    return ok


def check_log_probs(seed_way: float, stable: float) -> bool:
    """Lecture 07, exercise 1: log pi(1) for logits (0, -25), the seed's way (float32 softmax, then log(p + 1e-8)) and
    by log-softmax. Each is judged on its own; a wrong one gets a hint, never the number."""
    logits = np.array([0.0, -25.0], dtype=np.float32)
    probs = np.exp(logits) / np.exp(logits).sum()
    expected_seed = float(np.log(probs[1] + np.float32(1e-8)))
    expected_stable = -25.0 - math.log1p(math.exp(-25.0))
    seed_ok = abs(float(seed_way) - expected_seed) < 1e-2
    stable_ok = abs(float(stable) - expected_stable) < 1e-3
    if seed_ok and stable_ok:
        print("both correct: the seed's guard turns a log-probability of about -25 into about -18")
    else:
        if not seed_ok:
            print("the seed's way is not right yet: take the float32 softmax first, then log(p + 1e-8)")
        if not stable_ok:
            print("the log-softmax is not right yet: z_1 - max(z) - log(sum(exp(z - max(z))))")
    return seed_ok and stable_ok


def check_switch_velocity(value: float, grid: pd.DataFrame) -> bool:
    """Lecture 07, exercise 3: the angular velocity (rad/s) at which P(right) crosses 0.5 with the pole upright, read
    off ``grid`` (columns ``angle, angular_velocity, p_right``, as ``network_grid`` returns), to within 0.15."""
    upright = grid[grid["angle"].abs() == grid["angle"].abs().min()].sort_values("angular_velocity")
    crossing = float(np.interp(0.5, upright["p_right"], upright["angular_velocity"]))
    ok = abs(float(value) - crossing) < 0.15
    if ok:
        print("correct: with the pole upright the policy pushes right once the pole starts falling right fast enough")
    else:
        side = "lower" if value > crossing else "higher"
        print(f"not yet: look {side}; take the rows of the smallest |angle| and find where p_right passes 0.5")
    return ok


def check_seeds_needed(n: int) -> bool:
    """Lecture 07, exercise 4: the fewest seeds n for which n solved out of n puts the 95% Wilson interval's lower end
    above 90%."""
    needed = next(m for m in range(1, 1000) if proportion_interval(m, m)[0] > 0.9)
    ok = int(n) == needed
    print("correct" if ok else f"not yet: try {'more' if n < needed else 'fewer'} seeds (proportion_interval(n, n))")
    return ok


def seed_actor_loss(agent: Any, episode: Episode, gamma: float, batch: int) -> float:
    """The seed's actor loss ``-mean(A_t log(pi(a_t|s_t) + 1e-8))``, ``A_t = G_t - V(s_t)``, on the first ``batch``
    steps of ``episode``, for a torch agent (``agent.actor``, ``agent.critic``)."""
    import torch

    with torch.no_grad():
        obs = torch.as_tensor(episode.obs[:batch])
        returns = torch.as_tensor(discounted_returns(episode.rewards, gamma)[:batch], dtype=torch.float32)
        advantages = returns - agent.critic(obs).squeeze(-1)
        taken = torch.as_tensor(episode.actions[:batch])[:, None]
        log_pi = torch.log(agent.actor(obs) + 1e-8).gather(1, taken).squeeze(-1)
        return float(-(advantages * log_pi).mean())


def check_actor_loss(value: float, agent: Any, episode: Episode, gamma: float, batch: int = 8) -> bool:
    """Lecture 03, exercise 1: is ``value`` the seed's actor loss on the first ``batch`` steps of ``episode``?

    Recognises the usual slip (the loss of the lecture's own 32-step minibatch, unchanged) and says so."""
    ok = abs(float(value) - seed_actor_loss(agent, episode, gamma, batch)) < 1e-4
    if ok:
        print(f"correct: that is the actor loss of the first {batch} steps")
    elif abs(float(value) - seed_actor_loss(agent, episode, gamma, 32)) < 1e-4:
        print(f"not yet: that is the loss of the first 32 steps; set B = {batch} and recompute")
    else:
        print("not yet: A_t = G_t - V(s_t) with no gradient, log(pi(a_t|s_t) + 1e-8), then minus their mean product")
    return ok
