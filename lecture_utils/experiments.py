"""The long experiments behind the lectures, each a named data set in ``data/``.

``make data`` (or ``python -m lecture_utils experiments [NAME ...]``) runs them. Every finished run is saved at once
under ``data/.cache/`` (keyed by the code, the CPU path and the configuration), so an interrupted ``make data``
resumes where it stopped and never recomputes a finished run; each data set is then written atomically with its
provenance sidecar.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from .atomic import atomic_write_bytes
from .config import A2CConfig
from .cpu_path import BASELINE_PATH, cpu_path_key
from .datasets import DATA_DIR, DECODE_ERRORS, code_fingerprint, decode_table, encode_table, load_dataset, write_dataset
from .errors import ConfigError
from .sweep import RunSpec, block_trainer, run_sweep, tidy
from .history import EPISODE_COLUMNS
from .snapshot_sets import SNAPSHOT_SETS, run_snapshot_set
from .recipes import (ABLATION_FIXES, ABLATION_STEPS, CANONICAL_BASE_RUNG, CANONICAL_ROLLOUT_STEPS, CRITIC_TARGET_SEEDS,
                      DRIFT_SEEDS, FRESH_SEED_RUNGS, FRESH_SEEDS, PPO_STYLE_FROM, RECOMMENDED_16_ENVS_CONFIG,
                      RECOMMENDED_PAUSE_CONFIG, PAUSE_SEEDS, rung_display_name,
                      RECOMMENDED_CONFIG, RUNG_DISPLAY_NAMES, ablation_ladder, canonical_a2c)

__all__ = ["Experiment", "EXPERIMENTS", "ENTROPY_COEFS", "GAE_LAMBDAS", "ABLATION_STEPS", "ablation_ladder",
           "ABLATION_FIXES", "RECOMMENDED_CONFIG", "FRESH_SEEDS", "FRESH_SEED_RUNGS", "CANONICAL_BASE_RUNG",
           "CANONICAL_ROLLOUT_STEPS", "canonical_a2c", "CRITIC_TARGET_SEEDS", "RECOMMENDED_16_ENVS_CONFIG", "DRIFT_SEEDS",
           "RECOMMENDED_PAUSE_CONFIG", "rung_display_name", "PAUSE_SEEDS",
           "PPO_STYLE_FROM", "RUNG_DISPLAY_NAMES",
           "get_experiment", "run_experiment",
           "load_experiment", "experiment_names", "make_data_set", "check_data_set_name", "describe_data_set"]

#: Entropy-bonus coefficients of the entropy sweep (0 is the seed).
ENTROPY_COEFS = (0.0, 0.003, 0.01, 0.03, 0.1)
SEEDS = tuple(range(10))
#: What the sweeps leave out: the lectures read returns, lengths, entropy, actor gradient norms and advantage
#: spread from them, and the full set of columns is in ``a2c_seed_config``.
SWEEP_DROP = ("actor_loss", "critic_loss", "critic_grad_norm", "critic_update_norm")
#: What the solve-rate studies leave out besides: they are read for returns and lengths only (canonical A2C's short
#: episodes make many rows).
RETURNS_ONLY_DROP = (*SWEEP_DROP, "entropy", "actor_grad_norm", "advantage_std", "actor_update_norm")


@dataclass(frozen=True)
class Experiment:
    """A data set: named configurations, each trained on every seed."""

    name: str
    description: str
    configs: Mapping[str, A2CConfig]
    seeds: Sequence[int] = SEEDS
    drop: Sequence[str] = ()
    """Per-episode columns not stored (to keep ``data/`` small); the rest of EPISODE_COLUMNS are."""
    forced_cpu_path: Mapping[str, str] | None = None
    """Environment variables that force the CPU path the runs are made on (:mod:`.cpu_path`); None: the machine's
    own path. ``make data`` runs such an experiment in a child process with these variables set."""

    @property
    def columns(self) -> list[str]:
        """The columns the stored table must have (besides the varying config fields)."""
        return [c for c in ["config", "seed", *EPISODE_COLUMNS] if c not in self.drop]


#: GAE lambdas of the GAE sweep (the seed's Monte Carlo advantage is the extra config "MC (seed)").
GAE_LAMBDAS = (0.0, 0.5, 0.9, 0.95, 0.99)
EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in [
        Experiment(
            name="a2c_seed_config",
            description="The seed's A2C with the seed's hyperparameters, 2000 episodes, 10 seeds; per-episode "
                        "return, length, losses, policy entropy, gradient norms and advantage spread.",
            configs={"seed": A2CConfig()},
        ),
        Experiment(
            name="a2c_seed_config_baseline_cpu",
            description="The runs of a2c_seed_config (the seed's A2C, 2000 episodes, 10 seeds) computed again on the "
                        "forced baseline CPU path (OpenBLAS Prescott kernels, no NumPy AVX2/AVX-512 dispatch, torch "
                        "and MKL without AVX): what another CPU makes of the same seeds.",
            configs={"seed": A2CConfig()},
            drop=SWEEP_DROP,
            forced_cpu_path=BASELINE_PATH,
        ),
        Experiment(
            name="entropy_sweep",
            description="The seed's A2C plus an entropy bonus beta * H[pi] in the actor loss, for each beta in "
                        f"{list(ENTROPY_COEFS)}, 2000 episodes, 10 seeds.",
            configs={f"beta={beta:g}": A2CConfig(entropy_coef=beta) for beta in ENTROPY_COEFS},
            drop=SWEEP_DROP,
        ),
        Experiment(
            name="gae_sweep",
            description="The seed's A2C with its Monte Carlo advantage replaced by GAE(lambda) for each lambda in "
                        f"{list(GAE_LAMBDAS)}, and the seed itself ('MC (seed)'), 2000 episodes, 10 seeds.",
            configs={"MC (seed)": A2CConfig(),
                     **{f"lambda={lam:g}": A2CConfig(gae_lambda=lam) for lam in GAE_LAMBDAS}},
            drop=SWEEP_DROP,
        ),
        Experiment(
            name="gae_lambda_one",
            description="The seed's A2C with GAE(lambda = 1): the Monte Carlo advantage G_t - V(s_t), except that an "
                        "episode cut by the time limit is bootstrapped with V(s_500) instead of being summed as if the "
                        "pole had fallen; 2000 episodes, 10 seeds. Beside gae_sweep it separates bootstrapping at the "
                        "time limit from variance reduction.",
            configs={"lambda=1": A2CConfig(gae_lambda=1.0)},
            drop=SWEEP_DROP,
        ),
        Experiment(
            name="ablation",
            description="From the seed, one fix at a time (cumulative): entropy bonus 0.01, "
                        "GAE 0.95, gradient clipping 0.5, linear LR decay, log-softmax, advantage normalisation, "
                        "8 environments with 32-step rollouts, PPO's ratio clip 0.2, then the entropy bonus removed; "
                        f"{ABLATION_STEPS} environment steps each, 10 seeds.",
            configs=ablation_ladder(),
            drop=SWEEP_DROP,
        ),
        Experiment(
            name="a2c_canonical",
            description="Canonical A2C beside the ablation: its +8 envs rung (entropy 0.01, GAE 0.95, gradient "
                        "clipping, LR decay, log-softmax, advantage normalisation, 8 environments) with one actor and "
                        "one critic step per rollout (no passes, no minibatches, no ratio clip), rollouts of "
                        f"8 x {' and 8 x '.join(map(str, CANONICAL_ROLLOUT_STEPS))} steps; {ABLATION_STEPS} "
                        "environment steps each, the ablation's 10 seeds.",
            configs={f"A2C 8x{n}, 1 step": canonical_a2c(n) for n in CANONICAL_ROLLOUT_STEPS},
            drop=SWEEP_DROP,
        ),
        Experiment(
            name="critic_targets",
            description="The critic's regression target, TD(0) (the seed's, every config's default) against the "
                        "lambda-return A^GAE + V (critic_target='lambda_return', as CleanRL and Stable-Baselines3 "
                        "use), on the recommended recipe and on canonical A2C (8 x 5-step rollouts, one step per "
                        f"rollout); {ABLATION_STEPS} environment steps each, {len(CRITIC_TARGET_SEEDS)} seeds "
                        f"{CRITIC_TARGET_SEEDS[0]}-{CRITIC_TARGET_SEEDS[-1]} that no other data set uses.",
            configs={"recipe, TD(0)": RECOMMENDED_CONFIG,
                     "recipe, lambda-return": RECOMMENDED_CONFIG.replace(critic_target="lambda_return"),
                     "A2C 8x5, TD(0)": canonical_a2c(5),
                     "A2C 8x5, lambda-return": canonical_a2c(5).replace(critic_target="lambda_return")},
            seeds=CRITIC_TARGET_SEEDS,
            drop=RETURNS_ONLY_DROP,
        ),
        Experiment(
            name="recipe_drift",
            description="RECOMMENDED_CONFIG against two candidates against its late drift, RECOMMENDED_16_ENVS_CONFIG "
                        "(16 environments instead of 8, minibatches of 64) and RECOMMENDED_PAUSE_CONFIG (no "
                        "update while the last 100 episodes all reached 500), on "
                        f"{len(DRIFT_SEEDS)} seeds {DRIFT_SEEDS[0]}-{DRIFT_SEEDS[-1]} (fresh for the recipe and the "
                        "16-environment fix; the recipe's misses on them prompted the pause, which recipe_pause tests), "
                        f"{ABLATION_STEPS} environment steps each: how often each ends solved.",
            configs={"recipe (8 envs)": RECOMMENDED_CONFIG, "recipe, 16 envs": RECOMMENDED_16_ENVS_CONFIG,
                     "recipe, pause at 500": RECOMMENDED_PAUSE_CONFIG},
            seeds=DRIFT_SEEDS,
            drop=RETURNS_ONLY_DROP,
        ),
        Experiment(
            name="recipe_pause",
            description="RECOMMENDED_CONFIG against RECOMMENDED_PAUSE_CONFIG (no update while the last 100 "
                        f"episodes all reached 500) on {len(PAUSE_SEEDS)} seeds {PAUSE_SEEDS[0]}-{PAUSE_SEEDS[-1]}, "
                        f"fresh for the pause (recipe_drift's seeds prompted it), {ABLATION_STEPS} environment steps "
                        "each: how often each ends solved.",
            configs={"recipe (8 envs)": RECOMMENDED_CONFIG, "recipe, pause at 500": RECOMMENDED_PAUSE_CONFIG},
            seeds=PAUSE_SEEDS,
            drop=RETURNS_ONLY_DROP,
        ),
        Experiment(
            name="recommended_fresh_seeds",
            description=f"The ablation's top three rungs ({', '.join(FRESH_SEED_RUNGS)}; the last is RECOMMENDED_CONFIG) "
                        f"on {len(FRESH_SEEDS)} fresh seeds {FRESH_SEEDS[0]}-{FRESH_SEEDS[-1]}, {ABLATION_STEPS} "
                        "environment steps each: their solve rates beyond the ablation's ten seeds.",
            configs={name: config for name, config in ablation_ladder().items() if name in FRESH_SEED_RUNGS},
            seeds=FRESH_SEEDS,
            drop=SWEEP_DROP,
        ),
    ]
}


def experiment_names() -> list[str]:
    """Every data set ``make data`` makes: the per-episode experiments, then the stored-weights sets."""
    return list(EXPERIMENTS) + list(SNAPSHOT_SETS)


def describe_data_set(name: str) -> str:
    check_data_set_name(name)
    return (EXPERIMENTS[name] if name in EXPERIMENTS else SNAPSHOT_SETS[name]).description


def check_data_set_name(name: str) -> None:
    """:class:`ConfigError` listing the valid names unless ``name`` is a data set ``make data`` can make."""
    if name not in EXPERIMENTS and name not in SNAPSHOT_SETS:
        raise ConfigError(f"unknown experiment {name!r}: choose from {', '.join(experiment_names())}")


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; :class:`ConfigError` listing the valid names if there is none."""
    if name not in EXPERIMENTS:
        check_data_set_name(name)
        raise ConfigError(f"{name!r} is a set of stored weights, not a per-episode experiment: "
                          f"load it with lecture_utils.snapshot_sets.load_snapshots")
    return EXPERIMENTS[name]


def make_data_set(name: str, n_jobs: int = -1, force: bool = False, progress: bool = True,
                  data_dir: Path | None = None) -> Path:
    """Make data set ``name``, of either kind (:func:`run_experiment` or :func:`run_snapshot_set`)."""
    check_data_set_name(name)
    if name in SNAPSHOT_SETS:  # a few seconds of training: always recomputed, nothing to resume
        return run_snapshot_set(name, data_dir=data_dir, progress=progress)
    return run_experiment(name, n_jobs=n_jobs, force=force, progress=progress, data_dir=data_dir)


def _run_cache_path(cache_dir: Path, spec: RunSpec) -> Path:
    key = hashlib.sha256(json.dumps(spec.config.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir / f"{spec.name}__{key}__seed{spec.seed}.csv.gz"


def run_experiment(name: str, n_jobs: int = -1, force: bool = False, progress: bool = True,
                   data_dir: Path | None = None, seeds: Sequence[int] | None = None) -> Path:
    """Make data set ``name`` (resuming from finished runs unless ``force``) and return the table's path."""
    experiment = get_experiment(name)
    data_dir = Path(data_dir or DATA_DIR)
    forced = experiment.forced_cpu_path
    if forced and any(os.environ.get(key) != value for key, value in forced.items()):
        # The libraries read these variables once, when they load: only a fresh process can take the forced path.
        if seeds is not None:
            raise ConfigError(f"experiment {name!r} runs in a child process on its forced CPU path: give no seeds")
        return _run_on_forced_path(name, forced, n_jobs, force, data_dir)
    seeds = list(experiment.seeds if seeds is None else seeds)
    # A cached run is reused only by the same code on the same CPU path (another path computes other last bits).
    cache_dir = data_dir / ".cache" / name / f"{code_fingerprint()[:16]}-{cpu_path_key()}"
    cache_dir.mkdir(parents=True, exist_ok=True)
    if force:
        for stale in cache_dir.glob("*.csv.gz"):
            stale.unlink()

    def save(spec: RunSpec, frame: pd.DataFrame) -> None:
        atomic_write_bytes(_run_cache_path(cache_dir, spec), encode_table(frame))

    def done(spec: RunSpec) -> bool:
        """A finished run in the cache; a damaged entry (an interrupted disk, a hand edit) is discarded and rerun."""
        path = _run_cache_path(cache_dir, spec)
        if not path.exists():
            return False
        try:
            decode_table(path.read_bytes())
            return True
        except DECODE_ERRORS:
            if progress:
                print(f"discarding a damaged cached run, to be recomputed: {path}")
            path.unlink(missing_ok=True)
            return False

    start = time.perf_counter()
    run_sweep(experiment.configs, seeds, n_jobs=n_jobs, progress=progress, on_result=save, skip=done)
    # Assemble from the cache, so fresh and resumed runs go through the same (rounded) encoding.
    frames = [decode_table(_run_cache_path(cache_dir, RunSpec(n, c, s)).read_bytes())
              for n, c in experiment.configs.items() for s in seeds]
    table = tidy(frames, experiment.configs).drop(columns=list(experiment.drop))
    command = f"python -m lecture_utils experiments {name}"
    path = write_dataset(name, table, description=experiment.description, configs=experiment.configs, seeds=seeds,
                         command=command, data_dir=data_dir,
                         trainer={n: block_trainer(c) for n, c in experiment.configs.items()})
    if progress:
        print(f"{name}: {len(table)} rows, {len(experiment.configs)} config(s) x {len(seeds)} seeds -> {path} "
              f"({time.perf_counter() - start:.0f} s)")
    return path


def _run_on_forced_path(name: str, forced: Mapping[str, str], n_jobs: int, force: bool, data_dir: Path) -> Path:
    """Make experiment ``name`` in a child process whose environment forces the CPU path ``forced``."""
    if platform.machine() not in ("x86_64", "AMD64"):
        raise ConfigError(f"experiment {name!r} is made on forced x86-64 kernels; this machine is "
                          f"{platform.machine()}: make it on an x86-64 machine")
    command = [sys.executable, "-m", "lecture_utils", "experiments", name] + (["--force"] if force else [])
    if n_jobs > 0:
        command += ["--jobs", str(n_jobs)]
    env = {**os.environ, **forced, "LECTURE_DATA_DIR": str(data_dir)}
    if subprocess.run(command, env=env).returncode != 0:
        raise ConfigError(f"making {name!r} on its forced CPU path failed (see the messages above); run "
                          f"`{' '.join(f'{k}={v!r}' for k, v in forced.items())} {' '.join(command[1:])}` to retry")
    return data_dir / f"{name}.csv.gz"


def load_experiment(name: str, data_dir: Path | None = None) -> pd.DataFrame:
    """Load data set ``name`` checked against the experiment's current definition (see ``load_dataset``)."""
    experiment = get_experiment(name)
    return load_dataset(name, expected_configs=experiment.configs, required_columns=experiment.columns,
                        data_dir=data_dir)
