"""Two runs of the bundled example on the same input give byte-identical results.

``conftest.example_run(label)`` runs the example once per label and per test session, so
``test_workflow_example.py``, ``test_resume.py`` and ``test_nothing_lost.py`` reuse these
runs instead of running the ~40 s example again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

from conftest import RUN_SECONDS, example_run

#: Files that legitimately differ between runs: the HTML report (Snakemake's, with run
#: metadata) and the per-rule run times gathered from benchmarks/ (wall-clock timings).
NOT_COMPARED = {"report.html", "benchmarks.tsv"}


def checksums(results: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``results`` except :data:`NOT_COMPARED`."""
    return {
        str(path.relative_to(results)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(results.rglob("*"))
        if path.is_file() and path.name not in NOT_COMPARED
    }


def by_type(names) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for name in names:
        counts[Path(name).suffix.lstrip(".")] += 1
    return dict(counts)


def test_two_runs_are_byte_identical():
    first = checksums(example_run("first") / "results")
    second = checksums(example_run("second") / "results")
    assert first.keys() == second.keys()
    kinds = by_type(first)
    # tables and every figure format are all there (no pickled fit: a small table's
    # contrasts are tested in the fit's own job, rnaseq_steps.contrasts_fan_out) ...
    assert kinds["tsv"] >= 20 and kinds["svg"] >= 10 and kinds["svg"] == kinds["png"] == kinds["pdf"]
    assert "pkl" not in kinds
    different = sorted(name for name in first if first[name] != second[name])
    # ... and every one of them is byte-identical: TSV, SVG, PNG and PDF
    assert different == [], f"differ between two runs: {different}"
    print(f"\nidentical files by type: {kinds}; run seconds: {RUN_SECONDS}")


def test_results_hold_no_temporary_files():
    results = example_run("first") / "results"
    assert not [path for path in results.rglob("*") if path.name.endswith(".tmp")]
