"""Tests against a log2 fold-change threshold: R DESeq2's ``results(lfcThreshold = , altHypothesis = )``.

With ``lfcThreshold = T > 0`` (or ``altHypothesis`` other than ``greaterAbs``) R replaces the
Wald statistic and p-value of every gene (``pfunc(q) = pnorm(q, lower.tail = FALSE)``):

=============  ==========================================  ======================================
alternative    stat                                        p-value
=============  ==========================================  ======================================
greaterAbs     ``sign(LFC) max((|LFC| - T) / SE, 0)``      ``min(1, 2 pfunc((|LFC| - T) / SE))``
lessAbs        ``min(max((T - LFC)/SE, 0),                 ``max(pfunc((T - LFC) / SE),
               max((LFC + T)/SE, 0))``                     pfunc((LFC + T) / SE))``
greater        ``max((LFC - T) / SE, 0)``                  ``pfunc((LFC - T) / SE)``
less           ``min((LFC + T) / SE, 0)``                  ``pfunc((-T - LFC) / SE)``
=============  ==========================================  ======================================

(pydeseq2's ``lessAbs`` and ``greaterAbs`` differ from these.) Independent filtering and
the Cook's filter then work on these p-values, as in R.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

AltHypothesis = Literal["greaterAbs", "lessAbs", "greater", "less"]
#: R's ``altHypothesis`` choices.
ALT_HYPOTHESES: tuple[str, ...] = ("greaterAbs", "lessAbs", "greater", "less")


def threshold_test(
    lfc: NDArray[np.float64], se: NDArray[np.float64], threshold: float, alt_hypothesis: AltHypothesis
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """R's threshold statistic and p-value of each gene (see the module table).

    Parameters
    ----------
    lfc, se : ndarray
        log2 fold changes and their standard errors.
    threshold : float
        ``lfcThreshold`` (log2 scale, >= 0; > 0 for ``lessAbs``).
    alt_hypothesis : str
        One of :data:`ALT_HYPOTHESES`.

    Returns
    -------
    stat, pvalue : ndarray
    """
    if alt_hypothesis not in ALT_HYPOTHESES:
        raise ValueError(f"alt_hypothesis must be one of {ALT_HYPOTHESES}, got {alt_hypothesis!r}")
    if threshold < 0:
        raise ValueError(f"lfc_threshold must be >= 0, got {threshold}")
    if threshold == 0 and alt_hypothesis == "lessAbs":
        raise ValueError("alt_hypothesis 'lessAbs' needs a positive lfc_threshold")
    lfc = np.asarray(lfc, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if alt_hypothesis == "greaterAbs":
            distance = (np.abs(lfc) - threshold) / se
            return np.sign(lfc) * _pmax0(distance), np.minimum(1.0, 2 * norm.sf(distance))
        if alt_hypothesis == "lessAbs":
            above = (threshold - lfc) / se
            below = (lfc + threshold) / se
            stat = np.minimum(_pmax0(above), _pmax0(below))
            return stat, np.maximum(norm.sf(above), norm.sf(below))
        if alt_hypothesis == "greater":
            distance = (lfc - threshold) / se
            return _pmax0(distance), norm.sf(distance)
        distance = (lfc + threshold) / se
        return np.where(np.isnan(distance), np.nan, np.fmin(distance, 0.0)), norm.sf((-threshold - lfc) / se)


def _pmax0(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``pmax(values, 0)``: NA stays NA."""
    return np.where(np.isnan(values), np.nan, np.fmax(values, 0.0))
