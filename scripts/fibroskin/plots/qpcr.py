"""The study figure: relative expression of each marker by group, as RT-PCR papers show it.

One panel per marker (TGFB1 and COL1A1 first), relative expression (2^-ddCq per sample,
reference group = 1) on a log2 axis, every sample a point, the group mean with its SEM
(both on the log2 scale, i.e. geometric mean), n per group under the axis and the p-value of
the configured test above a bracket.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator

from fibroskin.config import Contrast
from fibroskin.plots.theme import DOUBLE_COLUMN, SINGLE_COLUMN, set_theme

TEST_LABELS = {"welch": "Welch t", "mannwhitney": "Mann-Whitney", "paired_t": "paired t", "wilcoxon": "Wilcoxon"}


def format_pvalue(pvalue: float) -> str:
    """p-value as printed on figures and in summaries: 2 significant digits, floor 1e-4."""
    if pvalue is None or not np.isfinite(pvalue):
        return "p = n.a."
    if pvalue < 1e-4:
        return "p < 0.0001"
    return f"p = {pvalue:.2g}" if pvalue < 0.01 else f"p = {pvalue:.2f}"


def _even_jitter(n: int, width: float = 0.22) -> np.ndarray:
    """Deterministic horizontal offsets: points spread evenly, identical in every run."""
    if n <= 1:
        return np.zeros(n)
    return np.linspace(-width / 2, width / 2, n)


def _fold_formatter(value: float, _position: int) -> str:
    return f"{value:g}" if value >= 1 else f"1/{1 / value:g}"


def marker_panels(
    relative: pd.DataFrame,
    statistics: pd.DataFrame,
    contrast: Contrast,
    palette: dict[str, str],
    markers: list[str] | None = None,
    max_columns: int = 3,
) -> plt.Figure:
    """Draw the study figure.

    Parameters
    ----------
    relative
        ``relative_expression.tsv`` of the contrast (sample, group, target, dcq,
        relative_expression).
    statistics
        ``marker_stats.tsv`` of the contrast (gene, n_reference, n_target, pvalue, test, ...).
    contrast
        Reference and target levels (x-axis order).
    palette
        Colour per group.
    markers
        Genes to show, in order; default: every gene of ``statistics``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    set_theme()
    genes = [gene for gene in (markers or statistics["gene"].tolist()) if gene in set(relative["target"])]
    n_columns = min(max_columns, max(1, len(genes)))
    n_rows = max(1, math.ceil(len(genes) / n_columns))
    width = SINGLE_COLUMN if n_columns == 1 else DOUBLE_COLUMN * n_columns / 3
    figure, axes = plt.subplots(
        n_rows, n_columns, figsize=(max(width, SINGLE_COLUMN), 2.5 * n_rows), squeeze=False
    )
    levels = [contrast.reference, contrast.target]
    stats_by_gene = statistics.set_index("gene")
    for axis, gene in zip(axes.flat, genes):
        data = relative[(relative["target"] == gene) & relative["relative_expression"].notna()]
        log2_values = {level: np.log2(data.loc[data["group"] == level, "relative_expression"].to_numpy()) for level in levels}
        for position, level in enumerate(levels):
            values = np.sort(log2_values[level])
            axis.scatter(
                position + _even_jitter(len(values)),
                2.0**values,
                s=22,
                color=palette[level],
                edgecolor="white",
                linewidth=0.5,
                zorder=3,
            )
            if len(values):
                mean = values.mean()
                sem = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else 0.0
                axis.errorbar(
                    position + 0.28,
                    2.0**mean,
                    yerr=[[2.0**mean - 2.0 ** (mean - sem)], [2.0 ** (mean + sem) - 2.0**mean]],
                    fmt="_",
                    markersize=12,
                    color="black",
                    elinewidth=1.2,
                    capsize=3,
                    zorder=4,
                )
        axis.set_yscale("log", base=2)
        axis.yaxis.set_major_locator(LogLocator(base=2))
        axis.yaxis.set_major_formatter(FuncFormatter(_fold_formatter))
        counts = [len(log2_values[level]) for level in levels]
        axis.set_xticks([0, 1], [f"{level}\nn = {count}" for level, count in zip(levels, counts)])
        axis.set_xlim(-0.5, 1.6)
        axis.set_title(gene, fontweight="bold", fontstyle="italic")
        all_values = np.concatenate([log2_values[level] for level in levels]) if any(counts) else np.array([0.0])
        top, bottom = all_values.max(), all_values.min()
        span = max(top - bottom, 1.0)
        bracket = top + 0.12 * span
        axis.plot([0, 0, 1, 1], 2.0 ** np.array([bracket - 0.04 * span, bracket, bracket, bracket - 0.04 * span]), color="black", linewidth=0.8)
        pvalue = stats_by_gene.at[gene, "pvalue"] if gene in stats_by_gene.index else np.nan
        axis.text(0.5, 2.0 ** (bracket + 0.03 * span), format_pvalue(pvalue), ha="center", va="bottom", fontsize=8)
        axis.set_ylim(2.0 ** (bottom - 0.15 * span), 2.0 ** (top + 0.35 * span))
        axis.axhline(1.0, color="0.7", linewidth=0.6, linestyle=":", zorder=1)
    for axis in axes.flat[len(genes) :]:
        axis.set_visible(False)
    for row in axes:
        row[0].set_ylabel(f"Relative expression\n(2$^{{-\\Delta\\Delta Cq}}$, {contrast.reference} = 1)")
    test = statistics["test"].iloc[0] if len(statistics) else "welch"
    figure.suptitle(
        f"qRT-PCR: {contrast.target} vs {contrast.reference} skin "
        f"(mean ± SEM on log₂ scale; {TEST_LABELS.get(test, test)} test)",
        fontsize=9,
    )
    figure.tight_layout()
    return figure
