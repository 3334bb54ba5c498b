"""``fibroskin init``: a working directory from a lab's own files, then the one command it prints.

Every input kind (long Cq table, QuantStudio, CFX, RDML, count matrix, featureCounts) is
made from the bundled example by ``tests/vendor_exports.py``, so a run on what ``init``
wrote, after filling the condition column and nothing else, must reproduce the example's
own results byte for byte.
"""

from __future__ import annotations

import functools
import shlex
import shutil
import subprocess
import sys
import tempfile
import atexit
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SNAKEFILE, example_run, snakemake_executable
from fibroskin.errors import InputErrors
from fibroskin.starter import StarterError, init_cohort
from vendor_exports import PLATES, write_exports

EXAMPLE_SAMPLES = ["H01", "H02", "H03", "H04", "H05", "H06", "L01", "L02", "L03", "L04", "L05", "L06"]
ALL_TARGETS = ["GAPDH", "ACTB", "RPLP0", "TGFB1", "COL1A1", "COL1A2", "COL3A1", "CCN2"]
REFERENCES = {"GAPDH", "ACTB", "RPLP0"}


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    return write_exports(tmp_path_factory.mktemp("exports"))


def fibroskin_command() -> str:
    return str(Path(sys.executable).with_name("fibroskin"))


@pytest.mark.parametrize("kind", ["long", "quantstudio", "cfx", "rdml"])
def test_init_lists_every_sample_target_and_reference_gene_of_a_qpcr_file(kind, exports, tmp_path):
    directory = tmp_path / "cohort"
    # the RDML plate holds no reference gene of the panel: the lab names one
    started = init_cohort(directory, [exports[kind]], reference_genes=["CCN2"] if kind == "rdml" else None)
    sheet = (directory / "samples.tsv").read_text().splitlines()
    assert sheet == ["sample\tcondition"] + [f"{sample}\t" for sample in EXAMPLE_SAMPLES]
    config = yaml.safe_load((directory / "config.yaml").read_text())
    targets = ALL_TARGETS if kind == "long" else PLATES[kind]
    assert started.cohort.targets == targets
    assert config["qpcr"]["cq_tables"] == [exports[kind].resolve().as_posix()]
    assert config["contrasts"] == {"lesional_vs_healthy": {"column": "condition", "reference": "healthy", "target": "lesional"}}
    references = ["CCN2"] if kind == "rdml" else [gene for gene in targets if gene in REFERENCES]
    assert config["qpcr"]["reference_genes"] == references
    assert config["markers"] == [gene for gene in targets if gene not in references]
    assert "rnaseq" not in config


def test_init_without_a_panel_reference_gene_asks_for_one(exports, tmp_path):
    with pytest.raises(StarterError, match=r"none of the targets \(COL3A1, CCN2\) is a reference gene of the panel"):
        init_cohort(tmp_path / "cohort", [exports["rdml"]])
    assert not (tmp_path / "cohort" / "config.yaml").exists()
    started = init_cohort(tmp_path / "cohort", [exports["rdml"]], reference_genes=["CCN2"])
    assert started.cohort.reference_genes == ["CCN2"]
    assert any("only one reference gene" in warning for warning in started.warnings)
    with pytest.raises(StarterError, match="reference gene.s. GAPDH are not targets"):
        init_cohort(tmp_path / "other", [exports["rdml"]], reference_genes=["GAPDH"])


@pytest.mark.parametrize("kind", ["matrix", "featurecounts"])
def test_init_names_the_samples_of_a_count_table(kind, exports, tmp_path):
    directory = tmp_path / "cohort"
    init_cohort(directory, [], counts=exports[kind])
    assert (directory / "samples.tsv").read_text().splitlines()[1:] == [f"{s}\t" for s in EXAMPLE_SAMPLES]
    config = yaml.safe_load((directory / "config.yaml").read_text())
    assert config["rnaseq"] == {"counts": exports[kind].resolve().as_posix(), "design": "~condition"}
    assert "qpcr" not in config and "markers" not in config  # the panel's markers


def test_init_never_overwrites_without_force(exports, tmp_path):
    directory = tmp_path / "cohort"
    directory.mkdir()
    (directory / "samples.tsv").write_text("sample\tcondition\nA\tlesional\n")
    command = [fibroskin_command(), "init", str(directory), "--cq", str(exports["long"])]
    refused = subprocess.run(command, capture_output=True, text=True)
    assert refused.returncode == 1
    assert "samples.tsv already exists; nothing was written (add --force to replace them)" in refused.stderr
    assert (directory / "samples.tsv").read_text() == "sample\tcondition\nA\tlesional\n"
    assert not (directory / "config.yaml").exists()
    forced = subprocess.run(command + ["--force"], capture_output=True, text=True)
    assert forced.returncode == 0, forced.stderr
    assert (directory / "samples.tsv").read_text().startswith("sample\tcondition\nH01\t\n")


def test_init_refuses_a_file_its_reader_refuses(tmp_path):
    broken = tmp_path / "plate.csv"
    broken.write_text("Well,Fluor,Target,Content,Sample,Cq\nA01,SYBR,GAPDH,Unkn-01,S1,abc\n")
    with pytest.raises(InputErrors, match=r"plate.csv, line 2, column 'cq': Cq is not a number \(found: 'abc'\)"):
        init_cohort(tmp_path / "cohort", [broken])


def test_init_warns_when_the_assays_name_different_samples(exports, tmp_path):
    counts = tmp_path / "counts.tsv"
    counts.write_text(exports["matrix"].read_text().replace("\tL06", "\tL6", 1))
    started = init_cohort(tmp_path / "cohort", [exports["long"]], counts=counts)
    assert started.warnings == [
        "samples L06 have Cq values but no count column: the run needs every sample in both (rename them to match, "
        "or remove their rows from samples.tsv)",
        "samples L6 have a count column but no Cq values: the run needs every sample in both (rename them to match, "
        "or remove their rows from samples.tsv)",
    ]


def fill_condition(sheet: Path) -> None:
    """What the lab does after init: the condition of each sample (H = healthy, L = lesional)."""
    lines = sheet.read_text().splitlines()
    filled = [lines[0]] + [line + ("healthy" if line.startswith("H") else "lesional") for line in lines[1:]]
    sheet.write_text("\n".join(filled) + "\n")


@functools.cache
def started_run(label: str, *inputs: str) -> tuple[Path, subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """``fibroskin init`` on the kinds ``inputs`` (the last one the counts), then the printed command, once."""
    parent = Path(tempfile.mkdtemp(prefix=f"fibroskin-init-{label}-"))
    atexit.register(shutil.rmtree, parent, ignore_errors=True)
    paths = write_exports(parent / "lab_files")
    cq, counts = [str(paths[kind]) for kind in inputs[:-1]], str(paths[inputs[-1]])
    init = subprocess.run([fibroskin_command(), "init", "cohort", "--cq", *cq, "--counts", counts],
                          capture_output=True, text=True, cwd=parent)
    assert init.returncode == 0, init.stderr
    fill_condition(parent / "cohort" / "samples.tsv")
    command = shlex.split(init.stdout.strip().splitlines()[-1])
    assert command[0] == "snakemake"
    run = subprocess.run([snakemake_executable(), *command[1:]], capture_output=True, text=True, cwd=parent)
    return parent / "cohort", init, run


RESULTS_AS_THE_EXAMPLE = [
    "qpcr/delta_cq.tsv",
    "lesional_vs_healthy/qpcr/marker_stats.tsv",
    "lesional_vs_healthy/rnaseq/deseq2_results.tsv",
    "lesional_vs_healthy/summary.tsv",
    "lesional_vs_healthy/score/score_test.tsv",
]


@pytest.mark.parametrize(
    "label, inputs",
    [
        ("tables", ("long", "matrix")),
        ("instruments", ("quantstudio", "cfx", "rdml", "featurecounts")),
    ],
)
def test_init_then_the_printed_command_reproduces_the_example(label, inputs):
    """Init, fill the condition column, run the one command printed: the example's results."""
    cohort, init, run = started_run(label, *inputs)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    assert f"snakemake -s {SNAKEFILE} -d cohort --configfile cohort/config.yaml --cores all" in init.stdout
    assert "fill the 'condition' column of cohort/samples.tsv with 'lesional' or 'healthy'" in init.stdout
    example = example_run("first")
    for relative in RESULTS_AS_THE_EXAMPLE:
        ours, theirs = cohort / "results" / relative, example / "results" / relative
        assert ours.read_bytes() == theirs.read_bytes(), relative


def test_the_printed_command_refuses_an_unfilled_condition_column(exports, tmp_path):
    init = subprocess.run([fibroskin_command(), "init", "cohort", "--cq", str(exports["long"])],
                          capture_output=True, text=True, cwd=tmp_path)
    command = shlex.split(init.stdout.strip().splitlines()[-1])
    dry_run = subprocess.run([snakemake_executable(), *command[1:], "-n"], capture_output=True, text=True, cwd=tmp_path)
    assert dry_run.returncode == 1
    assert ("samples.tsv, line 2, column 'condition': the 'condition' column of the sample sheet is empty: "
            "fill the condition column with 'lesional' or 'healthy'") in dry_run.stderr
    assert not (tmp_path / "cohort" / "results").exists()
