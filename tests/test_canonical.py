from lecture_utils.experiments import (CANONICAL_BASE_RUNG, CANONICAL_ROLLOUT_STEPS, EXPERIMENTS, PPO_STYLE_FROM,
                                       RUNG_DISPLAY_NAMES, ablation_ladder, canonical_a2c)


def test_canonical_a2c_is_its_base_rung_with_one_step_per_rollout():
    base = ablation_ladder()[CANONICAL_BASE_RUNG]
    for steps in CANONICAL_ROLLOUT_STEPS:
        config = canonical_a2c(steps)
        assert (config.update_passes, config.critic_steps, config.ratio_clip) == (1, 1, None)
        assert config.batch_size == config.num_envs * config.rollout_steps == base.num_envs * steps  # one minibatch
        assert config.replace(rollout_steps=base.rollout_steps, update_passes=base.update_passes,
                              batch_size=base.batch_size, critic_steps=base.critic_steps) == base
    assert list(EXPERIMENTS["a2c_canonical"].configs.values()) == [canonical_a2c(n) for n in CANONICAL_ROLLOUT_STEPS]


def test_the_rungs_shown_as_ppo_style_are_those_with_passes_under_a_ratio_clip():
    ladder = ablation_ladder()
    names = list(ladder)
    ppo_style = names[names.index(PPO_STYLE_FROM):]
    assert set(RUNG_DISPLAY_NAMES) == set(ppo_style)
    assert [n for n, c in ladder.items() if c.ratio_clip is not None and c.update_passes > 1] == ppo_style
