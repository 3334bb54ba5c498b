"""The finding summary: one row and one sentence per marker, whichever assays ran.

A marker "matches the scleromyxedema RT-PCR finding" when every assay that measured it
shows a significant change in the direction the panel expects in lesional skin (qPCR: the
configured test's p < alpha; RNA-seq: DESeq2 padj < alpha). The verdict says so, or says
which assay falls short and how.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fibroskin.markers import load_panel

#: Columns of ``results/<contrast>/summary.tsv``.
SUMMARY_COLUMNS = [
    "gene",
    "qpcr_fold_change",
    "qpcr_pvalue",
    "qpcr_padj",
    "rnaseq_log2fc",
    "rnaseq_padj",
    "expected_direction",
    "observed_direction",
    "consistent",
    "verdict",
]


def direction(log2_change: float) -> str:
    """"up", "down" or "" (missing or exactly zero)."""
    if log2_change is None or not np.isfinite(log2_change) or log2_change == 0:
        return ""
    return "up" if log2_change > 0 else "down"


def format_p(value: float) -> str:
    """Two significant digits, "< 0.0001" for tiny values, "n.a." when missing."""
    if value is None or not np.isfinite(value):
        return "n.a."
    if value < 1e-4:
        return "< 0.0001"
    return f"{value:.2g}"


def _assay_phrases(row: dict) -> list[str]:
    phrases = []
    if np.isfinite(row["qpcr_fold_change"]):
        fold = row["qpcr_fold_change"]
        size = f"{fold:.2g}-fold" if fold >= 1 else f"{1 / fold:.2g}-fold"
        phrases.append(f"{direction(np.log2(fold)) or 'unchanged'} {size} by qPCR (p {_p_phrase(row['qpcr_pvalue'])})")
    if np.isfinite(row["rnaseq_log2fc"]):
        phrases.append(f"log2FC {row['rnaseq_log2fc']:+.2f} by RNA-seq (padj {_p_phrase(row['rnaseq_padj'])})")
    return phrases


def _p_phrase(value: float) -> str:
    text = format_p(value)
    return text if text.startswith("<") or text == "n.a." else f"= {text}"


def finding_summary(
    markers: list[str],
    qpcr_stats: pd.DataFrame | None,
    rnaseq_markers: pd.DataFrame | None,
    target_level: str = "lesional",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per marker with both assays' numbers and a one-line verdict.

    Parameters
    ----------
    markers
        The configured markers (canonical symbols), in order.
    qpcr_stats
        ``marker_stats.tsv`` of the contrast, or ``None`` when the qPCR branch did not run.
    rnaseq_markers
        ``marker_results.tsv`` of the contrast, or ``None``.
    target_level
        Name of the contrast's target level, used in the verdict.
    alpha
        Significance level for both assays.

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`. ``observed_direction`` is the common direction of the assays
        that measured the gene ("mixed" when they disagree); ``consistent`` is True/False when
        both assays measured it, NA otherwise.
    """
    panel = load_panel().set_index("symbol")["expected_in_lesion"]
    qpcr = qpcr_stats.set_index("gene") if qpcr_stats is not None else pd.DataFrame()
    rnaseq = pd.DataFrame()
    if rnaseq_markers is not None:
        found = rnaseq_markers[rnaseq_markers["found"].astype(bool)] if "found" in rnaseq_markers else rnaseq_markers
        rnaseq = found.drop_duplicates("symbol").set_index("symbol")
    rows = []
    for gene in markers:
        row = {
            "gene": gene,
            "qpcr_fold_change": float(qpcr.at[gene, "fold_change"]) if gene in qpcr.index else np.nan,
            "qpcr_pvalue": float(qpcr.at[gene, "pvalue"]) if gene in qpcr.index else np.nan,
            "qpcr_padj": float(qpcr.at[gene, "padj"]) if gene in qpcr.index else np.nan,
            "rnaseq_log2fc": float(rnaseq.at[gene, "log2FoldChange"]) if gene in rnaseq.index else np.nan,
            "rnaseq_padj": float(rnaseq.at[gene, "padj"]) if gene in rnaseq.index else np.nan,
            "expected_direction": panel.get(gene, ""),
        }
        observed = []
        if np.isfinite(row["qpcr_fold_change"]):
            observed.append(direction(np.log2(row["qpcr_fold_change"])))
        if np.isfinite(row["rnaseq_log2fc"]):
            observed.append(direction(row["rnaseq_log2fc"]))
        row["observed_direction"] = observed[0] if len(set(observed)) == 1 else ("mixed" if observed else "")
        row["consistent"] = (observed[0] == observed[1]) if len(observed) == 2 else pd.NA
        row["verdict"] = verdict(row, target_level, alpha)
        rows.append(row)
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    table["consistent"] = table["consistent"].astype("boolean")
    return table


def verdict(row: dict, target_level: str, alpha: float) -> str:
    """The one-line conclusion for a summary row."""
    gene = row["gene"]
    phrases = _assay_phrases(row)
    if not phrases:
        return f"{gene}: not measured by any assay"
    evidence = f"{gene} " + " and ".join(phrases)
    expected = row["expected_direction"]
    assays = []
    if np.isfinite(row["qpcr_fold_change"]):
        assays.append(
            ("qPCR", direction(np.log2(row["qpcr_fold_change"])), np.isfinite(row["qpcr_pvalue"]) and row["qpcr_pvalue"] < alpha)
        )
    if np.isfinite(row["rnaseq_log2fc"]):
        assays.append(
            ("RNA-seq", direction(row["rnaseq_log2fc"]), np.isfinite(row["rnaseq_padj"]) and row["rnaseq_padj"] < alpha)
        )
    if not expected:
        return f"{evidence} (no expected direction in the panel)"
    if all(sign == expected and is_significant for _, sign, is_significant in assays):
        return f"{evidence}: matches the scleromyxedema RT-PCR finding"
    if any(sign and sign != expected and is_significant for _, sign, is_significant in assays):
        return f"{evidence}: significant change opposite to the expected {expected} in {target_level} skin"
    if row["consistent"] is False:
        return f"{evidence}: the assays disagree in direction"
    failing = [name for name, sign, is_significant in assays if not (is_significant and sign == expected)]
    if len(failing) == len(assays):
        return f"{evidence}: not significant at {alpha:g} by {' or '.join(failing)}; the finding is not reproduced here"
    return f"{evidence}: not significant at {alpha:g} by {' or '.join(failing)}; the finding is only partly reproduced"
