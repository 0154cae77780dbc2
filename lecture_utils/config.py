"""The one place every hyperparameter is named: :class:`A2CConfig`.

Its defaults are exactly the seed's (the lecture demo); every departure from the seed is a named option whose
default switches it off, so ``A2CConfig()`` *is* the seed's algorithm.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

__all__ = ["A2CConfig", "IMPLEMENTATIONS", "FREEZE_WINDOW"]

#: Two implementations of the same update: ``"torch"`` (autograd and ``torch.optim.Adam``, the readable one the
#: lectures show, bit-identical to the seed) and ``"numpy"`` (gradients written out by hand, several times faster).
IMPLEMENTATIONS = ("numpy", "torch")
#: Largest hidden-layer width, number of environments, and transitions per rollout (``num_envs * rollout_steps``):
#: beyond these the buffers or weights would not fit in a laptop's memory.
MAX_WIDTH = 65_536
MAX_ENVS = 1_024
MAX_ROLLOUT_BATCH = 1_048_576
#: Learning-rate schedules: the seed's constant rate, or a linear decay to 0 over the training budget.
LR_SCHEDULES = ("constant", "linear")
#: Critic regression targets: the seed's one-step TD target, or the lambda-return of the advantage estimate.
CRITIC_TARGETS = ("td0", "lambda_return")
#: Finished episodes whose mean return ``freeze_at_return`` compares (the solve criterion's window).
FREEZE_WINDOW = 100


@dataclass(frozen=True)
class A2CConfig:
    """Hyperparameters of the A2C trainer. Defaults reproduce the seed; options marked *(option)* are off by default."""

    env_id: str = "CartPole-v1"
    """Gymnasium environment id; any environment with a Box observation and a Discrete action space."""
    episodes: int = 2000
    """Training episodes; one update phase follows every episode."""
    gamma: float = 0.99
    """Discount factor in (0, 1]."""
    actor_lr: float = 1e-3
    """Adam learning rate of the actor (policy network)."""
    critic_lr: float = 1e-3
    """Adam learning rate of the critic (value network); the seed gives each network its own Adam."""
    actor_hidden: int = 16
    """Width of the actor's single ReLU hidden layer."""
    critic_hidden: int = 64
    """Width of the critic's single ReLU hidden layer."""
    update_passes: int = 5
    """Passes over each episode after it ends; each pass recomputes the advantage with the current critic."""
    batch_size: int = 32
    """Minibatch size; minibatches are taken in trajectory order, the last one possibly shorter."""
    critic_steps: int = 2
    """Critic optimiser steps per minibatch (the actor takes one)."""
    log_prob_eps: float = 1e-8
    """The seed's guard inside ``log(pi(a|s) + eps)``."""
    entropy_coef: float = 0.0
    """*(option)* Entropy bonus beta: the actor minimises ``-mean(A log pi) - beta * mean(H[pi])``. Seed: 0."""
    max_grad_norm: float | None = None
    """*(option)* Clip each network's gradient to this global L2 norm before its Adam step. Seed: no clipping."""
    gae_lambda: float | None = None
    """*(option)* Use GAE(lambda) with the current critic instead of the Monte Carlo ``G_t - V(s_t)``. Seed: off."""
    max_steps: int | None = None
    """*(option)* Also stop once this many environment steps have been taken (the episode in progress finishes in
    episodic training). Seed: no step budget, ``episodes`` alone."""
    lr_schedule: str = "constant"
    """*(option)* ``"linear"``: both learning rates fall linearly to 0 over the budget (``max_steps`` if set, else
    ``episodes``)."""
    stable_log_prob: bool = False
    """*(option)* Log-probabilities by log-softmax of the logits instead of the seed's ``log(softmax + eps)``."""
    normalize_advantages: bool = False
    """*(option)* Standardise the advantages of each batch to mean 0 and standard deviation 1 before the actor step."""
    num_envs: int = 1
    """*(option)* Environments stepped together (Gymnasium's vector API); > 1 needs ``rollout_steps``."""
    rollout_steps: int | None = None
    """*(option)* Learn every ``rollout_steps`` steps of each environment (n-step rollouts, bootstrapped with V)
    instead of after every whole episode. Seed: whole episodes."""
    ratio_clip: float | None = None
    """*(option)* PPO's trust region: over the passes of one update, the actor maximises
    ``mean(min(r A, clip(r, 1 - eps, 1 + eps) A))`` with ``r = pi(a|s) / pi_old(a|s)`` (``pi_old`` = the policy that
    collected the batch): a sample stops pulling once its ratio has left ``[1 - eps, 1 + eps]`` on the side its
    advantage favours (a soft limit: other samples' steps can still move it). Needs ``stable_log_prob``: the ratio
    is taken of log-softmax log-probabilities. Seed: off (the plain ``-A log pi`` loss, however far the passes move the
    policy)."""
    critic_target: str = "td0"
    """*(option)* What the critic regresses on. ``"td0"`` (the seed): ``r_t + gamma (1 - terminated) V(s_{t+1})``,
    recomputed with the current critic before every critic step. ``"lambda_return"``: the lambda-return
    ``A_t + V(s_t)`` of the advantage estimate (before any normalisation; with the seed's Monte Carlo advantage the
    return ``G_t``), computed once per pass with the critic as it is at the start of the pass, as CleanRL's and
    Stable-Baselines3's PPO and A2C do. Seed: ``"td0"``."""
    freeze_at_return: float | None = None
    """*(option)* Pause learning while the mean return of the last ``FREEZE_WINDOW`` (100) finished episodes is at
    least this value: before each episode (or rollout) the trainer checks it, and while it holds there is no update of
    actor or critic (nor of their optimisers); the policy keeps playing, sampling its actions. As soon as the mean
    falls below the value again, learning resumes. With CartPole's 500-step limit, 500 means "learn only while one of
    the last 100 episodes failed": while every episode reaches the limit, the reward carries no signal to learn from.
    Seed: never pauses (learns to the end)."""
    implementation: str = "numpy"
    """``"numpy"`` (fast, hand-written gradients) or ``"torch"`` (autograd; reproduces the seed bit for bit)."""

    def __post_init__(self) -> None:
        self.validate()

    # -- validation -------------------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the option and a valid value if any field is out of range."""
        _whole(self, "episodes", minimum=1)
        # Upper bounds only where a value would exhaust memory before training starts, far above any sensible one.
        _whole(self, "actor_hidden", minimum=1, maximum=MAX_WIDTH)
        _whole(self, "critic_hidden", minimum=1, maximum=MAX_WIDTH)
        _whole(self, "update_passes", minimum=1)
        _whole(self, "batch_size", minimum=1)
        _whole(self, "critic_steps", minimum=0)
        _real(self, "gamma", lambda v: 0.0 < v <= 1.0, "a number in (0, 1]")
        _real(self, "actor_lr", lambda v: v > 0, "a positive number")
        _real(self, "critic_lr", lambda v: v > 0, "a positive number")
        _real(self, "log_prob_eps", lambda v: v >= 0, "a number >= 0")
        _real(self, "entropy_coef", lambda v: v >= 0, "a number >= 0 (0 switches the bonus off)")
        if self.max_grad_norm is not None:
            _real(self, "max_grad_norm", lambda v: v > 0, "a positive number, or none for no clipping")
        if self.gae_lambda is not None:
            _real(self, "gae_lambda", lambda v: 0.0 <= v <= 1.0, "a number in [0, 1], or none for the seed's G - V")
        if self.ratio_clip is not None:
            _real(self, "ratio_clip", lambda v: 0.0 < v < 1.0, "a number in (0, 1) such as 0.2, or none for no trust region")
            if self.stable_log_prob is not True:  # recorded configurations must say what ran
                raise ConfigError(f"invalid {option_name('ratio_clip')} {self.ratio_clip!r} without "
                                  f"{option_name('stable_log_prob')}: the ratio pi/pi_old is computed from log-softmax "
                                  f"log-probabilities; also set {option_name('stable_log_prob')}")
        if self.max_steps is not None:
            _whole(self, "max_steps", minimum=1)
        if self.freeze_at_return is not None:
            _real(self, "freeze_at_return", lambda v: True, "a finite number such as 500 (CartPole's time limit), "
                  "or none to learn to the end")
        if self.critic_target not in CRITIC_TARGETS:
            raise ConfigError(f"invalid {option_name('critic_target')} {self.critic_target!r}: choose one of "
                              f"{', '.join(CRITIC_TARGETS)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"invalid {option_name('lr_schedule')} {self.lr_schedule!r}: choose one of "
                              f"{', '.join(LR_SCHEDULES)}")
        _whole(self, "num_envs", minimum=1, maximum=MAX_ENVS)
        if self.rollout_steps is not None:
            _whole(self, "rollout_steps", minimum=1, maximum=MAX_ROLLOUT_BATCH // self.num_envs)
        elif self.num_envs > 1:
            raise ConfigError(f"invalid {option_name('num_envs')} {self.num_envs}: several environments learn from "
                              f"n-step rollouts; also set {option_name('rollout_steps')} (e.g. 5), or use 1")
        for flag in ("stable_log_prob", "normalize_advantages"):
            if not isinstance(getattr(self, flag), bool):
                raise ConfigError(f"invalid {option_name(flag)} {getattr(self, flag)!r}: must be true or false")
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ConfigError(f"invalid {option_name('env_id')} {self.env_id!r}: give a Gymnasium id such as CartPole-v1")
        if self.implementation not in IMPLEMENTATIONS:
            raise ConfigError(
                f"invalid {option_name('implementation')} {self.implementation!r}: choose one of {', '.join(IMPLEMENTATIONS)}"
            )

    @property
    def advantage_lambda(self) -> float | None:
        """The lambda the advantage estimate uses: ``gae_lambda``; unset, ``None`` (the seed's Monte Carlo
        ``G_t - V(s_t)``) for whole episodes, but 1 for rollouts, whose segments end before their episodes do (GAE
        with lambda = 1 is the n-step return bootstrapped with V, minus V)."""
        if self.gae_lambda is None and self.rollout_steps is not None:
            return 1.0
        return self.gae_lambda

    # -- conversions ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (JSON-serialisable), for provenance records and DataFrame columns."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "A2CConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError` rather than being ignored.

        Missing keys take their defaults: a record made before an option existed describes a run with it off.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown A2CConfig field(s) {unknown}: valid fields are {sorted(known)}")
        return cls(**values)

    def replace(self, **changes: Any) -> "A2CConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def budget_left(self, episodes_done: int, steps_done: int) -> float:
        """Share of the training budget still ahead (1 at the start, towards 0 at the end): the linear LR scale."""
        if self.max_steps is not None:
            return max(0.0, 1.0 - steps_done / self.max_steps)
        return max(0.0, 1.0 - episodes_done / self.episodes)

    def changes_from_seed(self) -> dict[str, Any]:
        """The fields that differ from the seed's defaults, ignoring the implementation choice."""
        seed = A2CConfig()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "implementation" and getattr(self, f.name) != getattr(seed, f.name)
        }


def option_name(field_name: str) -> str:
    """The command-line spelling of a config field: ``actor_lr`` -> ``--actor-lr``."""
    return "--" + field_name.replace("_", "-")


def _whole(cfg: A2CConfig, name: str, minimum: int, maximum: int | None = None) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (maximum is not None and value > maximum):
        default = getattr(A2CConfig, name)
        hint = f" (the seed uses {default})" if default is not None else ""
        what = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum:,}"
        raise ConfigError(f"invalid {option_name(name)} {value!r}: must be a whole number {what}{hint}")


def _real(cfg: A2CConfig, name: str, ok: Any, what: str) -> None:
    value = getattr(cfg, name)
    good = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and ok(value)
    if not good:
        default = getattr(A2CConfig, name)
        hint = f" (the seed uses {default})" if default is not None else ""
        raise ConfigError(f"invalid {option_name(name)} {value!r}: must be {what}{hint}")
