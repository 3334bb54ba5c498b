"""LFC shrinkage: the apeglm MAP fit of ``lfcShrink(type = "apeglm")`` (pydeseq2's ``nbinomGLM``), batched.

Damped Newton on the exact MAP objective of :func:`pydeseq2.utils.nbinomFn` for all genes
of a chunk: the Hessian is made positive definite where the Cauchy prior makes it
indefinite, and every step is backtracked until the Armijo condition holds.

With length offsets the offsets are ``log(nf)`` per gene and sample (R's ``lfcShrink``).

Departure from pydeseq2 0.5.4 (deliberate): the inverse Hessian returned is that of the
*correct* Hessian. pydeseq2's ``nbinomGLM`` adds the prior's Hessian diagonal as a row
vector broadcast over the whole matrix (``... + np.diag(h)`` where ``h`` is already a
diagonal matrix), so its shrunken ``lfcSE`` differs; the shrunken LFCs themselves agree.
"""

from __future__ import annotations

import numpy as np

from fibroskin.deseq2.arrays import batched_inv, outer_columns

_MAX_SHRINK_ITER = 200


def _apeglm_objective(
    beta: np.ndarray,
    x: np.ndarray,
    counts: np.ndarray,
    size: np.ndarray,
    offset: np.ndarray,
    no_shrink_var2: float,
    prior_scale: float,
    shrink_index: int,
    shrink_mask: np.ndarray,
) -> np.ndarray:
    """Per-gene apeglm MAP objective (pydeseq2 ``nbinomFn``), ``beta`` is ``(genes, p)``."""
    xbeta = beta @ x.T
    log_size = np.log(size)[:, None]
    prior = ((beta * ~shrink_mask) ** 2).sum(axis=1) / no_shrink_var2 + np.log1p(
        (beta[:, shrink_index] / prior_scale) ** 2
    )
    nll = (
        counts * xbeta - (counts + size[:, None]) * np.logaddexp(xbeta + offset, log_size)
    ).sum(axis=1)
    return prior - nll


def apeglm_map_chunk(
    x: np.ndarray,
    counts: np.ndarray,
    size: np.ndarray,
    offset: np.ndarray,
    prior_no_shrink_scale: float,
    prior_scale: float,
    shrink_index: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched apeglm MAP fit (pydeseq2 ``nbinomGLM``) for ``counts`` of shape (genes, n).

    Damped Newton: the Hessian is made positive definite by adding a multiple of the
    identity where the Cauchy prior makes it indefinite, and every step is
    backtracked until the Armijo condition holds.

    Parameters
    ----------
    x : ndarray
        ``(n, p)`` design matrix.
    counts : ndarray
        ``(genes, n)`` raw counts.
    size : ndarray
        ``(genes,)`` NB size (1 / dispersion).
    offset : ndarray
        ``(n,)`` log size factors, or ``(genes, n)`` log normalization factors.
    prior_no_shrink_scale, prior_scale : float
        Prior scales as in pydeseq2.
    shrink_index : int
        Coefficient to shrink.
    Returns
    -------
    beta : ndarray
        ``(genes, p)`` MAP coefficients.
    inv_hessian : ndarray
        ``(genes, p, p)`` inverse Hessian of the (unscaled) objective.
    converged : ndarray
        ``(genes,)``.
    """
    num_genes = counts.shape[0]
    num_coef = x.shape[1]
    offset = np.broadcast_to(np.asarray(offset, dtype=float), counts.shape)
    shrink_mask = np.zeros(num_coef, dtype=bool)
    shrink_mask[shrink_index] = True
    no_shrink_var2 = 2 * prior_no_shrink_scale**2
    args = (x, counts, size, offset, no_shrink_var2, prior_scale, shrink_index, shrink_mask)
    apeglm_start = np.tile(0.1 * (-1.0) ** np.arange(num_coef), (num_genes, 1))
    beta, _, converged = _damped_newton(apeglm_start, args, prior_no_shrink_scale)
    _, hess = _gradient_and_hessian(beta, args, np.arange(num_genes), prior_no_shrink_scale)
    return beta, batched_inv(hess), converged


def _gradient_and_hessian(
    beta: np.ndarray, args: tuple, rows: np.ndarray, prior_no_shrink_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of the apeglm objective for the genes ``rows`` at ``beta``."""
    x, counts, size, offset, _, prior_scale, shrink_index, shrink_mask = args
    num_coef = x.shape[1]
    xbeta = beta @ x.T
    c_, s_, off = counts[rows], size[rows, None], offset[rows]
    # (y + size) / (1 + size e^{-eta}), written to avoid overflow
    frac_mu = (c_ + s_) * np.exp(-np.logaddexp(0.0, np.log(s_) - xbeta - off))
    d_nll = (c_ - frac_mu) @ x
    b_s = beta[:, shrink_index]
    d_prior = beta * ~shrink_mask / prior_no_shrink_scale**2
    d_prior[:, shrink_index] = 2 * b_s / (prior_scale**2 + b_s**2)
    grad = d_prior - d_nll
    # (y+size) size e / (size + e)^2 with e = exp(eta + offset), overflow-safe
    log_e = xbeta + off
    log_s = np.log(s_)
    w = (c_ + s_) * np.exp(log_s + log_e - 2 * np.logaddexp(log_s, log_e))
    hess = (w @ outer_columns(x)).reshape(-1, num_coef, num_coef)
    h_diag = np.where(shrink_mask, 0.0, 1.0 / prior_no_shrink_scale**2)
    hess = hess + np.diag(h_diag)
    hess[:, shrink_index, shrink_index] += (
        2 * (prior_scale**2 - b_s**2) / (prior_scale**2 + b_s**2) ** 2
    )
    return grad, hess


def _damped_newton(
    start: np.ndarray, args: tuple, prior_no_shrink_scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped Newton from ``start`` (``(genes, p)``): coefficients, objective, converged."""
    num_genes, num_coef = start.shape
    beta = np.array(start, dtype=float)
    all_rows = np.arange(num_genes)
    fval = _apeglm_objective(beta, *_subset(args, all_rows))
    active = np.ones(num_genes, dtype=bool)
    converged = np.zeros(num_genes, dtype=bool)
    for _ in range(_MAX_SHRINK_ITER):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        b = beta[idx]
        grad, hess = _gradient_and_hessian(b, args, idx, prior_no_shrink_scale)
        eig_min = np.linalg.eigvalsh(hess)[:, 0]
        shift = np.where(eig_min > 1e-8, 0.0, 1e-6 - eig_min + 1e-3 * np.abs(eig_min))
        direction = -np.linalg.solve(
            hess + shift[:, None, None] * np.eye(num_coef), grad[:, :, None]
        )[:, :, 0]
        slope = (grad * direction).sum(axis=1)
        step = np.ones(idx.size)
        f0 = fval[idx]
        trial_f = np.full(idx.size, np.inf)
        pending = np.ones(idx.size, dtype=bool)
        for _ in range(60):
            p_idx = np.flatnonzero(pending)
            if p_idx.size == 0:
                break
            cand = b[p_idx] + step[p_idx, None] * direction[p_idx]
            f_c = _apeglm_objective(cand, *_subset(args, idx[p_idx]))
            accept = np.isfinite(f_c) & (
                f_c <= f0[p_idx] + 1e-4 * step[p_idx] * slope[p_idx]
            )
            trial_f[p_idx[accept]] = f_c[accept]
            pending[p_idx[accept]] = False
            step[p_idx[~accept]] *= 0.5
        moved = ~pending
        new_b = b + (step * moved)[:, None] * direction
        change = np.abs(new_b - b).max(axis=1)
        f_new = np.where(moved, trial_f, f0)
        beta[idx] = new_b
        fval[idx] = f_new
        grad_small = np.abs(grad).max(axis=1) <= 1e-8 * np.maximum(np.abs(f0), 1.0)
        done = grad_small | (change < 1e-12) | (
            moved & (np.abs(f0 - f_new) <= 1e-14 * np.maximum(np.abs(f0), 1.0))
        )
        converged[idx[done]] = True
        # a failed line search at a non-stationary point: give up on that gene
        stuck = ~moved & ~grad_small
        converged[idx[stuck]] = False
        active[idx[done | stuck]] = False
    return beta, fval, converged


def _subset(args: tuple, rows: np.ndarray) -> tuple:
    """Restrict the gene-indexed entries (counts, size, offset) of the apeglm args to ``rows``."""
    x, counts, size, offset, *rest = args
    return (x, counts[rows], size[rows], offset[rows], *rest)
