"""Gene-wise dispersions: R DESeq2's ``estimateDispersionsGeneEst``.

The starting values (``roughDisp`` from a linear model on normalised counts, the moments
estimate, and ``linearModelMu`` as the means) come first; then R's line search
(:func:`fibroskin.deseq2.dispersion_line_search.r_fit_disp`) from the smaller of the
two, R's "no increase" rule and grid fallback. pydeseq2's moments estimate
(``fit_moments_dispersions``) is R's and is used as it is.
"""

from __future__ import annotations

import math

import numpy as np

from fibroskin.deseq2.dispersion_line_search import R_DISP_MAXIT, r_fit_disp, r_fit_disp_grid
from fibroskin.deseq2.r_math import c_exp, c_log
from fibroskin.deseq2.r_stats import (
    r_matprod,
    r_mean,
    r_qr_q_and_r_inverse,
    r_row_means,
    r_row_sums,
    r_row_vars,
)


def linear_model_mu(
    counts: np.ndarray, size_factors: np.ndarray, design_matrix: np.ndarray, min_mu: float
) -> np.ndarray:
    """R's ``linearModelMu``: means from a least-squares fit of the normalised counts.

    Parameters
    ----------
    counts : ndarray
        ``(n, genes)`` counts.
    size_factors : ndarray
        ``(n,)``.
    design_matrix : ndarray
        ``(n, p)``.
    min_mu : float
        Lower bound of the means.

    Returns
    -------
    ndarray
        ``(n, genes)`` means.
    """
    normed = counts / size_factors[:, None]
    coef = np.linalg.lstsq(design_matrix, normed, rcond=None)[0]
    mu_hat = size_factors[:, None] * (design_matrix @ coef)
    return np.maximum(mu_hat, min_mu)


def rough_dispersions(normed_counts: np.ndarray, design_matrix: np.ndarray) -> np.ndarray:
    """R's ``roughDispEstimate``: method-of-moments dispersion of a linear model's residuals.

    Parameters
    ----------
    normed_counts : ndarray
        ``(n, genes)`` normalised counts.
    design_matrix : ndarray
        ``(n, p)``.

    Returns
    -------
    ndarray
        ``(genes,)`` non-negative estimates.
    """
    design_matrix = np.asarray(design_matrix, dtype=float)
    num_samples, num_vars = design_matrix.shape
    if num_samples == num_vars:
        raise ValueError(
            "The number of samples and the number of design variables are "
            "equal, i.e., there are no replicates to estimate the "
            "dispersion. Please use a design with fewer variables."
        )
    coef = np.linalg.lstsq(design_matrix, normed_counts, rcond=None)[0]
    y_hat = np.maximum(design_matrix @ coef, 1.0)
    alpha_rde = (
        ((normed_counts - y_hat) ** 2 - y_hat) / ((num_samples - num_vars) * y_hat**2)
    ).sum(axis=0)
    return np.maximum(alpha_rde, 0.0)


def r_genewise_dispersions(
    counts: np.ndarray,
    mu: np.ndarray,
    design_matrix: np.ndarray,
    alpha_init: np.ndarray,
    min_disp: float,
    max_disp: float,
) -> tuple[np.ndarray, np.ndarray]:
    """R DESeq2's ``estimateDispersionsGeneEst`` after ``mu`` (``niter = 1``).

    One :func:`~fibroskin.deseq2.dispersion_line_search.r_fit_disp` from ``alpha_init``
    without prior; a gene whose log posterior did not rise by more than a millionth keeps
    ``alpha_init``; genes whose search stopped after one proposal or at ``maxit`` and
    whose estimate exceeds ``10 * min_disp`` are re-estimated on R's grid; then clipped
    to ``[min_disp, max_disp]``.

    Parameters
    ----------
    counts, mu : ndarray
        ``(genes, n)``; ``mu`` already bounded below by ``min_mu``.
    design_matrix : ndarray
        ``(n, p)``.
    alpha_init : ndarray
        ``(genes,)`` starting dispersions (``pmin(roughDisp, momentsDisp)`` bounded to
        ``[min_disp, max_disp]``).
    min_disp, max_disp : float
        Bounds (R: ``minDisp``, ``max(10, ncol)``).

    Returns
    -------
    dispersions : ndarray
        ``(genes,)``.
    search : dict
        :func:`~fibroskin.deseq2.dispersion_line_search.r_fit_disp`'s record of the line
        search (``iter`` is R's ``dispGeneIter``).
    """
    alpha_init = np.clip(np.asarray(alpha_init, dtype=float), min_disp, max_disp)
    fit = r_fit_disp(counts, mu, design_matrix, c_log(alpha_init), math.log(min_disp / 10))
    estimate = np.minimum(c_exp(fit["log_alpha"]), max_disp)
    initial_lp, last_lp = fit["initial_lp"], fit["last_lp"]
    no_increase = last_lp < initial_lp + np.abs(initial_lp) / 1e6
    estimate[no_increase] = alpha_init[no_increase]
    converged = (fit["iter"] < R_DISP_MAXIT) & (fit["iter"] != 1)
    refit = ~converged & (estimate > min_disp * 10)
    if refit.any():
        estimate[refit] = r_fit_disp_grid(counts[refit], mu[refit], design_matrix)
    return np.clip(estimate, min_disp, max_disp), fit


def r_linear_model_mu(normed_counts: np.ndarray, design_matrix: np.ndarray) -> np.ndarray:
    """R's ``linearModelMu``: ``(y %*% Q) %*% t(x %*% Rinv)`` with R's QR and ``%*%``.

    Parameters
    ----------
    normed_counts : ndarray
        ``(genes, n)`` normalised counts (R's orientation).
    design_matrix : ndarray
        ``(n, p)``, full column rank.

    Returns
    -------
    ndarray
        ``(genes, n)`` fitted normalised means.
    """
    q, r_inverse = r_qr_q_and_r_inverse(design_matrix)
    return r_matprod(r_matprod(normed_counts, q), r_matprod(design_matrix, r_inverse).T)


def r_rough_dispersions(normed_counts: np.ndarray, design_matrix: np.ndarray) -> np.ndarray:
    """R's ``roughDispEstimate`` with R's arithmetic (``rowSums`` in ``long double``).

    Parameters
    ----------
    normed_counts : ndarray
        ``(genes, n)``.
    design_matrix : ndarray
        ``(n, p)``.

    Returns
    -------
    ndarray
        ``(genes,)``.
    """
    num_samples, num_vars = design_matrix.shape
    if num_samples == num_vars:
        raise ValueError(
            "The number of samples and the number of design variables are "
            "equal, i.e., there are no replicates to estimate the "
            "dispersion. Please use a design with fewer variables."
        )
    mu = np.maximum(1.0, r_linear_model_mu(normed_counts, design_matrix))
    residual = normed_counts - mu
    estimate = r_row_sums(((residual * residual) - mu) / (mu * mu)) / (num_samples - num_vars)
    return np.maximum(estimate, 0.0)


def r_moments_dispersions(normed_counts: np.ndarray, size_factors: np.ndarray) -> np.ndarray:
    """R's ``momentsDispEstimate``: ``(variance - mean(1/sf) * mean) / mean^2``.

    Means by ``rowMeans`` (``long double``), variances by ``matrixStats::rowVars``.

    Parameters
    ----------
    normed_counts : ndarray
        ``(genes, n)``.
    size_factors : ndarray
        ``(n,)``.

    Returns
    -------
    ndarray
        ``(genes,)``.
    """
    xim = r_mean(1 / np.asarray(size_factors, dtype=float))
    base_mean = r_row_means(normed_counts)
    base_var = r_row_vars(normed_counts)
    return (base_var - xim * base_mean) / (base_mean * base_mean)


def r_estimate_genewise(
    counts: np.ndarray,
    normalization_factors: np.ndarray,
    design_matrix: np.ndarray,
    min_disp: float,
    max_disp: float,
    min_mu: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """R's ``estimateDispersionsGeneEst`` (``niter = 1``) on genes with a non-zero count.

    Starting values ``pmin(roughDisp, momentsDisp)`` bounded to ``[min_disp, max_disp]``;
    means from ``linearModelMu`` when the design has one group per coefficient, else from
    ``fitNbinomGLMs`` at the starting dispersions; means bounded below by ``min_mu``; then
    :func:`r_genewise_dispersions`. (The main fit reaches the same steps through pydeseq2's
    ``fit_genewise_dispersions``; the Cook's refit calls this directly.)

    Parameters
    ----------
    counts : ndarray
        ``(genes, n)``.
    normalization_factors : ndarray
        ``(genes, n)``, or ``(n,)`` size factors.
    design_matrix : ndarray
        ``(n, p)``.
    min_disp, max_disp, min_mu : float
        R's ``minDisp``, ``max(10, ncol)``, ``minmu``.

    Returns
    -------
    dispersions : ndarray
        ``(genes,)`` gene-wise dispersions.
    mu : ndarray
        ``(genes, n)`` the bounded means the line search used (R's ``assays(dds)$mu``).
    """
    from fibroskin.deseq2.nbinom_glm import fit_nbinom_glms

    counts = np.asarray(counts, dtype=float)
    x = np.asarray(design_matrix, dtype=float)
    nf = np.broadcast_to(np.asarray(normalization_factors, dtype=float), counts.shape)
    normed = counts / nf
    size_factors = np.asarray(normalization_factors, dtype=float)
    if size_factors.ndim == 1:
        moments = r_moments_dispersions(normed, size_factors)
    else:
        # momentsDispEstimate with normalization factors: xim = mean(1 / colMeans(nf))
        moments = r_moments_dispersions(normed, r_row_means(nf.T))
    alpha_init = np.clip(np.minimum(r_rough_dispersions(normed, x), moments), min_disp, max_disp)
    groups = len(np.unique(x, axis=0))
    if groups == x.shape[1]:
        mu = r_linear_model_mu(normed, x) * nf
    else:
        mu = fit_nbinom_glms(counts, nf, x, alpha_init, min_mu=min_mu).mu
    mu = np.maximum(mu, min_mu)
    dispersions, _ = r_genewise_dispersions(counts, mu, x, alpha_init, min_disp, max_disp)
    return dispersions, mu
