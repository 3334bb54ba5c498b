"""Per-job resource use: Snakemake's ``benchmark:`` files gathered into one table.

Every rule of the workflow writes ``benchmarks/...tsv`` (Snakemake's own measurement of the
job: wall time, peak memory, CPU time). :func:`benchmark_jobs` finds, for the run's final
outputs, the job producing each and its benchmark file; :func:`gather` reads them into
``results/benchmarks.tsv`` for the report's QC section.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

#: Columns of ``results/benchmarks.tsv``.
BENCHMARK_COLUMNS = ["rule", "wildcards", "wall_s", "cpu_s", "max_rss_mb", "mean_load", "io_in_mb", "io_out_mb", "benchmark"]


def benchmark_jobs(rules: Iterable, targets: Iterable[str], exclude: Iterable[str] = ()) -> list[dict[str, str]]:
    """The job producing each target: rule name, wildcards as ``key=value,...`` and benchmark file.

    Parameters
    ----------
    rules
        Snakemake's ``workflow.rules``.
    targets
        Output paths of the run (e.g. ``all_outputs()``).
    exclude
        Rule names to leave out (the gathering rule itself, target-only rules).
    """
    skipped = set(exclude)
    candidates = [rule for rule in rules if rule.name not in skipped and rule.benchmark]
    jobs: dict[str, dict[str, str]] = {}
    for target in targets:
        for rule in candidates:
            if rule.is_producer(target):
                wildcards = rule.get_wildcards(target)
                path = str(rule.benchmark.apply_wildcards(wildcards))
                jobs[path] = {
                    "rule": rule.name,
                    "wildcards": ",".join(f"{key}={value}" for key, value in sorted(wildcards.items())),
                    "benchmark": path,
                }
                break
    return sorted(jobs.values(), key=lambda job: (job["rule"], job["wildcards"]))


def gather(jobs: list[dict[str, str]]) -> pd.DataFrame:
    """One row per job from its benchmark file (the mean when a job was benchmarked repeatedly).

    Returns
    -------
    pandas.DataFrame
        :data:`BENCHMARK_COLUMNS`; times in seconds, memory and I/O in MB, sorted by rule then
        wildcards.
    """
    rows = []
    for job in jobs:
        measured = pd.read_csv(job["benchmark"], sep="\t", na_values=["NA", "-"])
        numbers = measured.select_dtypes("number").mean()
        rows.append(
            {
                "rule": job["rule"],
                "wildcards": job["wildcards"],
                "wall_s": numbers.get("s"),
                "cpu_s": numbers.get("cpu_time"),
                "max_rss_mb": numbers.get("max_rss"),
                "mean_load": numbers.get("mean_load"),
                "io_in_mb": numbers.get("io_in"),
                "io_out_mb": numbers.get("io_out"),
                "benchmark": str(Path(job["benchmark"])),
            }
        )
    table = pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)
    return table.sort_values(["rule", "wildcards"]).reset_index(drop=True)
