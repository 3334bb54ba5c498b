"""Two-group tests, confidence intervals and multiple-testing correction.

Shared by the qPCR branch (tests on per-sample dCq) and the summary/score steps. Thin,
documented wrappers around :mod:`scipy.stats` so that every choice (exact vs asymptotic,
sign conventions, NaN handling) is made in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np


class _ScipyStats:
    """scipy.stats, imported on first use: it costs ~1 s of start-up in every job that only
    needs this module's names (the pre-run checks, dCq tables)."""

    def __getattr__(self, name: str):
        from scipy import stats as module

        return getattr(module, name)


stats = _ScipyStats()

TestName = Literal["welch", "mannwhitney", "paired_t", "wilcoxon"]
TESTS: tuple[str, ...] = ("welch", "mannwhitney", "paired_t", "wilcoxon")
PAIRED_TESTS: tuple[str, ...] = ("paired_t", "wilcoxon")


@dataclass(frozen=True)
class DifferenceEstimate:
    """Difference of means (target - reference) with its confidence interval."""

    difference: float
    ci_low: float
    ci_high: float


def welch_difference(reference: np.ndarray, target: np.ndarray, level: float = 0.95) -> DifferenceEstimate:
    """Mean(target) - mean(reference) with the Welch-Satterthwaite t interval.

    Parameters
    ----------
    reference, target
        Values of the two groups (NaN already removed), at least 2 each.
    level
        Confidence level of the interval.
    """
    result = stats.ttest_ind(target, reference, equal_var=False)
    interval = result.confidence_interval(confidence_level=level)
    difference = float(np.mean(target) - np.mean(reference))
    return DifferenceEstimate(difference, float(interval.low), float(interval.high))


def paired_difference(reference: np.ndarray, target: np.ndarray, level: float = 0.95) -> DifferenceEstimate:
    """Mean of paired differences (target - reference) with the paired t interval."""
    result = stats.ttest_rel(target, reference)
    interval = result.confidence_interval(confidence_level=level)
    return DifferenceEstimate(float(np.mean(target - reference)), float(interval.low), float(interval.high))


def welch_pvalue(reference: np.ndarray, target: np.ndarray) -> float:
    """Two-sided Welch t-test p-value (unequal variances)."""
    return float(stats.ttest_ind(target, reference, equal_var=False).pvalue)


@dataclass(frozen=True)
class RankTest:
    """A two-sided rank test as R's ``wilcox.test`` reports it.

    Attributes
    ----------
    statistic
        R's ``W`` (Mann-Whitney: rank sum of the target group minus its minimum) or ``V``
        (signed rank: sum of the ranks of the positive differences target - reference).
    pvalue
        Two-sided p-value; NaN where R gives ``NA`` (every value tied, or every difference 0).
    exact
        True when the p-value is from the exact null distribution, False when from the
        normal approximation with continuity and tie correction.
    """

    statistic: float
    pvalue: float
    exact: bool


#: R's ``wilcox.test`` uses the exact distribution only below this many values per group
#: (and never with ties, or zero differences in the paired test).
R_EXACT_LIMIT = 50


def mannwhitney_test(reference: np.ndarray, target: np.ndarray) -> RankTest:
    """Two-sided Mann-Whitney U test exactly as R's ``wilcox.test(target, reference)``.

    R uses the exact distribution when both groups have fewer than 50 values and no value
    is tied (across both groups); otherwise the normal approximation with continuity
    correction and the tie-corrected variance. scipy computes both, to R's p-values within
    1e-13 (``tests/test_rank_tests.py``); its own ``method="auto"`` is exact only up to 8 per
    group, so that a 12-vs-12 comparison would get the approximation, up to 20 times too
    large in the tail.

    Parameters
    ----------
    reference, target
        Values of the two groups (NaN already removed), at least 1 each.
    """
    reference, target = np.asarray(reference, float), np.asarray(target, float)
    combined = np.concatenate([target, reference])
    ranks = stats.rankdata(combined)
    statistic = float(ranks[: len(target)].sum() - len(target) * (len(target) + 1) / 2)
    tied = np.unique(combined).size != combined.size
    exact = len(target) < R_EXACT_LIMIT and len(reference) < R_EXACT_LIMIT and not tied
    if np.unique(combined).size == 1:  # zero variance: R's z is 0/0
        return RankTest(statistic, np.nan, False)
    method = "exact" if exact else "asymptotic"
    pvalue = stats.mannwhitneyu(target, reference, alternative="two-sided", method=method, use_continuity=True).pvalue
    return RankTest(statistic, float(pvalue), exact)


def wilcoxon_test(reference: np.ndarray, target: np.ndarray) -> RankTest:
    """Two-sided Wilcoxon signed-rank test exactly as R's ``wilcox.test(target, reference, paired = TRUE)``.

    Zero differences are dropped (R's and Wilcoxon's rule). R uses the exact distribution
    when fewer than 50 non-zero differences remain, no absolute difference is tied and no
    difference was zero; otherwise the normal approximation with continuity correction and
    the tie-corrected variance, on the non-zero differences.

    Parameters
    ----------
    reference, target
        Paired values aligned by pair (NaN already removed).
    """
    differences = np.asarray(target, float) - np.asarray(reference, float)
    had_zeros = bool((differences == 0).any())
    differences = differences[differences != 0]
    if differences.size == 0:  # R: every difference is zero, p-value NaN
        return RankTest(0.0, np.nan, False)
    ranks = stats.rankdata(np.abs(differences))
    statistic = float(ranks[differences > 0].sum())
    tied = np.unique(np.abs(differences)).size != differences.size
    exact = differences.size < R_EXACT_LIMIT and not tied and not had_zeros
    method = "exact" if exact else "asymptotic"
    pvalue = stats.wilcoxon(differences, alternative="two-sided", method=method, correction=True, zero_method="wilcox").pvalue
    return RankTest(statistic, float(pvalue), exact)


def mannwhitney_pvalue(reference: np.ndarray, target: np.ndarray) -> float:
    """Two-sided Mann-Whitney U p-value as R's ``wilcox.test`` (see :func:`mannwhitney_test`)."""
    return mannwhitney_test(reference, target).pvalue


def paired_t_pvalue(reference: np.ndarray, target: np.ndarray) -> float:
    """Two-sided paired t-test p-value; arrays aligned by pair."""
    return float(stats.ttest_rel(target, reference).pvalue)


def wilcoxon_pvalue(reference: np.ndarray, target: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value as R's ``wilcox.test(paired = TRUE)`` (see :func:`wilcoxon_test`)."""
    return wilcoxon_test(reference, target).pvalue


_PVALUE_FUNCTIONS = {
    "welch": welch_pvalue,
    "mannwhitney": mannwhitney_pvalue,
    "paired_t": paired_t_pvalue,
    "wilcoxon": wilcoxon_pvalue,
}


def two_group_pvalue(test: str, reference: np.ndarray, target: np.ndarray) -> float:
    """p-value of the named test (one of :data:`TESTS`)."""
    if test not in _PVALUE_FUNCTIONS:
        raise ValueError(f"unknown test {test!r}; expected one of {', '.join(TESTS)}")
    return _PVALUE_FUNCTIONS[test](np.asarray(reference, float), np.asarray(target, float))


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN entries stay NaN and are not counted.

    Equivalent to R's ``p.adjust(p, "BH")`` on the non-missing values.
    """
    pvalues = np.asarray(pvalues, dtype=float)
    adjusted = np.full(pvalues.shape, np.nan)
    present = ~np.isnan(pvalues)
    if present.any():
        adjusted[present] = stats.false_discovery_control(pvalues[present], method="bh")
    return adjusted


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values; NaN entries stay NaN and are not counted.

    Equivalent to R's ``p.adjust(p, "holm")``, the default of ``pairwise.t.test`` and
    ``pairwise.wilcox.test``: the i-th smallest of m p-values is multiplied by m - i + 1,
    then made monotone and capped at 1. scipy has no Holm adjustment.
    """
    pvalues = np.asarray(pvalues, dtype=float)
    adjusted = np.full(pvalues.shape, np.nan)
    present = np.flatnonzero(~np.isnan(pvalues))
    if present.size:
        order = present[np.argsort(pvalues[present], kind="stable")]
        multipliers = present.size - np.arange(present.size)
        adjusted[order] = np.minimum(1.0, np.maximum.accumulate(multipliers * pvalues[order]))
    return adjusted
