"""The bundled example through a real SLURM cluster gives exactly the local run's results.

Not part of the default ``pytest`` run (see ``[tool.pytest.ini_options]``): run it with
``pytest tests/cluster``. It brings up a one-node SLURM cluster on localhost from Debian's
``slurm-wlm`` and ``munge`` (installed by ``install_slurm.sh`` when missing, as root), runs
the example with ``--executor slurm`` and the workflow's SLURM profile, and checks that

- every job of the run went through SLURM, completed, and asked for the threads, memory and
  run time its rule computes (so the profile and the rules' resource functions reach
  sbatch); the fit asks for two threads where the local run used one;
- every file under ``results/`` is byte-identical to a local ``--cores 2`` run of the same
  example: the TSV tables, the SVG, PNG and PDF figures (written without timestamps) and the
  pickled pydeseq2 fit. ``results/benchmarks.tsv`` is the one exception: it holds measured
  run times, so only its rows (rule, wildcards) are compared.

The daemons are stopped by their process IDs in a ``finally`` even when the test fails.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, run_workflow
from local_slurm import LocalSlurm

SLURM_PROFILE = ROOT / "workflow" / "profiles" / "slurm"
#: Results that record how the run went rather than what it computed.
MEASURED = {"results/benchmarks.tsv"}


@pytest.fixture(scope="module")
def slurm_cluster():
    cluster = LocalSlurm()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def make_workdir(base: Path) -> Path:
    workdir = base / "run"
    (workdir / "config").mkdir(parents=True)
    shutil.copytree(ROOT / "resources" / "example", workdir / "resources" / "example")
    shutil.copy(ROOT / "config" / "samples.tsv", workdir / "config" / "samples.tsv")
    shutil.copy(ROOT / "config" / "config.yaml", workdir / "config.yaml")
    return workdir


def result_files(workdir: Path) -> dict[str, str]:
    """results/ path (relative to the workdir) -> SHA-256 of its bytes."""
    return {
        str(path.relative_to(workdir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((workdir / "results").rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def dry_run_jobs(workdir: Path) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of ``snakemake -n``."""
    output = run_workflow(workdir, "-n").stdout
    table = output.split("Job stats:", 1)[1]
    counts = {}
    for line in table.splitlines():
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if match and match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts


def test_example_on_slurm_matches_local_run(tmp_path_factory, slurm_cluster, monkeypatch):
    local = make_workdir(tmp_path_factory.mktemp("local"))
    run_workflow(local)

    for variable in ("SLURM_CONF", "PATH"):
        monkeypatch.setenv(variable, slurm_cluster.env[variable])
    on_slurm = make_workdir(tmp_path_factory.mktemp("slurm"))
    expected_jobs = dry_run_jobs(on_slurm)
    result = run_workflow(
        on_slurm,
        "--workflow-profile",
        str(SLURM_PROFILE),
        "--executor",
        "slurm",
        "--jobs",
        "4",
        "--retries",
        "0",
        # No accounting database here: job states from squeue; no account to charge.
        "--slurm-status-command",
        "squeue",
        "--slurm-no-account",
        "--slurm-init-seconds-before-status-checks",
        "2",
        # The example's count table is small enough for one fit thread; ask for two so the
        # test shows a thread request reaching sbatch, and that the fit does not depend on it.
        "--set-threads",
        "rnaseq_fit=2",
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{slurm_cluster.logs()}"

    # Every job but the local target rule ran as a SLURM job of its rule, and completed.
    jobs = slurm_cluster.jobs()
    by_rule: dict[str, list[dict[str, str]]] = {}
    for job in jobs:
        rule = re.match(r"rule_(\w+?)(_wildcards_.*)?$", job.get("Comment", ""))
        assert rule, f"job {job['JobId']} was not submitted by snakemake: {job.get('Comment')}"
        by_rule.setdefault(rule.group(1), []).append(job)
    remote = {rule: n for rule, n in expected_jobs.items() if rule not in ("all", "benchmark_summary")}
    assert {rule: len(found) for rule, found in by_rule.items()} == remote
    assert {job["JobState"] for job in jobs} == {"COMPLETED"}, [(j["JobId"], j["JobState"]) for j in jobs]

    # Threads, memory and run time of each job are what its rule asks for.
    for rule, found in by_rule.items():
        for job in found:
            assert int(job["NumCPUs"]) == (2 if rule == "rnaseq_fit" else 1), (rule, job["NumCPUs"])
            memory = job.get("MinMemoryNode", "0")
            assert re.fullmatch(r"\d+[MG]", memory) and int(memory[:-1]) > 0, (rule, memory)
            assert job["TimeLimit"] not in ("UNLIMITED", "Partition_Limit"), (rule, job["TimeLimit"])

    local_files = result_files(local)
    slurm_files = result_files(on_slurm)
    assert sorted(slurm_files) == sorted(local_files)
    assert len(local_files) > 50
    different = [path for path in local_files if local_files[path] != slurm_files[path] and path not in MEASURED]
    assert not different, f"results differ between the local and the SLURM run: {different}"
    for path in MEASURED & set(local_files):
        rows = [
            [line.split("\t")[:2] for line in (workdir / path).read_text().splitlines()]
            for workdir in (local, on_slurm)
        ]
        assert rows[0] == rows[1]
