"""End to end: a three-group run (qPCR and RNA-seq) colours each level the same in every figure.

The bundled example's Cq and count tables with a sheet relabelled into healthy (6),
non-lesional (3) and lesional (3) skin, the config asking for every pair of the three levels.
The tests read the written SVG files (fill colours, texts) and the interactive pages, as a
reader would see them, and the report built from the run.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT, run_workflow
from fibroskin.plots.qpcr import format_pvalue
from fibroskin.plots.theme import OKABE_ITO

LEVELS = ["healthy", "non-lesional", "lesional"]
PAIRS = {"non-lesional_vs_healthy": ("healthy", "non-lesional"), "lesional_vs_healthy": ("healthy", "lesional"),
         "lesional_vs_non-lesional": ("non-lesional", "lesional")}
GROUPS = {"H01": "healthy", "H02": "healthy", "H03": "healthy", "H04": "healthy", "H05": "healthy", "H06": "healthy",
          "L01": "lesional", "L02": "lesional", "L03": "non-lesional", "L04": "lesional", "L05": "non-lesional",
          "L06": "non-lesional"}
#: Okabe-Ito colours as matplotlib writes them into an SVG (lower case).
CONDITION_COLOURS = {colour.lower() for name, colour in OKABE_ITO.items() if name != "black"}
#: Figures of one pair whose colours are its two groups'.
PAIR_FIGURES = ["qpcr_markers", "rnaseq_marker_counts", "rnaseq_marker_heatmap", "rnaseq_volcano", "rnaseq_ma",
                "profibrotic_score", "profibrotic_score_qpcr_vs_rnaseq", "concordance_samples"]


@pytest.fixture(scope="module")
def three_group_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("three_group_figures") / "run"
    workdir.mkdir()
    shutil.copy(ROOT / "resources" / "example" / "qpcr_cq.tsv", workdir / "cq.tsv")
    shutil.copy(ROOT / "resources" / "example" / "counts.tsv", workdir / "counts.tsv")
    sheet = pd.DataFrame({"sample": list(GROUPS), "condition": list(GROUPS.values()),
                          "batch": ["run1" if s[-1] in "135" else "run2" for s in GROUPS]})
    sheet.to_csv(workdir / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "samples.tsv",
        "contrasts": {"skin": {"column": "condition", "levels": LEVELS}},
        "markers": ["TGFB1", "COL1A1", "COL1A2", "COL3A1", "CCN2"],
        "qpcr": {"cq_tables": ["cq.tsv"], "reference_genes": ["GAPDH", "ACTB", "RPLP0"]},
        "rnaseq": {"counts": "counts.tsv", "design": "~condition"},
        "figures": {"format": ["svg"]},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    run_workflow(workdir)
    return workdir


def colours_in(svg: Path) -> set[str]:
    """The condition colours (Okabe-Ito) an SVG fills anything with."""
    return set(re.findall(r"fill: ?(#[0-9a-f]{6})", svg.read_text())) & CONDITION_COLOURS


def svg_texts(svg: Path) -> list[str]:
    """The texts of an SVG written with ``svg.fonttype: none`` (one per <text> element)."""
    return [html.unescape(text) for text in re.findall(r"<text[^>]*>([^<]*)</text>", svg.read_text())]


def level_colours(workdir: Path) -> dict[str, str]:
    """Each level's colour, read from the pairs' study figures: the colour the two pairs
    holding that level have in common. Fails if it differs between the pairs."""
    by_pair = {pair: colours_in(workdir / f"results/{pair}/figures/qpcr_markers.svg") for pair in PAIRS}
    colours = {}
    for level in LEVELS:
        shared = set.intersection(*(by_pair[pair] for pair, levels in PAIRS.items() if level in levels))
        assert len(shared) == 1, f"{level}: {shared} (pairs: {by_pair})"
        colours[level] = shared.pop()
    return colours


def test_each_level_has_one_colour_in_every_pairs_study_figure(three_group_run):
    colours = level_colours(three_group_run)
    assert len(set(colours.values())) == 3
    # the documented assignment: the first level blue, the family's last level vermillion
    assert colours["healthy"] == OKABE_ITO["blue"].lower() and colours["lesional"] == OKABE_ITO["vermillion"].lower()


@pytest.mark.parametrize("figure", PAIR_FIGURES)
def test_every_figure_of_a_pair_draws_its_groups_in_their_colours(three_group_run, figure):
    colours = level_colours(three_group_run)
    for pair, levels in PAIRS.items():
        assert colours_in(three_group_run / f"results/{pair}/figures/{figure}.svg") == {colours[level] for level in levels}, pair


def test_run_wide_figures_use_the_same_colours(three_group_run):
    colours = level_colours(three_group_run)
    for path in ("results/figures/rnaseq_pca.svg", "results/figures/rnaseq_sample_distances.svg",
                 "results/skin/figures/qpcr_family_markers.svg"):
        assert colours_in(three_group_run / path) == set(colours.values()), path
    # the marker fold-change scatter shows genes, not groups: no condition colour there
    for pair in PAIRS:
        assert colours_in(three_group_run / f"results/{pair}/figures/concordance_markers.svg") == set()


def page_classes(page: Path) -> dict[str, str]:
    """Legend label -> colour of an interactive page's point classes (its embedded spec)."""
    text = page.read_text()
    spec = json.loads(re.search(r'<script id="fibroskin-spec" type="application/json">(.*?)</script>', text, re.S).group(1))
    return {entry["label"]: entry["colour"].lower() for entry in spec["classes"]}


def test_interactive_pages_use_the_same_colours(three_group_run):
    colours = level_colours(three_group_run)
    assert page_classes(three_group_run / "results/figures/rnaseq_pca.html") == colours
    for pair, levels in PAIRS.items():
        for page in ("rnaseq_volcano", "rnaseq_ma"):
            classes = page_classes(three_group_run / f"results/{pair}/figures/{page}.html")
            assert {label: colour for label, colour in classes.items() if label.startswith("higher in")} == {
                f"higher in {level}": colours[level] for level in levels
            }


def test_family_figure_shows_each_pairs_holm_p_per_marker(three_group_run):
    texts = svg_texts(three_group_run / "results/skin/figures/qpcr_family_markers.svg")
    expected = Counter()
    for pair in PAIRS:
        statistics = pd.read_csv(three_group_run / f"results/{pair}/qpcr/marker_stats.tsv", sep="\t")
        assert statistics["padj_pairwise"].notna().all()
        expected.update(format_pvalue(value, "Holm p") for value in statistics["padj_pairwise"])
    assert Counter(text for text in texts if text.startswith("Holm p")) == expected
    # under each of the 5 panels, every group by name (non-lesional broken at its hyphen) and n
    assert texts.count("healthy") == texts.count("non-") == 5 and texts.count("lesional") == 10
    assert texts.count("n = 6") == 5 and texts.count("n = 3") == 10


def test_a_pairs_study_figure_names_its_holm_p(three_group_run):
    texts = svg_texts(three_group_run / "results/lesional_vs_healthy/figures/qpcr_markers.svg")
    statistics = pd.read_csv(three_group_run / "results/lesional_vs_healthy/qpcr/marker_stats.tsv", sep="\t")
    # each panel: the pair's own p-value with its Holm-adjusted value on the line below
    lines = [index for index, text in enumerate(texts) if re.match(r"Holm p [=<]", text)]
    assert [texts[index] for index in lines] == [format_pvalue(value, "Holm p") for value in statistics["padj_pairwise"]]
    assert [texts[index - 1] for index in lines] == [format_pvalue(value) for value in statistics["pvalue"]]
    assert "Holm p: adjusted over the 3 pairs of healthy, non-lesional, lesional" in texts


def test_the_report_shows_the_family_figure_with_its_caption(three_group_run):
    run_workflow(three_group_run, "--report", "results/report.html")
    report = (three_group_run / "results/report.html").read_text(errors="replace")
    assert "qpcr_family_markers.svg" in report
    assert "Holm-adjusted over the pairs of the family" in report
