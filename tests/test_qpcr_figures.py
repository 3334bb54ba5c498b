"""qPCR figures and the run's colours: one colour per level, Holm p on a family's panels.

The three-group cohort here is written by hand (dCq per sample), run through the package's
own tables (``relative_expression``, ``marker_statistics``) and drawn; the tests read the
drawn figure objects: which colour sits at which group's position, what each bracket says.
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex

from fibroskin.config import load_design
from fibroskin.plots import qpcr as qpcr_plots
from fibroskin.plots.theme import OKABE_ITO, level_palette, run_palette, save_figure
from fibroskin.qpcr import relative_expression
from fibroskin.qpcr_steps import marker_statistics

LEVELS = ["healthy", "non-lesional", "lesional"]
#: dCq of TGFB1 and COL1A1 per sample (lower dCq = higher expression); 4 healthy, 3 + 3 patients.
DCQ = {
    "TGFB1": {"H1": 7.1, "H2": 7.4, "H3": 6.9, "H4": 7.3, "N1": 6.2, "N2": 6.6, "N3": 6.0, "L1": 5.1, "L2": 5.5, "L3": 4.9},
    "COL1A1": {"H1": 2.0, "H2": 2.3, "H3": 1.8, "H4": 2.1, "N1": 1.9, "N2": 2.2, "N3": 1.7, "L1": 0.2, "L2": 0.6, "L3": -0.1},
}
GROUP = {sample: {"H": "healthy", "N": "non-lesional", "L": "lesional"}[sample[0]] for sample in DCQ["TGFB1"]}
BLUE, VERMILLION, GREEN = (OKABE_ITO[name].lower() for name in ("blue", "vermillion", "bluish_green"))


def design_for(tmp_path, contrasts: dict, extra_levels: dict[str, str] | None = None):
    groups = dict(GROUP, **(extra_levels or {}))
    sheet = pd.DataFrame({"sample": list(groups), "condition": list(groups.values())})
    sheet.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": str(tmp_path / "samples.tsv"),
        "contrasts": contrasts,
        "markers": ["TGFB1", "COL1A1"],
        "qpcr": {"cq_tables": ["cq.tsv"], "reference_genes": ["GAPDH"], "test": "welch"},
    }
    return load_design(config)


@pytest.fixture
def family(tmp_path):
    """The three-group design, its pairs' tables as the workflow writes them, and the palette."""
    design = design_for(tmp_path, {"skin": {"column": "condition", "levels": LEVELS}})
    delta = pd.DataFrame(
        [{"sample": sample, "target": target, "dcq": value} for target, values in DCQ.items() for sample, value in values.items()]
    )
    tables = {}
    for contrast in design.contrasts:
        statistics, _ = marker_statistics(delta, design, contrast)
        relative = relative_expression(delta, design.samples, contrast, ["GAPDH"], design.markers)
        tables[contrast.name] = (contrast, statistics, relative)
    return design, tables


def point_colours_by_position(axis: plt.Axes) -> dict[int, set[str]]:
    """Group position (rounded x of the points) -> the fill colours of the points drawn there."""
    found: dict[int, set[str]] = {}
    for collection in axis.collections:
        if not isinstance(collection, PathCollection):  # error bars are line collections
            continue
        offsets = collection.get_offsets()
        colours = collection.get_facecolors()
        for index, (x, _) in enumerate(np.asarray(offsets)):
            colour = colours[index if len(colours) > 1 else 0]
            found.setdefault(int(round(x)), set()).add(to_hex(colour))
    return found


def lowered(palette: dict[str, str]) -> dict[str, str]:
    """The palette with lower-case hex colours, as matplotlib reports drawn ones."""
    return {level: colour.lower() for level, colour in palette.items()}


def drawn_texts(figure: plt.Figure) -> list[str]:
    return [text.get_text() for axis in figure.axes for text in axis.texts if text.get_text()]


# --------------------------------------------------------------------------- palette


def test_a_two_group_run_keeps_reference_blue_and_target_vermillion(tmp_path):
    design = design_for(tmp_path, {"lesional_vs_healthy": {"column": "condition", "reference": "healthy", "target": "lesional"}})
    # the sheet also holds non-lesional samples that no contrast compares: the next colour
    assert lowered(run_palette(design)) == {"healthy": BLUE, "lesional": VERMILLION, "non-lesional": GREEN}


def test_each_level_keeps_its_colour_in_every_pair_of_a_family(tmp_path, family):
    design, _ = family
    expected = {"healthy": BLUE, "non-lesional": GREEN, "lesional": VERMILLION}
    assert lowered(run_palette(design)) == expected
    assert list(run_palette(design)) == LEVELS  # the family's order
    for contrast in design.contrasts:
        palette = run_palette(design, contrast)
        assert lowered(palette) == expected
        # the contrast's own figures still draw its reference first, then its target
        assert list(palette)[:2] == [contrast.reference, contrast.target]
    # lesional is vermillion as in the two-group run, so the colour means the same in both
    two_group = design_for(tmp_path, {"lesional_vs_healthy": {"column": "condition", "reference": "healthy", "target": "lesional"}})
    assert lowered(run_palette(two_group))["lesional"] == expected["lesional"]


def test_levels_follow_the_config_then_the_sheet_and_columns_do_not_mix():
    from fibroskin.config import expand_contrasts

    contrasts = expand_contrasts(
        {
            "a": {"column": "condition", "reference": "healthy", "target": "lesional"},
            "b": {"column": "condition", "reference": "non-lesional", "target": "lesional"},
            "c": {"column": "site", "reference": "arm", "target": "back"},
        }
    )
    palette = level_palette(contrasts, "condition", ["morphea", "healthy", "", "keloid", "lesional"])
    spare = [OKABE_ITO[name].lower() for name in ("bluish_green", "orange", "reddish_purple")]
    assert lowered(palette) == {"healthy": BLUE, "lesional": VERMILLION, "non-lesional": spare[0], "morphea": spare[1], "keloid": spare[2]}
    assert lowered(level_palette(contrasts, "site", ["back", "arm"])) == {"arm": BLUE, "back": VERMILLION}


# --------------------------------------------------------------------------- pair figure


def test_a_family_pair_shows_its_p_and_holm_p_in_its_levels_colours(family):
    design, tables = family
    contrast, statistics, relative = tables["lesional_vs_non-lesional"]
    figure = qpcr_plots.marker_panels(relative, statistics, contrast, run_palette(design, contrast), design.markers)
    panels = [axis for axis in figure.axes if axis.get_visible()]
    assert [axis.get_title() for axis in panels] == ["TGFB1", "COL1A1"]
    by_gene = statistics.set_index("gene")
    for axis in panels:
        row = by_gene.loc[axis.get_title()]
        assert [text.get_text() for text in axis.texts] == [
            f"{qpcr_plots.format_pvalue(row['pvalue'])}\n{qpcr_plots.format_pvalue(row['padj_pairwise'], 'Holm p')}"
        ]
        assert row["padj_pairwise"] >= row["pvalue"]  # Holm never lowers a p-value
        colours = point_colours_by_position(axis)
        assert colours[0] == {GREEN} and colours[1] == {VERMILLION}  # non-lesional, lesional
    assert "Holm p: adjusted over the 3 pairs of healthy, non-lesional, lesional" in figure._suptitle.get_text()
    plt.close(figure)


def test_a_single_contrast_figure_has_no_holm_line(tmp_path, family):
    _, tables = family
    design = design_for(tmp_path, {"lesional_vs_healthy": {"column": "condition", "reference": "healthy", "target": "lesional"}})
    contrast = design.contrasts[0]
    _, statistics, relative = tables["lesional_vs_healthy"]
    single = statistics.assign(padj_pairwise=np.nan, padj_pairwise_method=np.nan)
    figure = qpcr_plots.marker_panels(relative, single, contrast, run_palette(design, contrast), design.markers)
    texts = drawn_texts(figure)
    assert texts == [qpcr_plots.format_pvalue(p) for p in single["pvalue"]] and not any("Holm" in t for t in texts)
    assert "\n" not in figure._suptitle.get_text()
    colours = point_colours_by_position(figure.axes[0])
    assert colours[0] == {BLUE} and colours[1] == {VERMILLION}
    plt.close(figure)


def test_every_panel_labels_at_least_two_powers_of_two():
    """Groups within a 1.5-fold range: the axis still shows two labelled ticks, 1 among them."""
    relative = pd.DataFrame(
        {
            "sample": ["a", "b", "c", "d"],
            "group": ["healthy", "healthy", "lesional", "lesional"],
            "target": "TGFB1",
            "dcq": [5.0, 5.1, 5.55, 5.5],
        }
    )
    relative["relative_expression"] = 2.0 ** -(relative["dcq"] - 5.05)
    statistics = pd.DataFrame({"gene": ["TGFB1"], "pvalue": [0.3], "test": ["welch"]})
    from fibroskin.config import Contrast

    figure = qpcr_plots.marker_panels(relative, statistics, Contrast("x", "condition", "healthy", "lesional"),
                                      {"healthy": BLUE, "lesional": VERMILLION})
    axis = figure.axes[0]
    figure.canvas.draw()
    low, high = axis.get_ylim()
    shown = [tick.get_text() for tick in axis.get_yticklabels() if low <= tick.get_position()[1] <= high and tick.get_text()]
    assert len(shown) >= 2 and "1" in shown
    plt.close(figure)


# --------------------------------------------------------------------------- family figure


def test_family_relative_expression_puts_every_group_on_the_first_levels_scale(family):
    _, tables = family
    relative = qpcr_plots.family_relative_expression([relative for _, _, relative in tables.values()], LEVELS)
    assert sorted(relative["sample"].unique()) == sorted(GROUP)
    assert list(dict.fromkeys(relative["group"])) == LEVELS
    for target, values in DCQ.items():
        rows = relative[relative["target"] == target].set_index("sample")
        healthy_mean = np.mean([values[s] for s in values if GROUP[s] == "healthy"])
        for sample, dcq in values.items():
            assert rows.at[sample, "relative_expression"] == pytest.approx(2.0 ** -(dcq - healthy_mean), rel=1e-12)
    # the same numbers as each pair against healthy writes in its own table
    for pair in ("non-lesional_vs_healthy", "lesional_vs_healthy"):
        own = tables[pair][2].set_index(["sample", "target"])["relative_expression"]
        np.testing.assert_allclose(relative.set_index(["sample", "target"]).loc[own.index, "relative_expression"], own, rtol=1e-12)


def test_family_figure_shows_every_group_and_each_pairs_holm_p(family, tmp_path):
    design, tables = family
    levels = LEVELS
    relative = qpcr_plots.family_relative_expression([relative for _, _, relative in tables.values()], levels)
    pairs = [(contrast, statistics) for contrast, statistics, _ in tables.values()]
    figure = qpcr_plots.family_marker_panels(relative, pairs, levels, run_palette(design, column="condition"), design.markers)
    panels = [axis for axis in figure.axes if axis.get_visible()]
    assert [axis.get_title() for axis in panels] == ["TGFB1", "COL1A1"]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    for axis in panels:
        gene = axis.get_title()
        # every group, in the family's order, in its own colour, with its n
        assert point_colours_by_position(axis) == {0: {BLUE}, 1: {GREEN}, 2: {VERMILLION}}
        labels = [tick.get_text() for tick in axis.get_xticklabels()]
        assert labels == ["healthy\nn = 4", "non-\nlesional\nn = 3", "lesional\nn = 3"]
        # one bracket per pair, centred between its two groups, giving that pair's padj_pairwise
        brackets = {round(text.xy[0], 6): text.get_text() for text in axis.texts}
        expected = {}
        for contrast, statistics in pairs:
            centre = (levels.index(contrast.reference) + levels.index(contrast.target)) / 2
            padj = statistics.set_index("gene").at[gene, "padj_pairwise"]
            expected[round(centre, 6)] = qpcr_plots.format_pvalue(padj, "Holm p")
        assert brackets == expected
        # no two p-values overlap, and each sits inside the axes
        boxes = [text.get_window_extent(renderer) for text in axis.texts]
        assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
        frame = axis.get_window_extent(renderer)
        assert all(frame.y0 <= box.y0 and box.y1 <= frame.y1 + 1 for box in boxes)
    save_figure(figure, [tmp_path / "family.png"])
    assert (tmp_path / "family.png").stat().st_size > 10_000


def test_holm_values_shown_are_holm_over_the_pairs_by_hand(family):
    """The bracket numbers are the pairs' p-values Holm-adjusted per gene (recomputed here)."""
    _, tables = family
    for gene in DCQ:
        pvalues = np.array([statistics.set_index("gene").at[gene, "pvalue"] for _, statistics, _ in tables.values()])
        order = np.argsort(pvalues)
        holm = np.empty(3)
        holm[order] = np.minimum(1, np.maximum.accumulate(pvalues[order] * np.array([3, 2, 1])))
        shown = [statistics.set_index("gene").at[gene, "padj_pairwise"] for _, statistics, _ in tables.values()]
        np.testing.assert_allclose(shown, holm, rtol=1e-12)


def test_bracket_tiers_stack_short_spans_first():
    assert qpcr_plots.bracket_tiers([(0, 1), (0, 2), (1, 2)]) == [0, 2, 1]
    assert qpcr_plots.bracket_tiers([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]) == [0, 3, 5, 1, 4, 2]
