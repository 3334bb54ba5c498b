"""GLM coefficients by IRLS: R DESeq2's ``fitBeta`` (``nbinomWaldTest``'s fit), all genes at once.

All genes of a chunk iterate together; each gene is frozen as soon as its own deviance
criterion is met, so every gene runs exactly the iterations it would run alone. The
weighted normal equations are solved as stacked ``(genes, p, p)`` systems. With R's
rules the ridge is ``lambda = 1e-6`` on the log2 scale (``1e-6 / log(2)^2`` on the
natural scale) and there is no convergence test at the first iteration; otherwise the
rules are pydeseq2's ``irls_solver``. Genes whose IRLS diverges (``|beta| > max_beta``
or ``maxiter`` reached) are reported as not converged; the backend
(:class:`fibroskin.deseq2.inference.VectorizedInference`) hands them to pydeseq2's own
per-gene solver, so their answers equal the stock backend's.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln
from scipy.stats import norm

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
    r_rules: bool = False,
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
    r_rules : bool
        R's ``fitBeta`` (``mode="r"``): ridge ``1e-6 / log(2)^2`` and no convergence
        test at the first iteration; otherwise pydeseq2's ``irls_solver``.

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
    ridge = np.eye(num_coef) * (R_RIDGE if r_rules else 1e-6)
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
        if r_rules:
            _r_iteration(beta_hat, idx, it, beta, mu, dev, active, diverged, normalization, x,
                         min_mu, max_beta, maxiter, beta_tol, deviance)
            continue
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


def _r_iteration(beta_hat, idx, it, beta, mu, dev, active, diverged, normalization, x, min_mu,
                 max_beta, maxiter, beta_tol, deviance) -> None:
    """One iteration's bookkeeping with R's ``fitBeta`` rules, in place.

    R keeps the iterate it stops at, also one beyond ``|beta| > large`` or the last of
    ``maxit``; a gene is converged only if it stopped on the deviance test before
    ``maxit`` (``betaConv = iter < maxit``; there is no test at the first iteration), and a
    NaN deviance change is not convergence. The genes not converged go to ``optim``.
    """
    beta[idx] = beta_hat
    blown = (np.abs(beta_hat) > max_beta).any(axis=1)
    diverged[idx[blown]] = True
    active[idx[blown]] = False
    idx, beta_hat = idx[~blown], beta_hat[~blown]
    with np.errstate(over="ignore"):
        mu[idx] = np.maximum(normalization[idx] * np.exp(beta_hat @ x.T), min_mu)
    old = dev[idx]
    dev[idx] = deviance(mu[idx], idx)
    ratio = np.abs(dev[idx] - old) / (np.abs(dev[idx]) + 0.1)
    if it >= maxiter:
        diverged[idx] = True
        active[idx] = False
        return
    diverged[idx[np.isnan(ratio)]] = True
    active[idx[np.isnan(ratio)]] = False
    if it > 1:
        active[idx[ratio < beta_tol]] = False


#: R's ``fitNbinomGLMs(maxit = 100)``: IRLS iterations before a gene goes to ``optim``.
R_IRLS_MAXIT = 100
#: R's ``large``: ``|beta|`` (natural log) beyond which IRLS gives up, and optim's bounds (log2).
R_LARGE = 30.0


def _r_neg_log_posterior(log2_beta: np.ndarray, x: np.ndarray, counts: np.ndarray, factors: np.ndarray,
                         size: float, prior_sd: np.ndarray) -> float:
    """``objectiveFn`` of R's ``fitNbinomGLMsOptim``: minus (NB log likelihood + normal log prior)."""
    mu = factors * np.exp2(x @ log2_beta)
    # R's dnbinom(mu =) keeps q = mu / (size + mu) apart from p: finite for means far below
    # the counts, where size / (size + mu) rounds to 1 (optim probes the bounds, +-30)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.where(counts > 0, counts * (np.log(mu) - np.log(size + mu)), 0.0)
        log_likelihood = (gammaln(counts + size) - gammaln(size) - gammaln(counts + 1)
                          - size * np.log1p(mu / size) + log_q).sum()
    log_prior = norm.logpdf(log2_beta, 0.0, prior_sd).sum()
    value = -(log_likelihood + log_prior)
    return float(value) if np.isfinite(value) else 1e300


def _r_optim_gradient(objective, point: np.ndarray, lower: float, upper: float, step: float = 1e-3) -> np.ndarray:
    """``optim``'s numerical gradient with bounds (``fmingr``): central differences of ``ndeps = 1e-3``,
    shortened where a bound cuts them."""
    gradient = np.empty_like(point)
    for i in range(point.size):
        above, below = point.copy(), point.copy()
        up = min(point[i] + step, upper)
        down = max(point[i] - step, lower)
        above[i], below[i] = up, down
        gradient[i] = (objective(above) - objective(below)) / ((up - point[i]) + (point[i] - down))
    return gradient


def r_optim_beta(
    counts: np.ndarray,
    factors: np.ndarray,
    design_matrix: np.ndarray,
    disp: float,
    start_log2: np.ndarray,
    ridge_lambda: float = 1e-6,
) -> tuple[np.ndarray, bool]:
    """R's ``fitNbinomGLMsOptim`` for one gene: L-BFGS-B on the log2 coefficients.

    R hands the genes whose IRLS reached ``maxit`` (or left ``|beta| < 30``) to
    ``optim(method = "L-BFGS-B", lower = -30, upper = 30)`` on minus the NB log likelihood
    plus a normal prior of variance ``1 / lambda`` (``1e6``), with ``optim``'s numerical
    gradient and its defaults (``factr = 1e7``, ``pgtol = 0``, ``lmm = 5``, ``maxit = 100``).
    The same problem, start, gradient and stopping rule are given to SciPy's L-BFGS-B;
    R's ``lbfgsb.c`` and SciPy's port of L-BFGS-B 3.0 take the same steps where no bound
    is active.

    Parameters
    ----------
    counts, factors : ndarray
        ``(n,)`` counts and size or normalization factors of the gene.
    design_matrix : ndarray
        ``(n, p)``.
    disp : float
        The gene's dispersion.
    start_log2 : ndarray
        ``(p,)`` start, on the log2 scale as R passes it.
    ridge_lambda : float
        R's ``lambda`` (``1e-6``).

    Returns
    -------
    beta : ndarray
        ``(p,)`` coefficients, natural log.
    converged : bool
        ``optim``'s ``convergence == 0``.
    """
    x = np.asarray(design_matrix, dtype=float)
    counts = np.asarray(counts, dtype=float)
    factors = np.asarray(factors, dtype=float)
    prior_sd = np.full(x.shape[1], np.sqrt(1 / ridge_lambda))

    def objective(point: np.ndarray) -> float:
        return _r_neg_log_posterior(point, x, counts, factors, 1.0 / disp, prior_sd)

    result = minimize(
        objective,
        np.asarray(start_log2, dtype=float),
        jac=lambda point: _r_optim_gradient(objective, point, -R_LARGE, R_LARGE),
        method="L-BFGS-B",
        bounds=[(-R_LARGE, R_LARGE)] * x.shape[1],
        options={"maxcor": 5, "ftol": 1e7 * np.finfo(float).eps, "gtol": 0.0, "maxiter": 100},
    )
    return result.x * np.log(2), bool(result.status == 0)
