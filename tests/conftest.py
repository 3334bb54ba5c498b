"""Shared fixtures: project paths and a helper that runs the workflow in a directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
DATA = ROOT / "tests" / "data"


def snakemake_executable() -> str:
    """The snakemake next to this Python, so tests use the environment they run in."""
    candidate = Path(sys.executable).with_name("snakemake")
    return str(candidate) if candidate.exists() else shutil.which("snakemake") or "snakemake"


def run_workflow(workdir: Path, *extra: str, cores: int = 2, check: bool = True) -> subprocess.CompletedProcess:
    """Run the workflow from outside the checkout: -s <checkout>/workflow/Snakefile -d <workdir>."""
    command = [
        snakemake_executable(),
        "-s",
        str(SNAKEFILE),
        "-d",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        "--cores",
        str(cores),
        *extra,
    ]
    environment = dict(os.environ, PYTHONHASHSEED="0")
    result = subprocess.run(command, cwd=workdir.parent, capture_output=True, text=True, env=environment)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def example_workdir(tmp_path: Path) -> Path:
    """A working directory holding a copy of the bundled example's inputs and config."""
    workdir = tmp_path / "run"
    (workdir / "config").mkdir(parents=True)
    shutil.copytree(ROOT / "resources" / "example", workdir / "resources" / "example")
    shutil.copy(ROOT / "config" / "samples.tsv", workdir / "config" / "samples.tsv")
    shutil.copy(ROOT / "config" / "config.yaml", workdir / "config.yaml")
    return workdir
