"""lecture_utils: the machinery behind the A2C lecture notebooks.

Layers, each importing only those below it::

    returns (pure maths on arrays) -> envs, networks -> agents, trainer, evaluation
        -> experiments (sweeps, data sets with provenance, statistics) -> cli

Plotting reads DataFrames and knows no trainer. Notebooks import the common names from here and the specialised
helpers of one lecture (diagnostics, GAE analysis, network maps, ...) from their modules.

Names load on first use (PEP 562): ``import lecture_utils`` itself imports nothing heavy, so the command line can
answer ``--help``, a bad option or a Ctrl-C before PyTorch has loaded.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it, by module.
_EXPORTS_BY_MODULE: dict[str, list[str]] = {
    "agent": ["A2CAgent", "UpdateStats", "policy_entropy", "sample_action"],
    "claims": ["check", "claim", "compare_rates"],
    "config": ["A2CConfig"],
    "envs": ["Episode", "env_dimensions", "make_env", "rollout_episode"],
    "errors": ["ConfigError", "DataError", "LectureError", "TrainingDiverged"],
    "evaluation": ["EvalResult", "evaluate"],
    "experiments": ["ENTROPY_COEFS", "EXPERIMENTS", "load_experiment", "run_experiment"],
    "gradient_variance": ["ActorSnapshot", "CriticSnapshot", "FrozenAgent", "compare_estimators", "plot_estimator_table"],
    "lockstep": ["train_seeds"],
    "networks": ["build_networks", "count_parameters", "make_actor", "make_critic"],
    "numpy_agent": ["NumpyA2CAgent"],
    "plotting": ["plot_final_returns", "plot_learning_curves", "plot_metric_by_config"],
    "rendering": ["RenderedEpisode", "frame_strip", "gif_bytes", "lean_controller", "render_episode", "show_gif"],
    "returns": ["discounted_returns", "gae_advantages", "mc_advantages", "n_step_returns", "td0_targets", "td_errors"],
    "session": ["setup"],
    "snapshot_sets": ["load_snapshots"],
    "stats": ["COLLAPSE_THRESHOLD", "bootstrap_ci", "collapse_rate", "final_returns", "interquartile_mean", "median_band",
              "smooth", "smoothed_curves", "summarize_final"],
    "sweep": ["run_sweep"],
    "torch_agent": ["TorchA2CAgent"],
    "trainer": ["EPISODE_COLUMNS", "TrainResult", "make_agent", "train"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS_BY_MODULE.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'lecture_utils' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))


if TYPE_CHECKING:  # type checkers and IDEs see the names as if imported eagerly
    from .agent import A2CAgent, UpdateStats, policy_entropy, sample_action
    from .claims import check, claim, compare_rates
    from .config import A2CConfig
    from .envs import Episode, env_dimensions, make_env, rollout_episode
    from .errors import ConfigError, DataError, LectureError, TrainingDiverged
    from .evaluation import EvalResult, evaluate
    from .experiments import ENTROPY_COEFS, EXPERIMENTS, load_experiment, run_experiment
    from .lockstep import train_seeds
    from .networks import build_networks, count_parameters, make_actor, make_critic
    from .gradient_variance import ActorSnapshot, CriticSnapshot, FrozenAgent, compare_estimators, plot_estimator_table
    from .numpy_agent import NumpyA2CAgent
    from .plotting import plot_final_returns, plot_learning_curves, plot_metric_by_config
    from .rendering import RenderedEpisode, frame_strip, gif_bytes, lean_controller, render_episode, show_gif
    from .returns import (discounted_returns, gae_advantages, mc_advantages, n_step_returns, td0_targets,
                          td_errors)
    from .session import setup
    from .snapshot_sets import load_snapshots
    from .stats import (COLLAPSE_THRESHOLD, bootstrap_ci, collapse_rate, final_returns, interquartile_mean, median_band,
                        smooth, smoothed_curves, summarize_final)
    from .sweep import run_sweep
    from .torch_agent import TorchA2CAgent
    from .trainer import EPISODE_COLUMNS, TrainResult, make_agent, train
