"""Likelihood ratio test: R DESeq2's ``nbinomLRT`` (``DESeq(test = "LRT", reduced = )``).

Both models are fitted by R's ``fitNbinomGLMs`` (:mod:`fibroskin.deseq2.nbinom_glm`) at
the final dispersions of the full design; the statistic is ``2 (logLik full - logLik
reduced)`` with R's ``dnbinom`` log-likelihoods summed as ``rowSums`` does, and the
p-value is ``pchisq(stat, df, lower.tail = FALSE)`` with ``df`` the difference in the
number of coefficients. The reduced design ``~1`` takes ``fitNbinomGLMs``' intercept-only
shortcut (the mean of the normalised counts), as in R.

R's Cook's distances, outlier replacement and refit are the same under the LRT as under
the Wald test (the full model's fit is the Wald fit): genes whose counts were replaced
are tested on the replaced counts, as R's ``refitWithoutOutliers`` runs ``nbinomLRT`` on
them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import chi2

from fibroskin.deseq2.nbinom_glm import fit_nbinom_glms

if TYPE_CHECKING:
    from pydeseq2.dds import DeseqDataSet


def check_nested(full: pd.DataFrame, reduced: pd.DataFrame, full_variables: list[str],
                 reduced_variables: list[str]) -> int:
    """R's ``checkLRT`` and degrees of freedom: reduced variables within the full design, ``df >= 1``.

    Returns
    -------
    int
        ``ncol(full) - ncol(reduced)``.

    Raises
    ------
    ValueError
        With R's reason.
    """
    missing = [v for v in reduced_variables if v not in full_variables]
    if missing:
        raise ValueError(f"the following variables in the reduced formula are not in the full formula: "
                         f"{', '.join(missing)}")
    df = full.shape[1] - reduced.shape[1]
    if df < 1:
        raise ValueError("less than one degree of freedom: the reduced design must have fewer coefficients "
                         f"than the full design ({reduced.shape[1]} vs {full.shape[1]})")
    return df


def r_nbinom_lrt(dds: DeseqDataSet, reduced: pd.DataFrame, intercept_only: bool = False) -> None:
    """R's ``nbinomLRT`` on a fitted :class:`~fibroskin.deseq2.dataset.FastDeseqDataSet`, in place.

    Adds ``var["lrt_stat"]``, ``var["lrt_pvalue"]`` (NaN for all-zero genes) and
    ``uns["lrt_df"]``.

    Parameters
    ----------
    dds : FastDeseqDataSet
        Fitted with ``trend_scheme="r"`` (dispersions, and the Cook's refit if any).
    reduced : pandas.DataFrame
        Reduced model matrix (samples x coefficients), nested in the full one.
    intercept_only : bool
        The reduced design is ``~1`` (R's intercept-only shortcut).
    """
    full = dds.obsm["design_matrix"]
    df = full.shape[1] - reduced.shape[1]
    counts = np.asarray(dds.X, dtype=float).T
    if "replace_counts" in dds.layers:
        refitted = dds.var["refitted"].to_numpy(bool)
        counts[refitted] = np.asarray(dds.layers["replace_counts"], dtype=float).T[refitted]
    tested = (counts.sum(axis=1) > 0) & np.isfinite(dds.var["dispersions"].to_numpy(float))
    rows = np.flatnonzero(tested)
    factors = dds._gene_factors(rows)
    dispersions = dds.var["dispersions"].to_numpy(float)[rows]
    chunk_size = getattr(dds.inference, "chunk_size", None)
    full_fit = fit_nbinom_glms(counts[rows], factors, full.to_numpy(float), dispersions, log_like=True,
                               min_mu=dds.min_mu, chunk_size=chunk_size)
    reduced_fit = fit_nbinom_glms(counts[rows], factors, np.asarray(reduced, dtype=float), dispersions,
                                  log_like=True, min_mu=dds.min_mu, intercept_only=intercept_only,
                                  chunk_size=chunk_size)
    stat = np.full(dds.n_vars, np.nan)
    stat[rows] = 2 * (full_fit.log_like - reduced_fit.log_like)
    pvalue = np.full(dds.n_vars, np.nan)
    pvalue[rows] = chi2.sf(stat[rows], df)
    dds.var["lrt_stat"] = stat
    dds.var["lrt_pvalue"] = pvalue
    dds.uns["lrt_df"] = int(df)
