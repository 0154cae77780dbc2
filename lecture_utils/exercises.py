"""Checkers for the lectures' exercises: each prints whether the answer is right and, if not, a hint that does not
give the answer away, and returns the verdict."""
from __future__ import annotations

import pandas as pd

from .collapse import collapse_onsets
from .entropy import binary_entropy, entropy_slope

__all__ = ['check_earliest_collapse', 'check_entropy_slope', 'check_entropy_of']


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
