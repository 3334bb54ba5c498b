"""MIQE quality measures: standard curves, efficiency-corrected quantities, reference
stability, NTCs, inter-plate calibration and one summary table.

All functions take the tidy well table of :mod:`fibroskin.io.cq` (or frames derived from
it) and return new frames; nothing is kept between calls.

References
----------
- Bustin SA et al. (2009) The MIQE guidelines. Clin Chem 55:611-622.
- Pfaffl MW (2001) A new mathematical model for relative quantification in real-time
  RT-PCR. Nucleic Acids Res 29:e45.
- Vandesompele J et al. (2002) Accurate normalization of real-time quantitative RT-PCR data
  by geometric averaging of multiple internal control genes. Genome Biol 3:research0034.
- Andersen CL, Jensen JL, Ørntoft TF (2004) Normalization of real-time quantitative reverse
  transcription-PCR data: a model-based variance estimation approach to identify genes
  suited for normalization. Cancer Res 64:5245-5250.
- Hellemans J et al. (2007) qBase relative quantification framework and software.
  Genome Biol 8:R19 (inter-run calibration, M < 0.5 for homogeneous samples).
"""

from __future__ import annotations

import platform
from pathlib import Path
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

#: Accepted amplification efficiency (MIQE: 90-110 %).
EFFICIENCY_RANGE_PCT = (90.0, 110.0)
#: Minimum r² of a standard curve.
MIN_R_SQUARED = 0.98
#: A curve needs at least this many distinct dilutions.
MIN_DILUTIONS = 3
#: geNorm M above this is unstable for homogeneous samples (Hellemans 2007).
GENORM_M_LIMIT = 0.5
#: geNorm pairwise variation below which adding a reference gene is unnecessary.
GENORM_V_LIMIT = 0.15
#: An NTC detected within this many cycles of the latest sample Cq is contamination.
NTC_MARGIN_CYCLES = 5.0

STANDARD_CURVE_COLUMNS = [
    "target",
    "n_points",
    "n_dilutions",
    "n_not_detected",
    "quantity_min",
    "quantity_max",
    "slope",
    "intercept",
    "r_squared",
    "amplification",
    "efficiency_pct",
    "flag",
]


# --------------------------------------------------------------------------- standard curves


def fit_standard_curves(
    wells: pd.DataFrame,
    efficiency_range: tuple[float, float] = EFFICIENCY_RANGE_PCT,
    min_r_squared: float = MIN_R_SQUARED,
    min_dilutions: int = MIN_DILUTIONS,
    by_plate: bool = False,
) -> pd.DataFrame:
    """Fit Cq = slope * log10(quantity) + intercept per target from its standard wells.

    Every detected standard well is one point (replicates are not averaged first, so r²
    reflects pipetting scatter too). Amplification factor ``E = 10^(-1/slope)`` (2 = perfect
    doubling) and efficiency ``(E - 1) * 100 %``.

    Parameters
    ----------
    wells
        Tidy well table; rows with ``task == "standard"``, a quantity > 0 and a Cq are used.
    efficiency_range, min_r_squared, min_dilutions
        Limits behind ``flag``.
    by_plate
        Fit each plate's standards separately (adds a ``plate`` column after ``target``):
        runs differ in threshold, so pooling one dilution series run on two plates mixes
        two intercepts.

    Returns
    -------
    DataFrame
        :data:`STANDARD_CURVE_COLUMNS`, one row per target (and plate) with standards,
        sorted.
        ``flag`` is "" or the reasons the curve should not be trusted, joined by "; ".
    """
    standards = wells[(wells["task"] == "standard") & (wells["quantity"] > 0)]
    rows = []
    keys = ["target", "plate"] if by_plate else ["target"]
    for key, group in standards.groupby(keys, sort=True):
        detected = group[np.isfinite(group["cq"])]
        n_dilutions = detected["quantity"].nunique()
        row: dict[str, object] = {
            **dict(zip(keys, key)),
            "n_points": len(detected),
            "n_dilutions": n_dilutions,
            "n_not_detected": len(group) - len(detected),
            "quantity_min": detected["quantity"].min() if len(detected) else np.nan,
            "quantity_max": detected["quantity"].max() if len(detected) else np.nan,
        }
        reasons = []
        if n_dilutions >= 2:
            from scipy import stats  # on first use: a second of start-up otherwise

            fit = stats.linregress(np.log10(detected["quantity"].to_numpy(float)), detected["cq"].to_numpy(float))
            amplification = 10 ** (-1 / fit.slope) if fit.slope < 0 else np.nan
            row.update(
                slope=fit.slope,
                intercept=fit.intercept,
                r_squared=fit.rvalue**2,
                amplification=amplification,
                efficiency_pct=(amplification - 1) * 100,
            )
            if not fit.slope < 0:
                reasons.append("Cq does not fall with quantity (slope >= 0)")
            elif not efficiency_range[0] <= row["efficiency_pct"] <= efficiency_range[1]:
                reasons.append(f"efficiency {row['efficiency_pct']:.1f}% outside {efficiency_range[0]:g}-{efficiency_range[1]:g}%")
            if fit.rvalue**2 < min_r_squared:
                reasons.append(f"r_squared {fit.rvalue**2:.3f} < {min_r_squared:g}")
        else:
            row.update(slope=np.nan, intercept=np.nan, r_squared=np.nan, amplification=np.nan, efficiency_pct=np.nan)
        if n_dilutions < min_dilutions:
            reasons.append(f"fewer than {min_dilutions} dilution points ({n_dilutions})")
        row["flag"] = "; ".join(reasons)
        rows.append(row)
    columns = STANDARD_CURVE_COLUMNS[:1] + ["plate"] + STANDARD_CURVE_COLUMNS[1:] if by_plate else STANDARD_CURVE_COLUMNS
    return pd.DataFrame(rows, columns=columns)


def amplification_factors(
    targets: Iterable[str],
    standard_curves: pd.DataFrame | None = None,
    configured: Mapping[str, float] | None = None,
    default: float = 2.0,
) -> pd.DataFrame:
    """Choose the amplification factor of each target: config, else a clean fit, else default.

    Parameters
    ----------
    targets
        Targets that need a factor.
    standard_curves
        Output of :func:`fit_standard_curves`; a flagged curve is not used.
    configured
        ``qpcr.efficiency`` from the config: ``{gene: amplification}`` with 2 = 100 %.
    default
        Used when neither gives one (2 = the ddCq assumption).

    Returns
    -------
    DataFrame
        Columns ``target``, ``amplification``, ``source`` ("config", "standard curve" or
        "default" with the reason).
    """
    configured = dict(configured or {})
    curves = standard_curves.set_index("target") if standard_curves is not None and len(standard_curves) else None
    rows = []
    for target in targets:
        if target in configured:
            rows.append((target, float(configured[target]), "config"))
        elif curves is not None and target in curves.index and curves.at[target, "flag"] == "":
            rows.append((target, float(curves.at[target, "amplification"]), "standard curve"))
        elif curves is not None and target in curves.index:
            rows.append((target, default, f"default (standard curve flagged: {curves.at[target, 'flag']})"))
        else:
            rows.append((target, default, "default (no standard curve or configured efficiency)"))
    return pd.DataFrame(rows, columns=["target", "amplification", "source"])


# --------------------------------------------------------------------------- replicates


def sample_target_cq(wells: pd.DataFrame) -> pd.DataFrame:
    """Mean Cq of technical replicates per biological sample and target.

    Only wells with ``task == "unknown"`` count. Non-detects are not averaged in (a NaN
    has no cycle value) but counted, so the spread of what was detected stays visible.

    Returns
    -------
    DataFrame
        ``sample``, ``target``, ``cq`` (mean of detected replicates), ``cq_sd`` (sample SD,
        NaN with fewer than two), ``n_replicates``, ``n_detected``.
    """
    unknown = wells[wells["task"] == "unknown"]
    grouped = unknown.groupby(["sample", "target"], sort=True)["cq"]
    summary = grouped.agg(cq="mean", cq_sd="std", n_detected="count", n_replicates="size").reset_index()
    return summary[["sample", "target", "cq", "cq_sd", "n_replicates", "n_detected"]]


# --------------------------------------------------------------------------- Pfaffl


def _amplification_series(targets: pd.Series, amplification: Mapping[str, float] | float) -> pd.Series:
    if isinstance(amplification, (int, float)):
        return pd.Series(float(amplification), index=targets.index)
    missing = sorted(set(targets) - set(amplification))
    if missing:
        raise ValueError(f"no amplification factor for target(s) {', '.join(missing)}")
    return targets.map(lambda target: float(amplification[target]))


def relative_quantities(
    cq: pd.DataFrame,
    amplification: Mapping[str, float] | float = 2.0,
    calibrator_samples: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Pfaffl relative quantity ``RQ = E_target ^ (calibrator_cq - cq)`` per sample and target.

    Parameters
    ----------
    cq
        Long table with ``sample``, ``target``, ``cq`` (e.g. :func:`sample_target_cq`).
    amplification
        Amplification factor per target (2 = 100 % efficiency) or one for all.
    calibrator_samples
        Samples whose mean Cq per target is the calibrator Cq. ``None`` uses calibrator Cq
        0, i.e. ``RQ = E^-cq``; any calibrator only rescales a target by a constant, which
        cancels in ratios between samples.

    Returns
    -------
    DataFrame
        Input columns plus ``amplification``, ``calibrator_cq`` and ``relative_quantity``.
    """
    result = cq.copy()
    result["amplification"] = _amplification_series(result["target"], amplification)
    if calibrator_samples is None:
        result["calibrator_cq"] = 0.0
    else:
        calibrators = result[result["sample"].isin(list(calibrator_samples))]
        if calibrators.empty:
            raise ValueError(f"calibrator sample(s) {', '.join(calibrator_samples)} not found")
        result["calibrator_cq"] = result["target"].map(calibrators.groupby("target")["cq"].mean())
    result["relative_quantity"] = result["amplification"] ** (result["calibrator_cq"] - result["cq"])
    return result


def normalised_expression(
    cq: pd.DataFrame,
    reference_genes: Sequence[str],
    amplification: Mapping[str, float] | float = 2.0,
    calibrator_samples: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Efficiency-corrected normalised expression per sample (Pfaffl 2001, Vandesompele 2002).

    ``normalised_quantity = RQ_target / geometric_mean(RQ_reference genes)``, reported as
    ``log2_normalised_expression``. On the log2 scale, with ``E`` the amplification factor::

        log2 NE = (cal_t - cq_t) log2 E_t - mean_r[(cal_r - cq_r) log2 E_r]

    With ``E = 2`` for every gene and no calibrator this is ``-(cq_t - mean_r cq_r)``, i.e.
    ``-dCq`` of the standard ddCq method with the arithmetic mean of reference Cq as
    ``reference_cq``; differences between groups are then ``-ddCq`` (Livak 2001).

    Parameters
    ----------
    cq
        Long table ``sample``, ``target``, ``cq`` (one row per sample and target).
    reference_genes
        Targets whose geometric mean normalises the others.
    amplification, calibrator_samples
        As in :func:`relative_quantities`.

    Returns
    -------
    DataFrame
        ``sample``, ``target``, ``cq``, ``reference_cq`` (arithmetic mean Cq of the
        reference genes in that sample), ``amplification``, ``relative_quantity``,
        ``normalisation_factor``, ``normalised_quantity``, ``log2_normalised_expression``.
        Samples missing any reference gene get NaN (a partial reference set would shift them).
    """
    quantities = relative_quantities(cq, amplification, calibrator_samples)
    references = quantities[quantities["target"].isin(list(reference_genes))]
    wide_log2 = np.log2(references.pivot(index="sample", columns="target", values="relative_quantity"))
    wide_log2 = wide_log2.reindex(columns=list(reference_genes))
    # mean(axis=1, skipna=False): one missing reference gene invalidates the factor.
    log2_factor = wide_log2.mean(axis=1, skipna=False)
    reference_cq = references.pivot(index="sample", columns="target", values="cq").reindex(columns=list(reference_genes)).mean(axis=1, skipna=False)
    result = quantities.copy()
    result["reference_cq"] = result["sample"].map(reference_cq)
    result["normalisation_factor"] = 2.0 ** result["sample"].map(log2_factor)
    result["normalised_quantity"] = result["relative_quantity"] / result["normalisation_factor"]
    result["log2_normalised_expression"] = np.log2(result["relative_quantity"]) - result["sample"].map(log2_factor)
    return result[
        [
            "sample",
            "target",
            "cq",
            "reference_cq",
            "amplification",
            "relative_quantity",
            "normalisation_factor",
            "normalised_quantity",
            "log2_normalised_expression",
        ]
    ]


# --------------------------------------------------------------------------- geNorm


@dataclass(frozen=True)
class GenormResult:
    """geNorm output.

    Attributes
    ----------
    stability
        ``gene``, ``genorm_m`` (M among all candidates), ``genorm_rank`` (1 = most stable;
        the final pair shares rank 1, as geNorm cannot order two genes).
    steps
        ``step`` (0 = all genes), ``n_genes``, ``gene``, ``m`` (M among the genes left),
        ``average_m``, ``excluded`` (gene dropped after this step, "" for the last).
    pairwise_variation
        ``comparison`` ("V2/3" ...), ``n_genes`` (n), ``v`` (SD of log2(NF_n / NF_n+1)).
    """

    stability: pd.DataFrame
    steps: pd.DataFrame
    pairwise_variation: pd.DataFrame


def genorm_m(log2_quantities: pd.DataFrame) -> pd.Series:
    """geNorm M of each column: mean over the other genes of SD(log2 ratio) across samples.

    Parameters
    ----------
    log2_quantities
        Samples x genes, log2 relative quantities, no missing values.

    Notes
    -----
    SDs are sample SDs (n - 1), as geNorm's Excel implementation used STDEV.
    """
    values = log2_quantities.to_numpy(float)
    # differences[s, j, k] = log2(a_j / a_k) in sample s
    differences = values[:, :, None] - values[:, None, :]
    pair_sd = differences.std(axis=0, ddof=1)
    n_genes = values.shape[1]
    m = pair_sd.sum(axis=1) / (n_genes - 1)
    return pd.Series(m, index=log2_quantities.columns, name="genorm_m")


def genorm(relative_quantity: pd.DataFrame) -> GenormResult:
    """geNorm stability (Vandesompele et al. 2002) with stepwise exclusion and V(n/n+1).

    Parameters
    ----------
    relative_quantity
        Samples (rows) x candidate reference genes (columns) of linear relative quantities
        (e.g. ``relative_quantity`` of :func:`relative_quantities` pivoted). Rows with a
        missing value are dropped, since M compares every gene in the same samples.

    Returns
    -------
    GenormResult
    """
    log2 = np.log2(relative_quantity.astype(float)).dropna(axis=0, how="any")
    genes = list(log2.columns)
    if len(genes) < 2:
        raise ValueError("geNorm needs at least two candidate reference genes")
    if len(log2) < 2:
        raise ValueError("geNorm needs at least two samples measured for every candidate gene")
    remaining = list(genes)
    step_rows, exclusion_order = [], []
    step = 0
    while True:
        m = genorm_m(log2[remaining])
        worst = m.idxmax() if len(remaining) > 2 else ""
        for gene in remaining:
            step_rows.append((step, len(remaining), gene, float(m[gene]), float(m.mean()), worst))
        if len(remaining) == 2:
            break
        exclusion_order.append(worst)
        remaining.remove(worst)
        step += 1
    initial_m = genorm_m(log2)
    ranking = remaining + exclusion_order[::-1]  # most stable first
    rank = {gene: 1 if position < 2 else position + 1 for position, gene in enumerate(ranking)}
    stability = pd.DataFrame(
        {"gene": ranking, "genorm_m": [float(initial_m[g]) for g in ranking], "genorm_rank": [rank[g] for g in ranking]}
    )
    # NF_n: geometric mean of the n best genes; V_n/n+1 = SD(log2 NF_n - log2 NF_n+1).
    pairwise = []
    for n in range(2, len(ranking)):
        nf_n = log2[ranking[:n]].mean(axis=1)
        nf_next = log2[ranking[: n + 1]].mean(axis=1)
        pairwise.append((f"V{n}/{n + 1}", n, float((nf_n - nf_next).std(ddof=1))))
    return GenormResult(
        stability=stability,
        steps=pd.DataFrame(step_rows, columns=["step", "n_genes", "gene", "m", "average_m", "excluded"]),
        pairwise_variation=pd.DataFrame(pairwise, columns=["comparison", "n_genes", "v"]),
    )


# --------------------------------------------------------------------------- NormFinder


def normfinder(log2_expression: pd.DataFrame, groups: pd.Series | Mapping[str, str] | None = None) -> pd.DataFrame:
    """NormFinder stability value (Andersen, Jensen & Ørntoft 2004, Cancer Res 64:5245).

    Model ``y_igj = alpha_ig + beta_gj + e_igj`` for gene i, group g, sample j on the log
    scale. With k genes and n_g samples in group g:

    - residuals ``r_igj = y_igj - ybar_ig. - ybar_.gj + ybar_.g.``;
    - bias-corrected intra-group variance
      ``s2_ig = [sum_j r_igj^2 / (n_g - 1) - sum_i sum_j r_igj^2 / ((n_g - 1) k (k - 1))] / (1 - 2/k)``,
      replaced, when negative, by a quarter of the smallest within-group variance of the
      gene's difference to another gene (as in the authors' R code);
    - inter-group differences ``d_ig = ybar_ig. - ybar_i.. - ybar_.g. + ybar_...``, with
      their variance ``gamma^2 = sum d_ig^2 / ((G - 1)(k - 1)) - sum_ig (s2_ig / n_g) / (k G)``
      (floored at 0);
    - shrunken difference ``d~_ig = d_ig gamma^2 / (gamma^2 + s2_ig / n_g)`` and its variance
      ``v~_ig = s2_ig / n_g + gamma^2 (s2_ig / n_g) / (gamma^2 + s2_ig / n_g)``;
    - stability ``rho_i = mean_g (|d~_ig| + sqrt(v~_ig))`` (lower = more stable).

    Without groups (or one group) only the intra-group part exists and the stability is
    ``sqrt(s2_i)``, the estimated standard deviation of the gene.

    Parameters
    ----------
    log2_expression
        Samples (rows) x candidate genes (columns), log2 relative quantities (with E = 2
        simply ``-Cq``). Rows with a missing value are dropped.
    groups
        Group of each sample (index = sample IDs), e.g. lesional vs non-lesional.

    Returns
    -------
    DataFrame
        ``gene``, ``normfinder_stability``, ``intragroup_sd`` (pooled sqrt(s2)),
        ``intergroup_difference`` (max |d_ig|), sorted from most to least stable.
    """
    data = log2_expression.astype(float).dropna(axis=0, how="any")
    genes = list(data.columns)
    k = len(genes)
    if k < 3:
        raise ValueError("NormFinder needs at least three candidate genes (its variance estimate divides by 1 - 2/k)")
    if groups is None:
        group_of = pd.Series("all", index=data.index)
    else:
        group_of = pd.Series(groups).reindex(data.index)
        if group_of.isna().any():
            missing = ", ".join(map(str, group_of.index[group_of.isna()]))
            raise ValueError(f"no group given for sample(s) {missing}")
    labels = sorted(group_of.unique(), key=str)
    sizes = np.array([int((group_of == label).sum()) for label in labels])
    if (sizes < 2).any():
        raise ValueError("NormFinder needs at least two samples in every group")
    variance = np.empty((k, len(labels)))
    group_means = np.empty((k, len(labels)))
    for column, label in enumerate(labels):
        y = data[group_of == label].to_numpy(float).T  # genes x samples
        n = y.shape[1]
        gene_mean = y.mean(axis=1, keepdims=True)
        sample_mean = y.mean(axis=0, keepdims=True)
        residual = y - gene_mean - sample_mean + y.mean()
        scaled = (residual**2).sum(axis=1) / (n - 1)
        s2 = (scaled - scaled.sum() / (k * (k - 1))) / (1 - 2 / k)
        # Fallback of the published code for a negative estimate: min pairwise variance / 4.
        pair_variance = np.array([[np.var(y[i] - y[j], ddof=1) if i != j else np.inf for j in range(k)] for i in range(k)])
        s2 = np.where(s2 < 0, pair_variance.min(axis=1) / 4, s2)
        variance[:, column] = s2
        group_means[:, column] = gene_mean[:, 0]
    pooled_sd = np.sqrt((variance * (sizes - 1)).sum(axis=1) / (sizes.sum() - len(labels)))
    if len(labels) == 1:
        stability = np.sqrt(variance[:, 0])
        difference = np.zeros(k)
    else:
        d = group_means - group_means.mean(axis=1, keepdims=True) - group_means.mean(axis=0, keepdims=True) + group_means.mean()
        mean_variance = variance / sizes
        gamma2 = max((d**2).sum() / ((len(labels) - 1) * (k - 1)) - mean_variance.sum() / (k * len(labels)), 0.0)
        shrunk = d * gamma2 / (gamma2 + mean_variance)
        shrunk_variance = mean_variance + gamma2 * mean_variance / (gamma2 + mean_variance)
        stability = (np.abs(shrunk) + np.sqrt(shrunk_variance)).mean(axis=1)
        difference = np.abs(d).max(axis=1)
    result = pd.DataFrame(
        {"gene": genes, "normfinder_stability": stability, "intragroup_sd": pooled_sd, "intergroup_difference": difference}
    )
    return result.sort_values(["normfinder_stability", "gene"]).reset_index(drop=True)


# --------------------------------------------------------------------------- reference stability


def reference_stability(
    cq: pd.DataFrame,
    reference_genes: Sequence[str],
    amplification: Mapping[str, float] | float = 2.0,
    groups: pd.Series | Mapping[str, str] | None = None,
    m_limit: float = GENORM_M_LIMIT,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """geNorm and NormFinder on the configured reference genes.

    Parameters
    ----------
    cq
        Long ``sample``, ``target``, ``cq`` table (:func:`sample_target_cq`).
    reference_genes
        Configured reference genes (candidates).
    amplification
        Per-target amplification factors for the relative quantities.
    groups
        Sample -> group for NormFinder's inter-group term.

    Returns
    -------
    stability, pairwise_variation, warnings
        ``stability`` (for ``results/qpcr/reference_stability.tsv``): ``gene``,
        ``genorm_m``, ``genorm_rank``, ``normfinder_stability``, ``normfinder_rank``,
        ``n_samples``, ``flag``. ``pairwise_variation``: ``comparison``, ``n_genes``,
        ``v``, ``below_threshold`` (V < 0.15). ``warnings``: sentences for the log/report.
    """
    genes = list(dict.fromkeys(reference_genes))
    warnings: list[str] = []
    columns = ["gene", "genorm_m", "genorm_rank", "normfinder_stability", "normfinder_rank", "n_samples", "flag"]
    v_columns = ["comparison", "n_genes", "v", "below_threshold"]
    quantities = relative_quantities(cq[cq["target"].isin(genes)], amplification)
    wide = quantities.pivot(index="sample", columns="target", values="relative_quantity").reindex(columns=genes)
    complete = wide.dropna(axis=0, how="any")
    n_samples = len(complete)
    if len(genes) < 2:
        warnings.append(
            f"only one reference gene configured ({', '.join(genes) or 'none'}): its stability cannot be assessed "
            "(MIQE recommends at least two validated reference genes)"
        )
        table = pd.DataFrame([(g, np.nan, np.nan, np.nan, np.nan, n_samples, "single reference gene") for g in genes], columns=columns)
        return table, pd.DataFrame(columns=v_columns), warnings
    if len(complete) < len(wide):
        warnings.append(f"{len(wide) - len(complete)} sample(s) lack a reference gene and are left out of the stability analysis")
    result = genorm(complete)
    table = result.stability.copy()
    if len(genes) >= 3:
        finder = normfinder(np.log2(complete), None if groups is None else pd.Series(groups).reindex(complete.index))
        finder["normfinder_rank"] = np.arange(1, len(finder) + 1)
        table = table.merge(finder[["gene", "normfinder_stability", "normfinder_rank"]], on="gene", how="left")
    else:
        table["normfinder_stability"] = np.nan
        table["normfinder_rank"] = np.nan
        warnings.append("NormFinder needs at least three candidate reference genes; only geNorm is reported")
    table["n_samples"] = n_samples
    table["flag"] = np.where(table["genorm_m"] > m_limit, f"geNorm M > {m_limit:g}", "")
    for gene, m in zip(table["gene"], table["genorm_m"]):
        if m > m_limit:
            warnings.append(f"reference gene {gene}: geNorm M = {m:.3f} > {m_limit:g} (unstable for homogeneous samples)")
    pairwise = result.pairwise_variation.copy()
    pairwise["below_threshold"] = pairwise["v"] < GENORM_V_LIMIT
    return table[columns], pairwise[v_columns], warnings


# --------------------------------------------------------------------------- NTC


def check_ntc(wells: pd.DataFrame, margin: float = NTC_MARGIN_CYCLES, analysed: pd.Series | np.ndarray | None = None) -> pd.DataFrame:
    """Flag NTC wells detected within ``margin`` cycles of the latest analysed sample Cq of the target.

    An NTC at Cq 36 when samples come up by Cq 25 contributes < 0.1 % of the signal
    (2^-11); one within 5 cycles (> 3 %) distorts the latest samples.

    Parameters
    ----------
    wells
        Tidy well table.
    margin
        Cycles an NTC must stay behind the latest sample.
    analysed
        Boolean per row of ``wells``: the sample wells whose Cq enters the analysis (detected,
        not above ``max_cq``, not a dropped outlier, of a sample that is not excluded). Only
        those set the latest sample Cq: a replicate above the cut-off, or a sample excluded
        for want of a reference gene, would hide a contaminated NTC. ``None``: every
        detected sample well.

    Returns
    -------
    DataFrame
        One row per NTC well: ``file``, ``line``, ``plate``, ``well``, ``target``, ``cq``,
        ``latest_sample_cq`` (max Cq of the analysed sample wells of the target),
        ``cycles_after_latest_sample`` (cq - latest_sample_cq), ``flagged`` (bool), ``note``.
    """
    samples = (wells["task"] == "unknown") & np.isfinite(wells["cq"])
    if analysed is not None:
        samples &= np.asarray(analysed, dtype=bool)
    latest = wells[samples].groupby("target")["cq"].max()
    ntc = wells[wells["task"] == "ntc"][["file", "line", "plate", "well", "target", "cq"]].copy()
    ntc["latest_sample_cq"] = ntc["target"].map(latest)
    ntc["cycles_after_latest_sample"] = ntc["cq"] - ntc["latest_sample_cq"]
    detected = np.isfinite(ntc["cq"])
    ntc["flagged"] = detected & ~(ntc["cycles_after_latest_sample"] >= margin)
    ntc["note"] = np.select(
        [~detected, ntc["flagged"] & ntc["latest_sample_cq"].isna(), ntc["flagged"]],
        ["not detected", "detected; no sample Cq to compare with", f"detected within {margin:g} cycles of the latest sample"],
        default=f"detected, more than {margin:g} cycles after the latest sample",
    )
    return ntc.reset_index(drop=True)


# --------------------------------------------------------------------------- instrument values

#: Columns of ``results/qpcr/instrument_values.tsv``.
INSTRUMENT_CHECK_COLUMNS = [
    "file",
    "plate",
    "target",
    "sample",
    "item",
    "file_value",
    "fibroskin_value",
    "difference",
    "agrees",
    "note",
]

_CURVE_COLUMNS = {
    "slope": "slope",
    "intercept": "intercept",
    "r_squared": "r_squared",
    "efficiency_pct": "efficiency_pct",
    "amplification": "amplification",
}


def _tolerance(value: float, decimals: int) -> float:
    """Half a unit of the last printed decimal; full doubles (>= 10 decimals) to 1e-9 relative."""
    if 0 <= decimals < 10:
        return 0.5 * 10.0**-decimals + 1e-12
    return max(abs(value) * 1e-9, 1e-12)


def _cq_half_unit(raw: pd.Series) -> float:
    """The largest rounding error of Cq values as printed: half a unit of their last decimal."""
    decimals = [len(text.split(".", 1)[1]) if "." in text else 0 for text in raw.astype(str) if text and text[0].isdigit()]
    return 0.5 * 10.0 ** -min(decimals) if decimals and min(decimals) < 10 else 0.0


def _curve_rounding(standards: pd.DataFrame, half_unit: float) -> dict[str, float]:
    """Largest change of each fitted value that Cq rounding of +-``half_unit`` can cause.

    The slope is linear in the Cq values: slope = sum (x - mean x) Cq / Sxx, so its bound is
    ``half_unit * sum|x - mean x| / Sxx``; efficiency and amplification follow through
    their derivatives, the intercept through ``mean Cq - slope * mean x``.
    """
    x = np.log10(standards["quantity"].to_numpy(float))
    if len(x) < 2 or half_unit == 0:
        return dict.fromkeys(_CURVE_COLUMNS, 0.0)
    centred = x - x.mean()
    slope_bound = half_unit * np.abs(centred).sum() / (centred**2).sum()
    fit_slope = np.polyfit(x, standards["cq"].to_numpy(float), 1)[0]
    amplification = 10 ** (-1 / fit_slope)
    amplification_bound = amplification * np.log(10) / fit_slope**2 * slope_bound
    return {
        "slope": slope_bound,
        "intercept": half_unit + abs(x.mean()) * slope_bound,
        "r_squared": 0.0,
        "amplification": amplification_bound,
        "efficiency_pct": 100 * amplification_bound,
    }


def _reference_targets(group: pd.DataFrame, sample: str, delta_item: str, mean_item: str, wells: pd.DataFrame) -> list[str]:
    """The target a file's Delta Cq of ``sample`` was taken against: it has no Delta Cq itself."""
    with_delta = set(group.loc[(group["item"] == delta_item) & (group["sample"] == sample), "target"])
    with_mean = set(group.loc[(group["item"] == mean_item) & (group["sample"] == sample), "target"])
    candidates = (with_mean or set(wells.loc[wells["sample"] == sample, "target"])) - with_delta
    return sorted(candidates)


def compare_instrument_values(wells: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Check the numbers an instrument wrote into its export against fibroskin's own.

    Standard-curve slope, intercept, r², efficiency and amplification factor are compared
    with :func:`fit_standard_curves` on the same file's (plate's) standard wells; Cq means
    with the mean of the detected replicates fibroskin read; Delta Cq means with the
    difference of those means to the target the file normalised against (the one without a
    Delta Cq of its own); Design & Analysis's efficiency-adjusted EqCq (= Cq x log2 E) and
    Delta EqCq with fibroskin's mean Cq and fitted amplification factors (Pfaffl's dCq).
    A value agrees when it is within half a unit of the last decimal the file prints.

    QuantStudio's classic software computes the efficiency from its slope rounded to the
    printed 3 decimals; an efficiency that agrees only that way agrees, with a note.

    Returns
    -------
    DataFrame
        :data:`INSTRUMENT_CHECK_COLUMNS`, sorted by file, plate, item, target and sample.
    """
    rows: list[dict[str, object]] = []
    if values is None or values.empty:
        return pd.DataFrame(columns=INSTRUMENT_CHECK_COLUMNS)
    values = values.fillna({"plate": "", "sample": "", "target": ""})
    for (file, plate), group in values.groupby(["file", "plate"], sort=True):
        scope = wells[wells["file"] == file]
        if plate:
            scope = scope[scope["plate"] == plate]
        curves = fit_standard_curves(scope).set_index("target")
        detected = scope[np.isfinite(scope["cq"])]
        means = detected.groupby(["sample", "target"])["cq"].mean()
        counts = detected.groupby(["sample", "target"])["cq"].size()
        half_units = detected.groupby(["sample", "target"])["cq_raw"].agg(_cq_half_unit)
        standards = detected[(detected["task"] == "standard") & (detected["quantity"] > 0)]
        slopes = group[group["item"] == "slope"].set_index("target")
        for entry in group.itertuples(index=False):
            ours, note = np.nan, ""
            target, sample, item = entry.target, entry.sample, entry.item
            tolerance = _tolerance(float(entry.value), int(entry.decimals))
            if item in _CURVE_COLUMNS:
                if target in curves.index and np.isfinite(curves.at[target, "slope"]):
                    ours = float(curves.at[target, _CURVE_COLUMNS[item]])
                    own = standards[standards["target"] == target]
                    rounding = _curve_rounding(own, _cq_half_unit(own["cq_raw"]))[item]
                    note = f"fibroskin's fit of the {int(curves.at[target, 'n_points'])} standard wells of this file"
                    if rounding > 1e-9:
                        note += f"; rounding of the printed Cq allows +-{rounding:.2g}"
                    tolerance += rounding
                    if item == "efficiency_pct" and abs(ours - entry.value) > tolerance:
                        # ABI software (StepOne) derives the efficiency from its slope rounded to
                        # the 3 decimals it prints.
                        printed = int(slopes.at[target, "decimals"]) if target in slopes.index else 3
                        rounded_slope = round(float(curves.at[target, "slope"]), printed)
                        from_rounded = (10 ** (-1 / rounded_slope) - 1) * 100
                        if 0 <= printed < 10 and abs(from_rounded - entry.value) <= tolerance:
                            note = (
                                f"the software computes the efficiency from the slope rounded to {printed} decimals "
                                f"({rounded_slope:.{printed}f}); from the unrounded slope fibroskin gets {ours:.4f}%"
                            )
                            ours = from_rounded
                else:
                    note = "not comparable: no standard wells with a quantity for this target in the file"
                    if item == "amplification" and Path(str(file)).suffix.lower() in (".rdml", ".xml"):
                        note += " (RDML's amplificationEfficiency may come from curve analysis, e.g. LinRegPCR)"
            elif item == "cq_mean":
                if (sample, target) in means.index:
                    ours = float(means[(sample, target)])
                    tolerance += half_units[(sample, target)]
                    note = f"mean of the {int(counts[(sample, target)])} detected well(s) read"
                else:
                    note = "not comparable: no well of this sample and target has a Cq"
            elif item in ("delta_cq_mean", "delta_eqcq_mean"):
                mean_item = "cq_mean" if item == "delta_cq_mean" else "eqcq_mean"
                references = _reference_targets(group, sample, item, mean_item, scope)
                if len(references) == 1 and (sample, target) in means.index and (sample, references[0]) in means.index:
                    reference = references[0]
                    tolerance += half_units[(sample, target)] + half_units[(sample, reference)]
                    if item == "delta_cq_mean":
                        ours = float(means[(sample, target)] - means[(sample, reference)])
                        note = f"mean Cq minus mean Cq of {reference}"
                    else:
                        weight_t, weight_r = np.log2(_amplification(curves, target)), np.log2(_amplification(curves, reference))
                        ours = float(weight_t * means[(sample, target)] - weight_r * means[(sample, reference)])
                        note = f"Pfaffl dCq against {reference} with fibroskin's amplification factors {_amplification_text(curves, [target, reference])}"
                else:
                    note = f"not comparable: the reference of the Delta is not identified ({', '.join(references) or 'none'})"
            elif item == "eqcq_mean":
                if (sample, target) in means.index:
                    amplification = _amplification(curves, target)
                    ours = float(np.log2(amplification) * means[(sample, target)])
                    tolerance += half_units[(sample, target)]
                    implied = 2 ** (entry.value / means[(sample, target)])
                    note = f"Cq x log2(E) with fibroskin's {_amplification_text(curves, [target])}; the file's EqCq implies E {implied:.4f}"
            difference = ours - float(entry.value) if np.isfinite(ours) else np.nan
            rows.append(
                {
                    "file": file,
                    "plate": plate,
                    "target": target,
                    "sample": sample,
                    "item": item,
                    "file_value": float(entry.value),
                    "fibroskin_value": ours,
                    "difference": difference,
                    "agrees": bool(np.isfinite(difference) and abs(difference) <= tolerance),
                    "note": note,
                }
            )
    table = pd.DataFrame(rows, columns=INSTRUMENT_CHECK_COLUMNS)
    return table.sort_values(["file", "plate", "item", "target", "sample"], kind="stable").reset_index(drop=True)


def _amplification(curves: pd.DataFrame, target: str) -> float:
    """The fitted amplification factor, or 2 (100 %) without a standard curve, as the software assumes."""
    if target in curves.index and np.isfinite(curves.at[target, "amplification"]):
        return float(curves.at[target, "amplification"])
    return 2.0


def _amplification_text(curves: pd.DataFrame, targets: list[str]) -> str:
    return ", ".join(
        f"{target} E {_amplification(curves, target):.4f}" + ("" if target in curves.index and np.isfinite(curves.at[target, "amplification"]) else " (no standard curve: 2)")
        for target in targets
    )


def instrument_check_notes(checks: pd.DataFrame, limit: int = 5) -> list[str]:
    """Log lines: every standard-curve value, and per file and item the Cq means that differ."""
    notes = []
    for (file, item), group in checks.groupby(["file", "item"], sort=True):
        if item in _CURVE_COLUMNS:
            for row in group.itertuples(index=False):
                if not np.isfinite(row.fibroskin_value):
                    notes.append(f"{file}: instrument {item} of {row.target} {row.file_value:g}: {row.note}")
                    continue
                verdict = "agrees with" if row.agrees else "DIFFERS from"
                notes.append(
                    f"{'' if row.agrees else 'WARNING: '}{file}: instrument {item} of {row.target} {row.file_value:g} {verdict} "
                    f"fibroskin's {row.fibroskin_value:.6g} ({row.note})"
                )
            continue
        compared = group[np.isfinite(group["fibroskin_value"])]
        differing = compared[~compared["agrees"]]
        text = f"{file}: instrument {item}: {len(compared) - len(differing)} of {len(compared)} agree with fibroskin's"
        if len(group) > len(compared):
            text += f" ({len(group) - len(compared)} not comparable)"
        if len(differing):
            shown = "; ".join(
                f"{row.sample}/{row.target} file {row.file_value:g} vs {row.fibroskin_value:.6g}" for row in differing.head(limit).itertuples(index=False)
            )
            text = f"WARNING: {text}; differing: {shown}" + (" ..." if len(differing) > limit else "")
        notes.append(text)
    return notes


# --------------------------------------------------------------------------- inter-plate calibration


def interplate_calibration(
    wells: pd.DataFrame, calibrator_samples: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove run-to-run Cq shifts estimated from inter-run calibrators.

    For each target, the mean Cq of every calibrator (sample on several plates) on every
    plate is modelled as ``calibrator effect + plate offset`` with offsets summing to zero,
    fitted by least squares. When every calibrator is on every plate this is exactly the
    mean difference of the plate's calibrator Cq to the overall calibrator mean; the model
    also handles calibrators missing from some plates. Offsets are per target because the
    threshold, and so the shift, is set per target and run (Hellemans 2007).

    Parameters
    ----------
    wells
        Tidy well table with several plates.
    calibrator_samples
        Samples to use; default every unknown sample measured on two or more plates.

    Returns
    -------
    corrected, offsets
        ``corrected``: the wells with ``cq`` minus the plate offset of its target, plus
        ``cq_before_calibration`` and ``plate_offset``. Targets on one plate, or on a plate
        without calibrators, get offset 0. ``offsets``: ``plate``, ``target``,
        ``plate_offset``, ``n_calibrators``.
    """
    unknown = wells[(wells["task"] == "unknown") & np.isfinite(wells["cq"])]
    plate_means = unknown.groupby(["target", "sample", "plate"], sort=True)["cq"].mean().reset_index()
    plates_per_pair = plate_means.groupby(["target", "sample"])["plate"].transform("nunique")
    calibrators = plate_means[plates_per_pair >= 2]
    if calibrator_samples is not None:
        calibrators = calibrators[calibrators["sample"].isin(list(calibrator_samples))]
    rows = []
    for target, group in calibrators.groupby("target", sort=True):
        plates = sorted(group["plate"].unique())
        samples = sorted(group["sample"].unique())
        # Unknowns: one effect per calibrator, one offset per plate; last row: sum(offsets) = 0.
        design = np.zeros((len(group) + 1, len(samples) + len(plates)))
        design[np.arange(len(group)), group["sample"].map({s: i for i, s in enumerate(samples)}).to_numpy()] = 1
        design[np.arange(len(group)), len(samples) + group["plate"].map({p: i for i, p in enumerate(plates)}).to_numpy()] = 1
        design[-1, len(samples) :] = 1
        response = np.append(group["cq"].to_numpy(float), 0.0)
        solution = np.linalg.lstsq(design, response, rcond=None)[0]
        counts = group.groupby("plate")["sample"].nunique()
        for index, plate in enumerate(plates):
            rows.append((plate, target, float(solution[len(samples) + index]), int(counts[plate])))
    offsets = pd.DataFrame(rows, columns=["plate", "target", "plate_offset", "n_calibrators"])
    corrected = wells.copy()
    corrected["cq_before_calibration"] = corrected["cq"]
    offset_of = {(plate, target): offset for plate, target, offset in offsets[["plate", "target", "plate_offset"]].itertuples(index=False)}
    corrected["plate_offset"] = [offset_of.get(key, 0.0) for key in zip(corrected["plate"], corrected["target"])]
    corrected["cq"] = corrected["cq"] - corrected["plate_offset"]
    return corrected, offsets


# --------------------------------------------------------------------------- summary


def software_versions(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Versions of the software that computed the results (MIQE item "software")."""
    import matplotlib
    import scipy

    import fibroskin

    versions = {
        "fibroskin": fibroskin.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
    }
    versions.update(dict(extra or {}))
    return versions


def miqe_summary(
    wells: pd.DataFrame,
    standard_curves: pd.DataFrame | None = None,
    reference_table: pd.DataFrame | None = None,
    pairwise_variation: pd.DataFrame | None = None,
    ntc: pd.DataFrame | None = None,
    cq_cutoff: float | None = None,
    software: Mapping[str, str] | None = None,
    instrument_checks: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One tidy MIQE table for ``results/qpcr/miqe.tsv``.

    Parameters
    ----------
    wells
        Tidy well table (after calibration, if any).
    standard_curves
        :func:`fit_standard_curves`; computed here when ``None``.
    reference_table, pairwise_variation
        The first two outputs of :func:`reference_stability` (omitted when ``None``).
    ntc
        :func:`check_ntc`; computed here when ``None``.
    cq_cutoff
        Cq above which a well counts as not detected in the analysis (reported with the
        number of sample wells beyond it).
    software
        Extra ``{name: version}`` (e.g. the instrument software from the exports).
    instrument_checks
        :func:`compare_instrument_values`: each standard-curve value the instrument wrote,
        with fibroskin's and whether they agree; Cq and Delta Cq means summarised per file,
        item and target (``results/qpcr/instrument_values.tsv`` has every one).

    Returns
    -------
    DataFrame
        ``item``, ``target`` ("" for plate-wide items), ``value``, ``note``; values rounded
        to 4 decimals so the file is stable across platforms.
    """
    rows: list[tuple[str, str, object, str]] = []
    curves = fit_standard_curves(wells) if standard_curves is None else standard_curves
    for curve in curves.itertuples(index=False):
        note = curve.flag or "ok"
        rows += [
            ("amplification efficiency (%)", curve.target, curve.efficiency_pct, note),
            ("amplification factor", curve.target, curve.amplification, "10^(-1/slope)"),
            ("standard curve slope", curve.target, curve.slope, "Cq per log10 quantity"),
            ("standard curve intercept", curve.target, curve.intercept, "Cq at quantity 1"),
            ("standard curve r_squared", curve.target, curve.r_squared, note),
            ("standard curve points", curve.target, curve.n_points, f"{curve.n_dilutions} dilutions, {curve.n_not_detected} not detected"),
            ("linear dynamic range", curve.target, f"{curve.quantity_min:g}-{curve.quantity_max:g}", "quantity of the detected standards"),
        ]
    replicates = sample_target_cq(wells)
    for target, group in replicates.groupby("target", sort=True):
        rows += [
            ("technical replicates per sample (median)", target, float(group["n_replicates"].median()), f"{len(group)} samples"),
            ("replicate Cq SD (median)", target, float(group["cq_sd"].median()) if group["cq_sd"].notna().any() else np.nan, "sample SD of detected replicates"),
            ("replicate Cq SD (max)", target, float(group["cq_sd"].max()) if group["cq_sd"].notna().any() else np.nan, ""),
        ]
    unknown = wells[wells["task"] == "unknown"]
    for target, group in unknown.groupby("target", sort=True):
        not_detected = int(group["cq"].isna().sum())
        rows.append(("non-detects (sample wells)", target, not_detected, f"of {len(group)} wells"))
        if cq_cutoff is not None:
            beyond = int((group["cq"] > cq_cutoff).sum())
            rows.append(("sample wells beyond Cq cut-off", target, beyond, f"cut-off {cq_cutoff:g}"))
    rows.append(("Cq cut-off", "", cq_cutoff if cq_cutoff is not None else "none", "Cq above it treated as not detected" if cq_cutoff is not None else "no cut-off applied"))
    ntc_table = check_ntc(wells) if ntc is None else ntc
    for target, group in ntc_table.groupby("target", sort=True):
        detected = int(np.isfinite(group["cq"]).sum())
        flagged = int(group["flagged"].sum())
        status = "fail" if flagged else ("pass (late amplification)" if detected else "pass")
        rows.append(("NTC", target, status, f"{len(group)} wells, {detected} detected, {flagged} within {NTC_MARGIN_CYCLES:g} cycles of samples"))
    if reference_table is not None:
        for entry in reference_table.itertuples(index=False):
            rows.append(("reference gene geNorm M", entry.gene, entry.genorm_m, entry.flag or f"rank {entry.genorm_rank}"))
            if pd.notna(entry.normfinder_stability):
                rows.append(("reference gene NormFinder stability", entry.gene, entry.normfinder_stability, f"rank {int(entry.normfinder_rank)}"))
    if pairwise_variation is not None:
        for entry in pairwise_variation.itertuples(index=False):
            rows.append((f"geNorm pairwise variation {entry.comparison}", "", entry.v, f"{'<' if entry.v < GENORM_V_LIMIT else '>='} {GENORM_V_LIMIT:g}"))
    if instrument_checks is not None and len(instrument_checks):
        rows += _instrument_rows(instrument_checks)
    for name, version in software_versions(software).items():
        rows.append(("software", name, version, ""))
    summary = pd.DataFrame(rows, columns=["item", "target", "value", "note"])
    summary["value"] = summary["value"].map(lambda v: round(float(v), 4) if isinstance(v, (float, np.floating)) else v)
    return summary


def _instrument_rows(checks: pd.DataFrame) -> list[tuple[str, str, object, str]]:
    """MIQE rows for the values instrument software wrote into the exports."""
    rows = []
    for (file, item), group in checks.groupby(["file", "item"], sort=True):
        name = Path(str(file)).name
        if item in _CURVE_COLUMNS:
            for row in group.itertuples(index=False):
                if np.isfinite(row.fibroskin_value):
                    verdict = "agrees with" if row.agrees else "DIFFERS from"
                    note = f"{name}: {verdict} fibroskin's {row.fibroskin_value:.6g} ({row.note})"
                else:
                    note = f"{name}: {row.note}"
                rows.append((f"instrument {item.replace('_', ' ')}", row.target, row.file_value, note))
            continue
        for target, per_target in group.groupby("target", sort=True):
            compared = per_target[np.isfinite(per_target["fibroskin_value"].astype(float))]
            differing = compared[~compared["agrees"].astype(bool)]
            note = f"{name}: {len(compared) - len(differing)} of {len(compared)} agree with fibroskin's"
            if len(differing):
                note += "; DIFFER: " + "; ".join(
                    f"{row.sample} {row.file_value:g} vs {row.fibroskin_value:.6g}" for row in differing.head(3).itertuples(index=False)
                ) + (" ..." if len(differing) > 3 else "")
            rows.append((f"instrument {item.replace('_', ' ')}", target, f"{len(compared) - len(differing)}/{len(compared)}", note))
    return rows
