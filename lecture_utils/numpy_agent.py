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
from typing import Any, Sequence, cast

import numpy as np
from numpy.typing import NDArray

from .agent import A2CAgent, UpdateStats, sample_action
from .config import A2CConfig
from .envs import Episode
from .networks import build_networks, network_weights
from .returns import discounted_returns

__all__ = ["NumpyA2CAgent", "NumpyA2CStack", "MinibatchMath", "FlatMLP", "Adam"]


class FlatMLP:
    """A one-hidden-layer ReLU MLP whose parameters are views into one flat float32 vector.

    Layout (PyTorch's): ``w1 (hidden, in)``, ``b1 (hidden,)``, ``w2 (out, hidden)``, ``b2 (out,)``. ``grad`` has
    the same layout, so optimisers and clipping work on one vector.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, seeds: int | None = None) -> None:
        sizes = [n_hidden * n_in, n_hidden, n_out * n_hidden, n_out]
        lead = () if seeds is None else (int(seeds),)
        self.params = np.zeros((*lead, sum(sizes)), dtype=np.float32)
        self.grad = np.zeros_like(self.params)
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
        d_hidden = np.matmul(d_out, self.w2)
        d_hidden *= hidden > 0
        np.matmul(d_hidden.swapaxes(-1, -2), x, out=self.gw1)
        np.add.reduce(d_hidden, axis=-2, out=self.gb1)


class Adam:
    """``torch.optim.Adam`` (defaults betas (0.9, 0.999), eps 1e-8, no weight decay) on one flat vector, in place.

    With a seed axis (``params (S, P)``), ``lr`` may be a ``(S,)`` float64 array: one learning rate per seed."""

    def __init__(self, params: NDArray[np.float32], lr: float | NDArray[np.float64], betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params, self.lr, self.eps = params, lr, eps
        self.beta1, self.beta2 = betas
        self.exp_avg = np.zeros_like(params)
        self.exp_avg_sq = np.zeros_like(params)
        self.steps = 0
        self._scratch = np.zeros_like(params)

    def step(self, grad: NDArray[np.float32]) -> None:
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
        bias_correction1 = 1.0 - self.beta1 ** self.steps
        bias_correction2_sqrt = math.sqrt(1.0 - self.beta2 ** self.steps)
        np.sqrt(v, out=tmp)
        tmp /= bias_correction2_sqrt
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        scale: Any = -(self.lr / bias_correction1)
        if isinstance(scale, np.ndarray):  # one learning rate per seed (a seed axis): each rounded as a scalar is
            scale = scale.astype(np.float32)[:, None]
        tmp *= scale
        self.params += tmp


def _clip_(grad: NDArray[np.float32], max_norm: float | None) -> float:
    """Global L2 norm of ``grad``; if ``max_norm`` is set, scale ``grad`` in place as ``clip_grad_norm_`` does."""
    norm = math.sqrt(float(np.dot(grad, grad)))
    if max_norm is not None:
        coef = max_norm / (norm + 1e-6)
        if coef < 1.0:
            grad *= np.float32(coef)
    return norm


def _clip_stacked_(grad: NDArray[np.float32], max_norm: float | None) -> NDArray[np.float64]:
    """:func:`_clip_` for each row of ``grad (S, P)`` (one network per seed); the ``(S,)`` norms before clipping."""
    # A stacked (1 x P) @ (P x 1) product is, per seed, the very dot product np.dot computes.
    norms = np.sqrt(np.matmul(grad[:, None, :], grad[:, :, None])[:, 0, 0].astype(np.float64))
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
        actor, critic = self.actor, self.critic
        actor_step, critic_step = self.actor_optimizer.step, self.critic_optimizer.step
        max_norm = cfg.max_grad_norm
        actor_norm_sum = critic_norm_sum = 0.0
        actor_steps = critic_steps = 0
        actor_loss = critic_loss = 0.0
        advantage_std = 0.0
        last_pass = cfg.update_passes - 1
        old_log_probs = None
        if cfg.ratio_clip is not None:  # log pi_old(a_t|s_t): the actor has not moved since it collected the batch
            old_log_probs = self._log_probs(obs)[1].take(flat_actions)
        for pass_index in range(cfg.update_passes):
            adv = self.advantages(episode, returns32)
            if pass_index == 0:
                advantage_std = float(adv.astype(np.float64).std())
            for start, stop, x, x_next, r, disc, taken in batches:
                # Only the final minibatch's losses are reported, so only that one computes them.
                final = pass_index == last_pass and stop >= length
                loss = self._actor_step_grad(x, taken, adv[start:stop], final,
                                             None if old_log_probs is None else old_log_probs[start:stop])
                if final:
                    actor_loss = loss
                actor_norm_sum += _clip_(actor.grad, max_norm)
                actor_steps += 1
                actor_step(actor.grad)
                for critic_index in range(cfg.critic_steps):
                    td_target = r + disc * critic.forward(x_next)[1]
                    with_loss = final and critic_index == cfg.critic_steps - 1
                    loss = self.critic_loss_and_grad(x, td_target, with_loss)
                    if with_loss:
                        critic_loss = loss
                    critic_norm_sum += _clip_(critic.grad, max_norm)
                    critic_steps += 1
                    critic_step(critic.grad)
        return UpdateStats(
            actor_loss=actor_loss,
            critic_loss=critic_loss,
            actor_grad_norm=actor_norm_sum / max(actor_steps, 1),
            critic_grad_norm=critic_norm_sum / max(critic_steps, 1),
            advantage_std=advantage_std,
        )


def _discounted_returns_rows(rewards: NDArray[np.float64], gamma: float) -> NDArray[np.float64]:
    """:func:`.returns.discounted_returns` of every row of ``rewards (S, T)``, with the same operations per row."""
    returns = np.empty_like(rewards)
    running = np.zeros(rewards.shape[0])
    for t in range(rewards.shape[1] - 1, -1, -1):
        running = running * gamma + rewards[:, t]
        returns[:, t] = running
    return returns


class NumpyA2CStack(MinibatchMath):
    """``S`` NumPy agents of one configuration with their networks and Adam states stacked along a leading seed
    axis, updated together, each on its own batch (all batches of one length, as rollouts are).

    Seed ``s``'s update is exactly ``agents[s].update(batch_s)``: the same minibatch maths (:class:`MinibatchMath`)
    runs on stacked arrays, and NumPy computes every seed's slice of a stacked product with the BLAS call the agent
    makes alone. The agents themselves are left as they were until :meth:`copy_to_agent`.
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
            for mine, theirs in ((self.actor, agent.actor), (self.critic, agent.critic)):
                mine.params[index] = theirs.params
            for mine_opt, theirs_opt in ((self.actor_optimizer, agent.actor_optimizer),
                                         (self.critic_optimizer, agent.critic_optimizer)):
                mine_opt.exp_avg[index], mine_opt.exp_avg_sq[index] = theirs_opt.exp_avg, theirs_opt.exp_avg_sq
        steps = {(a.actor_optimizer.steps, a.critic_optimizer.steps) for a in agents}
        if len(steps) != 1:
            raise ValueError(f"stacked agents must have taken the same number of optimiser steps, got {sorted(steps)}")
        self.actor_optimizer.steps, self.critic_optimizer.steps = steps.pop()

    def follow_learning_rates(self) -> None:
        """Take each agent's current learning rates (set by its :meth:`~A2CAgent.follow_lr_schedule`)."""
        self.actor_optimizer.lr = np.array([a.actor_optimizer.lr for a in self.agents])
        self.critic_optimizer.lr = np.array([a.critic_optimizer.lr for a in self.agents])

    def copy_to_agent(self, index: int) -> NumpyA2CAgent:
        """Write seed ``index``'s weights and optimiser states back into its agent, and return the agent."""
        agent = self.agents[index]
        agent.actor.params[...] = self.actor.params[index]
        agent.critic.params[...] = self.critic.params[index]
        for mine, theirs in ((self.actor_optimizer, agent.actor_optimizer),
                             (self.critic_optimizer, agent.critic_optimizer)):
            theirs.exp_avg[...], theirs.exp_avg_sq[...], theirs.steps = mine.exp_avg[index], mine.exp_avg_sq[index], \
                mine.steps
        return agent

    def _advantages(self, obs: NDArray[np.float32], next_obs: NDArray[np.float32], rewards: NDArray[np.float64],
                    terminated: NDArray[np.bool_], truncated: NDArray[np.bool_],
                    returns32: NDArray[np.float32] | None) -> NDArray[np.float32]:
        """:meth:`A2CAgent.advantages` for every seed: ``(S, T)`` float32, the same operations row by row."""
        cfg = self.config
        values = self.critic.forward(obs)[1][..., 0]
        lam = cfg.advantage_lambda
        if lam is None:
            assert returns32 is not None
            adv = returns32 - values
        else:
            next_values = self.critic.forward(next_obs)[1][..., 0].astype(np.float64)
            not_done = 1.0 - terminated.astype(np.float64)
            deltas = rewards + cfg.gamma * not_done * next_values - values.astype(np.float64)  # as td_errors
            not_ended = 1.0 - (terminated | truncated).astype(np.float64)
            adv64 = np.empty_like(deltas)
            running = np.zeros(deltas.shape[0])
            for t in range(deltas.shape[1] - 1, -1, -1):  # as gae_advantages, every seed at once
                running = deltas[:, t] + cfg.gamma * lam * not_ended[:, t] * running
                adv64[:, t] = running
            adv = adv64.astype(np.float32)
        if cfg.normalize_advantages:
            adv = (adv - adv.mean(axis=-1, keepdims=True)) / (adv.std(axis=-1, keepdims=True) + np.float32(1e-8))
        return adv

    def update(self, batches: Sequence[Episode]) -> list[UpdateStats]:
        """:meth:`NumpyA2CAgent.update` of every seed on its own batch (``batches[s]``, all of one length)."""
        cfg = self.config
        n_seeds, length, n_actions = len(batches), batches[0].length, self.n_actions
        obs = np.stack([b.obs for b in batches])
        next_obs = np.stack([b.next_obs for b in batches])
        actions = np.stack([b.actions for b in batches])
        rewards = np.stack([b.rewards for b in batches])
        terminated = np.stack([b.terminated for b in batches])
        truncated = np.stack([b.truncated for b in batches])
        rewards32 = rewards.astype(np.float32)[..., None]
        gamma = np.float32(cfg.gamma)
        discount = gamma * (1.0 - terminated.astype(np.float32))[..., None]
        returns32 = _discounted_returns_rows(rewards, cfg.gamma).astype(np.float32) \
            if cfg.advantage_lambda is None else None
        seed_rows = np.arange(n_seeds)[:, None]
        flat_actions = (seed_rows * length + np.arange(length)) * n_actions + actions
        batch_size = cfg.batch_size
        minibatches = []
        for start in range(0, length, batch_size):
            stop = min(start + batch_size, length)
            taken = (seed_rows * (stop - start) + np.arange(stop - start)) * n_actions + actions[:, start:stop]
            minibatches.append((start, stop, obs[:, start:stop], next_obs[:, start:stop], rewards32[:, start:stop],
                                discount[:, start:stop], taken))
        max_norm = cfg.max_grad_norm
        actor_norm_sum, critic_norm_sum = np.zeros(n_seeds), np.zeros(n_seeds)
        actor_steps = critic_steps = 0
        actor_loss: Any = np.zeros(n_seeds)
        critic_loss: Any = np.zeros(n_seeds)
        advantage_std = np.zeros(n_seeds)
        last_pass = cfg.update_passes - 1
        old_log_probs = None
        if cfg.ratio_clip is not None:
            old_log_probs = self._log_probs(obs)[1].take(flat_actions)
        for pass_index in range(cfg.update_passes):
            adv = self._advantages(obs, next_obs, rewards, terminated, truncated, returns32)
            if pass_index == 0:
                advantage_std = adv.astype(np.float64).std(axis=-1)
            for start, stop, x, x_next, r, disc, taken in minibatches:
                final = pass_index == last_pass and stop >= length
                loss = self._actor_step_grad(x, taken, adv[:, start:stop], final,
                                             None if old_log_probs is None else old_log_probs[:, start:stop])
                if final:
                    actor_loss = loss
                actor_norm_sum += _clip_stacked_(self.actor.grad, max_norm)
                actor_steps += 1
                self.actor_optimizer.step(self.actor.grad)
                for critic_index in range(cfg.critic_steps):
                    td_target = r + disc * self.critic.forward(x_next)[1]
                    with_loss = final and critic_index == cfg.critic_steps - 1
                    loss = self.critic_loss_and_grad(x, td_target, with_loss)
                    if with_loss:
                        critic_loss = loss
                    critic_norm_sum += _clip_stacked_(self.critic.grad, max_norm)
                    critic_steps += 1
                    self.critic_optimizer.step(self.critic.grad)
        actor_norms, critic_norms = actor_norm_sum / max(actor_steps, 1), critic_norm_sum / max(critic_steps, 1)
        return [UpdateStats(actor_loss=float(actor_loss[s]), critic_loss=float(critic_loss[s]),
                            actor_grad_norm=float(actor_norms[s]), critic_grad_norm=float(critic_norms[s]),
                            advantage_std=float(advantage_std[s])) for s in range(n_seeds)]
