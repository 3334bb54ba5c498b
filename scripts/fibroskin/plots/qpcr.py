"""The study figure: relative expression of each marker by group, as RT-PCR papers show it.

One panel per marker (TGFB1 and COL1A1 first), relative expression (2^-ddCq per sample,
reference group = 1) on a log2 axis, every sample a point, the group mean with its SEM
(both on the log2 scale, i.e. geometric mean), n per group under the axis and the p-value of
the configured test above a bracket. For a pair of a ``levels:`` family the bracket also
gives ``padj_pairwise`` (Holm over the family's pairs). :func:`family_marker_panels` draws
all levels of a family side by side, one bracket per pair with its Holm-adjusted p-value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator

from fibroskin.config import Contrast
from fibroskin.plots.rnaseq import _wrap
from fibroskin.plots.theme import DOUBLE_COLUMN, SINGLE_COLUMN, set_theme

TEST_LABELS = {"welch": "Welch t", "mannwhitney": "Mann-Whitney", "paired_t": "paired t", "wilcoxon": "Wilcoxon"}
#: Smallest span of a panel's log2 axis: two doublings, so that every panel shows at least
#: two labelled powers of two (a narrow spread would otherwise leave a single "1" tick).
MIN_LOG2_SPAN = 2.0
#: Height of one bracket with its p-value in the family figure (7 pt text and clearance).
BRACKET_TIER_INCHES = 0.2


def format_pvalue(pvalue: float, name: str = "p") -> str:
    """p-value as printed on figures and in summaries: 2 significant digits, floor 1e-4.

    ``name`` prefixes it (``"Holm p"`` for a Holm-adjusted one).
    """
    if pvalue is None or not np.isfinite(pvalue):
        return f"{name} = n.a."
    if pvalue < 1e-4:
        return f"{name} < 0.0001"
    return f"{name} = {pvalue:.2g}" if pvalue < 0.01 else f"{name} = {pvalue:.2f}"


def _even_jitter(n: int, width: float = 0.22) -> np.ndarray:
    """Deterministic horizontal offsets: points spread evenly, identical in every run."""
    if n <= 1:
        return np.zeros(n)
    return np.linspace(-width / 2, width / 2, n)


def _fold_formatter(value: float, _position: int) -> str:
    return f"{value:g}" if value >= 1 else f"1/{1 / value:g}"


def _test_label(statistics: pd.DataFrame) -> str:
    test = statistics["test"].iloc[0] if len(statistics) else "welch"
    return TEST_LABELS.get(test, test)


def _draw_group(axis: plt.Axes, position: float, log2_values: np.ndarray, colour: str) -> None:
    """One group's samples as points and its mean ± SEM (log2 scale) beside them."""
    values = np.sort(log2_values)
    axis.scatter(
        position + _even_jitter(len(values)),
        2.0**values,
        s=22,
        color=colour,
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


def _log2_axis(axis: plt.Axes, low: float, high: float) -> None:
    """Log2 y axis from 2**low to 2**high, widened to :data:`MIN_LOG2_SPAN`, fold labels."""
    if high - low < MIN_LOG2_SPAN:
        pad = (MIN_LOG2_SPAN - (high - low)) / 2
        low, high = low - pad, high + pad
    axis.set_yscale("log", base=2)
    # every power of two up to ten ticks, so 1 (the reference mean) is always labelled
    axis.yaxis.set_major_locator(LogLocator(base=2, numticks=10))
    axis.yaxis.set_major_formatter(FuncFormatter(_fold_formatter))
    axis.set_ylim(2.0**low, 2.0**high)
    axis.axhline(1.0, color="0.7", linewidth=0.6, linestyle=":", zorder=1)


def _bracket(axis: plt.Axes, left: float, right: float, height: float, tick: float, text: str,
             fontsize: float | None = None) -> None:
    """A bracket from ``left`` to ``right`` at log2 ``height``, ``text`` centred above it."""
    axis.plot(
        [left, left, right, right],
        2.0 ** np.array([height - tick, height, height, height - tick]),
        color="black",
        linewidth=0.8,
    )
    axis.annotate(
        text,
        ((left + right) / 2, 2.0**height),
        xytext=(0, 1.5),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=fontsize or (7 if "\n" in text else 8),
        linespacing=1.1,
    )


def _group_log2_values(data: pd.DataFrame, levels: Sequence[str]) -> dict[str, np.ndarray]:
    detected = data[data["relative_expression"].notna()]
    return {level: np.log2(detected.loc[detected["group"] == level, "relative_expression"].to_numpy(float)) for level in levels}


def _panel_grid(n_panels: int, max_columns: int, panel_width: float, row_height: float) -> tuple[plt.Figure, np.ndarray]:
    n_columns = min(max_columns, max(1, n_panels))
    n_rows = max(1, math.ceil(n_panels / n_columns))
    width = max(SINGLE_COLUMN, panel_width * n_columns)
    return plt.subplots(n_rows, n_columns, figsize=(width, row_height * n_rows), squeeze=False)


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
        ``marker_stats.tsv`` of the contrast (gene, n_reference, n_target, pvalue, test, ...);
        for a pair of a ``levels:`` family also ``padj_pairwise``, shown under the p-value
        as "Holm p".
    contrast
        Reference and target levels (x-axis order).
    palette
        Colour per group (the run's :func:`fibroskin.plots.theme.run_palette`).
    markers
        Genes to show, in order; default: every gene of ``statistics``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    set_theme()
    genes = [gene for gene in (markers or statistics["gene"].tolist()) if gene in set(relative["target"])]
    single = min(max_columns, max(1, len(genes))) == 1
    figure, axes = _panel_grid(len(genes), max_columns, SINGLE_COLUMN if single else DOUBLE_COLUMN / 3, 2.5)
    levels = [contrast.reference, contrast.target]
    stats_by_gene = statistics.set_index("gene")
    holm = contrast.family is not None and "padj_pairwise" in statistics.columns
    for axis, gene in zip(axes.flat, genes):
        log2_values = _group_log2_values(relative[relative["target"] == gene], levels)
        for position, level in enumerate(levels):
            _draw_group(axis, position, log2_values[level], palette[level])
        counts = [len(log2_values[level]) for level in levels]
        axis.set_xticks([0, 1], [f"{level}\nn = {count}" for level, count in zip(levels, counts)])
        axis.set_xlim(-0.5, 1.6)
        axis.set_title(gene, fontweight="bold", fontstyle="italic")
        all_values = np.concatenate([log2_values[level] for level in levels]) if any(counts) else np.array([0.0])
        top, bottom = all_values.max(), all_values.min()
        span = max(top - bottom, 1.0)
        bracket = top + 0.12 * span
        row = stats_by_gene.loc[gene] if gene in stats_by_gene.index else pd.Series(dtype=float)
        text = format_pvalue(row.get("pvalue", np.nan))
        if holm:
            text += "\n" + format_pvalue(row.get("padj_pairwise", np.nan), "Holm p")
        _bracket(axis, 0, 1, bracket, 0.04 * span, text)
        _log2_axis(axis, bottom - 0.15 * span, top + (0.5 if holm else 0.35) * span)
    for axis in axes.flat[len(genes) :]:
        axis.set_visible(False)
    for row_axes in axes:
        row_axes[0].set_ylabel(f"Relative expression\n(2$^{{-\\Delta\\Delta Cq}}$, {contrast.reference} = 1)")
    title = f"qRT-PCR: {contrast.target} vs {contrast.reference} skin (mean ± SEM on log₂ scale; {_test_label(statistics)} test)"
    if holm:
        n_pairs = math.comb(len(contrast.family_levels), 2)
        title += f"\nHolm p: adjusted over the {n_pairs} pairs of {', '.join(contrast.family_levels)}"
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return figure


def family_relative_expression(pair_tables: Sequence[pd.DataFrame], levels: Sequence[str]) -> pd.DataFrame:
    """Every sample of a ``levels:`` family relative to its first level, from the pairs' tables.

    Parameters
    ----------
    pair_tables
        ``relative_expression.tsv`` of each pair of the family (sample, group, target, dcq, ...).
    levels
        The family's levels in configured order; the first is the reference (= 1).

    Returns
    -------
    pandas.DataFrame
        ``sample, group, target, dcq, relative_expression`` with
        ``relative_expression = 2^-(dcq - mean dcq of the first level)`` per target, so the
        first level averages 1 on the log scale and each other level's geometric mean is its
        fold change against the first (as in that pair's own table); targets in the pairs'
        order, groups in ``levels`` order.
    """
    columns = ["sample", "group", "target", "dcq"]
    table = pd.concat([frame[columns] for frame in pair_tables], ignore_index=True)
    table = table.drop_duplicates(["sample", "target"]).copy()
    targets = list(dict.fromkeys(table["target"]))
    calibrator = table[table["group"] == levels[0]].groupby("target")["dcq"].mean()
    table["relative_expression"] = 2.0 ** -(table["dcq"] - table["target"].map(calibrator))
    table["target"] = pd.Categorical(table["target"], categories=targets, ordered=True)
    table["group"] = pd.Categorical(table["group"], categories=list(levels), ordered=True)
    table = table.sort_values(["target", "group", "sample"])
    table["target"] = table["target"].astype(str)
    table["group"] = table["group"].astype(str)
    return table[[*columns, "relative_expression"]].reset_index(drop=True)


def bracket_tiers(pairs: Sequence[tuple[int, int]]) -> list[int]:
    """Stacking order of the pairs' brackets: shortest spans lowest, then left to right.

    Each bracket gets its own tier, so that no two p-values share a line.
    """
    order = sorted(range(len(pairs)), key=lambda index: (abs(pairs[index][1] - pairs[index][0]), min(pairs[index])))
    tiers = [0] * len(pairs)
    for tier, index in enumerate(order):
        tiers[index] = tier
    return tiers


def family_marker_panels(
    relative: pd.DataFrame,
    pair_statistics: Sequence[tuple[Contrast, pd.DataFrame]],
    levels: Sequence[str],
    palette: dict[str, str],
    markers: list[str] | None = None,
    max_columns: int = 3,
) -> plt.Figure:
    """All levels of a ``levels:`` family side by side, per marker, with every pair's Holm p.

    Parameters
    ----------
    relative
        :func:`family_relative_expression` of the family (first level = 1).
    pair_statistics
        Each pair of the family with its ``marker_stats.tsv``; the bracket between the
        pair's two groups gives its ``padj_pairwise`` (the configured test's p-value,
        Holm-adjusted over the family's pairs per gene).
    levels
        The family's levels, in configured order (x-axis order).
    palette
        Colour per level (the run's :func:`fibroskin.plots.theme.run_palette`).
    markers
        Genes to show, in order; default: every target of ``relative``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    set_theme()
    levels = list(levels)
    targets = list(dict.fromkeys(relative["target"]))
    genes = [gene for gene in (markers or targets) if gene in set(targets)]
    pairs = [(levels.index(contrast.reference), levels.index(contrast.target)) for contrast, _ in pair_statistics]
    tiers = bracket_tiers(pairs)
    n_tiers = max(tiers) + 1 if tiers else 0
    panel_width = max(DOUBLE_COLUMN / 3, 0.75 * len(levels) + 0.5)
    figure, axes = _panel_grid(len(genes), max_columns, panel_width, 2.2 + BRACKET_TIER_INCHES * n_tiers)
    stats_by_pair = [statistics.set_index("gene") for _, statistics in pair_statistics]
    panels = []
    for axis, gene in zip(axes.flat, genes):
        log2_values = _group_log2_values(relative[relative["target"] == gene], levels)
        for position, level in enumerate(levels):
            _draw_group(axis, position, log2_values[level], palette[level])
        counts = [len(log2_values[level]) for level in levels]
        axis.set_xticks(range(len(levels)), [f"{_wrap(level)}\nn = {count}" for level, count in zip(levels, counts)])
        axis.set_xlim(-0.5, len(levels) - 0.4)
        axis.set_title(gene, fontweight="bold", fontstyle="italic")
        values = np.concatenate(list(log2_values.values())) if any(counts) else np.array([0.0])
        panels.append((axis, gene, values.min(), values.max()))
        axis.set_yscale("log", base=2)
    for axis in axes.flat[len(genes) :]:
        axis.set_visible(False)
    for row_axes in axes:
        row_axes[0].set_ylabel(f"Relative expression\n(2$^{{-\\Delta\\Delta Cq}}$, {levels[0]} = 1)")
    test = _test_label(pair_statistics[0][1]) if pair_statistics else TEST_LABELS["welch"]
    figure.suptitle(
        f"qRT-PCR: {', '.join(levels)} skin (mean ± SEM on log₂ scale)\n"
        f"{test} test of each pair, Holm p: adjusted over the {len(pairs)} pairs",
        fontsize=9,
    )
    # Lay out first, then size the brackets' tiers in inches of the axes so each p-value
    # gets a line of its own whatever the spread of the data.
    figure.tight_layout()
    axis_inches = panels[0][0].get_window_extent().height / figure.dpi if panels else 1.0
    for axis, gene, bottom, top in panels:
        span = max(top - bottom, 1.5)
        low, data_high = bottom - 0.08 * span, top + 0.08 * span
        per_inch = (data_high - low) / max(axis_inches - n_tiers * BRACKET_TIER_INCHES, 0.5)
        step, tick = BRACKET_TIER_INCHES * per_inch, 0.035 * per_inch
        for (left, right), tier, statistics in zip(pairs, tiers, stats_by_pair):
            padj = statistics.at[gene, "padj_pairwise"] if gene in statistics.index else np.nan
            # ends pulled in a little so that brackets meeting at a group stay apart
            _bracket(axis, min(left, right) + 0.06, max(left, right) - 0.06, data_high + tick + tier * step, tick,
                     format_pvalue(padj, "Holm p"), fontsize=7)
        _log2_axis(axis, low, data_high + tick + n_tiers * step)
    figure.tight_layout()
    return figure
