r"""Generalised advantage estimation, looked at along its one knob :math:`\lambda` (lecture 06).

GAE sums TD residuals with weights :math:`(\gamma\lambda)^k`:

.. math::  \hat A_t = \sum_{k \ge 0} (\gamma\lambda)^k \delta_{t+k}, \qquad
           \delta_t = r_t + \gamma (1 - d_t) V(s_{t+1}) - V(s_t).

This module reads the outputs of the existing package functions and arranges them by :math:`\lambda`; it computes
no advantage itself (that is :func:`lecture_utils.returns.gae_advantages`):

* :func:`effective_horizon`, :func:`gae_weights`: how far ahead GAE looks, in environment steps.
* :func:`lambda_table`, :func:`plot_lambda_tradeoff`: the rows of
  :func:`lecture_utils.gradient_variance.compare_estimators`'s table that belong to one :math:`\lambda` each
  (``td0`` is :math:`\lambda = 0`, ``gae(x)`` is :math:`\lambda = x`), ordered by :math:`\lambda`, and their plot.
* :func:`sweep_lambda`, :func:`sweep_order`, :func:`advantage_spread`: the ``gae_sweep`` data set, whose configs are
  named ``"MC (seed)"`` and ``"lambda=<x>"``.
* :func:`check_gae`, :func:`check_lambda_for_horizon`: exercise checks that print a verdict and return a bool.

Units: ``gamma`` and ``lam`` are dimensionless in [0, 1]; horizons are in environment steps; advantages, returns
and ``advantage_std`` are in reward units (CartPole: 1 per step); variances and biases are those of
:func:`~lecture_utils.gradient_variance.estimator_table` (squared gradient units, and gradient units).
"""
from __future__ import annotations

import itertools
import re
from typing import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .returns import gae_advantages

__all__ = [
    "LAMBDA_GRID",
    "effective_horizon",
    "gae_weights",
    "estimator_lambda",
    "lambda_table",
    "plot_lambda_tradeoff",
    "sweep_lambda",
    "sweep_order",
    "advantage_spread",
    "RETURN_BINS",
    "check_gae",
    "check_lambda_for_horizon",
]

#: The lambdas lecture 06 measures: TD(0), four in between, and the Monte Carlo end (lambda = 1).
LAMBDA_GRID: tuple[float, ...] = (0.0, 0.5, 0.9, 0.95, 0.99, 1.0)

#: Episode-return bins (edges, undiscounted reward) of :func:`advantage_spread`: collapsed, poor, fair, good, and
#: episodes cut by CartPole-v1's 500-step time limit.
RETURN_BINS: tuple[float, ...] = (0, 20, 100, 300, 499, 500)


def effective_horizon(gamma: float | ArrayLike, lam: float | ArrayLike) -> float | NDArray[np.float64]:
    r"""How far ahead GAE looks: :math:`1 / (1 - \gamma\lambda)` steps, the sum of its weights
    :math:`(\gamma\lambda)^k`.

    ``lam = 0`` gives 1 step (TD(0)); ``lam = 1`` gives :math:`1/(1-\gamma)`, 100 steps at ``gamma = 0.99``;
    ``gamma * lam = 1`` gives ``inf``. Broadcasts over arrays (then returns a float64 array).
    """
    g = np.asarray(gamma, dtype=np.float64)
    lam_arr = np.asarray(lam, dtype=np.float64)
    if np.any((g <= 0) | (g > 1)):
        raise ValueError(f"gamma must lie in (0, 1], got {gamma!r}")
    if np.any((lam_arr < 0) | (lam_arr > 1)):
        raise ValueError(f"lam must lie in [0, 1], got {lam!r}")
    with np.errstate(divide="ignore"):
        out = 1.0 / (1.0 - g * lam_arr)  # gamma * lam = 1 divides by zero: inf, an endless horizon
    return float(out) if out.ndim == 0 else out


def gae_weights(gamma: float, lam: float, steps: int) -> NDArray[np.float64]:
    r"""The weight :math:`(\gamma\lambda)^k` GAE gives the TD residual ``k`` steps ahead, for ``k = 0 .. steps-1``.

    Shape ``(steps,)``. ``lam = 0`` puts all weight on ``k = 0`` (``0 ** 0 = 1``).
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive whole number, got {steps}")
    effective_horizon(gamma, lam)  # validates both
    return float(gamma * lam) ** np.arange(int(steps), dtype=np.float64)


def estimator_lambda(name: str) -> float | None:
    """The lambda an estimator of ``compare_estimators`` stands for: ``"td0"`` -> 0.0, ``"gae(0.9)"`` -> 0.9.

    Every other name (``reinforce``, ``constant``, ``critic``) -> ``None``.
    """
    if name == "td0":
        return 0.0
    match = re.fullmatch(r"gae\(([0-9.eE+-]+)\)", name)
    return float(match.group(1)) if match else None


def lambda_table(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of an :func:`~lecture_utils.gradient_variance.estimator_table` with a lambda, ordered by lambda.

    Returns columns ``lambda, estimator, horizon`` (:func:`effective_horizon` at gamma = 0.99, in steps),
    ``variance``, ``bias``, ``bias_noise`` and ``bias_in_noise`` (``bias / bias_noise``: about 1 or less means no
    bias detectable with this many episodes). If two rows have the same lambda, the first is kept (``td0`` before a
    ``gae(0)``).
    """
    lambdas = table["estimator"].map(estimator_lambda)
    rows = table.assign(**{"lambda": lambdas}).dropna(subset=["lambda"])
    if rows.empty:
        raise ValueError("the table has no td0 or gae(...) rows: pass lambdas to compare_estimators")
    rows = rows.drop_duplicates("lambda").sort_values("lambda", kind="stable")
    out = rows[["lambda", "estimator", "variance", "bias", "bias_noise"]].reset_index(drop=True)
    out.insert(2, "horizon", effective_horizon(0.99, out["lambda"].to_numpy()))
    noise = out["bias_noise"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["bias_in_noise"] = np.where(noise > 0, out["bias"].to_numpy(dtype=np.float64) / noise, np.nan)
    return out


def plot_lambda_tradeoff(lam_table: pd.DataFrame, title: str | None = None):
    """Variance (log scale) and bias against lambda, side by side, from :func:`lambda_table`.

    The bias panel also draws ``bias_noise``, the size the bias would have by chance if it were zero. The measured
    lambdas sit at evenly spaced positions (one tick each), so 0.9, 0.95, 0.99 and 1 do not pile up at the right
    edge. Returns the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE

    x = np.arange(len(lam_table))
    labels = [f"{lam:g}" for lam in lam_table["lambda"]]
    fig, (ax_var, ax_bias) = plt.subplots(1, 2, figsize=(10.0, 3.8))
    ax_var.plot(x, lam_table["variance"], "o-", color=PALETTE[0])
    ax_var.set_yscale("log")
    ax_var.set_ylabel("variance (trace of covariance)")
    ax_var.set_title("variance (log scale)")
    ax_bias.plot(x, lam_table["bias"], "o-", color=PALETTE[1], label="bias vs REINFORCE")
    ax_bias.plot(x, lam_table["bias_noise"], "_", color="black", ms=18, mew=2, label="noise level (zero bias)")
    ax_bias.set_ylabel("bias (norm of mean difference)")
    ax_bias.set_title("bias, against its noise level")
    top = float(max(lam_table["bias"].max(), lam_table["bias_noise"].max()))
    ax_bias.set_ylim(0, 1.45 * top if top > 0 else 1.0)
    ax_bias.legend(loc="upper right", fontsize="small")
    for ax in (ax_var, ax_bias):
        ax.set_xticks(x, labels)
        ax.set_xlabel(r"GAE $\lambda$ (evenly spaced, not to scale)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def sweep_lambda(config: str) -> float | None:
    """The lambda of a ``gae_sweep`` config name: ``"lambda=0.9"`` -> 0.9; ``"MC (seed)"`` (or any other) -> None."""
    match = re.fullmatch(r"lambda=([0-9.eE+-]+)", config)
    return float(match.group(1)) if match else None


def sweep_order(configs: Sequence[str]) -> list[str]:
    """Config names with the lambda-free ones (the seed's Monte Carlo advantage) first, then by increasing lambda."""
    unique = list(dict.fromkeys(configs))
    free = [c for c in unique if sweep_lambda(c) is None]
    with_lambda = sorted((c for c in unique if sweep_lambda(c) is not None), key=lambda c: sweep_lambda(c) or 0.0)
    return free + with_lambda


def advantage_spread(table: pd.DataFrame, bins: Sequence[float] = RETURN_BINS,
                     configs: Sequence[str] | None = None) -> pd.DataFrame:
    """Median ``advantage_std`` (reward units) per config and episode-return bin, over every episode of every seed.

    The spread of the advantages grows with the episode's length under the Monte Carlo estimator, so configs that
    reach different returns are compared bin by bin. Returns a DataFrame indexed by config (in ``configs`` order,
    default :func:`sweep_order`), one column per bin labelled like ``"21-100"`` (the last bin of the default edges
    is ``"500"``), plus ``all`` (the median over every episode). Empty bins are NaN.
    """
    edges = list(bins)
    if len(edges) < 2 or any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError(f"bins must be at least two increasing edges, got {edges}")
    labels = [f"{a + 1:g}-{b:g}" if b - a > 1 else f"{b:g}" for a, b in itertools.pairwise(edges)]
    labels[0] = f"<={edges[1]:g}" if edges[0] == 0 else labels[0]
    order = list(configs) if configs is not None else sweep_order(table["config"].unique())
    binned = pd.cut(table["return"], bins=edges, labels=labels)
    spread = table.groupby([table["config"], binned], observed=False)["advantage_std"].median().unstack()
    spread = spread.reindex(index=order, columns=labels)
    spread["all"] = table.groupby("config")["advantage_std"].median().reindex(order)
    spread.columns.name = "episode return"
    return spread


def check_gae(answer: ArrayLike, rewards: ArrayLike, values: ArrayLike, next_values: ArrayLike,
              terminated: ArrayLike, gamma: float, lam: float, tolerance: float = 1e-6) -> bool:
    """Exercise check: are ``answer`` (shape ``(T,)``) the GAE(``lam``) advantages of this one episode?

    Compared with :func:`~lecture_utils.returns.gae_advantages` to ``tolerance`` (reward units). Prints one line,
    which never shows the right advantages.
    """
    truth = gae_advantages(rewards, values, next_values, terminated, gamma, lam)
    mine = np.asarray(answer, dtype=np.float64)
    if mine.shape != truth.shape:
        print(f"not yet: expected one advantage per step, shape {truth.shape}, got {mine.shape}")
        return False
    worst = int(np.argmax(np.abs(mine - truth)))
    ok = bool(np.abs(mine - truth).max() <= tolerance)
    off = int((np.abs(mine - truth) > tolerance).sum())
    print("correct" if ok else f"not yet: {off} of {truth.size} steps differ, the worst at step {worst} (yours is "
                               f"too {'high' if mine[worst] > truth[worst] else 'low'} there); "
                               f"sum (gamma*lambda)^k delta_(t+k) up to the episode's end")
    return ok


def check_lambda_for_horizon(horizon: float, answer: float, gamma: float = 0.99, tolerance: float = 1e-3) -> bool:
    """Exercise check: does GAE with ``lam = answer`` have an :func:`effective_horizon` of ``horizon`` steps?"""
    truth = (1.0 - 1.0 / float(horizon)) / float(gamma)
    ok = abs(float(answer) - truth) <= tolerance
    if ok:
        print(f"correct: lambda = {answer:.4f} looks about {horizon:g} steps ahead")
    elif 0.0 <= float(answer) <= 1.0:
        print(f"not yet: lambda = {answer} looks {effective_horizon(gamma, answer):.1f} steps ahead, not {horizon:g}; "
              f"solve 1 / (1 - gamma * lambda) = {horizon:g} for lambda")
    else:
        print(f"not yet: lambda must lie in [0, 1], got {answer}")
    return ok
