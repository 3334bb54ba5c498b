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
    import shutil

    from conftest import ROOT

    workdir = tmp_path_factory.mktemp("example") / "run"
    (workdir / "config").mkdir(parents=True)
    shutil.copytree(ROOT / "resources" / "example", workdir / "resources" / "example")
    shutil.copy(ROOT / "config" / "samples.tsv", workdir / "config" / "samples.tsv")
    shutil.copy(ROOT / "config" / "config.yaml", workdir / "config.yaml")
    run_workflow(workdir)
    return workdir


def test_every_qpcr_output_is_written(example_run):
    for relative in QPCR_OUTPUTS:
        assert (example_run / relative).stat().st_size > 0, relative


def test_tgfb1_and_col1a1_up_in_lesional_skin(example_run):
    stats = pd.read_csv(example_run / "results/lesional_vs_healthy/qpcr/marker_stats.tsv", sep="\t")
    assert stats["gene"].tolist()[:2] == ["TGFB1", "COL1A1"]
    stats = stats.set_index("gene")
    for gene in ("TGFB1", "COL1A1"):
        assert stats.at[gene, "fold_change"] > 1.5
        assert stats.at[gene, "pvalue"] < 0.05
        assert stats.at[gene, "fold_change_ci_low"] > 1.0
    assert list(stats.columns) == [
        "n_reference", "n_target", "mean_dcq_reference", "mean_dcq_target", "ddcq", "fold_change",
        "fold_change_ci_low", "fold_change_ci_high", "test", "pvalue", "pvalue_welch", "pvalue_mannwhitney", "padj",
    ]


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
