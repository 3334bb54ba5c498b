"""Shared fixtures: project paths and a helper that runs the workflow in a directory."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import time
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
DATA = ROOT / "tests" / "data"

#: Public reference data (pasilla, keloid, Livak, instrument exports, nf-core, tximportData,
#: airway) live outside the project, in ``../shared/data`` beside the checkout, never in it.
SHARED_DATA = Path(os.environ.get("FIBROSKIN_SHARED_DATA", ROOT.parent / "shared" / "data"))

#: Set by ``.ci/run``: CI always has ``../shared/data``, so a test that would skip for want
#: of it fails instead.
REQUIRE_SHARED = os.environ.get("FIBROSKIN_REQUIRE_SHARED", "") not in ("", "0")


def shared_data(*parts: str) -> Path:
    """``../shared/data/<parts>``; the calling test is skipped, with the reason, when absent.

    Public data sets are not redistributed with fibroskin: a clone tests them only where the
    project's reference folder sits beside it. Under CI (``FIBROSKIN_REQUIRE_SHARED=1``) a
    missing file fails the test instead of skipping it.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        reason = (
            f"public reference data {path} is absent (it lives in ../shared/data beside the "
            "checkout, not in the repository; see tests/README.md)"
        )
        if REQUIRE_SHARED:
            pytest.fail(reason + "; FIBROSKIN_REQUIRE_SHARED is set, so this is a failure", pytrace=False)
        pytest.skip(reason)
    return path


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
    return make_example_workdir(tmp_path)


#: Seconds each run of the example took, for the report (measured, not asserted).
RUN_SECONDS: dict[str, float] = {}


def make_example_workdir(parent: Path) -> Path:
    """``parent/run`` holding a copy of the example's inputs, sample sheet and config."""
    workdir = parent / "run"
    (workdir / "config").mkdir(parents=True)
    shutil.copytree(ROOT / "resources" / "example", workdir / "resources" / "example")
    shutil.copy(ROOT / "config" / "samples.tsv", workdir / "config" / "samples.tsv")
    shutil.copy(ROOT / "config" / "config.yaml", workdir / "config.yaml")
    return workdir


@functools.cache
def example_run(label: str) -> Path:
    """The working directory of a complete, uninterrupted run of the example (once per label)."""
    parent = Path(tempfile.mkdtemp(prefix=f"fibroskin-{label}-"))
    atexit.register(shutil.rmtree, parent, ignore_errors=True)
    workdir = make_example_workdir(parent)
    started = time.perf_counter()
    run_workflow(workdir, cores=2)
    RUN_SECONDS[label] = time.perf_counter() - started
    return workdir


