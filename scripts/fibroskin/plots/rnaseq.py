"""RNA-seq figures: volcano, MA, PCA, sample distances, marker heatmap, marker counts.

Every function takes the tables written by the RNA-seq rules (results of
``fibroskin.rnaseq.test_contrast``, ``marker_results``, ``vst``/``normalized_counts``
with a ``gene`` column then one column per sample, and the sample sheet) plus the
condition palette of :func:`fibroskin.plots.theme.condition_palette`, and returns a
Figure sized for a journal column; the caller saves it with ``save_figure``.

Significant genes are drawn in the colour of the condition they are higher in, so the
volcano, MA plot and PCA share one legend vocabulary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from fibroskin.plots.rnaseq_data import (  # noqa: F401 - part of this module's interface
    NOT_SIGNIFICANT_COLOUR,
    condition_order,
    expression_matrix,
    found_markers as _found_markers,
    found_mask as _found_mask,
    pca_coordinates,
    sample_sheet,
    short_sample_names as _short_sample_names,
    significance_classes,
)
from fibroskin.plots.theme import DOUBLE_COLUMN, SINGLE_COLUMN, count_tick_label, set_theme
LABEL_COLOUR = "#222222"
#: Heatmaps name their samples up to this many (beyond, the names overlap).
MAX_LABELLED_SAMPLES = 150
#: The sample-distance heatmap orders its leaves optimally up to this many samples.
MAX_OPTIMAL_ORDERING_SAMPLES = 300
#: Marker shapes for batches (PCA), in order of first appearance.
BATCH_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")


# --------------------------------------------------------------------------- helpers


def _colour(condition: str, palette: dict[str, str]) -> str:
    return palette.get(condition, NOT_SIGNIFICANT_COLOUR)


def _significance_legend(ax: plt.Axes | plt.Figure, classes: pd.Series, reference: str, target: str,
                         palette: dict[str, str], alpha: float, **legend_kwargs) -> None:
    handles = [
        Line2D([], [], ls="", marker="o", ms=4, color=_colour(target, palette),
               label=f"higher in {target} ({int((classes == target).sum())})"),
        Line2D([], [], ls="", marker="o", ms=4, color=_colour(reference, palette),
               label=f"higher in {reference} ({int((classes == reference).sum())})"),
        Line2D([], [], ls="", marker="o", ms=4, color=NOT_SIGNIFICANT_COLOUR,
               label=f"not significant (padj \u2265 {alpha:g})"),
    ]
    ax.legend(handles=handles, frameon=False, handletextpad=0.2, borderaxespad=0.2, **legend_kwargs)


def _scatter_by_class(ax: plt.Axes, x: np.ndarray, y: np.ndarray, classes: pd.Series,
                      reference: str, target: str, palette: dict[str, str]) -> None:
    """Grey non-significant genes underneath, coloured significant genes on top."""
    for label, colour, size, z in (("n.s.", NOT_SIGNIFICANT_COLOUR, 3, 1),
                                   (reference, _colour(reference, palette), 5, 2),
                                   (target, _colour(target, palette), 5, 2)):
        mask = (classes == label).to_numpy()
        ax.scatter(x[mask], y[mask], s=size, c=colour, linewidths=0, alpha=0.8, zorder=z, rasterized=True)


def _note_missing_markers(figure: plt.Figure, markers: pd.DataFrame | None) -> None:
    """Say which configured markers are absent from the counts, so no reader hunts for them."""
    if markers is None or "found" not in markers:
        return
    missing = markers.loc[~_found_mask(markers), "symbol"].astype(str).tolist()
    if missing:
        figure.supxlabel(f"not in the count table: {', '.join(missing)}", fontsize=6.5, color="#555555")


def label_points(ax: plt.Axes, x: np.ndarray, y: np.ndarray, labels: Sequence[str], fontsize: float = 6.5,
                 avoid: Sequence[object] = (), point_radius_pt: float = 3.5, fontstyle: str = "normal") -> list:
    """Label points so that labels overlap neither each other nor the labelled points.

    Greedy placement in display space: each label (top-most point first) takes the
    first free candidate position around its point, trying 8 directions at growing
    distances; a leader line joins label and point when the label sits away from it.
    Labels stay inside the axes and outside the bounding boxes of ``avoid`` artists
    (e.g. the legend). Text has a white halo so it stays readable over the point cloud.
    """
    if len(labels) == 0:
        return []
    figure = ax.figure
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    points = ax.transData.transform(np.column_stack([x, y]))
    frame = ax.get_window_extent(renderer)
    blocked = [artist.get_window_extent(renderer) for artist in avoid]
    point_radius = point_radius_pt * figure.dpi / 72.0
    halo = [patheffects.withStroke(linewidth=2.0, foreground="white")]
    texts = [ax.text(0, 0, label, fontsize=fontsize, fontstyle=fontstyle, color=LABEL_COLOUR, zorder=6,
                     path_effects=halo) for label in labels]
    unit = figure.dpi / 72.0
    # 1.5 pt of clearance on every side keeps haloed labels from touching.
    sizes = np.array([[t.get_window_extent(renderer).width, t.get_window_extent(renderer).height] for t in texts])
    sizes += 3.0 * unit
    # 16 directions, nearest-to-horizontal first: labels beside a point read best.
    angles = np.deg2rad([0, 180, 22.5, -22.5, 157.5, -157.5, 45, -45, 135, -135, 67.5, -67.5, 112.5, -112.5, 90, -90])
    directions = [(float(np.cos(a)), float(np.sin(a))) for a in angles]
    placed: list[tuple[float, float, float, float]] = []

    def cost(box: tuple[float, float, float, float], own: int) -> float:
        """How badly a candidate box (and its leader line) covers what it must not; 0 = free."""
        x0, y0, x1, y1 = box
        total = (max(0.0, frame.x0 - x0) + max(0.0, x1 - frame.x1) + max(0.0, frame.y0 - y0)
                 + max(0.0, y1 - frame.y1)) * 1e3
        for b in placed + [(b.x0, b.y0, b.x1, b.y1) for b in blocked]:
            total += max(0.0, min(x1, b[2]) - max(x0, b[0])) * max(0.0, min(y1, b[3]) - max(y0, b[1]))
        others = np.delete(points, own, axis=0)
        if len(others):
            dx = np.maximum.reduce([x0 - others[:, 0], np.zeros(len(others)), others[:, 0] - x1])
            dy = np.maximum.reduce([y0 - others[:, 1], np.zeros(len(others)), others[:, 1] - y1])
            total += np.maximum(0.0, point_radius - np.hypot(dx, dy)).sum() * 10
        # A leader line must not run through another labelled point or a placed label.
        start = points[own]
        end = np.clip(start, [x0, y0], [x1, y1])
        along = start + np.linspace(0.0, 1.0, 12)[:, None] * (end - start)
        # Points overlapping this one are left out: every line from it touches them, and
        # counting them would favour the longest line (fewest samples near its start).
        crossed = others[np.hypot(*(others - start).T) > point_radius * 2.4] if len(others) else others
        if len(crossed):
            gaps = np.hypot(along[:, None, 0] - crossed[None, :, 0], along[:, None, 1] - crossed[None, :, 1])
            total += (gaps < point_radius * 1.2).sum() * 50
        for b in placed:
            inside = (along[:, 0] > b[0]) & (along[:, 0] < b[2]) & (along[:, 1] > b[1]) & (along[:, 1] < b[3])
            total += inside.sum() * 50
        return float(total)

    for index in np.argsort(-points[:, 1], kind="stable"):
        width, height = sizes[index]
        px, py = points[index]
        best: tuple[float, tuple[float, float, float, float], tuple[int, int]] | None = None
        for distance in (6, 9, 13, 18, 24, 31, 40, 50, 62):
            for dx, dy in directions:
                cx = px + dx * distance * unit
                cy = py + dy * distance * unit
                # Anchor the box corner facing the point, so the label grows away from it.
                x0 = cx if dx > 0.3 else cx - width if dx < -0.3 else cx - width / 2
                y0 = cy if dy > 0.3 else cy - height if dy < -0.3 else cy - height / 2
                box = (x0, y0, x0 + width, y0 + height)
                penalty = cost(box, index)
                if best is None or penalty < best[0]:
                    best = (penalty, box, (dx, dy))
                if penalty == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None
        box = best[1]
        placed.append(box)
        to_data = ax.transData.inverted().transform
        texts[index].set_position(tuple(to_data((box[0] + 1.5 * unit, box[1] + 1.5 * unit))))
        texts[index].set_horizontalalignment("left")
        texts[index].set_verticalalignment("bottom")
        nearest = np.clip(points[index], [box[0], box[1]], [box[2], box[3]])
        if np.hypot(*(nearest - points[index])) > 4 * unit:
            ax.annotate("", xy=tuple(to_data(points[index])), xytext=tuple(to_data(nearest)), zorder=5,
                        arrowprops=dict(arrowstyle="-", color=LABEL_COLOUR, lw=0.5, shrinkA=0,
                                        shrinkB=point_radius * 0.9 * 72 / figure.dpi))
    return texts


def _mark_markers(ax: plt.Axes, frame: pd.DataFrame, x_column: str, y: pd.Series, markers: pd.DataFrame | None) -> None:
    """Ring and label each found marker (by symbol) at its position."""
    found = _found_markers(markers)
    rows = frame.set_index("gene").reindex(found["gene"].astype(str))
    rows["y"] = y.reindex(found["gene"].astype(str)).to_numpy()
    rows["label"] = found["symbol"].astype(str).to_numpy()
    rows = rows[np.isfinite(rows[x_column].astype(float)) & np.isfinite(rows["y"].astype(float))]
    if rows.empty:
        return
    ax.scatter(rows[x_column], rows["y"], s=16, facecolors="none", edgecolors=LABEL_COLOUR, linewidths=0.7, zorder=4)
    legend = ax.get_legend()
    label_points(ax, rows[x_column].to_numpy(float), rows["y"].to_numpy(float), rows["label"].tolist(),
                 avoid=[legend] if legend is not None else [])


# --------------------------------------------------------------------------- figures


def volcano_plot(
    results: pd.DataFrame,
    palette: dict[str, str],
    reference: str,
    target: str,
    markers: pd.DataFrame | None = None,
    alpha: float = 0.05,
    lfc_column: str = "log2FoldChange",
) -> plt.Figure:
    """log2 fold change against -log10 p-value, significant genes coloured, markers labelled.

    Parameters
    ----------
    results
        Output of ``test_contrast``.
    palette
        Condition colours (``condition_palette(reference, target)``).
    reference, target
        The contrast's levels (positive LFC = higher in ``target``).
    markers
        Output of ``marker_results``; found markers are ringed and labelled by symbol.
    alpha
        padj threshold for colouring.
    lfc_column
        ``log2FoldChange`` or ``log2FoldChange_shrunk``.
    """
    set_theme()
    frame = results[np.isfinite(results[lfc_column].astype(float)) & results["pvalue"].notna()].copy()
    smallest = np.nanmin(frame.loc[frame["pvalue"] > 0, "pvalue"]) if (frame["pvalue"] > 0).any() else 1e-300
    # p-values that underflowed to 0 are drawn at the smallest representable one.
    frame["neg_log10_p"] = -np.log10(frame["pvalue"].clip(lower=smallest))
    classes = significance_classes(frame, alpha, reference, target)

    figure, ax = plt.subplots(figsize=(SINGLE_COLUMN, 3.6), layout="constrained")
    _scatter_by_class(ax, frame[lfc_column].to_numpy(float), frame["neg_log10_p"].to_numpy(), classes,
                      reference, target, palette)
    ax.axvline(0, color="#888888", lw=0.5, zorder=0)
    ax.set_xlabel(f"log₂ fold change ({target} / {reference})" + (", shrunken" if "shrunk" in lfc_column else ""))
    ax.set_ylabel("−log₁₀ p-value")
    top = frame["neg_log10_p"].max() if len(frame) else 1.0
    ax.set_ylim(-0.03 * top, top * 1.08 + 0.5)
    limit = np.nanmax(np.abs(frame[lfc_column])) if len(frame) else 1.0
    ax.set_xlim(-limit * 1.1, limit * 1.1)
    # Legend below the axes so the point cloud (and its labels) can use the full height.
    _significance_legend(figure, classes, reference, target, palette, alpha, loc="outside lower center",
                         fontsize=6.5, ncols=2)
    _mark_markers(ax, frame, lfc_column, frame.set_index("gene")["neg_log10_p"], markers)
    return figure


def ma_plot(
    results: pd.DataFrame,
    palette: dict[str, str],
    reference: str,
    target: str,
    markers: pd.DataFrame | None = None,
    alpha: float = 0.05,
    lfc_column: str = "log2FoldChange",
) -> plt.Figure:
    """Mean of normalized counts (log scale) against log2 fold change, as ``plotMA``.

    Parameters are those of :func:`volcano_plot`. Genes with baseMean 0 are omitted.
    """
    set_theme()
    frame = results[(results["baseMean"] > 0) & np.isfinite(results[lfc_column].astype(float))].copy()
    classes = significance_classes(frame, alpha, reference, target)
    figure, ax = plt.subplots(figsize=(SINGLE_COLUMN, 2.9), layout="constrained")
    _scatter_by_class(ax, frame["baseMean"].to_numpy(float), frame[lfc_column].to_numpy(float), classes,
                      reference, target, palette)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(count_tick_label))
    ax.xaxis.set_minor_formatter(NullFormatter())
    if len(frame):
        # Room right of the most expressed genes (often the markers) for their labels.
        ax.set_xlim(frame["baseMean"].min() / 2, frame["baseMean"].max() * 8)
    ax.axhline(0, color="#888888", lw=0.5, zorder=0)
    ax.set_xlabel("mean of normalized counts")
    ax.set_ylabel(f"log₂ fold change\n({target} / {reference})")
    limit = np.nanmax(np.abs(frame[lfc_column])) if len(frame) else 1.0
    ax.set_ylim(-limit * 1.1, limit * 1.6)
    _significance_legend(ax, classes, reference, target, palette, alpha, loc="upper right", fontsize=6.5)
    _mark_markers(ax, frame, "baseMean", frame.set_index("gene")[lfc_column], markers)
    return figure


def pca_plot(
    vst_table: pd.DataFrame,
    sample_table: pd.DataFrame,
    palette: dict[str, str],
    condition_column: str = "condition",
    batch_column: str = "batch",
    ntop: int = 500,
    label_samples: bool | None = None,
) -> plt.Figure:
    """PC1 vs PC2 of the VST, coloured by condition, shaped by batch when it varies.

    Parameters
    ----------
    vst_table
        Output of ``rnaseq.vst``.
    sample_table
        Sample sheet (``sample`` column or index) with the condition (and batch) columns.
    palette
        Condition colours.
    ntop
        Number of most variable genes (500 as ``plotPCA``).
    label_samples
        Write sample names next to points; default when there are at most 16 samples.
    """
    set_theme()
    coordinates, percent = pca_coordinates(vst_table, ntop)
    sheet = sample_sheet(sample_table).reindex(coordinates.index)
    conditions = sheet[condition_column].astype(str)
    has_batch = batch_column in sheet and sheet[batch_column].nunique() > 1
    batches = sheet[batch_column].astype(str) if has_batch else pd.Series("", index=sheet.index)
    batch_levels = list(dict.fromkeys(sorted(batches)))
    shape = {b: BATCH_MARKERS[i % len(BATCH_MARKERS)] for i, b in enumerate(batch_levels)}

    figure, ax = plt.subplots(figsize=(SINGLE_COLUMN, 3.0), layout="constrained")
    for sample, (pc1, pc2) in coordinates[["PC1", "PC2"]].iterrows():
        ax.scatter(pc1, pc2, s=28, color=_colour(conditions[sample], palette), marker=shape[batches[sample]],
                   edgecolors="white", linewidths=0.5, zorder=3)
    if label_samples is None:
        label_samples = len(coordinates) <= 16
    ax.set_xlabel(f"PC1: {percent[0]:.0f}% variance")
    ax.set_ylabel(f"PC2: {percent[1]:.0f}% variance" if len(percent) > 1 else "PC2")
    # Wide side margins leave room for sample labels next to the outermost points.
    ax.margins(x=0.3 if label_samples else 0.15, y=0.15)

    handles = [Line2D([], [], ls="", marker="o", ms=5, color=_colour(c, palette), label=c)
               for c in condition_order(conditions, palette)]
    if has_batch:
        # One legend column per variable, each under its name (the legend fills columns
        # first), so colours and shapes are not read as one list.
        batch_handles = [Line2D([], [], ls="", marker=shape[b], ms=5, color="#555555", label=b) for b in batch_levels]
        rows = max(len(handles), len(batch_handles)) + 1

        def column(title: str, entries: list[Line2D]) -> list[Line2D]:
            blank = [Line2D([], [], ls="", label=" ")] * (rows - 1 - len(entries))
            return [Line2D([], [], ls="", label=title), *entries, *blank]

        handles = column(condition_column, handles) + column(batch_column, batch_handles)
    legend = figure.legend(handles=handles, loc="outside lower center", ncols=2 if has_batch else min(len(handles), 3),
                           frameon=False, fontsize=6.5, handletextpad=0.2, columnspacing=1.5)
    if has_batch:
        texts = legend.get_texts()
        for header in (0, len(texts) // 2):
            texts[header].set_fontweight("bold")
    ax.set_title(f"top {min(ntop, len(expression_matrix(vst_table)))} variable genes (VST)", fontsize=7)
    if label_samples:
        # Last, so that the layout (legend, title) no longer moves the axes under the labels.
        label_points(ax, coordinates["PC1"].to_numpy(), coordinates["PC2"].to_numpy(),
                     _short_sample_names(coordinates.index), fontsize=5.5, point_radius_pt=4.5)
    return figure


def sample_distance_heatmap(
    vst_table: pd.DataFrame,
    sample_table: pd.DataFrame,
    palette: dict[str, str],
    condition_column: str = "condition",
) -> plt.Figure:
    """Euclidean distances between samples on the VST, hierarchically clustered.

    As in the DESeq2 vignette: ``dist(t(assay(vsd)))`` over all genes, complete
    linkage (pheatmap's default), darker = more similar, condition colour bar.
    """
    set_theme()
    matrix = expression_matrix(vst_table)
    from scipy.cluster.hierarchy import leaves_list, linkage  # only this figure clusters
    from scipy.spatial.distance import pdist, squareform

    distances = pdist(matrix.to_numpy().T, metric="euclidean")
    # optimal leaf ordering costs time with the cube of the samples: a cohort of thousands
    # keeps complete linkage's own order
    optimal = matrix.shape[1] <= MAX_OPTIMAL_ORDERING_SAMPLES
    order = leaves_list(linkage(distances, method="complete", optimal_ordering=optimal))
    square = squareform(distances)[np.ix_(order, order)]
    samples = matrix.columns[order]
    names = _short_sample_names(samples)
    conditions = sample_sheet(sample_table).reindex(samples)[condition_column].astype(str)

    n = len(samples)
    side = min(DOUBLE_COLUMN * 0.75, max(SINGLE_COLUMN, 1.4 + 0.17 * n))
    figure = plt.figure(figsize=(side, side * 0.95), layout="constrained")
    grid = figure.add_gridspec(2, 2, width_ratios=[1, 0.05], height_ratios=[0.05, 1])
    bar = figure.add_subplot(grid[0, 0])
    ax = figure.add_subplot(grid[1, 0], sharex=bar)
    cax = figure.add_subplot(grid[1, 1])
    figure.add_subplot(grid[0, 1]).set_axis_off()
    colours = [_colour(c, palette) for c in conditions]
    bar.imshow([[to_rgba(c) for c in colours]], aspect="auto", extent=(-0.5, n - 0.5, 0, 1))
    bar.set_axis_off()
    import seaborn  # noqa: F401 - registers seaborn's colour maps, of which "mako" is drawn here

    image = ax.imshow(square, cmap="mako", aspect="auto", interpolation="nearest")
    if n <= MAX_LABELLED_SAMPLES:
        ax.set_xticks(range(n), names, rotation=90, fontsize=max(4.0, min(7.0, 140 / n)))
        ax.set_yticks(range(n), names, fontsize=max(4.0, min(7.0, 140 / n)))
        for tick, colour in zip(ax.get_yticklabels(), colours):
            tick.set_color(colour)
        for tick, colour in zip(ax.get_xticklabels(), colours):
            tick.set_color(colour)
    else:  # names would overlap into a grey band: the colour bar tells the conditions
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"{n} samples, clustered")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    figure.colorbar(image, cax=cax, label="Euclidean distance (VST)")
    handles = [Patch(color=_colour(c, palette), label=c) for c in condition_order(conditions, palette)]
    figure.legend(handles=handles, loc="outside upper center", ncols=len(handles), frameon=False, fontsize=6.5)
    return figure


def marker_heatmap(
    vst_table: pd.DataFrame,
    markers: pd.DataFrame,
    sample_table: pd.DataFrame,
    palette: dict[str, str],
    condition_column: str = "condition",
    max_z: float = 2.5,
) -> plt.Figure:
    """Markers x samples heatmap of VST z-scores, samples grouped by condition.

    Rows are the found markers in configured order (labelled by symbol); columns are
    grouped by condition (reference first, then target) with a colour bar on top.
    z-scores are per gene across the shown samples, clipped to ``+-max_z``.
    """
    set_theme()
    found = _found_markers(markers)
    matrix = expression_matrix(vst_table).reindex(found["gene"].astype(str))
    sheet = sample_sheet(sample_table).reindex(matrix.columns)
    conditions = sheet[condition_column].astype(str)
    order = condition_order(conditions, palette)
    samples = sorted(matrix.columns, key=lambda s: (order.index(conditions[s]), str(s)))
    values = matrix[samples].to_numpy()
    spread = values.std(axis=1, ddof=1, keepdims=True)
    z = np.divide(values - values.mean(axis=1, keepdims=True), spread, out=np.zeros_like(values),
                  where=spread > 0)

    n_genes, n_samples = z.shape
    height = 1.2 + 0.2 * max(n_genes, 1)
    figure = plt.figure(figsize=(SINGLE_COLUMN if n_samples <= 16 else DOUBLE_COLUMN, height), layout="constrained")
    # The condition bar keeps a fixed physical height (about 0.12 in) whatever the gene count.
    grid = figure.add_gridspec(2, 2, width_ratios=[1, 0.04], height_ratios=[0.6, 0.2 * 5 * max(n_genes, 1)])
    bar = figure.add_subplot(grid[0, 0])
    ax = figure.add_subplot(grid[1, 0], sharex=bar)
    cax = figure.add_subplot(grid[1, 1])
    figure.add_subplot(grid[0, 1]).set_axis_off()
    colours = [_colour(conditions[s], palette) for s in samples]
    bar.imshow([[to_rgba(c) for c in colours]], aspect="auto", extent=(-0.5, n_samples - 0.5, 0, 1))
    bar.set_axis_off()
    image = ax.imshow(np.clip(z, -max_z, max_z), cmap="RdBu_r", vmin=-max_z, vmax=max_z, aspect="auto",
                      interpolation="nearest")
    ax.set_yticks(range(n_genes), found["symbol"].astype(str).tolist(), fontsize=7)
    if n_samples <= MAX_LABELLED_SAMPLES:
        names = _short_sample_names(samples)
        ax.set_xticks(range(n_samples), names, rotation=90, fontsize=max(4.0, min(6.5, 160 / max(n_samples, 1))))
    else:  # names would overlap into a grey band: the colour bar tells the conditions
        ax.set_xticks([])
        ax.set_xlabel(f"{n_samples} samples, by condition")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    figure.colorbar(image, cax=cax, label="VST z-score")
    handles = [Patch(color=_colour(c, palette), label=c) for c in order]
    figure.legend(handles=handles, loc="outside upper center", ncols=len(handles), frameon=False, fontsize=6.5)
    _note_missing_markers(figure, markers)
    return figure


def _at_least_one_decade(low: float, high: float) -> tuple[float, float]:
    """Widen (geometrically, around the centre) to span a factor of 10 or more.

    Panels then show fold differences at comparable scale and always get two labelled
    ticks.
    """
    span = math.log10(high) - math.log10(low)
    if span >= 1:
        return low, high
    pad = (1 - span) / 2
    return low / 10**pad, high * 10**pad


def marker_count_plot(
    normalized_table: pd.DataFrame,
    markers: pd.DataFrame,
    sample_table: pd.DataFrame,
    palette: dict[str, str],
    condition_column: str = "condition",
    patient_column: str = "patient",
    max_columns: int = 5,
) -> plt.Figure:
    """Normalized counts of each found marker by condition, log scale, one panel per marker.

    Like ``plotCounts`` (counts + 0.5 on a log axis so zeros are drawn). When
    ``patient_column`` exists and a patient has samples in several conditions, that
    patient's samples are joined by a thin line. A short black bar marks each group's
    median; each panel's title gives the marker's padj. Every y axis spans at least a
    factor of 10 so panels are comparable at a glance.
    """
    set_theme()
    found = _found_markers(markers)
    matrix = expression_matrix(normalized_table).reindex(found["gene"].astype(str))
    sheet = sample_sheet(sample_table).reindex(matrix.columns)
    conditions = sheet[condition_column].astype(str)
    order = condition_order(conditions, palette)
    paired = patient_column in sheet and sheet.groupby(patient_column)[condition_column].nunique().max() > 1

    n = max(len(found), 1)
    # As many columns as leave each group's tick label (about 0.055 in per character at
    # 6.5 pt) room beside its neighbour's, then rows balanced: 5 markers as 3 + 2, not 4 + 1.
    longest = max((len(line) for condition in order for line in _wrap(condition).split("\n")), default=1)
    panel_inches = 0.5 + max(len(order), 1) * max(0.55, 0.055 * longest + 0.15)
    fitting = max(1, min(max_columns, int(DOUBLE_COLUMN // panel_inches), n))
    rows = math.ceil(n / fitting)
    columns = math.ceil(n / rows)
    width = DOUBLE_COLUMN if columns > 2 else SINGLE_COLUMN
    figure, axes = plt.subplots(rows, columns, figsize=(width, 1.75 * rows + 0.35), squeeze=False,
                                layout="constrained")
    offsets = _deterministic_offsets(conditions, matrix)
    for ax, (_, marker) in zip(axes.flat, found.iterrows()):
        values = matrix.loc[str(marker["gene"])] + 0.5
        x = np.array([order.index(conditions[s]) for s in matrix.columns], dtype=float) + offsets
        if paired:
            for _, members in sheet.groupby(patient_column):
                idx = [matrix.columns.get_loc(s) for s in members.index]
                if len(idx) > 1:
                    idx.sort(key=lambda i: x[i])
                    ax.plot(x[idx], values.to_numpy()[idx], color="#999999", lw=0.6, zorder=1)
        ax.scatter(x, values, s=14, c=[_colour(conditions[s], palette) for s in matrix.columns],
                   edgecolors="white", linewidths=0.4, zorder=3)
        for position, condition in enumerate(order):
            members = values[(conditions == condition).to_numpy()]
            if len(members):
                median = float(np.median(members))
                ax.plot([position - 0.25, position + 0.25], [median, median], color=LABEL_COLOUR, lw=1.0, zorder=2)
        ax.set_yscale("log")
        low, high = float(values.min()), float(values.max())
        low, high = _at_least_one_decade(low / 1.25, high * 1.25)
        ax.set_ylim(low, high)
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=12))
        ax.yaxis.set_major_formatter(FuncFormatter(count_tick_label))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(range(len(order)), [_wrap(c) for c in order], fontsize=6.5)
        ax.set_xlim(-0.6, len(order) - 0.4)
        padj = marker.get("padj", np.nan)
        subtitle = f"padj = {padj:.2g}" if pd.notna(padj) else "padj n.a."
        ax.set_title(f"{marker['symbol']}\n{subtitle}", fontsize=7.5)
    for ax in axes.flat[len(found):]:
        ax.set_axis_off()
    for ax in axes[:, 0]:
        ax.set_ylabel("normalized count + 0.5")
    if paired:
        figure.legend(handles=[Line2D([], [], color="#999999", lw=0.6, label=f"same {patient_column}")],
                      loc="outside lower right", frameon=False, fontsize=6.5)
    _note_missing_markers(figure, markers)
    return figure


def _wrap(label: str, width: int = 8) -> str:
    """Break a long condition name at the space or hyphen nearest its middle.

    Neighbouring x tick labels of a narrow panel ("non-lesional", "lesional") would
    otherwise run into each other.
    """
    breaks = [i for i, ch in enumerate(label) if ch in " -"]
    if len(label) <= width or not breaks:
        return label
    middle = min(breaks, key=lambda i: abs(i - len(label) / 2))
    keep = label[middle] if label[middle] == "-" else ""
    return label[:middle] + keep + "\n" + label[middle + 1 :]


def _deterministic_offsets(conditions: pd.Series, matrix: pd.DataFrame, width: float = 0.3) -> np.ndarray:
    """Even horizontal spread of the samples of each condition, in sample-sheet order."""
    offsets = np.zeros(matrix.shape[1])
    for _, members in conditions.groupby(conditions, sort=False):
        positions = [matrix.columns.get_loc(s) for s in members.index]
        if len(positions) > 1:
            offsets[positions] = np.linspace(-width / 2, width / 2, len(positions))
    return offsets
