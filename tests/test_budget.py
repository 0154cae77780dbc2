import numpy as np
import pandas as pd

from lecture_utils.budget import collapse_history


def _table(returns_by_seed):
    rows = [dict(config="c", seed=seed, episode=e, **{"return": float(r)}, length=int(r))
            for seed, returns in returns_by_seed.items() for e, r in enumerate(returns)]
    return pd.DataFrame(rows)


def test_collapse_history_separates_the_end_from_the_whole_run():
    learns_then_recovers = [300] * 100 + [9] * 100 + [300] * 100      # collapsed in the middle, fine at the end
    learns_then_collapses = [300] * 100 + [9] * 100                    # ends collapsed
    never_learns = [9] * 200                                           # low all along: not a collapse
    history = collapse_history(_table({0: learns_then_recovers, 1: learns_then_collapses, 2: never_learns}))
    assert history["ended_collapsed"].tolist() == [False, True, True]
    assert history["ever_collapsed"].tolist() == [True, True, False]
    # rolling-100 mean of [300]*100 + [9]*k falls below 20 once k >= 97 (3 * 300 + 97 * 9 = 1773 < 2000): episode 196
    assert history.loc[0, "first_collapse_episode"] == 196
    assert history.loc[0, "first_collapse_step"] == 300 * 100 + 9 * 97
    assert np.isnan(history.loc[0, "onset_step"])
    assert history.loc[1, "onset_step"] == 300 * 100                   # stays collapsed from episode 100 on
    assert history.loc[2, "onset_step"] == 0
    assert history["steps"].tolist() == [300 * 200 + 9 * 100, 300 * 100 + 9 * 100, 9 * 200]
