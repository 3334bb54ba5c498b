"""``fibroskin benchmark``: time, CPU and peak memory of each step at several input sizes.

Inputs are seeded synthetic data (:mod:`fibroskin.benchmarking.synthetic`) written to a
temporary directory. Every step runs in its own child process (``python`` for ours,
``Rscript`` for R DESeq2, ``snakemake`` for whole workflows) measured by
:func:`fibroskin.benchmarking.measure.measure`: ``wall_s``, ``cpu_s`` and ``peak_mb`` are
those of the whole child, start-up and input loading included; ``step_wall_s`` /
``step_cpu_s`` time the computation alone, inside the child. Steps:

- qPCR ``read`` (``read_qpcr_files``: detect, decode, parse, check every plate file),
  ``aggregate`` (flag wells, replicate means, dCq: ``qpcr.analyse_wells``), ``test``
  (ddCq, fold changes, tests, BH, relative expression of the contrast), and ``workflow``
  (the whole workflow on the qPCR data, cold, ``--cores 2``).
- RNA-seq ``read_counts``, ``de_fast`` (prefilter, DESeq2 fit and Wald test with the default
  ``fast`` engine, no shrinkage), ``de_pydeseq2`` (the same with the stock pydeseq2 engine, up
  to ``--stock-max-samples``), and ``de_r`` (R DESeq2 ``DESeq()`` + ``results()``, design
  ``~condition``, on the same count file with the same prefilter) when ``Rscript`` with DESeq2
  is installed; ``r_ratio`` is our step time over R's (``step_wall_s``; below 1 = faster).
- ``example`` / ``workflow``: the bundled example, cold (fresh directory), ``--cores 2``.
- ``rnaseq_workflow`` (:mod:`fibroskin.benchmarking.workflow_vs_r`): the whole workflow run
  to the results table (``workflow_to_results``) against an ``Rscript`` doing ``DESeq()`` +
  ``results()`` on the same files (``r_deseq2``), side by side, with the calls compared
  (in ``note``); simulated (``makeExampleDESeqDataSet``'s model) at ``--workflow-sizes`` and
  the airway table; above ``--r-max-samples`` the workflow alone on the whole table (also
  ``workflow_all``: every output, figures included) and both on a balanced subset.

Each row records the 1-minute load average before the step (``load_before``): on a shared
machine, compare runs with a low load. Results: a TSV (``--out``, default
``results/benchmark/benchmark.tsv``), ``machine.tsv`` beside it, and a log-log figure of time
against size (``benchmark.png`` / ``.svg``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from fibroskin.benchmarking import workflow_vs_r
from fibroskin.benchmarking.measure import load, log, machine, measure, r_available, snakemake_command
from fibroskin.benchmarking.synthetic import MARKERS, N_GENES, REFERENCES, write_counts, write_qpcr
from fibroskin.checkout import EXAMPLE, EXAMPLE_CONFIG, EXAMPLE_SHEET, require_workflow
from fibroskin.tables import write_tsv

COLUMNS = [
    "assay", "size", "size_unit", "step", "engine", "wall_s", "cpu_s", "peak_mb",
    "step_wall_s", "step_cpu_s", "r_ratio", "load_before", "note",
]

R_DESEQ2 = r"""
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
counts <- as.matrix(read.delim(args[1], row.names = 1, check.names = FALSE))
sheet <- read.delim(args[2], row.names = 1, colClasses = "character")[colnames(counts), , drop = FALSE]
sheet$condition <- factor(sheet$condition, levels = c("healthy", "lesional"))
keep <- rowSums(counts >= 10) >= min(table(sheet$condition))
start <- proc.time()
dds <- DESeqDataSetFromMatrix(counts[keep, ], sheet, design = ~condition)
dds <- DESeq(dds, quiet = TRUE)
res <- results(dds, contrast = c("condition", "lesional", "healthy"), alpha = 0.05)
used <- proc.time() - start
write.table(as.data.frame(res), args[3], sep = "\t", quote = FALSE)
cat(sprintf('{"step_wall_s": %.3f, "step_cpu_s": %.3f, "n_sig": %d, "rows": %d}\n',
            used[["elapsed"]], used[["user.self"]] + used[["sys.self"]],
            sum(res$padj < 0.05, na.rm = TRUE), nrow(res)))
"""


def python_step(spec: dict) -> dict:
    """One step of :mod:`fibroskin.benchmarking.step` in a fresh interpreter, measured."""
    return measure([sys.executable, "-m", "fibroskin.benchmarking.step", json.dumps(spec)])


# --------------------------------------------------------------------------- workflows
def run_workflow(workdir: Path) -> dict:
    """The whole workflow on ``workdir/config.yaml``, cold, ``--cores 2``, measured."""
    command = [
        snakemake_command(), "-s", str(require_workflow()), "-d", str(workdir),
        "--configfile", str(workdir / "config.yaml"), "--cores", "2", "--quiet", "all",
    ]
    return measure(command, env=dict(os.environ, PYTHONHASHSEED="0"))


def example_workdir(base: Path) -> Path:
    """A fresh working directory holding the bundled example's inputs and config."""
    workdir = base / "example"
    (workdir / "config").mkdir(parents=True)
    shutil.copytree(EXAMPLE, workdir / "resources" / "example")
    shutil.copy(EXAMPLE_SHEET, workdir / "config" / "samples.tsv")
    shutil.copy(EXAMPLE_CONFIG, workdir / "config.yaml")
    return workdir


def qpcr_workdir(base: Path, paths: list[Path], sheet: Path) -> Path:
    """A working directory whose config runs the qPCR branch on ``paths``."""
    import yaml

    workdir = base / "workflow"
    workdir.mkdir(parents=True)
    config = {
        "samples": str(sheet),
        "contrasts": {"lesional_vs_healthy": {"column": "condition", "reference": "healthy", "target": "lesional"}},
        "markers": MARKERS,
        "qpcr": {"cq_tables": [str(path) for path in paths], "reference_genes": REFERENCES},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


# --------------------------------------------------------------------------- runs
def row(assay: str, size: int, unit: str, step: str, measured: dict, before: float, engine: str = "", note: str = "") -> dict:
    """One row of the benchmark table."""
    return {
        "assay": assay, "size": size, "size_unit": unit, "step": step, "engine": engine,
        "wall_s": round(measured["wall_s"], 3), "cpu_s": round(measured["cpu_s"], 3),
        "peak_mb": round(measured["peak_mb"], 1),
        "step_wall_s": round(measured["step_wall_s"], 3) if "step_wall_s" in measured else np.nan,
        "step_cpu_s": round(measured["step_cpu_s"], 3) if "step_cpu_s" in measured else np.nan,
        "r_ratio": np.nan, "load_before": before, "note": note,
    }


def bench_qpcr(work: Path, plates: int, with_workflow: bool) -> list[dict]:
    """The qPCR steps (and the whole qPCR workflow) on ``plates`` plates of 384 wells."""
    directory = work / f"qpcr_{plates}"
    paths, sheet = write_qpcr(directory / "data", plates)
    wells_pickle, delta_pickle = directory / "wells.pkl", directory / "delta.pkl"
    common = {"references": REFERENCES, "markers": MARKERS}
    steps = [
        ("read", {"step": "read", "paths": [str(p) for p in paths], "output": str(wells_pickle)}),
        ("aggregate", {"step": "aggregate", "input": str(wells_pickle), "output": str(delta_pickle), **common}),
        ("test", {"step": "test", "input": str(delta_pickle), "samples": str(sheet), **common}),
    ]
    rows = []
    wells = plates * 384
    for name, spec in steps:
        log(f"qPCR {plates} plates: {name}")
        before = load()
        measured = python_step(spec)
        rows.append(row("qpcr", wells, "wells", name, measured, before, note=f"{plates} plates x 384 wells"))
    if with_workflow:
        log(f"qPCR {plates} plates: whole workflow")
        before = load()
        measured = run_workflow(qpcr_workdir(directory, paths, sheet))
        rows.append(row("qpcr", wells, "wells", "workflow", measured, before, note=f"{plates} plates; cold, --cores 2"))
    return rows


def bench_rnaseq(work: Path, samples: int, stock: bool, with_r: bool) -> list[dict]:
    """Reading the counts and the DE step of each engine (and R) on ``samples`` samples."""
    directory = work / f"rnaseq_{samples}"
    counts, sheet = write_counts(directory / "data", samples)
    counts_pickle = directory / "counts.pkl"
    rows = []
    size_note = f"{samples} samples x {N_GENES} genes"
    log(f"RNA-seq {samples} samples: read counts")
    before = load()
    measured = python_step({"step": "read_counts", "counts": str(counts), "output": str(counts_pickle)})
    rows.append(row("rnaseq", samples, "samples", "read_counts", measured, before, note=size_note))
    engines = [("fast", 1)] + ([("pydeseq2", 2)] if stock else [])
    for engine, n_cpus in engines:
        log(f"RNA-seq {samples} samples: DE, {engine} engine")
        before = load()
        spec = {"step": "de", "engine": engine, "n_cpus": n_cpus, "input": str(counts_pickle), "samples": str(sheet),
                "output": str(directory / f"de_{engine}.tsv")}
        measured = python_step(spec)
        rows.append(row("rnaseq", samples, "samples", f"de_{engine}", measured, before, engine=engine,
                        note=f"{size_note}; {measured.get('n_sig')} genes padj < 0.05; n_cpus={n_cpus}"))
    if with_r:
        log(f"RNA-seq {samples} samples: R DESeq2")
        script = directory / "deseq2.R"
        script.write_text(R_DESEQ2)
        before = load()
        measured = measure(["Rscript", str(script), str(counts), str(sheet), str(directory / "de_r.tsv")])
        rows.append(row("rnaseq", samples, "samples", "de_r", measured, before, engine="R DESeq2",
                        note=f"{size_note}; {measured.get('n_sig')} genes padj < 0.05"))
        r_time = rows[-1]["step_wall_s"]
        for entry in rows:
            if entry["step"] in ("de_fast", "de_pydeseq2") and r_time:
                entry["r_ratio"] = round(entry["step_wall_s"] / r_time, 3)
    return rows


def workflow_sizes(sizes: list[str]) -> list[tuple[int, int]]:
    """``["12", "2000x60000"]`` -> ``[(12, 20000), (2000, 60000)]``."""
    parsed = []
    for size in sizes:
        samples, _, genes = size.lower().partition("x")
        parsed.append((int(samples), int(genes) if genes else N_GENES))
    return parsed


def shared_data_folder(args: argparse.Namespace) -> Path:
    """The public data folder (``--shared-data``, else ``FIBROSKIN_SHARED_DATA``, else ``../shared/data``)."""
    if args.shared_data is not None:
        return args.shared_data
    if os.environ.get("FIBROSKIN_SHARED_DATA"):
        return Path(os.environ["FIBROSKIN_SHARED_DATA"])
    return require_workflow().parents[2] / "shared" / "data"


def bench_workflow_vs_r(work: Path, args: argparse.Namespace, with_r: bool) -> list[dict]:
    """The RNA-seq workflow against R on the simulated tables and airway (:mod:`~fibroskin.benchmarking.workflow_vs_r`)."""
    sizes = args.workflow_sizes if args.workflow_sizes is not None else (
        ["12"] if args.quick else ["12", "100", "500", "2000x60000"])
    rows = []
    for samples, genes in workflow_sizes(sizes):
        dataset = workflow_vs_r.simulated(work / f"cohort_{samples}x{genes}", samples, genes)
        if samples <= args.r_max_samples:
            rows.extend(workflow_vs_r.compare(dataset, work, row, with_r))
            continue
        rows.extend(workflow_vs_r.compare(dataset, work, row, with_r=False, whole_workflow=True))
        subset = workflow_vs_r.balanced_subset(dataset, work / f"cohort_{samples}x{genes}_subset", args.r_max_samples)
        rows.extend(workflow_vs_r.compare(subset, work, row, with_r))
    if not args.no_airway and not args.quick:
        dataset = workflow_vs_r.airway(work / "airway", shared_data_folder(args))
        if dataset is None:
            log("airway table not found: no airway comparison (--shared-data names the folder)")
        else:
            rows.extend(workflow_vs_r.compare(dataset, work, row, with_r))
    return rows


def figure(table: pd.DataFrame, stem: Path) -> list[Path]:
    """Log-log time against size: qPCR steps by wells, RNA-seq steps by samples."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from fibroskin.plots.theme import DOUBLE_COLUMN, OKABE_ITO, count_tick_label, save_figure, set_theme

    set_theme()
    colours = list(OKABE_ITO.values())
    fig, axes = plt.subplots(1, 2, figsize=(DOUBLE_COLUMN, 3.4), layout="constrained")
    for axis, assay, unit in ((axes[0], "qpcr", "wells"), (axes[1], "rnaseq", "samples")):
        rows = table[table["assay"] == assay]
        for index, (step, group) in enumerate(rows.groupby("step", sort=False)):
            group = group.sort_values("size")
            axis.plot(group["size"], group["wall_s"], marker="o", color=colours[index % len(colours)], label=step)
        axis.set_xscale("log")
        axis.set_yscale("log")
        for ticks in (axis.xaxis, axis.yaxis):
            ticks.set_major_formatter(FuncFormatter(count_tick_label))
        axis.set_xlabel(f"{'qPCR' if assay == 'qpcr' else 'RNA-seq'} input size ({unit})")
        axis.set_ylabel("wall time per step (s)")
        if len(rows):
            # below the panel: inside it, the legend hides the lines it explains
            axis.legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)
    fig.suptitle("fibroskin benchmark (child process per step: start-up included)", fontsize=9)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    save_figure(fig, paths)
    return paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``fibroskin benchmark``."""
    parser.add_argument("--quick", action="store_true", help="small subset: qPCR 10 plates, RNA-seq 12 samples (~2 min)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmark/benchmark.tsv"), help="TSV to write")
    parser.add_argument("--qpcr-plates", type=int, nargs="*", help="plate counts (default 10 100 1000; --quick 10)")
    parser.add_argument("--rnaseq-samples", type=int, nargs="*", help="sample counts (default 12 100 500; --quick 12)")
    parser.add_argument("--stock-max-samples", type=int, default=12,
                        help="run the stock pydeseq2 engine up to this many samples (default 12; 0: never; "
                        "100 takes tens of minutes on 2 cores)")
    parser.add_argument("--workflow-sizes", nargs="*",
                        help="RNA-seq workflow against R: samples, or samples x genes as 2000x60000 "
                        "(default 12 100 500 2000x60000, 20,000 genes unless given; --quick 12)")
    parser.add_argument("--r-max-samples", type=int, default=1000,
                        help="larger tables: R (and the workflow, for the comparison) on a balanced subset of this size")
    parser.add_argument("--no-airway", action="store_true", help="skip the airway table (../shared/data/airway)")
    parser.add_argument("--no-example", action="store_true", help="skip the bundled example's whole run")
    parser.add_argument("--shared-data", type=Path, default=None,
                        help="public data folder holding airway/ (default: FIBROSKIN_SHARED_DATA or ../shared/data)")
    parser.add_argument("--no-r", action="store_true", help="skip R DESeq2 even when installed")
    parser.add_argument("--no-workflow", action="store_true",
                        help="skip the whole-workflow runs (the example, qPCR, and the RNA-seq workflow against R)")
    parser.add_argument("--keep", type=Path, help="keep the generated data and runs in this directory")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; write the table, ``machine.tsv`` and the figure."""
    plates = args.qpcr_plates if args.qpcr_plates is not None else ([10] if args.quick else [10, 100, 1000])
    samples = args.rnaseq_samples if args.rnaseq_samples is not None else ([12] if args.quick else [12, 100, 500])
    with_r = not args.no_r and r_available()
    if not with_r and not args.no_r:
        log("Rscript with DESeq2 not found: no R comparison (apt-get install r-bioc-deseq2)")

    work = args.keep or Path(tempfile.mkdtemp(prefix="fibroskin-benchmark-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    try:
        if not args.no_workflow and not args.no_example:
            log("bundled example: whole workflow, cold")
            before = load()
            measured = run_workflow(example_workdir(work))
            rows.append(row("example", 12, "samples", "workflow", measured, before,
                            note="bundled example (qPCR + RNA-seq), cold, --cores 2"))
        for count in plates:
            rows.extend(bench_qpcr(work, count, with_workflow=not args.no_workflow))
        for count in samples:
            rows.extend(bench_rnaseq(work, count, stock=count <= args.stock_max_samples, with_r=with_r))
        if not args.no_workflow:
            rows.extend(bench_workflow_vs_r(work, args, with_r))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    table = pd.DataFrame(rows, columns=COLUMNS)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_tsv(table, args.out)
    write_tsv(machine(), args.out.with_name("machine.tsv"))
    figures = figure(table[table["assay"] != "example"], args.out.with_suffix(""))
    print(table.to_string(index=False))
    print(f"\nwrote {args.out}, {args.out.with_name('machine.tsv')}, {', '.join(str(p) for p in figures)}")
    return 0
