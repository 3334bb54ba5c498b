"""Agreement of qPCR and RNA-seq on the same markers and the same samples.

Two levels:

- **marker level**: the qPCR log2 fold change (``-ddcq``) against the RNA-seq
  ``log2FoldChange`` of each marker, with Pearson and Spearman correlation and direction
  agreement;
- **sample level**: for each marker, ``-dCq`` against ``log2(normalized count + 1)`` over the
  samples measured by both assays, with Pearson r per marker. ``-dCq`` is log2 expression
  relative to the reference genes, so both axes are log2 expression up to a constant and a
  slope near 1 is expected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Columns of ``results/<contrast>/concordance/markers.tsv``.
MARKER_COLUMNS = [
    "gene",
    "qpcr_log2fc",
    "rnaseq_log2fc",
    "qpcr_pvalue",
    "rnaseq_pvalue",
    "qpcr_padj",
    "rnaseq_padj",
    "direction_agree",
]

#: Columns of ``results/<contrast>/concordance/samples.tsv``.
SAMPLE_COLUMNS = ["gene", "sample", "group", "qpcr_minus_dcq", "rnaseq_log2_normalized"]

#: Columns of ``results/<contrast>/concordance/sample_correlation.tsv``.
SAMPLE_CORRELATION_COLUMNS = ["gene", "n_samples", "pearson_r", "pearson_pvalue", "spearman_rho", "slope"]


@dataclass(frozen=True)
class Correlation:
    """Pearson and Spearman correlation of two paired vectors."""

    n: int
    pearson_r: float
    pearson_pvalue: float
    spearman_rho: float
    spearman_pvalue: float


def correlate(x: np.ndarray, y: np.ndarray) -> Correlation:
    """Pearson and Spearman correlation, NaN when fewer than 3 complete pairs or no variance."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Correlation(len(x), np.nan, np.nan, np.nan, np.nan)
    pearson = stats.pearsonr(x, y)
    spearman = stats.spearmanr(x, y)
    return Correlation(len(x), float(pearson.statistic), float(pearson.pvalue), float(spearman.statistic), float(spearman.pvalue))


def marker_concordance(qpcr_stats: pd.DataFrame, rnaseq_markers: pd.DataFrame) -> pd.DataFrame:
    """Marker-level comparison of fold changes.

    Parameters
    ----------
    qpcr_stats
        ``marker_stats.tsv`` (gene, ddcq, pvalue, padj).
    rnaseq_markers
        ``marker_results.tsv`` (gene, symbol, log2FoldChange, pvalue, padj[, found]).

    Returns
    -------
    pandas.DataFrame
        :data:`MARKER_COLUMNS`, one row per gene measured by both assays, in qPCR order.
        ``direction_agree`` compares the signs of the two log2 fold changes.
    """
    rnaseq = rnaseq_markers
    if "found" in rnaseq:
        rnaseq = rnaseq[rnaseq["found"].astype(bool)]
    rnaseq = rnaseq.drop_duplicates("symbol").set_index("symbol")
    rows = []
    for row in qpcr_stats.itertuples():
        if row.gene not in rnaseq.index:
            continue
        qpcr_log2fc = -row.ddcq
        rnaseq_log2fc = rnaseq.at[row.gene, "log2FoldChange"]
        rows.append(
            {
                "gene": row.gene,
                "qpcr_log2fc": qpcr_log2fc,
                "rnaseq_log2fc": rnaseq_log2fc,
                "qpcr_pvalue": row.pvalue,
                "rnaseq_pvalue": rnaseq.at[row.gene, "pvalue"],
                "qpcr_padj": row.padj,
                "rnaseq_padj": rnaseq.at[row.gene, "padj"],
                "direction_agree": bool(np.sign(qpcr_log2fc) == np.sign(rnaseq_log2fc)),
            }
        )
    return pd.DataFrame(rows, columns=MARKER_COLUMNS)


def sample_concordance(
    delta_cq: pd.DataFrame,
    normalized_counts: pd.DataFrame,
    groups: pd.Series,
    genes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-sample agreement of each marker between the assays.

    Parameters
    ----------
    delta_cq
        ``delta_cq.tsv`` (sample, target, dcq).
    normalized_counts
        Long normalized counts with columns gene, symbol, sample, normalized_count.
    groups
        Group label of each sample of the contrast, indexed by sample.
    genes
        Markers to compare (qPCR target names = RNA-seq symbols).

    Returns
    -------
    points, correlations
        :data:`SAMPLE_COLUMNS` and :data:`SAMPLE_CORRELATION_COLUMNS`.
    """
    qpcr = delta_cq[delta_cq["sample"].isin(groups.index)].assign(qpcr_minus_dcq=lambda t: -t["dcq"])
    rnaseq = normalized_counts[normalized_counts["sample"].isin(groups.index)].assign(
        rnaseq_log2_normalized=lambda t: np.log2(t["normalized_count"] + 1.0)
    )
    points = qpcr.rename(columns={"target": "gene"})[["gene", "sample", "qpcr_minus_dcq"]].merge(
        rnaseq.rename(columns={"symbol": "gene_symbol"})[["gene_symbol", "sample", "rnaseq_log2_normalized"]],
        left_on=["gene", "sample"],
        right_on=["gene_symbol", "sample"],
    )
    points = points[points["gene"].isin(genes)].drop(columns="gene_symbol")
    points["group"] = points["sample"].map(groups)
    points["gene"] = pd.Categorical(points["gene"], categories=genes, ordered=True)
    points = points.sort_values(["gene", "sample"]).assign(gene=lambda t: t["gene"].astype(str))
    rows = []
    for gene in genes:
        subset = points[points["gene"] == gene].dropna(subset=["qpcr_minus_dcq", "rnaseq_log2_normalized"])
        if subset.empty:
            continue
        correlation = correlate(subset["qpcr_minus_dcq"].to_numpy(), subset["rnaseq_log2_normalized"].to_numpy())
        slope = (
            stats.linregress(subset["qpcr_minus_dcq"], subset["rnaseq_log2_normalized"]).slope
            if np.isfinite(correlation.pearson_r)
            else np.nan
        )
        rows.append(
            {
                "gene": gene,
                "n_samples": correlation.n,
                "pearson_r": correlation.pearson_r,
                "pearson_pvalue": correlation.pearson_pvalue,
                "spearman_rho": correlation.spearman_rho,
                "slope": slope,
            }
        )
    return points[SAMPLE_COLUMNS].reset_index(drop=True), pd.DataFrame(rows, columns=SAMPLE_CORRELATION_COLUMNS)
