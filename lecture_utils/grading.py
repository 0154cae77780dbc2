"""The graded exercise of lecture 08: the student writes the seed's A2C losses; :func:`grade` checks and trains them.

The student implements one function with a fixed signature (:data:`LossFunction`)::

    a2c_losses(actor, critic, batch, gamma) -> (actor_loss, critic_loss)

on one minibatch (:class:`A2CBatch`), exactly as the seed's update computes them:

* actor: ``-mean(A_t log(pi(a_t|s_t) + 1e-8))`` with ``A_t = G_t - V(s_t)`` a constant (no gradient into the critic);
* critic: ``mean((V(s_t) - y_t)^2)`` with ``y_t = r_t + gamma (1 - terminated_t) V(s_{t+1})`` held fixed (no gradient
  through ``V(s_{t+1})``; the mask uses ``terminated`` only: a truncated step still bootstraps).

:func:`grade` then works in two stages:

1. **Gradient check** (:func:`check_losses`): on several random minibatches (random weights, terminal and truncated
   steps included) the two losses' values and the gradients they send into the actor's and the critic's parameters
   must match the package's reference within a tolerance. A mismatch is diagnosed by probes: the gradients are
   compared with those of the usual mistakes (missing or inverted mask, truncation treated as an end, a sign error,
   a sum instead of a mean, no baseline, a target or an advantage that is not detached, a ``(B, 1)`` by ``(B,)``
   broadcast, ...), and the message names the mistake and its fix without showing the answer's code.
2. **Training on hidden seeds** (:func:`train_hidden_seeds`), only if the check passed: the seed's training loop
   (``train(A2CConfig(implementation="torch"))``) with the student's losses in its update (:class:`StudentA2CAgent`),
   on two seeds that the notebook never shows. Each seed passes if the rolling mean of 20 returns reaches
   :data:`TARGET_RETURN` within :data:`HIDDEN_EPISODES` episodes. With the reference losses this is exactly the
   package's torch training run, and it met the bar on every run screened: the two hidden seeds and seeds 0-9 on
   the project machine's own CPU path (SkylakeX/AVX-512), on the forced baseline path and on a forced AVX2 path, plus
   seeds 10-19 on the machine's own path (46 runs; the latest reached it at episode 241, the hidden seeds at 114 and
   210 on all three paths). ``tools/check_live_claims.py --grader`` repeats the screen.

What :func:`grade` prints depends only on PASS/FAIL facts, never on a run's digits, so it reads the same on every CPU.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import math
import time
from dataclasses import dataclass, field, fields
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .agent import UpdateStats
from .config import A2CConfig
from .envs import Episode
from .errors import ConfigError
from .networks import build_networks
from .returns import discounted_returns
from .torch_agent import StepLog, TorchA2CAgent

__all__ = ["A2CBatch", "LossFunction", "reference_a2c_losses", "example_batch", "GradientCheck", "check_losses",
           "StudentA2CAgent", "SeedResult", "train_hidden_seeds", "GradeReport", "grade", "HIDDEN_EPISODES",
           "TARGET_RETURN", "ROLLING_WINDOW"]

#: The bar of stage 2: the rolling mean of ``ROLLING_WINDOW`` training returns reaches ``TARGET_RETURN`` within
#: ``HIDDEN_EPISODES`` episodes, on each hidden seed (lecture 03's live claim, for the torch implementation).
HIDDEN_EPISODES = 300
TARGET_RETURN = 200.0
ROLLING_WINDOW = 20
#: The seed's guard in ``log(pi + eps)`` (``A2CConfig.log_prob_eps``).
LOG_PROB_EPS = 1e-8
#: Gradient check: random minibatches, and the relative tolerance on each gradient (L2 norm of the difference over
#: the norm of the reference) and on each loss value. Float32 rounding differences between right answers written
#: in other ways (log-softmax, ``.pow(2)``, float64) are below 1e-5; every planted mistake is above 1e-2.
CHECK_BATCHES = 6
RELATIVE_TOLERANCE = 1e-4
ABSOLUTE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class A2CBatch:
    """One minibatch of ``B`` consecutive steps, as float32/int64 tensors (none requires a gradient).

    Attributes:
        obs: ``(B, obs_dim)`` float32, ``s_t``.
        actions: ``(B,)`` int64, ``a_t``.
        rewards: ``(B,)`` float32, ``r_t`` (CartPole: 1.0 every step).
        next_obs: ``(B, obs_dim)`` float32, ``s_{t+1}``.
        terminated: ``(B,)`` float32, 1.0 where ``s_{t+1}`` is terminal (the pole fell), else 0.0.
        truncated: ``(B,)`` float32, 1.0 where the time limit cut the episode (``s_{t+1}`` is not terminal), else 0.0.
        returns: ``(B,)`` float32, ``G_t``: the discounted return from step ``t`` to the episode's end.
    """

    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    returns: torch.Tensor

    @classmethod
    def from_episode(cls, episode: Episode, returns: np.ndarray) -> "A2CBatch":
        """The whole episode as one batch; ``returns`` ``(T,)`` float32 are its ``G_t``."""
        return cls(obs=torch.as_tensor(episode.obs), actions=torch.as_tensor(episode.actions),
                   rewards=torch.as_tensor(episode.rewards, dtype=torch.float32),
                   next_obs=torch.as_tensor(episode.next_obs),
                   terminated=torch.as_tensor(episode.terminated, dtype=torch.float32),
                   truncated=torch.as_tensor(episode.truncated, dtype=torch.float32),
                   returns=torch.as_tensor(returns, dtype=torch.float32))

    def __getitem__(self, rows: slice | torch.Tensor) -> "A2CBatch":
        """The steps ``rows`` (a slice or an index/boolean tensor) of every field."""
        return A2CBatch(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def __len__(self) -> int:
        return int(self.rewards.shape[0])


#: ``a2c_losses(actor, critic, batch, gamma) -> (actor_loss, critic_loss)``, both scalar tensors.
LossFunction = Callable[[nn.Module, nn.Module, A2CBatch, float], "tuple[torch.Tensor, torch.Tensor]"]


def reference_a2c_losses(actor: nn.Module, critic: nn.Module, batch: A2CBatch,
                         gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The package's answer: the seed's two losses on one minibatch, in the very operations of ``TorchA2CAgent``.

    ``actor``: ``(B, obs_dim) -> (B, n_actions)`` probabilities; ``critic``: ``(B, obs_dim) -> (B, 1)`` values.
    Returns scalar tensors ``(actor_loss, critic_loss)``: the actor loss has gradient only into the actor, the
    critic loss only into the critic (through ``V(s_t)``, not through the target).
    """
    return _variant_losses(actor, critic, batch, gamma, _ActorForm(), _CriticForm())


# -- the usual mistakes, as variants of the reference -------------------------------------------------------------
@dataclass(frozen=True)
class _ActorForm:
    """One way to write the actor loss; the defaults are the right one."""

    sign: str = "minus"            # "plus": a sign error
    reduction: str = "mean"        # "sum"
    weight: str = "advantage"      # "return": G_t without the baseline
    log: bool = True               # False: pi(a|s) instead of its log
    broadcast: bool = False        # True: a (B, 1) column times a (B,) row


@dataclass(frozen=True)
class _CriticForm:
    """One way to write the critic loss; the defaults are the right one."""

    mask: str = "terminated"       # "none", "done" (terminated or truncated), "inverted" (multiplied by terminated)
    target_fixed: bool = True      # False: gradient also flows through V(s_{t+1})
    reduction: str = "mean"        # "sum", "half" (1/2 mean)
    discount: bool = True          # False: gamma left out
    broadcast: bool = False        # True: (B, 1) values minus a (B,) target


_ACTOR_OPTIONS = {"sign": ("minus", "plus"), "reduction": ("mean", "sum"), "weight": ("advantage", "return"),
                  "log": (True, False), "broadcast": (False, True)}
_CRITIC_OPTIONS = {"mask": ("terminated", "none", "done", "inverted"), "target_fixed": (True, False),
                   "reduction": ("mean", "sum", "half"), "discount": (True, False), "broadcast": (False, True)}

#: What each departure from the right form means, and how to fix it. None shows the answer's code.
_ACTOR_MESSAGES = {
    ("sign", "plus"): "sign error in the actor loss: your actor gradient is the negative of the right one, so "
                      "gradient descent would make the better-than-expected actions LESS likely. The loss to "
                      "minimise is MINUS the mean of A_t log pi(a_t|s_t).",
    ("reduction", "sum"): "the actor loss sums over the minibatch: take the mean, so that the step does not grow "
                          "with the batch size.",
    ("weight", "return"): "the actor loss weights log pi(a_t|s_t) by the return G_t, not by the advantage "
                          "A_t = G_t - V(s_t): subtract the critic's value (the baseline).",
    ("log", False): "the actor loss uses pi(a_t|s_t) itself: the policy gradient needs its logarithm, "
                    "log(pi(a_t|s_t) + 1e-8).",
    ("broadcast", True): "shapes in the actor loss: a (B, 1) tensor times a (B,) tensor broadcasts to a (B, B) "
                         "matrix. Make the log-probabilities of the actions taken and the advantages both (B,) "
                         "(squeeze(-1)).",
}
_CRITIC_MESSAGES = {
    ("mask", "none"): "missing (1 - terminated) mask: your critic's gradient is wrong exactly at the terminal steps. "
                      "After a terminal step there is no future, so the TD target there is r_t alone; multiply the "
                      "bootstrap term gamma V(s_{t+1}) by (1 - batch.terminated).",
    ("mask", "done"): "truncation treated as termination: you also cut the bootstrap where batch.truncated is 1. A "
                      "time limit is not a terminal state (the pole was still up), so the target there is "
                      "r_t + gamma V(s_{t+1}); mask with batch.terminated only.",
    ("mask", "inverted"): "inverted mask: you bootstrap only where the episode terminated. Multiply gamma V(s_{t+1}) "
                          "by (1 - batch.terminated), not by batch.terminated.",
    ("target_fixed", False): "TD target not held fixed: your critic loss also sends gradient through V(s_{t+1}) in "
                             "the target. Compute the target under torch.no_grad() (or .detach() it): the critic "
                             "moves V(s_t) towards y_t, not y_t towards V(s_t).",
    ("reduction", "sum"): "the critic loss sums the squared errors: take their mean (as F.mse_loss does).",
    ("reduction", "half"): "the critic loss has a factor 1/2: the seed's loss is the plain mean squared error.",
    ("discount", False): "the TD target is not discounted: multiply the bootstrap term V(s_{t+1}) by gamma.",
    ("broadcast", True): "shapes in the critic loss: the critic returns V as (B, 1) and your target is (B,) (or the "
                         "other way round), so their difference broadcasts to a (B, B) matrix. Squeeze the critic's "
                         "output to (B,) or keep both (B, 1).",
}
_ADVANTAGE_NOT_DETACHED = ("advantage not detached: your actor loss sends gradient into the critic's parameters. For "
                           "the actor, A_t = G_t - V(s_t) is a constant: compute V(s_t) under torch.no_grad() or "
                           ".detach() it.")
_CRITIC_LOSS_INTO_ACTOR = ("your critic loss sends gradient into the actor's parameters: it should depend on the "
                           "critic alone.")


def _variant_losses(actor: nn.Module, critic: nn.Module, batch: A2CBatch, gamma: float, a: _ActorForm,
                    c: _CriticForm) -> tuple[torch.Tensor, torch.Tensor]:
    """The two losses written as ``a`` and ``c`` say; with the default forms, the reference (TorchA2CAgent's ops)."""
    # Actor: A_t = G_t - V(s_t), a constant; -mean(A_t log(pi(a_t|s_t) + eps)).
    with torch.no_grad():
        advantage = batch.returns - critic(batch.obs).squeeze(-1) if a.weight == "advantage" else batch.returns
    probs = actor(batch.obs)
    chosen = torch.log(probs + LOG_PROB_EPS) if a.log else probs
    taken = chosen.gather(1, batch.actions[:, None])
    taken = taken if a.broadcast else taken.squeeze(-1)
    product = advantage * taken
    total = product.mean() if a.reduction == "mean" else product.sum()
    actor_loss = -total if a.sign == "minus" else total
    # Critic: y_t = r_t + gamma (1 - terminated_t) V(s_{t+1}), held fixed; mean((V(s_t) - y_t)^2).
    mask = {"terminated": 1.0 - batch.terminated, "none": torch.ones_like(batch.terminated),
            "done": 1.0 - torch.clamp(batch.terminated + batch.truncated, max=1.0),
            "inverted": batch.terminated}[c.mask]
    discount = gamma if c.discount else 1.0
    with torch.set_grad_enabled(not c.target_fixed and torch.is_grad_enabled()):
        target = batch.rewards[:, None] + discount * mask[:, None] * critic(batch.next_obs)
    values = critic(batch.obs)
    if c.broadcast:
        target = target.squeeze(-1)
    if c.reduction == "mean" and not c.broadcast:
        critic_loss = F.mse_loss(values, target)
    else:
        squared = (values - target) ** 2
        critic_loss = squared.sum() if c.reduction == "sum" else squared.mean() * (0.5 if c.reduction == "half" else 1.0)
    return actor_loss, critic_loss


# -- stage 1: the gradient check ----------------------------------------------------------------------------------
def example_batch(seed: int = 0, size: int = 24, obs_dim: int = 4, n_actions: int = 2
                  ) -> tuple[nn.Module, nn.Module, A2CBatch]:
    """``(actor, critic, batch)``: the seed's networks with random weights and a random minibatch of ``size`` steps.

    The critic's output bias is shifted to a random value in [2, 10] (as a partly trained critic's), so that
    ``V(s_{t+1})`` is far from 0 and a missing mask shows. Rewards are uniform in [0, 2], returns in [0, 30]; step
    ``size // 3`` is terminal and step ``2 * size // 3`` truncated (and, for ``seed`` odd, also the last step is
    terminal). Same ``seed``, same tensors, on every computer (up to the last bit of the networks' outputs).
    """
    actor, critic = build_networks(obs_dim, n_actions, seed=10_000 + seed)
    generator = torch.Generator().manual_seed(seed)

    def uniform(*shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        return low + (high - low) * torch.rand(*shape, generator=generator)

    output_layer = critic[-1]
    assert isinstance(output_layer, nn.Linear)
    with torch.no_grad():
        output_layer.bias.fill_(float(uniform(1, low=2.0, high=10.0)))
    terminated = torch.zeros(size)
    truncated = torch.zeros(size)
    terminated[size // 3] = 1.0
    truncated[2 * size // 3] = 1.0
    if seed % 2:
        terminated[-1] = 1.0
    batch = A2CBatch(obs=torch.randn(size, obs_dim, generator=generator),
                     actions=torch.randint(0, n_actions, (size,), generator=generator),
                     rewards=uniform(size, high=2.0), next_obs=torch.randn(size, obs_dim, generator=generator),
                     terminated=terminated, truncated=truncated, returns=uniform(size, high=30.0))
    return actor, critic, batch


@dataclass
class _Gradients:
    """Both losses' values and gradients of one loss function on one batch (flat float64 vectors)."""

    actor_value: float
    critic_value: float
    actor_on_actor: torch.Tensor
    actor_on_critic: torch.Tensor
    critic_on_actor: torch.Tensor
    critic_on_critic: torch.Tensor


def _flat_grad(loss: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    if not loss.requires_grad:
        return torch.zeros(sum(p.numel() for p in params), dtype=torch.float64)
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1).double()
                      for g, p in zip(grads, params, strict=True)])


def _gradients(actor_loss: torch.Tensor, critic_loss: torch.Tensor, actor: nn.Module, critic: nn.Module) -> _Gradients:
    actor_params, critic_params = list(actor.parameters()), list(critic.parameters())
    return _Gradients(float(actor_loss.detach()), float(critic_loss.detach()),
                      _flat_grad(actor_loss, actor_params), _flat_grad(actor_loss, critic_params),
                      _flat_grad(critic_loss, actor_params), _flat_grad(critic_loss, critic_params))


def _close(got: torch.Tensor | float, want: torch.Tensor | float) -> bool:
    got_t, want_t = torch.as_tensor(got, dtype=torch.float64), torch.as_tensor(want, dtype=torch.float64)
    if got_t.shape != want_t.shape or not bool(torch.isfinite(got_t).all()):
        return False
    return float((got_t - want_t).norm()) <= RELATIVE_TOLERANCE * float(want_t.norm()) + ABSOLUTE_TOLERANCE


def _is_zero(vector: torch.Tensor) -> bool:
    return float(vector.norm()) <= ABSOLUTE_TOLERANCE


class _NotImplemented(Exception):
    """The student's function still raises NotImplementedError."""


def _call(fn: LossFunction, actor: nn.Module, critic: nn.Module, batch: A2CBatch,
          gamma: float) -> tuple[tuple[torch.Tensor, torch.Tensor] | None, str | None]:
    """Call the student's function; ``(losses, None)`` or ``(None, what is wrong with the call or its result)``."""
    before = [p.detach().clone() for p in itertools.chain(actor.parameters(), critic.parameters())]
    try:
        result = fn(actor, critic, batch, gamma)
    except NotImplementedError as exc:
        raise _NotImplemented from exc
    except Exception as exc:  # noqa: BLE001 - any error in the student's code is reported, not raised
        return None, (f"your function raised {type(exc).__name__}: {exc} (on a minibatch of {len(batch)} steps; "
                      f"the fields' shapes are in A2CBatch's docstring)")
    after = list(itertools.chain(actor.parameters(), critic.parameters()))
    if any(not torch.equal(b, p.detach()) for b, p in zip(before, after, strict=True)):
        return None, ("your function changed the networks' weights: return the two losses and leave the optimiser "
                      "steps to the training loop")
    if not isinstance(result, tuple) or len(result) != 2:
        return None, (f"your function returned {type(result).__name__}: return a tuple (actor_loss, critic_loss) of "
                      f"two scalar tensors")
    for name, loss in zip(("actor_loss", "critic_loss"), result, strict=True):
        if not isinstance(loss, torch.Tensor):
            return None, (f"{name} is a {type(loss).__name__}, not a tensor: keep it a torch tensor (no .item(), no "
                          f"float()) so that autograd can differentiate it")
        if loss.numel() != 1:
            return None, (f"{name} has shape {tuple(loss.shape)}: a loss is one number (a scalar tensor); take the "
                          f"mean over the minibatch")
        if not loss.requires_grad:
            return None, (f"{name} carries no gradient: was all of it computed under torch.no_grad() or from "
                          f"detached tensors? Only the parts held constant should be")
        if not math.isfinite(float(loss.detach())):
            return None, f"{name} is {float(loss.detach())}: check for log(0) or a division by zero"
    return (result[0].reshape(()), result[1].reshape(())), None


def _find_form(fn: Callable[[object], _Gradients], options: dict[str, tuple[object, ...]], default: object,
               matches: Callable[[_Gradients], bool]) -> object | None:
    """The form (fewest departures from ``default`` first) whose gradients ``matches`` accepts, or None."""
    names = list(options)
    candidates = [dict(zip(names, values, strict=True)) for values in itertools.product(*options.values())]
    candidates.sort(key=lambda c: sum(c[n] != getattr(default, n) for n in names))
    for candidate in candidates[1:]:
        form = type(default)(**candidate)
        if matches(fn(form)):
            return form
    return None


def _departures(form: object, default: object, messages: dict[tuple[str, object], str]) -> list[str]:
    return [messages[(f.name, getattr(form, f.name))] for f in fields(form)  # type: ignore[arg-type]
            if getattr(form, f.name) != getattr(default, f.name)]


def _diagnose(fn: LossFunction, index: int, gamma: float) -> list[str]:
    """What is wrong with ``fn`` on check batch ``index``: an empty list if it matches the reference."""
    actor, critic, batch = example_batch(seed=index, size=12 + 5 * index)
    losses, problem = _call(fn, actor, critic, batch, gamma)
    if losses is None:
        return [problem or "no result"]
    got = _gradients(*losses, actor, critic)

    def variant(a: _ActorForm, c: _CriticForm) -> _Gradients:
        return _gradients(*_variant_losses(actor, critic, batch, gamma, a, c), actor, critic)

    want = variant(_ActorForm(), _CriticForm())
    problems: list[str] = []
    # The actor loss: its gradient into the actor, then whether it leaks into the critic.
    if not (_close(got.actor_on_actor, want.actor_on_actor) and _close(got.actor_value, want.actor_value)):
        form = _find_form(lambda a: variant(a, _CriticForm()), _ACTOR_OPTIONS, _ActorForm(),  # type: ignore[arg-type]
                          lambda v: _close(got.actor_on_actor, v.actor_on_actor))
        if form is not None:
            problems += _departures(form, _ActorForm(), _ACTOR_MESSAGES)
        elif _close(got.actor_on_actor, want.actor_on_actor):
            problems.append("the actor loss has the right gradient but not the right value: leave out constant "
                            "terms, so that the loss reads as the seed's -mean(A_t log(pi(a_t|s_t) + 1e-8))")
        else:
            problems.append("the actor loss's gradient matches neither -mean(A_t log(pi(a_t|s_t) + 1e-8)) with "
                            "A_t = G_t - V(s_t) nor any of the usual mistakes: check that you take the "
                            "log-probability of the action taken (gather along dim 1 with batch.actions) and "
                            "that A_t uses batch.returns and V(batch.obs)")
    if not _is_zero(got.actor_on_critic):
        problems.append(_ADVANTAGE_NOT_DETACHED)
    # The critic loss: its gradient into the critic, then whether it reaches the actor.
    if not (_close(got.critic_on_critic, want.critic_on_critic) and _close(got.critic_value, want.critic_value)):
        form = _find_form(lambda c: variant(_ActorForm(), c), _CRITIC_OPTIONS, _CriticForm(),  # type: ignore[arg-type]
                          lambda v: _close(got.critic_on_critic, v.critic_on_critic))
        if form is not None:
            problems += _departures(form, _CriticForm(), _CRITIC_MESSAGES)
        elif _close(got.critic_on_critic, want.critic_on_critic):
            problems.append("the critic loss has the right gradient but not the right value: leave out constant "
                            "terms, so that the loss reads as the mean of (V(s_t) - y_t)^2")
        elif _critic_right_on_plain_steps(fn, actor, critic, batch, gamma):
            problems.append("the critic loss is right on ordinary steps but wrong where batch.terminated or "
                            "batch.truncated is 1: check how your TD target treats the end of an episode (the "
                            "(1 - terminated) mask)")
        else:
            problems.append("the critic loss's gradient matches neither mean((V(s_t) - y_t)^2) with "
                            "y_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) nor any of the usual mistakes: check "
                            "that V(s_t) comes from batch.obs, V(s_{t+1}) from batch.next_obs, and r_t from "
                            "batch.rewards")
    if not _is_zero(got.critic_on_actor):
        problems.append(_CRITIC_LOSS_INTO_ACTOR)
    return problems


def _critic_right_on_plain_steps(fn: LossFunction, actor: nn.Module, critic: nn.Module, batch: A2CBatch,
                                 gamma: float) -> bool:
    """Probe: does ``fn``'s critic gradient match the reference on the batch without its episode-end steps?"""
    plain = batch[(batch.terminated == 0) & (batch.truncated == 0)]
    try:
        losses, _ = _call(fn, actor, critic, plain, gamma)
    except _NotImplemented:
        return False
    if losses is None:
        return False
    params = list(critic.parameters())
    return _close(_flat_grad(losses[1], params), _flat_grad(reference_a2c_losses(actor, critic, plain, gamma)[1], params))


@dataclass(frozen=True)
class GradientCheck:
    """Stage 1's verdict: ``passed``, or ``problems`` (one line each, most specific first); ``implemented`` is False
    while the function still raises NotImplementedError."""

    passed: bool
    problems: tuple[str, ...] = ()
    implemented: bool = True
    batches: int = CHECK_BATCHES


def check_losses(fn: LossFunction, batches: int = CHECK_BATCHES, gamma: float = 0.99) -> GradientCheck:
    """Stage 1: compare ``fn``'s two losses and their gradients with the reference on ``batches`` random minibatches.

    Each batch (:func:`example_batch` with seeds 0, 1, ...; 12, 17, 22, ... steps) has a terminal and a truncated
    step and fresh random weights. Every mismatch is diagnosed (see the module's docstring); the problems of all
    batches are collected, each named once.
    """
    problems: list[str] = []
    try:
        for index in range(batches):
            for problem in _diagnose(fn, index, gamma):
                if problem not in problems:
                    problems.append(problem)
    except _NotImplemented:
        return GradientCheck(passed=False, implemented=False, batches=batches)
    return GradientCheck(passed=not problems, problems=tuple(problems), batches=batches)


# -- stage 2: training on hidden seeds ----------------------------------------------------------------------------
class _PassCritic(nn.Module):
    """The critic as it was at the start of an update pass, evaluated as the seed evaluates it for the advantages.

    The seed computes ``V(s_t)`` for a pass's advantages once, on the whole episode. A matrix product of one row
    (the last minibatch of a 33-step episode) may take another kernel than the same row inside a longer product,
    with other last bits; so :meth:`start_pass` evaluates the whole episode once and :meth:`forward` answers rows of
    it from that result (any other input is evaluated as usual). Its parameters are frozen copies.
    """

    def __init__(self, critic: nn.Module) -> None:
        super().__init__()
        self.net = copy.deepcopy(critic).requires_grad_(False)
        self.obs = torch.zeros(0)
        self.values = torch.zeros(0)

    def start_pass(self, critic: nn.Module, obs: torch.Tensor) -> None:
        """Copy ``critic``'s weights and evaluate it on the whole episode ``obs`` ``(T, obs_dim)``."""
        self.net.load_state_dict(critic.state_dict())
        self.obs = obs
        with torch.no_grad():
            self.values = self.net(obs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = self._rows_of_episode(x)
        if first is None:
            return self.net(x)
        return self.values[first:first + x.shape[0]]

    def _rows_of_episode(self, x: torch.Tensor) -> int | None:
        """The first row if ``x`` is a run of consecutive rows of the episode's observations (a view of them)."""
        obs = self.obs
        if x.dim() != 2 or obs.dim() != 2 or x.shape[1] != obs.shape[1] or x.dtype != obs.dtype \
                or x.stride() != obs.stride() or x.untyped_storage().data_ptr() != obs.untyped_storage().data_ptr():
            return None
        first, rest = divmod(int(x.storage_offset()) - int(obs.storage_offset()), obs.stride(0))
        if rest or first < 0 or first + x.shape[0] > obs.shape[0] or not torch.equal(x, obs[first:first + x.shape[0]]):
            return None
        return first


class StudentA2CAgent(TorchA2CAgent):
    """The seed's torch agent whose update takes its two losses from ``loss_fn`` (a :data:`LossFunction`).

    Everything else is ``TorchA2CAgent.update`` with the seed's configuration: after every episode, 5 passes; per
    minibatch of 32 steps in trajectory order, one actor step and two critic steps, one Adam per network. The seed
    computes the advantage ``A_t = G_t - V(s_t)`` once per pass, with the critic as it was at the start of the pass;
    so the actor's loss is asked of ``loss_fn`` with that critic (:class:`_PassCritic`), the critic's loss with the
    live one. With :func:`reference_a2c_losses`, training is ``train(A2CConfig(implementation="torch"), seed)`` bit
    for bit.
    """

    def __init__(self, config: A2CConfig, obs_dim: int, n_actions: int, seed: int, loss_fn: LossFunction) -> None:
        changed = {k for k in config.changes_from_seed() if k not in ("episodes", "max_steps")}
        if changed:
            raise ConfigError(f"StudentA2CAgent runs the seed's update only; these options are not supported: "
                              f"{', '.join(sorted(changed))}")
        super().__init__(config, obs_dim, n_actions, seed)
        self.loss_fn = loss_fn
        self.pass_critic = _PassCritic(self.critic)
        #: The return of every episode this agent learned from, in order (for the early stop of the grader).
        self.episode_returns: list[float] = []

    def update(self, episode: Episode) -> UpdateStats:
        cfg = self.config
        self.episode_returns.append(episode.total_reward)
        returns = discounted_returns(episode.rewards, cfg.gamma).astype(np.float32)
        whole = A2CBatch.from_episode(episode, returns)
        steps = StepLog(self.actor, self.critic)
        advantage_std = 0.0
        actor_loss = critic_loss = torch.zeros(())
        for pass_index in range(cfg.update_passes):
            if pass_index == 0:  # the statistic the history records, as TorchA2CAgent computes it
                advantage_std = float(self.advantages(episode, returns).astype(np.float64).std())
            self.pass_critic.start_pass(self.critic, whole.obs)  # the critic of this pass's advantages
            for start in range(0, episode.length, cfg.batch_size):
                batch = whole[start:start + cfg.batch_size]
                actor_loss, _ = self.loss_fn(self.actor, self.pass_critic, batch, cfg.gamma)
                self.actor_optimizer.zero_grad()
                actor_loss.backward()
                steps.step("actor", self.actor_optimizer)
                for _ in range(cfg.critic_steps):
                    _, critic_loss = self.loss_fn(self.actor, self.critic, batch, cfg.gamma)
                    self.critic_optimizer.zero_grad()
                    critic_loss.backward()
                    steps.step("critic", self.critic_optimizer)
        return steps.stats(actor_loss, critic_loss, advantage_std)


def _hidden_seeds(count: int = 2) -> list[int]:
    """The grader's seeds: derived here from a fixed phrase, never printed by the grader or shown in the notebook."""
    return [int.from_bytes(hashlib.sha256(f"lecture 08 hidden seed {i}".encode()).digest()[:4], "big") % 2**31
            for i in range(count)]


@dataclass(frozen=True)
class SeedResult:
    """One hidden seed's training: ``passed`` if the rolling-20 return reached the target within the budget.
    ``first_reached`` (the episode) and ``seconds`` depend on the CPU path: the grader does not print them."""

    passed: bool
    first_reached: int | None
    episodes: int
    seconds: float
    budget: int = HIDDEN_EPISODES
    target: float = TARGET_RETURN
    error: str | None = None


class _Reached(Exception):
    """Raised by the grader's per-episode callback to end a run once it has met the bar."""


def _run_seed(loss_fn: LossFunction, seed: int, episodes: int) -> SeedResult:
    from .trainer import train  # the trainer imports the agents; loaded only when training

    config = A2CConfig(implementation="torch", episodes=episodes)
    agent = StudentA2CAgent(config, 4, 2, seed, loss_fn)
    reached: list[int] = []

    def stop_when_reached(episode_index: int, agent_: object, steps: int) -> None:
        recent = agent.episode_returns[-ROLLING_WINDOW:]
        if sum(recent) / len(recent) >= TARGET_RETURN:
            reached.append(episode_index)
            raise _Reached

    start = time.perf_counter()
    error = None
    try:
        train(config, seed=seed, agent=agent, on_episode=stop_when_reached)
    except _Reached:
        pass
    except Exception as exc:  # noqa: BLE001 - a student's loss that breaks training is a failed seed, with the reason
        error = f"{type(exc).__name__}: {exc}"
    return SeedResult(passed=bool(reached), first_reached=reached[0] if reached else None,
                      episodes=len(agent.episode_returns), seconds=time.perf_counter() - start, budget=episodes,
                      target=TARGET_RETURN, error=error)


def train_hidden_seeds(loss_fn: LossFunction, seeds: list[int] | None = None,
                       episodes: int = HIDDEN_EPISODES) -> list[SeedResult]:
    """Stage 2: train the seed's A2C with ``loss_fn`` on each seed (default: the hidden ones) for at most
    ``episodes`` episodes, stopping once the rolling mean of the last 20 returns reaches :data:`TARGET_RETURN`
    (the mean over fewer while fewer than 20 episodes have been played, as lecture 03 computes it)."""
    return [_run_seed(loss_fn, seed, episodes) for seed in (_hidden_seeds() if seeds is None else seeds)]


@dataclass(frozen=True)
class GradeReport:
    """:func:`grade`'s result. ``passed`` only if the gradient check passed and every hidden seed met the bar."""

    check: GradientCheck
    seeds: tuple[SeedResult, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return self.check.passed and bool(self.seeds) and all(s.passed for s in self.seeds)

    def lines(self) -> list[str]:
        """The report as printed: PASS/FAIL facts only, the same on every CPU path."""
        if not self.check.implemented:
            return ["not implemented yet: fill in the function (remove the raise NotImplementedError) and run this "
                    "cell again"]
        verdict = "PASS" if self.check.passed else "FAIL"
        out = [f"gradient check ({self.check.batches} random minibatches with terminal and truncated steps): {verdict}"]
        out += [f"  - {problem}" for problem in self.check.problems]
        if not self.check.passed:
            out.append("hidden-seed training: not run (the gradient check must pass first)")
        for number, result in enumerate(self.seeds, start=1):
            what = (f"hidden seed {number} of {len(self.seeds)}: rolling-{ROLLING_WINDOW} return reaches "
                    f"{result.target:g} within {result.budget} episodes")
            out.append(f"{what}: {'PASS' if result.passed else 'FAIL'}")
            if result.error:
                out.append(f"  - training stopped with {result.error}")
        out.append(f"grade: {'PASS' if self.passed else 'FAIL'}")
        return out

    def timing(self) -> str:
        """Wall-clock time of the training stage (differs run to run: print it in a cell nbval does not compare)."""
        if not self.seeds:
            return "no training was run"
        return (f"hidden-seed training took {sum(s.seconds for s in self.seeds):.1f} s "
                f"({sum(s.episodes for s in self.seeds)} episodes)")

    def __str__(self) -> str:
        return "\n".join(self.lines())


def grade(loss_fn: LossFunction, verbose: bool = True) -> GradeReport:
    """Grade an ``a2c_losses(actor, critic, batch, gamma)``: stage 1, then (if it passed) stage 2; print the report.

    Stage 2 trains on two hidden seeds for at most 300 episodes each, stopping each run once it meets the bar (the
    reference: about half a minute on a laptop).
    """
    check = check_losses(loss_fn)
    seeds = tuple(train_hidden_seeds(loss_fn)) if check.passed else ()
    report = GradeReport(check=check, seeds=seeds)
    if verbose:
        print(report)
    return report
