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

import numpy as np
import pandas as pd
from pydeseq2.ds import DeseqStats

from fibroskin.deseq2.independent_filtering import independent_filtering


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
