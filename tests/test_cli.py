"""The ``fibroskin`` console command: its subcommands, and a small run of each benchmark.

``scripts/`` holds only what Snakemake runs; the user-facing tools are subcommands.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from conftest import ROOT
from test_nothing_lost import rule_scripts


def fibroskin(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("fibroskin")), *arguments]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd)


def test_help_lists_the_subcommands():
    result = fibroskin("--help")
    assert result.returncode == 0, result.stderr
    for command in ("init", "benchmark", "bench-de-engine"):
        assert command in result.stdout
    for command in ("init", "benchmark", "bench-de-engine"):
        sub = fibroskin(command, "--help")
        assert sub.returncode == 0 and f"usage: fibroskin {command}" in sub.stdout, sub.stderr
    assert "--cq FILE [FILE ...]" in fibroskin("init", "--help").stdout
    missing = fibroskin()
    assert missing.returncode == 2 and "the following arguments are required: COMMAND" in missing.stderr


def test_scripts_holds_only_what_snakemake_runs():
    assert sorted(ROOT.joinpath("scripts").glob("*.py")) == rule_scripts()


def test_benchmark_measures_each_step(tmp_path):
    out = tmp_path / "bench" / "benchmark.tsv"
    result = fibroskin("benchmark", "--qpcr-plates", "1", "--rnaseq-samples", "4", "--no-workflow", "--no-r",
                       "--stock-max-samples", "0", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(out, sep="\t")
    assert table["step"].tolist() == ["read", "aggregate", "test", "read_counts", "de_fast"]
    assert table["size"].tolist() == [384, 384, 384, 4, 4]
    assert (table["wall_s"] > 0).all() and (table["peak_mb"] > 0).all()
    assert (table["step_wall_s"] <= table["wall_s"]).all()
    assert "genes padj < 0.05; n_cpus=1" in table["note"].iloc[-1]
    machine = pd.read_csv(out.with_name("machine.tsv"), sep="\t").set_index("item")["value"]
    assert int(machine["nproc"]) >= 1 and machine["fibroskin"] == "0.1.0"
    assert out.with_name("benchmark.png").stat().st_size > 0


def test_benchmark_runs_the_rnaseq_workflow_against_r_on_the_same_files(tmp_path):
    """The workflow to the results table per size; above --r-max-samples also its whole run and a balanced subset."""
    from fibroskin.benchmarking.measure import r_available

    out = tmp_path / "bench" / "benchmark.tsv"
    arguments = ["benchmark", "--qpcr-plates", "--rnaseq-samples", "--workflow-sizes", "6x300", "10x300",
                 "--r-max-samples", "6", "--no-airway", "--no-example", "--out", str(out), "--keep", str(tmp_path / "work")]
    with_r = r_available()
    result = fibroskin(*arguments, *([] if with_r else ["--no-r"]))
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(out, sep="\t")
    ours = ["workflow_to_results"] + (["r_deseq2"] if with_r else [])
    assert table["step"].tolist() == ours + ["workflow_to_results", "workflow_all"] + ours
    assert table["size"].tolist() == [6] * len(ours) + [10, 10] + [6] * len(ours)
    assert (table["wall_s"] > 0).all() and (table["peak_mb"] > 0).all()
    # the subset: 3 samples of each condition of the 10-sample table, as files of its own
    subset = pd.read_csv(tmp_path / "work" / "cohort_10x300_subset" / "samples.tsv", sep="\t")
    assert subset["condition"].value_counts().to_dict() == {"A": 3, "B": 3}
    results = tmp_path / "work" / "workflow_simulated_10x300" / "results" / "benchmark" / "rnaseq" / "deseq2_results.tsv"
    assert len(pd.read_csv(results, sep="\t")) > 0
    if with_r:
        assert "jaccard 1.0" in table["note"].iloc[0] and table["r_ratio"].notna().iloc[0]


def test_bench_de_engine_runs_each_engine_on_the_same_counts(tmp_path):
    result = fibroskin("bench-de-engine", "--samples", "6", "--genes", "400", "--engines", "fast", "stock",
                       "--workdir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    rows = [dict(zip(lines[0].split("\t"), line.split("\t"))) for line in lines[1:]]
    assert [row["engine"] for row in rows] == ["fast", "stock"]
    assert all(float(row["wall_s"]) > 0 and float(row["peak_rss_mib"]) > 0 for row in rows)
    fast = pd.read_csv(tmp_path / "results_fast.csv")
    stock = pd.read_csv(tmp_path / "results_stock.csv")
    assert len(fast) == len(stock) == 400 and set(fast["gene"]) == set(stock["gene"])
    counts = pd.read_csv(tmp_path / "counts.tsv", sep="\t", index_col=0)
    assert counts.shape == (400, 6)


def test_compare_counts_agreement(tmp_path):
    from fibroskin.benchmarking.de_engines import compare

    genes = ["g1", "g2", "g3", "g4"]
    pd.DataFrame({"gene": genes, "baseMean": [100, 100, 100, 5], "log2FoldChange": [1.0, 2.0, 0.5, 3.0],
                  "padj": [0.01, 0.02, 0.5, None]}).to_csv(tmp_path / "results_a.csv", index=False)
    pd.DataFrame({"gene": genes[::-1], "baseMean": [5, 100, 100, 100], "log2FoldChange": [9.0, 0.25, 2.0, 1.0],
                  "padj": [0.3, 0.01, 0.5, 0.01]}).to_csv(tmp_path / "results_b.csv", index=False)
    # calls a: g1, g2; b: g1, g3 -> Jaccard 1/3; NA pattern differs at g4; largest |dLFC| among
    # baseMean >= 10 is g3's 0.25
    assert compare(tmp_path, "a", "b", 0.05) == {
        "jaccard": 0.33333, "na_match": 0.75, "max_dlfc_bm10": 0.25, "n_calls": 2, "n_calls_ref": 2,
    }
