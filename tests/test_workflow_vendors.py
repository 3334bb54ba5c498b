"""One end-to-end ``snakemake`` run per instrument family, checked against a hand calculation.

Each run reads one of fibroskin's own small exports (``tests/data/formats/make_exports.py``:
the same made-up experiment, healthy ``ctrl1-3`` vs lesional ``lesion1-3``, GAPDH and
COL1A1 in duplicate) in that family's layout, on a two-group sample sheet, qPCR branch only.
The fold change of COL1A1 must equal the textbook ddCq computed here from the Cq values as
the file writes them (the LightCycler exports print 2 decimals). QuantStudio's run is
``tests/test_workflow_instruments.py`` (Pfaffl ratio against a hand calculation).
"""

from __future__ import annotations

import functools
import importlib.util
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from conftest import DATA, run_workflow

FORMATS = DATA / "formats"


def _make_exports():
    spec = importlib.util.spec_from_file_location("make_exports", FORMATS / "make_exports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: family -> (files to copy or write, plate map, decimals of the Cq the file prints)
FAMILIES = {
    "design_and_analysis": (["design_and_analysis.xlsx"], None, None),
    "cfx": (["cfx_maestro_no_targets.csv"], "cfx_maestro_targets.tsv", None),
    "rdml": (["biorad_cfx.rdml", "rdml_lightcycler96.xml"], None, None),
    "lightcycler": (["lightcycler480_abs_quant.txt"], "lightcycler480_sample_info.txt", 2),
    "sds7900": (["sds7900_rq_results.txt"], None, None),
}


@functools.cache
def vendor_run(family: str) -> Path:
    files, plate_map, _ = FAMILIES[family]
    workdir = Path(tempfile.mkdtemp(prefix=f"fibroskin-{family}-")) / "run"
    workdir.mkdir()
    binaries = _make_exports().write_binary(workdir)
    for name in files + ([plate_map] if plate_map else []):
        if not (workdir / name).exists():
            shutil.copy(FORMATS / name, workdir / name)
    assert {path.name for path in binaries.values()} == {"design_and_analysis.xlsx", "biorad_cfx.rdml"}
    module = _make_exports()
    pd.DataFrame({"sample": module.SAMPLES, "condition": ["healthy"] * 3 + ["lesional"] * 3}).to_csv(workdir / "samples.tsv", sep="\t", index=False)
    qpcr = {"cq_tables": files, "reference_genes": ["GAPDH"], "calibrate_plates": False}
    if plate_map:
        qpcr["plate_map"] = plate_map
    config = {
        "samples": "samples.tsv",
        "contrasts": {"lesional_vs_healthy": {"column": "condition", "reference": "healthy", "target": "lesional"}},
        "markers": ["COL1A1"],
        "qpcr": qpcr,
        "figures": {"format": ["png"]},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run_workflow(workdir)
    return workdir


def _hand_dcq(decimals: int | None) -> pd.Series:
    """dCq = mean Cq(COL1A1) - mean Cq(GAPDH) per sample, from the model's Cq as printed."""
    module = _make_exports()
    printed = {key: [round(value, decimals) if decimals is not None else value for value in values] for key, values in module.CQ.items()}
    return pd.Series({sample: np.mean(printed[(sample, "COL1A1")]) - np.mean(printed[(sample, "GAPDH")]) for sample in module.SAMPLES})


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_fold_change_equals_the_hand_calculation(family):
    workdir = vendor_run(family)
    module = _make_exports()
    dcq = _hand_dcq(FAMILIES[family][2])
    if family == "rdml":
        # two plates of the same samples (Bio-Rad, full precision; LightCycler 96, 2 decimals),
        # two replicates each: the mean of four wells, i.e. the mean of the two plates' dCq
        dcq = (dcq + _hand_dcq(2)) / 2
    ddcq = dcq[module.LESIONAL].mean() - dcq[module.HEALTHY].mean()
    pvalue = stats.ttest_ind(dcq[module.LESIONAL], dcq[module.HEALTHY], equal_var=False).pvalue
    marker = pd.read_csv(workdir / "results/lesional_vs_healthy/qpcr/marker_stats.tsv", sep="\t").set_index("gene").loc["COL1A1"]
    assert marker["fold_change"] == pytest.approx(2.0**-ddcq, rel=1e-6)
    assert marker["pvalue"] == pytest.approx(pvalue, rel=1e-6)
    assert (marker["n_reference"], marker["n_target"]) == (3, 3)
    assert 2.5 < 2.0**-ddcq < 3.5  # the model's ~1.6 cycles
    delta = pd.read_csv(workdir / "results/qpcr/delta_cq.tsv", sep="\t")
    got = delta[delta["target"] == "COL1A1"].set_index("sample")["dcq"]
    pd.testing.assert_series_equal(got.sort_index(), dcq.sort_index(), check_names=False, rtol=1e-6)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_output_and_the_log_of_the_reader(family):
    workdir = vendor_run(family)
    wells = pd.read_csv(workdir / "results/qpcr/wells.tsv", sep="\t")
    assert set(wells["target"]) == {"GAPDH", "COL1A1"}
    ntc = pd.read_csv(workdir / "results/qpcr/ntc.tsv", sep="\t")
    assert len(ntc) >= 2 and not ntc["flagged"].any()
    log = (workdir / "logs/qpcr/wells.log").read_text()
    expected = {
        "design_and_analysis": "unused well(s)",
        "cfx": "took their target from the plate map",
        "rdml": "Cq value(s) of 100 (LightCycler 96",
        "lightcycler": "Include = False",
        "sds7900": "instrument cq_mean: 12 of 12 agree",
    }[family]
    assert expected in log
    miqe = pd.read_csv(workdir / "results/qpcr/miqe.tsv", sep="\t")
    assert "NTC" in set(miqe["item"])
