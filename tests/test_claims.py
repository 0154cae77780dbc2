"""The series' statistical standard (lecture_utils.claims)."""
import math

import numpy as np
import pytest
from scipy.stats import fisher_exact

from lecture_utils.claims import (_fisher_power, _fisher_rejects, check, claim, compare_means, compare_paired,
                                  compare_rates, detectable_difference, holm_adjust)


def test_rejection_region_matches_scipy_fisher():
    rejects = _fisher_rejects(7, 9, 0.05)
    for ka in range(8):
        for kb in range(10):
            assert rejects[ka, kb] == (fisher_exact([[ka, 7 - ka], [kb, 9 - kb]])[1] <= 0.05)


def test_power_matches_simulation():
    rng = np.random.default_rng(0)
    exact = _fisher_power(0.3, 0.8, 12, 12, 0.05)
    draws = [(rng.binomial(12, 0.3), rng.binomial(12, 0.8)) for _ in range(4000)]
    simulated = np.mean([_fisher_rejects(12, 12, 0.05)[a, b] for a, b in draws])
    assert abs(exact - simulated) < 0.03


def test_compare_rates_reports_test_effect_and_interval():
    result = compare_rates(41, 50, 48, 50)
    assert result.p_value == pytest.approx(fisher_exact([[41, 9], [48, 2]])[1])
    assert result.difference == pytest.approx(0.14)
    low, high = result.interval
    assert low < 0.14 < high and -1 <= low and high <= 1
    assert not result.significant  # p = 0.051: a raw 41 vs 48 is not a finding at 0.05
    assert compare_rates(0, 20, 15, 20).significant


def test_newcombe_interval_known_value():
    # Newcombe (1998), table II, example (a): 56/70 vs 48/80, method 10 gives 0.0524 to 0.3339 for p1 - p2.
    result = compare_rates(48, 80, 56, 70)
    assert result.interval[0] == pytest.approx(0.0524, abs=5e-4)
    assert result.interval[1] == pytest.approx(0.3339, abs=5e-4)


def test_detectable_difference_shrinks_with_more_seeds():
    small, large = detectable_difference(0.3, 10, 10), detectable_difference(0.3, 100, 100)
    assert 0 < large < small <= 1
    assert _fisher_power(0.3, 0.3 + small, 10, 10, 0.05) >= 0.8 or _fisher_power(0.3, 0.3 - small, 10, 10, 0.05) >= 0.8
    assert math.isinf(detectable_difference(0.5, 1, 1))


def test_detectable_change_is_asked_per_direction():
    # From 0.84 with 50 per arm a rise to 1.00 reaches 80% power but a fall of 0.16 does not: each direction on its own.
    rise, fall = detectable_difference(0.84, 50, 50, direction=+1), detectable_difference(0.84, 50, 50, direction=-1)
    assert rise == pytest.approx(0.16) and fall > 0.2
    assert _fisher_power(0.84, 0.84 - fall, 50, 50, 0.05) >= 0.8 > _fisher_power(0.84, 0.84 - fall + 0.01, 50, 50, 0.05)
    assert detectable_difference(0.84, 50, 50) == min(rise, fall)
    assert math.isinf(detectable_difference(0.96, 100, 100, direction=+1))
    assert str(compare_rates(96, 100, 98, 100)).endswith("a fall of 0.13 (no rise reaches that power)")
    text = str(compare_rates(42, 50, 48, 50))
    assert "a rise of 0.16 (to 100%)" in text and f"a fall of {fall:.2f}" in text
    with pytest.raises(ValueError, match="direction"):
        detectable_difference(0.5, 10, 10, direction=2)


def test_holm_adjustment_known_values():
    # m = 4: sorted p 0.01, 0.03, 0.04, 0.5 -> 0.04, max(0.04, 0.09), max(0.09, 0.08), 0.5.
    assert holm_adjust([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm_adjust([0.5]) == [0.5] and holm_adjust([0.6, 0.6]) == [1.0, 1.0]


def test_compare_means_welch_interval_and_equivalence():
    a, b = [0.80, 0.82, 0.81, 0.79, 0.83], [0.81, 0.80, 0.84, 0.82, 0.80]
    result = compare_means(a, b)
    from scipy.stats import ttest_ind
    ci = ttest_ind(b, a, equal_var=False).confidence_interval()
    assert result.interval == pytest.approx((ci.low, ci.high)) and result.difference == pytest.approx(0.004)
    assert result.within(0.05) and not result.within(0.01)
    assert not compare_means([0.0, 1.0], [0.0, 1.0]).within(0.05)  # two noisy runs rule out nothing
    with pytest.raises(ValueError, match="two values"):
        compare_means([1.0], [1.0, 2.0])


def test_paired_comparison_is_mcnemar_exact_on_the_discordant_seeds():
    a = [True] * 90 + [False] * 4 + [True] * 1 + [False] * 5
    b = [True] * 90 + [True] * 4 + [False] * 1 + [False] * 5
    result = compare_paired(a, b)
    assert (result.gained, result.lost, result.successes_a, result.successes_b) == (4, 1, 91, 94)
    assert result.p_value == pytest.approx(0.375)  # 2 * P(X <= 1), X ~ Binomial(5, 1/2) = 2 * 6/32
    assert compare_paired([True, False], [True, False]).p_value == 1.0
    assert compare_paired([False] * 8, [True] * 8).significant  # 8 of 8 discordant one way: p = 2/256
    with pytest.raises(ValueError, match="equal-length"):
        compare_paired([True], [True, False])


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="successes <= trials"):
        compare_rates(11, 10, 0, 10)


def test_claim_and_check_lines(capsys):
    assert claim("x exceeds 3", True, "x = 4") is True
    assert claim("x exceeds 5", False) is False
    check("two plus two is four", 2 + 2 == 4)
    out = capsys.readouterr().out.splitlines()
    assert out == ["claim 'x exceeds 3': PASS  [x = 4]", "claim 'x exceeds 5': FAIL", "CHECK ok: two plus two is four"]
    with pytest.raises(AssertionError, match="CHECK failed"):
        check("two plus two is five", 2 + 2 == 5)
