"""Size factors and baseMean (fibroskin.deseq2.size_factors) against R DESeq2 1.38.3, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from fibroskin.deseq2.size_factors import r_size_factors

from fits import airway_fit, pasilla_fit
from r_reference import r_stages, r_summary


@pytest.mark.parametrize("data_set", ["pasilla", "airway"])
def test_size_factors_and_base_means_are_rs(data_set):
    dds = pasilla_fit() if data_set == "pasilla" else airway_fit()
    expected = r_summary(data_set)[[f"size_factor_{sample}" for sample in dds.obs_names]].to_numpy()
    np.testing.assert_array_equal(dds.obs["size_factors"].to_numpy(), expected)
    # baseMean is R's rowMeans of the normalised counts (long double sums)
    r = r_stages(data_set).loc[dds.var_names]
    np.testing.assert_array_equal(dds.var["_normed_means"].to_numpy(float), r["baseMean"].to_numpy())


def test_median_of_ratios_on_a_small_table():
    counts = np.array([[10, 100, 0, 30], [20, 200, 5, 60], [40, 400, 5, 120]], dtype=float)
    # genes 1, 2 and 4 have no zero; each sample is a multiple of the geometric mean
    np.testing.assert_allclose(r_size_factors(counts), [0.5, 1.0, 2.0], rtol=1e-15)
    with pytest.raises(ValueError, match="every gene contains at least one zero"):
        r_size_factors(np.array([[0, 1], [1, 0]], dtype=float))


def test_size_factors_by_blocks_are_those_of_the_whole_matrix():
    """Logs taken a block of genes at a time (no float copy of the counts) give the same bits, in either memory order."""
    from pydeseq2.preprocessing import deseq2_norm_fit

    from fibroskin.deseq2.dataset import _norm_fit_by_blocks
    from fibroskin.deseq2.r_math import c_exp, c_log
    from fibroskin.deseq2.r_stats import r_row_means

    rng = np.random.default_rng(3)
    for samples, genes in ((7, 3), (300, 2 * (2**18 // 300) + 1), (2000, 400)):
        counts = rng.negative_binomial(3, 0.05, size=(samples, genes)).astype(np.int64)
        counts[0, 0] = 0
        for layout in (counts, np.asfortranarray(counts)):
            whole = np.asarray(layout, dtype=float)
            logmeans, kept = deseq2_norm_fit(whole)
            ours = _norm_fit_by_blocks(layout)
            np.testing.assert_array_equal(ours[0], logmeans)
            np.testing.assert_array_equal(ours[1], kept)
            # R's arithmetic on the whole float matrix, as before the blocks
            with np.errstate(divide="ignore"):
                log_counts = c_log(whole)
            log_geo_means = r_row_means(log_counts.T)
            usable = np.isfinite(log_geo_means)
            expected = [c_exp(np.median(log_counts[s, usable & (whole[s] > 0)] - log_geo_means[usable & (whole[s] > 0)]))
                        for s in range(samples)]
            np.testing.assert_array_equal(r_size_factors(layout), expected)
