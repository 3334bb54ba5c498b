"""The workflow stays lint-clean and snakefmt-formatted."""

import subprocess
import sys
from pathlib import Path

from conftest import ROOT, snakemake_executable


def test_snakemake_lint_is_clean():
    result = subprocess.run(
        [snakemake_executable(), "--lint", "--cores", "1"], cwd=ROOT, capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Lints for" not in output, output


def test_snakefmt_check_passes():
    snakefmt = Path(sys.executable).with_name("snakefmt")
    result = subprocess.run([str(snakefmt), "--check", "workflow"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
