"""A failed write or a failed run never damages results a user already has.

"Untouched" means: every file of a job that did not fail keeps its bytes, and no
half-written or temporary file is left. Snakemake itself removes the outputs of a job
that failed (so they cannot be mistaken for complete results); those are the only
files a failed run may remove.
"""

from __future__ import annotations

import ast
import pickle
import re
import shutil
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from conftest import ROOT, example_run, run_workflow
from fibroskin.plots.theme import save_figure
from fibroskin.rnaseq_steps import save_fit
from fibroskin.tables import atomic_path, read_tsv, write_tsv
from test_determinism import checksums


class Unprintable:
    """A cell value whose text conversion fails half-way through writing a table."""

    def __str__(self) -> str:
        raise RuntimeError("disk full (simulated)")

    __repr__ = __str__
    __format__ = lambda self, spec: str(self)  # noqa: E731


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.endswith(".tmp"))


def test_a_failed_table_write_keeps_the_old_table_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "marker_stats.tsv"
    old = pd.DataFrame({"gene": ["TGFB1", "COL1A1"], "fold_change": [3.5, 2.25]})
    write_tsv(old, path)
    before = path.read_bytes()
    # many good rows first, so part of the new table reaches the temporary file
    new = pd.DataFrame({"gene": [f"G{i}" for i in range(5000)] + ["BAD"], "value": [1.0] * 5000 + [Unprintable()]})
    with pytest.raises(RuntimeError, match="disk full"):
        write_tsv(new, path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    pd.testing.assert_frame_equal(read_tsv(path), old)


def test_a_failed_figure_write_keeps_the_old_figures(tmp_path, monkeypatch):
    figure, axes = plt.subplots()
    axes.plot([1, 2], [3, 4])
    paths = [tmp_path / "qpcr_markers.svg", tmp_path / "qpcr_markers.png"]
    save_figure(figure, paths)
    before = {path.name: path.read_bytes() for path in paths}

    def broken_savefig(self, target, **kwargs):
        Path(target).write_bytes(b"<svg half-written")
        raise OSError("No space left on device (simulated)")

    figure, axes = plt.subplots()
    monkeypatch.setattr(type(figure), "savefig", broken_savefig)
    with pytest.raises(OSError, match="No space left"):
        save_figure(figure, paths)
    assert {path.name: path.read_bytes() for path in paths} == before
    assert leftovers(tmp_path) == []


def test_a_failed_fit_write_keeps_the_old_fit(tmp_path):
    path = tmp_path / "deseq_fit.pkl"
    save_fit({"fit": [1, 2, 3]}, path)
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        save_fit({"fit": list(range(10_000)), "bad": lambda: None}, path)  # lambdas do not pickle
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_an_interrupt_while_writing_also_cleans_up(tmp_path):
    path = tmp_path / "table.tsv"
    path.write_text("old\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(path) as temporary:
            temporary.write_text("new, half")
            raise KeyboardInterrupt
    assert path.read_text() == "old\n" and leftovers(tmp_path) == []


def rule_scripts() -> list[Path]:
    """The scripts the workflow's rules run."""
    names = set()
    for rules in (ROOT / "workflow" / "rules").glob("*.smk"):
        names.update(re.findall(r'"\.\./\.\./scripts/([\w.]+\.py)"', rules.read_text()))
    return sorted(ROOT / "scripts" / name for name in names)


#: Calls that write a file directly; results must go through write_tsv, save_figure, save_fit.
DIRECT_WRITES = {"to_csv", "to_excel", "to_parquet", "to_pickle", "savefig", "write_text", "write_bytes", "dump", "save", "savetxt", "open"}


def called_names(tree: ast.AST) -> set[str]:
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            called.add(function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", ""))
    return called


def atomic_writers() -> set[str]:
    """write_tsv, save_figure, save_fit, write_document and the package functions that write only through them."""
    writers = {"write_tsv", "save_figure", "save_fit", "write_document"}
    for module in (ROOT / "scripts" / "fibroskin").rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.FunctionDef) and called_names(node) & {"write_tsv", "save_figure", "save_fit", "write_document"}:
                assert not called_names(node) & (DIRECT_WRITES - {"open", "dump"}), f"{module.name}:{node.name}"
                writers.add(node.name)
    return writers


def test_every_rule_script_writes_only_through_the_atomic_writers():
    scripts = rule_scripts()
    assert len(scripts) >= 15
    writers = atomic_writers()
    for script in scripts:
        called = called_names(ast.parse(script.read_text()))
        assert not called & DIRECT_WRITES, f"{script.name} writes directly: {called & DIRECT_WRITES}"
        assert called & writers, f"{script.name} writes no result"


def test_the_atomic_writers_are_the_only_places_that_write_results():
    """In the package, table, figure and pickle writing happens only inside atomic_path."""
    package = ROOT / "scripts" / "fibroskin"
    for module in package.rglob("*.py"):
        if module.parent.name == "benchmarking":
            continue  # synthetic inputs and child-process files in the benchmark's temporary directory
        text = module.read_text()
        for pattern in (r"\.to_csv\(", r"\.savefig\(", r"pickle\.dump\("):
            for match in re.finditer(pattern, text):
                line = text.count("\n", 0, match.start()) + 1
                assert module.name in {"tables.py", "theme.py", "rnaseq_steps.py"}, f"{module}:{line}"
                preceding = text[: match.start()].rsplit("\n", 3)
                assert any("atomic_path" in part for part in preceding), f"{module}:{line} writes outside atomic_path"


def test_a_run_failing_inside_a_job_keeps_every_earlier_result(tmp_path):
    """Complete run, then the imported counts are corrupted: the jobs using them fail; nothing else changes."""
    workdir = tmp_path / "run"
    shutil.copytree(example_run("second"), workdir)  # a copy: the determinism runs stay pristine
    results = workdir / "results"
    counts = results / "rnaseq" / "counts.tsv"
    time.sleep(1.1)  # a newer modification time than the counts' dependents, as a real edit would have
    counts.write_text("gene\tsymbol\tH01\nnot a count table: the disk was restored from a broken backup\n")
    before = checksums(results)
    started = time.perf_counter()
    result = run_workflow(workdir, cores=1, check=False)
    print(f"\nfailing run took {time.perf_counter() - started:.1f} s")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Error in rule rnaseq_fit" in result.stderr  # the first job on the counts (priority 1)
    after = checksums(results)
    # the fit tests the example's one contrast in its own job (rnaseq_steps.contrasts_fan_out)
    fit_outputs = {"rnaseq/normalized_counts.tsv", "rnaseq/size_factors.tsv",
                   "lesional_vs_healthy/rnaseq/deseq2_results.tsv", "lesional_vs_healthy/rnaseq/marker_results.tsv"}
    # Snakemake removed the outputs of the failed jobs (never half-written: they were the old,
    # complete files, as our writes are atomic), and nothing else was changed or created.
    assert set(before) - set(after) == fit_outputs, sorted(set(before) - set(after))
    assert set(after) <= set(before)
    assert {name: after[name] for name in after} == {name: before[name] for name in after}
    assert not [path for path in workdir.rglob("*.tmp")]


def test_wide_tables_are_written_as_pandas_writes_them(tmp_path, monkeypatch):
    """write_tsv's block writer of wide numeric tables gives pandas' bytes (floats, NA, signed zeros, integers)."""
    import numpy as np

    import fibroskin.tables as tables

    rng = np.random.default_rng(9)
    floats = rng.lognormal(3, 5, size=(700, 40))
    floats[3, 2], floats[4, 5], floats[5, 6], floats[6, 7] = np.nan, -0.0, np.inf, 1e-310
    for values in (floats, rng.poisson(40, size=(700, 40))):
        table = pd.DataFrame(values, columns=[f"sample {i}" for i in range(40)])
        table.insert(0, "gene", [f"ENSG{i:011d}" for i in range(700)])
        table.insert(1, "symbol", ["NA" if i % 9 == 0 else f"GENE{i}" for i in range(700)])
        monkeypatch.setattr(tables, "LARGE_TABLE_CELLS", 10**12)
        write_tsv(table, tmp_path / "pandas.tsv")
        monkeypatch.setattr(tables, "LARGE_TABLE_CELLS", 0)
        write_tsv(table, tmp_path / "blocks.tsv")
        assert (tmp_path / "blocks.tsv").read_bytes() == (tmp_path / "pandas.tsv").read_bytes()
        whole = read_tsv(tmp_path / "blocks.tsv")
        pd.testing.assert_frame_equal(whole, pd.concat(list(tables.read_tsv_blocks(tmp_path / "blocks.tsv", 64)),
                                                       ignore_index=True))
        pd.testing.assert_frame_equal(tables.read_expression(tmp_path / "blocks.tsv", 64),
                                      whole.drop(columns="symbol").set_index("gene").astype(float))
        kept = tables.read_tsv_rows(tmp_path / "blocks.tsv", {"gene": ["ENSG00000000005"], "symbol": ["GENE7"]}, 64)
        pd.testing.assert_frame_equal(kept, whole[whole["gene"].isin(["ENSG00000000005"]) | (whole["symbol"] == "GENE7")]
                                      .reset_index(drop=True))
    # text pandas would quote, or a missing label: pandas writes it
    table.loc[2, "symbol"] = 'a "quoted" name'
    write_tsv(table, tmp_path / "quoted.tsv")
    assert '"a ""quoted"" name"' in (tmp_path / "quoted.tsv").read_text()
