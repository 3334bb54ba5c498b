"""Figures of qPCR-RNA-seq agreement and of the profibrotic score."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fibroskin.concordance import correlate
from fibroskin.config import Contrast
from fibroskin.plots.qpcr import format_pvalue
from fibroskin.plots.rnaseq import LABEL_COLOUR, label_points
from fibroskin.plots.theme import DOUBLE_COLUMN, SINGLE_COLUMN, set_theme


def _groups_in_order(groups: pd.Series, palette: dict[str, str]) -> list[str]:
    """The groups present, in the run's level order (the palette's), then any others sorted."""
    present = set(groups.dropna().astype(str))
    return [level for level in palette if level in present] + sorted(present - set(palette))


def marker_scatter(markers: pd.DataFrame, contrast: Contrast) -> plt.Figure:
    """qPCR log2 fold change (-ddCq) against RNA-seq log2 fold change, one point per marker.

    Identity line, Pearson and Spearman in the corner, markers labelled by symbol (placed
    so that no two labels overlap), filled points where the two assays agree in direction
    and open ones where they do not. Neither is drawn in a condition colour: a point here is
    a gene, not a group of samples.
    """
    set_theme()
    figure, axis = plt.subplots(figsize=(SINGLE_COLUMN, SINGLE_COLUMN))
    x, y = markers["qpcr_log2fc"].to_numpy(float), markers["rnaseq_log2fc"].to_numpy(float)
    finite = np.concatenate([x, y])
    finite = finite[np.isfinite(finite)]
    low, high = (min(finite.min(), 0.0) - 0.4, max(finite.max(), 0.0) + 0.6) if len(finite) else (-1, 1)
    axis.plot([low, high], [low, high], color="0.6", linestyle="--", linewidth=0.8, label="identity", zorder=1)
    axis.axhline(0, color="0.85", linewidth=0.6, zorder=0)
    axis.axvline(0, color="0.85", linewidth=0.6, zorder=0)
    agree = markers["direction_agree"].astype(bool).to_numpy()
    axis.scatter(x[agree], y[agree], color=LABEL_COLOUR, s=24, label="same direction", zorder=3)
    if (~agree).any():
        axis.scatter(x[~agree], y[~agree], facecolors="white", edgecolors=LABEL_COLOUR, linewidths=1.0, s=24,
                     label="opposite direction", zorder=3)
    correlation = correlate(x, y)
    text = (
        f"n = {correlation.n} markers\nPearson r = {correlation.pearson_r:.2f}\nSpearman ρ = {correlation.spearman_rho:.2f}"
        if np.isfinite(correlation.pearson_r)
        else f"n = {correlation.n} markers\n(too few for a correlation)"
    )
    axis.text(0.03, 0.97, text, transform=axis.transAxes, va="top", fontsize=7)
    axis.set_xlim(low, high)
    axis.set_ylim(low, high)
    axis.set_aspect("equal")
    axis.set_xlabel("qPCR log₂ fold change (−ΔΔCq)")
    axis.set_ylabel("RNA-seq log₂ fold change (DESeq2)")
    axis.set_title(f"{contrast.target} vs {contrast.reference}: marker fold changes", fontsize=8)
    legend = axis.legend(loc="lower right", fontsize=6, frameon=False)
    figure.tight_layout()
    finite_points = np.isfinite(x) & np.isfinite(y)
    label_points(axis, x[finite_points], y[finite_points], markers["gene"][finite_points].tolist(), fontsize=7,
                 avoid=[legend, axis.texts[0]], fontstyle="italic")
    return figure


def sample_scatter(points: pd.DataFrame, correlations: pd.DataFrame, palette: dict[str, str]) -> plt.Figure:
    """Per marker: -dCq against log2 normalized counts, one point per sample, r in the title."""
    set_theme()
    genes = correlations["gene"].tolist() or sorted(points["gene"].unique())
    n_columns = min(3, max(1, len(genes)))
    n_rows = max(1, math.ceil(len(genes) / n_columns))
    figure, axes = plt.subplots(n_rows, n_columns, figsize=(DOUBLE_COLUMN * n_columns / 3, 2.2 * n_rows), squeeze=False)
    by_gene = correlations.set_index("gene")
    for axis, gene in zip(axes.flat, genes):
        subset = points[points["gene"] == gene]
        for group in _groups_in_order(subset["group"], palette):
            rows = subset[subset["group"] == group]
            axis.scatter(rows["qpcr_minus_dcq"], rows["rnaseq_log2_normalized"], s=18, color=palette.get(group, "0.4"), label=group)
        r = by_gene.at[gene, "pearson_r"] if gene in by_gene.index else np.nan
        axis.set_title(f"{gene}  (r = {r:.2f})" if np.isfinite(r) else gene, fontsize=8, fontstyle="italic")
    unused = list(axes.flat[len(genes) :])
    for axis in unused:
        axis.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles and unused:
        unused[0].set_visible(True)
        unused[0].axis("off")
        unused[0].legend(handles, labels, loc="center", fontsize=8, frameon=False, title="group")
    elif handles:
        axes.flat[0].legend(fontsize=6, frameon=False)
    figure.supxlabel("qPCR −ΔCq (log₂ expression relative to the reference genes)", fontsize=8)
    figure.supylabel("RNA-seq log₂(normalized count + 1)", fontsize=8)
    figure.suptitle("Per-sample agreement of qPCR and RNA-seq (one point per sample)", fontsize=9)
    figure.tight_layout()
    return figure


def score_by_group(scores: pd.DataFrame, tests: pd.DataFrame, groups: pd.Series, contrast: Contrast, palette: dict[str, str]) -> plt.Figure:
    """Profibrotic score by group, one panel per assay, with the Welch test's p-value."""
    set_theme()
    assays = sorted(scores["assay"].unique())
    figure, axes = plt.subplots(1, len(assays), figsize=(SINGLE_COLUMN * max(1, len(assays)) * 0.75, 2.6), squeeze=False)
    levels = [contrast.reference, contrast.target]
    test_by_assay = tests.set_index("assay")
    for axis, assay in zip(axes.flat, assays):
        table = scores[scores["assay"] == assay].assign(group=lambda t: t["sample"].map(groups)).dropna(subset=["group"])
        for position, level in enumerate(levels):
            values = np.sort(table.loc[table["group"] == level, "score"].to_numpy())
            offsets = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(len(values))
            axis.scatter(position + offsets, values, s=20, color=palette[level], edgecolor="white", linewidth=0.5, zorder=3)
            if len(values):
                axis.hlines(values.mean(), position - 0.25, position + 0.25, color="black", linewidth=1.2, zorder=4)
        counts = [(table["group"] == level).sum() for level in levels]
        axis.set_xticks([0, 1], [f"{level}\nn = {count}" for level, count in zip(levels, counts)])
        axis.set_xlim(-0.6, 1.6)
        pvalue = test_by_assay.at[assay, "pvalue_welch"] if assay in test_by_assay.index else np.nan
        axis.set_title(f"{'qPCR' if assay == 'qpcr' else 'RNA-seq'}: {format_pvalue(pvalue)}", fontsize=8)
        axis.axhline(0, color="0.8", linestyle=":", linewidth=0.6)
    axes.flat[0].set_ylabel("Profibrotic score\n(mean marker z-score)")
    figure.suptitle("Profibrotic score (Welch t test; bar = mean)", fontsize=9)
    figure.tight_layout()
    return figure


def score_between_assays(scores: pd.DataFrame, groups: pd.Series, palette: dict[str, str]) -> plt.Figure:
    """qPCR score against RNA-seq score, one point per sample of the contrast measured by both.

    The correlation is over the points drawn: the samples of ``groups`` (the contrast's two
    levels), not every sample of the run.
    """
    set_theme()
    wide = scores.pivot(index="sample", columns="assay", values="score").dropna()
    wide = wide[wide.index.isin(groups.index)]
    figure, axis = plt.subplots(figsize=(SINGLE_COLUMN, SINGLE_COLUMN * 0.9))
    with_group = wide.assign(group=wide.index.map(groups))
    for group in _groups_in_order(with_group["group"], palette):
        rows = with_group[with_group["group"] == group]
        axis.scatter(rows["qpcr"], rows["rnaseq"], s=22, color=palette.get(group, "0.4"), label=group, zorder=3)
    correlation = correlate(wide["qpcr"].to_numpy(), wide["rnaseq"].to_numpy())
    axis.text(
        0.03,
        0.97,
        f"n = {correlation.n} samples\nPearson r = {correlation.pearson_r:.2f}\nSpearman ρ = {correlation.spearman_rho:.2f}",
        transform=axis.transAxes,
        va="top",
        fontsize=7,
    )
    axis.set_xlabel("qPCR profibrotic score")
    axis.set_ylabel("RNA-seq profibrotic score")
    axis.legend(loc="lower right", fontsize=7, frameon=False)
    axis.set_title("Profibrotic score: qPCR vs RNA-seq", fontsize=8)
    figure.tight_layout()
    return figure
