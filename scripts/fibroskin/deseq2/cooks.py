"""Cook's distances and outlier replacement: R DESeq2's ``replaceOutliers`` and ``refitWithoutOutliers``.

pydeseq2 computes Cook's distances and replaces the counts of outliers (samples in cells
with at least ``minReplicatesForReplace = 7`` replicates whose Cook's distance exceeds
``qf(0.99, p, m - p)``) by the trimmed mean of the gene's normalised counts, as R does.
The genes with a replaced count are then refitted: pydeseq2 does this on a plain
``DeseqDataSet``; :func:`refit_without_outliers` refits on a data set of the caller's own
class, scheme and backend, so the refit uses the same estimators as the main fit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pydeseq2.dds import DeseqDataSet


def refit_without_outliers(dds: DeseqDataSet) -> None:
    """R's ``refitWithoutOutliers`` on a fitted ``dds``, in place.

    The sub-data set of the genes with replaced counts is of ``type(dds)`` with the same
    ``trend_scheme`` and backend (with ``"r"``: R's MAP starting rule, as R's
    ``refitWithoutOutliers`` calls ``estimateDispersionsMAP``); with normalization factors,
    those of the refitted genes, as R subsets them with the genes. As in R and pydeseq2,
    the trend and the prior variance are not refitted and baseMean is recomputed from
    the replaced counts.

    Parameters
    ----------
    dds : DeseqDataSet
        A :class:`fibroskin.deseq2.dataset.FastDeseqDataSet` after its Cook's distances.
    """
    if "replaced" not in dds.var:
        dds._replace_outliers()
    new_all_zeroes = (dds.counts_to_refit.X == 0).all(axis=0)
    dds.new_all_zeroes_genes = dds.counts_to_refit.var_names[new_all_zeroes]
    dds.var["refitted"] = dds.var["replaced"].copy()
    dds.var.loc[dds.var["refitted"], "refitted"] = ~new_all_zeroes
    if new_all_zeroes.sum() > 0:
        dds.var.loc[dds.new_all_zeroes_genes, "_normed_means"] = 0
        dds.varm["LFC"].loc[dds.new_all_zeroes_genes, :] = 0
    if dds.var["refitted"].sum() == 0:
        return
    counts = np.asarray(dds.counts_to_refit.X)[:, ~new_all_zeroes]
    genes = dds.counts_to_refit.var_names[~new_all_zeroes]
    sub_dds = type(dds)(
        trend_scheme=getattr(dds, "trend_scheme", "pydeseq2"),
        counts=pd.DataFrame(counts, index=dds.obs_names, columns=genes),
        metadata=dds.obs,
        design=dds.design,
        min_mu=dds.min_mu,
        min_disp=dds.min_disp,
        max_disp=dds.max_disp,
        refit_cooks=dds.refit_cooks,
        min_replicates=dds.min_replicates,
        beta_tol=dds.beta_tol,
        inference=dds.inference,
        quiet=True,
    )
    size_factors = dds.obs["size_factors"].to_numpy(float)
    sub_dds.obs["size_factors"] = size_factors
    if "normalization_factors" in dds.counts_to_refit.layers:
        # R subsets normalizationFactors with the genes; its refit uses them throughout
        factors = np.asarray(dds.counts_to_refit.layers["normalization_factors"])[:, ~new_all_zeroes]
        sub_dds.layers["normalization_factors"] = factors
        sub_dds.layers["normed_counts"] = sub_dds.X / factors
    else:
        sub_dds.layers["normed_counts"] = sub_dds.X / size_factors[:, None]
    sub_dds.fit_genewise_dispersions()
    sub_dds.uns["disp_function_type"] = dds.uns["disp_function_type"]
    if sub_dds.uns["disp_function_type"] == "parametric":
        sub_dds.uns["trend_coeffs"] = dds.uns["trend_coeffs"]
    elif sub_dds.uns["disp_function_type"] == "mean":
        sub_dds.uns["mean_disp"] = dds.uns["mean_disp"]
    sub_dds.var["_normed_means"] = sub_dds.layers["normed_counts"].mean(axis=0)
    sub_dds.var["fitted_dispersions"] = sub_dds.disp_function(sub_dds.var["_normed_means"])
    sub_dds.uns["_squared_logres"] = dds.uns["_squared_logres"]
    sub_dds.uns["prior_disp_var"] = dds.uns["prior_disp_var"]
    sub_dds.fit_MAP_dispersions()
    sub_dds.fit_LFC()
    refitted = dds.var["refitted"].to_numpy(bool)
    for column in ("_normed_means", "genewise_dispersions", "fitted_dispersions", "dispersions"):
        dds.var.loc[refitted, column] = sub_dds.var[column].to_numpy()
    dds.varm["LFC"].loc[refitted, :] = sub_dds.varm["LFC"].to_numpy()
    dds.layers["replace_cooks"] = dds.layers["cooks"].copy()
    replaceable = dds.obs["replaceable"].to_numpy(bool)
    dds.layers["replace_cooks"][np.ix_(replaceable, np.flatnonzero(refitted))] = 0.0
