"""The seed's A2C update with every gradient written out by hand, in NumPy: the fast implementation.

For two networks this small, PyTorch's per-call overhead (module dispatch, autograd graph, optimiser bookkeeping)
costs far more than the arithmetic. Here each network's parameters live in one flat float32 vector; the layers are
views into it, so a whole Adam step is a handful of vector operations. The maths is the same as
:mod:`.torch_agent`, and a test checks these gradients against autograd on random inputs.

Backward passes, for a minibatch of ``B`` rows (``x`` observations, ``h`` hidden activations):

* softmax: with ``g = dL/dp``, ``dL/dlogits = p * (g - sum_j g_j p_j)``;
* linear ``y = h W^T + b``: ``dW = dy^T h``, ``db = sum_rows dy``, ``dh = dy W``;
* ReLU: the gradient passes only where the activation is positive.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence, cast

import numpy as np
from numpy.typing import NDArray

from .agent import A2CAgent, UpdateStats, sample_action
from .config import A2CConfig
from .envs import Episode
from .networks import build_networks, network_weights
from .returns import discounted_returns

__all__ = ["NumpyA2CAgent", "NumpyA2CStack", "MinibatchMath", "MinibatchResult", "FlatMLP", "Adam"]


class FlatMLP:
    """A one-hidden-layer ReLU MLP whose parameters are views into one flat float32 vector.

    Layout (PyTorch's): ``w1 (hidden, in)``, ``b1 (hidden,)``, ``w2 (out, hidden)``, ``b2 (out,)``. ``grad`` has
    the same layout, so optimisers and clipping work on one vector.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, seeds: int | None = None,
                 storage: tuple[NDArray[np.float32], NDArray[np.float32]] | None = None) -> None:
        """``seeds``: stack that many networks along a leading axis. ``storage``: ``(params, grad)`` arrays to live
        in (e.g. one row of a stacked network's), instead of new ones."""
        sizes = [n_hidden * n_in, n_hidden, n_out * n_hidden, n_out]
        lead = () if seeds is None else (int(seeds),)
        if storage is None:
            self.params = np.zeros((*lead, sum(sizes)), dtype=np.float32)
            self.grad = np.zeros_like(self.params)
        else:
            self.params, self.grad = storage
            assert self.params.shape == (*lead, sum(sizes)) and self.grad.shape == self.params.shape
        self.shape: tuple[int, int, int] = (n_in, n_hidden, n_out)
        shapes = [(n_hidden, n_in), (n_hidden,), (n_out, n_hidden), (n_out,)]
        offsets = np.cumsum([0] + sizes)
        spans = list(zip(offsets[:-1], offsets[1:], shapes, strict=True))
        self.w1, self.b1, self.w2, self.b2 = (self.params[..., a:b].reshape(*lead, *s) for a, b, s in spans)
        self.gw1, self.gb1, self.gw2, self.gb2 = (self.grad[..., a:b].reshape(*lead, *s) for a, b, s in spans)
        assert all(np.shares_memory(v, self.params) for v in (self.w1, self.b1, self.w2, self.b2))
        # Transposed views and broadcastable biases, once: with a seed axis, every matrix product is a stacked one
        # and NumPy computes each seed's slice with the very BLAS call the unstacked network makes.
        self._w1t, self._w2t = self.w1.swapaxes(-1, -2), self.w2.swapaxes(-1, -2)
        self._b1, self._b2 = (self.b1, self.b2) if seeds is None else (self.b1[:, None, :], self.b2[:, None, :])
        self.names = ("0.weight", "0.bias", "2.weight", "2.bias")

    def load(self, weights: dict[str, NDArray[np.floating]]) -> None:
        """Copy weights keyed ``0.weight, 0.bias, 2.weight, 2.bias`` (an ``nn.Sequential``'s names) into place."""
        for name, view in zip(self.names, (self.w1, self.b1, self.w2, self.b2), strict=True):
            view[...] = weights[name]

    def export(self) -> dict[str, NDArray[np.float32]]:
        return {name: view.copy() for name, view in zip(self.names, (self.w1, self.b1, self.w2, self.b2), strict=True)}

    def forward(self, x: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """``x (B, in) -> (hidden (B, n_hidden), output (B, out))``; the hidden layer is kept for backward.

        With a seed axis, ``x (S, B, in) -> (S, B, n_hidden), (S, B, out)``: each seed's network on its own rows."""
        hidden = np.matmul(x, self._w1t)
        hidden += self._b1
        np.maximum(hidden, 0.0, out=hidden)
        out = np.matmul(hidden, self._w2t)
        out += self._b2
        # Strings, not subscripts: a runtime NDArray[...] costs a typing call per forward pass.
        return cast("NDArray[np.float32]", hidden), cast("NDArray[np.float32]", out)  # float32 in, float32 out

    def backward(self, x: NDArray[np.float32], hidden: NDArray[np.float32], d_out: NDArray[np.float32]) -> None:
        """Write ``dL/dparams`` into :attr:`grad` given ``d_out = dL/doutput`` of shape ``(B, out)`` (or
        ``(S, B, out)`` with a seed axis)."""
        # np.add.reduce is what np.sum calls, minus a Python wrapper that costs more than these tiny sums.
        np.matmul(d_out.swapaxes(-1, -2), hidden, out=self.gw2)
        np.add.reduce(d_out, axis=-2, out=self.gb2)
        if self.shape[2] == 1:
            # One output (the critic): the product has an inner dimension of 1, so each entry is one multiplication,
            # rounded once however it is computed; broadcasting gives BLAS's very numbers (a test checks it) at
            # less than half the cost of a stacked matmul's per-seed outer products.
            d_hidden = d_out * self.w2
        else:
            d_hidden = np.matmul(d_out, self.w2)
        d_hidden *= hidden > 0
        np.matmul(d_hidden.swapaxes(-1, -2), x, out=self.gw1)
        np.add.reduce(d_hidden, axis=-2, out=self.gb1)


class Adam:
    """``torch.optim.Adam`` (defaults betas (0.9, 0.999), eps 1e-8, no weight decay) on one flat vector, in place.

    With a seed axis (``params (S, P)``) ``lr`` is a ``(S,)`` float64 array and ``steps`` a ``(S,)`` int64 array:
    each seed's learning rate and step count, its bias corrections computed as the scalar ones are."""

    def __init__(self, params: NDArray[np.float32], lr: float | NDArray[np.float64], betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params, self.lr, self.eps = params, lr, eps
        self.beta1, self.beta2 = betas
        self.exp_avg = np.zeros_like(params)
        self.exp_avg_sq = np.zeros_like(params)
        self.steps: Any = 0 if params.ndim == 1 else np.zeros(params.shape[0], dtype=np.int64)
        self._scratch = np.zeros_like(params)

    def step(self, grad: NDArray[np.float32]) -> Any:
        """One Adam step along ``grad`` (the layout of ``params``); returns the L2 norm of the parameter change
        (a float, or ``(S,)`` float64 with a seed axis)."""
        self.steps += 1
        m, v, tmp = self.exp_avg, self.exp_avg_sq, self._scratch
        # m <- m + (1 - beta1)(g - m)   (torch's lerp);   v <- beta2 v + (1 - beta2) g^2
        np.subtract(grad, m, out=tmp)
        tmp *= 1.0 - self.beta1
        m += tmp
        v *= self.beta2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.beta2
        v += tmp
        if isinstance(self.steps, np.ndarray):
            # Per seed, in Python floats as below (NumPy's vector power need not round as C's pow does), then
            # applied as float32 columns: the very float32 operations the scalars would give. Seeds that have taken
            # the same number of steps (usually all of them) share one computation.
            steps = self.steps.tolist()
            first = steps[0]
            if steps.count(first) == len(steps):
                bias_correction1: Any = np.full(len(steps), 1.0 - self.beta1 ** first)
                bias_correction2_sqrt: Any = np.full((len(steps), 1), math.sqrt(1.0 - self.beta2 ** first),
                                                     dtype=np.float32)
            else:
                bias_correction1 = np.array([1.0 - self.beta1 ** k for k in steps])
                bias_correction2_sqrt = np.array([math.sqrt(1.0 - self.beta2 ** k) for k in steps],
                                                 dtype=np.float32)[:, None]
        else:
            bias_correction1 = 1.0 - self.beta1 ** self.steps
            bias_correction2_sqrt = math.sqrt(1.0 - self.beta2 ** self.steps)
        np.sqrt(v, out=tmp)
        tmp /= bias_correction2_sqrt
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        scale: Any = -(self.lr / bias_correction1)
        if isinstance(scale, np.ndarray):
            scale = scale.astype(np.float32)[:, None]
        tmp *= scale
        self.params += tmp
        return _l2_norms(tmp)


def _l2_norms(vector: NDArray[np.float32]) -> Any:
    """Global L2 norm of ``vector (P,)`` as a float, or of each row of ``vector (S, P)`` as ``(S,)`` float64."""
    if vector.ndim == 1:
        return math.sqrt(float(np.dot(vector, vector)))
    # A stacked (1 x P) @ (P x 1) product is, per seed, the very dot product np.dot computes.
    return np.sqrt(np.matmul(vector[:, None, :], vector[:, :, None])[:, 0, 0].astype(np.float64))


def _clip_(grad: NDArray[np.float32], max_norm: float | None) -> float:
    """Global L2 norm of ``grad``; if ``max_norm`` is set, scale ``grad`` in place as ``clip_grad_norm_`` does."""
    norm = _l2_norms(grad)
    if max_norm is not None:
        coef = max_norm / (norm + 1e-6)
        if coef < 1.0:
            grad *= np.float32(coef)
    return norm


def _clip_stacked_(grad: NDArray[np.float32], max_norm: float | None) -> NDArray[np.float64]:
    """:func:`_clip_` for each row of ``grad (S, P)`` (one network per seed); the ``(S,)`` norms before clipping."""
    norms = _l2_norms(grad)
    if max_norm is not None:
        coef = max_norm / (norms + 1e-6)
        grad *= np.where(coef < 1.0, coef, 1.0).astype(np.float32)[:, None]  # x 1.0 leaves a row exactly as it is
    return norms


def _scalar(loss: Any) -> Any:
    """A 0-d result as a Python float (one network); a ``(S,)`` array of losses (a seed axis) as it is."""
    return float(loss) if np.ndim(loss) == 0 else loss


class MinibatchMath:
    """The forward passes and minibatch losses/gradients of the seed's A2C, on arrays with or without a leading seed
    axis: with one (``x (S, B, obs_dim)``, stacked networks), each seed's slice is computed exactly as it would be
    alone, and losses come back as ``(S,)`` arrays instead of floats. Needs ``actor``, ``critic`` (:class:`FlatMLP`),
    ``config`` and ``n_actions``."""

    actor: FlatMLP
    critic: FlatMLP
    actor_optimizer: "Adam"
    critic_optimizer: "Adam"
    config: A2CConfig
    n_actions: int

    def _probs(self, x: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        hidden, logits = self.actor.forward(x)
        # The ufunc reductions themselves (same results as .max()/.sum(), without their Python wrappers).
        logits -= np.maximum.reduce(logits, axis=-1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= np.add.reduce(logits, axis=-1, keepdims=True)
        return hidden, logits

    def _log_probs(self, x: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Hidden activations and ``log pi = log_softmax(logits)``, ``(B, A)``: exact where the softmax rounds."""
        hidden, logits = self.actor.forward(x)
        logits -= np.maximum.reduce(logits, axis=-1, keepdims=True)
        return hidden, logits - np.log(np.add.reduce(np.exp(logits), axis=-1, keepdims=True))

    def _actor_step_grad(self, x: NDArray[np.float32], taken: NDArray[np.intp], adv: NDArray[np.float32],
                         with_loss: bool, old_log_probs: NDArray[np.float32] | None = None) -> float:
        """:meth:`actor_loss_and_grad` with the taken actions given as flat indices into the ``(B, A)`` probabilities.

        Flat indices (``row * A + action``, computed once per episode by :meth:`update`) replace the fancy
        ``[rows, actions]`` indexing, which costs more than the arithmetic on a 32 x 2 minibatch.
        """
        cfg = self.config
        if cfg.stable_log_prob or old_log_probs is not None:
            return self._actor_step_grad_log_softmax(x, taken, adv, with_loss, old_log_probs)
        eps = np.float32(cfg.log_prob_eps)
        batch = x.shape[-2]
        hidden, probs = self._probs(x)
        loss: Any = math.nan
        if with_loss or cfg.entropy_coef > 0:
            log_probs = np.log(probs + eps)
        if with_loss:
            loss = -np.mean(adv * log_probs.take(taken), axis=-1).astype(np.float64)
        d_probs = np.zeros_like(probs)
        d_probs.put(taken, -adv / (batch * (probs.take(taken) + eps)))
        if cfg.entropy_coef > 0:
            if with_loss:
                entropy = -(probs * log_probs).sum(axis=-1)
                loss = loss - cfg.entropy_coef * np.mean(entropy, axis=-1).astype(np.float64)
            # d(-beta * mean H)/dp = beta/B * (log(p + eps) + p / (p + eps))
            d_probs += np.float32(cfg.entropy_coef / batch) * (log_probs + probs / (probs + eps))
        d_logits = probs * (d_probs - np.add.reduce(d_probs * probs, axis=-1, keepdims=True))
        self.actor.backward(x, hidden, d_logits)
        return _scalar(loss)

    def _actor_step_grad_log_softmax(self, x: NDArray[np.float32], taken: NDArray[np.intp],
                                     adv: NDArray[np.float32], with_loss: bool,
                                     old_log_probs: NDArray[np.float32] | None = None) -> float:
        """The actor step with ``log pi = log_softmax(logits)`` (the ``stable_log_prob`` option).

        Gradients with respect to the logits ``z``: ``d(-A log pi_a)/dz = -A (onehot_a - pi)`` and
        ``d(-H)/dz_j = pi_j (log pi_j + H)``; both stay finite however peaked the policy is.
        """
        cfg = self.config
        batch = x.shape[-2]
        hidden, log_probs = self._log_probs(x)
        probs = np.exp(log_probs)
        loss: Any
        if old_log_probs is None:
            weight = adv  # d(-A log pi_a)/dz = -A (onehot_a - pi)
            loss = -np.mean(adv * log_probs.take(taken), axis=-1).astype(np.float64) if with_loss else math.nan
        else:
            # Clipped surrogate -min(r A, clip(r) A): where the unclipped term is the smaller, its gradient
            # d(-A r)/dz = -A r (onehot_a - pi), i.e. the log-prob gradient with weight A r; elsewhere 0.
            ratio = np.exp(log_probs.take(taken) - old_log_probs)
            eps = np.float32(cfg.ratio_clip)
            unclipped, clipped = ratio * adv, np.clip(ratio, 1 - eps, 1 + eps) * adv
            weight = np.where(unclipped <= clipped, unclipped, np.float32(0.0))
            loss = -np.mean(np.minimum(unclipped, clipped), axis=-1).astype(np.float64) if with_loss else math.nan
        scale = (weight / np.float32(batch))[..., None]
        d_logits = probs * scale
        d_logits.put(taken, d_logits.take(taken) - scale[..., 0])
        if cfg.entropy_coef > 0:
            entropy = -np.add.reduce(probs * log_probs, axis=-1, keepdims=True)
            d_logits += np.float32(cfg.entropy_coef / batch) * probs * (log_probs + entropy)
            if with_loss:
                loss = loss - cfg.entropy_coef * np.mean(entropy[..., 0], axis=-1).astype(np.float64)
        self.actor.backward(x, hidden, d_logits)
        return _scalar(loss)

    def critic_loss_and_grad(self, x: NDArray[np.float32], target: NDArray[np.float32],
                             with_loss: bool = True) -> float:
        """Critic loss ``mean((V(s) - y)^2)`` on a minibatch, ``target`` of shape ``(B, 1)``; gradient to ``critic.grad``.

        ``with_loss=False`` skips computing the loss (returns ``nan``), as for the actor.
        """
        hidden, values = self.critic.forward(x)
        error = values - target
        loss = _scalar(np.mean((error * error)[..., 0], axis=-1).astype(np.float64)) if with_loss else math.nan
        error *= np.float32(2.0 / x.shape[-2])
        self.critic.backward(x, hidden, error)
        return loss

    def _minibatch_step(self, x: NDArray[np.float32], taken: NDArray[np.intp], adv: NDArray[np.float32],
                        with_loss: bool, old_log_probs: NDArray[np.float32] | None, x_next: NDArray[np.float32],
                        r: NDArray[np.float32], disc: NDArray[np.float32],
                        critic_target: NDArray[np.float32] | None) -> "MinibatchResult":
        """One actor step and ``config.critic_steps`` critic steps on one minibatch: ``x (B, obs_dim)``, or
        ``(S, B, obs_dim)`` for stacked networks, with the matching rows of the rest (``r``, ``disc``,
        ``critic_target``: ``(..., B, 1)``). The critic regresses on ``critic_target`` if given (fixed: the
        lambda-return), else on the TD(0) target ``r + disc * V(x_next)`` with the current critic at every step.

        Returns floats for one network, ``(S,)`` arrays for a stack (see :class:`MinibatchResult`)."""
        cfg = self.config
        clip = _clip_ if x.ndim == 2 else _clip_stacked_
        # Actor: one step on the policy loss (its gradient written by _actor_step_grad), clipped, then Adam.
        actor_loss = self._actor_step_grad(x, taken, adv, with_loss, old_log_probs)
        actor_norm = clip(self.actor.grad, cfg.max_grad_norm)
        actor_update = self.actor_optimizer.step(self.actor.grad)
        # Critic: critic_steps steps on the squared error to its target.
        critic_loss: Any = 0.0
        critic_norms, critic_updates = [], []
        for critic_index in range(cfg.critic_steps):
            target = critic_target if critic_target is not None else r + disc * self.critic.forward(x_next)[1]
            last = critic_index == cfg.critic_steps - 1
            loss = self.critic_loss_and_grad(x, target, with_loss and last)
            if last:
                critic_loss = loss
            critic_norms.append(clip(self.critic.grad, cfg.max_grad_norm))
            critic_updates.append(self.critic_optimizer.step(self.critic.grad))
        return MinibatchResult(actor_loss, actor_norm, actor_update, critic_loss, critic_norms, critic_updates)


class MinibatchResult(NamedTuple):
    """What :meth:`MinibatchMath._minibatch_step` reports: floats for one network, ``(S,)`` arrays (or lists) for a
    stack. Losses are ``nan`` unless asked for (the critic's is its last step's; 0.0 with no critic step)."""

    actor_loss: Any
    actor_grad_norm: Any
    """Actor gradient norm before clipping."""
    actor_update_norm: Any
    """L2 norm of the actor's parameter change in its Adam step."""
    critic_loss: Any
    critic_grad_norms: list[Any]
    """One per critic step, in order."""
    critic_update_norms: list[Any]
    """One per critic step, in order."""


class NumpyA2CAgent(MinibatchMath, A2CAgent):
    """A2C with hand-written gradients; same initial weights and same update as :class:`TorchA2CAgent`."""

    def __init__(self, config: A2CConfig, obs_dim: int, n_actions: int, seed: int) -> None:
        super().__init__(config, obs_dim, n_actions, seed)
        actor, critic = build_networks(obs_dim, n_actions, seed, config.actor_hidden, config.critic_hidden)
        self.actor = FlatMLP(obs_dim, config.actor_hidden, n_actions)
        self.critic = FlatMLP(obs_dim, config.critic_hidden, 1)
        self.actor.load(network_weights(actor))
        self.critic.load(network_weights(critic))
        self.actor_optimizer = Adam(self.actor.params, config.actor_lr)
        self.critic_optimizer = Adam(self.critic.params, config.critic_lr)

    # -- forward passes ---------------------------------------------------------------------------------------
    def probabilities(self, obs: NDArray[np.floating]) -> NDArray[np.float32]:
        x = np.asarray(obs, dtype=np.float32)
        return self._probs(x.reshape(1, -1))[1][0] if x.ndim == 1 else self._probs(x)[1]

    def values(self, obs: NDArray[np.floating]) -> NDArray[np.float32]:
        return self.critic.forward(np.asarray(obs, dtype=np.float32))[1][:, 0]

    def act(self, obs: NDArray[np.floating], greedy: bool = False) -> int:
        # Inlined single-observation forward pass: acting happens once per environment step, so every NumPy call
        # saved here is a few percent of the whole run.
        actor = self.actor
        hidden = actor.w1 @ obs
        hidden += actor.b1
        np.maximum(hidden, 0.0, out=hidden)
        logits = actor.w2 @ hidden
        logits += actor.b2
        if greedy:
            return int(np.argmax(logits))
        logits -= np.maximum.reduce(logits)
        np.exp(logits, out=logits)
        logits /= np.add.reduce(logits)
        # The float32 softmax above must stay in NumPy (its exp is NumPy's); the draw is the shared rule.
        return sample_action(logits.tolist(), self.rng)

    # -- weights ----------------------------------------------------------------------------------------------
    def get_weights(self) -> dict[str, NDArray[np.float32]]:
        weights = {f"actor.{k}": v for k, v in self.actor.export().items()}
        weights.update({f"critic.{k}": v for k, v in self.critic.export().items()})
        return weights

    def set_weights(self, weights: dict[str, NDArray[np.floating]]) -> None:
        self.actor.load({k[len("actor."):]: v for k, v in weights.items() if k.startswith("actor.")})
        self.critic.load({k[len("critic."):]: v for k, v in weights.items() if k.startswith("critic.")})

    # -- the update -------------------------------------------------------------------------------------------
    def set_learning_rate_scale(self, scale: float) -> None:
        self.actor_optimizer.lr = self.config.actor_lr * scale
        self.critic_optimizer.lr = self.config.critic_lr * scale

    def actor_loss_and_grad(self, x: NDArray[np.float32], actions: NDArray[np.int64],
                            adv: NDArray[np.float32], with_loss: bool = True,
                            old_log_probs: NDArray[np.float32] | None = None) -> float:
        """Actor loss ``-mean(A log(pi(a|s)+eps)) - beta mean(H)`` on a minibatch; its gradient goes to ``actor.grad``.

        ``x``: ``(B, obs_dim)``; ``actions``, ``adv``: ``(B,)``. With ``old_log_probs`` (``(B,)``, log pi_old of the
        taken actions; needs ``config.ratio_clip``) the policy term is PPO's clipped surrogate instead.
        ``with_loss=False`` skips computing the loss (returns ``nan``): the gradient does not need it, and
        :meth:`update` reports only the last minibatch's loss.
        """
        taken = np.arange(x.shape[0]) * self.n_actions + np.asarray(actions)
        return self._actor_step_grad(x, taken, adv, with_loss, old_log_probs)

    def update(self, episode: Episode) -> UpdateStats:
        cfg = self.config
        obs, next_obs = episode.obs, episode.next_obs
        length, batch_size = episode.length, cfg.batch_size
        rewards32 = episode.rewards.astype(np.float32)[:, None]
        gamma = np.float32(cfg.gamma)
        # gamma * (1 - d_t) once per episode instead of once per critic step: elementwise, so slicing it afterwards
        # gives the very same numbers as computing it per minibatch.
        discount = gamma * (1.0 - episode.terminated.astype(np.float32))[:, None]
        returns32 = discounted_returns(episode.rewards, cfg.gamma).astype(np.float32)
        # Per minibatch, fixed for the whole update: slices, and the taken actions as flat indices (see
        # _actor_step_grad). The last minibatch may be shorter.
        flat_actions = np.arange(length) * self.n_actions + episode.actions
        batches = [
            (start, start + batch_size, obs[start:start + batch_size], next_obs[start:start + batch_size],
             rewards32[start:start + batch_size], discount[start:start + batch_size],
             flat_actions[start:start + batch_size] - start * self.n_actions)
            for start in range(0, length, batch_size)
        ]
        norm_sums = dict.fromkeys(("actor_grad", "critic_grad", "actor_update", "critic_update"), 0.0)
        actor_steps = critic_steps = 0
        actor_loss = critic_loss = 0.0
        advantage_std = 0.0
        last_pass = cfg.update_passes - 1
        old_log_probs = None
        if cfg.ratio_clip is not None:  # log pi_old(a_t|s_t): the actor has not moved since it collected the batch
            old_log_probs = self._log_probs(obs)[1].take(flat_actions)
        for pass_index in range(cfg.update_passes):
            if cfg.critic_target == "td0":
                adv, targets = self.advantages(episode, returns32), None
            else:
                adv, targets = self.advantages_and_critic_targets(episode, returns32)
                targets = cast(NDArray[np.float32], targets)[:, None]
            if pass_index == 0:
                advantage_std = float(adv.astype(np.float64).std())
            for start, stop, x, x_next, r, disc, taken in batches:
                # Only the final minibatch's losses are reported, so only that one computes them.
                final = pass_index == last_pass and stop >= length
                step = self._minibatch_step(x, taken, adv[start:stop], final,
                                            None if old_log_probs is None else old_log_probs[start:stop],
                                            x_next, r, disc, None if targets is None else targets[start:stop])
                if final:
                    actor_loss, critic_loss = step.actor_loss, step.critic_loss
                norm_sums["actor_grad"] += step.actor_grad_norm
                norm_sums["actor_update"] += step.actor_update_norm
                actor_steps += 1
                for grad_norm, update_norm in zip(step.critic_grad_norms, step.critic_update_norms, strict=True):
                    norm_sums["critic_grad"] += grad_norm
                    norm_sums["critic_update"] += update_norm
                critic_steps += cfg.critic_steps
        return UpdateStats.from_sums(actor_loss, critic_loss, advantage_std, norm_sums["actor_grad"],
                                     norm_sums["critic_grad"], norm_sums["actor_update"], norm_sums["critic_update"],
                                     actor_steps, critic_steps)


class NumpyA2CStack(MinibatchMath):
    """``S`` NumPy agents of one configuration whose networks and Adam states live stacked along a leading seed
    axis, updated together, each on its own batch.

    Seed ``s``'s update is exactly ``agents[s].update(batch_s)``: the same minibatch maths (:class:`MinibatchMath`)
    runs on stacked arrays, and NumPy computes every seed's slice of a stacked product with the BLAS call the agent
    makes alone. While stacked, each agent's networks are views of its row (its acting, values and advantages see
    the current weights); :meth:`release` gives an agent back its own storage, optimiser state included.
    """

    def __init__(self, agents: Sequence[NumpyA2CAgent]) -> None:
        first = agents[0]
        self.agents = list(agents)
        self.config, self.n_actions = first.config, first.n_actions
        cfg, n = first.config, len(agents)
        self.actor = FlatMLP(first.obs_dim, cfg.actor_hidden, first.n_actions, seeds=n)
        self.critic = FlatMLP(first.obs_dim, cfg.critic_hidden, 1, seeds=n)
        self.actor_optimizer = Adam(self.actor.params, np.array([a.actor_optimizer.lr for a in agents]))
        self.critic_optimizer = Adam(self.critic.params, np.array([a.critic_optimizer.lr for a in agents]))
        for index, agent in enumerate(agents):
            for mine_opt, theirs_opt, mine, theirs in (
                    (self.actor_optimizer, agent.actor_optimizer, self.actor, agent.actor),
                    (self.critic_optimizer, agent.critic_optimizer, self.critic, agent.critic)):
                mine.params[index] = theirs.params
                mine_opt.exp_avg[index], mine_opt.exp_avg_sq[index] = theirs_opt.exp_avg, theirs_opt.exp_avg_sq
                mine_opt.steps[index] = theirs_opt.steps
            # The agent's networks and Adam moments become views of its rows: a seed that steps alone (its
            # minibatch has a size no other seed's has) steps through its own agent, on the stack's numbers.
            for name in ("actor", "critic"):
                stacked, stacked_opt = getattr(self, name), getattr(self, f"{name}_optimizer")
                view = FlatMLP(stacked.shape[0], stacked.shape[1], stacked.shape[2],
                               storage=(stacked.params[index], stacked.grad[index]))
                setattr(agent, name, view)
                opt: Adam = getattr(agent, f"{name}_optimizer")
                opt.params, opt.exp_avg, opt.exp_avg_sq = view.params, stacked_opt.exp_avg[index], \
                    stacked_opt.exp_avg_sq[index]

    # -- the agents -------------------------------------------------------------------------------------------
    def follow_learning_rates(self) -> None:
        """Take each agent's current learning rates (set by its :meth:`~A2CAgent.follow_lr_schedule`)."""
        self.actor_optimizer.lr = np.array([a.actor_optimizer.lr for a in self.agents])
        self.critic_optimizer.lr = np.array([a.critic_optimizer.lr for a in self.agents])

    def release(self, index: int) -> NumpyA2CAgent:
        """Give agent ``index`` its own networks and optimiser state again (a copy of its row) and return it."""
        agent = self.agents[index]
        for name in ("actor", "critic"):
            stacked, stacked_opt = getattr(self, name), getattr(self, f"{name}_optimizer")
            own = FlatMLP(stacked.shape[0], stacked.shape[1], stacked.shape[2])
            own.params[...] = stacked.params[index]
            setattr(agent, name, own)
            opt: Adam = getattr(agent, f"{name}_optimizer")
            opt.params = own.params
            opt.exp_avg, opt.exp_avg_sq = stacked_opt.exp_avg[index].copy(), stacked_opt.exp_avg_sq[index].copy()
            opt.steps = int(stacked_opt.steps[index])
        return agent

    def _step_alone(self, index: int, x: NDArray[np.float32], taken: NDArray[np.intp], adv: NDArray[np.float32],
                    with_loss: bool, old_log_probs: NDArray[np.float32] | None, x_next: NDArray[np.float32],
                    r: NDArray[np.float32], disc: NDArray[np.float32],
                    critic_target: NDArray[np.float32] | None) -> MinibatchResult:
        """:meth:`_minibatch_step` for one seed, through its own agent (whose networks and moments are views of
        its rows): the agent's own operations, without stacking anything; results as one-element lists."""
        agent = self.agents[index]
        for name in ("actor", "critic"):
            opt = getattr(agent, f"{name}_optimizer")
            opt.steps, opt.lr = int(getattr(self, f"{name}_optimizer").steps[index]), \
                float(getattr(self, f"{name}_optimizer").lr[index])
        step = agent._minibatch_step(x, taken, adv, with_loss, old_log_probs, x_next, r, disc, critic_target)
        self.actor_optimizer.steps[index] = agent.actor_optimizer.steps
        self.critic_optimizer.steps[index] = agent.critic_optimizer.steps
        return MinibatchResult([step.actor_loss], [step.actor_grad_norm], [step.actor_update_norm], [step.critic_loss],
                               [[n] for n in step.critic_grad_norms], [[n] for n in step.critic_update_norms])

    def _rows(self, rows: list[int]) -> "NumpyA2CStack":
        """A stack of copies of ``rows`` (write it back with :meth:`_write_rows`); ``self`` if that is every row.
        One such stack per group size is kept and refilled: building one costs more than a minibatch step."""
        if rows == list(range(len(self.agents))):
            return self
        cache: dict[int, NumpyA2CStack] = self.__dict__.setdefault("_row_stacks", {})
        sub = cache.get(len(rows))
        if sub is None:
            sub = cache[len(rows)] = object.__new__(NumpyA2CStack)
            sub.config, sub.n_actions = self.config, self.n_actions
            for name in ("actor", "critic"):
                stacked, stacked_opt = getattr(self, name), getattr(self, f"{name}_optimizer")
                n_in, n_hidden, n_out = stacked.shape
                net = FlatMLP(n_in, n_hidden, n_out, seeds=len(rows))
                setattr(sub, name, net)
                setattr(sub, f"{name}_optimizer",
                        Adam(net.params, stacked_opt.lr[rows], (stacked_opt.beta1, stacked_opt.beta2), stacked_opt.eps))
        sub.agents = [self.agents[i] for i in rows]
        for name in ("actor", "critic"):
            stacked, stacked_opt = getattr(self, name), getattr(self, f"{name}_optimizer")
            net, opt = getattr(sub, name), getattr(sub, f"{name}_optimizer")
            net.params[...] = stacked.params[rows]
            opt.lr = stacked_opt.lr[rows]
            opt.exp_avg[...], opt.exp_avg_sq[...] = stacked_opt.exp_avg[rows], stacked_opt.exp_avg_sq[rows]
            opt.steps = stacked_opt.steps[rows]
        return sub

    def _write_rows(self, sub: "NumpyA2CStack", rows: list[int]) -> None:
        if sub is self:
            return
        for name in ("actor", "critic"):
            mine, theirs = getattr(self, f"{name}_optimizer"), getattr(sub, f"{name}_optimizer")
            getattr(self, name).params[rows] = getattr(sub, name).params
            mine.exp_avg[rows], mine.exp_avg_sq[rows], mine.steps[rows] = theirs.exp_avg, theirs.exp_avg_sq, theirs.steps

    def _stacked_advantages(self, episodes: dict[int, Episode]
                            ) -> tuple[dict[int, NDArray[np.float32]], dict[int, NDArray[np.float32]] | None]:
        """:meth:`A2CAgent.advantages_and_critic_targets` (GAE) of batches of one length, for every seed at once: the
        same operations row by row as :func:`.returns.gae_advantages` (whose recursion runs here over seeds instead of
        one by one). Critic targets only for ``critic_target="lambda_return"`` (else ``None``)."""
        some = next(iter(episodes.values()))
        shape = (len(self.agents), some.length)
        obs = np.zeros((*shape, some.obs.shape[1]), np.float32)
        next_obs = np.zeros_like(obs)
        rewards, terminated, ends = np.zeros(shape), np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
        for i, ep in episodes.items():
            obs[i], next_obs[i], rewards[i] = ep.obs, ep.next_obs, ep.rewards
            terminated[i], ends[i] = ep.terminated, ep.terminated | ep.truncated
        adv, targets = self._stacked_gae(obs, next_obs, rewards, terminated, ends)
        return {i: adv[i] for i in episodes}, None if targets is None else {i: targets[i] for i in episodes}

    def _stacked_gae(self, obs: NDArray[np.float32], next_obs: NDArray[np.float32], rewards: NDArray[np.float64],
                     terminated: NDArray[np.bool_], ends: NDArray[np.bool_]
                     ) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        """GAE advantages ``(S, T)`` float32 of stacked batches (``obs``, ``next_obs``: ``(S, T, obs_dim)``; the
        rest ``(S, T)``) with the stacked critic, and the lambda-return targets ``(S, T)`` (or ``None``, see
        :meth:`_stacked_advantages`)."""
        cfg = self.config
        lam = cast(float, cfg.advantage_lambda)
        values32 = self.critic.forward(obs)[1][..., 0]
        values = values32.astype(np.float64)
        next_values = self.critic.forward(next_obs)[1][..., 0].astype(np.float64)
        not_done = 1.0 - terminated.astype(np.float64)
        deltas = rewards + cfg.gamma * not_done * next_values - values  # td_errors
        # (gamma * lam) * (1 - e_t) for every step at once (elementwise, so the same numbers as inside the loop);
        # the recursion then runs over time-major copies, whose rows are contiguous.
        carry = (cfg.gamma * lam * (1.0 - ends.astype(np.float64))).T.copy()
        deltas_by_time = deltas.T.copy()
        adv_by_time = np.empty_like(deltas_by_time)
        running = np.zeros(obs.shape[0])
        for t in range(deltas_by_time.shape[0] - 1, -1, -1):
            running = deltas_by_time[t] + carry[t] * running
            adv_by_time[t] = running
        adv = adv_by_time.T.astype(np.float32, order="C")  # C order: the reductions below run along rows
        targets = adv + values32 if cfg.critic_target == "lambda_return" else None
        if cfg.normalize_advantages:
            adv = (adv - adv.mean(axis=-1, keepdims=True)) / (adv.std(axis=-1, keepdims=True) + np.float32(1e-8))
        return adv, targets

    # -- updates ---------------------------------------------------------------------------------------------
    def _update_one_length(self, batches: Sequence[Episode | None], seeds: list[int]) -> list[UpdateStats | None]:
        """:meth:`update` where every updating seed's batch has one length and advantages are GAE (rollouts): every
        minibatch position holds one group, all of ``seeds``. The batches are stacked once, each minibatch is a
        slice of them (the same rows, so each seed's slice is computed as before), the seeds' rows are copied out
        of the stack once per update rather than once per minibatch, and the statistics add up as ``(S,)`` float64
        arrays (the same additions, in the same order, as the per-seed Python floats)."""
        cfg = self.config
        n_actions, batch_size = self.n_actions, cfg.batch_size
        episodes = [cast(Episode, batches[i]) for i in seeds]
        length, count = episodes[0].length, len(seeds)
        gamma = np.float32(cfg.gamma)
        obs = np.stack([ep.obs for ep in episodes])
        next_obs = np.stack([ep.next_obs for ep in episodes])
        rewards = np.stack([ep.rewards for ep in episodes])
        terminated = np.stack([ep.terminated for ep in episodes])
        ends = terminated | np.stack([ep.truncated for ep in episodes])
        actions = np.stack([ep.actions for ep in episodes])
        rewards32 = rewards.astype(np.float32)[..., None]
        discount = gamma * (1.0 - terminated.astype(np.float32))[..., None]
        old_log_probs = None
        sub = self._rows(seeds)
        if cfg.ratio_clip is not None:  # log pi_old(a_t|s_t) of every seed's whole batch, before any step
            flat_actions = (np.arange(count)[:, None] * length + np.arange(length)) * n_actions + actions
            old_log_probs = sub._log_probs(obs)[1].take(flat_actions)
        starts = list(range(0, length, batch_size))
        rows_offset = {size: (np.arange(count)[:, None] * size + np.arange(size)) * n_actions
                       for size in {min(start + batch_size, length) - start for start in starts}}
        actor_grad, actor_update = np.zeros(count), np.zeros(count)
        critic_grad, critic_update = np.zeros(count), np.zeros(count)
        actor_loss = critic_loss = np.zeros(count)
        advantage_std = [0.0] * count
        last_pass = cfg.update_passes - 1
        for pass_index in range(cfg.update_passes):
            adv, targets = sub._stacked_gae(obs, next_obs, rewards, terminated, ends)
            if pass_index == 0:
                advantage_std = [float(row.astype(np.float64).std()) for row in adv]
            for start in starts:
                stop = min(start + batch_size, length)
                final = pass_index == last_pass and stop >= length
                step = sub._minibatch_step(
                    obs[:, start:stop], rows_offset[stop - start] + actions[:, start:stop], adv[:, start:stop], final,
                    None if old_log_probs is None else old_log_probs[:, start:stop], next_obs[:, start:stop],
                    rewards32[:, start:stop], discount[:, start:stop],
                    None if targets is None else targets[:, start:stop, None])
                if final:
                    actor_loss = step.actor_loss
                    critic_loss = step.critic_loss if cfg.critic_steps else np.zeros(count)
                actor_grad += step.actor_grad_norm
                actor_update += step.actor_update_norm
                for grad_norms, update_norms in zip(step.critic_grad_norms, step.critic_update_norms, strict=True):
                    critic_grad += grad_norms
                    critic_update += update_norms
        self._write_rows(sub, seeds)
        actor_steps = cfg.update_passes * len(starts)
        out: list[UpdateStats | None] = [None] * len(batches)
        for k, i in enumerate(seeds):
            out[i] = UpdateStats.from_sums(float(actor_loss[k]), float(critic_loss[k]), advantage_std[k],
                                           float(actor_grad[k]), float(critic_grad[k]), float(actor_update[k]),
                                           float(critic_update[k]), actor_steps, actor_steps * cfg.critic_steps)
        return out

    def update(self, batches: Sequence[Episode | None]) -> list[UpdateStats | None]:
        """:meth:`NumpyA2CAgent.update` of every seed on its own batch, ``batches[s]`` (``None``: seed ``s`` does
        not update). Batches may differ in length: at each minibatch position the seeds whose minibatches have one
        size step together."""
        cfg = self.config
        n_actions, batch_size = self.n_actions, cfg.batch_size
        seeds = [i for i, b in enumerate(batches) if b is not None]
        episodes = {i: cast(Episode, batches[i]) for i in seeds}
        if len(seeds) > 1 and cfg.advantage_lambda is not None and len({ep.length for ep in episodes.values()}) == 1:
            return self._update_one_length(batches, seeds)
        gamma = np.float32(cfg.gamma)
        prepared = {}
        for i, ep in episodes.items():  # per seed, as NumpyA2CAgent.update prepares it
            rewards32 = ep.rewards.astype(np.float32)[:, None]
            discount = gamma * (1.0 - ep.terminated.astype(np.float32))[:, None]
            returns32 = discounted_returns(ep.rewards, cfg.gamma).astype(np.float32) \
                if cfg.advantage_lambda is None else None
            old = None
            if cfg.ratio_clip is not None:
                flat_actions = np.arange(ep.length) * n_actions + ep.actions
                old = self.agents[i]._log_probs(ep.obs)[1].take(flat_actions)
            prepared[i] = (rewards32, discount, returns32, old)
        actor_norm_sum, critic_norm_sum = {i: 0.0 for i in seeds}, {i: 0.0 for i in seeds}
        actor_update_sum, critic_update_sum = {i: 0.0 for i in seeds}, {i: 0.0 for i in seeds}
        actor_steps, critic_steps = dict.fromkeys(seeds, 0), dict.fromkeys(seeds, 0)
        actor_loss, critic_loss = dict.fromkeys(seeds, 0.0), dict.fromkeys(seeds, 0.0)
        advantage_std = dict.fromkeys(seeds, 0.0)
        last_pass = cfg.update_passes - 1
        most_minibatches = max((-(-ep.length // batch_size) for ep in episodes.values()), default=0)
        for pass_index in range(cfg.update_passes):
            targets: dict[int, NDArray[np.float32]] | None = None
            if len({ep.length for ep in episodes.values()}) == 1 and cfg.advantage_lambda is not None:
                adv, targets = self._stacked_advantages(episodes)  # rollouts: one length, every seed at once
            elif cfg.critic_target == "td0":  # each seed's advantages by its own agent (its networks are views of its row)
                adv = {i: self.agents[i].advantages(episodes[i], cast(NDArray[np.float32], prepared[i][2]))
                       for i in seeds}
            else:
                both = {i: self.agents[i].advantages_and_critic_targets(
                    episodes[i], cast(NDArray[np.float32], prepared[i][2])) for i in seeds}
                adv = {i: pair[0] for i, pair in both.items()}
                targets = {i: cast(NDArray[np.float32], pair[1]) for i, pair in both.items()}
            if pass_index == 0:
                for i in seeds:
                    advantage_std[i] = float(adv[i].astype(np.float64).std())
            for position in range(most_minibatches):
                start = position * batch_size
                groups: dict[int, list[int]] = {}
                for i in seeds:
                    if start < episodes[i].length:
                        groups.setdefault(min(start + batch_size, episodes[i].length) - start, []).append(i)
                for size, rows in groups.items():
                    stop = start + size
                    final = {i: pass_index == last_pass and stop >= episodes[i].length for i in rows}
                    with_loss = any(final.values())
                    x = np.stack([episodes[i].obs[start:stop] for i in rows])
                    x_next = np.stack([episodes[i].next_obs[start:stop] for i in rows])
                    r = np.stack([prepared[i][0][start:stop] for i in rows])
                    disc = np.stack([prepared[i][1][start:stop] for i in rows])
                    a = np.stack([adv[i][start:stop] for i in rows])
                    old = None if cfg.ratio_clip is None else \
                        np.stack([cast(NDArray[np.float32], prepared[i][3])[start:stop] for i in rows])
                    taken = (np.arange(len(rows))[:, None] * size + np.arange(size)) * n_actions + \
                        np.stack([episodes[i].actions[start:stop] for i in rows])
                    target = None if targets is None else np.stack([targets[i][start:stop] for i in rows])[..., None]
                    if len(rows) == 1:
                        i = rows[0]
                        step = self._step_alone(i, x[0], taken[0], a[0], with_loss, None if old is None else old[0],
                                                x_next[0], r[0], disc[0], None if target is None else target[0])
                    else:
                        sub = self._rows(rows)
                        step = sub._minibatch_step(x, taken, a, with_loss, old, x_next, r, disc, target)
                        self._write_rows(sub, rows)
                    for k, i in enumerate(rows):
                        if final[i]:
                            actor_loss[i], critic_loss[i] = float(step.actor_loss[k]), \
                                float(step.critic_loss[k]) if cfg.critic_steps else 0.0
                        actor_norm_sum[i] += float(step.actor_grad_norm[k])
                        actor_update_sum[i] += float(step.actor_update_norm[k])
                        actor_steps[i] += 1
                        # one at a time, as the agent sums them
                        for grad_norms, update_norms in zip(step.critic_grad_norms, step.critic_update_norms,
                                                            strict=True):
                            critic_norm_sum[i] += float(grad_norms[k])
                            critic_update_sum[i] += float(update_norms[k])
                        critic_steps[i] += cfg.critic_steps
        out: list[UpdateStats | None] = [None] * len(batches)
        for i in seeds:
            out[i] = UpdateStats.from_sums(actor_loss[i], critic_loss[i], advantage_std[i], actor_norm_sum[i],
                                           critic_norm_sum[i], actor_update_sum[i], critic_update_sum[i],
                                           actor_steps[i], critic_steps[i])
        return out
