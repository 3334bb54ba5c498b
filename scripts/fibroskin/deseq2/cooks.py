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
from scipy.stats import f as f_distribution

from fibroskin.deseq2.r_stats import r_row_means

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


# -- R DESeq2's Cook's distances, outlier replacement and refit (trend_scheme="r") ----------


def r_trimmed_row_means(x: np.ndarray, trim: float) -> np.ndarray:
    """``apply(x, 1, mean, trim = trim)``: R's trimmed mean of each row.

    R keeps the ``floor(n * trim) + 1``-th to ``n - floor(n * trim)``-th order statistics
    and averages them as ``mean`` does (``long double`` sum, one correction pass).
    """
    x = np.sort(np.asarray(x, dtype=float), axis=1)
    n = x.shape[1]
    if trim >= 0.5:
        return np.median(x, axis=1)
    low = int(np.floor(n * trim))
    kept = x[:, low:n - low].astype(np.longdouble)
    total = kept.sum(axis=1) if kept.shape[1] < 2 else np.cumsum(kept, axis=1)[:, -1]
    mean = total / kept.shape[1]
    correction = np.cumsum(kept - mean[:, None], axis=1)[:, -1]
    finite = np.isfinite(mean.astype(float))
    mean = np.where(finite, mean + correction / kept.shape[1], mean)
    return mean.astype(float)


def model_cells(design_matrix: np.ndarray) -> np.ndarray:
    """Cell of each sample: samples with identical design rows share one (R's ``modelMatrixGroups``)."""
    _, cells = np.unique(np.asarray(design_matrix, dtype=float), axis=0, return_inverse=True)
    return cells.reshape(-1)


def n_or_more_in_cell(design_matrix: np.ndarray, n: int) -> np.ndarray:
    """R's ``nOrMoreInCell``: samples whose design row is shared by at least ``n`` samples."""
    cells = model_cells(design_matrix)
    return np.bincount(cells)[cells] >= n


def r_robust_moments_dispersions(normed_counts: np.ndarray, design_matrix: np.ndarray) -> np.ndarray:
    """R's ``robustMethodOfMomentsDisp``: trimmed within-cell variance, ``(v - m) / m^2``, >= 0.04.

    Parameters
    ----------
    normed_counts : ndarray
        ``(genes, n)`` normalised counts.
    design_matrix : ndarray
        ``(n, p)``.
    """
    cells = model_cells(design_matrix)
    sizes = np.bincount(cells)
    three_or_more = sizes[cells] >= 3
    if three_or_more.any():
        variances = []
        for cell in np.flatnonzero(sizes >= 3):
            members = normed_counts[:, cells == cell]
            size = members.shape[1]
            # R's cut(n, c(0, 3.5, 23.5, Inf)): trim ratios 1/3, 1/4, 1/8 and their scales
            trim, scale = (1 / 3, 2.04) if size <= 3.5 else ((1 / 4, 1.86) if size <= 23.5 else (1 / 8, 1.51))
            centre = r_trimmed_row_means(members, trim)
            squared = (members - centre[:, None]) ** 2
            variances.append(scale * r_trimmed_row_means(squared, trim))
        variance = np.max(np.column_stack(variances), axis=1)
    else:
        centre = r_trimmed_row_means(normed_counts, 1 / 8)
        variance = 1.51 * r_trimmed_row_means((normed_counts - centre[:, None]) ** 2, 1 / 8)
    mean = r_row_means(normed_counts)
    return np.maximum((variance - mean) / (mean * mean), 0.04)


def r_cooks_distances(
    counts: np.ndarray, normed_counts: np.ndarray, mu: np.ndarray, hat: np.ndarray, design_matrix: np.ndarray
) -> np.ndarray:
    """R's ``calculateCooksDistance``: ``(y - mu)^2 / V / p * H / (1 - H)^2``, ``(genes, n)``.

    ``V = mu + d mu^2`` with the robust moments dispersion ``d``
    (:func:`r_robust_moments_dispersions`), ``mu`` the GLM's fitted means.
    """
    p = design_matrix.shape[1]
    dispersions = r_robust_moments_dispersions(normed_counts, design_matrix)
    variance = mu + dispersions[:, None] * (mu * mu)
    residual = counts - mu
    pearson = (residual * residual) / variance
    one_minus = 1 - hat
    return ((pearson / p) * hat) / (one_minus * one_minus)


def r_max_cooks(cooks: np.ndarray, design_matrix: np.ndarray) -> np.ndarray:
    """R's ``recordMaxCooks``: each gene's largest Cook's distance over samples in cells of 3 or more.

    NaN for every gene when no cell has three samples or ``m <= p``.
    """
    m, p = design_matrix.shape
    samples = n_or_more_in_cell(design_matrix, 3)
    if not (m > p and samples.any()):
        return np.full(cooks.shape[0], np.nan)
    return np.max(cooks[:, samples], axis=1)


def r_replacement_counts(counts: np.ndarray, normalization_factors: np.ndarray, trim: float = 0.2) -> np.ndarray:
    """R's ``replaceOutliers`` values: ``as.integer`` of the 20%-trimmed mean of normalised counts times ``nf``."""
    trimmed = r_trimmed_row_means(counts / normalization_factors, trim)
    return np.trunc(trimmed[:, None] * normalization_factors)


def r_refit_without_outliers(dds: DeseqDataSet) -> None:
    """R's ``replaceOutliers`` and ``refitWithoutOutliers`` on a fitted ``dds``, in place.

    Samples in cells of at least ``dds.min_replicates`` (R's ``minReplicatesForReplace = 7``)
    are replaceable; their counts with a Cook's distance above ``qf(0.99, p, m - p)`` become
    the gene's 20%-trimmed mean of normalised counts times the sample's factor (truncated,
    ``as.integer``). Every gene with a Cook's distance above the cutoff in any sample is
    refitted on its replaced counts: gene-wise dispersion (its own starting values and
    means), the trend at the new baseMean, MAP with the main fit's prior variance and
    outlier rule, GLM. baseMean becomes that of the replaced counts for all genes. The
    maximum Cook's distance that ``results()`` filters on is then taken with the
    replaceable samples set to 0 (NaN for every gene when all samples are replaceable).

    Records ``var["replaced"]``, ``var["refitted"]``, ``var["r_max_cooks"]``,
    ``obs["replaceable"]`` and, when counts were replaced, ``layers["replace_counts"]`` and
    ``layers["replace_cooks"]``.

    Parameters
    ----------
    dds : FastDeseqDataSet
        With ``trend_scheme="r"``, after :meth:`calculate_cooks`.
    """
    from fibroskin.deseq2.genewise_dispersions import r_estimate_genewise
    from fibroskin.deseq2.map_dispersions import dispersion_outliers, r_map_dispersions
    from fibroskin.deseq2.nbinom_glm import fit_nbinom_glms

    design = dds.obsm["design_matrix"].to_numpy(float)
    m, p = design.shape
    replaceable = n_or_more_in_cell(design, dds.min_replicates)
    dds.obs["replaceable"] = replaceable
    dds.var["replaced"] = np.zeros(dds.n_vars, dtype=bool)
    dds.var["refitted"] = np.zeros(dds.n_vars, dtype=bool)
    if m <= p or not replaceable.any():
        return
    cutoff = f_distribution.ppf(0.99, p, m - p)
    cooks = np.asarray(dds.layers["cooks"], dtype=float).T
    with np.errstate(invalid="ignore"):
        outlier = cooks > cutoff
    replace = outlier.any(axis=1)
    if not replace.any():
        return
    counts = np.asarray(dds.X, dtype=float).T
    nf = dds._gene_factors()  # R's getSizeOrNormFactors: size or normalization factors
    new_counts = counts.copy()
    mask = outlier & replaceable[None, :]
    new_counts[mask] = r_replacement_counts(counts, nf)[mask]
    base_mean = r_row_means(new_counts / nf)
    all_zero = new_counts.sum(axis=1) == 0
    refit = replace & ~all_zero
    dds.var["replaced"] = replace
    dds.var["refitted"] = refit
    dds.new_all_zeroes_genes = dds.var_names[replace & all_zero]
    dds.var["_normed_means"] = base_mean
    dds.layers["replace_counts"] = new_counts.T
    if refit.any():
        rows = np.flatnonzero(refit)
        sub_counts, sub_nf = new_counts[rows], nf[rows]
        genewise, mu = r_estimate_genewise(sub_counts, sub_nf, design, dds.min_disp, dds.max_disp, dds.min_mu)
        fitted = np.asarray(dds.disp_function(base_mean[rows]), dtype=float)
        map_dispersions, _ = r_map_dispersions(sub_counts, mu, design, genewise, fitted,
                                               float(np.asarray(dds.uns["prior_disp_var"])),
                                               dds.min_disp, dds.max_disp)
        outliers = np.asarray(dispersion_outliers(genewise, fitted, dds.uns["_squared_logres"]), dtype=bool)
        final = np.where(outliers, genewise, map_dispersions)
        glm = fit_nbinom_glms(sub_counts, sub_nf, design, final, min_mu=dds.min_mu,
                              chunk_size=getattr(dds.inference, "chunk_size", None))
        genes = dds.var_names[rows]
        dds.var.loc[genes, "genewise_dispersions"] = genewise
        dds.var.loc[genes, "fitted_dispersions"] = fitted
        dds.var.loc[genes, "MAP_dispersions"] = map_dispersions
        dds.var.loc[genes, "dispersions"] = final
        dds.var.loc[genes, "_outlier_genes"] = outliers
        dds.varm["LFC"].loc[genes, :] = glm.beta_natural
        dds.var.loc[genes, "_LFC_converged"] = glm.converged
        # R refits only when some replaced gene is not all zero now; then it blanks the
        # results of the others and recomputes maxCooks
        new_all_zero = replace & all_zero
        if new_all_zero.any():
            dds.varm["LFC"].loc[dds.var_names[new_all_zero], :] = np.nan
        replace_cooks = cooks.copy()
        replace_cooks[:, replaceable] = 0.0
        # pydeseq2's DeseqStats (used for apeglm) reads the same zeroed distances
        dds.layers["replace_cooks"] = replace_cooks.T
        if replaceable.all():
            dds.var["r_max_cooks"] = np.nan
        else:
            dds.var["r_max_cooks"] = r_max_cooks(replace_cooks, design)
