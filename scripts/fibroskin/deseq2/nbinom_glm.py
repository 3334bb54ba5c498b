"""Negative-binomial GLM fits as R DESeq2's ``fitNbinomGLMs`` (starting values, C++ ``fitBeta``, optim).

R fits the GLM of every gene in three places: the gene-wise dispersion step of designs
that are not one group per coefficient (``estimateDispersionsGeneEst``: the means the
line search starts from), the Wald test (``nbinomWaldTest``) and the LRT (``nbinomLRT``,
full and reduced model). All three call ``fitNbinomGLMs``:

1. Starting coefficients from a least-squares fit of ``log(normalised counts + 0.1)``
   with R's LINPACK QR (``qr``, ``qr.Q``, ``qr.R``, ``solve``).
2. ``fitBeta`` (C++): IRLS on ``[sqrt(W) X; sqrt(ridge)]`` by Armadillo's ``qr_econ`` and
   a triangular solve (reference LAPACK, :mod:`fibroskin.deseq2.r_lapack`), ridge
   ``lambda = 1e-6`` on the log2 scale, means bounded below by ``minmu`` inside the loop,
   deviance from R's ``dnbinom`` (:mod:`fibroskin.deseq2.r_dnbinom`), stop when the
   relative deviance change falls below ``betaTol`` (not tested at the first
   iteration), ``maxit = 100``, a gene whose ``|beta|`` exceeds 30 stops as not converged.
3. The means ``nf * exp(X beta)`` computed again on the R side (not bounded), the
   coefficients on the log2 scale, standard errors from the ridge sandwich.
4. Rows that did not converge (or have non-finite coefficients or non-positive variances)
   are refitted by ``optim(method = "L-BFGS-B")`` on the log posterior (``useOptim``).

Steps 1-3 are R's arithmetic operation for operation (no BLAS, sums in R's order, the C
library's ``exp``/``log``), so the means equal R's to the last bit and the dispersion line
search that starts from them takes R's steps. Step 4 uses SciPy's L-BFGS-B (Fortran 3.0)
with R's objective, bounds, central-difference gradient (``ndeps = 1e-3``) and stopping
rule (``factr = 1e7``): R's ``optim`` is a C translation of an older L-BFGS-B, so these
rare rows agree with R to the optimiser's tolerance, not to the last bit
(:attr:`NbinomGLMFit.optim_rows` names them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from fibroskin.deseq2.arrays import batched_inv, chunk_genes, gene_chunks
from fibroskin.deseq2.r_dnbinom import NegativeBinomialLogDensity, log_dnbinom_mu
from fibroskin.deseq2.r_lapack import (
    householder_qr_econ,
    matrix_times_vectors,
    ordered_sum,
    solve_upper,
    transposed_times,
)
from fibroskin.deseq2.r_math import c_exp, c_log
from fibroskin.deseq2.r_stats import r_qr_q_and_r, r_row_means, r_row_sums

_c_log2 = np.vectorize(math.log2, otypes=[float])
_c_pow = np.vectorize(math.pow, otypes=[float])
#: R's ``log2(exp(1))``: natural-log coefficients to log2 fold changes.
LOG2_E = math.log2(math.exp(1.0))
#: ``fitNbinomGLMs``' default ridge on the log2 scale (``lambda = rep(1e-6, p)``).
R_LAMBDA = 1e-6
#: ``fitBeta``'s bound on ``|beta|`` (natural log) beyond which a gene counts as diverged.
R_LARGE_BETA = 30.0
#: ``fitNbinomGLMs``' ``betaTol`` and ``maxit``.
R_BETA_TOL = 1e-8
R_BETA_MAXIT = 100


@dataclass
class NbinomGLMFit:
    """One ``fitNbinomGLMs`` call: per gene (rows) coefficients, errors, means and diagnostics.

    Attributes
    ----------
    beta : ndarray
        ``(genes, p)`` coefficients on the log2 scale (R's ``betaMatrix``).
    beta_se : ndarray
        ``(genes, p)`` their standard errors (``betaSE``).
    mu : ndarray
        ``(genes, n)`` fitted means ``nf * exp(X beta)`` (R's ``mu``, not bounded).
    hat_diagonals : ndarray
        ``(genes, n)`` leverages from ``fitBeta`` (with its bounded means).
    log_like : ndarray or None
        ``(genes,)`` log-likelihoods at ``mu`` (``nbinomLogLike``), when the dispersions
        for it were given.
    converged : ndarray
        ``(genes,)`` R's ``betaConv``.
    iterations : ndarray
        ``(genes,)`` R's ``betaIter``.
    optim_rows : ndarray
        Indices of the genes refitted by L-BFGS-B (R's ``rowsForOptim``).
    beta_natural : ndarray
        ``(genes, p)`` the natural-log coefficients (``fitBeta``'s ``beta_mat``; for the
        optim rows ``beta / log2(e)``), so that ``LOG2_E * beta_natural`` is ``beta``.
    """

    beta: NDArray[np.float64]
    beta_se: NDArray[np.float64]
    mu: NDArray[np.float64]
    hat_diagonals: NDArray[np.float64]
    log_like: NDArray[np.float64] | None
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]
    optim_rows: NDArray[np.int64]
    beta_natural: NDArray[np.float64]


_EXP_MAX = 709.782712893384  # the largest argument whose exp is finite


def r_exp(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The C library's ``exp``, with ``Inf`` (not an error) beyond the double range, as R gives."""
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        over = x > _EXP_MAX
    if not over.any():
        return c_exp(x)
    out = c_exp(np.where(over, 0.0, x))
    out[over] = np.inf
    return out


def natural_ridge(num_coef: int, lambda_log2: float | NDArray[np.float64] = R_LAMBDA) -> NDArray[np.float64]:
    """``lambda / log(2)^2``: R's ridge on the natural-log scale of the fit, per coefficient."""
    log2 = math.log(2.0)
    return np.broadcast_to(np.asarray(lambda_log2, dtype=float), (num_coef,)) / (log2 * log2)


def r_initial_beta(normed_counts: NDArray[np.float64], design_matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """``fitNbinomGLMs``' start: ``t(solve(R, t(Q) %*% log(normalised + 0.1)))`` with R's QR.

    Parameters
    ----------
    normed_counts : ndarray
        ``(genes, n)`` counts divided by their normalisation factors.
    design_matrix : ndarray
        ``(n, p)`` of full column rank.

    Returns
    -------
    ndarray
        ``(genes, p)`` natural-log coefficients.
    """
    q, r = r_qr_q_and_r(design_matrix)
    y = c_log(normed_counts + 0.1)
    qty = np.column_stack([ordered_sum(y * q[:, i][None, :], axis=1) for i in range(q.shape[1])])
    return solve_upper(np.broadcast_to(r, (y.shape[0],) + r.shape), qty)


def _sandwich(
    mu: NDArray[np.float64], alpha: NDArray[np.float64], design_matrix: NDArray[np.float64],
    ridge: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``fitBeta``'s closing step: leverages and ``(X'WX + ridge)^-1 X'WX (X'WX + ridge)^-1``.

    Returns
    -------
    hat : ndarray
        ``(genes, n)``.
    sigma : ndarray
        ``(genes, p, p)`` covariance of the natural-log coefficients.
    """
    w = mu / (1.0 + alpha[:, None] * mu)
    # sums in sample order, not a BLAS product: BLAS picks its kernel by the matrix's size,
    # so a gene's numbers would change in the last bit with the genes fitted beside it
    num_samples, p = design_matrix.shape
    gram = np.empty((w.shape[0], p, p))
    for a in range(p):
        for b in range(a, p):
            gram[:, a, b] = gram[:, b, a] = ordered_sum(w * (design_matrix[:, a] * design_matrix[:, b])[None, :], axis=1)
    inv = batched_inv(gram + np.diag(ridge))
    # h = w x' inv x, term by term in a fixed order (einsum's kernels, too, follow the shape)
    hat = np.zeros(w.shape)
    for j in range(p):
        x_inv_j = np.zeros(w.shape)
        for i in range(p):
            x_inv_j += design_matrix[None, :, i] * inv[:, i, j, None]
        hat += x_inv_j * design_matrix[None, :, j]
    hat *= w
    sigma = inv @ gram @ inv
    return hat, sigma


def r_fit_beta(
    counts: NDArray[np.float64],
    normalization_factors: NDArray[np.float64],
    design_matrix: NDArray[np.float64],
    alpha: NDArray[np.float64],
    beta: NDArray[np.float64],
    ridge: NDArray[np.float64],
    tol: float = R_BETA_TOL,
    maxit: int = R_BETA_MAXIT,
    min_mu: float = 0.5,
) -> dict[str, NDArray]:
    """DESeq2's C++ ``fitBeta`` with ``useQR = TRUE``, for a chunk of genes at once.

    Every gene runs exactly the iterations the C++ loop runs for it, with the same
    floating-point operations (see the module docstring); the final leverages and
    covariances are computed with NumPy's linear algebra (R's to ~1e-15).

    Parameters
    ----------
    counts, normalization_factors : ndarray
        ``(genes, n)``.
    design_matrix : ndarray
        ``(n, p)``.
    alpha : ndarray
        ``(genes,)`` dispersions.
    beta : ndarray
        ``(genes, p)`` natural-log starting coefficients.
    ridge : ndarray
        ``(p,)`` ridge on the natural-log scale (:func:`natural_ridge`).
    tol, maxit, min_mu : float, int, float
        R's ``betaTol``, ``maxit`` and ``minmu``.

    Returns
    -------
    dict
        ``beta`` (natural log), ``beta_var`` (diagonal of the covariance), ``sigma``
        (``(genes, p, p)``), ``hat``, ``iter``, ``deviance``, ``mu_bounded`` (the C++
        loop's last means).
    """
    x = np.asarray(design_matrix, dtype=float)
    counts = np.asarray(counts, dtype=float)
    nf = np.asarray(normalization_factors, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    num_genes, n = counts.shape
    p = x.shape[1]
    beta = np.array(beta, dtype=float)
    mu = np.fmax(nf * r_exp(matrix_times_vectors(x, beta)), min_mu)
    iterations = np.zeros(num_genes, dtype=np.int64)
    deviance = np.zeros(num_genes)
    dev_old = np.zeros(num_genes)
    active = np.ones(num_genes, dtype=bool)
    size = 1.0 / alpha
    log_density = NegativeBinomialLogDensity(counts, size[:, None])
    sqrt_ridge = np.sqrt(np.diag(np.asarray(ridge, dtype=float)))
    for t in range(maxit):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        iterations[idx] += 1
        m = mu[idx]
        w = m / (1.0 + alpha[idx][:, None] * m)
        w_sqrt = np.sqrt(w)
        weighted = np.concatenate(
            [x[None, :, :] * w_sqrt[:, :, None], np.broadcast_to(sqrt_ridge, (idx.size, p, p))], axis=1)
        q, r = householder_qr_econ(weighted)
        z = c_log(m / nf[idx]) + (counts[idx] - m) / m
        big_z = np.concatenate([z * w_sqrt, np.zeros((idx.size, p))], axis=1)
        beta_hat = solve_upper(r, transposed_times(q, big_z))
        beta[idx] = beta_hat
        large = (np.abs(beta_hat) > R_LARGE_BETA).any(axis=1)
        iterations[idx[large]] = maxit
        active[idx[large]] = False
        kept = idx[~large]
        if kept.size == 0:
            continue
        m_new = np.fmax(nf[kept] * r_exp(matrix_times_vectors(x, beta_hat[~large])), min_mu)
        mu[kept] = m_new
        dev = ordered_sum(-2.0 * log_density(m_new, kept), axis=1)
        with np.errstate(invalid="ignore"):
            conv_test = np.abs(dev - dev_old[kept]) / (np.abs(dev) + 0.1)
        diverged = np.isnan(conv_test)
        iterations[kept[diverged]] = maxit
        stop = diverged | ((t > 0) & (conv_test < tol))
        deviance[kept] = dev
        dev_old[kept] = dev
        active[kept[stop]] = False
    hat, sigma = _sandwich(mu, alpha, x, np.asarray(ridge, dtype=float))
    return {"beta": beta, "beta_var": np.diagonal(sigma, axis1=1, axis2=2).copy(), "sigma": sigma,
            "hat": hat, "iter": iterations, "deviance": deviance, "mu_bounded": mu}


def r_log_like(counts: NDArray[np.float64], mu: NDArray[np.float64], alpha: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``nbinomLogLike``: ``rowSums(dnbinom(counts, mu = mu, size = 1 / disp, log = TRUE))``."""
    return r_row_sums(log_dnbinom_mu(counts, (1.0 / np.asarray(alpha, dtype=float))[:, None], mu))


def _intercept_only_fit(
    counts: NDArray[np.float64], nf: NDArray[np.float64], alpha: NDArray[np.float64], log_like_alpha: NDArray | None
) -> NbinomGLMFit:
    """``fitNbinomGLMs``' shortcut for the design ``~1``: the mean of the normalised counts."""
    beta = _c_log2(r_row_means(counts / nf))[:, None]
    mu = nf * _c_pow(2.0, beta)
    w = 1.0 / (1.0 / mu + alpha[:, None])
    xtwx = r_row_sums(w)
    num_genes = counts.shape[0]
    return NbinomGLMFit(
        beta=beta,
        beta_natural=beta / LOG2_E,
        beta_se=(LOG2_E * np.sqrt(1.0 / xtwx))[:, None],
        mu=mu,
        hat_diagonals=w * (1.0 / xtwx)[:, None],
        log_like=None if log_like_alpha is None else r_log_like(counts, mu, log_like_alpha),
        converged=np.ones(num_genes, dtype=bool),
        iterations=np.ones(num_genes, dtype=np.int64),
        optim_rows=np.array([], dtype=np.int64),
    )


def _optim_row(
    counts: NDArray[np.float64], nf: NDArray[np.float64], x: NDArray[np.float64], alpha: float,
    start: NDArray[np.float64], lambda_log2: NDArray[np.float64],
) -> tuple[NDArray[np.float64], bool]:
    """``fitNbinomGLMsOptim`` for one gene: L-BFGS-B on the negative log posterior (log2 scale)."""
    sd = np.sqrt(1.0 / lambda_log2)
    log_prior_const = -np.log(sd) - 0.5 * math.log(2 * math.pi)

    def objective(params: NDArray[np.float64]) -> float:
        mu_row = nf * np.power(2.0, x @ params)
        log_like = float(np.sum(log_dnbinom_mu(counts, 1.0 / alpha, mu_row)))
        log_prior = float(np.sum(log_prior_const - 0.5 * (params / sd) ** 2))
        value = -1.0 * (log_like + log_prior)
        return value if np.isfinite(value) else 1e300

    def gradient(params: NDArray[np.float64]) -> NDArray[np.float64]:
        # optim's numerical gradient: central differences, ndeps = 1e-3, clipped at the bounds
        grad = np.empty_like(params)
        for i in range(params.size):
            up, down = params.copy(), params.copy()
            up[i] = min(params[i] + 1e-3, R_LARGE_BETA)
            down[i] = max(params[i] - 1e-3, -R_LARGE_BETA)
            grad[i] = (objective(up) - objective(down)) / ((up[i] - params[i]) + (params[i] - down[i]))
        return grad

    result = minimize(objective, start, jac=gradient, method="L-BFGS-B",
                      bounds=[(-R_LARGE_BETA, R_LARGE_BETA)] * start.size,
                      options={"maxcor": 5, "ftol": 1e7 * np.finfo(float).eps, "gtol": 0.0, "maxiter": 100})
    return result.x, bool(result.status == 0)


def fit_nbinom_glms(
    counts: NDArray[np.float64],
    normalization_factors: NDArray[np.float64],
    design_matrix: NDArray[np.float64],
    alpha: NDArray[np.float64],
    log_like: bool = False,
    lambda_log2: float | NDArray[np.float64] = R_LAMBDA,
    beta_tol: float = R_BETA_TOL,
    maxit: int = R_BETA_MAXIT,
    use_optim: bool = True,
    min_mu: float = 0.5,
    intercept_only: bool | None = None,
    chunk_size: int | None = None,
) -> NbinomGLMFit:
    """R DESeq2's ``fitNbinomGLMs`` for every gene (rows of ``counts``).

    Parameters
    ----------
    counts : ndarray
        ``(genes, n)`` counts (genes with a non-zero count).
    normalization_factors : ndarray
        ``(genes, n)`` or ``(n,)`` (size factors).
    design_matrix : ndarray
        ``(n, p)`` of full column rank.
    alpha : ndarray
        ``(genes,)`` dispersions of the fit (R's ``alpha_hat``).
    log_like : bool
        Also compute the log-likelihoods (R: when the data set has dispersions).
    lambda_log2, beta_tol, maxit, use_optim, min_mu
        R's ``lambda``, ``betaTol``, ``maxit``, ``useOptim``, ``minmu``.
    intercept_only : bool, optional
        The design is ``~1`` (R's shortcut: mean of the normalised counts); default: the
        design matrix is one column of ones.
    chunk_size : int, optional
        Genes per block of the IRLS (memory); default :func:`~fibroskin.deseq2.arrays.chunk_genes`
        of the number of samples. Each gene's fit is its own: the blocks change nothing else.

    Returns
    -------
    NbinomGLMFit
    """
    counts = np.asarray(counts, dtype=float)
    x = np.asarray(design_matrix, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    nf = np.broadcast_to(np.asarray(normalization_factors, dtype=float), counts.shape)
    num_genes, _ = counts.shape
    p = x.shape[1]
    if intercept_only is None:
        intercept_only = p == 1 and bool(np.all(x == 1.0))
    lambda_vector = np.broadcast_to(np.asarray(lambda_log2, dtype=float), (p,))
    if intercept_only and np.all(lambda_vector <= 1e-6):
        return _intercept_only_fit(counts, nf, alpha, alpha if log_like else None)
    ridge = natural_ridge(p, lambda_vector)
    beta = np.empty((num_genes, p))
    beta_start = np.empty((num_genes, p))
    beta_var = np.empty((num_genes, p))
    hat = np.empty(counts.shape)
    iterations = np.empty(num_genes, dtype=np.int64)
    if chunk_size is None:
        chunk_size = chunk_genes(counts.shape[1])
    for chunk in gene_chunks(num_genes, chunk_size):
        beta_start[chunk] = r_initial_beta(counts[chunk] / nf[chunk], x)
        fit = r_fit_beta(counts[chunk], nf[chunk], x, alpha[chunk], beta_start[chunk], ridge, beta_tol, maxit,
                         min_mu)
        beta[chunk], beta_var[chunk] = fit["beta"], fit["beta_var"]
        hat[chunk], iterations[chunk] = fit["hat"], fit["iter"]
    mu = nf * r_exp(matrix_times_vectors(x, beta))
    log_likelihood = r_log_like(counts, mu, alpha) if log_like else None
    row_stable = ~np.isnan(beta).any(axis=1)
    row_var_positive = (beta_var > 0).all(axis=1)
    converged = iterations < maxit
    beta_matrix = LOG2_E * beta
    beta_se = LOG2_E * np.sqrt(np.maximum(beta_var, 0.0))
    if use_optim:
        optim_rows = np.flatnonzero(~converged | ~row_stable | ~row_var_positive)
    else:
        optim_rows = np.flatnonzero(~row_stable | ~row_var_positive)
    for row in optim_rows:
        usable = row_stable[row] and bool(np.all(np.abs(beta_matrix[row]) < R_LARGE_BETA))
        # R starts from the log2 coefficients, else from fitBeta's natural-log starting values
        start = beta_matrix[row] if usable else beta_start[row]
        params, ok = _optim_row(counts[row], nf[row], x, float(alpha[row]), start, lambda_vector)
        converged[row] = converged[row] or ok
        beta_matrix[row] = params
        beta[row] = params / LOG2_E
        mu_row = nf[row] * np.power(2.0, x @ params)
        mu[row] = mu_row
        bounded = np.maximum(mu_row, min_mu)
        _, sigma = _sandwich(bounded[None, :], alpha[row:row + 1], x, ridge)
        beta_se[row] = LOG2_E * np.sqrt(np.maximum(np.diagonal(sigma[0]), 0.0))
        if log_likelihood is not None:
            log_likelihood[row] = float(np.sum(log_dnbinom_mu(counts[row], 1.0 / alpha[row], bounded)))
    return NbinomGLMFit(beta=beta_matrix, beta_natural=beta, beta_se=beta_se, mu=mu, hat_diagonals=hat, log_like=log_likelihood,
                        converged=converged, iterations=iterations, optim_rows=optim_rows)
