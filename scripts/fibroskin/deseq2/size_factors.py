"""Size factors: R DESeq2's ``estimateSizeFactorsForMatrix`` (median of ratios), bit for bit.

Each sample's size factor is ``exp(median(log(count) - mean log count of the gene))`` over
the genes with no zero count and a positive count in that sample. pydeseq2 computes the
same estimator; R averages the logs in ``long double`` (``rowMeans``), which moves the
size factors in the last bit, and with them every number downstream. Here the arithmetic
is R's, so the dispersion line search starts from R's inputs exactly.
"""

from __future__ import annotations

import numpy as np

from fibroskin.deseq2.r_math import c_exp, c_log
from fibroskin.deseq2.r_stats import r_row_means


def r_size_factors(counts: np.ndarray) -> np.ndarray:
    """R's median-of-ratios size factors.

    Parameters
    ----------
    counts : ndarray
        ``(samples, genes)`` raw counts.

    Returns
    -------
    ndarray
        ``(samples,)`` size factors.

    Raises
    ------
    ValueError
        If every gene has a zero count (R stops there too).
    """
    counts = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore"):
        log_counts = c_log(counts)
    log_geo_means = r_row_means(log_counts.T)
    usable = np.isfinite(log_geo_means)
    if not usable.any():
        raise ValueError("every gene contains at least one zero, cannot compute log geometric means")
    factors = np.empty(counts.shape[0])
    for sample in range(counts.shape[0]):
        take = usable & (counts[sample] > 0)
        factors[sample] = c_exp(np.median(log_counts[sample, take] - log_geo_means[take]))
    return factors
