"""GLM coefficients by IRLS for pydeseq2's estimators (``VectorizedInference(mode="exact")``), all genes at once.

All genes of a chunk iterate together; each gene is frozen as soon as its own deviance
criterion is met, so every gene runs exactly the iterations it would run alone. The
weighted normal equations are solved as stacked ``(genes, p, p)`` systems, with pydeseq2's
``irls_solver`` rules. Genes whose IRLS diverges (``|beta| > max_beta`` or ``maxiter``
reached) are reported as not converged; the backend
(:class:`fibroskin.deseq2.inference.VectorizedInference`) hands them to pydeseq2's own
per-gene solver, so their answers equal the stock backend's. R's ``fitBeta`` (``mode="r"``)
is :mod:`fibroskin.deseq2.nbinom_glm`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from fibroskin.deseq2.arrays import batched_inv, hat_diagonals, outer_columns, weighted_gram

#: R's ridge ``lambda = 1e-6`` on the log2 scale, on the natural-log scale of the fit.
R_RIDGE = 1e-6 / np.log(2) ** 2


def irls_chunk(
    counts: np.ndarray,
    size_factors: np.ndarray,
    design_matrix: np.ndarray,
    disp: np.ndarray,
    min_mu: float,
    beta_tol: float,
    max_beta: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """IRLS for one chunk of genes.

    Parameters
    ----------
    counts : ndarray
        ``(genes, n)`` counts.
    size_factors : ndarray
        ``(n,)`` size factors, or ``(genes, n)`` normalization factors (R's
        ``normalizationFactors``: the means are ``nf * exp(x beta)``).
    design_matrix : ndarray
        ``(n, p)``.
    disp : ndarray
        ``(genes,)`` dispersions.
    min_mu : float
        Lower bound of the fitted means inside the iteration.
    beta_tol : float
        Relative deviance change at which a gene stops.
    max_beta : float
        A gene whose ``|beta|`` exceeds this has diverged.
    maxiter : int
        Iteration cap (reaching it counts as diverged).

    Returns
    -------
    beta : ndarray
        ``(genes, p)`` coefficients (natural log).
    mu : ndarray
        ``(genes, n)`` fitted means, not bounded by ``min_mu``.
    hat : ndarray
        ``(genes, n)`` leverages.
    converged : ndarray
        ``(genes,)``; False for genes that must go to the fallback solver.
    """
    num_genes, _ = counts.shape
    num_coef = design_matrix.shape[1]
    x = design_matrix
    ridge = np.eye(num_coef) * 1e-6
    # one factor per gene and sample; size factors broadcast to the same values
    normalization = np.broadcast_to(np.asarray(size_factors, dtype=float), counts.shape)
    log_sf = np.log(normalization)
    beta = irls_start(counts, normalization, x)

    size = 1.0 / disp[:, None]
    n = counts.shape[1]
    # mu-independent part of nb_nll, constant over iterations
    nll_const = n * size[:, 0] * np.log(disp) - (
        gammaln(counts + size) - gammaln(counts + 1.0) - gammaln(size)
    ).sum(axis=1)

    def deviance(mu_: np.ndarray, rows: np.ndarray) -> np.ndarray:
        c_, s_ = counts[rows], size[rows]
        nll = nll_const[rows] + (
            (c_ + s_) * np.log(s_ + mu_) - c_ * np.log(mu_)
        ).sum(axis=1)
        return -2.0 * nll

    mu = np.maximum(normalization * np.exp(beta @ x.T), min_mu)
    dev = np.full(num_genes, 1000.0)
    active = np.ones(num_genes, dtype=bool)
    diverged = np.zeros(num_genes, dtype=bool)
    outer_x = outer_columns(x)
    for it in range(1, maxiter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        mu_a = mu[idx]
        w = mu_a / (1.0 + mu_a * disp[idx, None])
        z = np.log(mu_a) - log_sf[idx] + (counts[idx] - mu_a) / mu_a
        gram = (w @ outer_x).reshape(-1, num_coef, num_coef) + ridge
        rhs = (w * z) @ x
        beta_hat = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
        blown = (np.abs(beta_hat) > max_beta).any(axis=1) | (it >= maxiter)
        diverged[idx[blown]] = True
        active[idx[blown]] = False
        keep = ~blown
        idx, beta_hat = idx[keep], beta_hat[keep]
        beta[idx] = beta_hat
        mu[idx] = np.maximum(normalization[idx] * np.exp(beta_hat @ x.T), min_mu)
        old = dev[idx]
        dev[idx] = deviance(mu[idx], idx)
        ratio = np.abs(dev[idx] - old) / (np.abs(dev[idx]) + 0.1)
        # NaN ratios (non-finite dispersion) never satisfy "> tol": stop them too
        active[idx[~(ratio > beta_tol)]] = False

    with np.errstate(over="ignore", invalid="ignore"):
        w = mu / (1.0 + mu * disp[:, None])
    inv_gram = batched_inv(weighted_gram(w, x) + ridge)
    hat = hat_diagonals(w, x, inv_gram)
    mu_unthresholded = normalization * np.exp(beta @ x.T)
    return beta, mu_unthresholded, hat, ~diverged


def irls_start(counts: np.ndarray, factors: np.ndarray, design_matrix: np.ndarray) -> np.ndarray:
    """IRLS's starting coefficients (natural log), as R's ``fitNbinomGLMs`` sets ``beta_mat``.

    For a full-rank design the least-squares fit of ``log(counts / nf + 0.1)``; otherwise
    the intercept at the log mean of the normalized counts and 0 elsewhere.

    Parameters
    ----------
    counts, factors : ndarray
        ``(genes, n)`` counts and their size or normalization factors.
    design_matrix : ndarray
        ``(n, p)``.

    Returns
    -------
    ndarray
        ``(genes, p)``.
    """
    x = np.asarray(design_matrix, dtype=float)
    num_coef = x.shape[1]
    if np.linalg.matrix_rank(x) == num_coef:
        q, r = np.linalg.qr(x)
        y = np.log(counts / factors + 0.1)
        return np.linalg.solve(r, q.T @ y.T).T
    beta = np.zeros((counts.shape[0], num_coef))
    with np.errstate(divide="ignore"):
        beta[:, 0] = np.log(counts / factors).mean(axis=1)
    return beta
