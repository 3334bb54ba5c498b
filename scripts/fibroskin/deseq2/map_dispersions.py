"""MAP dispersions: R DESeq2's ``estimateDispersionsMAP``.

R's line search (:func:`fibroskin.deseq2.dispersion_line_search.r_fit_disp`) with the
normal prior ``N(log trend, prior variance)`` on ``log(alpha)``, started from the
gene-wise estimate if it exceeds a tenth of the trend, else from the trend; grid
fallback at ``maxit``; then the dispersion-outlier rule (``outlierSD = 2``): genes whose
gene-wise estimate lies more than two prior standard deviations above the trend keep it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fibroskin.deseq2.dispersion_line_search import R_DISP_MAXIT, r_fit_disp, r_fit_disp_grid
from fibroskin.deseq2.r_math import c_exp, c_log

#: R's ``outlierSD``: dispersion outliers lie this many SDs of log residuals above the trend.
OUTLIER_SD = 2


def r_map_dispersions(
    counts: np.ndarray,
    mu: np.ndarray,
    design_matrix: np.ndarray,
    genewise: np.ndarray,
    fitted: np.ndarray,
    prior_disp_var: float,
    min_disp: float,
    max_disp: float,
) -> tuple[np.ndarray, np.ndarray]:
    """R DESeq2's MAP step of ``estimateDispersionsMAP`` (before the outlier rule).

    Starts from the gene-wise estimate if it exceeds a tenth of the trend, else from the
    trend; line search with the normal prior ``N(log trend, prior_disp_var)``; genes
    that reach ``maxit`` are re-estimated on R's grid; clipped to ``[min_disp,
    max_disp]``.

    Parameters
    ----------
    counts, mu : ndarray
        ``(genes, n)``.
    design_matrix : ndarray
        ``(n, p)``.
    genewise, fitted : ndarray
        ``(genes,)`` gene-wise and trend dispersions.
    prior_disp_var : float
        Prior variance of log dispersion.
    min_disp, max_disp : float
        Bounds.

    Returns
    -------
    dispersions : ndarray
        ``(genes,)`` MAP dispersions.
    search : dict
        :func:`~fibroskin.deseq2.dispersion_line_search.r_fit_disp`'s record of the line
        search.
    """
    genewise = np.asarray(genewise, dtype=float)
    fitted = np.asarray(fitted, dtype=float)
    start = np.where(genewise > 0.1 * fitted, genewise, fitted)
    start = np.where(np.isnan(start), fitted, start)
    prior_mean = c_log(fitted)
    fit = r_fit_disp(counts, mu, design_matrix, c_log(start), math.log(min_disp / 10),
                     prior_mean, prior_disp_var)
    estimate = c_exp(fit["log_alpha"])
    refit = ~(fit["iter"] < R_DISP_MAXIT)
    if refit.any():
        estimate[refit] = r_fit_disp_grid(counts[refit], mu[refit], design_matrix,
                                          prior_mean[refit], prior_disp_var)
    return np.clip(estimate, min_disp, max_disp), fit


def dispersion_outliers(
    genewise: np.ndarray | pd.Series,
    fitted: np.ndarray | pd.Series,
    squared_logres: float,
    outlier_sd: float = OUTLIER_SD,
) -> np.ndarray | pd.Series:
    """Genes whose gene-wise dispersion R keeps instead of the MAP estimate.

    ``log(genewise) > log(fitted) + outlier_sd * sqrt(varLogDispEsts)``, as in
    ``estimateDispersionsMAP``; NaN compares False.

    Parameters
    ----------
    genewise, fitted : ndarray or Series
        ``(genes,)`` gene-wise and trend dispersions.
    squared_logres : float
        R's ``varLogDispEsts`` (squared MAD of the log residuals).
    outlier_sd : float
        R's ``outlierSD``.

    Returns
    -------
    ndarray or Series
        ``(genes,)`` booleans (a Series if Series were given).
    """
    return c_log(genewise) > c_log(fitted) + outlier_sd * np.sqrt(squared_logres)
