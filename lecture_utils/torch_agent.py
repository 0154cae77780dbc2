"""The seed's A2C update written with autograd and ``torch.optim.Adam``: the version the lectures read.

With the default :class:`~lecture_utils.config.A2CConfig` it performs the very same floating-point operations as the
seed's ``Policy.update``, so a training run reproduces ``seed_reference.py`` bit for bit.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from .agent import A2CAgent, UpdateStats
from .config import A2CConfig
from .envs import Episode
from .networks import build_networks
from .returns import discounted_returns

__all__ = ["TorchA2CAgent", "StepLog"]


def _grad_norm(params: Sequence[torch.Tensor]) -> float:
    """Global L2 norm of the gradients of ``params`` (a network's parameter tensors)."""
    # torch.linalg.vector_norm is what Tensor.norm() calls for the 2-norm, minus a Python wrapper per tensor.
    norms = [torch.linalg.vector_norm(p.grad) for p in params if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0


def step_and_measure(optimizer: torch.optim.Optimizer, params: Sequence[torch.Tensor]) -> float:
    """``optimizer.step()``, and the global L2 norm of the change it made to ``params`` (the network it steps)."""
    before = [p.detach().clone() for p in params]
    optimizer.step()
    with torch.no_grad():
        changes = [torch.linalg.vector_norm(p.detach() - b) for p, b in zip(params, before, strict=True)]
    return float(torch.linalg.vector_norm(torch.stack(changes))) if changes else 0.0


class StepLog:
    """One update's optimiser steps, taken and measured in order: for each step, the network's gradient norm
    (before any clipping) and the norm of the change the step made; :meth:`stats` averages them per network."""

    def __init__(self, actor: torch.nn.Module, critic: torch.nn.Module) -> None:
        # The parameter lists once per update: module.parameters() walks the module tree on every call.
        self._params = {"actor": list(actor.parameters()), "critic": list(critic.parameters())}
        self._grad_norms: dict[str, list[float]] = {"actor": [], "critic": []}
        self._update_norms: dict[str, list[float]] = {"actor": [], "critic": []}

    def step(self, network: str, optimizer: torch.optim.Optimizer, max_grad_norm: float | None = None) -> None:
        """Record ``network``'s (``"actor"`` or ``"critic"``) gradient norm, clip it to ``max_grad_norm`` if set,
        take ``optimizer``'s step and record the size of the change."""
        params = self._params[network]
        self._grad_norms[network].append(_grad_norm(params))
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
        self._update_norms[network].append(step_and_measure(optimizer, params))

    def stats(self, actor_loss: torch.Tensor, critic_loss: torch.Tensor, advantage_std: float) -> UpdateStats:
        """The update's :class:`~lecture_utils.agent.UpdateStats`, with the last minibatch's two losses."""
        return UpdateStats.from_steps(float(actor_loss.detach()), float(critic_loss.detach()), advantage_std,
                                      self._grad_norms["actor"], self._grad_norms["critic"],
                                      self._update_norms["actor"], self._update_norms["critic"])


class TorchA2CAgent(A2CAgent):
    """A2C with ``nn.Sequential`` networks, autograd and one Adam per network."""

    def __init__(self, config: A2CConfig, obs_dim: int, n_actions: int, seed: int) -> None:
        super().__init__(config, obs_dim, n_actions, seed)
        self.actor, self.critic = build_networks(obs_dim, n_actions, seed, config.actor_hidden, config.critic_hidden)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=config.critic_lr)

    def set_learning_rate_scale(self, scale: float) -> None:
        for optimizer, lr in ((self.actor_optimizer, self.config.actor_lr), (self.critic_optimizer, self.config.critic_lr)):
            for group in optimizer.param_groups:
                group["lr"] = lr * scale

    def probabilities(self, obs: NDArray[np.floating]) -> NDArray[np.float32]:
        with torch.no_grad():
            return self.actor(torch.as_tensor(np.asarray(obs, dtype=np.float32))).numpy()

    def values(self, obs: NDArray[np.floating]) -> NDArray[np.float32]:
        with torch.no_grad():
            return self.critic(torch.as_tensor(np.asarray(obs, dtype=np.float32))).squeeze(-1).numpy()

    def get_weights(self) -> dict[str, NDArray[np.float32]]:
        weights = {f"actor.{k}": v.detach().numpy().copy() for k, v in self.actor.named_parameters()}
        weights.update({f"critic.{k}": v.detach().numpy().copy() for k, v in self.critic.named_parameters()})
        return weights

    def set_weights(self, weights: dict[str, NDArray[np.floating]]) -> None:
        with torch.no_grad():
            for prefix, net in (("actor", self.actor), ("critic", self.critic)):
                for name, param in net.named_parameters():
                    param.copy_(torch.as_tensor(np.asarray(weights[f"{prefix}.{name}"], dtype=np.float32)))

    def update(self, episode: Episode) -> UpdateStats:
        cfg = self.config
        returns = discounted_returns(episode.rewards, cfg.gamma).astype(np.float32)
        obs = torch.as_tensor(episode.obs)
        next_obs = torch.as_tensor(episode.next_obs)
        reward = torch.as_tensor(episode.rewards, dtype=torch.float32)
        act = torch.as_tensor(episode.actions)
        not_done = 1.0 - torch.as_tensor(episode.terminated, dtype=torch.float32)
        steps = StepLog(self.actor, self.critic)
        advantage_std = 0.0
        actor_loss = critic_loss = torch.zeros(())
        old_log_probs = None
        clip_eps = cfg.ratio_clip if cfg.ratio_clip is not None else 0.0
        if cfg.ratio_clip is not None:  # log pi_old(a_t|s_t): the actor has not moved since it collected the batch
            with torch.no_grad():
                old_log_probs = torch.log_softmax(self.actor[:-1](obs), dim=-1).gather(1, act[:, None]).squeeze(-1)
        for pass_index in range(cfg.update_passes):
            if cfg.critic_target == "td0":
                adv_array, targets = self.advantages(episode, returns), None
            else:
                adv_array, target_array = self.advantages_and_critic_targets(episode, returns)
                targets = torch.as_tensor(target_array)[:, None]
            if pass_index == 0:
                advantage_std = float(adv_array.astype(np.float64).std())
            adv = torch.as_tensor(adv_array)
            for start in range(0, episode.length, cfg.batch_size):
                batch = slice(start, start + cfg.batch_size)
                # Actor: policy-gradient loss -mean(A * log pi(a|s)), minus the optional entropy bonus.
                if cfg.stable_log_prob or old_log_probs is not None:  # log-softmax: exact where softmax rounds to 0 or 1
                    log_probs = torch.log_softmax(self.actor[:-1](obs[batch]), dim=-1)
                    probs = log_probs.exp()
                else:
                    probs = self.actor(obs[batch])
                    log_probs = torch.log(probs + cfg.log_prob_eps)
                log_prob_taken = log_probs.gather(1, act[batch, None]).squeeze(-1)
                if old_log_probs is None:
                    policy_loss = -(adv[batch] * log_prob_taken).mean()
                else:  # PPO's clipped surrogate: -mean(min(r A, clip(r, 1 - eps, 1 + eps) A)), r = pi / pi_old
                    ratio = torch.exp(log_prob_taken - old_log_probs[batch])
                    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
                    policy_loss = -torch.minimum(ratio * adv[batch], clipped * adv[batch]).mean()
                actor_loss = policy_loss
                if cfg.entropy_coef > 0:
                    entropy = -(probs * log_probs).sum(-1).mean()
                    actor_loss = policy_loss - cfg.entropy_coef * entropy
                self.actor_optimizer.zero_grad()
                actor_loss.backward()
                steps.step("actor", self.actor_optimizer, cfg.max_grad_norm)
                # Critic: regress V(s_t) on its target, held fixed: the TD(0) target r_t + gamma (1 - terminated)
                # V(s_{t+1}) with the current critic, or this pass's lambda-return.
                for _ in range(cfg.critic_steps):
                    if targets is None:
                        with torch.no_grad():
                            target = reward[batch, None] + cfg.gamma * not_done[batch, None] * self.critic(next_obs[batch])
                    else:
                        target = targets[batch]
                    critic_loss = F.mse_loss(self.critic(obs[batch]), target)
                    self.critic_optimizer.zero_grad()
                    critic_loss.backward()
                    steps.step("critic", self.critic_optimizer, cfg.max_grad_norm)
        return steps.stats(actor_loss, critic_loss, advantage_std)
