"""Independent filtering: R DESeq2's ``pvalueAdjustment()`` in ``results()``, reproduced exactly.

R's ``DESeq2::results()`` adjusts p-values in ``pvalueAdjustment()``:

1. filter statistic = ``baseMean``; ``lowerQuantile = mean(filter == 0)``,
   ``upperQuantile = 0.95`` (or 1 if at least 95% of genes have ``baseMean`` 0);
   ``theta = seq(lowerQuantile, upperQuantile, length = 50)``;
2. ``genefilter::filtered_p``: for each ``theta``, genes with
   ``filter >= quantile(filter, theta)`` (type-7 quantile) are BH-adjusted among
   themselves (``p.adjust`` drops NA p-values, so ``n`` = non-NA p-values kept);
   everything else is NA;
3. ``numRej`` = rejections at ``alpha`` per ``theta``; ``lo.fit = lowess(numRej ~ theta,
   f = 1/5)`` (R's ``stats::lowess``, i.e. the ``clowess`` C routine with the default
   ``iter = 3`` and ``delta = 0.01 * diff(range(theta))``);
4. if ``max(numRej) <= 10`` take the first theta; otherwise
   ``thresh = max(lo.fit$y) - sqrt(mean(residual^2))`` with residuals taken over the
   thetas with ``numRej > 0``, and take the first theta with ``numRej > thresh``.

pydeseq2 0.5.4 (``DeseqStats._independent_filtering``) follows the same outline but uses
its own ``lowess`` (a different smoother: other neighbourhood size, no interpolation
``delta``, different robustness scale), which moves the chosen theta; on pasilla that
alone makes 475 genes non-NA that R sets to NA. Here ``lowess`` is a line-for-line port
of ``clowess``, quantiles use R's type-7 formula, ``theta`` uses R's ``seq`` arithmetic,
and BH uses ``p.adjust``'s arithmetic (all in :mod:`fibroskin.deseq2.r_stats`), so the
chosen threshold is R's. :class:`fibroskin.deseq2.results.RFaithfulDeseqStats` applies it
in pydeseq2's ``DeseqStats``.

Cook's distance and all-zero genes (checked against R DESeq2 1.46 ``results()``)
------------------------------------------------------------------------------------
* All-zero genes: R reports baseMean 0 and NA for LFC/p-value/padj. pydeseq2 gives
  NaN p-values for them too, and NaN p-values never enter BH, so padj is NA as in R.
  Their ``baseMean == 0`` counts in ``lowerQuantile`` in both.
* Cook's outliers: both set the p-value of a gene to NA when its maximum Cook's
  distance over samples in cells with >= 3 replicates exceeds
  ``qf(0.99, p, m - p)``, before filtering. Departure kept: R applies the "three or
  more counts larger than the outlier count -> not an outlier" rescue only for designs
  with one two-level factor; pydeseq2 applies it for every design. For the two-group
  designs used in this project the two agree. Outlier replacement and refitting
  happens in both only when a cell has >= 7 replicates (``minReplicates = 7``).
* After outlier replacement R recomputes ``baseMean`` of refitted genes from the
  replaced counts; so does pydeseq2 (``_normed_means`` of the refitted genes), and this
  module filters on ``DeseqStats.base_mean``, i.e. on that baseMean, as R does.

Significance level: ``alpha`` is R's ``results(alpha=)``, the FDR level whose number of
rejections the filter maximises, and the level at which calls are read. R's default is
0.1; ``padj`` depends on it (:func:`fibroskin.rnaseq.test_contrast` documents the
workflow's use).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fibroskin.deseq2.r_stats import r_lowess, r_p_adjust_bh, r_quantile_type7, r_seq_length_out

NUM_THETA = 50
LOWESS_SPAN = 1 / 5
MIN_REJECTIONS_TO_FILTER = 10


def filtered_bh(filter_stat: np.ndarray, pvalue: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``genefilter::filtered_p(filter, test, theta, method = "BH")``.

    Parameters
    ----------
    filter_stat : ndarray
        ``(genes,)`` filter statistic (baseMean).
    pvalue : ndarray
        ``(genes,)`` p-values, NaN allowed.
    theta : ndarray
        ``(k,)`` quantile levels.

    Returns
    -------
    ndarray
        ``(genes, k)`` adjusted p-values, NaN for filtered-out genes.
    """
    cutoffs = r_quantile_type7(filter_stat, theta)
    result = np.full((filter_stat.size, theta.size), np.nan)
    for k, cutoff in enumerate(cutoffs):
        use = filter_stat >= cutoff
        if use.any():
            result[use, k] = r_p_adjust_bh(pvalue[use])
    return result


def choose_filter_theta(theta: np.ndarray, num_rejections: np.ndarray) -> int:
    """Index of the theta R's ``pvalueAdjustment`` picks from the rejection curve.

    Parameters
    ----------
    theta : ndarray
        Quantile levels.
    num_rejections : ndarray
        Rejections at each level.

    Returns
    -------
    int
        0-based index into ``theta``.
    """
    fit = r_lowess(theta, num_rejections.astype(float), f=LOWESS_SPAN)
    if num_rejections.max() <= MIN_REJECTIONS_TO_FILTER:
        return 0
    positive = num_rejections > 0
    residual = num_rejections[positive] - fit[positive] if positive.any() else np.zeros(1)
    thresh = fit.max() - math.sqrt(float(np.mean(residual**2)))
    above = np.flatnonzero(num_rejections > thresh)
    return int(above[0]) if above.size else 0


def independent_filtering(
    base_mean: np.ndarray | pd.Series,
    pvalue: np.ndarray | pd.Series,
    alpha: float = 0.1,
) -> np.ndarray | pd.Series:
    """R DESeq2 ``results()`` adjusted p-values with independent filtering on baseMean.

    Parameters
    ----------
    base_mean : ndarray or Series
        Mean of normalised counts per gene.
    pvalue : ndarray or Series
        Wald p-values, NaN where R would report NA (Cook's outliers, all-zero genes).
    alpha : float
        FDR level the filter is optimised for (R's ``alpha``; DESeq2's default 0.1,
        pydeseq2's default 0.05 -- pass the one you test at).

    Returns
    -------
    ndarray or Series
        padj, NaN for filtered genes; a Series with ``pvalue``'s index if a Series was
        given.
    """
    index = pvalue.index if isinstance(pvalue, pd.Series) else None
    filter_stat = np.asarray(base_mean, dtype=float)
    pvals = np.asarray(pvalue, dtype=float)
    if filter_stat.shape != pvals.shape:
        raise ValueError("base_mean and pvalue must have the same length")
    lower = float(np.mean(filter_stat == 0))
    upper = 0.95 if lower < 0.95 else 1.0
    theta = r_seq_length_out(lower, upper, NUM_THETA)
    filtered = filtered_bh(filter_stat, pvals, theta)
    num_rej = np.sum(filtered < alpha, axis=0)  # NaN compares False == na.rm
    padj = filtered[:, choose_filter_theta(theta, num_rej)]
    return pd.Series(padj, index=index, name="padj") if index is not None else padj
