"""The dispersion prior: R DESeq2's ``estimateDispersionsPriorVar``.

The prior of the MAP step is normal on ``log(alpha)`` around the trend. Its variance is
the squared MAD of the log residuals ``log(gene-wise) - log(trend)`` (over genes whose
gene-wise estimate is at least ``100 * minDisp``, R's MAD constant 1.4826) less the
sampling variance ``trigamma(df / 2)``, at least 0.25 (:func:`r_dispersion_prior_variance`).

With few residual degrees of freedom the log gene-wise dispersion estimates scatter
asymmetrically around the trend, and the MAD estimate of their variance is poor. R DESeq2's
``estimateDispersionsPriorVar`` then finds the prior variance by simulation: for each of
200 candidate variances ``v`` on ``[0, 8]`` it draws 10,000 values of
``log(chisq_df / df) + N(0, v)`` (``set.seed(2)``), compares their histogram with that
of the observed residuals ``log(gene-wise) - log(trend)`` by Kullback-Leibler divergence,
smooths the 200 divergences with ``loess(span = 0.2)`` and takes the variance of least
smoothed divergence on a 1,000-point grid (at least 0.25). pydeseq2 0.5 skips this and
uses ``max(MAD^2 - trigamma(df / 2), 0.25)`` for every design, which on pasilla with 3
treated and 2 untreated samples gives 0.25 against R's 0.52 and changes 15% of the calls.

:func:`r_prior_variance_small_df` reproduces R's computation to the last bit: R's simulated
histograms (data-independent, so read from a table made by
:mod:`fibroskin.deseq2.prior_simulation` from R's random numbers), R's ``hist`` binning of
the residuals (including its 1e-7 fuzz of the breaks) and R's ``loess`` surface (local quadratic fits at the vertices of
a k-d tree, joined by cubic Hermite interpolation, as ``surface = "interpolate"`` does),
both in :mod:`fibroskin.deseq2.r_stats`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from fibroskin.deseq2.r_math import c_log, trigamma
from fibroskin.deseq2.prior_simulation import BREAKS, N_CANDIDATES, histogram_table
from fibroskin.deseq2.r_stats import r_hist_density, r_loess_1d, r_seq_length_out

#: Fine grid and smoothing span of the divergences.
N_FINE = 1000
SPAN = 0.2
MIN_PRIOR_VARIANCE = 0.25
#: R's ``mad()`` constant (pydeseq2 uses ``1 / qnorm(0.75)`` = 1.482602...).
MAD_CONSTANT = 1.4826


def kl_divergences(residuals: NDArray[np.float64], residual_df: int) -> NDArray[np.float64]:
    """R's divergence of the residual histogram from each candidate's simulated histogram.

    The simulated histograms do not depend on the data: they are read from the table that
    :mod:`fibroskin.deseq2.prior_simulation` makes (R's draws after ``set.seed(2)``).

    Parameters
    ----------
    residuals : ndarray
        ``log(gene-wise dispersion) - log(trend)`` of the genes whose gene-wise estimate
        is at least 100 times the minimum dispersion.
    residual_df : int
        Samples minus model coefficients (1 to 3).

    Returns
    -------
    ndarray
        One Kullback-Leibler divergence per candidate variance, in R's order.
    """
    inside = residuals[np.isfinite(residuals) & (residuals > BREAKS[0]) & (residuals < BREAKS[-1])]
    observed = r_hist_density(inside, BREAKS)
    simulated = histogram_table()[residual_df - 1]
    widths = np.diff(BREAKS)
    divergences = np.empty(simulated.shape[0])
    for index, counts in enumerate(simulated):
        density = counts / (counts.sum() * widths)  # hist()'s density, as r_hist_density
        both = np.concatenate([observed, density])
        small = both[both > 0].min()
        divergences[index] = np.sum(observed * (np.log(observed + small) - np.log(density + small)))
    return divergences


def r_prior_variance_small_df(residuals: NDArray[np.float64], residual_df: int) -> float:
    """R DESeq2's dispersion prior variance when ``1 <= residual_df <= 3``.

    Parameters
    ----------
    residuals : ndarray
        ``log(gene-wise dispersion) - log(trend)`` of the genes whose gene-wise estimate
        is at least 100 times the minimum dispersion (R's ``aboveMinDisp``).
    residual_df : int
        Samples minus model coefficients.

    Returns
    -------
    float
        The variance of least smoothed divergence, at least 0.25.
    """
    if not 1 <= residual_df <= 3:
        raise ValueError(f"R simulates the prior variance only for 1 to 3 residual df, not {residual_df}")
    candidates = r_seq_length_out(0.0, 8.0, N_CANDIDATES)
    divergences = kl_divergences(np.asarray(residuals, dtype=float), residual_df)
    fine = r_seq_length_out(0.0, 8.0, N_FINE)
    smoothed = r_loess_1d(candidates, divergences, fine, span=SPAN)
    return max(float(fine[np.argmin(smoothed)]), MIN_PRIOR_VARIANCE)


def r_dispersion_prior_variance(
    genewise: NDArray[np.float64],
    fitted: NDArray[np.float64],
    min_disp: float,
    residual_df: int,
) -> tuple[np.float64, np.float64]:
    """R DESeq2's ``varLogDispEsts`` and prior variance of log dispersion.

    R's ``mad()`` scales by the constant 1.4826; pydeseq2 by ``1/qnorm(0.75)`` =
    1.482602..., which makes the squared MAD and the prior variance 3e-6 relatively
    larger than R's. With 1 to 3 residual degrees of freedom R matches the residual
    distribution by simulation (:func:`r_prior_variance_small_df`); pydeseq2 uses
    ``max(MAD^2 - trigamma(df/2), 0.25)`` there too. Logs and ``trigamma`` are R's
    (:mod:`fibroskin.deseq2.r_math`), so the variance is R's to the last bit.

    Parameters
    ----------
    genewise, fitted : ndarray
        Gene-wise and trend dispersions of the genes with a non-zero count.
    min_disp : float
        Lower dispersion bound; only genes with ``genewise >= 100 * min_disp`` count.
    residual_df : int
        Samples minus model coefficients.

    Returns
    -------
    squared_logres : numpy.float64
        R's ``varLogDispEsts`` (squared MAD of the log residuals).
    prior_disp_var : numpy.float64
        R's ``dispPriorVar``.
    """
    residuals = (c_log(genewise) - c_log(fitted))[genewise >= 100 * min_disp]
    mad = MAD_CONSTANT * np.median(np.abs(residuals - np.median(residuals)))
    squared_logres = mad**2
    if 1 <= residual_df <= 3:
        return squared_logres, np.float64(r_prior_variance_small_df(residuals, residual_df))
    return squared_logres, np.maximum(squared_logres - trigamma(residual_df / 2), MIN_PRIOR_VARIANCE)
