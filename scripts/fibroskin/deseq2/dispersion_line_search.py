"""R DESeq2's dispersion line search (C++ ``fitDisp``) and grid search (``fitDispGrid``).

Both the gene-wise step (:mod:`fibroskin.deseq2.genewise_dispersions`) and the MAP step
(:mod:`fibroskin.deseq2.map_dispersions`) maximise the Cox-Reid adjusted log posterior of
``log(alpha)`` with R's Armijo line search along the gradient, stopping where one
accepted step gains less than ``dispTol = 1e-6``; genes that do not converge go to R's
two-stage grid. R stops short of the optimum on flat posteriors (by up to ~0.1 in
``log(alpha)``), and R's results are made of those stops, so this module reproduces the
steps rather than the optimum (:mod:`fibroskin.deseq2.dispersion_optimum` finds the
optimum).
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from fibroskin.deseq2.arrays import batched_inv, outer_columns
from fibroskin.deseq2.r_stats import r_seq_length_out

# R DESeq2 defaults of estimateDispersionsGeneEst / estimateDispersionsMAP
R_KAPPA_0 = 1.0
R_DISP_TOL = 1e-6
R_DISP_MAXIT = 100
_R_ARMIJO_EPSILON = 1.0e-4
_R_GRID_SIZE = 20


def r_log_posterior(
    log_alpha: np.ndarray,
    counts: np.ndarray,
    mu: np.ndarray,
    outer_x: np.ndarray,
    num_coef: int,
    log_alpha_prior_mean: np.ndarray | None = None,
    log_alpha_prior_sigmasq: float | None = None,
) -> np.ndarray:
    """Cox-Reid adjusted log posterior of ``log(alpha)``: R DESeq2's ``log_posterior``.

    Same formula and evaluation order as the C++ (``lgamma`` differences, ``-0.5 log
    det(X^T W X)`` with ``w = 1 / (1/mu + alpha)``), so that the line search takes
    R's accept/stop decisions.

    Parameters
    ----------
    log_alpha : ndarray
        ``(genes,)``.
    counts, mu : ndarray
        ``(genes, n)``.
    outer_x : ndarray
        ``(n, p*p)`` from :func:`~fibroskin.deseq2.arrays.outer_columns`.
    num_coef : int
        ``p``.
    log_alpha_prior_mean : ndarray, optional
        ``(genes,)``; with ``log_alpha_prior_sigmasq`` adds R's normal prior.
    log_alpha_prior_sigmasq : float, optional
        Prior variance.

    Returns
    -------
    ndarray
        ``(genes,)`` log posteriors.
    """
    alpha = np.exp(log_alpha)[:, None]
    w = 1.0 / (1.0 / mu + alpha)
    gram = (w @ outer_x).reshape(-1, num_coef, num_coef)
    with np.errstate(divide="ignore", invalid="ignore"):
        cr_term = -0.5 * np.log(np.linalg.det(gram))
    alpha_neg1 = 1.0 / alpha
    ll_part = (
        gammaln(counts + alpha_neg1)
        - gammaln(alpha_neg1)
        - counts * np.log(mu + alpha_neg1)
        - alpha_neg1 * np.log(1.0 + mu * alpha)
    ).sum(axis=1)
    result = ll_part + cr_term
    if log_alpha_prior_mean is not None:
        result = result - 0.5 * (log_alpha - log_alpha_prior_mean) ** 2 / log_alpha_prior_sigmasq
    return result


def r_dlog_posterior(
    log_alpha: np.ndarray,
    counts: np.ndarray,
    mu: np.ndarray,
    outer_x: np.ndarray,
    num_coef: int,
    log_alpha_prior_mean: np.ndarray | None = None,
    log_alpha_prior_sigmasq: float | None = None,
) -> np.ndarray:
    """Derivative of :func:`r_log_posterior` in ``log(alpha)``: R's ``dlog_posterior``.

    Parameters and returns as :func:`r_log_posterior`.
    """
    alpha = np.exp(log_alpha)[:, None]
    w = 1.0 / (1.0 / mu + alpha)
    gram = (w @ outer_x).reshape(-1, num_coef, num_coef)
    d_gram = -((w * w) @ outer_x).reshape(-1, num_coef, num_coef)
    cr_term = -0.5 * np.trace(batched_inv(gram) @ d_gram, axis1=1, axis2=2)
    alpha_neg1 = 1.0 / alpha
    ll_part = (1.0 / alpha[:, 0] ** 2) * (
        digamma(alpha_neg1)
        + np.log(1.0 + mu * alpha)
        - mu * alpha / (1.0 + mu * alpha)
        - digamma(counts + alpha_neg1)
        + counts / (mu + alpha_neg1)
    ).sum(axis=1)
    result = (ll_part + cr_term) * alpha[:, 0]
    if log_alpha_prior_mean is not None:
        result = result - (log_alpha - log_alpha_prior_mean) / log_alpha_prior_sigmasq
    return result


def r_fit_disp(
    counts: np.ndarray,
    mu: np.ndarray,
    design_matrix: np.ndarray,
    log_alpha: np.ndarray,
    min_log_alpha: float,
    log_alpha_prior_mean: np.ndarray | None = None,
    log_alpha_prior_sigmasq: float | None = None,
    kappa_0: float = R_KAPPA_0,
    tol: float = R_DISP_TOL,
    maxit: int = R_DISP_MAXIT,
) -> dict[str, np.ndarray]:
    """R DESeq2's ``fitDisp``: Armijo line search along the gradient, all genes at once.

    Step ``kappa * dlp`` from ``log_alpha``; a step is accepted when the log posterior
    rises by at least ``1e-4 * kappa * dlp^2``; after an accepted step ``kappa`` grows by
    10% (capped at ``kappa_0``) and is halved every fifth acceptance; a rejected step
    halves ``kappa``. A gene stops when an accepted step raises the log posterior by
    less than ``tol``, when ``log(alpha)`` falls below ``min_log_alpha``, or after
    ``maxit`` proposals. ``log(alpha)`` is confined to ``[-30, 10]``. Every gene takes
    exactly the steps the C++ loop takes for it (up to floating-point rounding).

    Parameters
    ----------
    counts, mu : ndarray
        ``(genes, n)`` counts and fitted means.
    design_matrix : ndarray
        ``(n, p)``.
    log_alpha : ndarray
        ``(genes,)`` starting points.
    min_log_alpha : float
        ``log(minDisp / 10)``.
    log_alpha_prior_mean : ndarray, optional
        ``(genes,)`` prior means (MAP step); ``None`` for the gene-wise MLE.
    log_alpha_prior_sigmasq : float, optional
        Prior variance (MAP step).
    kappa_0, tol, maxit : float, float, int
        R's ``kappa_0``, ``dispTol`` and ``maxit``.

    Returns
    -------
    dict
        ``log_alpha``, ``iter``, ``iter_accept``, ``initial_lp``, ``last_lp``
        (``(genes,)`` arrays, as the C++ returns them).
    """
    design_matrix = np.asarray(design_matrix, dtype=float)
    num_coef = design_matrix.shape[1]
    outer_x = outer_columns(design_matrix)
    use_prior = log_alpha_prior_mean is not None

    def lp_fn(rows: np.ndarray, a: np.ndarray) -> np.ndarray:
        prior = log_alpha_prior_mean[rows] if use_prior else None
        return r_log_posterior(a, counts[rows], mu[rows], outer_x, num_coef, prior,
                               log_alpha_prior_sigmasq)

    def dlp_fn(rows: np.ndarray, a: np.ndarray) -> np.ndarray:
        prior = log_alpha_prior_mean[rows] if use_prior else None
        return r_dlog_posterior(a, counts[rows], mu[rows], outer_x, num_coef, prior,
                                log_alpha_prior_sigmasq)

    num_genes = counts.shape[0]
    rows = np.arange(num_genes)
    a = np.asarray(log_alpha, dtype=float).copy()
    lp = lp_fn(rows, a)
    dlp = dlp_fn(rows, a)
    initial_lp = lp.copy()
    kappa = np.full(num_genes, float(kappa_0))
    iterations = np.zeros(num_genes, dtype=np.int64)
    accepted = np.zeros(num_genes, dtype=np.int64)
    active = np.ones(num_genes, dtype=bool)
    for _ in range(maxit):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        iterations[idx] += 1
        a_i, dlp_i, kappa_i, lp_i = a[idx], dlp[idx], kappa[idx], lp[idx]
        propose = a_i + kappa_i * dlp_i
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa_i = np.where(propose < -30.0, (-30.0 - a_i) / dlp_i, kappa_i)
            kappa_i = np.where(propose > 10.0, (10.0 - a_i) / dlp_i, kappa_i)
        step = a_i + kappa_i * dlp_i
        lp_new = lp_fn(idx, step)
        theta_kappa = -1.0 * lp_new
        theta_hat_kappa = -1.0 * lp_i - kappa_i * _R_ARMIJO_EPSILON * dlp_i**2
        accept = theta_kappa <= theta_hat_kappa
        # rejected: halve kappa
        kappa_i = np.where(accept, kappa_i, kappa_i / 2.0)
        acc = np.flatnonzero(accept)
        if acc.size:
            genes = idx[acc]
            accepted[genes] += 1
            a[genes] = step[acc]
            change = lp_new[acc] - lp_i[acc]
            small_change = change < tol
            lp[genes[small_change]] = lp_new[acc][small_change]
            below = ~small_change & (step[acc] < min_log_alpha)
            active[genes[small_change | below]] = False
            go = ~small_change & ~below
            genes_go = genes[go]
            lp[genes_go] = lp_new[acc][go]
            if genes_go.size:
                dlp[genes_go] = dlp_fn(genes_go, a[genes_go])
            k_go = np.fmin(kappa_i[acc][go] * 1.1, kappa_0)
            k_go = np.where(accepted[genes_go] % 5 == 0, k_go / 2.0, k_go)
            kappa_i[acc[go]] = k_go
        kappa[idx] = kappa_i
    return {"log_alpha": a, "iter": iterations, "iter_accept": accepted,
            "initial_lp": initial_lp, "last_lp": lp}


def r_fit_disp_grid(
    counts: np.ndarray,
    mu: np.ndarray,
    design_matrix: np.ndarray,
    log_alpha_prior_mean: np.ndarray | None = None,
    log_alpha_prior_sigmasq: float | None = None,
) -> np.ndarray:
    """R DESeq2's ``fitDispGridWrapper``: coarse then fine grid search of ``log(alpha)``.

    20 points from ``log(1e-8)`` to ``log(max(10, n))``, then 20 points spanning one
    coarse step either side of the best (first maximum, as Armadillo's
    ``index_max``).

    Parameters
    ----------
    counts, mu : ndarray
        ``(genes, n)``.
    design_matrix : ndarray
        ``(n, p)``.
    log_alpha_prior_mean, log_alpha_prior_sigmasq : optional
        Prior of the MAP step.

    Returns
    -------
    ndarray
        ``(genes,)`` dispersions (not logs).
    """
    design_matrix = np.asarray(design_matrix, dtype=float)
    num_coef = design_matrix.shape[1]
    outer_x = outer_columns(design_matrix)
    num_genes, num_samples = counts.shape

    grid = r_seq_length_out(np.log(1e-8), np.log(max(10, num_samples)), _R_GRID_SIZE)
    delta = grid[1] - grid[0]

    def best(points: np.ndarray) -> np.ndarray:
        values = np.column_stack([
            r_log_posterior(points[:, t], counts, mu, outer_x, num_coef,
                            log_alpha_prior_mean, log_alpha_prior_sigmasq)
            for t in range(points.shape[1])
        ])
        values = np.where(np.isnan(values), -np.inf, values)
        return points[np.arange(num_genes), np.argmax(values, axis=1)]

    a_hat = best(np.tile(grid, (num_genes, 1)))
    # arma::linspace(start, end, n): start + i * (end - start) / (n - 1)
    steps = np.arange(_R_GRID_SIZE) * ((2 * delta) / (_R_GRID_SIZE - 1))
    fine = (a_hat - delta)[:, None] + steps[None, :]
    fine[:, -1] = a_hat + delta
    return np.exp(best(fine))
