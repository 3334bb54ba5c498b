"""fibroskin as a Snakemake module of another workflow, laid out as ``snakedeploy deploy-workflow`` does.

The host holds only ``workflow/Snakefile`` (a ``module`` declaration and ``use rule * from
fibroskin as fibroskin_*``) and ``config/`` (a copy of fibroskin's, which the user edits);
its data sit beside them. Run from the host's directory, the module must find its own
schemas, scripts and report captions beside its Snakefile and the user's files in the host.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SNAKEFILE, example_run, snakemake_executable

HOST_SNAKEFILE = """configfile: "config/config.yaml"


# declare fibroskin as a module (snakedeploy writes github("<owner>/fibroskin", path="workflow/Snakefile", tag=...))
module fibroskin:
    snakefile:
        "{snakefile}"
    config:
        config


# use all rules of fibroskin
use rule * from fibroskin{rename}
"""


def make_host(directory: Path, rename: str = " as fibroskin_*") -> Path:
    """A host workflow: workflow/Snakefile declaring the module, config/ copied, the lab's data."""
    (directory / "workflow").mkdir(parents=True)
    (directory / "workflow" / "Snakefile").write_text(HOST_SNAKEFILE.format(snakefile=SNAKEFILE, rename=rename))
    shutil.copytree(ROOT / "config", directory / "config")  # what snakedeploy copies
    shutil.copytree(ROOT / "resources" / "example", directory / "resources" / "example")
    # the user's edit of the copied config: PNG figures only (a lean run)
    config_path = directory / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["figures"] = {"format": ["png"]}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return directory


def snakemake(host: Path, *arguments: str) -> subprocess.CompletedProcess:
    """snakemake run from the host's directory (it finds workflow/Snakefile there by itself)."""
    return subprocess.run([snakemake_executable(), *arguments], cwd=host, capture_output=True, text=True)


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> Path:
    host = make_host(tmp_path_factory.mktemp("host") / "project")
    result = snakemake(host, "--cores", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return host


def test_the_module_runs_the_example_in_the_host(host):
    example = example_run("first")
    for relative in ("qpcr/delta_cq.tsv", "lesional_vs_healthy/qpcr/marker_stats.tsv",
                     "lesional_vs_healthy/rnaseq/deseq2_results.tsv", "lesional_vs_healthy/summary.tsv"):
        assert (host / "results" / relative).read_bytes() == (example / "results" / relative).read_bytes(), relative
    assert (host / "results/lesional_vs_healthy/figures/rnaseq_volcano.png").stat().st_size > 0
    assert not list((host / "results").rglob("*.svg"))  # the host's config was used
    jobs = (host / "results" / "benchmarks.tsv").read_text().splitlines()[1:]
    rules = {line.split("\t")[0] for line in jobs}
    assert "fibroskin_rnaseq_fit" in rules and all(rule.startswith("fibroskin_") for rule in rules)
    # logs and benchmarks land in the host's working directory, not beside the module
    assert (host / "logs" / "rnaseq" / "fit.log").exists()
    assert not (ROOT / "workflow" / "results").exists()


def test_the_report_of_the_host(host):
    result = snakemake(host, "--report", "report.zip")
    assert result.returncode == 0, result.stderr[-5000:]
    with zipfile.ZipFile(host / "report.zip") as archive:
        names = archive.namelist()
        page = archive.read(next(name for name in names if name.endswith("report.html"))).decode()
    for expected in ("summary.tsv", "rnaseq_volcano.png", "rnaseq_volcano.html", "qpcr_markers.png", "rnaseq_pca.html"):
        assert any(name.endswith("/" + expected) for name in names), expected
    assert "are the profibrotic markers raised in lesional skin" in page
    assert "matches the scleromyxedema RT-PCR finding" in page


def test_the_module_without_renaming(tmp_path):
    host = make_host(tmp_path / "project", rename="")
    result = snakemake(host, "-n", "--cores", "1")
    assert result.returncode == 0, result.stderr[-5000:]
    assert "rule rnaseq_fit:" in result.stdout and "fibroskin_" not in result.stdout


def test_bad_input_is_refused_through_the_module(tmp_path):
    host = make_host(tmp_path / "project")
    sheet = host / "config" / "samples.tsv"
    sheet.write_text(sheet.read_text().replace("H04\t", "H03\t"))
    result = snakemake(host, "-n", "--cores", "1")
    assert result.returncode == 1
    assert "config/samples.tsv, line 5, column 'sample': sample ID is used more than once" in result.stderr
