"""Wald test: standard errors of a contrast and its p-values (R DESeq2's ``nbinomWaldTest``).

The standard error of ``c^T beta`` is ``sqrt(c^T H c)`` with ``H = (X^T W X + ridge)^-1
X^T W X (X^T W X + ridge)^-1``, as R's ``fitBeta`` computes the sandwich. With R's rules
the weights come from the mean bounded below by ``minmu = 0.5`` (pydeseq2 uses the
unbounded mean, which inflates the SE of genes with an all-zero group by up to ~35%) and
the ridge is R's (:data:`fibroskin.deseq2.irls.R_RIDGE`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.stats import norm

from fibroskin.deseq2.arrays import batched_inv, weighted_gram

#: R's ``minmu``: the Wald weights use means bounded below by it.
R_MIN_MU = 0.5


def wald_standard_errors(
    design_matrix: np.ndarray,
    disp: np.ndarray,
    mu: np.ndarray,
    ridge_factor: np.ndarray,
    contrast: np.ndarray,
    min_mu: float | None = None,
) -> np.ndarray:
    """Standard errors of ``contrast @ beta`` for a chunk of genes.

    Parameters
    ----------
    design_matrix : ndarray
        ``(n, p)``.
    disp : ndarray
        ``(genes,)`` dispersions.
    mu : ndarray
        ``(genes, n)`` fitted means.
    ridge_factor : ndarray
        ``(p, p)`` ridge of the fit.
    contrast : ndarray
        ``(p,)`` contrast vector.
    min_mu : float, optional
        Bound the means below by this before weighting (R: ``minmu``); ``None`` for
        pydeseq2's unbounded means.

    Returns
    -------
    ndarray
        ``(genes,)`` standard errors.
    """
    if min_mu is not None:
        mu = np.maximum(mu, min_mu)
    w = mu / (1.0 + mu * disp[:, None])
    gram = weighted_gram(w, design_matrix)
    h_c = batched_inv(gram + ridge_factor) @ contrast
    return np.sqrt(np.einsum("gi,gij,gj->g", h_c, gram, h_c))


def wald_pvalues(
    lfc: np.ndarray,
    se: np.ndarray,
    contrast: np.ndarray,
    lfc_null: float,
    alt_hypothesis: Literal["greaterAbs", "lessAbs", "greater", "less"] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wald statistics and p-values, vectorised form of pydeseq2 ``utils.wald_test``.

    Parameters
    ----------
    lfc : ndarray
        ``(genes, p)`` coefficients (natural log).
    se : ndarray
        ``(genes,)`` standard errors of ``contrast @ lfc``.
    contrast : ndarray
        ``(p,)`` contrast vector.
    lfc_null : float
        Null LFC (natural log).
    alt_hypothesis : str or None
        As in pydeseq2.

    Returns
    -------
    pvalue, stat, se : ndarray
        ``(genes,)`` each.
    """
    se_col = se[:, None]

    def greater(null: float) -> tuple[np.ndarray, np.ndarray]:
        stat = np.fmax((lfc - null) / se_col, 0) @ contrast
        return stat, norm.sf(stat)

    def less(null: float) -> tuple[np.ndarray, np.ndarray]:
        stat = np.fmin((lfc - null) / se_col, 0) @ contrast
        return stat, norm.sf(np.abs(stat))

    if alt_hypothesis is None:
        stat = (lfc - lfc_null) @ contrast / se
        pval = 2 * norm.sf(np.abs(stat))
    elif alt_hypothesis == "greater":
        stat, pval = greater(lfc_null)
    elif alt_hypothesis == "less":
        stat, pval = less(lfc_null)
    elif alt_hypothesis == "greaterAbs":
        stat = (np.sign(lfc) * np.fmax((np.abs(lfc) - lfc_null) / se_col, 0)) @ contrast
        pval = 2 * norm.sf(np.abs(stat))
    elif alt_hypothesis == "lessAbs":
        stat_above, p_above = greater(-abs(lfc_null))
        stat_below, p_below = less(abs(lfc_null))
        stat = np.where(np.abs(stat_below) < np.abs(stat_above), stat_below, stat_above)
        pval = np.maximum(p_above, p_below)
    else:
        raise ValueError(f"unknown alt_hypothesis {alt_hypothesis!r}")
    return pval, stat, se
