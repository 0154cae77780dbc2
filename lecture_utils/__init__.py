"""lecture_utils: the machinery behind the A2C lecture notebooks.

Layers, each importing only those below it::

    returns (pure maths on arrays) -> envs, networks -> agents, trainer, evaluation
        -> experiments (sweeps, data sets with provenance, statistics) -> cli

Plotting reads DataFrames and knows no trainer. Notebooks import the common names from here and the specialised
helpers of one lecture (diagnostics, GAE analysis, network maps, ...) from their modules.
"""
from .agent import A2CAgent, UpdateStats, policy_entropy, sample_action
from .config import A2CConfig
from .envs import Episode, env_dimensions, make_env, rollout_episode
from .errors import ConfigError, DataError, LectureError
from .evaluation import EvalResult, evaluate
from .experiments import ENTROPY_COEFS, EXPERIMENTS, load_experiment, run_experiment
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

__version__ = "0.1.0"

__all__ = [
    "ActorSnapshot", "CriticSnapshot", "FrozenAgent", "RenderedEpisode", "load_snapshots", "compare_estimators", "frame_strip", "gif_bytes",
    "lean_controller", "plot_estimator_table", "render_episode", "show_gif",
    "COLLAPSE_THRESHOLD", "ENTROPY_COEFS", "EXPERIMENTS", "bootstrap_ci", "collapse_rate", "final_returns",
    "interquartile_mean", "load_experiment", "median_band", "plot_final_returns", "plot_learning_curves",
    "plot_metric_by_config", "run_experiment", "run_sweep", "smooth", "smoothed_curves", "summarize_final",
    "A2CAgent", "A2CConfig", "ConfigError", "DataError", "EPISODE_COLUMNS", "Episode", "EvalResult",
    "LectureError", "NumpyA2CAgent", "TorchA2CAgent", "TrainResult", "UpdateStats", "build_networks",
    "count_parameters", "discounted_returns", "env_dimensions", "evaluate", "gae_advantages", "make_actor",
    "make_agent", "make_critic", "make_env", "mc_advantages", "n_step_returns", "policy_entropy",
    "rollout_episode", "sample_action", "setup", "td0_targets", "td_errors", "train",
]
