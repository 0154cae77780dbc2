import numpy as np
import pandas as pd
import pytest

from lecture_utils.stats import (bootstrap_ci, collapse_rate, final_returns, interquartile_mean, median_band, smooth,
                                 summarize_final)


def _table():
    rows = []
    for config, finals in {"good": [400, 450, 500, 300], "bad": [9, 9, 200, 10]}.items():
        for seed, final in enumerate(finals):
            for episode in range(150):
                rows.append(dict(config=config, seed=seed, episode=episode,
                                 **{"return": 20.0 if episode < 50 else float(final)}))
    return pd.DataFrame(rows)


def test_smooth_is_trailing_mean():
    np.testing.assert_allclose(smooth([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    with pytest.raises(ValueError):
        smooth([1], 0)


def test_final_returns_and_collapse_rate():
    table = _table()
    final = final_returns(table, last=100)
    assert final.loc[(final.config == "bad") & (final.seed == 0), "final"].item() == 9
    rates = collapse_rate(table, last=100)
    assert rates["bad"] == 0.75 and rates["good"] == 0.0


def test_iqm_and_bootstrap():
    assert interquartile_mean([1, 2, 3, 4, 5, 6, 7, 100]) == pytest.approx(4.5)
    low, high = bootstrap_ci(np.arange(20.0))
    assert low < interquartile_mean(np.arange(20.0)) < high
    assert bootstrap_ci(np.arange(20.0)) == (low, high)  # deterministic
    assert bootstrap_ci([5.0, 5.0, 5.0]) == (5.0, 5.0)


def test_median_band_and_summary():
    band = median_band(_table(), window=1)
    last = band[(band.config == "good") & (band.episode == 149)].iloc[0]
    assert last["median"] == 425 and last["q25"] == 375 and last["q75"] == 462.5 and last["seeds"] == 4
    summary = summarize_final(_table()).set_index("config")
    assert summary.loc["bad", "collapsed"] == 3 and summary.loc["good", "median"] == 425
    assert summary.loc["good", "iqm_low"] <= summary.loc["good", "iqm"] <= summary.loc["good", "iqm_high"]


def test_steps_to_threshold_and_solve_summary():
    from lecture_utils.stats import solve_summary, steps_to_threshold

    rows = []
    for seed, returns in enumerate([[500.0] * 4, [10.0, 500.0, 500.0, 500.0], [10.0] * 4]):
        rows += [dict(config="c", seed=seed, episode=e, length=int(r), **{"return": r}) for e, r in enumerate(returns)]
    table = pd.DataFrame(rows)
    reach = steps_to_threshold(table, threshold=475, window=2)
    assert reach["episode"].tolist()[:2] == [1, 2] and np.isnan(reach["episode"][2])
    assert reach["steps"].tolist()[:2] == [1000, 1010]
    summary = solve_summary(table, threshold=475, last=2).iloc[0]
    assert (summary["solved_at_end"], summary["ever_solved"], summary["collapsed"]) == (2, 2, 1)
    assert summary["median_steps_to_solve"] == 1005


def test_curves_over_steps_holds_the_last_finished_episode():
    from lecture_utils.stats import curves_over_steps

    table = pd.DataFrame(dict(config="c", seed=0, episode=[0, 1, 2], length=[10, 20, 30], **{"return": [1.0, 2.0, 3.0]}))
    curve = curves_over_steps(table, window=1, steps=np.array([5, 10, 29, 30, 60, 70]))
    values = curve["return"].tolist()
    assert np.isnan(values[0]) and values[1:] == [1.0, 1.0, 2.0, 3.0, 3.0]


def test_proportion_interval_wilson():
    from lecture_utils.stats import proportion_interval
    # Reference values of the Wilson score interval (e.g. statsmodels' proportion_confint(method="wilson")).
    low, high = proportion_interval(9, 10)
    assert abs(low - 0.5958) < 1e-3 and abs(high - 0.9821) < 1e-3
    low, high = proportion_interval(10, 10)
    assert abs(high - 1.0) < 1e-12 and abs(low - 0.7225) < 1e-3
    low, high = proportion_interval(0, 40)
    assert abs(low) < 1e-12 and 0.05 < high < 0.1
    narrow, wide = proportion_interval(36, 40, 0.8), proportion_interval(36, 40, 0.99)
    assert wide[0] < narrow[0] < 0.9 < narrow[1] < wide[1]
    with pytest.raises(ValueError):
        proportion_interval(11, 10)
