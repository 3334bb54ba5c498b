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
    counts = np.asarray(counts)
    num_samples, num_genes = counts.shape
    # the logs of a block of genes at a time (no samples x genes float copy): a gene's
    # mean log is summed over its samples in order whatever the block
    log_geo_means = np.empty(num_genes)
    block = max(2, 2**18 // max(1, num_samples))
    with np.errstate(divide="ignore"):
        for start in range(0, num_genes, block):
            genes = slice(start, min(start + block, num_genes))
            log_geo_means[genes] = r_row_means(c_log(np.asarray(counts[:, genes], dtype=float)).T)
    usable = np.isfinite(log_geo_means)
    if not usable.any():
        raise ValueError("every gene contains at least one zero, cannot compute log geometric means")
    factors = np.empty(num_samples)
    for sample in range(num_samples):
        row = np.asarray(counts[sample], dtype=float)
        take = usable & (row > 0)
        factors[sample] = c_exp(np.median(c_log(row[take]) - log_geo_means[take]))
    return factors


def r_normalization_factors(counts: np.ndarray, average_lengths: np.ndarray) -> np.ndarray:
    """R's normalization factors from average transcript lengths, bit for bit.

    What ``estimateSizeFactors`` computes for a data set with an ``avgTxLength`` assay
    (``DESeqDataSetFromTximport``; nf-core/differentialabundance's lengths table), in R's
    arithmetic (``rowMeans`` in ``long double``, the C library's ``log``/``exp``):

    1. ``nm = length / exp(rowMeans(log(length)))``: each gene's lengths over their
       geometric mean across samples;
    2. ``sf = estimateSizeFactorsForMatrix(counts / nm)``: median of ratios;
    3. ``nf = t(t(nm) * sf)``, then ``nf / exp(rowMeans(log(nf)))``: each gene's factors
       have geometric mean 1 across samples.

    The fitted mean of a gene in a sample is then ``nf * 2^(x beta)`` and its normalized
    count ``count / nf`` (``normalizationFactors``: R keeps no size factors).

    Parameters
    ----------
    counts : ndarray
        ``(samples, genes)`` raw counts.
    average_lengths : ndarray
        ``(samples, genes)`` average transcript lengths, all positive.

    Returns
    -------
    ndarray
        ``(samples, genes)`` normalization factors.

    Raises
    ------
    ValueError
        If a length is not positive or finite, or every gene has a zero count.
    """
    counts = np.asarray(counts, dtype=float)
    lengths = np.asarray(average_lengths, dtype=float)
    if lengths.shape != counts.shape:
        raise ValueError(f"average lengths have shape {lengths.shape}, counts {counts.shape}")
    if not (np.isfinite(lengths) & (lengths > 0)).all():
        raise ValueError("all average lengths should be positive (as DESeqDataSetFromTximport requires)")
    # R works on genes x samples: rowMeans over a gene's samples
    normalized_lengths = lengths / c_exp(r_row_means(c_log(lengths).T))[None, :]
    size_factors = r_size_factors(counts / normalized_lengths)
    factors = normalized_lengths * size_factors[:, None]
    return factors / c_exp(r_row_means(c_log(factors).T))[None, :]


def geometric_mean_factors(normalization_factors: np.ndarray) -> np.ndarray:
    """Per sample, the geometric mean of its normalization factors over genes.

    ``exp(colMeans(log(normalizationFactors)))``: what R's ``getVarianceStabilizedData``
    uses in place of size factors when a data set has only normalization factors; the
    ``size_factor`` fibroskin reports for a fit with length offsets.

    Parameters
    ----------
    normalization_factors : ndarray
        ``(samples, genes)``.

    Returns
    -------
    ndarray
        ``(samples,)``.
    """
    return c_exp(r_row_means(c_log(np.asarray(normalization_factors, dtype=float))))
