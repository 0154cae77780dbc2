"""Many seeds of one configuration trained together in one process, in lockstep: :func:`train_seeds`.

Each seed is still its own run: its own environment(s), its own networks and optimisers, its own random streams.
What the seeds share is the loop. At every environment step one batched forward pass chooses every seed's action
(the actors' weights stacked along a seed axis), and one batched physics step moves every seed's CartPole. The
updates are each seed's own :meth:`~lecture_utils.agent.A2CAgent.update`, called when that seed's episode (or
rollout) is complete; a seed whose episode ends early updates at once and starts its next episode, so no seed
waits for another and nothing in any seed's trajectory depends on the others.

**Same numbers.** Seed ``s`` of ``train_seeds(config, seeds)`` gives exactly the per-episode table of
``train(config, seed=s)`` on the same machine, bit for bit (``tests/test_lockstep.py`` checks it for both kinds of
configuration and several options). Three facts make that hold:

* the batched forward pass computes each seed's slice with the very BLAS call the single-seed agent makes (NumPy's
  stacked ``matmul`` calls the same ``gemv``/``gemm`` per slice, with the same shapes and strides), and the rest of
  the forward pass is elementwise;
* the batched CartPole step repeats Gymnasium's ``CartPoleEnv.step`` operation for operation in float64, and
  resets go through each seed's own Gymnasium environment, so start states come from the same random stream;
* actions are drawn with :func:`~lecture_utils.agent.sample_action`'s rule from each seed's own ``RandomState``.

Where a fast path does not apply (the PyTorch agent, an agent subclass that acts differently, an environment other
than Gymnasium's CartPole) each seed's own agent acts and each environment steps by itself: slower, and still exact.

Pseudocode (episodic configuration)::

    for every seed s: env_s, agent_s from seed s; start the first episode
    until every seed has played its episodes:
        probs = stacked actors(obs)                   # one forward pass for all seeds
        a_s ~ probs_s with seed s's stream            # one uniform draw per seed
        obs = CartPole step of all seeds              # one vectorised step
        for every seed whose episode just ended: its update, its row, its next episode
"""
from __future__ import annotations

from typing import Any, Sequence, cast

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from .agent import NO_UPDATE, A2CAgent, UpdateStats, check_update_finite, policy_entropy, sample_actions
from .config import A2CConfig
from .envs import CartPoleBatch, Episode, env_dimensions, make_env
from .errors import ConfigError
from .history import EpisodeLog, TrainingMonitor, learning_frozen
from .numpy_agent import NumpyA2CAgent, NumpyA2CStack
from .rollout_trainer import rollout_batch
from .trainer import TrainResult, make_agent

__all__ = ["train_seeds", "CartPoleBatch", "GymBatch", "stackable", "act_probabilities"]


# -- environments ---------------------------------------------------------------------------------------------------
class GymBatch:
    """The general case: each environment steps by itself (same interface as :class:`CartPoleBatch`)."""

    def __init__(self, envs: Sequence[gym.Env]) -> None:
        self.envs = list(envs)

    def reset(self, index: int, seed: int | None = None) -> NDArray[np.float32]:
        return np.asarray(self.envs[index].reset(seed=seed)[0], dtype=np.float32)

    def step(self, actions: NDArray[np.int64], active: NDArray[np.bool_]) -> tuple[
            NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
        n = len(self.envs)
        obs, rewards = [np.zeros(0, dtype=np.float32)] * n, np.zeros(n)
        terminated, truncated = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        for i in np.flatnonzero(active):
            o, r, te, tr, _ = self.envs[i].step(int(actions[i]))
            obs[i], rewards[i], terminated[i], truncated[i] = np.asarray(o, dtype=np.float32), float(r), te, tr
        width = max(len(o) for o in obs)
        return np.stack([o if len(o) else np.zeros(width, np.float32) for o in obs]), rewards, terminated, truncated


# -- acting -----------------------------------------------------------------------------------------------------------
def stackable(agents: Sequence[A2CAgent]) -> bool:
    """True for agents that act and learn as :class:`NumpyA2CAgent` does: they can act and learn as one
    :class:`~lecture_utils.numpy_agent.NumpyA2CStack` (a subclass that overrides acting or the update, or the PyTorch
    agent, takes the slow path, seed by seed)."""
    return all(isinstance(a, NumpyA2CAgent) and type(a).act is NumpyA2CAgent.act
               and type(a).probabilities is NumpyA2CAgent.probabilities and type(a).update is NumpyA2CAgent.update
               for a in agents)


def act_probabilities(stack: NumpyA2CStack, obs: NDArray[np.float32]) -> NDArray[np.float32]:
    """``obs (S, in) -> pi (S, A)`` with each seed's actor: every slice as :meth:`NumpyA2CAgent.act` computes it
    (matrix @ vector products; the rollouts' ``(S, E, in)`` batches go through ``stack._probs`` instead)."""
    actor = stack.actor
    hidden = np.matmul(actor.w1, obs[:, :, None])[:, :, 0]
    hidden += actor.b1
    np.maximum(hidden, 0.0, out=hidden)
    logits = np.matmul(actor.w2, hidden[:, :, None])[:, :, 0]
    logits += actor.b2
    return _softmax_(logits)


def _softmax_(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    logits -= np.maximum.reduce(logits, axis=-1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= np.add.reduce(logits, axis=-1, keepdims=True)
    return logits


def _draw_actions(probs: NDArray[np.float32], rngs: Sequence[np.random.RandomState],
                  active: NDArray[np.bool_]) -> NDArray[np.int64]:
    """One action per row of ``probs (S, A)``, one uniform draw from each seed's stream: the rule of
    :func:`~lecture_utils.agent.sample_action` (float64 cumulative sum, normalised by its last entry, first entry
    not <= the draw), vectorised."""
    cdf = np.cumsum(probs, axis=1, dtype=np.float64)
    cdf /= cdf[:, -1:]
    # A seed that has finished draws nothing: its stream continues where its own training left it.
    draws = np.array([rng.random_sample() if on else 1.0 for rng, on in zip(rngs, active, strict=True)])
    above = ~(cdf <= draws[:, None])
    return np.where(above.any(axis=1), above.argmax(axis=1), probs.shape[1] - 1).astype(np.int64)


# -- the trainer ------------------------------------------------------------------------------------------------------
def train_seeds(config: A2CConfig | None = None, seeds: Sequence[int] = (0,), progress: bool = False
                ) -> list[TrainResult]:
    """Train ``config`` on every seed in ``seeds`` together; one :class:`~lecture_utils.trainer.TrainResult` per
    seed, in order, each equal to ``train(config, seed=s)``'s (its ``history`` bit for bit).

    Args:
        config: hyperparameters (episodic or rollout); ``A2CConfig()`` is the seed's.
        seeds: distinct seeds (each an integer in [0, 2**32 - 1]).
        progress: one tqdm bar over all seeds' episodes on stderr.

    Raises:
        ConfigError: a bad environment or repeated seeds. TrainingDiverged: as :func:`~lecture_utils.trainer.train`.
    """
    config = config or A2CConfig()
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("train_seeds needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"train_seeds got repeated seeds {sorted(seeds)}: give each seed once")
    monitors = [TrainingMonitor(config.episodes, s) for s in seeds]
    bar = None
    if progress:
        from .history import progress_bar

        bar = progress_bar(config.episodes * len(seeds), f"A2C {len(seeds)} seeds")
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if config.rollout_steps is not None:
                return _rollouts_lockstep(config, seeds, monitors, bar)
            return _episodes_lockstep(config, seeds, monitors, bar)
    finally:
        if bar is not None:
            bar.close()


def _episodes_lockstep(config: A2CConfig, seeds: list[int], monitors: list[TrainingMonitor],
                       bar: Any) -> list[TrainResult]:
    """The seed's loop for every seed. With a stack, a seed whose episode has ended waits until at least half of
    the seeds still training have ended theirs, and then those update together; otherwise each seed updates as soon
    as its episode ends. Either way each seed's own sequence of episodes and updates is the one it has alone: when
    a seed updates never changes what it does."""
    envs = [make_env(config.env_id, seed=s) for s in seeds]
    obs_dim, n_actions = env_dimensions(envs[0])
    agents = [make_agent(config, obs_dim, n_actions, s) for s in seeds]
    rngs = [a.rng for a in agents]
    n = len(seeds)
    batch: CartPoleBatch | GymBatch = CartPoleBatch(envs) if CartPoleBatch.supports(envs) else GymBatch(envs)
    stack = NumpyA2CStack(agents) if stackable(agents) else None  # type: ignore[arg-type]
    capacity = (batch.limit if isinstance(batch, CartPoleBatch) and batch.limit else 512) + 1
    buf_obs = np.zeros((n, capacity, obs_dim), np.float32)
    buf_act = np.zeros((n, capacity), np.int64)
    buf_rew = np.zeros((n, capacity), np.float64)
    ended_by = np.zeros((n, 2), dtype=bool)  # (terminated, truncated) of each seed's last step
    t = np.zeros(n, np.int64)
    episode_index = [0] * n
    steps_taken = [0] * n
    histories = [EpisodeLog() for _ in seeds]
    active = np.ones(n, dtype=bool)
    waiting = np.zeros(n, dtype=bool)  # episode over, update not yet done
    frozen = np.zeros(n, dtype=bool)  # freeze_at_return holds for this episode: it is recorded without an update
    obs = np.zeros((n, obs_dim), np.float32)

    def begin(i: int) -> None:
        if episode_index[i] >= config.episodes or (config.max_steps is not None and steps_taken[i] >= config.max_steps):
            active[i] = False
            if stack is not None:
                stack.release(i)
            return
        frozen[i] = learning_frozen(config, histories[i])
        agents[i].follow_lr_schedule(episode_index[i], steps_taken[i])
        obs[i] = buf_obs[i, 0] = batch.reset(i)
        t[i] = 0

    def episode_of(i: int) -> Episode:
        length = int(t[i])
        episode = Episode(obs=buf_obs[i, :length].copy(), actions=buf_act[i, :length].copy(),
                          rewards=buf_rew[i, :length].copy(), next_obs=buf_obs[i, 1:length + 1].copy(),
                          terminated=np.zeros(length, dtype=bool), truncated=np.zeros(length, dtype=bool))
        episode.terminated[-1], episode.truncated[-1] = bool(ended_by[i, 0]), bool(ended_by[i, 1])
        return episode

    def record(i: int, episode: Episode, entropy: float, stats: UpdateStats) -> None:
        steps_taken[i] += episode.length
        if not frozen[i]:
            check_update_finite(stats, config, episode_index[i], seeds[i])
        histories[i].append(episode_index[i], episode.total_reward, episode.length, entropy, stats)
        monitors[i].episode_recorded(histories[i], agents[i], steps_taken[i])
        if bar is not None:
            bar.update(1)
        episode_index[i] += 1
        begin(i)

    for i in range(n):
        begin(i)
    while active.any():
        playing = np.flatnonzero(active & ~waiting)
        if stack is not None:
            actions = _draw_actions(act_probabilities(stack, obs), rngs, active & ~waiting)
        else:
            actions = np.zeros(n, dtype=np.int64)
            for i in playing.tolist():
                actions[i] = agents[i].act(obs[i])
        if isinstance(batch, CartPoleBatch):
            next_obs, rewards, terminated, truncated = batch.step(actions)
        else:
            next_obs, rewards, terminated, truncated = batch.step(actions, active & ~waiting)
        at = t[playing]
        buf_act[playing, at] = actions[playing]
        buf_rew[playing, at] = rewards[playing]
        t[playing] += 1
        if t.max() >= buf_obs.shape[1]:  # a long episode in an environment without a time limit: grow
            grow = buf_obs.shape[1]
            buf_obs = np.concatenate([buf_obs, np.zeros_like(buf_obs[:, :grow])], axis=1)
            buf_act = np.concatenate([buf_act, np.zeros_like(buf_act[:, :grow])], axis=1)
            buf_rew = np.concatenate([buf_rew, np.zeros_like(buf_rew[:, :grow])], axis=1)
        buf_obs[playing, t[playing]] = next_obs[playing]
        obs[playing] = next_obs[playing]
        ended = playing[(terminated | truncated)[playing]].tolist()
        for i in ended:
            ended_by[i] = terminated[i], truncated[i]
        learning = [i for i in ended if not frozen[i]]  # before record(), which decides the next episode's pause
        for i in ended:
            # Without a stack every seed updates at once, by itself; with one, a paused seed has nothing to update
            # and plays on. The entropy is that of the policy that acted, before any update.
            if stack is None or frozen[i]:
                episode = episode_of(i)
                entropy = float(policy_entropy(agents[i].probabilities(episode.obs)).mean())
                record(i, episode, entropy, NO_UPDATE if frozen[i] else agents[i].update(episode))
        if stack is None:
            continue
        waiting[learning] = True
        # Update the waiting seeds together once they are at least half of those still learning (or all of them):
        # waiting longer would leave more seeds idle while the rest play, updating sooner stacks fewer updates.
        if waiting.any() and waiting.sum() * 2 >= (active & ~frozen).sum():
            round_seeds = np.flatnonzero(waiting).tolist()
            episodes: list[Episode | None] = [None] * n
            entropies = {}
            for i in round_seeds:
                episodes[i] = episode = episode_of(i)
                # The entropy of the policy that acted, before this round's update changes it.
                entropies[i] = float(policy_entropy(agents[i].probabilities(episode.obs)).mean())
            stack.follow_learning_rates()
            all_stats = stack.update(episodes)
            waiting[:] = False
            for i in round_seeds:
                record(i, cast(Episode, episodes[i]), entropies[i], cast(UpdateStats, all_stats[i]))
    return [TrainResult(history=h.frame(), agent=a, env=e, config=config, seed=s)
            for h, a, e, s in zip(histories, agents, envs, seeds, strict=True)]


def _rollouts_lockstep(config: A2CConfig, seeds: list[int], monitors: list[TrainingMonitor],
                       bar: Any) -> list[TrainResult]:
    n, n_envs, n_steps = len(seeds), config.num_envs, int(config.rollout_steps or 1)
    # Every (seed, copy) pair gets its own environment, seeded as the seed's vector environment seeds it.
    flat_envs = [make_env(config.env_id) for _ in range(n * n_envs)]
    obs_dim, n_actions = env_dimensions(flat_envs[0])
    batch: CartPoleBatch | GymBatch = CartPoleBatch(flat_envs) if CartPoleBatch.supports(flat_envs) \
        else GymBatch(flat_envs)
    # As the seed's vector environment resets its copy k: with seed + k (later resets continue that stream).
    obs = np.stack([np.stack([batch.reset(i * n_envs + k, seed=s + k) for k in range(n_envs)])
                    for i, s in enumerate(seeds)])
    agents = [make_agent(config, obs_dim, n_actions, s) for s in seeds]
    # Plain NumPy agents act and learn as one stack; others (PyTorch, subclasses) each by themselves.
    stack = NumpyA2CStack(agents) if stackable(agents) else None  # type: ignore[arg-type]
    histories = [EpisodeLog() for _ in seeds]
    running_return = np.zeros((n, n_envs))
    running_length = np.zeros((n, n_envs), dtype=np.int64)
    running_entropy = np.zeros((n, n_envs))
    finished = [0] * n
    buf_obs = np.zeros((n, n_steps, n_envs, obs_dim), np.float32)
    buf_next = np.zeros_like(buf_obs)
    buf_act = np.zeros((n, n_steps, n_envs), np.int64)
    buf_rew = np.zeros((n, n_steps, n_envs))
    buf_term = np.zeros((n, n_steps, n_envs), dtype=bool)
    buf_trunc = np.zeros((n, n_steps, n_envs), dtype=bool)
    steps_taken = 0
    active = np.ones(n, dtype=bool)
    all_envs_active = np.ones(n * n_envs, dtype=bool)
    while active.any() and (config.max_steps is None or steps_taken < config.max_steps):
        frozen = [learning_frozen(config, h) for h in histories]
        for i in np.flatnonzero(active).tolist():
            agents[i].follow_lr_schedule(finished[i], steps_taken)
        steps_taken += n_envs * n_steps
        ended_now: list[list[tuple[float, int, float]]] = [[] for _ in seeds]
        for k in range(n_steps):
            if stack is not None:
                probs = stack._probs(obs)[1]
            else:
                probs = np.stack([agents[i].probabilities(obs[i]) for i in range(n)])
            if stack is not None:
                # sample_actions' rule for every seed at once; each seed's draws from its own stream.
                cdf = np.cumsum(probs, axis=-1, dtype=np.float64)
                cdf /= cdf[..., -1:]
                draws = np.stack([agents[i].rng.random_sample(n_envs) if active[i] else np.ones(n_envs)
                                  for i in range(n)])
                actions = np.minimum((cdf <= draws[..., None]).sum(axis=-1), n_actions - 1).astype(np.int64)
            else:
                actions = np.stack([sample_actions(probs[i], agents[i].rng) if active[i]
                                    else np.zeros(n_envs, np.int64) for i in range(n)])
            flat_actions = actions.reshape(-1)
            if isinstance(batch, CartPoleBatch):
                next_flat, rew_flat, term_flat, trunc_flat = batch.step(flat_actions)
            else:
                next_flat, rew_flat, term_flat, trunc_flat = batch.step(flat_actions, all_envs_active)
            next_obs = next_flat.reshape(n, n_envs, obs_dim)
            terminated, truncated = term_flat.reshape(n, n_envs), trunc_flat.reshape(n, n_envs)
            buf_obs[:, k], buf_act[:, k], buf_rew[:, k] = obs, actions, rew_flat.reshape(n, n_envs)
            buf_term[:, k], buf_trunc[:, k] = terminated, truncated
            buf_next[:, k] = next_obs
            running_return += buf_rew[:, k]
            running_length += 1
            running_entropy += policy_entropy(probs)
            for i, e in zip(*np.nonzero(terminated | truncated), strict=True):
                ended_now[i].append((float(running_return[i, e]), int(running_length[i, e]),
                                     float(running_entropy[i, e] / running_length[i, e])))
                running_return[i, e] = running_length[i, e] = running_entropy[i, e] = 0
                next_obs[i, e] = batch.reset(int(i) * n_envs + int(e))  # autoreset in the same step
            obs = next_obs.copy()
        batches = [rollout_batch(buf_obs[i], buf_act[i], buf_rew[i], buf_next[i], buf_term[i], buf_trunc[i])
                   for i in range(n)]
        if stack is not None:
            stack.follow_learning_rates()
            all_stats = stack.update([b if on and not fr else None
                                      for b, on, fr in zip(batches, active, frozen, strict=True)])
        else:
            all_stats = [agents[i].update(batches[i]) if active[i] and not frozen[i] else NO_UPDATE
                         for i in range(n)]
        for i in np.flatnonzero(active).tolist():
            agent = agents[i]
            if frozen[i]:
                stats = NO_UPDATE
            else:
                stats = cast(UpdateStats, all_stats[i])
                check_update_finite(stats, config, finished[i], seeds[i])
            for episode_return, length, entropy in ended_now[i]:
                if finished[i] >= config.episodes:
                    break
                histories[i].append(finished[i], episode_return, length, entropy, stats)
                finished[i] += 1
                monitors[i].episode_recorded(histories[i], agent, steps_taken)
                if bar is not None:
                    bar.update(1)
            if finished[i] >= config.episodes:
                active[i] = False
                if stack is not None:
                    stack.release(i)
    if stack is not None:
        for i in np.flatnonzero(active).tolist():
            stack.release(i)
    return [TrainResult(history=h.frame(), agent=a, env=make_env(config.env_id, seed=s), config=config, seed=s)
            for h, a, s in zip(histories, agents, seeds, strict=True)]
