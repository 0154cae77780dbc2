"""Diagnostics of training runs, for the lectures on A2C's limitations (04) and the entropy bonus (05).

Everything here reads the tidy per-episode tables of :mod:`lecture_utils.experiments` (columns ``config, seed,
episode, return, length, entropy, ...``; one *run* is one config and one seed) or a live training run, and returns
plain arrays or DataFrames. Returns and thresholds are in undiscounted reward (CartPole: steps balanced), entropies
in nats, episodes counted from 0.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .agent import A2CAgent
from .config import A2CConfig
from .envs import Episode
from .returns import discounted_returns
from .stats import COLLAPSE_THRESHOLD, smoothed_curves
from .trainer import make_agent, train

__all__ = [
    "LN2", "thinned_curves", "binary_entropy", "preferred_action_probability", "collapse_onset", "collapse_onsets", "find_crashes",
    "align_on_events", "actor_steps_per_update", "Snapshot", "train_with_snapshots", "agent_from_weights",
    "entropy_slope", "actor_gradient_norms", "check_earliest_collapse", "check_entropy_of", "check_entropy_slope",
    "compact_png", "show_figure",
]

#: The largest entropy a two-action policy can have, ln 2 ~ 0.693 nats (both actions at probability 0.5).
LN2 = math.log(2.0)


def thinned_curves(table: pd.DataFrame, metric: str, window: int = 20, every: int = 5) -> pd.DataFrame:
    """Per-run trailing rolling mean of ``metric`` over ``window`` episodes, kept at every ``every``-th episode.

    Columns ``config, seed, episode, <metric>``. Smoothing comes first, so each kept point still averages ``window``
    episodes; plotting it with ``plot_learning_curves(..., window=1)`` draws the same curves with ``every`` times
    fewer points (a notebook's stored figures stay small).
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    curves = smoothed_curves(table, metric, window)
    return curves[curves["episode"] % every == every - 1].reset_index(drop=True)


def binary_entropy(p: ArrayLike) -> NDArray[np.float64]:
    """Entropy in nats of a two-action policy that takes one action with probability ``p`` (any shape, in [0, 1]).

    ``H(p) = -p ln p - (1 - p) ln(1 - p)``, with ``0 ln 0 = 0``; same shape as ``p``.
    """
    p = np.asarray(p, dtype=np.float64)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("probabilities must lie in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0) + np.where(p < 1, (1 - p) * np.log1p(-p), 0.0)
    return -terms


def preferred_action_probability(entropy: ArrayLike, iterations: int = 60) -> NDArray[np.float64]:
    """Invert :func:`binary_entropy` on [0.5, 1]: the probability of the more likely of two actions.

    ``entropy`` (nats, any shape) is clipped to [0, ln 2]; the result has the same shape, 0.5 at ln 2 and 1 at 0.
    Bisection (``H`` decreases on [0.5, 1]); 60 halvings leave an error below 1e-15.

    Applied to the *mean* entropy over an episode's states it gives the preferred-action probability of a state of
    average entropy, not the mean of the per-state probabilities.
    """
    h = np.clip(np.asarray(entropy, dtype=np.float64), 0.0, LN2)
    low = np.full(h.shape, 0.5)
    high = np.ones(h.shape)
    for _ in range(iterations):
        mid = (low + high) / 2
        too_uncertain = binary_entropy(mid) > h  # the answer lies above mid
        low = np.where(too_uncertain, mid, low)
        high = np.where(too_uncertain, high, mid)
    return (low + high) / 2


def entropy_slope(p: ArrayLike) -> NDArray[np.float64]:
    """How fast the entropy of a two-action softmax changes with its logit gap ``z = ln(p / (1 - p))``.

    ``dH/dz = -z p (1 - p)`` (nats per unit of logit), for the preferred-action probability ``p`` in (0, 1); same
    shape as ``p``. Zero at ``p = 1/2`` (the maximum of ``H``), largest in size near ``p = 0.82``, and vanishing as
    ``p -> 1``: an entropy bonus pushes hardest on a policy that is sure but not yet certain.
    """
    p = np.asarray(p, dtype=np.float64)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("probabilities must lie strictly between 0 and 1")
    return -np.log(p / (1 - p)) * p * (1 - p) + 0.0  # + 0.0 turns the -0.0 at p = 1/2 into 0.0


def actor_gradient_norms(weights: dict[str, NDArray[np.floating]], episode: Episode,
                         config: A2CConfig | None = None) -> pd.DataFrame:
    """The two parts of the entropy-regularised actor gradient, minibatch by minibatch, on one recorded episode.

    With the actor and critic in ``weights`` (format of :meth:`A2CAgent.get_weights`) and the seed's Monte Carlo
    advantages ``A_t = G_t - V(s_t)``, every minibatch of ``config.batch_size`` consecutive steps (as in the first
    update pass; ``config`` defaults to the seed's, which also gives ``gamma`` and the ``eps`` of the log) gives the
    global L2 norm, over all actor parameters, of the gradient of

    * the policy-gradient loss ``-mean(A_t log(pi(a_t|s_t) + eps))`` (``policy_grad_norm``), and
    * the mean entropy ``mean(H[pi(.|s_t)])`` (``entropy_grad_norm``); the bonus adds ``beta`` times this gradient.

    Returns one row per minibatch: ``start`` (first step), ``steps``, ``policy_grad_norm``, ``entropy_grad_norm``.
    """
    import torch

    config = config or A2CConfig()
    gamma, batch_size, log_prob_eps = config.gamma, config.batch_size, config.log_prob_eps
    n_actions = int(np.asarray(weights["actor.2.weight"]).shape[0])
    agent = agent_from_weights(weights, A2CConfig(implementation="torch"), obs_dim=episode.obs.shape[1],
                               n_actions=n_actions)
    # float64: the norms of stored weights then print the same on every CPU (float32 kernels differ in last bits).
    actor, critic = agent.actor.double(), agent.critic.double()  # type: ignore[attr-defined]
    obs = torch.as_tensor(episode.obs, dtype=torch.float64)
    actions = torch.as_tensor(episode.actions)
    with torch.no_grad():
        returns = torch.as_tensor(discounted_returns(episode.rewards, gamma), dtype=torch.float64)
        advantages = returns - critic(obs).squeeze(-1)
    params = list(actor.parameters())

    def norm(grads: tuple) -> float:
        return float(torch.sqrt(sum((g ** 2).sum() for g in grads)))

    rows = []
    for start in range(0, episode.length, batch_size):
        batch = slice(start, start + batch_size)
        probs = actor(obs[batch])
        log_probs = torch.log(probs + log_prob_eps)
        policy_loss = -(advantages[batch] * log_probs.gather(1, actions[batch, None]).squeeze(-1)).mean()
        entropy = -(probs * log_probs).sum(-1).mean()
        g_policy = torch.autograd.grad(policy_loss, params, retain_graph=True)
        g_entropy = torch.autograd.grad(entropy, params)
        rows.append(dict(start=start, steps=int(probs.shape[0]), policy_grad_norm=norm(g_policy),
                         entropy_grad_norm=norm(g_entropy)))
    return pd.DataFrame(rows)


def collapse_onset(returns: ArrayLike, threshold: float = COLLAPSE_THRESHOLD, window: int = 20) -> int | None:
    """The episode from which a run stays collapsed to the end, or ``None`` if it does not end collapsed.

    ``returns``: shape ``(episodes,)``, one run in episode order. The onset is the first episode ``e`` such that every
    block of ``window`` consecutive episodes starting at ``e`` or later averages below ``threshold``. A run whose
    last ``window`` episodes average ``threshold`` or more has no onset.
    """
    r = np.asarray(returns, dtype=np.float64)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if r.size < window:
        return None
    block_means = np.convolve(r, np.ones(window) / window, mode="valid")  # block_means[i] = mean(r[i:i + window])
    above = np.nonzero(block_means >= threshold)[0]
    if above.size and above[-1] == block_means.size - 1:
        return None
    return int(above[-1] + 1) if above.size else 0


def collapse_onsets(table: pd.DataFrame, threshold: float = COLLAPSE_THRESHOLD, window: int = 20) -> pd.DataFrame:
    """:func:`collapse_onset` of every run: columns ``config, seed, onset`` (``onset`` is NaN for runs that end well)."""
    rows = []
    for (config, seed), run in table.sort_values("episode", kind="stable").groupby(["config", "seed"], sort=False):
        onset = collapse_onset(run["return"].to_numpy(), threshold, window)
        rows.append(dict(config=config, seed=seed, onset=np.nan if onset is None else run["episode"].iloc[onset]))
    return pd.DataFrame(rows)


def find_crashes(table: pd.DataFrame, high: float = 100.0, threshold: float = COLLAPSE_THRESHOLD, lookback: int = 5,
                 window: int = 20) -> pd.DataFrame:
    """Every crash in every run: a good stretch followed at once by a collapsed one.

    Episode ``e`` starts a crash when the ``lookback`` episodes before it average at least ``high`` and the
    ``window`` episodes from ``e`` on (all of them must exist) average below ``threshold``, and episode ``e`` itself
    scores below ``threshold``. A crash whose ``lookback`` episodes include an earlier crash's first episode is that
    same crash, and is not counted again. A crash is *recovered* if some later block of ``window`` episodes averages
    ``high`` again.

    Returns one row per crash with columns ``config, seed, episode`` (first collapsed episode), ``return_before``
    (the return of episode ``e - 1``), ``max_before`` (the largest return of the ``lookback`` episodes before),
    ``recovered`` (bool) and ``recover_after`` (episodes from the crash to the first good block; NaN if none).
    """
    rows = []
    # Stable sort: the rows come out in table order on every CPU (NumPy's default quicksort runs SIMD sorting
    # networks that order equal episodes differently on AVX-512, AVX2 and baseline CPUs).
    for (config, seed), run in table.sort_values("episode", kind="stable").groupby(["config", "seed"], sort=False):
        r = run["return"].to_numpy(dtype=np.float64)
        episodes = run["episode"].to_numpy()
        if r.size < lookback + window:
            continue
        ahead = np.convolve(r, np.ones(window) / window, mode="valid")  # ahead[i] = mean(r[i:i + window])
        behind = np.convolve(r, np.ones(lookback) / lookback, mode="valid")  # behind[i] = mean(r[i:i + lookback])
        starts = np.arange(lookback, ahead.size)
        is_crash = (behind[starts - lookback] >= high) & (ahead[starts] < threshold) & (r[starts] < threshold)
        last = -lookback - 1
        for e in starts[is_crash]:
            if e - lookback <= last:  # the good stretch before it overlaps the previous crash: the same crash
                continue
            last = e
            good_later = np.nonzero(ahead[e + 1:] >= high)[0]
            rows.append(dict(config=config, seed=seed, episode=int(episodes[e]), return_before=float(r[e - 1]),
                             max_before=float(r[e - lookback:e].max()), recovered=bool(good_later.size),
                             recover_after=float(good_later[0] + 1) if good_later.size else np.nan))
    columns = ["config", "seed", "episode", "return_before", "max_before", "recovered", "recover_after"]
    return pd.DataFrame(rows, columns=columns)


def align_on_events(table: pd.DataFrame, events: pd.DataFrame, metric: str, before: int = 20,
                    after: int = 20) -> pd.DataFrame:
    """``metric`` around each event, for plots aligned on the event (offset 0 = the event's episode).

    ``events`` has columns ``config, seed, episode`` (as :func:`find_crashes` returns). Returns columns ``config,
    seed, event, offset, value`` with ``offset`` from ``-before`` to ``after`` (episodes outside the run are left
    out).
    """
    indexed = table.set_index(["config", "seed", "episode"])[metric].sort_index()
    frames = []
    for event in events.itertuples(index=False):
        run = indexed.loc[(event.config, event.seed)]
        window = run.loc[event.episode - before:event.episode + after]
        frames.append(pd.DataFrame(dict(config=event.config, seed=event.seed, event=event.episode,
                                        offset=window.index.to_numpy() - event.episode, value=window.to_numpy())))
    if not frames:
        return pd.DataFrame(columns=["config", "seed", "event", "offset", "value"])
    return pd.concat(frames, ignore_index=True)


def actor_steps_per_update(length: ArrayLike, config: A2CConfig | None = None) -> NDArray[np.int64]:
    """Actor optimiser steps in the update after an episode of ``length`` steps:
    ``update_passes * ceil(length / batch_size)`` of ``config`` (default: the seed's).

    Same shape as ``length``. The seed takes 5 passes of minibatches of 32, so a 500-step episode gives 80 Adam steps
    and a 9-step one gives 5.
    """
    config = config or A2CConfig()
    length = np.asarray(length, dtype=np.int64)
    return config.update_passes * -(-length // config.batch_size)


@dataclass(frozen=True)
class Snapshot:
    """The weights of an agent after ``episodes`` training episodes (format of :meth:`A2CAgent.get_weights`)."""

    episodes: int
    weights: dict[str, NDArray[np.float32]]


def train_with_snapshots(config: A2CConfig, seed: int, every: int) -> tuple[pd.DataFrame, list[Snapshot]]:
    """Train like ``train(config, seed)`` and keep a copy of the weights every ``every`` episodes.

    Training runs in chunks of ``every`` episodes that continue the same agent and environment, so the history is
    the very table ``train(config, seed).history`` gives (``config.episodes`` rows, ``episode`` from 0). The
    snapshots are taken after ``every``, ``2 * every``, ... episodes, and after the last one.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    first = train(config.replace(episodes=min(every, config.episodes)), seed=seed)
    agent, env = first.agent, first.env
    histories = [first.history]
    done = len(first.history)
    snapshots = [Snapshot(done, agent.get_weights())]
    while done < config.episodes:
        chunk = train(config.replace(episodes=min(every, config.episodes - done)), seed=seed, agent=agent, env=env)
        chunk.history["episode"] += done
        histories.append(chunk.history)
        done += len(chunk.history)
        snapshots.append(Snapshot(done, agent.get_weights()))
    return pd.concat(histories, ignore_index=True), snapshots


def agent_from_weights(weights: dict[str, NDArray[np.floating]], config: A2CConfig | None = None, obs_dim: int = 4,
                       n_actions: int = 2, seed: int = 0) -> A2CAgent:
    """A fresh agent (CartPole's 4 observations and 2 actions by default) holding ``weights``.

    ``seed`` seeds only its acting random stream; its optimiser state is new.
    """
    agent = make_agent(config or A2CConfig(), obs_dim, n_actions, seed)
    agent.set_weights(weights)
    return agent


# -- figures ------------------------------------------------------------------------------------------------------
def compact_png(fig, colors: int = 32) -> bytes:
    """``fig`` as a PNG with a palette of ``colors`` colours (tight bounding box, the figure's own dpi).

    Plots of ten noisy per-seed traces compress badly as full-colour PNG (100-170 KB each at 72 dpi); a 32-colour
    palette looks the same on screen at about a third of the size, which keeps a stored notebook small.
    """
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    palette = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def show_figure(fig=None, colors: int = 32) -> None:
    """Show ``fig`` (default: the current figure) in the notebook as a :func:`compact_png`, then close it.

    Use it instead of ``plt.show()`` for figures with many traces; it returns nothing, so no repr is printed.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    fig = fig or plt.gcf()
    data = compact_png(fig, colors)
    plt.close(fig)
    display(Image(data=data, format="png"))


# -- exercise checks ----------------------------------------------------------------------------------------------
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
