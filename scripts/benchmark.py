"""Benchmark fibroskin: time, CPU and peak memory of each step at several input sizes.

One command::

    python scripts/benchmark.py            # full: qPCR 10/100/1,000 plates, RNA-seq 12/100/500 samples
    python scripts/benchmark.py --quick    # small subset (qPCR 10 plates, RNA-seq 12 samples), ~2 min

Inputs are seeded synthetic data written to a temporary directory:

- qPCR: ``P`` plates of 384 wells in the long Cq format (one TSV: plate, well, sample,
  target, cq), 16 samples per plate x 8 targets (5 markers, 3 reference genes) x 3
  technical replicates, about 1% ``Undetermined``; a sample sheet (lesional / healthy).
- RNA-seq: ``N`` samples x 20,000 genes of negative-binomial counts (10% of genes changed),
  two groups, as a gene x sample TSV.

Every step runs in its own child process (``python`` for ours, ``Rscript`` for R DESeq2,
``snakemake`` for whole workflows), started by a small wrapper that waits for it and reads
``resource.getrusage(RUSAGE_CHILDREN)``: ``wall_s``, ``cpu_s`` (user + system, the child and
its own children) and ``peak_mb`` (largest resident set of one process) are those of the whole
child, start-up and input loading included. ``step_wall_s`` / ``step_cpu_s`` time the
computation alone, inside the child. Steps:

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

Each row records the 1-minute load average before the step (``load_before``): on a shared
machine, compare runs with a low load. Results: a TSV (``--out``, default
``results/benchmark/benchmark.tsv``), ``machine.tsv`` beside it, and a log-log figure of time
against size (``benchmark.png`` / ``.svg``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"

MARKERS = ["TGFB1", "COL1A1", "COL1A2", "COL3A1", "CCN2"]
REFERENCES = ["GAPDH", "ACTB", "RPLP0"]
SAMPLES_PER_PLATE = 16
REPLICATES = 3
N_GENES = 20_000

COLUMNS = [
    "assay", "size", "size_unit", "step", "engine", "wall_s", "cpu_s", "peak_mb",
    "step_wall_s", "step_cpu_s", "r_ratio", "load_before", "note",
]

# --------------------------------------------------------------------------- wrapper
#: Runs a command, waits for it, prints its wall time and rusage as JSON (last stdout line).
WRAPPER = r"""
import json, resource, subprocess, sys, time
start = time.perf_counter()
result = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"returncode": result.returncode, "wall_s": wall,
                  "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
                  "stdout": result.stdout[-20000:], "stderr": result.stderr[-5000:]}))
"""

# --------------------------------------------------------------------------- python steps
#: One step of ours in a fresh interpreter: imports and input loading are outside the step's
#: own timing; prints {"step_wall_s", "step_cpu_s", ...} as JSON on its last stdout line.
CHILD = r"""
import json, pickle, sys, time
spec = json.loads(sys.argv[1])
step = spec["step"]

def timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return value, time.perf_counter() - wall, time.process_time() - cpu

import pandas as pd
extra = {}
if step == "read":
    from fibroskin.io.instruments import read_qpcr_files
    paths = spec["paths"]
    (wells, notes), wall, cpu = timed(lambda: read_qpcr_files(paths, format="auto", plate_map=None))
    wells.to_pickle(spec["output"])
    extra["rows"] = len(wells)
elif step == "aggregate":
    from fibroskin import qpcr
    wells = pd.read_pickle(spec["input"])
    (qc, delta), wall, cpu = timed(lambda: qpcr.analyse_wells(wells, spec["references"], 35.0, 0.5, False, None))
    delta.to_pickle(spec["output"])
    extra["rows"] = len(delta)
elif step == "test":
    import scipy.stats  # imported by fibroskin.stats on first use: keep it out of the step's time
    from fibroskin import qpcr
    from fibroskin.config import Contrast
    delta = pd.read_pickle(spec["input"])
    samples = pd.read_csv(spec["samples"], sep="\t", dtype=str)
    contrast = Contrast("lesional_vs_healthy", "condition", "healthy", "lesional")
    def run():
        arguments = (delta, samples, contrast, spec["references"], spec["markers"])
        return qpcr.contrast_statistics(*arguments, test="welch"), qpcr.relative_expression(*arguments)
    (stats, relative), wall, cpu = timed(run)
    extra["rows"] = len(stats)
elif step == "read_counts":
    from fibroskin.io.counts import read_counts
    (result, wall, cpu) = timed(lambda: read_counts(spec["counts"]))
    counts = result[0]
    counts.to_pickle(spec["output"])
    extra["rows"] = int(counts.shape[0])
elif step == "de":
    from fibroskin import rnaseq
    counts = pd.read_pickle(spec["input"])
    sheet = pd.read_csv(spec["samples"], sep="\t", dtype=str).set_index("sample").loc[list(counts.columns)]
    def run():
        kept = rnaseq.prefilter(counts, sheet["condition"], 10)
        dds = rnaseq.fit_deseq(kept, sheet[["condition"]], "~condition", engine=spec["engine"],
                               n_cpus=spec["n_cpus"], reference_levels={"condition": "healthy"})
        return rnaseq.test_contrast(dds, "condition", "healthy", "lesional", alpha=0.05, shrink=False)
    results, wall, cpu = timed(run)
    results.to_csv(spec["output"], sep="\t", index=False)
    extra["n_sig"] = int((results["padj"] < 0.05).sum())
    extra["rows"] = len(results)
print(json.dumps({"step_wall_s": wall, "step_cpu_s": cpu, **extra}))
"""

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


def load() -> float:
    return round(os.getloadavg()[0], 2)


def measure(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``command`` through the wrapper; wall, CPU, peak memory and the child's JSON line."""
    completed = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], capture_output=True, text=True, env=env, check=True
    )
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    if outcome["returncode"] != 0:
        raise RuntimeError(f"{' '.join(command[:3])} ... failed:\n{outcome['stdout'][-3000:]}\n{outcome['stderr']}")
    child: dict = {}
    lines = [line for line in outcome["stdout"].strip().splitlines() if line.startswith("{")]
    if lines:
        child = json.loads(lines[-1])
    return {"wall_s": outcome["wall_s"], "cpu_s": outcome["cpu_s"], "peak_mb": outcome["peak_mb"], **child}


def python_step(spec: dict) -> dict:
    return measure([sys.executable, "-c", CHILD, json.dumps(spec)])


# --------------------------------------------------------------------------- data
def write_qpcr(directory: Path, plates: int, seed: int = 7) -> tuple[list[Path], Path]:
    """One long-format Cq table of ``plates`` plates x 384 wells (plate column) and its sample sheet."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    targets = MARKERS + REFERENCES
    rows = [chr(ord("A") + i) for i in range(16)]
    wells = [f"{row}{column}" for row in rows for column in range(1, 25)]
    samples = [f"S{plate:04d}_{index:02d}" for plate in range(plates) for index in range(SAMPLES_PER_PLATE)]
    lesional = np.array([index % 2 == 0 for index in range(len(samples))])
    pd.DataFrame({"sample": samples, "condition": np.where(lesional, "lesional", "healthy")}).to_csv(
        directory / "samples.tsv", sep="\t", index=False
    )
    baseline = {target: value for target, value in zip(targets, [27.0, 24.0, 25.0, 25.5, 28.0, 18.0, 17.0, 19.0])}
    shift = {target: (-1.5 if target in MARKERS else 0.0) for target in targets}
    paths = []
    for plate in range(plates):
        plate_samples = samples[plate * SAMPLES_PER_PLATE : (plate + 1) * SAMPLES_PER_PLATE]
        plate_lesional = lesional[plate * SAMPLES_PER_PLATE : (plate + 1) * SAMPLES_PER_PLATE]
        sample_effect = rng.normal(0, 0.5, SAMPLES_PER_PLATE)
        records = []
        index = 0
        for target in targets:
            for position, sample in enumerate(plate_samples):
                mean = baseline[target] + sample_effect[position] + (shift[target] if plate_lesional[position] else 0.0)
                for _ in range(REPLICATES):
                    cq = mean + rng.normal(0, 0.15)
                    text = "Undetermined" if rng.random() < 0.01 else f"{cq:.3f}"
                    records.append(f"P{plate:04d}\t{wells[index]}\t{sample}\t{target}\t{text}")
                    index += 1
        paths.append("\n".join(records))
    path = directory / "qpcr_cq.tsv"
    path.write_text("plate\twell\tsample\ttarget\tcq\n" + "\n".join(paths) + "\n")
    return [path], directory / "samples.tsv"


def write_counts(directory: Path, samples: int, genes: int = N_GENES, seed: int = 11) -> tuple[Path, Path]:
    """Negative-binomial counts (genes x samples TSV) and their sample sheet."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    base = rng.lognormal(mean=4.0, sigma=2.0, size=genes)
    dispersion = 0.02 + 2.0 / base
    lfc = np.where(rng.uniform(size=genes) < 0.1, rng.normal(0, 1.5, size=genes), 0.0)
    group = np.arange(samples) % 2
    size_factors = rng.lognormal(0, 0.2, size=samples)
    mu = base[:, None] * size_factors[None, :] * np.exp(np.outer(lfc, group))
    size = 1.0 / dispersion[:, None]
    counts = rng.negative_binomial(size, size / (size + mu))
    names = [f"sample{index:03d}" for index in range(samples)]
    table = pd.DataFrame(counts, columns=names)
    table.insert(0, "gene", [f"ENSG{index:011d}" for index in range(genes)])
    table.to_csv(directory / "counts.tsv", sep="\t", index=False)
    pd.DataFrame({"sample": names, "condition": np.where(group == 1, "lesional", "healthy")}).to_csv(
        directory / "samples.tsv", sep="\t", index=False
    )
    return directory / "counts.tsv", directory / "samples.tsv"


def r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "suppressPackageStartupMessages(library(DESeq2))"], capture_output=True, text=True
    )
    return probe.returncode == 0


# --------------------------------------------------------------------------- workflows
def snakemake_command() -> str:
    candidate = Path(sys.executable).with_name("snakemake")
    return str(candidate) if candidate.exists() else shutil.which("snakemake") or "snakemake"


def run_workflow(workdir: Path) -> dict:
    command = [
        snakemake_command(), "-s", str(SNAKEFILE), "-d", str(workdir),
        "--configfile", str(workdir / "config.yaml"), "--cores", "2", "--quiet", "all",
    ]
    return measure(command, env=dict(os.environ, PYTHONHASHSEED="0"))


def example_workdir(base: Path) -> Path:
    workdir = base / "example"
    (workdir / "config").mkdir(parents=True)
    shutil.copytree(ROOT / "resources" / "example", workdir / "resources" / "example")
    shutil.copy(ROOT / "config" / "samples.tsv", workdir / "config" / "samples.tsv")
    shutil.copy(ROOT / "config" / "config.yaml", workdir / "config.yaml")
    return workdir


def qpcr_workdir(base: Path, paths: list[Path], sheet: Path) -> Path:
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
    return {
        "assay": assay, "size": size, "size_unit": unit, "step": step, "engine": engine,
        "wall_s": round(measured["wall_s"], 3), "cpu_s": round(measured["cpu_s"], 3),
        "peak_mb": round(measured["peak_mb"], 1),
        "step_wall_s": round(measured["step_wall_s"], 3) if "step_wall_s" in measured else np.nan,
        "step_cpu_s": round(measured["step_cpu_s"], 3) if "step_cpu_s" in measured else np.nan,
        "r_ratio": np.nan, "load_before": before, "note": note,
    }


def log(message: str) -> None:
    print(f"[benchmark {time.strftime('%H:%M:%S')} load {load():.2f}] {message}", file=sys.stderr, flush=True)


def bench_qpcr(work: Path, plates: int, with_workflow: bool) -> list[dict]:
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


def machine() -> pd.DataFrame:
    model = ""
    if Path("/proc/cpuinfo").exists():
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    versions = {}
    for package in ("fibroskin", "snakemake", "pydeseq2", "pandas", "numpy", "scipy"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # noqa: BLE001 - a missing package is just not listed
            versions[package] = "not installed"
    r_version = ""
    if shutil.which("Rscript"):
        r_version = subprocess.run(
            ["Rscript", "-e", "cat(R.version.string, '; DESeq2', as.character(packageVersion('DESeq2')))"],
            capture_output=True, text=True,
        ).stdout.strip()
    items = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "nproc": os.cpu_count(), "memory_gb": round(memory_gb, 1),
        "cpu_model": model, "python": platform.python_version(), "platform": platform.platform(),
        "r": r_version, **versions,
    }
    return pd.DataFrame({"item": list(items), "value": [str(v) for v in items.values()]})


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small subset: qPCR 10 plates, RNA-seq 12 samples")
    parser.add_argument("--out", type=Path, default=Path("results/benchmark/benchmark.tsv"), help="TSV to write")
    parser.add_argument("--qpcr-plates", type=int, nargs="*", help="plate counts (default 10 100 1000; --quick 10)")
    parser.add_argument("--rnaseq-samples", type=int, nargs="*", help="sample counts (default 12 100 500; --quick 12)")
    parser.add_argument("--stock-max-samples", type=int, default=12,
                        help="run the stock pydeseq2 engine up to this many samples (default 12; 0: never; "
                        "100 takes tens of minutes on 2 cores)")
    parser.add_argument("--no-r", action="store_true", help="skip R DESeq2 even when installed")
    parser.add_argument("--no-workflow", action="store_true", help="skip the whole-workflow runs")
    parser.add_argument("--keep", type=Path, help="keep the generated data and runs in this directory")
    args = parser.parse_args(argv)

    plates = args.qpcr_plates if args.qpcr_plates is not None else ([10] if args.quick else [10, 100, 1000])
    samples = args.rnaseq_samples if args.rnaseq_samples is not None else ([12] if args.quick else [12, 100, 500])
    stock_max = args.stock_max_samples
    with_r = not args.no_r and r_available()
    if not with_r and not args.no_r:
        log("Rscript with DESeq2 not found: no R comparison (apt-get install r-bioc-deseq2)")

    work = args.keep or Path(tempfile.mkdtemp(prefix="fibroskin-benchmark-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    try:
        if not args.no_workflow:
            log("bundled example: whole workflow, cold")
            before = load()
            measured = run_workflow(example_workdir(work))
            rows.append(row("example", 12, "samples", "workflow", measured, before,
                            note="bundled example (qPCR + RNA-seq), cold, --cores 2"))
        for count in plates:
            rows.extend(bench_qpcr(work, count, with_workflow=not args.no_workflow))
        for count in samples:
            rows.extend(bench_rnaseq(work, count, stock=count <= stock_max, with_r=with_r))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    table = pd.DataFrame(rows, columns=COLUMNS)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, sep="\t", index=False, na_rep="NA")
    machine().to_csv(args.out.with_name("machine.tsv"), sep="\t", index=False)
    figures = figure(table[table["assay"] != "example"], args.out.with_suffix(""))
    print(table.to_string(index=False))
    print(f"\nwrote {args.out}, {args.out.with_name('machine.tsv')}, {', '.join(str(p) for p in figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
