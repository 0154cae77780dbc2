"""Stored network weights: the trained agents that lectures study, identical on every computer.

A lecture that studies *one* trained agent (the policy whose gradient noise lecture 02b measures, the seed-3 run that
collapses in lecture 04a, ...) cannot retrain it live and expect the same agent everywhere: another CPU computes other
last bits, and after some hundred episodes one sampled action differs and the run is another run. So the weights are
made once by ``make data lecture_snapshots`` and stored; every number computed from them (in float64, see
:class:`~lecture_utils.gradient_variance.ActorSnapshot`) is then the same on every CPU.

The table has one row per weight: ``run, seed, episodes, tensor, index, value``, where ``episodes`` counts the
training episodes before the snapshot, ``tensor`` is a key of :meth:`A2CAgent.get_weights` (``actor.0.weight``, ...)
and ``index`` the position in that tensor, flattened row-major. Values are float32, written with 9 significant
digits, which round-trips a float32 exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from .config import A2CConfig
from .recipes import RECOMMENDED_CONFIG
from .datasets import load_dataset, rebuild_command, write_dataset
from .snapshots import Snapshot, train_with_snapshots
from .errors import DataError
from .trainer import make_agent

__all__ = ["SnapshotRun", "SnapshotSet", "SNAPSHOT_SETS", "WEIGHT_FLOAT_FORMAT", "run_snapshot_set",
           "load_snapshots"]

#: 9 significant digits write every float32 so that reading it back gives the same float32.
WEIGHT_FLOAT_FORMAT = "%.9g"
COLUMNS = ["run", "seed", "episodes", "tensor", "index", "value"]


@dataclass(frozen=True)
class SnapshotRun:
    """One training run whose weights a lecture studies: ``config`` trained on ``seed``, weights kept after each
    number of episodes in ``episodes`` (increasing)."""

    config: A2CConfig
    seed: int
    episodes: tuple[int, ...]
    keep_final: bool = False
    """Also keep the weights at the end of training, and train on ``config``'s own budget (a step budget ends at
    an episode count not known in advance); otherwise training stops at ``max(episodes)``."""


@dataclass(frozen=True)
class SnapshotSet:
    """A data set of stored weights: named runs."""

    name: str
    description: str
    runs: Mapping[str, SnapshotRun]


SNAPSHOT_SETS: dict[str, SnapshotSet] = {
    s.name: s
    for s in [
        SnapshotSet(
            name="lecture_snapshots",
            description="Weights of the trained agents the lectures study. The seed's A2C: seed 1 after 50 "
                        "and 100 episodes (lectures 02a, 02b and 06), seed 8 after 300 episodes (lecture 03), seed 3 every "
                        "25 episodes to 300 (lectures 04a and 04b), seed 0 after 100, 165 and 465 episodes (lecture 07), and "
                        "with entropy bonus 0.1 on seed 3 every 25 episodes to 300 (lecture 05). The recommended "
                        "recipe on seed 32 (one of recommended_fresh_seeds) after 600 episodes and at the end of its "
                        "300,000 steps (lecture 07b).",
            runs={
                "02 seed 1": SnapshotRun(A2CConfig(), seed=1, episodes=(50, 100)),
                "03 seed 8": SnapshotRun(A2CConfig(), seed=8, episodes=(300,)),
                "04 seed 3": SnapshotRun(A2CConfig(), seed=3, episodes=tuple(range(25, 301, 25))),
                "05 beta=0.1 seed 3": SnapshotRun(A2CConfig(entropy_coef=0.1), seed=3,
                                                  episodes=tuple(range(25, 301, 25))),
                "07 seed 0": SnapshotRun(A2CConfig(), seed=0, episodes=(100, 165, 465)),
                "07 recipe seed 32": SnapshotRun(RECOMMENDED_CONFIG, seed=32, episodes=(600,), keep_final=True),
            },
        ),
    ]
}


def _snapshots_of(run: SnapshotRun) -> list[Snapshot]:
    """Train ``run`` once, in chunks whose ends fall on every requested episode count, and keep those weights."""
    every = reduce(math.gcd, run.episodes)
    config = run.config if run.keep_final else run.config.replace(episodes=max(run.episodes))
    _, snapshots = train_with_snapshots(config, seed=run.seed, every=every)
    wanted = set(run.episodes)
    kept = [snap for snap in snapshots if snap.episodes in wanted]
    if run.keep_final and snapshots[-1].episodes not in wanted:
        kept.append(snapshots[-1])
    return kept


def _table(name: str, run: SnapshotRun, snapshots: list[Snapshot]) -> pd.DataFrame:
    frames = []
    for snap in snapshots:
        for tensor, values in snap.weights.items():
            flat = np.asarray(values, dtype=np.float32).reshape(-1)
            frames.append(pd.DataFrame({"run": name, "seed": run.seed, "episodes": snap.episodes, "tensor": tensor,
                                        "index": np.arange(flat.size), "value": flat.astype(np.float64)}))
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def run_snapshot_set(name: str, data_dir: Path | None = None, progress: bool = True) -> Path:
    """Train every run of snapshot set ``name`` and write its table and sidecar (atomically); return the path."""
    snapshot_set = SNAPSHOT_SETS[name]
    tables = [_table(run_name, run, _snapshots_of(run)) for run_name, run in snapshot_set.runs.items()]
    table = pd.concat(tables, ignore_index=True)
    configs = {run_name: run.config for run_name, run in snapshot_set.runs.items()}
    extra = {"runs": {run_name: {"seed": run.seed, "episodes": list(run.episodes), "keep_final": run.keep_final}
                      for run_name, run in snapshot_set.runs.items()},
             "float_format": WEIGHT_FLOAT_FORMAT}
    path = write_dataset(name, table, description=snapshot_set.description, configs=configs,
                         seeds=sorted({run.seed for run in snapshot_set.runs.values()}),
                         command=f"python -m lecture_utils experiments {name}", extra=extra, data_dir=data_dir,
                         float_format=WEIGHT_FLOAT_FORMAT, trainer="lecture_utils.snapshots.train_with_snapshots")
    if progress:
        print(f"{name}: {len(table)} weights of {table.groupby(['run', 'episodes']).ngroups} snapshots -> {path}")
    return path


def load_snapshots(run: str, name: str = "lecture_snapshots", data_dir: Path | None = None) -> list[Snapshot]:
    """The stored snapshots of ``run`` (a key of the set's ``runs``), in order of ``episodes`` (with ``keep_final``,
    the one at the end of training last).

    Each :class:`Snapshot` holds float32 weights keyed as :meth:`A2CAgent.get_weights`, with the network's shapes.
    Raises :class:`DataError` naming ``make data <name>`` if the file is missing, damaged, made with other settings,
    or lacks a snapshot this code defines.
    """
    snapshot_set = SNAPSHOT_SETS[name]
    if run not in snapshot_set.runs:
        raise DataError(f"snapshot set {name!r} has no run {run!r}; choose from {', '.join(snapshot_set.runs)}")
    spec = snapshot_set.runs[run]
    table = load_dataset(name, expected_configs={k: r.config for k, r in snapshot_set.runs.items()},
                         required_columns=COLUMNS, data_dir=data_dir)
    rows = table[table["run"] == run]
    shapes = {k: v.shape for k, v in make_agent(spec.config, 4, 2, spec.seed).get_weights().items()}
    counts = list(spec.episodes)
    if spec.keep_final and len(rows) and int(rows["episodes"].max()) not in counts:
        counts.append(int(rows["episodes"].max()))  # the end of training, wherever its budget ended it
    snapshots = []
    for episodes in counts:
        at = rows[rows["episodes"] == episodes]
        weights = {}
        for tensor, shape in shapes.items():
            values = at.loc[at["tensor"] == tensor].sort_values("index", kind="stable")["value"].to_numpy()
            if values.size != int(np.prod(shape)) or (at["seed"] != spec.seed).any():
                raise DataError(f"data set {name!r} lacks the weights {tensor} of {run!r} after {episodes} "
                                f"episodes; rebuild it with `{rebuild_command(name)}`")
            weights[tensor] = values.astype(np.float32).reshape(shape)
        snapshots.append(Snapshot(episodes, weights))
    return snapshots
