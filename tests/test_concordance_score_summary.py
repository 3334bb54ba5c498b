"""Concordance, profibrotic score and finding summary on constructed data with known answers."""

import numpy as np
import pandas as pd
import pytest

from fibroskin.concordance import correlate, marker_concordance, sample_concordance
from fibroskin.config import Contrast
from fibroskin.score import profibrotic_score, qpcr_expression, rnaseq_expression, score_test
from fibroskin.summary import finding_summary

CONTRAST = Contrast("lesional_vs_healthy", "condition", "healthy", "lesional")


def qpcr_stats(ddcq, pvalues):
    genes = list(ddcq)
    return pd.DataFrame(
        {
            "gene": genes,
            "ddcq": [ddcq[g] for g in genes],
            "fold_change": [2.0 ** -ddcq[g] for g in genes],
            "pvalue": [pvalues[g] for g in genes],
            "padj": [min(1.0, pvalues[g] * len(genes)) for g in genes],
        }
    )


def rnaseq_markers(log2fc, padj):
    genes = list(log2fc)
    return pd.DataFrame(
        {
            "gene": [f"ENSG_{g}" for g in genes],
            "symbol": genes,
            "log2FoldChange": [log2fc[g] for g in genes],
            "pvalue": [padj[g] / 2 for g in genes],
            "padj": [padj[g] for g in genes],
            "found": [not np.isnan(log2fc[g]) for g in genes],
        }
    )


def test_correlation_of_perfect_and_degenerate_relations():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    perfect = correlate(x, 2 * x + 1)
    assert perfect.pearson_r == pytest.approx(1.0) and perfect.spearman_rho == pytest.approx(1.0)
    inverse = correlate(x, np.array([9.0, 4.0, 1.0, 0.0]))
    assert inverse.spearman_rho == pytest.approx(-1.0) and inverse.pearson_r < -0.9
    assert np.isnan(correlate(x, np.ones(4)).pearson_r)
    assert correlate(np.array([1.0, np.nan, 3.0]), np.array([1.0, 2.0, np.nan])).n == 1


def test_marker_concordance_converts_ddcq_to_log2_fold_change_and_checks_direction():
    table = marker_concordance(
        qpcr_stats({"TGFB1": -2.0, "COL1A1": -1.0, "CCN2": 0.5}, {"TGFB1": 0.001, "COL1A1": 0.01, "CCN2": 0.3}),
        rnaseq_markers({"TGFB1": 1.8, "COL1A1": 1.2, "CCN2": 0.3, "ACTA2": np.nan}, {"TGFB1": 0.01, "COL1A1": 0.02, "CCN2": 0.5, "ACTA2": np.nan}),
    )
    assert table["gene"].tolist() == ["TGFB1", "COL1A1", "CCN2"]
    np.testing.assert_allclose(table["qpcr_log2fc"], [2.0, 1.0, -0.5])
    np.testing.assert_allclose(table["rnaseq_log2fc"], [1.8, 1.2, 0.3])
    assert table["direction_agree"].tolist() == [True, True, False]
    np.testing.assert_allclose(table["rnaseq_pvalue"], [0.005, 0.01, 0.25])


def test_sample_concordance_recovers_an_exact_log2_relation():
    samples = [f"S{i}" for i in range(6)]
    groups = pd.Series(["healthy"] * 3 + ["lesional"] * 3, index=samples)
    dcq = np.array([7.0, 7.4, 6.8, 5.1, 5.6, 4.9])
    delta = pd.DataFrame({"sample": samples, "target": "TGFB1", "dcq": dcq})
    # normalized count such that log2(count + 1) = -dCq + 17 exactly
    counts = pd.DataFrame(
        {"gene": "ENSG00000105329", "symbol": "TGFB1", "sample": samples, "normalized_count": 2.0 ** (-dcq + 17) - 1}
    )
    points, correlations = sample_concordance(delta, counts, groups, ["TGFB1"])
    assert len(points) == 6 and points["group"].tolist() == groups.tolist()
    row = correlations.iloc[0]
    assert row["n_samples"] == 6
    assert row["pearson_r"] == pytest.approx(1.0)
    assert row["slope"] == pytest.approx(1.0)
    np.testing.assert_allclose(points["rnaseq_log2_normalized"] - points["qpcr_minus_dcq"], 17.0)


def test_profibrotic_score_is_mean_of_marker_z_scores():
    expression = pd.DataFrame({"A": [1.0, 2.0, 3.0], "B": [10.0, 10.0, 40.0], "X": [5.0, 1.0, 0.0]}, index=["s1", "s2", "s3"])
    table = profibrotic_score(expression, ["A", "B", "MISSING"], "qpcr").set_index("sample")
    z_b = np.array([-10.0, -10.0, 20.0]) / np.sqrt(300.0)  # mean 20, SD sqrt(600 / 2)
    np.testing.assert_allclose(table["score"], (np.array([-1.0, 0.0, 1.0]) + z_b) / 2)
    assert table["n_markers"].tolist() == [2, 2, 2]
    assert (table["assay"] == "qpcr").all()


def test_score_is_unchanged_by_a_per_gene_shift_and_scale():
    rng = np.random.default_rng(1)
    expression = pd.DataFrame(rng.normal(size=(8, 3)), columns=["A", "B", "C"], index=[f"s{i}" for i in range(8)])
    transformed = expression * [2.0, 0.5, 3.0] + [10.0, -4.0, 1.0]
    pd.testing.assert_frame_equal(
        profibrotic_score(expression, ["A", "B", "C"], "rnaseq"), profibrotic_score(transformed, ["A", "B", "C"], "rnaseq")
    )


def test_score_expression_matrices():
    delta = pd.DataFrame({"sample": ["s1", "s1", "s2"], "target": ["A", "B", "A"], "dcq": [1.0, 2.0, 3.0]})
    matrix = qpcr_expression(delta)
    assert matrix.loc["s1", "A"] == -1.0 and np.isnan(matrix.loc["s2", "B"])
    vst = pd.DataFrame({"s1": [5.0, 1.0, 7.0], "s2": [6.0, 2.0, 8.0]}, index=["g1", "g2", "g3"])
    symbols = pd.Series({"g1": "TGFB1", "g2": "TGFB1", "g3": "COL1A1"})
    wide = rnaseq_expression(vst, symbols)
    assert wide.loc["s2", "TGFB1"] == 6.0  # the more expressed of the two IDs of TGFB1
    assert sorted(wide.columns) == ["COL1A1", "TGFB1"]


def test_score_test_compares_groups_per_assay():
    scores = pd.DataFrame(
        {"sample": ["h1", "h2", "h3", "l1", "l2", "l3"], "assay": "qpcr", "score": [-1.0, -0.8, -1.2, 1.0, 0.9, 1.1], "n_markers": 2}
    )
    groups = pd.Series(["healthy"] * 3 + ["lesional"] * 3, index=scores["sample"])
    row = score_test(scores, groups, CONTRAST).iloc[0]
    assert row["difference"] == pytest.approx(2.0)
    assert row["pvalue_mannwhitney"] == pytest.approx(0.1)
    assert row["pvalue_welch"] < 1e-3


def test_summary_verdicts_for_matching_failing_and_opposite_markers():
    summary = finding_summary(
        ["TGFB1", "COL1A1", "CCN2", "FN1"],
        qpcr_stats({"TGFB1": -1.54, "COL1A1": -0.3, "CCN2": 1.5}, {"TGFB1": 0.004, "COL1A1": 0.4, "CCN2": 0.001}),
        rnaseq_markers({"TGFB1": 1.3, "COL1A1": 0.2, "CCN2": -1.0}, {"TGFB1": 0.01, "COL1A1": 0.6, "CCN2": 0.02}),
    ).set_index("gene")
    assert summary.at["TGFB1", "verdict"] == (
        "TGFB1 up 2.9-fold by qPCR (p = 0.004) and log2FC +1.30 by RNA-seq (padj = 0.01): "
        "matches the scleromyxedema RT-PCR finding"
    )
    assert summary.at["TGFB1", "observed_direction"] == "up" and bool(summary.at["TGFB1", "consistent"])
    assert summary.at["COL1A1", "verdict"].endswith(
        "not significant at 0.05 by qPCR or RNA-seq; the finding is not reproduced here"
    )
    assert summary.at["CCN2", "verdict"].endswith("significant change opposite to the expected up in lesional skin")
    assert summary.at["CCN2", "observed_direction"] == "down"
    assert summary.at["FN1", "verdict"] == "FN1: not measured by any assay"
    assert pd.isna(summary.at["FN1", "consistent"])


def test_summary_names_the_assay_that_falls_short():
    summary = finding_summary(
        ["TGFB1"],
        qpcr_stats({"TGFB1": -1.0}, {"TGFB1": 0.01}),
        rnaseq_markers({"TGFB1": 0.4}, {"TGFB1": 0.3}),
    )
    assert summary.iloc[0]["verdict"].endswith("not significant at 0.05 by RNA-seq; the finding is only partly reproduced")


def test_summary_with_one_assay_has_no_consistency():
    summary = finding_summary(["TGFB1"], qpcr_stats({"TGFB1": -2.0}, {"TGFB1": 0.01}), None)
    row = summary.iloc[0]
    assert pd.isna(row["consistent"]) and np.isnan(row["rnaseq_log2fc"])
    assert row["verdict"] == "TGFB1 up 4-fold by qPCR (p = 0.01): matches the scleromyxedema RT-PCR finding"
