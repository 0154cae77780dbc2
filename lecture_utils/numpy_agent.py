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
from typing import cast

import numpy as np
from numpy.typing import NDArray

from .agent import A2CAgent, UpdateStats, sample_action
from .config import A2CConfig
from .envs import Episode
from .networks import build_networks, network_weights
from .returns import discounted_returns

__all__ = ["NumpyA2CAgent", "FlatMLP", "Adam"]


class FlatMLP:
    """A one-hidden-layer ReLU MLP whose parameters are views into one flat float32 vector.

    Layout (PyTorch's): ``w1 (hidden, in)``, ``b1 (hidden,)``, ``w2 (out, hidden)``, ``b2 (out,)``. ``grad`` has
    the same layout, so optimisers and clipping work on one vector.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        sizes = [n_hidden * n_in, n_hidden, n_out * n_hidden, n_out]
        self.params = np.zeros(sum(sizes), dtype=np.float32)
        self.grad = np.zeros_like(self.params)
        shapes = [(n_hidden, n_in), (n_hidden,), (n_out, n_hidden), (n_out,)]
        offsets = np.cumsum([0] + sizes)
        spans = list(zip(offsets[:-1], offsets[1:], shapes, strict=True))
        self.w1, self.b1, self.w2, self.b2 = (self.params[a:b].reshape(s) for a, b, s in spans)
        self.gw1, self.gb1, self.gw2, self.gb2 = (self.grad[a:b].reshape(s) for a, b, s in spans)
        self.names = ("0.weight", "0.bias", "2.weight", "2.bias")

    def load(self, weights: dict[str, NDArray[np.floating]]) -> None:
        """Copy weights keyed ``0.weight, 0.bias, 2.weight, 2.bias`` (an ``nn.Sequential``'s names) into place."""
        for name, view in zip(self.names, (self.w1, self.b1, self.w2, self.b2), strict=True):
            view[...] = weights[name]

    def export(self) -> dict[str, NDArray[np.float32]]:
        return {name: view.copy() for name, view in zip(self.names, (self.w1, self.b1, self.w2, self.b2), strict=True)}

    def forward(self, x: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """``x (B, in) -> (hidden (B, n_hidden), output (B, out))``; the hidden layer is kept for backward."""
        hidden = x @ self.w1.T
        hidden += self.b1
        np.maximum(hidden, 0.0, out=hidden)
        out = hidden @ self.w2.T
        out += self.b2
        return cast(NDArray[np.float32], hidden), cast(NDArray[np.float32], out)  # float32 in, float32 out

    def backward(self, x: NDArray[np.float32], hidden: NDArray[np.float32], d_out: NDArray[np.float32]) -> None:
        """Write ``dL/dparams`` into :attr:`grad` given ``d_out = dL/doutput`` of shape ``(B, out)``."""
        # np.add.reduce is what np.sum calls, minus a Python wrapper that costs more than these tiny sums.
        np.matmul(d_out.T, hidden, out=self.gw2)
        np.add.reduce(d_out, axis=0, out=self.gb2)
        d_hidden = d_out @ self.w2
        d_hidden *= hidden > 0
        np.matmul(d_hidden.T, x, out=self.gw1)
        np.add.reduce(d_hidden, axis=0, out=self.gb1)


class Adam:
    """``torch.optim.Adam`` (defaults betas (0.9, 0.999), eps 1e-8, no weight decay) on one flat vector, in place."""

    def __init__(self, params: NDArray[np.float32], lr: float, betas: tuple[float, float] = (0.9, 0.999),
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
        tmp *= -(self.lr / bias_correction1)
        self.params += tmp


def _clip_(grad: NDArray[np.float32], max_norm: float | None) -> float:
    """Global L2 norm of ``grad``; if ``max_norm`` is set, scale ``grad`` in place as ``clip_grad_norm_`` does."""
    norm = math.sqrt(float(np.dot(grad, grad)))
    if max_norm is not None:
        coef = max_norm / (norm + 1e-6)
        if coef < 1.0:
            grad *= np.float32(coef)
    return norm


class NumpyA2CAgent(A2CAgent):
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
        batch = x.shape[0]
        hidden, probs = self._probs(x)
        loss = math.nan
        if with_loss or cfg.entropy_coef > 0:
            log_probs = np.log(probs + eps)
        if with_loss:
            loss = -float(np.mean(adv * log_probs.take(taken)))
        d_probs = np.zeros_like(probs)
        d_probs.put(taken, -adv / (batch * (probs.take(taken) + eps)))
        if cfg.entropy_coef > 0:
            if with_loss:
                entropy = -(probs * log_probs).sum(axis=-1)
                loss -= cfg.entropy_coef * float(np.mean(entropy))
            # d(-beta * mean H)/dp = beta/B * (log(p + eps) + p / (p + eps))
            d_probs += np.float32(cfg.entropy_coef / batch) * (log_probs + probs / (probs + eps))
        d_logits = probs * (d_probs - np.add.reduce(d_probs * probs, axis=-1, keepdims=True))
        self.actor.backward(x, hidden, d_logits)
        return loss

    def _actor_step_grad_log_softmax(self, x: NDArray[np.float32], taken: NDArray[np.intp],
                                     adv: NDArray[np.float32], with_loss: bool,
                                     old_log_probs: NDArray[np.float32] | None = None) -> float:
        """The actor step with ``log pi = log_softmax(logits)`` (the ``stable_log_prob`` option).

        Gradients with respect to the logits ``z``: ``d(-A log pi_a)/dz = -A (onehot_a - pi)`` and
        ``d(-H)/dz_j = pi_j (log pi_j + H)``; both stay finite however peaked the policy is.
        """
        cfg = self.config
        batch = x.shape[0]
        hidden, log_probs = self._log_probs(x)
        probs = np.exp(log_probs)
        if old_log_probs is None:
            weight = adv  # d(-A log pi_a)/dz = -A (onehot_a - pi)
            loss = -float(np.mean(adv * log_probs.take(taken))) if with_loss else math.nan
        else:
            # Clipped surrogate -min(r A, clip(r) A): where the unclipped term is the smaller, its gradient
            # d(-A r)/dz = -A r (onehot_a - pi), i.e. the log-prob gradient with weight A r; elsewhere 0.
            ratio = np.exp(log_probs.take(taken) - old_log_probs)
            eps = np.float32(cfg.ratio_clip)
            unclipped, clipped = ratio * adv, np.clip(ratio, 1 - eps, 1 + eps) * adv
            weight = np.where(unclipped <= clipped, unclipped, np.float32(0.0))
            loss = -float(np.mean(np.minimum(unclipped, clipped))) if with_loss else math.nan
        scale = (weight / np.float32(batch))[:, None]
        d_logits = probs * scale
        d_logits.put(taken, d_logits.take(taken) - scale[:, 0])
        if cfg.entropy_coef > 0:
            entropy = -np.add.reduce(probs * log_probs, axis=-1, keepdims=True)
            d_logits += np.float32(cfg.entropy_coef / batch) * probs * (log_probs + entropy)
            if with_loss:
                loss -= cfg.entropy_coef * float(np.mean(entropy))
        self.actor.backward(x, hidden, d_logits)
        return loss

    def critic_loss_and_grad(self, x: NDArray[np.float32], target: NDArray[np.float32],
                             with_loss: bool = True) -> float:
        """Critic loss ``mean((V(s) - y)^2)`` on a minibatch, ``target`` of shape ``(B, 1)``; gradient to ``critic.grad``.

        ``with_loss=False`` skips computing the loss (returns ``nan``), as for the actor.
        """
        hidden, values = self.critic.forward(x)
        error = values - target
        loss = float(np.mean(error * error)) if with_loss else math.nan
        error *= np.float32(2.0 / x.shape[0])
        self.critic.backward(x, hidden, error)
        return loss

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
