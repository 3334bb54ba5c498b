"""MIQE figures: standard curves and reference-gene stability (geNorm M and V)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fibroskin.miqe import GENORM_M_LIMIT, GENORM_V_LIMIT, GenormResult
from fibroskin.plots.theme import DOUBLE_COLUMN, OKABE_ITO, SINGLE_COLUMN, save_figure, set_theme

_COLOURS = [OKABE_ITO[name] for name in ("blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black")]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X"]


def standard_curve_figure(wells: pd.DataFrame, curves: pd.DataFrame) -> plt.Figure:
    """Cq against log10 quantity of every standard well, one colour and marker per target.

    Each target's fitted line spans its detected standards; the legend gives efficiency and
    r², and marks flagged curves with "!" so a failing assay stands out in print.
    """
    set_theme()
    figure, axes = plt.subplots(figsize=(SINGLE_COLUMN, SINGLE_COLUMN * 0.85))
    standards = wells[(wells["task"] == "standard") & (wells["quantity"] > 0) & np.isfinite(wells["cq"])]
    for index, curve in enumerate(curves.sort_values("target").itertuples(index=False)):
        colour, marker = _COLOURS[index % len(_COLOURS)], _MARKERS[index % len(_MARKERS)]
        points = standards[standards["target"] == curve.target]
        x = np.log10(points["quantity"].to_numpy(float))
        label = f"{curve.target}: E = {curve.efficiency_pct:.1f}%, r² = {curve.r_squared:.4f}"
        if curve.flag:
            label += " !"
        axes.scatter(x, points["cq"], s=14, color=colour, marker=marker, alpha=0.85, linewidths=0, label=label)
        if np.isfinite(curve.slope) and len(x):
            span = np.array([x.min(), x.max()])
            axes.plot(span, curve.intercept + curve.slope * span, color=colour, linewidth=1)
    axes.set_xlabel("log10 input quantity")
    axes.set_ylabel("Cq")
    # Legend below the axes: with several targets it would cover the points inside.
    flagged = curves["flag"].ne("").any()
    legend = axes.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        frameon=False,
        fontsize=7,
        title="! = flagged: efficiency, r² or too few dilutions" if flagged else None,
        title_fontsize=6,
    )
    legend._legend_box.align = "left"  # title flush with the entries, not centred over them
    return figure


def reference_stability_figure(result: GenormResult) -> plt.Figure:
    """geNorm average M per exclusion step (left) and pairwise variation V(n/n+1) (right)."""
    set_theme()
    figure, (m_axes, v_axes) = plt.subplots(1, 2, figsize=(DOUBLE_COLUMN, 2.6), gridspec_kw={"width_ratios": [3, 2]})
    steps = result.steps.groupby("step", sort=True).agg(average_m=("average_m", "first"), n_genes=("n_genes", "first"), excluded=("excluded", "first"))
    # geNorm's own plot: least stable genes left, the final pair right.
    labels = [f"{row.excluded}" if row.excluded else " / ".join(result.steps.loc[result.steps["step"] == step, "gene"]) for step, row in steps.iterrows()]
    positions = np.arange(len(steps))
    colours = [OKABE_ITO["vermillion"] if m > GENORM_M_LIMIT else OKABE_ITO["blue"] for m in steps["average_m"]]
    m_axes.bar(positions, steps["average_m"], color=colours, width=0.7)
    m_axes.axhline(GENORM_M_LIMIT, color="0.3", linestyle="--", linewidth=0.8)
    # A lone final pair would otherwise fill the whole width.
    m_axes.set_xlim(-0.6, max(len(steps), 3) - 0.4)
    m_axes.text(1.0, GENORM_M_LIMIT, f"M = {GENORM_M_LIMIT:g}", ha="right", va="bottom", fontsize=7, color="0.3", transform=m_axes.get_yaxis_transform())
    m_axes.set_xticks(positions, labels, rotation=30, ha="right")
    m_axes.set_xlabel("gene excluded next (least stable first) / final pair")
    m_axes.set_ylabel("average geNorm M of genes left")
    for position, n_genes in zip(positions, steps["n_genes"]):
        m_axes.text(position, 0, f"n={n_genes}", ha="center", va="bottom", fontsize=6, color="white")

    pairwise = result.pairwise_variation
    if len(pairwise):
        v_positions = np.arange(len(pairwise))
        v_colours = [OKABE_ITO["blue"] if v < GENORM_V_LIMIT else OKABE_ITO["vermillion"] for v in pairwise["v"]]
        v_axes.bar(v_positions, pairwise["v"], color=v_colours, width=0.6)
        v_axes.set_xticks(v_positions, pairwise["comparison"])
        v_axes.set_xlim(-0.6, max(len(pairwise), 2) - 0.4)
    else:
        v_axes.text(0.5, 0.5, "V needs three or more\nreference genes", ha="center", va="center", transform=v_axes.transAxes, fontsize=8)
        v_axes.set_xticks([])
    v_axes.axhline(GENORM_V_LIMIT, color="0.3", linestyle="--", linewidth=0.8)
    v_axes.text(1.0, GENORM_V_LIMIT, f"V = {GENORM_V_LIMIT:g}", ha="right", va="bottom", fontsize=7, color="0.3", transform=v_axes.get_yaxis_transform())
    v_axes.set_ylim(0, max(GENORM_V_LIMIT * 1.4, float(pairwise["v"].max()) * 1.15 if len(pairwise) else 0))
    v_axes.set_xlabel("normalisation factor n / n+1 genes")
    v_axes.set_ylabel("pairwise variation V")
    figure.tight_layout()
    return figure


def plot_standard_curves(wells: pd.DataFrame, curves: pd.DataFrame, paths: Sequence[str | Path]) -> None:
    """Draw :func:`standard_curve_figure` and write it to every path."""
    save_figure(standard_curve_figure(wells, curves), paths)


def plot_reference_stability(result: GenormResult, paths: Sequence[str | Path]) -> None:
    """Draw :func:`reference_stability_figure` and write it to every path."""
    save_figure(reference_stability_figure(result), paths)
