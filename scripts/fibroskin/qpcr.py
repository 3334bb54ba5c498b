"""Relative quantification of qPCR data by the comparative Cq (2^-ddCq) method.

Steps, each a function:

1. :func:`flag_wells`: per well, not detected (no Cq, or above ``max_cq``) and replicate
   outliers (further than ``replicate_max_spread`` cycles from the median of their
   technical replicates).
2. :func:`summarise_replicates`: arithmetic mean of the detected, kept replicates per
   (sample, target). Non-detects are never imputed.
3. :func:`reference_cq`: per sample, the mean Cq of the reference genes, which is the log2
   of the geometric mean of their quantities (assuming 100% efficiency). A sample missing a
   reference gene has no reference and therefore no dCq.
4. :func:`delta_cq`: ``dcq = mean_cq - reference_cq``.
5. :func:`contrast_statistics`: ``ddcq = mean dCq(target group) - mean dCq(reference
   group)``, ``fold_change = 2^-ddcq``, the Welch (or paired) t interval of ddCq mapped to fold
   change, the configured test (rank tests as R's ``wilcox.test``, :mod:`fibroskin.stats`) and
   Benjamini-Hochberg over the tested genes.

The pairwise adjustment of ``levels:`` families and the linear model on dCq are added to these
columns by :func:`fibroskin.qpcr_steps.marker_statistics` (:mod:`fibroskin.qpcr_model`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from collections.abc import Mapping

from fibroskin.config import Contrast
from fibroskin.qpcr_model import MODEL_COLUMNS
from fibroskin.stats import (
    PAIRED_TESTS,
    benjamini_hochberg,
    mannwhitney_pvalue,
    paired_difference,
    two_group_pvalue,
    welch_difference,
    welch_pvalue,
)

#: Columns of ``results/qpcr/qc.tsv``.
QC_COLUMNS = [
    "plate",
    "well",
    "sample",
    "target",
    "task",
    "cq",
    "not_detected",
    "above_max_cq",
    "deviation_from_median",
    "replicate_outlier",
    "used",
    "file",
    "line",
]

#: Columns of ``results/qpcr/delta_cq.tsv``.
DELTA_CQ_COLUMNS = [
    "sample",
    "target",
    "mean_cq",
    "n_replicates",
    "n_detected",
    "replicate_spread",
    "flagged",
    "reference_cq",
    "dcq",
]

#: The tests' columns of ``results/<contrast>/qpcr/marker_stats.tsv`` (:func:`contrast_statistics`).
TEST_COLUMNS = [
    "gene",
    "n_reference",
    "n_target",
    "mean_dcq_reference",
    "mean_dcq_target",
    "ddcq",
    "fold_change",
    "fold_change_ci_low",
    "fold_change_ci_high",
    "test",
    "pvalue",
    "pvalue_welch",
    "pvalue_mannwhitney",
    "padj",
]

#: How the p-values were adjusted: ``padj`` by Benjamini-Hochberg over the genes of the
#: contrast; ``padj_pairwise`` by Holm over the pairwise contrasts of a ``levels:`` family.
ADJUSTMENT_COLUMNS = ["padj_method", "padj_pairwise", "padj_pairwise_method"]

#: Columns of ``results/<contrast>/qpcr/marker_stats.tsv``: the tests, the adjustments, the
#: linear model (:data:`fibroskin.qpcr_model.MODEL_COLUMNS`). New columns are appended.
MARKER_STATS_COLUMNS = TEST_COLUMNS + ADJUSTMENT_COLUMNS + MODEL_COLUMNS

#: Columns of ``results/<contrast>/qpcr/relative_expression.tsv``.
RELATIVE_EXPRESSION_COLUMNS = ["sample", "group", "target", "dcq", "relative_expression"]


def flag_wells(
    wells: pd.DataFrame,
    max_cq: float = 35.0,
    replicate_max_spread: float = 0.5,
    drop_replicate_outliers: bool = False,
) -> pd.DataFrame:
    """Flag every well: not detected, above the Cq cut-off, replicate outlier, used.

    Parameters
    ----------
    wells
        Tidy well table (:data:`fibroskin.io.cq.WELL_COLUMNS`).
    max_cq
        A Cq above this counts as not detected (late, unspecific amplification).
    replicate_max_spread
        A detected replicate further than this many cycles from the median of its
        (sample, target) replicates is flagged as an outlier.
    drop_replicate_outliers
        Exclude flagged outliers from the mean instead of only flagging them.

    Returns
    -------
    pandas.DataFrame
        The wells with :data:`QC_COLUMNS`; ``used`` marks the wells that enter the mean Cq
        of a biological sample (standards and NTCs are never used here).
    """
    qc = wells.copy()
    qc["above_max_cq"] = qc["cq"] > max_cq
    qc["not_detected"] = qc["cq"].isna() | qc["above_max_cq"]
    detected_cq = qc["cq"].where(~qc["not_detected"])
    median = detected_cq.groupby([qc["sample"], qc["target"], qc["task"]], sort=False).transform("median")
    qc["deviation_from_median"] = (detected_cq - median).abs()
    qc["replicate_outlier"] = qc["deviation_from_median"] > replicate_max_spread
    qc["used"] = (qc["task"] == "unknown") & ~qc["not_detected"]
    if drop_replicate_outliers:
        qc["used"] &= ~qc["replicate_outlier"]
    return qc[QC_COLUMNS].reset_index(drop=True)


def summarise_replicates(qc: pd.DataFrame) -> pd.DataFrame:
    """Mean Cq of the used technical replicates of each (sample, target).

    Parameters
    ----------
    qc
        Output of :func:`flag_wells`.

    Returns
    -------
    pandas.DataFrame
        sample, target, mean_cq (NaN when no replicate was detected), n_replicates (wells),
        n_detected, replicate_spread (largest distance of a detected replicate from their
        median, the quantity the outlier rule thresholds), flagged (any replicate outlier).
    """
    biological = qc[qc["task"] == "unknown"]
    grouped = biological.groupby(["sample", "target"], sort=True)
    sizes = grouped.size()
    # Vectorised over groups (a Python function per group took minutes at 1,000 plates).
    group = grouped.ngroup().to_numpy()
    used = biological["used"].to_numpy(dtype=bool)
    detected = ~biological["not_detected"].to_numpy(dtype=bool)
    summary = pd.DataFrame(
        {
            "mean_cq": pd.Series(
                _group_means(biological["cq"].to_numpy(dtype=float)[used], group[used], len(sizes)), index=sizes.index
            ),
            "n_replicates": sizes,
            "n_detected": pd.Series(np.bincount(group[detected], minlength=len(sizes)), index=sizes.index),
            "replicate_spread": grouped["deviation_from_median"].max(),
            "flagged": grouped["replicate_outlier"].any(),
        }
    ).reset_index()
    summary["n_replicates"] = summary["n_replicates"].astype(int)
    return summary


def _group_means(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of ``values`` per group code (NaN for a group without values), bit for bit
    ``pandas.Series.mean`` of each group's values in their order.

    Groups of fewer than 8 values (technical replicates) are summed left to right, as
    ``Series.mean`` does for them, all groups at once; larger groups, where numpy switches to
    pairwise summation, call ``Series.mean`` itself.
    """
    order = np.argsort(groups, kind="stable")
    values, groups = values[order], groups[order]
    counts = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
    means = np.full(n_groups, np.nan)
    small = (counts > 0) & (counts < 8)
    total = np.zeros(n_groups)
    for position in range(7):
        present = small & (counts > position)
        if not present.any():
            break
        total[present] = total[present] + values[starts[present] + position]
    means[small] = total[small] / counts[small]
    for index in np.flatnonzero(counts >= 8):
        means[index] = pd.Series(values[starts[index] : starts[index] + counts[index]]).mean()
    return means


def amplification_weights(targets: pd.Series, amplification: Mapping[str, float] | None) -> pd.Series:
    """log2 of each target's amplification factor (1 for perfect doubling, the default)."""
    if not amplification:
        return pd.Series(1.0, index=targets.index)
    return targets.map(lambda target: float(np.log2(amplification.get(target, 2.0))))


def reference_cq(
    summary: pd.DataFrame,
    reference_genes: list[str] | tuple[str, ...],
    amplification: Mapping[str, float] | None = None,
) -> pd.Series:
    """Mean (efficiency-weighted) Cq of the reference genes per sample.

    With perfect doubling this is the mean Cq of the references, the log2 of the geometric
    mean of their quantities. With amplification factors E (Pfaffl), each reference's Cq is
    weighted by log2(E), so the result is again minus the log2 geometric mean of the
    reference quantities E^-Cq. A sample lacking a detected Cq for any reference gene gets
    NaN: averaging only the remaining references would normalise it to a different baseline
    than the others.
    """
    references = summary[summary["target"].isin(reference_genes)]
    weighted = references["mean_cq"] * amplification_weights(references["target"], amplification)
    table = references.assign(weighted_cq=weighted).pivot(index="sample", columns="target", values="weighted_cq")
    table = table.reindex(index=sorted(summary["sample"].unique()), columns=list(reference_genes))
    return table.mean(axis=1, skipna=False).rename("reference_cq")


def delta_cq(
    summary: pd.DataFrame,
    reference_genes: list[str] | tuple[str, ...],
    amplification: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Add ``reference_cq`` and ``dcq = mean_cq - reference_cq`` to the replicate summary.

    With amplification factors (Pfaffl 2001), ``dcq = log2(E_target) * mean_cq -
    reference_cq``, i.e. minus the log2 ratio of the target's quantity to the geometric
    mean of the reference quantities; with E = 2 for every gene this is the textbook dCq,
    so every later step (ddCq, fold change, tests) is the same for both methods.

    Returns
    -------
    pandas.DataFrame
        :data:`DELTA_CQ_COLUMNS`, sorted by sample then target.
    """
    references = reference_cq(summary, reference_genes, amplification)
    table = summary.merge(references, left_on="sample", right_index=True, how="left")
    weights = amplification_weights(table["target"], amplification)
    table["dcq"] = table["mean_cq"] * weights - table["reference_cq"]
    return table[DELTA_CQ_COLUMNS].sort_values(["sample", "target"]).reset_index(drop=True)


def samples_without_reference(delta: pd.DataFrame) -> list[str]:
    """Samples whose reference Cq could not be computed (a reference gene not detected)."""
    missing = delta.loc[delta["reference_cq"].isna(), "sample"]
    return sorted(missing.unique())


def contrast_groups(samples: pd.DataFrame, contrast: Contrast) -> pd.Series:
    """Group label of each sample in the contrast (other levels dropped), indexed by sample."""
    levels = samples[contrast.column]
    chosen = samples[levels.isin([contrast.reference, contrast.target])]
    return pd.Series(chosen[contrast.column].to_numpy(), index=chosen["sample"].to_numpy(), name="group")


def target_order(targets: list[str], markers: list[str]) -> list[str]:
    """Configured markers first (in their configured order), then the rest alphabetically."""
    first = [marker for marker in markers if marker in targets]
    return first + sorted(set(targets) - set(first))


def _paired_arrays(
    values: pd.Series, groups: pd.Series, pairs: pd.Series, contrast: Contrast
) -> tuple[np.ndarray, np.ndarray]:
    """Reference and target values aligned by pair ID; incomplete pairs dropped."""
    frame = pd.DataFrame({"value": values, "group": groups, "pair": pairs}).dropna()
    wide = frame.pivot_table(index="pair", columns="group", values="value", aggfunc="mean")
    wide = wide.reindex(columns=[contrast.reference, contrast.target]).dropna()
    return wide[contrast.reference].to_numpy(), wide[contrast.target].to_numpy()


def contrast_statistics(
    delta: pd.DataFrame,
    samples: pd.DataFrame,
    contrast: Contrast,
    reference_genes: list[str] | tuple[str, ...],
    markers: list[str],
    test: str = "welch",
    pair_column: str = "patient",
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """ddCq, fold change with CI and tests for every non-reference target.

    Parameters
    ----------
    delta
        Output of :func:`delta_cq`.
    samples
        Sample sheet (columns ``sample``, the contrast column and, for paired tests,
        ``pair_column``).
    contrast
        Target vs reference levels.
    reference_genes
        Excluded from testing.
    markers
        Configured markers; they come first in the output.
    test
        The test reported in ``pvalue`` and adjusted in ``padj``: welch, mannwhitney,
        paired_t or wilcoxon. Welch and Mann-Whitney p-values are always reported too.
    pair_column
        Sample-sheet column pairing samples for paired tests.

    Returns
    -------
    pandas.DataFrame
        :data:`TEST_COLUMNS`, one row per tested target.
    """
    groups = contrast_groups(samples, contrast)
    paired = test in PAIRED_TESTS
    pairs = samples.set_index("sample")[pair_column] if paired else None
    tested = delta[~delta["target"].isin(reference_genes) & delta["sample"].isin(groups.index)]
    rows = []
    for target in target_order(sorted(tested["target"].unique()), markers):
        values = tested[tested["target"] == target].set_index("sample")["dcq"].dropna()
        sample_groups = groups.reindex(values.index)
        reference_values = values[sample_groups == contrast.reference].to_numpy()
        target_values = values[sample_groups == contrast.target].to_numpy()
        row = {
            "gene": target,
            "n_reference": len(reference_values),
            "n_target": len(target_values),
            "mean_dcq_reference": np.mean(reference_values) if len(reference_values) else np.nan,
            "mean_dcq_target": np.mean(target_values) if len(target_values) else np.nan,
            "test": test,
        }
        row["ddcq"] = row["mean_dcq_target"] - row["mean_dcq_reference"]
        ci_low = ci_high = pvalue = pvalue_welch = pvalue_mannwhitney = np.nan
        if len(reference_values) >= 2 and len(target_values) >= 2:
            pvalue_welch = welch_pvalue(reference_values, target_values)
            pvalue_mannwhitney = mannwhitney_pvalue(reference_values, target_values)
            if paired:
                paired_reference, paired_target = _paired_arrays(
                    values, sample_groups, pairs.reindex(values.index), contrast
                )
                if len(paired_reference) >= 2:
                    estimate = paired_difference(paired_reference, paired_target, confidence_level)
                    ci_low, ci_high = estimate.ci_low, estimate.ci_high
                    pvalue = two_group_pvalue(test, paired_reference, paired_target)
            else:
                estimate = welch_difference(reference_values, target_values, confidence_level)
                ci_low, ci_high = estimate.ci_low, estimate.ci_high
                pvalue = pvalue_welch if test == "welch" else two_group_pvalue(test, reference_values, target_values)
        row.update(
            {
                "fold_change": 2.0 ** -row["ddcq"],
                # A higher ddCq means lower expression, so the interval's bounds swap.
                "fold_change_ci_low": 2.0**-ci_high,
                "fold_change_ci_high": 2.0**-ci_low,
                "pvalue": pvalue,
                "pvalue_welch": pvalue_welch,
                "pvalue_mannwhitney": pvalue_mannwhitney,
            }
        )
        rows.append(row)
    table = pd.DataFrame(rows, columns=[c for c in TEST_COLUMNS if c != "padj"])
    table["padj"] = benjamini_hochberg(table["pvalue"].to_numpy(dtype=float))
    return table[TEST_COLUMNS]


def relative_expression(
    delta: pd.DataFrame,
    samples: pd.DataFrame,
    contrast: Contrast,
    reference_genes: list[str] | tuple[str, ...],
    markers: list[str],
) -> pd.DataFrame:
    """Per-sample expression relative to the mean of the reference group.

    ``relative_expression = 2^-(dcq - mean dcq of the reference group)``, so the reference
    group averages 1 on the log scale and the target group's geometric mean is the fold
    change.

    Returns
    -------
    pandas.DataFrame
        :data:`RELATIVE_EXPRESSION_COLUMNS`, targets in marker order, samples sorted by group
        (reference level first) then sample.
    """
    groups = contrast_groups(samples, contrast)
    table = delta[~delta["target"].isin(reference_genes) & delta["sample"].isin(groups.index)].copy()
    table["group"] = table["sample"].map(groups)
    calibrator = table[table["group"] == contrast.reference].groupby("target")["dcq"].mean()
    table["relative_expression"] = 2.0 ** -(table["dcq"] - table["target"].map(calibrator))
    order = target_order(sorted(table["target"].unique()), markers)
    table["target"] = pd.Categorical(table["target"], categories=order, ordered=True)
    table["group"] = pd.Categorical(table["group"], categories=[contrast.reference, contrast.target], ordered=True)
    table = table.sort_values(["target", "group", "sample"])
    table["target"] = table["target"].astype(str)
    table["group"] = table["group"].astype(str)
    return table[RELATIVE_EXPRESSION_COLUMNS].reset_index(drop=True)


def analyse_wells(
    wells: pd.DataFrame,
    reference_genes: list[str] | tuple[str, ...],
    max_cq: float = 35.0,
    replicate_max_spread: float = 0.5,
    drop_replicate_outliers: bool = False,
    amplification: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wells to (qc, delta_cq): :func:`flag_wells`, :func:`summarise_replicates`, :func:`delta_cq`."""
    qc = flag_wells(wells, max_cq, replicate_max_spread, drop_replicate_outliers)
    return qc, delta_cq(summarise_replicates(qc), reference_genes, amplification)


def missing_value_notes(delta: pd.DataFrame, reference_genes: list[str] | tuple[str, ...]) -> list[str]:
    """Log lines for samples without a reference and (sample, target) pairs without a Cq."""
    notes = [
        f"WARNING: sample '{sample}' is excluded from every test: a reference gene "
        f"({', '.join(reference_genes)}) was not detected in it"
        for sample in samples_without_reference(delta)
    ]
    for row in delta[delta["mean_cq"].isna()].itertuples():
        notes.append(f"sample '{row.sample}', target '{row.target}': no replicate detected; no dCq")
    return notes
