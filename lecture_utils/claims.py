"""The series' one statistical standard, and the two kinds of verdict lines the lectures print.

**Checks** state an identity or a specification (a recursion equals :func:`.returns.discounted_returns`, start
states lie in their box, a parameter count). No data could make a correct check fail; a failing one is a bug, so
:func:`check` raises instead of printing FAIL. Checks print ``CHECK ok: ...``.

**Claims** are empirical statements that an outcome of the data could make false. :func:`claim` prints
``claim '...': PASS`` or ``FAIL``. The threshold of a claim is fixed from the question before looking at the
result (e.g. "the recipe is solved on at least 95% of fresh seeds"), never read off the observed numbers.

**Comparing two rates** (seeds collapsed, seeds solved, out of the seeds run) always uses :func:`compare_rates`:

* the test: Fisher's exact test, two-sided, at level ``alpha = 0.05``;
* the effect size: the difference of the two rates, ``p_b - p_a``, with a 95% Newcombe (hybrid Wilson score)
  interval on it;
* for a comparison that finds no difference, the smallest rise and the smallest fall the study could have detected
  (80% power at ``alpha``, given the sample sizes and the first arm's rate; each direction on its own, since near 0
  or 1 they differ a lot), so "no difference" is never claimed where the data could not have shown one;
* two rates measured on the *same* seeds (two configurations that share every run up to some point) are compared by
  McNemar's exact test on the seeds whose outcome differs (:func:`compare_paired`), since Fisher's test assumes
  independent samples;
* several tests asked as one question (every step of a ladder, say) are corrected together by Holm's method
  (:func:`holm_adjust`), so that the chance of any false "significant" in the family stays at ``alpha``.

A claim that two settings differ passes only if the test rejects at ``alpha``; a claim that they do *not* differ by
more than some margin passes only if the whole interval on the difference lies inside that margin (for rates, the
Newcombe interval of :func:`compare_rates`; for means over seeds, the Welch interval of :func:`compare_means`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from .stats import proportion_interval

__all__ = ["ALPHA", "POWER", "RateComparison", "compare_rates", "detectable_difference", "holm_adjust",
           "MeanComparison", "compare_means", "PairedComparison", "compare_paired", "claim", "check"]

#: Level of every two-sample test in the series (two-sided).
ALPHA = 0.05
#: Power used to report the smallest detectable difference.
POWER = 0.8


@lru_cache(maxsize=64)
def _fisher_rejects(n_a: int, n_b: int, alpha: float) -> np.ndarray:
    """``(n_a + 1, n_b + 1)`` booleans: does two-sided Fisher reject at ``alpha`` for ``ka`` of ``n_a`` against
    ``kb`` of ``n_b``? (The p-value, as scipy's ``fisher_exact`` computes it: given the margins, the total
    hypergeometric probability of tables no more likely than the observed one.)"""
    from scipy.stats import hypergeom

    rejects = np.zeros((n_a + 1, n_b + 1), dtype=bool)
    for total in range(n_a + n_b + 1):
        ka = np.arange(max(0, total - n_b), min(n_a, total) + 1)
        pmf = hypergeom.pmf(ka, n_a + n_b, n_a, total)
        # p(k) = sum of pmf[j] over pmf[j] <= pmf[k] (1 + 1e-7): sorted cumulative sums, O(n log n) per margin.
        order = np.sort(pmf)
        cumulative = np.cumsum(order)
        p_values = cumulative[np.searchsorted(order, pmf * (1 + 1e-7), side="right") - 1]
        rejects[ka, total - ka] = p_values <= alpha
    return rejects


def _fisher_power(rate_a: float, rate_b: float, n_a: int, n_b: int, alpha: float) -> float:
    """Exact power of the two-sided Fisher test: the probability, under binomial sampling with these true rates,
    that the test rejects at ``alpha``."""
    from scipy.stats import binom

    pa, pb = binom.pmf(np.arange(n_a + 1), n_a, rate_a), binom.pmf(np.arange(n_b + 1), n_b, rate_b)
    return float(pa @ _fisher_rejects(n_a, n_b, alpha) @ pb)


def detectable_difference(rate_a: float, n_a: int, n_b: int, alpha: float = ALPHA, power: float = POWER,
                          direction: int | None = None) -> float:
    """The smallest change of arm B's rate from ``rate_a`` that two-sided Fisher at ``alpha`` detects with probability
    ``power``, when the arms have ``n_a`` and ``n_b`` trials (in steps of 0.01). ``direction=+1``: the smallest rise
    ``p_b - p_a``; ``-1``: the smallest fall ``p_a - p_b``; ``None``: whichever of the two is smaller. Returns ``inf``
    if no change in that direction within [0, 1] reaches that power.

    Ask for the direction in question: near a rate of 0 or 1 a rise and a fall of the same size have very different
    power (from 0.84, a rise to 1.00 is far easier to detect than a fall to 0.68).
    """
    if direction not in (None, 1, -1):
        raise ValueError(f"direction must be +1 (a rise), -1 (a fall) or None (either), got {direction!r}")
    best = math.inf
    for sign in ((+1, -1) if direction is None else (direction,)):
        for step in range(1, 101):
            rate_b = rate_a + sign * step / 100
            if not -1e-9 <= rate_b <= 1.0 + 1e-9:
                break
            if _fisher_power(rate_a, min(1.0, max(0.0, rate_b)), n_a, n_b, alpha) >= power:
                best = min(best, step / 100)
                break
    return best


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979), in the input's order: reject test ``i`` at family level
    ``alpha`` if its adjusted p-value is at most ``alpha``. Controls the chance of any false rejection in the family
    under any dependence between the tests."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class RateComparison:
    """Two rates compared by the series' standard (see the module docstring). ``difference = rate_b - rate_a``."""

    successes_a: int
    trials_a: int
    successes_b: int
    trials_b: int
    p_value: float
    difference: float
    interval: tuple[float, float]
    detectable_rise: float
    detectable_fall: float
    alpha: float = ALPHA

    @property
    def rate_a(self) -> float:
        return self.successes_a / self.trials_a

    @property
    def rate_b(self) -> float:
        return self.successes_b / self.trials_b

    @property
    def significant(self) -> bool:
        """The two-sided Fisher test rejects equal rates at ``alpha``."""
        return self.p_value <= self.alpha

    @property
    def detectable(self) -> str:
        """The smallest rise and fall of B's rate these sample sizes detect with 80% power, in words."""
        parts, none = [], []
        for step, sign, word in ((self.detectable_rise, +1, "rise"), (self.detectable_fall, -1, "fall")):
            if math.isinf(step):
                none.append(word)
                continue
            target = self.rate_a + sign * step
            edge = f" (to {round(target):.0%})" if abs(target - round(target)) < 1e-9 else ""
            parts.append(f"a {word} of {step:.2f}{edge}")
        if not parts:
            return "none (no change reaches that power)"
        return " or ".join(parts) + (f" (no {none[0]} reaches that power)" if none else "")

    def __str__(self) -> str:
        low, high = self.interval
        return (f"{self.successes_a}/{self.trials_a} vs {self.successes_b}/{self.trials_b}: difference "
                f"{self.difference:+.2f} (95% CI {low:+.2f} to {high:+.2f}), Fisher p = {self.p_value:.3g}; "
                f"smallest change these sizes detect (80% power): {self.detectable}")


def compare_rates(successes_a: int, trials_a: int, successes_b: int, trials_b: int,
                  alpha: float = ALPHA) -> RateComparison:
    """Compare rate B with rate A: two-sided Fisher exact p, the difference ``p_b - p_a`` with its 95% Newcombe
    interval (Newcombe 1998, method 10), and the smallest rise and fall detectable with 80% power.

    Example: ``compare_rates(3, 10, 7, 10)`` (3 of 10 seeds collapsed against 7 of 10).
    """
    # Each rate's 95% Wilson interval (which also refuses impossible counts), combined as Newcombe's method 10.
    low_a, high_a = proportion_interval(successes_a, trials_a)
    low_b, high_b = proportion_interval(successes_b, trials_b)
    from scipy.stats import fisher_exact

    rate_a, rate_b = successes_a / trials_a, successes_b / trials_b
    difference = rate_b - rate_a
    low = difference - math.sqrt((rate_b - low_b) ** 2 + (high_a - rate_a) ** 2)
    high = difference + math.sqrt((high_b - rate_b) ** 2 + (rate_a - low_a) ** 2)
    p_value = float(fisher_exact([[successes_a, trials_a - successes_a], [successes_b, trials_b - successes_b]])[1])
    return RateComparison(successes_a, trials_a, successes_b, trials_b, p_value, difference,
                          (max(-1.0, low), min(1.0, high)),
                          detectable_difference(rate_a, trials_a, trials_b, alpha, direction=+1),
                          detectable_difference(rate_a, trials_a, trials_b, alpha, direction=-1), alpha)


@dataclass(frozen=True)
class MeanComparison:
    """Two means over independent runs (one value per seed), ``difference = mean_b - mean_a``, with the 95% Welch
    interval on the difference."""

    mean_a: float
    mean_b: float
    difference: float
    interval: tuple[float, float]

    def within(self, margin: float) -> bool:
        """The whole interval on the difference lies inside ``(-margin, margin)``: the data rule out a difference
        of ``margin`` or more either way (an equivalence claim)."""
        return -margin < self.interval[0] and self.interval[1] < margin

    def __str__(self) -> str:
        low, high = self.interval
        return f"{self.mean_a:.3f} vs {self.mean_b:.3f}: difference {self.difference:+.3f} (95% CI {low:+.3f} to {high:+.3f})"


def compare_means(sample_a: Sequence[float], sample_b: Sequence[float]) -> MeanComparison:
    """Compare the mean of ``sample_b`` with that of ``sample_a`` (each one value per independent run, at least two
    each): the difference and its 95% Welch interval (unequal variances)."""
    from scipy.stats import ttest_ind

    a, b = np.asarray(sample_a, dtype=float), np.asarray(sample_b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least two values per sample, got {len(a)} and {len(b)}")
    ci = ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    return MeanComparison(float(a.mean()), float(b.mean()), float(b.mean() - a.mean()), (float(ci.low), float(ci.high)))


@dataclass(frozen=True)
class PairedComparison:
    """Two outcomes per seed (A and B on the same seeds): the seeds where only B succeeds (``gained``) and where only
    A does (``lost``), and McNemar's exact two-sided p-value on those discordant seeds."""

    seeds: int
    successes_a: int
    successes_b: int
    gained: int
    lost: int
    p_value: float
    alpha: float = ALPHA

    @property
    def significant(self) -> bool:
        return self.p_value <= self.alpha

    def __str__(self) -> str:
        return (f"{self.successes_a}/{self.seeds} vs {self.successes_b}/{self.seeds} on the same seeds: B alone on "
                f"{self.gained}, A alone on {self.lost}; McNemar exact p = {self.p_value:.3g}")


def compare_paired(success_a: Sequence[bool], success_b: Sequence[bool], alpha: float = ALPHA) -> PairedComparison:
    """Compare B's success rate with A's on the same seeds (``success_a[i]`` and ``success_b[i]`` belong to seed
    ``i``): McNemar's exact test, a two-sided binomial test of the discordant seeds against 1/2 (p = 1 if none)."""
    a, b = np.asarray(success_a, dtype=bool), np.asarray(success_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(f"need two equal-length, non-empty lists of outcomes per seed, got {a.shape} and {b.shape}")
    gained, lost = int((b & ~a).sum()), int((a & ~b).sum())
    from scipy.stats import binomtest

    p_value = float(binomtest(gained, gained + lost, 0.5).pvalue) if gained + lost else 1.0
    return PairedComparison(len(a), int(a.sum()), int(b.sum()), gained, lost, p_value, alpha)


def claim(statement: str, holds: bool, evidence: str = "") -> bool:
    """Print a claim's verdict, ``claim '<statement>': PASS`` or ``FAIL`` (then the evidence, if any); return it.

    Use only for statements some outcome of the data could make false, with the threshold fixed from the question.
    """
    verdict = "PASS" if holds else "FAIL"
    print(f"claim '{statement}': {verdict}" + (f"  [{evidence}]" if evidence else ""))
    return bool(holds)


def check(statement: str, holds: bool) -> None:
    """Print ``CHECK ok: <statement>`` for an identity or specification; raise ``AssertionError`` if it fails (a
    failing check is a bug in the code, not a finding)."""
    if not holds:
        raise AssertionError(f"CHECK failed: {statement}")
    print(f"CHECK ok: {statement}")
