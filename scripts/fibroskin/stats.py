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


def mannwhitney_pvalue(reference: np.ndarray, target: np.ndarray) -> float:
    """Two-sided Mann-Whitney U p-value, exact for small groups without ties.

    scipy's ``method="auto"`` uses the exact null distribution when both groups have at
    most 8 values and there are no ties, the normal approximation otherwise; with 6 vs 6
    samples (the study's design) the smallest attainable exact p-value is 0.0022.
    """
    return float(stats.mannwhitneyu(target, reference, alternative="two-sided", method="auto").pvalue)


def paired_t_pvalue(reference: np.ndarray, target: np.ndarray) -> float:
    """Two-sided paired t-test p-value; arrays aligned by pair."""
    return float(stats.ttest_rel(target, reference).pvalue)


def wilcoxon_pvalue(reference: np.ndarray, target: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value on paired differences (exact when small)."""
    return float(stats.wilcoxon(target - reference, alternative="two-sided").pvalue)


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
