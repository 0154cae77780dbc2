"""The package's named configurations: the ablation ladder from the seed to the recommended recipe, the recipe
itself, and canonical A2C. Plain :class:`~lecture_utils.config.A2CConfig` values, no training: the data sets
(:mod:`.experiments`) and the stored snapshots (:mod:`.snapshot_sets`) train them."""
from __future__ import annotations

from .config import A2CConfig

__all__ = ["ABLATION_STEPS", "ABLATION_FIXES", "ablation_ladder", "RECOMMENDED_CONFIG", "FRESH_SEEDS",
           "FRESH_SEED_RUNGS", "PPO_STYLE_FROM", "RUNG_DISPLAY_NAMES", "CANONICAL_BASE_RUNG", "CANONICAL_ROLLOUT_STEPS",
           "canonical_a2c", "CRITIC_TARGET_SEEDS", "RECOMMENDED_16_ENVS_CONFIG", "DRIFT_SEEDS",
           "RECOMMENDED_PAUSE_CONFIG", "rung_display_name", "PAUSE_SEEDS"]

#: Environment-step budget of every rung of the ablation.
ABLATION_STEPS = 300_000


#: The ablation's rungs in order: a name and what that rung changes from the one below it. Each rung keeps every
#: change below it. The last rung takes one fix back out: with PPO's ratio clip holding the policy near the one
#: that collected the data, the entropy bonus is no longer needed against collapse, and its push towards a
#: 50/50 policy makes the 500-step episodes fail now and then.
ABLATION_FIXES: tuple[tuple[str, dict[str, object]], ...] = (
    ("seed", {}),
    ("+entropy", dict(entropy_coef=0.01)),
    ("+gae", dict(gae_lambda=0.95)),
    ("+clip", dict(max_grad_norm=0.5)),
    ("+lr decay", dict(lr_schedule="linear")),
    ("+log-softmax", dict(stable_log_prob=True)),
    ("+adv norm", dict(normalize_advantages=True)),
    ("+8 envs", dict(num_envs=8, rollout_steps=32)),
    ("+ratio clip", dict(ratio_clip=0.2)),
    ("-entropy", dict(entropy_coef=0.0)),
)


def ablation_ladder(max_steps: int = ABLATION_STEPS) -> dict[str, A2CConfig]:
    """The seed, then one change at a time (cumulative, :data:`ABLATION_FIXES`); the last rung is the package's
    recommended A2C.

    Every rung trains for the same number of environment steps (``max_steps``; ``episodes`` is no limit here).
    """
    config = A2CConfig(episodes=1_000_000, max_steps=max_steps)
    ladder = {}
    for name, change in ABLATION_FIXES:
        config = config.replace(**change)
        ladder[name] = config
    return ladder


#: The package's recommended A2C: the top rung of the ladder. Every fix the seed's walk-through names (GAE, gradient
#: clipping, LR decay, log-softmax, advantage normalisation, 8 environments stepped with ``gymnasium.make_vec`` and
#: 32-step rollouts), plus PPO's ratio clip (0.2), and no entropy bonus. It was chosen on seeds 200-259, used by no
#: data set; ``ablation`` (seeds 0-9) and ``recommended_fresh_seeds`` (seeds 10-49) measure it. Lecture 07 prints
#: the solve counts with their intervals and checks them.
RECOMMENDED_CONFIG = list(ablation_ladder().values())[-1]
#: The recipe against its late drift: ``RECOMMENDED_CONFIG`` with 16 environments instead of 8 (rollouts of
#: 16 x 32 steps, minibatches of 64, so still 8 minibatches per pass). Half as many updates over the budget, each on
#: twice the data: less noise in each update once every episode reaches the time limit, when the advantages carry
#: almost no signal and the cart's resting position wanders (lecture 07b). Chosen on seeds 300-339 and
#: 400-459, used by no data set; ``recipe_drift`` measures it on fresh seeds.
RECOMMENDED_16_ENVS_CONFIG = RECOMMENDED_CONFIG.replace(num_envs=16, batch_size=64)
#: The recipe that pauses learning while it has nothing to learn (``freeze_at_return=500``): no update while each of
#: its last 100 episodes reached CartPole's 500-step limit, when the reward holds no signal and updates only let the
#: policy drift (lecture 07b); learning resumes after a failure. The level follows from that cause, not from a
#: screen: 500 is the most any episode can return. ``recipe_pause`` measures it on seeds fresh for it;
#: ``recipe_drift`` shows it on the seeds whose misses prompted it.
RECOMMENDED_PAUSE_CONFIG = RECOMMENDED_CONFIG.replace(freeze_at_return=500.0)
#: Seeds of ``recipe_pause``: fresh for RECOMMENDED_PAUSE_CONFIG, which was written after the recipe's
#: results on DRIFT_SEEDS were known (they prompted it); used by no other data set or screen.
PAUSE_SEEDS = tuple(range(600, 700))
#: Seeds of ``recipe_drift``: used by no other data set, nor by the choice of RECOMMENDED_16_ENVS_CONFIG; the
#: recipe's misses on them prompted RECOMMENDED_PAUSE_CONFIG, so they are not fresh for that one.
DRIFT_SEEDS = tuple(range(500, 600))
#: The rungs that ``recommended_fresh_seeds`` trains on fresh seeds: the previous recommendation (``+8 envs``),
#: the ratio clip added, and the entropy bonus removed.
FRESH_SEED_RUNGS = ("+8 envs", "+ratio clip", "-entropy")
#: Seeds of ``recommended_fresh_seeds``: disjoint from the ablation's seeds 0-9.
FRESH_SEEDS = tuple(range(10, 50))

#: Seeds of ``critic_targets``: used by no other data set.
CRITIC_TARGET_SEEDS = tuple(range(100, 130))

#: The first rung that is PPO in all but name: from ``+ratio clip`` on, several passes of minibatch steps over each
#: rollout are held near the collecting policy by PPO's clipped ratio (Schulman et al. 2017), with GAE, advantage
#: normalisation, gradient clipping, a linear LR decay and several environments: PPO-clip as Huang et al. (2022)
#: describe it. The rungs below it take several passes *without* a trust region: neither canonical A2C (one step per
#: rollout) nor PPO.
PPO_STYLE_FROM = "+ratio clip"
#: How lecture 07 and the README name the stored rungs (the data sets keep their names): the rungs from
#: :data:`PPO_STYLE_FROM` on are PPO-style.
RUNG_DISPLAY_NAMES = {"+ratio clip": "+ratio clip (PPO-style)", "-entropy": "-entropy (PPO-style)"}


def rung_display_name(rung: str) -> str:
    """A rung's name as the lectures show it: the stored name, marked PPO-style from the ratio clip on."""
    return RUNG_DISPLAY_NAMES.get(rung, rung)


#: The rung whose options the canonical A2C keeps (GAE 0.95, gradient clipping 0.5, LR decay, log-softmax, advantage
#: normalisation, entropy bonus 0.01, 8 environments), taking one gradient step per rollout instead of 5 passes of
#: minibatches.
CANONICAL_BASE_RUNG = "+8 envs"
#: Rollout lengths of ``a2c_canonical``: 5 (Mnih et al. 2016's t_max, Stable-Baselines3's n_steps) and 32 (the
#: ladder's rollouts, so that the only change from ``+8 envs`` is one gradient step instead of 40).
CANONICAL_ROLLOUT_STEPS = (5, 32)


def canonical_a2c(rollout_steps: int, max_steps: int = ABLATION_STEPS) -> A2CConfig:
    """Canonical A2C (the synchronous form of Mnih et al. 2016's A3C; Stable-Baselines3's ``A2C``): the ladder's
    ``+8 envs`` rung with one actor step and one critic step per rollout of ``8 * rollout_steps`` transitions
    (``update_passes=1``, the whole rollout as one batch, ``critic_steps=1``), no ratio clip. Still Adam, not
    RMSprop, and the critic's target is the TD(0) one of every config here unless ``critic_target`` says otherwise
    (Mnih et al. and Stable-Baselines3 regress on the n-step return; ``critic_targets`` compares the two)."""
    base = ablation_ladder(max_steps)[CANONICAL_BASE_RUNG]
    return base.replace(rollout_steps=rollout_steps, update_passes=1, batch_size=base.num_envs * rollout_steps,
                        critic_steps=1)
