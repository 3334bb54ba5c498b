"""The real keloid example runs with --configfile from a fresh directory and gives R's answers."""

import shutil

import pandas as pd
import pytest

from conftest import ROOT, run_workflow, shared_data


@pytest.fixture(scope="module")
def keloid_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("keloid") / "run"
    (workdir / "config").mkdir(parents=True)
    # the documented step of resources/keloid_gse188952/README.md: put the public table there
    (workdir / "resources" / "keloid_gse188952").mkdir(parents=True)
    shutil.copy(shared_data("keloid_gse188952", "counts.csv"), workdir / "resources" / "keloid_gse188952" / "counts.csv")
    shutil.copy(ROOT / "config" / "keloid_samples.tsv", workdir / "config" / "keloid_samples.tsv")
    shutil.copy(ROOT / "config" / "keloid.yaml", workdir / "config.yaml")
    run_workflow(workdir)
    return workdir


def test_only_the_rnaseq_branch_runs(keloid_run):
    assert not (keloid_run / "results" / "qpcr").exists()
    assert (keloid_run / "results/hypertrophic_vs_normal_scar/rnaseq/deseq2_results.tsv").exists()


def test_collagens_up_in_keloid_and_tgfb1_as_in_r_deseq2(keloid_run):
    markers = pd.read_csv(keloid_run / "results/keloid_vs_normal_scar/rnaseq/marker_results.tsv", sep="\t").set_index("symbol")
    r_results = pd.read_csv(shared_data("keloid_gse188952", "R_DESeq2_1.38.3_keloid_vs_normal_scar.csv"), index_col=0)
    for gene in ("COL1A1", "COL1A2", "COL3A1"):
        assert markers.at[gene, "log2FoldChange"] > 0.5 and markers.at[gene, "padj"] < 0.05
    # this run fits all 12 scars in one model (R fitted the 7 of the two groups), so allow 0.05
    assert markers.at["TGFB1", "log2FoldChange"] == pytest.approx(r_results.at["TGFB1", "log2FoldChange"], abs=0.05)
    assert not bool(markers.at["CCN2", "found"])  # absent from the table: reported, not fatal
    summary = pd.read_csv(keloid_run / "results/keloid_vs_normal_scar/summary.tsv", sep="\t").set_index("gene")
    assert summary.at["COL1A1", "verdict"].endswith("matches the scleromyxedema RT-PCR finding")
    assert summary.at["CCN2", "verdict"] == "CCN2: not measured by any assay"
