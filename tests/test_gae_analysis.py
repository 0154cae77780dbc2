import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from lecture_utils.gae_analysis import (LAMBDA_GRID, advantage_spread, check_gae, check_lambda_for_horizon,
                                        effective_horizon, estimator_lambda, gae_weights, lambda_table,
                                        plot_lambda_tradeoff, sweep_lambda, sweep_order)
from lecture_utils.gradient_variance import estimator_table
from lecture_utils.returns import gae_advantages, td_errors


# -- horizon and weights --------------------------------------------------------------------------------------------
def test_effective_horizon_limits_and_broadcasting():
    assert effective_horizon(0.99, 0.0) == 1.0
    assert effective_horizon(0.99, 1.0) == pytest.approx(100.0)
    assert effective_horizon(0.9, 0.5) == pytest.approx(1 / (1 - 0.45))
    assert effective_horizon(1.0, 1.0) == np.inf
    out = effective_horizon(0.99, np.array(LAMBDA_GRID))
    assert out.shape == (len(LAMBDA_GRID),) and np.all(np.diff(out) > 0)


@pytest.mark.parametrize("gamma, lam", [(0.0, 0.5), (1.1, 0.5), (0.99, -0.1), (0.99, 1.5)])
def test_effective_horizon_rejects_out_of_range(gamma, lam):
    with pytest.raises(ValueError):
        effective_horizon(gamma, lam)


def test_gae_weights_sum_to_the_horizon():
    w = gae_weights(0.99, 0.9, 5000)
    np.testing.assert_allclose(w[:3], [1.0, 0.891, 0.891**2])
    assert w.sum() == pytest.approx(effective_horizon(0.99, 0.9))
    np.testing.assert_array_equal(gae_weights(0.99, 0.0, 3), [1.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        gae_weights(0.99, 0.5, 0)


def test_gae_weights_are_the_coefficients_of_the_deltas():
    # GAE is linear in the TD residuals: the advantage at t = 0 is sum_k w_k delta_k.
    rng = np.random.default_rng(1)
    rewards, values, next_values = rng.random(6), rng.random(6), rng.random(6)
    terminated = np.array([0, 0, 0, 0, 0, 1], dtype=bool)
    deltas = td_errors(rewards, values, next_values, terminated, 0.9)
    a0 = gae_advantages(rewards, values, next_values, terminated, 0.9, 0.7)[0]
    assert a0 == pytest.approx(gae_weights(0.9, 0.7, 6) @ deltas)


# -- estimator table by lambda ----------------------------------------------------------------------------------------
def test_estimator_lambda_parses_names():
    assert estimator_lambda("td0") == 0.0
    assert estimator_lambda("gae(0.95)") == 0.95
    assert estimator_lambda("gae(1)") == 1.0
    for name in ("reinforce", "constant", "critic", "gae", "gae()"):
        assert estimator_lambda(name) is None


def fake_estimates():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(50, 3))
    return {
        "reinforce": ref,
        "critic": ref * 0.5,
        "gae(0.9)": ref * 0.3 + 1.0,
        "td0": ref * 0.1 + 2.0,
        "gae(1)": ref * 0.5,
    }


def test_lambda_table_orders_rows_by_lambda_and_keeps_the_numbers():
    table = estimator_table(fake_estimates())
    lam = lambda_table(table)
    assert list(lam["estimator"]) == ["td0", "gae(0.9)", "gae(1)"]
    assert list(lam["lambda"]) == [0.0, 0.9, 1.0]
    assert list(lam.columns) == ["lambda", "estimator", "horizon", "variance", "bias", "bias_noise", "bias_in_noise"]
    by_name = table.set_index("estimator")
    for _, row in lam.iterrows():
        assert row["variance"] == by_name.loc[row["estimator"], "variance"]
        assert row["bias"] == by_name.loc[row["estimator"], "bias"]
    # gae(1) with the critic's advantages: the same estimates as 'critic'
    assert lam.iloc[-1]["variance"] == by_name.loc["critic", "variance"]
    np.testing.assert_allclose(lam["horizon"], [1.0, 1 / (1 - 0.891), 100.0])
    # td0 adds a constant 2 to every coordinate: bias = ||(2, 2, 2) - 0.9 * mean(ref)||, far above its noise
    assert lam.iloc[0]["bias_in_noise"] > 10


def test_lambda_table_without_lambda_rows_raises():
    table = estimator_table({k: v for k, v in fake_estimates().items() if k in ("reinforce", "critic")})
    with pytest.raises(ValueError, match="lambdas"):
        lambda_table(table)


def test_plot_lambda_tradeoff_draws_two_panels():
    import matplotlib.pyplot as plt

    fig = plot_lambda_tradeoff(lambda_table(estimator_table(fake_estimates())), title="t")
    var_ax, bias_ax = fig.axes
    assert var_ax.get_yscale() == "log"
    assert [t.get_text() for t in bias_ax.get_xticklabels()] == ["0", "0.9", "1"]
    plt.close(fig)


# -- the sweep --------------------------------------------------------------------------------------------------------
def test_sweep_lambda_and_order():
    assert sweep_lambda("lambda=0.95") == 0.95
    assert sweep_lambda("lambda=0") == 0.0
    assert sweep_lambda("MC (seed)") is None
    configs = ["lambda=0.99", "lambda=0", "MC (seed)", "lambda=0.5", "lambda=0.9", "lambda=0"]
    assert sweep_order(configs) == ["MC (seed)", "lambda=0", "lambda=0.5", "lambda=0.9", "lambda=0.99"]


def test_advantage_spread_bins_by_return():
    table = pd.DataFrame({
        "config": ["lambda=0.5"] * 4 + ["MC (seed)"] * 4,
        "return": [9, 10, 500, 500, 9, 150, 500, 500],
        "advantage_std": [1.0, 3.0, 0.1, 0.3, 2.0, 5.0, 20.0, 30.0],
    })
    spread = advantage_spread(table)
    assert list(spread.index) == ["MC (seed)", "lambda=0.5"]
    assert list(spread.columns) == ["<=20", "21-100", "101-300", "301-499", "500", "all"]
    assert spread.loc["lambda=0.5", "<=20"] == 2.0
    assert spread.loc["lambda=0.5", "500"] == pytest.approx(0.2)
    assert spread.loc["MC (seed)", "101-300"] == 5.0
    assert np.isnan(spread.loc["lambda=0.5", "101-300"])
    assert spread.loc["MC (seed)", "all"] == pytest.approx(12.5)
    with pytest.raises(ValueError):
        advantage_spread(table, bins=[0, 20, 10])


# -- exercise checks --------------------------------------------------------------------------------------------------
def test_check_gae(capsys):
    rewards, values, next_values = np.ones(4), np.array([3.0, 2.5, 2.0, 1.0]), np.array([2.5, 2.0, 1.0, 0.0])
    terminated = np.array([False, False, False, True])
    right = gae_advantages(rewards, values, next_values, terminated, 0.99, 0.9)
    assert check_gae(right, rewards, values, next_values, terminated, 0.99, 0.9)
    assert "correct" in capsys.readouterr().out
    assert not check_gae(right + 0.1, rewards, values, next_values, terminated, 0.99, 0.9)
    assert "not yet" in capsys.readouterr().out
    assert not check_gae(right[:2], rewards, values, next_values, terminated, 0.99, 0.9)


def test_check_lambda_for_horizon(capsys):
    lam = (1 - 1 / 20) / 0.99
    assert effective_horizon(0.99, lam) == pytest.approx(20)
    assert check_lambda_for_horizon(20, lam)
    assert "correct" in capsys.readouterr().out
    assert not check_lambda_for_horizon(20, 0.95)
    assert "not yet" in capsys.readouterr().out
    assert not check_lambda_for_horizon(20, 1.5)
