"""R's base and stats functions (fibroskin.deseq2.r_stats) against R's own output."""

from __future__ import annotations

import numpy as np
import pytest

from fibroskin.deseq2.dispersion_prior import BREAKS, SPAN
from fibroskin.deseq2.r_stats import (
    r_hist_density,
    r_loess_1d,
    r_lowess,
    r_p_adjust_bh,
    r_quantile_type7,
    r_seq_length_out,
)


def test_r_lowess_matches_r_output():
    # R: lowess(1:10, c(2,4,3,6,5,8,7,10,9,20), f = 1/2)$y (9 decimals)
    x = np.arange(1.0, 11.0)
    y = np.array([2, 4, 3, 6, 5, 8, 7, 10, 9, 20], dtype=float)
    expected = [2.287396884, 3.169721026, 4.152120654, 4.854933645, 6.145245957,
                6.854889276, 8.154400363, 9.526068707, 14.803207661, 19.483632229]
    np.testing.assert_allclose(r_lowess(x, y, f=0.5), expected, atol=1e-8)


def test_r_lowess_ties_and_small_span():
    # span of 2 points reproduces the data; tied x share the mean of their y
    x = np.array([1, 2, 2, 3, 5, 8, 8, 9, 12, 13, 20], dtype=float)
    y = np.array([1, 3, 2, 5, 4, 9, 7, 8, 15, 11, 30], dtype=float)
    expected = [1, 2.5, 2.5, 5, 4, 8, 8, 8, 15, 11, 30]
    np.testing.assert_allclose(r_lowess(x, y, f=0.2), expected, atol=1e-8)


def test_r_lowess_reproduces_a_line():
    # integer x keeps residuals exactly representable; on rounding-noise residuals the
    # robustness weights of clowess are noise too (in R as well)
    x = np.arange(50.0)
    np.testing.assert_allclose(r_lowess(x, 3 * x - 1, f=0.2), 3 * x - 1, atol=1e-9)


def test_r_seq_and_quantile():
    theta = r_seq_length_out(0.1, 0.95, 50)
    assert theta[0] == 0.1 and theta[-1] == 0.95 and theta.size == 50
    values = np.array([5.0, 1.0, 3.0, 2.0, 4.0])
    # R: quantile(c(5,1,3,2,4), c(0, .1, .5, .95, 1)) -> 1, 1.4, 3, 4.8, 5
    np.testing.assert_allclose(
        r_quantile_type7(values, np.array([0, 0.1, 0.5, 0.95, 1])), [1, 1.4, 3, 4.8, 5]
    )


def test_bh_matches_p_adjust_and_ignores_nan():
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5])
    # R: p.adjust(c(0.01, NA, 0.04, 0.03, 0.5), "BH") -> 0.04 NA 0.0533 0.0533 0.5
    out = r_p_adjust_bh(p)
    np.testing.assert_allclose(out[[0, 2, 3, 4]], [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    assert np.isnan(out[1])


def test_hist_density_bins_are_right_closed_with_rs_fuzz():
    # 0.5 is a break: (0, 0.5] holds it. 0.5 + 1e-8 is inside R's fuzz (5e-8), so it
    # stays there too; 0.5 + 1e-6 is past it.
    density = r_hist_density(np.array([0.5, 0.5 + 1e-8, 0.5 + 1e-6, -9.99]), BREAKS)
    counts = density * 4 * 0.5
    assert counts[BREAKS[:-1].tolist().index(0.0)] == pytest.approx(2)
    assert counts[BREAKS[:-1].tolist().index(0.5)] == pytest.approx(1)
    assert counts[0] == pytest.approx(1)
    assert density.sum() * 0.5 == pytest.approx(1)


def test_loess_reproduces_a_quadratic_exactly():
    x = np.linspace(0, 8, 200)
    y = 0.3 * x**2 - 2 * x + 1
    fine = np.linspace(0, 8, 1000)
    np.testing.assert_allclose(r_loess_1d(x, y, fine, span=SPAN), 0.3 * fine**2 - 2 * fine + 1, atol=1e-10)


def test_loess_on_noisy_data_is_smooth_and_local():
    rng = np.random.default_rng(3)
    x = np.linspace(0, 8, 200)
    y = np.sin(x) + rng.normal(0, 0.05, x.size)
    fitted = r_loess_1d(x, y, x, span=SPAN)
    assert np.abs(fitted - np.sin(x)).max() < 0.05
    with pytest.raises(ValueError, match="distinct"):
        r_loess_1d(np.array([0.0, 0.0, 1.0]), np.zeros(3), np.array([0.5]), span=SPAN)
