"""End to end: the bundled simulated example, run from outside the checkout."""

from pathlib import Path

import pandas as pd
import pytest

from conftest import run_workflow

QPCR_OUTPUTS = [
    "results/qpcr/delta_cq.tsv",
    "results/qpcr/qc.tsv",
    "results/lesional_vs_healthy/qpcr/marker_stats.tsv",
    "results/lesional_vs_healthy/qpcr/relative_expression.tsv",
    "results/lesional_vs_healthy/figures/qpcr_markers.svg",
    "results/lesional_vs_healthy/figures/qpcr_markers.png",
    "results/lesional_vs_healthy/figures/qpcr_markers.pdf",
]


@pytest.fixture(scope="module")
def example_run(tmp_path_factory) -> Path:
    """A copy of the session's complete example run (shared with the determinism tests)."""
    import shutil

    from conftest import example_run as completed_example_run

    workdir = tmp_path_factory.mktemp("example") / "run"
    shutil.copytree(completed_example_run("first"), workdir, symlinks=True)
    return workdir


RNASEQ_OUTPUTS = [
    "results/rnaseq/normalized_counts.tsv",
    "results/rnaseq/vst.tsv",
    "results/rnaseq/size_factors.tsv",
    "results/lesional_vs_healthy/rnaseq/deseq2_results.tsv",
    "results/lesional_vs_healthy/rnaseq/marker_results.tsv",
] + [
    f"results/lesional_vs_healthy/figures/rnaseq_{name}.{ext}"
    for name in ("volcano", "ma", "marker_heatmap", "marker_counts")
    for ext in ("svg", "png", "pdf")
] + [f"results/figures/rnaseq_{name}.{ext}" for name in ("pca", "sample_distances") for ext in ("svg", "png", "pdf")]

REPORT_OUTPUTS = [
    "results/lesional_vs_healthy/summary.tsv",
    "results/lesional_vs_healthy/concordance/markers.tsv",
    "results/lesional_vs_healthy/concordance/samples.tsv",
    "results/lesional_vs_healthy/concordance/sample_correlation.tsv",
    "results/score/profibrotic_score.tsv",
    "results/lesional_vs_healthy/score/score_test.tsv",
] + [
    f"results/lesional_vs_healthy/figures/{name}.{ext}"
    for name in ("concordance_markers", "concordance_samples", "profibrotic_score", "profibrotic_score_qpcr_vs_rnaseq")
    for ext in ("svg", "png", "pdf")
]


def test_every_output_is_written(example_run):
    for relative in QPCR_OUTPUTS + RNASEQ_OUTPUTS + REPORT_OUTPUTS:
        assert (example_run / relative).stat().st_size > 0, relative


def test_rnaseq_finds_the_simulated_marker_rise(example_run):
    results = pd.read_csv(example_run / "results/lesional_vs_healthy/rnaseq/deseq2_results.tsv", sep="\t")
    assert list(results.columns) == [
        "gene", "symbol", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj", "log2FoldChange_shrunk"
    ]
    padj = results["padj"].to_numpy()
    assert (padj[~pd.isna(padj)] == sorted(padj[~pd.isna(padj)])).all()  # sorted by padj
    markers = pd.read_csv(example_run / "results/lesional_vs_healthy/rnaseq/marker_results.tsv", sep="\t").set_index("symbol")
    # simulated log2 fold changes: TGFB1 +1.5, COL1A1 +2.0 (make_example.py)
    for gene, simulated in (("TGFB1", 1.5), ("COL1A1", 2.0)):
        assert markers.at[gene, "padj"] < 0.05
        assert abs(markers.at[gene, "log2FoldChange"] - simulated) < 0.5
        assert markers.at[gene, "gene"].startswith("ENSG")  # matched through Ensembl ID with version


def test_summary_concordance_and_score_agree_with_the_branches(example_run):
    summary = pd.read_csv(example_run / "results/lesional_vs_healthy/summary.tsv", sep="\t").set_index("gene")
    stats = pd.read_csv(example_run / "results/lesional_vs_healthy/qpcr/marker_stats.tsv", sep="\t").set_index("gene")
    for gene in ("TGFB1", "COL1A1"):
        assert summary.at[gene, "qpcr_fold_change"] == pytest.approx(stats.at[gene, "fold_change"])
        assert summary.at[gene, "verdict"].endswith("matches the scleromyxedema RT-PCR finding")
        assert bool(summary.at[gene, "consistent"])
    concordance = pd.read_csv(example_run / "results/lesional_vs_healthy/concordance/markers.tsv", sep="\t").set_index("gene")
    assert concordance.at["TGFB1", "qpcr_log2fc"] == pytest.approx(-stats.at["TGFB1", "ddcq"])
    assert concordance["direction_agree"].all()
    score = pd.read_csv(example_run / "results/lesional_vs_healthy/score/score_test.tsv", sep="\t").set_index("assay")
    assert set(score.index) == {"qpcr", "rnaseq"}
    assert (score["difference"] > 0).all() and (score["pvalue_welch"] < 0.05).all()


def test_report_is_self_contained_and_states_the_finding(example_run):
    run_workflow(example_run, "--report", "results/report.html")
    html = (example_run / "results/report.html").read_text()
    assert "matches the scleromyxedema RT-PCR finding" in html
    assert "are the profibrotic markers raised in lesional skin" in html
    assert "pydeseq2" in html


def test_tgfb1_and_col1a1_up_in_lesional_skin(example_run):
    stats = pd.read_csv(example_run / "results/lesional_vs_healthy/qpcr/marker_stats.tsv", sep="\t")
    assert stats["gene"].tolist()[:2] == ["TGFB1", "COL1A1"]
    stats = stats.set_index("gene")
    for gene in ("TGFB1", "COL1A1"):
        assert stats.at[gene, "fold_change"] > 1.5
        assert stats.at[gene, "pvalue"] < 0.05
        assert stats.at[gene, "fold_change_ci_low"] > 1.0
    # the original contract first, unchanged; adjustments and the linear model appended
    assert list(stats.columns) == [
        "n_reference", "n_target", "mean_dcq_reference", "mean_dcq_target", "ddcq", "fold_change",
        "fold_change_ci_low", "fold_change_ci_high", "test", "pvalue", "pvalue_welch", "pvalue_mannwhitney", "padj",
        "padj_method", "padj_pairwise", "padj_pairwise_method",
        "lm_design", "lm_n", "lm_df", "lm_ddcq", "lm_ddcq_se", "lm_ddcq_ci_low", "lm_ddcq_ci_high",
        "lm_fold_change", "lm_fold_change_ci_low", "lm_fold_change_ci_high", "lm_pvalue", "lm_padj",
    ]
    assert (stats["padj_method"] == "BH").all()
    # one contrast and no qpcr.design: nothing to adjust over pairs, no model
    assert stats[["padj_pairwise", "padj_pairwise_method", "lm_design", "lm_pvalue"]].isna().all().all()


def test_qc_flags_the_simulated_undetermined_wells_and_outlier(example_run):
    qc = pd.read_csv(example_run / "results/qpcr/qc.tsv", sep="\t")
    undetermined = qc[qc["not_detected"]]
    assert sorted(zip(undetermined["sample"], undetermined["target"])) == [("H02", "CCN2"), ("H05", "CCN2"), ("H05", "CCN2")]
    outliers = qc[qc["replicate_outlier"]]
    assert list(zip(outliers["sample"], outliers["target"])) == [("L03", "COL1A1")]
    delta = pd.read_csv(example_run / "results/qpcr/delta_cq.tsv", sep="\t").set_index(["sample", "target"])
    assert delta.at[("H05", "CCN2"), "n_detected"] == 1
    assert bool(delta.at[("L03", "COL1A1"), "flagged"])


def test_rerun_has_nothing_to_do(example_run):
    result = run_workflow(example_run, "-n")
    assert "Nothing to be done" in result.stdout + result.stderr
