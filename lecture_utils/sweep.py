"""Sweeps: configurations x seeds, each run a task, gathered into one tidy DataFrame.

Runs are spread over every local core by default (joblib's ``loky`` process pool, one PyTorch/BLAS thread per
worker). The same call runs on a cluster through any joblib backend, e.g. Dask::

    from dask.distributed import Client
    client = Client("tcp://scheduler:8786")          # an existing Dask cluster
    frame = run_sweep(configs, seeds, backend="dask")

Each task is a *block* of seeds of one configuration, trained in one process: rollout configurations by
:func:`.lockstep.train_seeds` (the seeds step in lockstep), episodic ones seed by seed (:func:`block_trainer`).
Results do not depend on the backend, the number of workers or the blocks: every run is seeded by its own seed
alone, and seed ``s`` of a block gives exactly ``train(config, seed=s)``'s table.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import pandas as pd

from .config import A2CConfig

__all__ = ["RunSpec", "run_one", "run_block", "block_trainer", "run_sweep", "seed_blocks", "sweep_specs", "varying_fields",
           "LOCKSTEP_BLOCK"]


@dataclass(frozen=True)
class RunSpec:
    """One task of a sweep: a named configuration and a seed."""

    name: str
    config: A2CConfig
    seed: int


def _single_thread() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import torch

    torch.set_num_threads(1)


def run_one(spec: RunSpec) -> pd.DataFrame:
    """Train one run; its per-episode table with ``config`` (the name) and ``seed`` columns in front."""
    _single_thread()
    from .trainer import train

    history = train(spec.config, seed=spec.seed).history
    history.insert(0, "seed", spec.seed)
    history.insert(0, "config", spec.name)
    return history


def sweep_specs(configs: Mapping[str, A2CConfig], seeds: Iterable[int]) -> list[RunSpec]:
    """Every (configuration, seed) pair, configuration-major."""
    return [RunSpec(name, config, int(seed)) for name, config in configs.items() for seed in seeds]


#: Which function trains a block of each kind of configuration (:func:`block_trainer`).
LOCKSTEP_TRAINER = "lecture_utils.lockstep.train_seeds"
SEED_BY_SEED_TRAINER = "lecture_utils.trainer.train"


def block_trainer(config: A2CConfig) -> str:
    """The trainer :func:`run_block` uses for ``config``: the lockstep trainer for rollout configurations, where
    stepping the seeds together pays (every seed updates at every rollout); ``train`` seed by seed for episodic
    ones, where seeds that wait for each other's episodes to end cost more than stepping together saves (measured
    by ``benchmarks/lockstep_bench.py``). Either gives each seed exactly ``train(config, seed)``'s table."""
    return LOCKSTEP_TRAINER if config.rollout_steps is not None else SEED_BY_SEED_TRAINER


def run_block(specs: Sequence[RunSpec]) -> list[tuple[RunSpec, pd.DataFrame]]:
    """Train a block of runs of one configuration in one process, with :func:`block_trainer`'s choice; each run's
    table as :func:`run_one` gives it."""
    _single_thread()
    from .lockstep import train_seeds
    from .trainer import train

    config = specs[0].config
    if block_trainer(config) == LOCKSTEP_TRAINER:
        results = train_seeds(config, [s.seed for s in specs])
    else:
        results = [train(config, seed=s.seed) for s in specs]
    out = []
    for spec, result in zip(specs, results, strict=True):
        history = result.history
        history.insert(0, "seed", spec.seed)
        history.insert(0, "config", spec.name)
        out.append((spec, history))
    return out


#: Most seeds in one lockstep block when the caller sets no block size: past about this many, one more seed adds
#: little throughput (``benchmarks/lockstep_bench.py``, scaling table), and smaller blocks even out the workers' loads.
LOCKSTEP_BLOCK = 32


def seed_blocks(specs: Sequence[RunSpec], workers: int, block_size: int | None = None) -> list[list[RunSpec]]:
    """Group runs into tasks of one configuration each.

    With ``block_size`` set, every configuration's seeds go in blocks of that many. Unset: a rollout configuration's
    seeds (trained in lockstep) go in as few even blocks as keep every one of ``workers`` busy, at most
    :data:`LOCKSTEP_BLOCK` seeds each; an episodic configuration's seeds (trained one after another, see
    :func:`block_trainer`) are a task each, so that the workers' loads even out. Lockstep blocks come first: they
    are the long tasks, and the short ones then fill the workers' gaps at the end."""
    by_config: dict[str, list[RunSpec]] = {}
    for spec in specs:
        by_config.setdefault(spec.name, []).append(spec)
    if block_size is not None:
        size = max(1, int(block_size))
        return [runs[i:i + size] for runs in by_config.values() for i in range(0, len(runs), size)]
    lockstep = {name: runs for name, runs in by_config.items() if block_trainer(runs[0].config) == LOCKSTEP_TRAINER}
    blocks: list[list[RunSpec]] = []
    for runs in lockstep.values():  # even blocks, sizes differing by at most one
        wanted = max(-(-max(1, workers) // len(lockstep)), -(-len(runs) // LOCKSTEP_BLOCK))
        chunks = min(len(runs), wanted)
        blocks.extend(runs[k * len(runs) // chunks:(k + 1) * len(runs) // chunks] for k in range(chunks))
    blocks.extend([spec] for name, runs in by_config.items() if name not in lockstep for spec in runs)
    return blocks


def varying_fields(configs: Mapping[str, A2CConfig]) -> list[str]:
    """Config fields whose value differs between the configurations (these become columns of the tidy table)."""
    dicts = [c.to_dict() for c in configs.values()]
    return [key for key in dicts[0] if len({repr(d[key]) for d in dicts}) > 1] if dicts else []


def run_sweep(
    configs: Mapping[str, A2CConfig],
    seeds: Sequence[int],
    n_jobs: int = -1,
    backend: str | None = None,
    progress: bool = False,
    on_result: Callable[[RunSpec, pd.DataFrame], None] | None = None,
    skip: Callable[[RunSpec], bool] | None = None,
    block_size: int | None = None,
) -> pd.DataFrame:
    """Train every configuration on every seed and return one tidy table.

    Args:
        configs: name -> configuration.
        seeds: the seeds every configuration runs on.
        n_jobs: worker processes (-1: all cores; 1: run here, in order).
        backend: a joblib backend name (default ``loky``): ``"dask"`` once a ``dask.distributed.Client`` exists,
            ``"ray"`` after ``ray.util.joblib.register_ray()``; ``n_jobs=-1`` then means every worker of the cluster.
        progress: a tqdm bar over runs on stderr.
        on_result: called in this process as each run finishes (e.g. to save it at once, so a sweep can resume).
        skip: runs for which this returns true are not trained (already done) and are absent from the result.
        block_size: seeds per task; unset, :func:`seed_blocks` decides (lockstep blocks for rollout configurations,
            a task per seed for episodic ones).

    Returns:
        Columns ``config, seed, episode``, then the config fields that vary across ``configs``, then the metrics
        of :data:`~lecture_utils.history.EPISODE_COLUMNS`; rows ordered by configuration, seed and episode.
    """
    from joblib import Parallel, delayed, effective_n_jobs, parallel_config

    specs = [s for s in sweep_specs(configs, seeds) if not (skip and skip(s))]
    bar = None
    if progress:
        from .history import progress_bar

        bar = progress_bar(len(specs), "runs")
    frames: dict[tuple[str, int], pd.DataFrame] = {}
    if specs:
        # The backend goes through parallel_config, not Parallel(backend=...): only the former registers joblib's
        # external backends ("dask") on first use; Parallel alone rejects the name as unknown.
        with parallel_config(**({"backend": backend} if backend else {})):
            blocks = seed_blocks(specs, effective_n_jobs(n_jobs), block_size)
            jobs = 1 if len(blocks) == 1 else n_jobs
            parallel = Parallel(n_jobs=jobs, return_as="generator_unordered")
            for finished in parallel(delayed(run_block)(block) for block in blocks):
                for spec, frame in finished:
                    frames[(spec.name, spec.seed)] = frame
                    if on_result:
                        on_result(spec, frame)
                    if bar:
                        bar.update(1)
    if bar:
        bar.close()
    ordered = [frames[(s.name, s.seed)] for s in specs]
    return tidy(ordered, configs)


def tidy(frames: Sequence[pd.DataFrame], configs: Mapping[str, A2CConfig]) -> pd.DataFrame:
    """Concatenate run tables and add a column per varying config field, after ``config, seed, episode``."""
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    for position, field in enumerate(varying_fields(configs), start=3):
        table.insert(position, field, table["config"].map({n: getattr(c, field) for n, c in configs.items()}))
    return table
