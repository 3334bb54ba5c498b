"""A lab points cq_tables at raw instrument exports: efficiency-corrected results and MIQE."""

import shutil

import pandas as pd
import pytest
import yaml

from conftest import DATA, run_workflow


@pytest.fixture(scope="module")
def instrument_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("instruments") / "run"
    workdir.mkdir()
    for name in ("quantstudio_results.csv", "quantstudio_results.txt"):
        shutil.copy(DATA / "formats" / name, workdir / name)
    sheet = pd.DataFrame(
        {
            "sample": ["ctrl1", "ctrl2", "ctrl3", "lesion1", "lesion2", "lesion3"],
            "condition": ["healthy"] * 3 + ["lesional"] * 3,
        }
    )
    sheet.to_csv(workdir / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "samples.tsv",
        "contrasts": {"lesional_vs_healthy": {"column": "condition", "reference": "healthy", "target": "lesional"}},
        "markers": ["TGFB1", "COL1A1"],
        "qpcr": {"cq_tables": ["quantstudio_results.csv", "quantstudio_results.txt"], "reference_genes": ["GAPDH"]},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run_workflow(workdir)
    return workdir


def test_efficiencies_come_from_the_standard_curves(instrument_run):
    efficiency = pd.read_csv(instrument_run / "results/qpcr/efficiency.tsv", sep="\t").set_index("target")
    for gene in ("GAPDH", "COL1A1"):
        assert efficiency.at[gene, "n_points"] >= 8
        assert efficiency.at[gene, "amplification"] == pytest.approx(10 ** (-1 / efficiency.at[gene, "slope"]))
        assert efficiency.at[gene, "amplification_used"] == pytest.approx(efficiency.at[gene, "amplification"])
        assert "standard curve" in efficiency.at[gene, "amplification_source"]
    # every target of these plates has a clean standard curve, so none falls back to 2
    assert not (efficiency["amplification_source"].str.startswith("default")).any()


def test_fold_change_is_the_pfaffl_ratio(instrument_run):
    wells = pd.read_csv(instrument_run / "results/qpcr/wells.tsv", sep="\t")
    efficiency = pd.read_csv(instrument_run / "results/qpcr/efficiency.tsv", sep="\t").set_index("target")
    unknown = wells[(wells["task"] == "unknown") & wells["cq"].notna()]
    sample_cq = unknown.groupby(["sample", "target"])["cq"].mean().unstack()
    healthy, lesional = ["ctrl1", "ctrl2", "ctrl3"], ["lesion1", "lesion2", "lesion3"]
    e_target, e_reference = efficiency.at["COL1A1", "amplification_used"], efficiency.at["GAPDH", "amplification_used"]
    # Pfaffl (2001): ratio = E_target^dCq_target(control - treated) / E_ref^dCq_ref(control - treated)
    delta_target = sample_cq.loc[healthy, "COL1A1"].mean() - sample_cq.loc[lesional, "COL1A1"].mean()
    delta_reference = sample_cq.loc[healthy, "GAPDH"].mean() - sample_cq.loc[lesional, "GAPDH"].mean()
    expected = e_target**delta_target / e_reference**delta_reference
    stats = pd.read_csv(instrument_run / "results/lesional_vs_healthy/qpcr/marker_stats.tsv", sep="\t").set_index("gene")
    assert stats.at["COL1A1", "fold_change"] == pytest.approx(expected, rel=1e-9)
    assert stats.at["COL1A1", "fold_change"] > 2


def test_calibrators_on_both_plates_correct_the_plate_offset(instrument_run):
    offsets = pd.read_csv(instrument_run / "results/qpcr/plate_offsets.tsv", sep="\t")
    assert set(offsets["plate"]) == {"quantstudio_results.csv", "quantstudio_results.txt"}
    for _, rows in offsets.groupby("target"):
        assert rows["plate_offset"].sum() == pytest.approx(0.0, abs=1e-9)  # offsets sum to zero
    wells = pd.read_csv(instrument_run / "results/qpcr/wells.tsv", sep="\t")
    calibrator = wells[(wells["sample"] == "ctrl1") & (wells["target"] == "GAPDH")]
    by_plate = calibrator.groupby("plate")["cq"].mean()
    assert abs(by_plate.iloc[0] - by_plate.iloc[1]) < 0.05  # the same sample agrees after correction


def test_miqe_table_and_figures(instrument_run):
    miqe = pd.read_csv(instrument_run / "results/qpcr/miqe.tsv", sep="\t")
    items = set(miqe["item"])
    assert {"amplification efficiency (%)", "standard curve r_squared", "NTC", "Cq cut-off", "software"} <= items
    ntc = pd.read_csv(instrument_run / "results/qpcr/ntc.tsv", sep="\t")
    assert len(ntc) > 0 and set(ntc["flagged"]) <= {True, False}
    assert (instrument_run / "results/figures/qpcr_standard_curves.png").stat().st_size > 10_000
    # one reference gene: no stability figure, but the table and its warning
    assert not (instrument_run / "results/figures/qpcr_reference_stability.png").exists()
    log = (instrument_run / "logs/qpcr/reference_stability.log").read_text()
    assert "one reference gene" in log or "single reference gene" in log
