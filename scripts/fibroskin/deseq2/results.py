"""Results: pydeseq2's ``DeseqStats`` with R DESeq2's ``results()`` p-value adjustment.

:class:`RFaithfulDeseqStats` is ``DeseqStats`` whose independent filtering is R's
(:mod:`fibroskin.deseq2.independent_filtering`); :func:`r_faithful_padj` gives R's padj
for a ``DeseqStats`` that has run its Wald test::

    stats = RFaithfulDeseqStats(dds, contrast=[...], alpha=0.1, inference=dds.inference)
    stats.summary()                       # results_df holds R's padj
"""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydeseq2.ds import DeseqStats

from fibroskin.deseq2.contrasts import ContrastSpec
from fibroskin.deseq2.independent_filtering import independent_filtering

if TYPE_CHECKING:
    from pydeseq2.dds import DeseqDataSet


def r_faithful_padj(stats: DeseqStats) -> pd.Series:
    """R DESeq2 padj for a ``DeseqStats`` whose Wald test has been run.

    Uses ``stats.p_values`` (after pydeseq2's Cook's filtering if ``summary()`` ran
    with ``cooks_filter=True``), ``stats.base_mean`` and ``stats.alpha``.

    Parameters
    ----------
    stats : DeseqStats
        Statistics object after ``summary()`` (or ``run_wald_test()``).

    Returns
    -------
    pd.Series
        padj indexed by gene.
    """
    if not hasattr(stats, "p_values"):
        raise ValueError("run stats.summary() (or run_wald_test()) first")
    return independent_filtering(stats.base_mean, stats.p_values, stats.alpha)


class RFaithfulDeseqStats(DeseqStats):
    """``DeseqStats`` whose independent filtering is R DESeq2's.

    See :mod:`fibroskin.deseq2.independent_filtering`. With a data set that has R's
    normalization factors (``FastDeseqDataSet(average_lengths=...)``) the Wald test's means
    are ``nf * exp(x beta)`` and apeglm's offsets ``log(nf)``, as in R.
    """

    def _normalization_factors(self) -> np.ndarray | None:
        return getattr(self.dds, "normalization_factors", None)

    def run_wald_test(self) -> None:
        """pydeseq2's Wald test; with normalization factors, means ``nf * exp(x beta)`` (R's ``fitBeta``)."""
        factors = self._normalization_factors()
        if factors is None:
            super().run_wald_test()
            return
        num_vars = self.design_matrix.shape[1]
        mu = np.exp(self.design_matrix.to_numpy(float) @ self.LFC.to_numpy(float).T) * factors
        if self.prior_LFC_var is not None:
            ridge_factor = np.diag(1 / self.prior_LFC_var**2)
        else:
            ridge_factor = np.diag(np.repeat(1e-6, num_vars))
        pvals, stats, se = self.inference.wald_test(
            design_matrix=self.design_matrix.values,
            disp=self.dds.var["dispersions"].values,
            lfc=self.LFC.values,
            mu=mu,
            ridge_factor=ridge_factor,
            contrast=self.contrast_vector,
            lfc_null=np.log(2) * self.lfc_null,
            alt_hypothesis=self.alt_hypothesis,
        )
        self.p_values = pd.Series(pvals, index=self.dds.var_names)
        self.statistics = pd.Series(stats, index=self.dds.var_names)
        self.SE = pd.Series(se, index=self.dds.var_names)
        if self.dds.refit_cooks and self.dds.var["replaced"].sum() > 0:
            self.SE.loc[self.dds.new_all_zeroes_genes] = 0.0
            self.statistics.loc[self.dds.new_all_zeroes_genes] = 0.0
            self.p_values.loc[self.dds.new_all_zeroes_genes] = 1.0

    def lfc_shrink(self, coeff: str, adapt: bool = True) -> None:
        """apeglm shrinkage of coefficient ``coeff`` (``lfcShrink(type = "apeglm")``), in place.

        As pydeseq2's ``DeseqStats.lfc_shrink`` (the prior scale ``min(sqrt(priorVar), 1)``
        from the MLEs and their SEs, apeglm's ``priorVar``; the Cauchy prior on ``coeff``,
        a normal prior of scale 15 on the others), with the offsets ``log(nf)`` where the
        data set has normalization factors (R's ``lfcShrink``). The prior scale used is kept
        in ``apeglm_prior_scale``.
        """
        if coeff not in self.LFC.columns:
            raise KeyError(f"The coeff argument '{coeff}' should be one the LFC columns. "
                           f"The available LFC coeffs are {self.LFC.columns[1:]}.")
        coeff_idx = self.LFC.columns.get_loc(coeff)
        non_zero = self.dds.non_zero_idx
        factors = self._normalization_factors()
        if factors is None:
            offset = np.log(self.dds.obs["size_factors"]).values
        else:
            offset = np.log(factors[:, non_zero])
        prior_scale = 1.0
        if adapt:
            prior_scale = float(np.minimum(np.sqrt(self._fit_prior_var(coeff_idx=coeff_idx)), 1))
        self.apeglm_prior_scale = prior_scale
        lfcs, inv_hessians, converged = self.inference.lfc_shrink_nbinom_glm(
            design_matrix=self.design_matrix.values,
            counts=self.dds.X[:, non_zero],
            size=1.0 / self.dds.var["dispersions"].values[non_zero],
            offset=offset,
            prior_no_shrink_scale=15,
            prior_scale=prior_scale,
            optimizer="L-BFGS-B",
            shrink_index=coeff_idx,
        )
        new_lfc = np.asarray(lfcs)[:, coeff_idx]
        new_se = np.sqrt(np.abs(np.asarray(inv_hessians)[:, coeff_idx, coeff_idx]))
        invalid = ~np.isfinite(new_lfc) | ~np.isfinite(new_se)
        if invalid.any():
            warnings.warn(f"{invalid.sum()} gene(s) had NaN/infinite values during LFC shrinkage, "
                          "their LFCs and SEs were not updated.", UserWarning, stacklevel=2)
        valid_genes = self.dds.non_zero_genes[~invalid]
        self.LFC.loc[valid_genes, coeff] = new_lfc[~invalid]
        self.SE.loc[valid_genes] = new_se[~invalid]
        self._LFC_shrink_converged = pd.Series(pd.array([pd.NA] * len(self.dds.var_names), dtype="boolean"),
                                               index=self.dds.var_names)
        self._LFC_shrink_converged.loc[self.dds.non_zero_genes] = converged
        self.shrunk_LFCs = True
        if hasattr(self, "results_df"):
            self.results_df["log2FoldChange"] = self.LFC.iloc[:, coeff_idx] / np.log(2)
            self.results_df["lfcSE"] = self.SE / np.log(2)
            if not self.quiet:
                print(f"Shrunk log2 fold change & Wald test p-value: {coeff}", file=sys.stderr)

    def _independent_filtering(self) -> None:
        if not hasattr(self, "p_values"):
            self.run_wald_test()
        self.padj = independent_filtering(self.base_mean, self.p_values, self.alpha)


def _contrast_standard_errors(dds: DeseqDataSet, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``sqrt(c' Sigma c)`` on the log2 scale as R's ``fitBeta`` computes it (ridge sandwich).

    The covariance is taken at the fitted means ``nf exp(X beta)`` bounded below by
    ``minmu`` (R's ``getContrast``, and ``betaSE`` of ``nbinomWaldTest``).
    """
    from fibroskin.deseq2.nbinom_glm import LOG2_E, natural_ridge, r_exp
    from fibroskin.deseq2.r_lapack import matrix_times_vectors

    x = dds.obsm["design_matrix"].to_numpy(float)
    beta = dds.varm["LFC"].to_numpy(float)[rows]
    mu = np.maximum(dds._gene_factors(rows) * r_exp(matrix_times_vectors(x, beta)), dds.min_mu)
    alpha = dds.var["dispersions"].to_numpy(float)[rows]
    w = mu / (1.0 + alpha[:, None] * mu)
    gram = np.einsum("gs,si,sj->gij", w, x, x)
    inv = np.linalg.inv(gram + np.diag(natural_ridge(x.shape[1])))
    sigma = inv @ gram @ inv
    return LOG2_E * np.sqrt(np.maximum(np.einsum("i,gij,j->g", vector, sigma, vector), 0.0))


def cooks_outliers(dds: DeseqDataSet, formula: str) -> np.ndarray:
    """Genes whose p-value R's ``results()`` sets to NA: ``maxCooks > qf(0.99, p, m - p)``.

    For a design of one two-level factor, R keeps a gene whose count at its largest Cook's
    distance is exceeded by three or more other counts (pydeseq2 applies that rule to
    every design).
    """
    from scipy.stats import f as f_distribution

    from fibroskin.deseq2.design import design_variables

    design = dds.obsm["design_matrix"]
    m, p = design.shape
    cutoff = f_distribution.ppf(0.99, p, m - p)
    with np.errstate(invalid="ignore"):
        outlier = dds.var["r_max_cooks"].to_numpy(float) > cutoff
    variables = design_variables(formula)
    if outlier.any() and len(variables) == 1 and variables[0] in dds.obs:
        values = dds.obs[variables[0]]
        if isinstance(values.dtype, pd.CategoricalDtype) and len(values.cat.categories) == 2:
            counts = np.asarray(dds.X, dtype=float)
            if "cooks" in dds.layers:
                cooks = np.asarray(dds.layers["cooks"], dtype=float)
                out_counts = {gene: counts[np.nanargmax(cooks[:, gene]), gene] for gene in np.flatnonzero(outlier)}
            else:  # fitted with low_memory: recorded before the distances were dropped
                recorded = dds.var["_count_at_max_cooks"].to_numpy(float)
                out_counts = {gene: recorded[gene] for gene in np.flatnonzero(outlier)}
            for gene, out_count in out_counts.items():
                if (counts[:, gene] > out_count).sum() >= 3:
                    outlier[gene] = False
    return outlier


def r_results(
    dds: DeseqDataSet,
    contrast: ContrastSpec,
    alpha: float = 0.1,
    lfc_threshold: float = 0.0,
    alt_hypothesis: str = "greaterAbs",
) -> pd.DataFrame:
    """R DESeq2's ``results()`` on a :class:`~fibroskin.deseq2.dataset.FastDeseqDataSet` (``trend_scheme="r"``).

    ``results(dds, contrast | name, lfcThreshold, altHypothesis, alpha)``: the contrast's
    log2 fold change and standard error (one coefficient's, or ``getContrast``'s), the Wald
    statistic and p-value, or the LRT's when the fit ran one
    (:mod:`fibroskin.deseq2.lrt`); R's threshold tests (:mod:`fibroskin.deseq2.thresholds`);
    LFC, statistic and p-value 0, 0, 1 where every compared count is zero; the Cook's
    filter (:func:`cooks_outliers`); genes whose counts became all zero after outlier
    replacement reported as 0 / 1; then independent filtering and BH
    (:mod:`fibroskin.deseq2.independent_filtering`).

    Parameters
    ----------
    dds : FastDeseqDataSet
        Fitted by :func:`fibroskin.rnaseq.fit_deseq` (its ``uns["fibroskin"]`` records the
        formula and whether the model matrix is user-supplied).
    contrast : ContrastSpec
    alpha : float
        R's ``alpha``.
    lfc_threshold : float
        R's ``lfcThreshold`` (log2).
    alt_hypothesis : str
        R's ``altHypothesis``.

    Returns
    -------
    pandas.DataFrame
        Indexed by gene: ``baseMean``, ``log2FoldChange``, ``lfcSE``, ``stat``, ``pvalue``,
        ``padj``.
    """
    from scipy.stats import norm

    from fibroskin.deseq2.contrasts import resolve_contrast
    from fibroskin.deseq2.nbinom_glm import LOG2_E
    from fibroskin.deseq2.thresholds import threshold_test

    info = dds.uns.get("fibroskin", {})
    formula = info.get("design", "")
    test = info.get("test", "wald")
    if test == "lrt" and not (lfc_threshold == 0 and alt_hypothesis == "greaterAbs"):
        raise ValueError("tests of log fold change above or below a threshold must be Wald tests (R's results())")
    counts = np.asarray(dds.X, dtype=float).T
    resolved = resolve_contrast(contrast, dds.obsm["design_matrix"], dds.obs, counts, formula,
                                bool(info.get("user_supplied", False)))
    num_genes = dds.n_vars
    lfc = np.full(num_genes, np.nan)
    se = np.full(num_genes, np.nan)
    beta = dds.varm["LFC"].to_numpy(float)
    rows = np.flatnonzero(np.isfinite(beta).all(axis=1) & np.isfinite(dds.var["dispersions"].to_numpy(float)))
    if resolved.coefficient is not None:
        lfc[rows] = resolved.sign * (LOG2_E * beta[rows, resolved.coefficient])
    else:
        lfc[rows] = LOG2_E * (beta[rows] @ resolved.vector)
    se[rows] = _contrast_standard_errors(dds, resolved.vector, rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = lfc / se
    pvalue = 2 * norm.sf(np.abs(stat))
    if resolved.all_zero is not None:
        all_zero = resolved.all_zero & ~(counts.sum(axis=1) == 0)
        lfc[all_zero], stat[all_zero], pvalue[all_zero] = 0.0, 0.0, 1.0
    if test == "lrt":
        stat = dds.var["lrt_stat"].to_numpy(float).copy()
        pvalue = dds.var["lrt_pvalue"].to_numpy(float).copy()
    if not (lfc_threshold == 0 and alt_hypothesis == "greaterAbs"):
        stat, pvalue = threshold_test(lfc, se, lfc_threshold, alt_hypothesis)
    pvalue[cooks_outliers(dds, formula)] = np.nan
    base_mean = dds.var["_normed_means"].to_numpy(float)
    now_zero = dds.var["replaced"].to_numpy(bool) & (base_mean == 0) if "replaced" in dds.var else np.zeros(num_genes, bool)
    lfc[now_zero], se[now_zero], stat[now_zero], pvalue[now_zero] = 0.0, 0.0, 0.0, 1.0
    table = pd.DataFrame({"baseMean": base_mean, "log2FoldChange": lfc, "lfcSE": se, "stat": stat,
                          "pvalue": pvalue}, index=dds.var_names)
    table["padj"] = independent_filtering(table["baseMean"], table["pvalue"], alpha)
    return table
