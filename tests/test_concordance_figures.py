"""Concordance and score figures: what they draw, for which samples, in which colours."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex
from scipy import stats

from fibroskin.config import Contrast
from fibroskin.plots import concordance as plots
from fibroskin.plots.theme import OKABE_ITO

PALETTE = {"healthy": OKABE_ITO["blue"], "non-lesional": OKABE_ITO["bluish_green"], "lesional": OKABE_ITO["vermillion"]}
CONDITION_COLOURS = {colour.lower() for colour in PALETTE.values()}


def three_group_scores() -> tuple[pd.DataFrame, dict[str, str]]:
    groups = {f"H{i}": "healthy" for i in range(1, 5)} | {f"N{i}": "non-lesional" for i in range(1, 4)}
    groups |= {f"L{i}": "lesional" for i in range(1, 4)}
    qpcr = dict(zip(groups, [-1.2, -0.9, -1.0, -0.7, 0.1, 0.4, -0.2, 1.1, 0.8, 1.3]))
    rnaseq = dict(zip(groups, [-1.0, -1.1, -0.6, -0.8, 0.5, -0.1, 0.2, 0.9, 1.2, 1.0]))
    scores = pd.DataFrame(
        [{"sample": s, "assay": assay, "score": values[s]} for assay, values in (("qpcr", qpcr), ("rnaseq", rnaseq)) for s in groups]
    )
    return scores, groups


def test_score_between_assays_correlates_the_samples_it_draws():
    """A pair of a three-group run draws its two groups only; n and r are over those points."""
    scores, groups = three_group_scores()
    pair = pd.Series({s: g for s, g in groups.items() if g in ("healthy", "lesional")}, name="group")
    figure = plots.score_between_assays(scores, pair, PALETTE)
    axis = figure.axes[0]
    drawn = np.vstack([collection.get_offsets() for collection in axis.collections])
    assert len(drawn) == 7
    wide = scores.pivot(index="sample", columns="assay", values="score").loc[pair.index]
    r = stats.pearsonr(wide["qpcr"], wide["rnaseq"]).statistic
    assert axis.texts[0].get_text().splitlines()[:2] == ["n = 7 samples", f"Pearson r = {r:.2f}"]
    # legend in the run's level order, each group in its level's colour
    legend = axis.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["healthy", "lesional"]
    assert [to_hex(c.get_facecolor()[0]) for c in axis.collections] == [PALETTE["healthy"].lower(), PALETTE["lesional"].lower()]
    plt.close(figure)


def test_marker_scatter_labels_do_not_overlap_and_use_no_condition_colour():
    """Markers whose fold changes nearly coincide (as COL1A2 and TGFB1 in a three-group run)."""
    markers = pd.DataFrame(
        {
            "gene": ["COL1A1", "COL1A2", "TGFB1", "COL3A1", "CCN2"],
            "qpcr_log2fc": [2.29, 1.38, 1.73, 1.63, 0.84],
            "rnaseq_log2fc": [2.01, 1.39, 1.43, 1.18, 1.08],
            "direction_agree": [True, True, True, True, False],
        }
    )
    figure = plots.marker_scatter(markers, Contrast("lesional_vs_healthy", "condition", "healthy", "lesional"))
    axis = figure.axes[0]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    labels = [text for text in axis.texts if text.get_text() in set(markers["gene"])]
    assert sorted(text.get_text() for text in labels) == sorted(markers["gene"])
    boxes = [text.get_window_extent(renderer) for text in labels] + [axis.texts[0].get_window_extent(renderer)]
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    fills = {to_hex(colour) for collection in axis.collections for colour in collection.get_facecolors()}
    assert not fills & CONDITION_COLOURS  # a point here is a gene, not a group
    plt.close(figure)
