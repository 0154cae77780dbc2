"""Checkers for the lectures' exercises: each prints whether the answer is right and, if not, a hint that does not
give the answer away, and returns the verdict."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .collapse import collapse_onsets
from .envs import Episode
from .returns import discounted_returns
from .entropy import binary_entropy, entropy_slope
from .stats import proportion_interval

__all__ = ["check_earliest_collapse", "check_entropy_slope", "check_entropy_of", "check_log_probs",
           "check_switch_velocity", "check_seeds_needed", "check_actor_loss", "check_step_p_values",
           "check_angle_only", "check_centered",
           "check_end_reasons", "check_gif", "check_parameter_counts", "check_critic_fit", "check_untrained_baseline",
           "check_td_errors", "check_noise_prediction", "check_buffer_count", "check_break_even_beta",
           "check_best_lambda", "MULTIPLE_CHOICE", "check_choice"]


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


def check_log_probs(seed_way: float, stable: float) -> bool:
    """Lecture 07, exercise 1: log pi(1) for logits (0, -25), the seed's way (float32 softmax, then log(p + 1e-8)) and
    by log-softmax. Each is judged on its own; a wrong one gets a hint, never the number."""
    logits = np.array([0.0, -25.0], dtype=np.float32)
    probs = np.exp(logits) / np.exp(logits).sum()
    expected_seed = float(np.log(probs[1] + np.float32(1e-8)))
    expected_stable = -25.0 - math.log1p(math.exp(-25.0))
    seed_ok = abs(float(seed_way) - expected_seed) < 1e-2
    stable_ok = abs(float(stable) - expected_stable) < 1e-3
    if seed_ok and stable_ok:
        print("both correct: the seed's guard turns a log-probability of about -25 into about -18")
    else:
        if not seed_ok:
            print("the seed's way is not right yet: take the float32 softmax first, then log(p + 1e-8)")
        if not stable_ok:
            print("the log-softmax is not right yet: z_1 - max(z) - log(sum(exp(z - max(z))))")
    return seed_ok and stable_ok


def check_switch_velocity(value: float, grid: pd.DataFrame) -> bool:
    """Lecture 07, exercise 3: the angular velocity (rad/s) at which P(right) crosses 0.5 with the pole upright, read
    off ``grid`` (columns ``angle, angular_velocity, p_right``, as ``network_grid`` returns), to within 0.15."""
    upright = grid[grid["angle"].abs() == grid["angle"].abs().min()].sort_values("angular_velocity")
    crossing = float(np.interp(0.5, upright["p_right"], upright["angular_velocity"]))
    ok = abs(float(value) - crossing) < 0.15
    if ok:
        print("correct: with the pole upright the policy pushes right once the pole starts falling right fast enough")
    else:
        side = "lower" if value > crossing else "higher"
        print(f"not yet: look {side}; take the rows of the smallest |angle| and find where p_right passes 0.5")
    return ok


def check_seeds_needed(n: int) -> bool:
    """Lecture 07b, exercise 1: the fewest seeds n for which n solved out of n puts the 95% Wilson interval's lower end
    above 90%."""
    needed = next(m for m in range(1, 1000) if proportion_interval(m, m)[0] > 0.9)
    ok = int(n) == needed
    print("correct" if ok else f"not yet: try {'more' if n < needed else 'fewer'} seeds (proportion_interval(n, n))")
    return ok


def seed_actor_loss(agent: Any, episode: Episode, gamma: float, batch: int) -> float:
    """The seed's actor loss ``-mean(A_t log(pi(a_t|s_t) + 1e-8))``, ``A_t = G_t - V(s_t)``, on the first ``batch``
    steps of ``episode``, for a torch agent (``agent.actor``, ``agent.critic``)."""
    import torch

    with torch.no_grad():
        obs = torch.as_tensor(episode.obs[:batch])
        returns = torch.as_tensor(discounted_returns(episode.rewards, gamma)[:batch], dtype=torch.float32)
        advantages = returns - agent.critic(obs).squeeze(-1)
        taken = torch.as_tensor(episode.actions[:batch])[:, None]
        log_pi = torch.log(agent.actor(obs) + 1e-8).gather(1, taken).squeeze(-1)
        return float(-(advantages * log_pi).mean())


def check_actor_loss(value: float, agent: Any, episode: Episode, gamma: float, batch: int = 8) -> bool:
    """Lecture 03, exercise 1: is ``value`` the seed's actor loss on the first ``batch`` steps of ``episode``?

    Recognises the usual slip (the loss of the lecture's own 32-step minibatch, unchanged) and says so."""
    ok = abs(float(value) - seed_actor_loss(agent, episode, gamma, batch)) < 1e-4
    if ok:
        print(f"correct: that is the actor loss of the first {batch} steps")
    elif abs(float(value) - seed_actor_loss(agent, episode, gamma, 32)) < 1e-4:
        print(f"not yet: that is the loss of the first 32 steps; set B = {batch} and recompute")
    else:
        print("not yet: A_t = G_t - V(s_t) with no gradient, log(pi(a_t|s_t) + 1e-8), then minus their mean product")
    return ok


# Lecture 00 --------------------------------------------------------------------------------------------------------

def _angle_only(obs: Any) -> int:
    return int(obs[2] > 0)


def check_angle_only(mean_length: float, seed: int = 2, episodes: int = 10) -> bool:
    """Lecture 00, exercise 1: the mean length of ``episodes`` episodes of the rule ``a = 1[theta > 0]``, played one
    after another on one ``make_env(seed=seed)``."""
    from .envs import make_env, rollout_episode

    env = make_env(seed=seed)
    lengths = [rollout_episode(env, _angle_only).length for _ in range(episodes)]
    truth = float(np.mean(lengths))
    answer = float(mean_length)
    ok = abs(answer - truth) < 0.05
    if ok:
        print("correct: reacting to the angle alone outlasts a random policy, yet never reaches the time limit")
    elif abs(answer - lengths[0]) < 0.05:
        print(f"not yet: that is one start state {episodes} times over; make the environment once and play "
              f"{episodes} episodes on it")
    else:
        print(f"not yet: look {'lower' if answer > truth else 'higher'}; the mean of the {episodes} episode lengths "
              f"of rollout_episode(env, angle_only), with env = make_env(seed={seed}) made once")
    return ok


def check_centered(policy: Any, episodes: int = 10, max_abs_x: float = 0.5) -> bool:
    """Lecture 00, exercise 2: does ``policy`` last 500 steps with ``|x| < max_abs_x`` in each of ``episodes`` episodes
    of ``make_env(seed=123)``? It measures the student's own policy, so it prints what it found."""
    from .envs import make_env, rollout_episode

    env = make_env(seed=123)
    runs = [rollout_episode(env, policy) for _ in range(episodes)]
    shortest = min(ep.length for ep in runs)
    drift = max(float(np.abs(ep.next_obs[:, 0]).max()) for ep in runs)
    ok = shortest == 500 and drift < max_abs_x
    if ok:
        print(f"correct: all {episodes} episodes last 500 steps and the cart stays within {max_abs_x} m of the middle")
    elif shortest < 500:
        print(f"not yet: an episode ended after {shortest} steps; keep the pole term theta + 0.5 theta_dot in charge and "
              "add small cart terms")
    else:
        print(f"not yet: all episodes last 500 steps, but the cart drifts {drift:.2f} m from the middle; add small "
              "multiples of x and x_dot so that the pole is tipped back towards the centre")
    return ok


def check_end_reasons(by_angle: int, by_position: int, policy: Any, seed: int = 0, episodes: int = 100) -> bool:
    """Lecture 00, exercise 3: of ``episodes`` episodes of ``policy`` on one ``make_env(seed=seed)``, how many ended
    because the pole angle passed its limit, and how many because the cart left the track?"""
    from .envs import make_env, rollout_episode

    env = make_env(seed=seed)
    cartpole: Any = env.unwrapped
    theta_max = float(cartpole.theta_threshold_radians)
    last = np.array([rollout_episode(env, policy).next_obs[-1] for _ in range(episodes)])
    angle = int((np.abs(last[:, 2]) > theta_max).sum())
    position = episodes - angle
    ok = int(by_angle) == angle and int(by_position) == position
    if ok:
        print("correct: a random policy loses the pole long before the cart can travel 2.4 m")
    elif int(by_angle) + int(by_position) != episodes:
        print(f"not yet: every one of the {episodes} episodes terminated, so the two counts add up to {episodes}")
    else:
        print("not yet: for each episode take next_obs[-1] and compare |theta| with theta_threshold_radians; "
              "play all episodes on one environment, with the policy of section 5")
    return ok


def check_gif(data: Any, steps: int = 500, max_kb: float = 100) -> bool:
    """Lecture 00, exercise 4: do the GIF bytes ``data`` play ``steps`` simulation steps in real time (50 per second,
    within 5%) and weigh under ``max_kb`` KB? It decodes the student's own GIF, so it prints what it found."""
    import io

    from PIL import Image

    if not isinstance(data, bytes) or data[:6] not in (b"GIF87a", b"GIF89a"):
        print("not yet: that is not GIF bytes; gif_bytes(frames, fps=...) makes them")
        return False
    image = Image.open(io.BytesIO(data))
    seconds = 0.0
    for k in range(int(getattr(image, "n_frames", 1))):
        image.seek(k)
        seconds += image.info["duration"] / 1000
    real_time, small = abs(seconds - steps / 50) <= 0.05 * steps / 50, len(data) <= max_kb * 1024
    if real_time and small:
        print(f"correct: it plays {steps} steps in real time and weighs under {max_kb:g} KB")
    elif not real_time:
        print(f"not yet: it plays {seconds:.1f} s; frames kept every k steps must each last k / 50 s "
              "(rendered.fps computes that rate)")
    else:
        print(f"not yet: {len(data) / 1024:.0f} KB; keep fewer frames, or smaller ones")
    return real_time and small


# Lecture 01 --------------------------------------------------------------------------------------------------------

def check_parameter_counts(counts: Any, actor_hidden: int = 64, critic_hidden: int = 128) -> bool:
    """Lecture 01, exercise 1: ``counts = (actor, critic)``, the parameters of ``make_actor(4, 2, actor_hidden)`` and of
    ``make_critic(4, critic_hidden)``. Each count is judged on its own."""
    from .networks import count_parameters, make_actor, make_critic

    expected = (count_parameters(make_actor(4, 2, actor_hidden)), count_parameters(make_critic(4, critic_hidden)))
    mine = tuple(counts) if isinstance(counts, (tuple, list)) and len(counts) == 2 else (None, None)
    right = [m is not None and int(m) == e for m, e in zip(mine, expected, strict=True)]
    if all(right):
        print("correct: both counts")
    for name, ok in zip(["actor", "critic"], right, strict=True):
        if not ok:
            print(f"not yet: the {name}'s count; every Linear layer has (n_in + 1) * n_out parameters, the bias included")
    return all(right)


def check_critic_fit(critic: Any, obs: Any, returns: Any) -> bool:
    """Lecture 01, exercise 4: does the fitted ``critic`` (a torch module, states ``(B, 4)`` to values ``(B, 1)``)
    explain at least a quarter of the variance of the ``returns`` G_t of the states ``obs``? It measures the student's own
    critic, so it needs no answer."""
    import torch

    with torch.no_grad():
        values = critic(torch.as_tensor(np.asarray(obs), dtype=torch.float32)).reshape(-1).numpy().astype(np.float64)
    targets = np.asarray(returns, dtype=np.float64)
    if values.shape != targets.shape:
        print(f"not yet: the critic gives {values.size} values for {targets.size} returns")
        return False
    explained = 1.0 - np.var(targets - values) / np.var(targets)
    ok = bool(explained > 0.25)
    if ok:
        print("correct: the fitted critic explains a good share of the variance of G_t over these states")
    elif abs(np.mean(values) - np.mean(targets)) < 0.2 * np.std(targets):
        print("not yet: it predicts about the mean return everywhere; does your loss compare a (B, 1) output with a (B,) "
              "target (that broadcasts to (B, B))? Squeeze the output first")
    else:
        print("not yet: the critic is still far from the returns; mean squared error, Adam at 0.01, 300 full-batch steps")
    return ok


# Lectures 02a and 02b ----------------------------------------------------------------------------------------------

def _ratio_hint(answer: float, truth: float) -> str:
    return "higher" if answer < truth else "lower"


def check_untrained_baseline(prediction: float, actor: Any, seed: int = 1, n_episodes: int = 100) -> bool:
    """Lecture 02b, exercise 1: the variance reduction (REINFORCE's variance / the baseline's, as in the tables) that
    ``G_t - V(s_t)`` gives with an untrained critic (``build_networks(4, 2, seed=0)``), measured on ``n_episodes`` of
    ``actor``. Right within a factor 1.25."""
    from .gradient_variance import CriticSnapshot, compare_estimators
    from .networks import build_networks

    untrained = CriticSnapshot.from_critic(build_networks(4, 2, seed=0)[1])
    table = compare_estimators(actor, untrained, n_episodes=n_episodes, seed=seed, lambdas=())[0]
    truth = float(table.set_index("estimator").loc["critic", "variance_reduction"])
    ok = float(prediction) > 0 and abs(math.log(float(prediction) / truth)) < math.log(1.25)
    if ok:
        print("correct: a baseline that is nearly the same small number everywhere leaves the variance where it was")
    else:
        print(f"not yet: look {_ratio_hint(float(prediction), truth)}; what does subtracting a number close to zero, "
              "the same for every state, do to G_t?")
    return ok


def check_td_errors(answer: Any, rewards: Any, values: Any, next_values: Any, terminated: Any, gamma: float) -> bool:
    """Lecture 02a, exercise 1: ``answer`` holds the TD errors of the last three steps of the episode (oldest first)."""
    from .returns import td_errors

    expected = td_errors(rewards, values, next_values, terminated, gamma)[-3:]
    mine = np.asarray(answer, dtype=np.float64) if answer is not None else np.empty(0)
    if mine.shape != (3,):
        print("not yet: give an array of 3 TD errors, oldest step first")
        return False
    wrong = ~np.isclose(mine, expected, atol=1e-6)
    unmasked = (np.asarray(rewards, dtype=np.float64) + gamma * np.asarray(next_values, dtype=np.float64)
                - np.asarray(values, dtype=np.float64))[-3:]
    if not wrong.any():
        print("correct: the last step's target is its reward alone, since nothing follows a terminal state")
    elif np.isclose(mine, unmasked, atol=1e-6).all() and bool(np.asarray(terminated)[-3:].any()):
        print("not yet: a step that terminated has no bootstrap term; multiply gamma V(s_t+1) by (1 - terminated)")
    else:
        steps = ", ".join(str(i) for i in np.flatnonzero(wrong))
        print(f"not yet: entries {steps} (0 = oldest) differ; delta_t = r_t + gamma (1 - d_t) V(s_t+1) - V(s_t)")
    return not wrong.any()


def check_noise_prediction(prediction: float, table: pd.DataFrame, n_episodes: int = 300, target: int = 1200,
                           estimator: str = "td0") -> bool:
    """Lecture 02b, exercise 3: the ``bias_noise`` of ``estimator`` expected with ``target`` episodes, from ``table``
    measured with ``n_episodes``. The noise is a standard error: right within 10% of the 1/sqrt(N) scaling."""
    noise = float(table.set_index("estimator").loc[estimator, "bias_noise"])
    truth = noise * math.sqrt(n_episodes / target)
    ok = abs(float(prediction) / truth - 1) < 0.1
    if ok:
        print(f"correct: {target // n_episodes} times the episodes, {math.sqrt(target / n_episodes):g} times less "
              "noise; the bias itself does not shrink with N")
    else:
        print(f"not yet: look {_ratio_hint(float(prediction), truth)}; bias_noise is a standard error: how does it "
              "scale with the number of episodes N?")
    return ok


# Lecture 04b -------------------------------------------------------------------------------------------------------

def check_buffer_count(collected: int, held: int, table: pd.DataFrame, capacity: int = 100_000) -> bool:
    """Lecture 04b, exercise 1: for the run of ``table`` with the earliest collapse onset, the transitions it collected
    before its onset (the lengths of its episodes before the onset), and how many a replay buffer of ``capacity``
    would hold at that moment. Each number is judged on its own."""
    onsets = collapse_onsets(table).dropna(subset=["onset"]).sort_values(["onset", "seed"], kind="stable")
    if onsets.empty:
        print("no run in this table ends collapsed: nothing to count")
        return False
    seed, onset = int(onsets.iloc[0]["seed"]), int(onsets.iloc[0]["onset"])
    run = table[(table["seed"] == seed) & (table["episode"] < onset)]
    truth = int(run["length"].sum())
    collected_ok = int(collected) == truth
    held_ok = int(held) == min(truth, capacity)
    if collected_ok and held_ok:
        print("correct: and A2C itself held only the one episode it had just played")
    if not collected_ok:
        print(f"not yet: the transitions collected; add up the lengths of that run's episodes before its onset "
              f"(the run with the earliest onset of collapse_onsets, episodes < onset); look "
              f"{_ratio_hint(float(collected), truth)}")
    if not held_ok:
        print(f"not yet: the buffer's content; it keeps the latest {capacity:,} transitions, or all of them if fewer")
    return collected_ok and held_ok


# Lecture 05 --------------------------------------------------------------------------------------------------------

def check_break_even_beta(answer: float, sizes: pd.DataFrame) -> bool:
    """Lecture 05, exercise 2: the smallest beta, over the snapshots of ``sizes`` (columns ``policy_grad`` and
    ``entropy_grad``), at which ``beta * |grad H|`` equals ``|grad L_pg|``. Right within 2%."""
    truth = float((sizes["policy_grad"] / sizes["entropy_grad"]).min())
    ok = float(answer) > 0 and abs(float(answer) / truth - 1) < 0.02
    if ok:
        print("correct: even at the snapshot where the bonus is relatively strongest, the sweep's largest beta is far "
              "below break-even")
    else:
        print(f"not yet: look {_ratio_hint(float(answer), truth)}; solve beta * entropy_grad = policy_grad on each row, "
              "then take the smallest")
    return ok


# Lecture 06 --------------------------------------------------------------------------------------------------------

def check_best_lambda(n: int, answer: float, table: pd.DataFrame) -> bool:
    """Lecture 06, exercise 3: the lambda of ``table`` (columns ``lambda, variance, bias``, as ``lambda_table``
    returns) with the smallest ``bias**2 + variance / n``, the error of an average of ``n`` single-episode
    estimates."""
    error = table["bias"] ** 2 + table["variance"] / n
    truth = float(table.loc[error.idxmin(), "lambda"])
    ok = abs(float(answer) - truth) < 1e-9
    if ok:
        print(f"correct for N = {n}: " + ("one episode's error counts the variance in full beside the squared bias"
                                          if n == 1 else "averaging shrinks the variance, not the bias"))
    elif not np.isclose(table["lambda"], float(answer)).any():
        print(f"not yet: {answer} is not one of the table's lambdas")
    else:
        print(f"not yet for N = {n}: try a {_ratio_hint(float(answer), truth)} lambda; compute "
              "bias ** 2 + variance / N for every row and take the smallest")
    return ok


def step_p_values(summary: pd.DataFrame) -> tuple[float, float]:
    """Two-sided Fisher exact p-values of the last two rungs' steps on fresh seeds: ``+8 envs`` vs ``+ratio clip``
    (the clip added) and ``+ratio clip`` vs ``-entropy`` (the bonus removed). ``summary``: ``solve_summary`` indexed by
    config (columns ``solved_at_end``, ``seeds``)."""
    from scipy.stats import fisher_exact

    def p_value(a: str, b: str) -> float:
        ka, na = int(summary.loc[a, "solved_at_end"]), int(summary.loc[a, "seeds"])
        kb, nb = int(summary.loc[b, "solved_at_end"]), int(summary.loc[b, "seeds"])
        return float(fisher_exact([[ka, na - ka], [kb, nb - kb]])[1])

    return p_value("+8 envs", "+ratio clip"), p_value("+ratio clip", "-entropy")


def check_step_p_values(p_clip: float, p_bonus: float, summary: pd.DataFrame) -> bool:
    """Lecture 07b, exercise 2: the Fisher exact p-values (two-sided) of adding the clip and of removing the bonus,
    on the fresh seeds' end-of-training solve counts, each to within 0.005."""
    truth = step_p_values(summary)
    oks = [abs(float(given) - want) < 5e-3 for given, want in zip((p_clip, p_bonus), truth, strict=True)]
    for ok, what in zip(oks, ("adding the clip (+8 envs vs +ratio clip)", "removing the bonus (+ratio clip vs -entropy)"),
                        strict=True):
        print(f"{what}: {'correct' if ok else 'not yet: a 2x2 table of solved / not solved per rung, fisher_exact, two-sided'}")
    return all(oks)


#: Multiple-choice questions of the lectures whose answer is a judgement: question key -> (right letter, the options,
#: a hint for each wrong letter that says why it is wrong without naming the right one).
MULTIPLE_CHOICE: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "01-2": ("c", {"a": "both entries of b2 matter independently",
                   "b": "b2 has no effect on the policy at all",
                   "c": "only b2[1] - b2[0] matters: adding the same number to both changes no probability"},
             {"a": "add 7 to both entries and compare the softmax: did anything change?",
              "b": "raise b2[1] alone: P(right) moves, so b2 does act on the policy"}),
    "01-3": ("a", {"a": "float32 probabilities can sum to slightly less than 1, so a draw above that sum finds no action",
                   "b": "it makes sampling faster",
                   "c": "it turns the logits into probabilities"},
             {"b": "dividing is one more operation, not a shortcut: what can the cumulative sum fail to reach?",
              "c": "the softmax already made probabilities: look at the last entry of the cumulative sum"}),
    "02b-2": ("b", {"a": "dividing by T is a constant rescaling and cannot change any expectation",
                    "b": "T depends on the actions taken, so the baseline term's expectation no longer vanishes",
                    "c": "it only makes the estimates noisier"},
              {"a": "is T the same for every episode? what decides it?",
               "c": "compare the baselines' bias with its noise level in both tables, not only the variance"}),
    "04b-2": ("b", {"a": "one clipped run of seed 3 that does not crash",
                    "b": "both configurations on ten or more seeds for the full budget, compared with collapse counts "
                         "and a test",
                    "c": "a smaller clipping threshold"},
              {"a": "clipping changes every later update, so one run is one anecdote: what would a claim need?",
               "c": "a different threshold is a different experiment; it does not make one run evidence"}),
    "05-3": ("c", {"a": "one run of seed 3 without crashes",
                   "b": "a larger beta",
                   "c": "the ten-seed, 2000-episode comparison with its collapse count, Fisher test and IQM interval"},
             {"a": "which crashes one run has depends even on the CPU: what would a claim need?",
              "b": "another setting is another experiment; it does not make one run evidence"}),
    "06-4": ("a", {"a": "it falls below its noise level: the bias of a small lambda is the critic's error, and this "
                        "critic has learned",
                   "b": "it grows, because the actor changed",
                   "c": "it stays the same: bias is a property of lambda alone"},
             {"b": "look at bias_in_noise for lambda = 0 in the new table",
              "c": "at lambda = 0 the advantage is r + gamma V(s') - V(s): whose errors make it biased?"}),
    "07-2": ("b", {"a": "yes, if its three runs score higher than the seed's",
                   "b": "three seeds and 300 episodes cannot tell: ten seeds for the full budget, with intervals",
                   "c": "no: fixes only work together"},
             {"a": "how different are three seeds of the same configuration (lecture 03's seed lottery)?",
              "c": "the ablation of section 5 adds fixes one at a time: what would test one alone?"}),
    "07b-3": ("b", {"a": "about as often: a frozen policy cannot drift either way",
                    "b": "less often: the rolling mean that first crosses a threshold is partly luck, so the frozen "
                         "policy's own mean is often below it",
                    "c": "more often: it stops sooner, before any drift begins"},
              {"a": "the frozen policy does not drift, but was it as good as its last 100 episodes made it look?",
               "c": "stopping sooner keeps a policy chosen by a lucky stretch: what do its next 100 episodes show?"}),
}


def check_choice(question: str, answer: str | None) -> bool:
    """A multiple-choice exercise (``MULTIPLE_CHOICE[question]``): says right or wrong, and why a wrong option is
    wrong, without naming the right one. ``None`` (not answered yet) prints a reminder."""
    right, options, hints = MULTIPLE_CHOICE[question]
    number = question.split("-")[1]
    if answer is None:
        print(f"exercise {number}: fill in your choice ({', '.join(sorted(options))}) above, then run this cell again")
        return False
    letter = str(answer).strip().lower().strip("()")
    if letter not in options:
        print(f"exercise {number}: choose one of {', '.join(sorted(options))}")
        return False
    if letter == right:
        print(f"exercise {number}: correct")
        return True
    print(f"exercise {number}: not this one: {hints[letter]}")
    return False
