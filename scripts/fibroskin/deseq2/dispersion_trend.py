"""The dispersion trend: R DESeq2's ``parametricDispersionFit``, and pydeseq2's, vectorised.

``alpha(mu) = a0 + a1 / mu`` is a gamma GLM with identity link of the gene-wise
dispersions on ``1 / mean``, refitted on the genes whose residual ratio lies in
``(1e-4, 15)`` until the coefficients settle.

* R's scheme (:func:`r_parametric_dispersion_fit`, ``FastDeseqDataSet(trend_scheme="r")``):
  genes at or below ``100 * minDisp`` are excluded, the fit starts from ``(0.1, 1)``, the
  set of genes is recomputed from all of them each round, and each GLM stops where R's
  ``glm.fit`` stops (:func:`r_glm_gamma_identity`).
* pydeseq2's scheme (:func:`pydeseq2_trend_keep`): pydeseq2's iteration without its
  per-gene pandas loop. Departure from pydeseq2 0.5.4 (deliberate): its gamma GLM is
  solved by Fisher scoring (:func:`fit_gamma_identity_glm`, what R's ``glm`` does) rather
  than L-BFGS-B; both minimise the same loss, Fisher scoring just converges tighter. If
  it fails (non-positive fitted trend) it falls back to pydeseq2's L-BFGS-B
  (:func:`stock_gamma_trend`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from fibroskin.deseq2.r_lapack import linpack_least_squares
from fibroskin.deseq2.r_math import c_log

if TYPE_CHECKING:
    from pydeseq2.inference import Inference


def fit_gamma_identity_glm(
    x: np.ndarray,
    y: np.ndarray,
    start: np.ndarray | None = None,
    tol: float = 1e-10,
    maxiter: int = 100,
) -> np.ndarray | None:
    """Gamma GLM with identity link by Fisher scoring (as R's ``glm``).

    Minimises ``mean(y / mu + log mu)`` with ``mu = x @ coef``, the loss pydeseq2
    minimises with L-BFGS-B (the gamma deviance up to constants).

    Parameters
    ----------
    x : ndarray
        ``(genes, 2)`` covariates with intercept column.
    y : ndarray
        ``(genes,)`` positive targets (gene-wise dispersions).
    start : ndarray, optional
        Starting coefficients (R's ``start``); default starts from ``mu = y`` (R's
        ``Gamma()$initialize``).
    tol : float
        Relative change of the loss at which to stop.
    maxiter : int
        Iteration cap.

    Returns
    -------
    ndarray or None
        Coefficients, or ``None`` if a fitted mean became non-positive or no
        convergence (callers then fall back).
    """
    mu = y.copy() if start is None else x @ start
    if (mu <= 0).any():
        return None
    loss_old = np.inf
    for _ in range(maxiter):
        w = 1.0 / mu**2
        coeffs = np.linalg.solve((x.T * w) @ x, (x.T * w) @ y)
        mu = x @ coeffs
        if (mu <= 0).any():
            return None
        loss = np.mean(y / mu + np.log(mu))
        if np.abs(loss - loss_old) <= tol * (np.abs(loss) + 0.1):
            return coeffs
        loss_old = loss
    return None


def stock_gamma_trend(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """pydeseq2's L-BFGS-B gamma trend fit, used only when Fisher scoring fails."""

    def loss(coeffs: np.ndarray) -> float:
        mu = x @ coeffs
        return np.nanmean(y / mu + np.log(mu), axis=0)

    def grad(coeffs: np.ndarray) -> np.ndarray:
        mu = x @ coeffs
        return -np.nanmean(((y / mu - 1)[:, None] * x) / mu[:, None], axis=0)

    try:
        res = minimize(loss, x0=np.array([1.0, 1.0]), jac=grad, method="L-BFGS-B",
                       bounds=[(1e-12, np.inf)])
    except RuntimeWarning:
        return np.array([np.nan, np.nan]), np.array([np.nan, np.nan]), False
    return res.x, x @ res.x, bool(res.success)


def pydeseq2_trend_keep(
    inference: Inference, covariates: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """pydeseq2's iterative trend fit, without its per-gene pandas loop.

    Same arithmetic as ``DeseqDataSet._fit_parametric_dispersion_trend``: fit on all
    genes, then repeatedly drop genes whose dispersion / prediction ratio is outside
    ``[1e-4, 15)`` (cumulatively) until the coefficients stabilise.

    Parameters
    ----------
    inference : Inference
        Backend providing ``dispersion_trend_gamma_glm``.
    covariates : ndarray
        ``1 / normed mean`` per gene (non-finite entries are ignored).
    targets : ndarray
        Gene-wise dispersions.

    Returns
    -------
    coeffs : ndarray or None
        ``(a0, a1)``, or ``None`` when pydeseq2 would switch to the mean trend.
    keep : ndarray
        Genes used in the last fit.
    """
    keep = np.isfinite(covariates)
    old = np.array([0.1, 0.1])
    coeffs = np.array([1.0, 1.0])
    while (coeffs > 1e-10).all() and (np.log(np.abs(coeffs / old)) ** 2).sum() >= 1e-6:
        old = coeffs
        coeffs, predictions, converged = inference.dispersion_trend_gamma_glm(
            pd.Series(covariates[keep]), pd.Series(targets[keep])
        )
        if not converged or (coeffs <= 1e-10).any():
            return None, keep
        ratio = targets[keep] / predictions
        drop = (ratio < 1e-4) | (ratio >= 15)
        keep[np.flatnonzero(keep)[drop]] = False
    return np.asarray(coeffs), keep


def r_parametric_dispersion_fit(
    means: np.ndarray, disps: np.ndarray, min_disp: float
) -> np.ndarray | None:
    """R DESeq2's ``parametricDispersionFit`` on genes with ``disp > 100 * min_disp``.

    Departures of pydeseq2 that this undoes: R excludes gene-wise dispersions at or
    below ``100 * minDisp`` from the fit (``useForFit``); it starts from
    ``coefs = (0.1, 1)``; and it recomputes the set of genes with residual ratio in
    ``(1e-4, 15)`` from all fit genes at every iteration (pydeseq2 starts from all
    genes and drops them cumulatively).

    Parameters
    ----------
    means : ndarray
        Mean of normalised counts per gene.
    disps : ndarray
        Gene-wise dispersions.
    min_disp : float
        Lower dispersion bound.

    Returns
    -------
    ndarray or None
        ``(a0, a1)``, or ``None`` where R would stop with "parametric dispersion fit
        failed" / "did not converge".
    """
    use = (disps > 100 * min_disp) & np.isfinite(disps) & (means > 0)
    means, disps = means[use], disps[use]
    coefs = np.array([0.1, 1.0])
    for _ in range(11):
        residuals = disps / (coefs[0] + coefs[1] / means)
        good = (residuals > 1e-4) & (residuals < 15)
        x = np.column_stack([np.ones(int(good.sum())), 1.0 / means[good]])
        new, converged = r_glm_gamma_identity(x, disps[good], start=coefs)
        if new is None or not (new > 0).all():
            return None
        old, coefs = coefs, new
        if np.sum(np.log(coefs / old) ** 2) < 1e-6 and converged:
            return coefs
    return None


def _r_sum(values: np.ndarray) -> float:
    """R's ``sum``: accumulated in order in ``long double``, then rounded."""
    return float(np.cumsum(np.asarray(values, dtype=np.longdouble))[-1]) if len(values) else 0.0


def _gamma_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """``sum(Gamma()$dev.resids(y, mu, 1))`` with R's arithmetic."""
    return _r_sum(-2.0 * (c_log(y / mu) - (y - mu) / mu))


def r_glm_gamma_identity(
    x: np.ndarray, y: np.ndarray, start: np.ndarray, epsilon: float = 1e-8, maxit: int = 25
) -> tuple[np.ndarray | None, bool]:
    """``glm(y ~ x, family = Gamma(link = "identity"), start = start)`` as R's ``glm.fit``.

    Fisher scoring with R's own arithmetic: each step is the LINPACK least-squares fit
    (``Cdqrls``, :func:`fibroskin.deseq2.r_lapack.linpack_least_squares`) of ``z * w`` on
    ``x * w`` with ``w = sqrt(1 / mu^2)`` and working response ``z = eta + (y - mu)``, the
    linear predictor by reference ``dgemv``, the deviance summed by R's ``sum``
    (``long double``); a step that makes a mean non-positive is halved towards the
    previous coefficients, as ``glm.fit`` does; it stops when the deviance changes by
    less than ``epsilon * (|dev| + 0.1)``. So the coefficients are R's to the last bit.

    Parameters
    ----------
    x : ndarray
        ``(m, 2)`` model matrix with intercept.
    y : ndarray
        ``(m,)`` positive responses.
    start : ndarray
        Starting coefficients.
    epsilon, maxit : float, int
        ``glm.control`` settings.

    Returns
    -------
    coefficients : ndarray or None
        ``None`` where R stops with an error (no valid start, or a step it cannot correct).
    converged : bool
        ``fit$converged``.
    """

    def predictor(coefs: np.ndarray) -> np.ndarray:
        eta = np.zeros(x.shape[0])
        for j in range(x.shape[1]):
            eta = eta + coefs[j] * x[:, j]
        return eta

    def valid(mu: np.ndarray) -> bool:
        return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))

    coef_old = np.asarray(start, dtype=float)
    coefs = coef_old.copy()
    mu = predictor(coefs)
    if not valid(mu):
        return None, False
    dev_old = _gamma_deviance(y, mu)
    tol = min(1e-7, epsilon / 1000)
    for _ in range(maxit):
        eta = mu
        z = eta + (y - mu)
        w = np.sqrt(1.0 / (mu * mu))
        coefs = linpack_least_squares(x * w[:, None], z * w, tol)
        mu = predictor(coefs)
        dev = _gamma_deviance(y, mu) if valid(mu) else np.nan
        if not np.isfinite(dev) or not valid(mu):
            for _halving in range(maxit):
                coefs = (coefs + coef_old) / 2
                mu = predictor(coefs)
                if valid(mu):
                    break
            else:
                return None, False
            dev = _gamma_deviance(y, mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            return coefs, True
        dev_old = dev
        coef_old = coefs
    return coefs, False
