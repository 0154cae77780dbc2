"""run_sweep: the same tidy table whatever the worker count or joblib backend, and its skip/on_result hooks."""
import pandas as pd
import pytest

from lecture_utils import EPISODE_COLUMNS, A2CConfig, train
from lecture_utils.sweep import RunSpec, run_sweep, sweep_specs, varying_fields

EPISODES = 5
# Two configurations differing in two fields, so the tidy table gets two extra columns, in field order.
CONFIGS = {
    "seed": A2CConfig(episodes=EPISODES),
    "fast": A2CConfig(episodes=EPISODES, actor_lr=3e-3, batch_size=16),
}
SEEDS = [0, 1]


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return run_sweep(CONFIGS, SEEDS, n_jobs=1)


def test_two_workers_give_the_serial_table(serial):
    pd.testing.assert_frame_equal(run_sweep(CONFIGS, SEEDS, n_jobs=2), serial, check_exact=True)


def test_tidy_columns_rows_and_values(serial):
    assert list(serial.columns) == ["config", "seed", "episode", "actor_lr", "batch_size", *EPISODE_COLUMNS[1:]]
    assert len(serial) == len(CONFIGS) * len(SEEDS) * EPISODES
    # Ordered by configuration (as given), seed, episode.
    keys = list(zip(serial["config"], serial["seed"], serial["episode"], strict=True))
    assert keys == [(name, seed, ep) for name in CONFIGS for seed in SEEDS for ep in range(EPISODES)]
    for name, config in CONFIGS.items():
        rows = serial[serial["config"] == name]
        assert (rows["actor_lr"] == config.actor_lr).all() and (rows["batch_size"] == config.batch_size).all()
    # Each run's rows are exactly that run trained on its own.
    run = serial[(serial["config"] == "fast") & (serial["seed"] == 1)]
    expected = train(CONFIGS["fast"], seed=1).history
    pd.testing.assert_frame_equal(run[EPISODE_COLUMNS].reset_index(drop=True), expected, check_exact=True)


def test_varying_fields():
    assert varying_fields(CONFIGS) == ["actor_lr", "batch_size"]
    assert varying_fields({"only": A2CConfig()}) == []
    assert varying_fields({}) == []
    assert sweep_specs(CONFIGS, SEEDS)[1] == RunSpec("seed", CONFIGS["seed"], 1)


def test_skip_and_on_result(serial):
    seen = []
    table = run_sweep(CONFIGS, SEEDS, n_jobs=1, skip=lambda spec: spec.seed == 0,
                      on_result=lambda spec, frame: seen.append((spec.name, spec.seed, len(frame))))
    assert sorted(seen) == [("fast", 1, EPISODES), ("seed", 1, EPISODES)]
    expected = serial[serial["seed"] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    # Everything already done: nothing is trained and the result is empty.
    calls = []
    empty = run_sweep(CONFIGS, SEEDS, n_jobs=1, skip=lambda spec: True, on_result=lambda *a: calls.append(a))
    assert empty.empty and calls == []


def test_dask_backend_gives_the_serial_table(serial):
    distributed = pytest.importorskip("dask.distributed", reason="dask/distributed are in requirements.txt")
    # Thread workers in this process: no worker start-up cost, and the same code path (joblib's dask backend)
    # as on a real cluster.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        table = run_sweep(CONFIGS, SEEDS, backend="dask")
    pd.testing.assert_frame_equal(table, serial, check_exact=True)


def test_seed_blocks_keep_configurations_apart_and_workers_busy():
    from lecture_utils.experiments import RECOMMENDED_CONFIG
    from lecture_utils.sweep import LOCKSTEP_BLOCK, seed_blocks, sweep_specs

    rollout_a, rollout_b = RECOMMENDED_CONFIG, RECOMMENDED_CONFIG.replace(num_envs=4)
    specs = sweep_specs({"a": rollout_a, "b": rollout_b}, range(10))
    blocks = seed_blocks(specs, workers=2)
    assert [len(b) for b in blocks] == [10, 10] and all(len({s.name for s in b}) == 1 for b in blocks)
    blocks = seed_blocks(specs[:10], workers=4)  # one configuration, four workers: four blocks
    assert [len(b) for b in blocks] == [2, 3, 2, 3]
    assert sorted(s.seed for b in blocks for s in b) == list(range(10))
    assert [len(b) for b in seed_blocks(specs, workers=2, block_size=4)] == [4, 4, 2, 4, 4, 2]
    # Many seeds: blocks of at most LOCKSTEP_BLOCK, even.
    many = sweep_specs({"a": rollout_a}, range(3 * LOCKSTEP_BLOCK + 1))
    sizes = [len(b) for b in seed_blocks(many, workers=2)]
    assert len(sizes) == 4 and max(sizes) <= LOCKSTEP_BLOCK and max(sizes) - min(sizes) <= 1 and sum(sizes) == len(many)
    # Episodic configurations (trained seed by seed anyway): a task per seed, after the lockstep blocks.
    mixed = sweep_specs({"episodic": A2CConfig(episodes=1), "a": rollout_a}, range(5))
    blocks = seed_blocks(mixed, workers=2)
    assert [len(b) for b in blocks] == [2, 3, 1, 1, 1, 1, 1]
    assert [b[0].name for b in blocks] == ["a", "a"] + ["episodic"] * 5
    assert sorted((s.name, s.seed) for b in blocks for s in b) == sorted((s.name, s.seed) for s in mixed)


def test_blocks_give_each_run_its_single_table():
    from lecture_utils.sweep import RunSpec, run_block, run_one

    config = A2CConfig(episodes=5)
    block = run_block([RunSpec("x", config, 4), RunSpec("x", config, 9)])
    for spec, frame in block:
        pd.testing.assert_frame_equal(frame, run_one(spec), check_exact=True)


def test_blocks_step_rollouts_in_lockstep_and_episodes_seed_by_seed():
    from lecture_utils.experiments import RECOMMENDED_CONFIG
    from lecture_utils.sweep import LOCKSTEP_TRAINER, SEED_BY_SEED_TRAINER, RunSpec, block_trainer, run_block, run_one

    assert block_trainer(A2CConfig()) == SEED_BY_SEED_TRAINER
    assert block_trainer(RECOMMENDED_CONFIG) == LOCKSTEP_TRAINER
    for config in (A2CConfig(episodes=15), A2CConfig(episodes=10, num_envs=2, rollout_steps=8)):
        specs = [RunSpec("c", config, seed) for seed in (4, 1)]
        for spec, table in run_block(specs):
            pd.testing.assert_frame_equal(table, run_one(spec), check_exact=True)
