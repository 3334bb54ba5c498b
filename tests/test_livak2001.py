"""Livak & Schmittgen 2001: the textbook 2^-ddCt example, through functions and workflow."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import run_workflow, shared_data
from fibroskin import qpcr
from fibroskin.config import Contrast
from fibroskin.io.cq import wells_from_frame

CONTRAST = Contrast("kidney_vs_brain", "tissue", "brain", "kidney")
PUBLISHED = {"ct1_separate_tubes": (6.860, 4.365, -2.495, 5.64), "ct2_same_tube": (None, None, -2.530, 5.78)}


def livak_long(name: str) -> pd.DataFrame:
    wide = pd.read_csv(shared_data("livak2001", f"{name}.csv"))
    return wide.melt(id_vars=["sample", "tissue"], value_vars=["c_myc", "GAPDH"], var_name="target", value_name="cq")


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_fold_change_through_functions(name):
    long = livak_long(name)
    sheet = long[["sample", "tissue"]].drop_duplicates()
    _, delta = qpcr.analyse_wells(wells_from_frame(long), ["GAPDH"])
    row = qpcr.contrast_statistics(delta, sheet, CONTRAST, ["GAPDH"], ["c_myc"]).iloc[0]
    brain, kidney, ddct, fold = PUBLISHED[name]
    if brain is not None:
        assert round(row["mean_dcq_reference"], 3) == brain
        assert round(row["mean_dcq_target"], 3) == kidney
    assert round(row["ddcq"], 3) == ddct
    assert round(row["fold_change"], 2) == fold


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_fold_change_through_snakemake(tmp_path: Path, name):
    workdir = tmp_path / "livak"
    workdir.mkdir()
    long = livak_long(name)
    long.rename(columns={"sample": "Sample Name", "target": "Target Name", "cq": "CT"}).drop(columns="tissue").to_csv(
        workdir / "cq.csv", index=False
    )
    long[["sample", "tissue"]].drop_duplicates().to_csv(workdir / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "samples.tsv",
        "contrasts": {"kidney_vs_brain": {"column": "tissue", "reference": "brain", "target": "kidney"}},
        "markers": ["c_myc"],
        "qpcr": {"cq_tables": "cq.csv", "reference_genes": ["GAPDH"]},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run_workflow(workdir)
    stats = pd.read_csv(workdir / "results/kidney_vs_brain/qpcr/marker_stats.tsv", sep="\t").iloc[0]
    assert round(stats["fold_change"], 2) == PUBLISHED[name][3]
    assert round(stats["ddcq"], 3) == PUBLISHED[name][2]
    assert stats["pvalue"] < 1e-6
    for extension in ("svg", "png", "pdf"):
        assert (workdir / f"results/kidney_vs_brain/figures/qpcr_markers.{extension}").stat().st_size > 1000
