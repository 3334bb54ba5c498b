"""The README's commands in an environment made by the README's install command alone.

A copy of the clone (its committed and new files, as ``git`` lists them) gets a fresh
virtual environment; the README's first command (``pip install -e . && snakemake --cores
all``) and its report command run there as written in the README, with nothing else
installed (no test extras). The report must then hold the finding, every figure and every
table, each the same bytes as the file in ``results/``.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT

#: Every result the report shows for the bundled example.
REPORT_ENTRIES = sorted([
    "results/benchmarks.tsv",
    "results/qpcr/efficiency.tsv",
    "results/qpcr/miqe.tsv",
    "results/figures/qpcr_reference_stability.svg",
    "results/figures/rnaseq_sample_distances.svg",
    "results/figures/rnaseq_pca.svg",
    "results/figures/rnaseq_pca.html",
    "results/lesional_vs_healthy/summary.tsv",
    "results/lesional_vs_healthy/concordance/markers.tsv",
    "results/lesional_vs_healthy/figures/qpcr_markers.svg",
    "results/lesional_vs_healthy/figures/rnaseq_volcano.svg",
    "results/lesional_vs_healthy/figures/rnaseq_volcano.html",
    "results/lesional_vs_healthy/figures/rnaseq_ma.svg",
    "results/lesional_vs_healthy/figures/rnaseq_ma.html",
    "results/lesional_vs_healthy/figures/rnaseq_marker_counts.svg",
    "results/lesional_vs_healthy/figures/rnaseq_marker_heatmap.svg",
    "results/lesional_vs_healthy/figures/profibrotic_score.svg",
    "results/lesional_vs_healthy/figures/concordance_markers.svg",
    "results/lesional_vs_healthy/figures/concordance_samples.svg",
    "results/lesional_vs_healthy/figures/profibrotic_score_qpcr_vs_rnaseq.svg",
])


def readme_command(pattern: str) -> str:
    """The first command of the README's code blocks matching ``pattern``, as written there."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    for block in blocks:
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if re.search(pattern, command):
                return command
    raise AssertionError(f"the README has no command matching {pattern!r}")


def copy_clone(destination: Path) -> Path:
    """The clone's files as a fresh clone would have them (tracked and new, not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def readme_only(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh clone after the README's first command, in a virtual environment of its own."""
    base = tmp_path_factory.mktemp("readme")
    clone = copy_clone(base / "fibroskin")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    environment.update(PATH=f"{venv / 'bin'}{os.pathsep}{environment.get('PATH', '')}", VIRTUAL_ENV=str(venv),
                       PYTHONHASHSEED="0")
    command = readme_command(r"^pip install -e \. && snakemake")
    assert command == "pip install -e . && snakemake --cores all"
    result = subprocess.run(["bash", "-c", command], cwd=clone, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return clone, environment


def report_variables(page: str) -> tuple[str, dict]:
    """The report's landing-page HTML and its results (path -> name, caption, data URI, ...)."""
    description = json.loads(re.search(r"var workflow_desc = (\".*?\");\n", page).group(1))
    results = json.loads(re.search(r"var results = (\{.*?\});\n", page[page.rfind("var results = {"):], re.S).group(1))
    return html.unescape(description), results


def test_only_the_readme_install_is_in_the_environment(readme_only):
    clone, environment = readme_only
    for module in ("pytest", "selenium", "hypothesis"):
        probe = subprocess.run(["python", "-c", f"import {module}"], env=environment, capture_output=True)
        assert probe.returncode != 0, f"{module} is installed, so this is not the README's environment"
    help_text = subprocess.run(["fibroskin", "--help"], env=environment, capture_output=True, text=True)
    assert help_text.returncode == 0 and "init" in help_text.stdout


def test_the_readme_report_command_shows_the_finding_every_figure_and_table(readme_only):
    clone, environment = readme_only
    command = readme_command(r"^snakemake --report ")
    assert command == "snakemake --report results/report.html"
    result = subprocess.run(["bash", "-c", command], cwd=clone, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-5000:]
    description, results = report_variables((clone / "results" / "report.html").read_text())

    verdicts = pd.read_csv(clone / "results/lesional_vs_healthy/summary.tsv", sep="\t")["verdict"]
    assert len(verdicts) == 5
    for verdict in verdicts:
        assert verdict in description, verdict
    assert "TGFB1 up" in description and "12 samples: 6 healthy, 6 lesional" in description

    assert sorted(results) == REPORT_ENTRIES
    for path, entry in results.items():
        assert entry["caption"].strip(), path
        header, encoded = entry["data_uri"].split(",", 1)
        assert header.startswith("data:") and header.endswith(";base64"), path
        assert base64.b64decode(encoded) == (clone / path).read_bytes(), path
