"""The profibrotic score: one number per sample summarising the marker panel.

Per assay, each marker's expression (``-dCq`` for qPCR, VST for RNA-seq: both log2 scale,
higher = more expressed) is z-scored across all samples of the sheet, and the score is the
mean z-score of the markers measured in that sample. A sample with a higher score expresses
the profibrotic panel more than the cohort average. The score is comparable between samples
of one assay; between assays it is compared by correlation, not by value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fibroskin.config import Contrast
from fibroskin.stats import mannwhitney_pvalue, welch_difference, welch_pvalue

#: Columns of ``results/score/profibrotic_score.tsv``.
SCORE_COLUMNS = ["sample", "assay", "score", "n_markers"]

#: Columns of ``results/<contrast>/score/score_test.tsv``.
SCORE_TEST_COLUMNS = [
    "assay",
    "n_reference",
    "n_target",
    "mean_score_reference",
    "mean_score_target",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
    "pvalue_welch",
    "pvalue_mannwhitney",
]


def zscore_columns(expression: pd.DataFrame) -> pd.DataFrame:
    """z-score each column (gene) across rows (samples), ignoring NaN; constant genes -> NaN."""
    centred = expression - expression.mean(axis=0)
    spread = expression.std(axis=0, ddof=1).replace(0.0, np.nan)
    return centred / spread


def profibrotic_score(expression: pd.DataFrame, markers: list[str], assay: str) -> pd.DataFrame:
    """Mean marker z-score per sample.

    Parameters
    ----------
    expression
        Samples x genes, log2 scale, higher = more expressed (``-dCq`` or VST).
    markers
        Genes of the panel; those absent from ``expression`` are ignored.
    assay
        Label written in the ``assay`` column (``qpcr`` or ``rnaseq``).

    Returns
    -------
    pandas.DataFrame
        :data:`SCORE_COLUMNS`, sorted by sample.
    """
    present = [gene for gene in markers if gene in expression.columns]
    z = zscore_columns(expression[present]) if present else pd.DataFrame(index=expression.index)
    score = z.mean(axis=1, skipna=True)
    table = pd.DataFrame(
        {"sample": expression.index, "assay": assay, "score": score.to_numpy(), "n_markers": z.notna().sum(axis=1).to_numpy()}
    )
    return table.sort_values("sample").reset_index(drop=True)[SCORE_COLUMNS]


def qpcr_expression(delta_cq: pd.DataFrame) -> pd.DataFrame:
    """Samples x targets matrix of ``-dCq`` from ``delta_cq.tsv``."""
    return (-delta_cq.pivot(index="sample", columns="target", values="dcq")).sort_index()


def rnaseq_expression(vst: pd.DataFrame, symbols: pd.Series) -> pd.DataFrame:
    """Samples x symbols matrix from a genes x samples VST table indexed by gene ID.

    When several gene IDs share a symbol, the one with the highest mean is kept (the
    expressed isoform of a duplicated locus), so a symbol is one column.
    """
    table = vst.copy()
    table.index = symbols.reindex(vst.index).fillna(pd.Series(vst.index, index=vst.index)).to_numpy()
    table = table.assign(_mean=table.mean(axis=1)).sort_values("_mean", ascending=False)
    table = table[~table.index.duplicated(keep="first")].drop(columns="_mean")
    return table.T.sort_index()


def score_test(scores: pd.DataFrame, groups: pd.Series, contrast: Contrast) -> pd.DataFrame:
    """Compare the score between the contrast's groups, per assay (Welch t and Mann-Whitney).

    Returns
    -------
    pandas.DataFrame
        :data:`SCORE_TEST_COLUMNS`, one row per assay.
    """
    rows = []
    for assay, table in scores.groupby("assay", sort=True):
        table = table.assign(group=table["sample"].map(groups)).dropna(subset=["group", "score"])
        reference = table.loc[table["group"] == contrast.reference, "score"].to_numpy()
        target = table.loc[table["group"] == contrast.target, "score"].to_numpy()
        row = {
            "assay": assay,
            "n_reference": len(reference),
            "n_target": len(target),
            "mean_score_reference": reference.mean() if len(reference) else np.nan,
            "mean_score_target": target.mean() if len(target) else np.nan,
        }
        row["difference"] = row["mean_score_target"] - row["mean_score_reference"]
        row["difference_ci_low"] = row["difference_ci_high"] = row["pvalue_welch"] = row["pvalue_mannwhitney"] = np.nan
        if len(reference) >= 2 and len(target) >= 2:
            estimate = welch_difference(reference, target)
            row.update(
                difference_ci_low=estimate.ci_low,
                difference_ci_high=estimate.ci_high,
                pvalue_welch=welch_pvalue(reference, target),
                pvalue_mannwhitney=mannwhitney_pvalue(reference, target),
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=SCORE_TEST_COLUMNS)
