"""RNA-seq figures: drawn from a small simulated fit, checked for what a reader relies on."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest

from fibroskin import rnaseq
from fibroskin.plots import rnaseq as plots
from fibroskin.plots.theme import DOUBLE_COLUMN, SINGLE_COLUMN, condition_palette, count_tick_label, save_figure

REFERENCE, TARGET = "non-lesional", "lesional"


@pytest.fixture(scope="module")
def tables():
    counts, sheet = rnaseq.simulate_counts(n_genes=600, n_patients=4, seed=1)
    dds = rnaseq.fit_deseq(counts, sheet, "~patient + condition", reference_levels={"condition": REFERENCE})
    results = rnaseq.test_contrast(dds, "condition", REFERENCE, TARGET)
    markers = rnaseq.marker_results(results, ["TGFB1", "COL1A1", "CTGF", "COL3A1", "NOTAGENE"])
    return {
        "sheet": sheet,
        "results": results,
        "markers": markers,
        "vst": rnaseq.vst(dds),
        "normalized": rnaseq.normalized_counts(dds),
    }


@pytest.fixture(scope="module")
def palette():
    return condition_palette(REFERENCE, TARGET)


def texts_of(figure: plt.Figure) -> list[str]:
    """Text labels drawn in the axes (leader lines are empty annotations)."""
    return [text.get_text() for ax in figure.axes for text in ax.texts if text.get_text()]


def heatmap_axes(figure: plt.Figure) -> plt.Axes:
    """The axes holding the 2-D heatmap (the condition bar is an RGB image)."""
    return next(ax for ax in figure.axes if ax.images and np.ndim(ax.images[0].get_array()) == 2)


def legend_texts(figure: plt.Figure) -> list[str]:
    legends = list(figure.legends) + [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def assert_labels_do_not_overlap(figure: plt.Figure, labels: list[str]) -> None:
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for ax in figure.axes for t in ax.texts if t.get_text() in labels]
    assert len(boxes) == len(labels)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_volcano_labels_markers_and_counts_significant_genes(tables, palette, tmp_path):
    figure = plots.volcano_plot(tables["results"], palette, REFERENCE, TARGET, tables["markers"])
    labels = texts_of(figure)
    assert sorted(labels) == ["CCN2", "COL1A1", "COL3A1", "TGFB1"]  # NOTAGENE was not found
    assert_labels_do_not_overlap(figure, labels)
    significant = tables["results"]["padj"] < 0.05
    up = int((significant & (tables["results"]["log2FoldChange"] > 0)).sum())
    down = int((significant & (tables["results"]["log2FoldChange"] < 0)).sum())
    assert f"higher in {TARGET} ({up})" in legend_texts(figure)
    assert f"higher in {REFERENCE} ({down})" in legend_texts(figure)
    assert figure.get_size_inches()[0] == pytest.approx(SINGLE_COLUMN)
    save_figure(figure, [tmp_path / "volcano.png"])
    assert (tmp_path / "volcano.png").stat().st_size > 10_000


def test_volcano_colours_follow_the_palette(tables, palette):
    figure = plots.volcano_plot(tables["results"], palette, REFERENCE, TARGET)
    colours = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in figure.axes[0].collections if len(c.get_offsets())}
    expected = {tuple(np.round(plt.matplotlib.colors.to_rgb(palette[level]), 3)) for level in (REFERENCE, TARGET)}
    assert expected <= colours
    plt.close(figure)


def test_ma_plot(tables, palette):
    figure = plots.ma_plot(tables["results"], palette, REFERENCE, TARGET, tables["markers"])
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    assert "mean of normalized counts" in ax.get_xlabel()
    assert set(texts_of(figure)) == {"TGFB1", "COL1A1", "CCN2", "COL3A1"}
    assert_labels_do_not_overlap(figure, texts_of(figure))
    figure.draw_without_rendering()
    tick_labels = [label.get_text() for label in ax.get_xticklabels() if label.get_text()]
    assert "10⁴" in tick_labels and "100" in tick_labels
    plt.close(figure)


@pytest.mark.parametrize(
    ("value", "label"),
    [(0.5, "0.5"), (1, "1"), (20, "20"), (5000, "5000"), (1e4, "10⁴"), (2e4, "2×10⁴"), (1e5, "10⁵"),
     (5e6, "5×10⁶"), (1e-4, "10⁻⁴"), (0, ""), (float("nan"), "")],
)
def test_count_tick_labels_are_plain_text(value, label):
    assert count_tick_label(value) == label


def test_pca_matches_plotpca_definition(tables, palette):
    coordinates, percent = plots.pca_coordinates(tables["vst"], ntop=500)
    matrix = tables["vst"].set_index("gene")
    top = matrix.loc[matrix.var(axis=1).sort_values(ascending=False).index[:500]].to_numpy().T
    # % variance = squared singular values over their sum, as prcomp's sdev^2.
    singular = np.linalg.svd(top - top.mean(axis=0), compute_uv=False)
    np.testing.assert_allclose(percent, singular**2 / np.sum(singular**2) * 100)
    assert percent[0] > percent[1] > 0
    # Lesional and non-lesional samples separate on PC1.
    by_condition = coordinates["PC1"].groupby(tables["sheet"].set_index("sample")["condition"]).mean()
    assert abs(by_condition[TARGET] - by_condition[REFERENCE]) > coordinates["PC1"].std()

    figure = plots.pca_plot(tables["vst"], tables["sheet"], palette)
    ax = figure.axes[0]
    assert ax.get_xlabel() == f"PC1: {percent[0]:.0f}% variance"
    assert ax.get_ylabel() == f"PC2: {percent[1]:.0f}% variance"
    legend = legend_texts(figure)
    # one legend column per variable, each under its name: colours by condition, shapes by batch
    assert legend == ["condition", REFERENCE, TARGET, "batch", "batch1", "batch2"]
    assert len(texts_of(figure)) == len(tables["sheet"])  # every sample labelled
    plt.close(figure)


def test_sample_distance_heatmap(tables, palette):
    figure = plots.sample_distance_heatmap(tables["vst"], tables["sheet"], palette)
    heat = heatmap_axes(figure)
    distances = heat.images[0].get_array()
    np.testing.assert_allclose(distances, distances.T)
    assert np.all(np.diag(distances) == 0)
    names = [t.get_text() for t in heat.get_yticklabels()]
    assert sorted(names) == sorted(tables["sheet"]["sample"])
    assert set(legend_texts(figure)) == {REFERENCE, TARGET}
    plt.close(figure)


def test_marker_heatmap(tables, palette):
    figure = plots.marker_heatmap(tables["vst"], tables["markers"], tables["sheet"], palette)
    heat = heatmap_axes(figure)
    assert [t.get_text() for t in heat.get_yticklabels()] == ["TGFB1", "COL1A1", "CCN2", "COL3A1"]
    z = np.asarray(heat.images[0].get_array())
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-12)
    columns = [t.get_text() for t in heat.get_xticklabels()]
    assert all(name.endswith(REFERENCE) for name in columns[:4])  # reference samples first
    plt.close(figure)


def test_marker_counts_join_patients(tables, palette):
    figure = plots.marker_count_plot(tables["normalized"], tables["markers"], tables["sheet"], palette)
    drawn = [ax for ax in figure.axes if ax.collections]
    assert [ax.get_title().split("\n")[0] for ax in drawn] == ["TGFB1", "COL1A1", "CCN2", "COL3A1"]
    assert all(ax.get_yscale() == "log" for ax in drawn)
    patient_lines = [line for line in drawn[0].lines if line.get_color() == "#999999"]
    assert len(patient_lines) == 4  # one per patient
    low, high = drawn[0].get_ylim()
    assert high / low >= 10
    assert figure.get_size_inches()[0] == pytest.approx(DOUBLE_COLUMN)
    plt.close(figure)

    unpaired = tables["sheet"].drop(columns="patient")
    figure = plots.marker_count_plot(tables["normalized"], tables["markers"], unpaired, palette)
    assert not [line for ax in figure.axes for line in ax.lines if line.get_color() == "#999999"]
    plt.close(figure)


def test_figures_are_byte_identical_across_runs(tables, palette, tmp_path):
    for run in (1, 2):
        figure = plots.volcano_plot(tables["results"], palette, REFERENCE, TARGET, tables["markers"])
        save_figure(figure, [tmp_path / f"volcano_{run}.png", tmp_path / f"volcano_{run}.svg"])
    assert (tmp_path / "volcano_1.png").read_bytes() == (tmp_path / "volcano_2.png").read_bytes()
    assert (tmp_path / "volcano_1.svg").read_bytes() == (tmp_path / "volcano_2.svg").read_bytes()


def test_long_shared_sample_prefix_is_shortened():
    names = ["pseudo_bulk_GSE_188952_keloid scar_1", "pseudo_bulk_GSE_188952_normotropic_scar_1"]
    assert plots._short_sample_names(names) == ["keloid scar_1", "normotropic_scar_1"]
    assert plots._short_sample_names(["P1_a", "P2_a"]) == ["P1_a", "P2_a"]


def test_condition_labels_wrap():
    assert plots._wrap("non-lesional") == "non-\nlesional"
    assert plots._wrap("Keloid Scar") == "Keloid\nScar"
    assert plots._wrap("lesional") == "lesional"


def test_empty_marker_table_still_draws(tables, palette):
    none_found = rnaseq.marker_results(tables["results"], ["NOTAGENE"])
    figure = plots.volcano_plot(tables["results"], palette, REFERENCE, TARGET, none_found)
    assert texts_of(figure) == []
    plt.close(figure)


def test_marker_table_read_back_as_text(tables, palette):
    # A marker table read from TSV with dtype=str has "True"/"False" text in `found`.
    as_text = tables["markers"].astype(str)
    figure = plots.volcano_plot(tables["results"], palette, REFERENCE, TARGET, as_text)
    assert sorted(texts_of(figure)) == ["CCN2", "COL1A1", "COL3A1", "TGFB1"]
    plt.close(figure)
    figure = plots.marker_heatmap(tables["vst"], as_text, tables["sheet"], palette)
    assert figure._supxlabel.get_text() == "not in the count table: NOTAGENE"
    plt.close(figure)


def test_labels_of_nearly_coincident_points_stay_beside_them():
    """Two samples drawn almost on top of each other (as L03 and L05 of the example's PCA):
    each label sits next to its point, not at the end of a long leader line across the plot."""
    from fibroskin.plots.theme import set_theme

    set_theme()
    figure, ax = plt.subplots(figsize=(SINGLE_COLUMN, 3.0))
    x = np.array([-6.1, -5.6, -5.6, -5.45, -5.3, -5.6, 5.3, 5.7, 5.8, 6.2, 5.6, 5.6])
    y = np.array([3.6, 1.0, -0.45, -0.6, -1.25, -2.55, 2.5, 1.55, -0.05, -0.2, -0.6, -3.0])
    ax.scatter(x, y, s=28)
    ax.margins(x=0.3, y=0.15)
    labels = ["L02", "L06", "L03", "L05", "L01", "L04", "H05", "H01", "H04", "H03", "H06", "H02"]
    texts = plots.label_points(ax, x, y, labels, fontsize=5.5, point_radius_pt=4.5)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    points = ax.transData.transform(np.column_stack([x, y]))
    for text, point in zip(texts, points):
        box = text.get_window_extent(renderer)
        gap_pt = np.hypot(*(np.clip(point, [box.x0, box.y0], [box.x1, box.y1]) - point)) * 72 / figure.dpi
        assert gap_pt < 12, text.get_text()
    assert_labels_do_not_overlap(figure, labels)
    plt.close(figure)


def test_marker_count_tick_labels_of_neighbouring_groups_do_not_touch(tables, palette):
    """Five markers: panels wide enough that 'non-lesional' and 'lesional' stay apart (3 + 2)."""
    five = rnaseq.marker_results(tables["results"], ["TGFB1", "COL1A1", "CTGF", "COL3A1", "COL1A2"])
    figure = plots.marker_count_plot(tables["normalized"], five, tables["sheet"], palette)
    drawn = [ax for ax in figure.axes if ax.collections]
    assert len(drawn) == 5 and len({ax.get_position().y0 for ax in drawn}) == 2  # two rows
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    for ax in drawn:
        left, right = (label.get_window_extent(renderer) for label in ax.get_xticklabels())
        assert right.x0 - left.x1 > 4 * figure.dpi / 72  # at least 4 pt apart
    plt.close(figure)


def test_theme_is_seaborns_paper_ticks_theme():
    """The theme written out in plots.theme is what seaborn's set_theme gives (but its colour map)."""
    import matplotlib

    from fibroskin.plots.theme import SEABORN_PAPER_TICKS, set_theme

    seaborn = pytest.importorskip("seaborn")
    with matplotlib.rc_context():
        matplotlib.rcParams.update(matplotlib.rcParamsDefault)
        seaborn.set_theme(context="paper", style="ticks", font_scale=1.0)
        theirs = dict(matplotlib.rcParams)
    with matplotlib.rc_context():
        matplotlib.rcParams.update(matplotlib.rcParamsDefault)
        matplotlib.rcParams.update(SEABORN_PAPER_TICKS)
        ours = dict(matplotlib.rcParams)
        set_theme()  # and the project's own settings on top apply cleanly
    differ = {key for key in theirs if key != "backend_fallback" and ours[key] != theirs[key]}
    # the palette is the same colours (hex here, RGB tuples there); image.cmap is left out
    assert differ == {"axes.prop_cycle", "image.cmap"}, differ
    assert [matplotlib.colors.to_rgb(c) for c in ours["axes.prop_cycle"].by_key()["color"]] == [
        tuple(c) for c in theirs["axes.prop_cycle"].by_key()["color"]
    ]
