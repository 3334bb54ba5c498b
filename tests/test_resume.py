"""A run killed with SIGKILL half-way resumes to the same results as an uninterrupted run.

What a user does after a crash or ``kill -9``: remove the stale lock (``snakemake
--unlock``; here the lock files are deleted, which is what ``--unlock`` does) and start the
same command again. The default profile's ``rerun-incomplete: true`` makes Snakemake redo
the jobs that were running when it died (their incomplete markers survive the kill); our
atomic writes guarantee that no half-written file was left to be mistaken for a result.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import ROOT, SNAKEFILE, example_run, make_example_workdir, run_workflow, snakemake_executable
from test_determinism import checksums

PROFILE = ROOT / "workflow" / "profiles" / "default"


def result_files(results: Path) -> list[Path]:
    return [path for path in results.rglob("*") if path.is_file()] if results.exists() else []


def test_killed_run_resumes_to_identical_results(tmp_path):
    reference = checksums(example_run("first") / "results")
    workdir = make_example_workdir(tmp_path)
    command = [
        snakemake_executable(), "-s", str(SNAKEFILE), "-d", str(workdir),
        "--configfile", str(workdir / "config.yaml"), "--cores", "2",
    ]  # as the reference run: the pickled fit records its thread count
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill reaches the running job too
        env=dict(os.environ, PYTHONHASHSEED="0"),
    )
    results = workdir / "results"
    # some but not all outputs: a third of the tables and figures
    target = len(reference) // 3
    deadline = time.monotonic() + 300
    while len(result_files(results)) < target and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    written = result_files(results)
    assert 0 < len(written) < len(reference), f"{len(written)} of {len(reference)} outputs when killed"
    # What the kill left: complete outputs only; an incomplete marker for the running job(s).
    incomplete = list((workdir / ".snakemake" / "incomplete").glob("*"))
    stale_locks = list((workdir / ".snakemake" / "locks").glob("*"))
    for lock in stale_locks:  # = snakemake --unlock
        lock.unlink()

    resumed = run_workflow(workdir, "--profile", str(PROFILE), cores=2)
    print(
        f"\nkilled with {len(written)} of {len(reference)} outputs written, {len(incomplete)} incomplete "
        f"marker(s), {len(stale_locks)} stale lock(s) removed; resume:\n"
        + "\n".join(line for line in resumed.stderr.splitlines() if "incomplete" in line.lower())
    )
    assert checksums(results) == reference
    assert not list(workdir.rglob("*.tmp"))
    # and the resumed run is complete: nothing left to do
    again = run_workflow(workdir, "-n", "--profile", str(PROFILE), cores=1)
    assert "Nothing to be done" in again.stdout + again.stderr
