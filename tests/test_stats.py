"""The tests and corrections against hand-computed values."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from fibroskin import stats


def test_welch_difference_matches_hand_computed_satterthwaite_interval():
    reference = np.array([1.0, 2.0, 3.0])
    target = np.array([4.0, 6.0, 8.0])
    # variances 1 and 4, n = 3 each: se^2 = 1/3 + 4/3; Satterthwaite df = se^4 / sum((v/n)^2 / (n-1))
    se = math.sqrt(5 / 3)
    df = (5 / 3) ** 2 / ((1 / 3) ** 2 / 2 + (4 / 3) ** 2 / 2)
    half_width = scipy_stats.t.ppf(0.975, df) * se
    estimate = stats.welch_difference(reference, target)
    assert estimate.difference == pytest.approx(4.0)
    assert estimate.ci_low == pytest.approx(4.0 - half_width)
    assert estimate.ci_high == pytest.approx(4.0 + half_width)
    t = 4.0 / se
    assert stats.welch_pvalue(reference, target) == pytest.approx(2 * scipy_stats.t.sf(t, df))


def test_mann_whitney_is_exact_for_separated_groups_of_six():
    healthy = np.arange(6.0)
    lesional = np.arange(6.0) + 10
    # only 2 of the C(12, 6) = 924 arrangements are as extreme (two-sided)
    assert stats.mannwhitney_pvalue(healthy, lesional) == pytest.approx(2 / 924)


def test_paired_t_by_hand():
    reference = np.array([1.0, 1.0, 1.0])
    target = np.array([2.0, 3.0, 4.0])
    t = 2.0 / (1.0 / math.sqrt(3))  # mean difference 2, SD 1, n 3
    assert stats.paired_t_pvalue(reference, target) == pytest.approx(2 * scipy_stats.t.sf(t, 2))
    estimate = stats.paired_difference(reference, target)
    half_width = scipy_stats.t.ppf(0.975, 2) / math.sqrt(3)
    assert (estimate.ci_low, estimate.ci_high) == pytest.approx((2 - half_width, 2 + half_width))


def test_wilcoxon_exact_all_positive_differences():
    reference = np.zeros(6)
    target = np.array([0.5, 1.1, 1.7, 2.3, 2.9, 3.5])
    assert stats.wilcoxon_pvalue(reference, target) == pytest.approx(2 / 2**6)


def test_benjamini_hochberg_by_hand_with_missing_values():
    adjusted = stats.benjamini_hochberg(np.array([0.01, 0.04, np.nan, 0.03, 0.005]))
    np.testing.assert_allclose(adjusted, [0.02, 0.04, np.nan, 0.04, 0.02])


def test_unknown_test_is_refused():
    with pytest.raises(ValueError, match="unknown test"):
        stats.two_group_pvalue("ttest", np.ones(3), np.ones(3))
