"""Dispersion estimates at the exact optimum of pydeseq2's loss (``VectorizedInference(mode="exact")``).

Gene-wise and MAP dispersions minimise the Cox-Reid adjusted negative-binomial likelihood
(with the log-normal prior for MAP) in ``log(alpha)``, with analytic first and second
derivatives. From the starting value the minimiser walks downhill with doubling steps
until the derivative changes sign (or a bound is reached), then polishes the bracketed
root of the derivative with safeguarded Newton/bisection: the first local minimum
downhill of the start, inside ``[min_disp, max_disp]``, to ~1e-10 in ``log(alpha)``.

Departure from pydeseq2 0.5.4 (deliberate): pydeseq2's L-BFGS-B stops on a
projected-gradient tolerance of 1e-5, which leaves genes whose likelihood is flat towards
``alpha -> 0`` (near-Poisson genes) at an arbitrary small dispersion such as 1e-5; here they
reach the true optimum (often the ``min_disp`` bound), as R's ``fitDisp`` line search does.
This only touches genes whose dispersion is negligible against ``1/mu``.

R's estimator, which stops short of this optimum on flat posteriors, is
:mod:`fibroskin.deseq2.dispersion_line_search`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma

from fibroskin.deseq2.arrays import batched_inv, outer_columns, weighted_gram
from fibroskin.deseq2.negative_binomial import nb_nll_matrix, trigamma

# Newton/bisection on the dispersion derivative stops when the bracket on log(alpha)
# is this narrow; far below anything that moves an LFC.
_LOG_ALPHA_XTOL = 1e-10
_MAX_POLISH_ITER = 60
# R DESeq2's dispTol (estimateDispersionsGeneEst)
_R_DISP_TOL = 1e-6


def _dispersion_derivatives(
    log_alpha: np.ndarray,
    counts: np.ndarray,
    mu: np.ndarray,
    outer_x: np.ndarray,
    num_coef: int,
    cr_reg: bool,
    log_alpha_prior: np.ndarray | None,
    prior_disp_var: float | None,
    with_hessian: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """First (and optionally second) derivative in ``log(alpha)`` of the dispersion loss.

    The loss is pydeseq2's: NB negative log-likelihood + 0.5 log det(X^T W X)
    (Cox-Reid) + (log alpha - log alpha_hat)^2 / (2 prior var) (MAP step).

    Parameters
    ----------
    log_alpha : ndarray
        ``(genes,)`` evaluation points.
    counts, mu : ndarray
        ``(genes, n)`` counts and fitted means.
    outer_x : ndarray
        ``(n, p*p)`` output of :func:`~fibroskin.deseq2.arrays.outer_columns`.
    num_coef : int
        Number of design columns ``p``.
    cr_reg : bool
        Include the Cox-Reid term.
    log_alpha_prior : ndarray or None
        ``(genes,)`` prior means of log dispersion (MAP step) or ``None``.
    prior_disp_var : float or None
        Prior variance of log dispersion.
    with_hessian : bool
        Also return the second derivative.

    Returns
    -------
    grad : ndarray
        ``(genes,)`` derivative.
    hess : ndarray or None
        ``(genes,)`` second derivative, if requested.
    """
    alpha = np.exp(log_alpha)[:, None]
    size = 1.0 / alpha
    size_plus_mu = size + mu
    # dl/dsize of the NB log-likelihood; log1p keeps precision when size >> mu
    dl_dsize = (
        digamma(counts + size)
        - digamma(size)
        - np.log1p(mu / size)
        + (mu - counts) / size_plus_mu
    ).sum(axis=1)
    size_1d = size[:, 0]
    grad = size_1d * dl_dsize
    hess = None
    if with_hessian:
        d2l_dsize2 = (
            trigamma(counts + size)
            - trigamma(size)
            + mu / (size * size_plus_mu)
            - (mu - counts) / size_plus_mu**2
        ).sum(axis=1)
        hess = -size_1d * dl_dsize - size_1d**2 * d2l_dsize2

    if cr_reg:
        weights = mu / (1.0 + mu * alpha)
        alpha_w2 = alpha * weights**2
        gram = (weights @ outer_x).reshape(-1, num_coef, num_coef)
        d_gram = -(alpha_w2 @ outer_x).reshape(-1, num_coef, num_coef)
        inv_gram = batched_inv(gram)
        inv_d = inv_gram @ d_gram
        grad = grad + 0.5 * np.trace(inv_d, axis1=1, axis2=2)
        if with_hessian:
            d2_weights = -alpha_w2 + 2.0 * alpha**2 * weights**3
            d2_gram = (d2_weights @ outer_x).reshape(-1, num_coef, num_coef)
            hess = hess + 0.5 * (
                np.trace(inv_gram @ d2_gram, axis1=1, axis2=2)
                - np.einsum("gij,gji->g", inv_d, inv_d)
            )

    if log_alpha_prior is not None:
        assert prior_disp_var is not None
        grad = grad + (log_alpha - log_alpha_prior) / prior_disp_var
        if with_hessian:
            hess = hess + 1.0 / prior_disp_var
    return grad, hess


def dispersion_objective(
    log_alpha: np.ndarray,
    counts: np.ndarray,
    mu: np.ndarray,
    design_matrix: np.ndarray,
    cr_reg: bool,
    log_alpha_prior: np.ndarray | None,
    prior_disp_var: float | None,
) -> np.ndarray:
    """pydeseq2's dispersion loss (``fit_alpha_mle``'s ``loss``) for many genes.

    Parameters
    ----------
    log_alpha : ndarray
        ``(genes,)`` evaluation points.
    counts, mu : ndarray
        ``(genes, n)``.
    design_matrix : ndarray
        ``(n, p)``.
    cr_reg : bool
        Include ``0.5 log det(X^T W X)``.
    log_alpha_prior : ndarray or None
        Prior means (MAP step).
    prior_disp_var : float or None
        Prior variance.

    Returns
    -------
    ndarray
        ``(genes,)`` loss values.
    """
    alpha = np.exp(log_alpha)
    loss = nb_nll_matrix(counts, mu, alpha)
    if cr_reg:
        weights = mu / (1.0 + mu * alpha[:, None])
        loss = loss + 0.5 * np.linalg.slogdet(weighted_gram(weights, design_matrix))[1]
    if log_alpha_prior is not None:
        loss = loss + (log_alpha - log_alpha_prior) ** 2 / (2 * prior_disp_var)
    return loss


def minimise_log_dispersion(
    counts: np.ndarray,
    mu: np.ndarray,
    design_matrix: np.ndarray,
    log_alpha_start: np.ndarray,
    log_min_disp: float,
    log_max_disp: float,
    cr_reg: bool = True,
    log_alpha_prior: np.ndarray | None = None,
    prior_disp_var: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise the (CR-adjusted, optionally MAP) dispersion loss for many genes at once.

    Walks downhill from ``log_alpha_start`` with doubling steps (0.25, 0.5, 1, ...) until
    the derivative changes sign or a bound is hit, then polishes the bracketed root of
    the derivative by Newton steps safeguarded with bisection.

    Parameters
    ----------
    counts, mu : ndarray
        ``(genes, n)`` counts and fitted means.
    design_matrix : ndarray
        ``(n, p)`` design matrix.
    log_alpha_start : ndarray
        ``(genes,)`` starting points.
    log_min_disp, log_max_disp : float
        Bounds on ``log(alpha)``.
    cr_reg : bool
        Include the Cox-Reid adjustment.
    log_alpha_prior : ndarray or None
        ``(genes,)`` prior means of ``log(alpha)`` for the MAP step.
    prior_disp_var : float or None
        Prior variance of ``log(alpha)``.

    Returns
    -------
    log_alpha : ndarray
        ``(genes,)`` minimisers.
    ok : ndarray
        ``(genes,)`` False where a derivative was not finite.
    """
    num_coef = design_matrix.shape[1]
    outer_x = outer_columns(design_matrix)

    def derivatives(idx: np.ndarray, x: np.ndarray, with_hessian: bool):
        prior = None if log_alpha_prior is None else log_alpha_prior[idx]
        return _dispersion_derivatives(
            x, counts[idx], mu[idx], outer_x, num_coef, cr_reg, prior,
            prior_disp_var, with_hessian,
        )

    num_genes = counts.shape[0]
    all_idx = np.arange(num_genes)
    x0 = np.clip(log_alpha_start, log_min_disp, log_max_disp)
    g0, _ = derivatives(all_idx, x0, False)
    ok = np.isfinite(g0)
    result = x0.copy()

    # bracket: lo_x has derivative <= 0 side, hi_x has derivative >= 0 side
    direction = np.where(g0 < 0, 1.0, -1.0)
    bracket_a = x0.copy()  # last point still on the starting side
    bracket_b = np.full(num_genes, np.nan)  # first point past the sign change
    at_bound = np.zeros(num_genes, dtype=bool)
    # R's estimateDispersionsGeneEst keeps the start for genes whose first line-search
    # step (kappa = 1 along the gradient, so a step of -g0 in log alpha) changes the
    # loss by less than dispTol = 1e-6, *and* whose estimate is <= 10 * minDisp
    # (otherwise R refits on a grid, i.e. goes to the optimum). These are near-Poisson
    # genes whose moments estimate was clipped to min_disp; pydeseq2's L-BFGS-B stops
    # there too (its pgtol on a flat loss). The loss change of that step is g0^2 to
    # first order; it is not evaluated directly because at alpha ~ 1e-8 loss values
    # carry ~1e-6 rounding error. Only the gene-wise fit (no prior) has this rule, as
    # in R.
    stay = np.zeros(num_genes, dtype=bool)
    if log_alpha_prior is None:
        near_floor = x0 <= log_min_disp + np.log(10.0)
        stay = ok & near_floor & (g0**2 < _R_DISP_TOL)
        result[stay] = np.clip(x0 - g0, log_min_disp, log_max_disp)[stay]
    searching = ok & ~stay
    step = 0.25
    while searching.any():
        idx = np.flatnonzero(searching)
        bound = np.where(direction[idx] > 0, log_max_disp, log_min_disp)
        x_new = np.clip(bracket_a[idx] + direction[idx] * step, log_min_disp, log_max_disp)
        g_new, _ = derivatives(idx, x_new, False)
        bad = ~np.isfinite(g_new)
        ok[idx[bad]] = False
        crossed = ~bad & (np.sign(g_new) != np.sign(g0[idx]))
        bracket_b[idx[crossed]] = x_new[crossed]
        reached = ~bad & ~crossed & (x_new == bound)
        at_bound[idx[reached]] = True
        result[idx[reached]] = bound[reached]
        moving = ~bad & ~crossed & ~reached
        bracket_a[idx[moving]] = x_new[moving]
        searching[idx[~moving]] = False
        step *= 2.0

    # safeguarded Newton on the derivative inside [low, high] where g(low)<0<g(high)
    polish = ok & np.isfinite(bracket_b) & ~at_bound & ~stay
    low = np.where(direction > 0, bracket_a, bracket_b)
    high = np.where(direction > 0, bracket_b, bracket_a)
    x = 0.5 * (low + high)
    for _ in range(_MAX_POLISH_ITER):
        idx = np.flatnonzero(polish)
        if idx.size == 0:
            break
        g, h = derivatives(idx, x[idx], True)
        bad = ~np.isfinite(g)
        ok[idx[bad]] = False
        lo_i, hi_i = low[idx], high[idx]
        lo_i = np.where(g < 0, x[idx], lo_i)
        hi_i = np.where(g > 0, x[idx], hi_i)
        low[idx], high[idx] = lo_i, hi_i
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x[idx] - g / h
        use_newton = (h > 0) & (newton > lo_i) & (newton < hi_i)
        x_next = np.where(use_newton, newton, 0.5 * (lo_i + hi_i))
        done = bad | (g == 0) | (np.abs(x_next - x[idx]) < _LOG_ALPHA_XTOL) | (
            hi_i - lo_i < _LOG_ALPHA_XTOL
        )
        x[idx] = np.where(g == 0, x[idx], x_next)
        polish[idx[done]] = False
    polished = ok & np.isfinite(bracket_b) & ~at_bound & ~stay
    result[polished] = x[polished]
    return result, ok
