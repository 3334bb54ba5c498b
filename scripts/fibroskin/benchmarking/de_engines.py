"""``fibroskin bench-de-engine``: the DE step of fibroskin's engines and of R DESeq2 on the same files.

Seeded synthetic negative-binomial counts (two groups, 10% of genes changed;
:func:`fibroskin.benchmarking.synthetic.write_engine_counts`) are written once to
``--workdir`` as ``counts.tsv`` (genes x samples) and ``samples.tsv``; every engine then
runs as a fresh child process that reads those files, fits, tests (``condition B vs A``,
Wald, Cook's, independent filtering at ``--alpha``) and writes ``results_<engine>.csv``.
Wall time, CPU time (``resource.getrusage`` of the children, which includes joblib/loky
workers reaped through the child) and peak RSS (largest single process) are those of the
whole child process, imports and file reading included. ``os.getloadavg()`` is recorded
before and after each run (the machine may be shared).

Engines: ``fast`` (``fibroskin.rnaseq``, ``engine="fast"``: the workflow's default),
``stock`` (``engine="pydeseq2"``), ``r`` (``Rscript``: ``DESeq()`` + ``results()``; needs
R with DESeq2, only for this comparison). No shrinkage in any engine.

Example::

    fibroskin bench-de-engine --samples 12 --genes 20000 --engines fast r
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from fibroskin.benchmarking.measure import WRAPPER
from fibroskin.benchmarking.synthetic import write_engine_counts

R_CHILD = r"""
args <- commandArgs(trailingOnly = TRUE)
workdir <- args[1]; alpha <- as.numeric(args[2])
suppressPackageStartupMessages(library(DESeq2))
counts <- as.matrix(read.delim(file.path(workdir, "counts.tsv"), row.names = 1, check.names = FALSE))
sheet <- read.delim(file.path(workdir, "samples.tsv"))
rownames(sheet) <- sheet$sample
sheet$condition <- factor(sheet$condition, levels = c("A", "B"))
dds <- DESeqDataSetFromMatrix(counts, sheet[colnames(counts), , drop = FALSE], ~condition)
dds <- DESeq(dds, quiet = TRUE)
res <- results(dds, contrast = c("condition", "B", "A"), alpha = alpha)
out <- data.frame(gene = rownames(res), baseMean = res$baseMean,
                  log2FoldChange = res$log2FoldChange, lfcSE = res$lfcSE, stat = res$stat,
                  pvalue = res$pvalue, padj = res$padj)
write.csv(out, file.path(workdir, "results_r.csv"), row.names = FALSE)
"""

ENGINES = ("fast", "stock", "r")


def fit_python_engine(engine: str, workdir: Path, n_cpus: int, alpha: float) -> None:
    """The child of a Python engine: read the files, fit, test, write ``results_<engine>.csv``."""
    from fibroskin import rnaseq

    counts = pd.read_csv(workdir / "counts.tsv", sep="\t", index_col=0)
    sheet = pd.read_csv(workdir / "samples.tsv", sep="\t")
    dds = rnaseq.fit_deseq(counts, sheet, "~condition", engine=engine, n_cpus=n_cpus,
                           reference_levels={"condition": "A"})
    results = rnaseq.test_contrast(dds, "condition", "A", "B", alpha=alpha, shrink=False)
    results.drop(columns=["symbol", "log2FoldChange_shrunk"]).to_csv(workdir / f"results_{engine}.csv", index=False)


def run_engine(engine: str, workdir: Path, n_cpus: int, alpha: float) -> dict:
    """Run one engine as a child process on the files in ``workdir`` and measure it.

    Parameters
    ----------
    engine : str
        ``fast``, ``stock`` or ``r``.
    workdir : Path
        Directory holding ``counts.tsv`` and ``samples.tsv``.
    n_cpus : int
        ``n_cpus`` of the stock engine (the fast engine and R use one process).
    alpha : float
        ``results(alpha=)`` / ``test_contrast(alpha=)``.

    Returns
    -------
    dict
        Process wall time, CPU time, peak RSS (MiB), load averages before/after.
    """
    if engine == "r":
        command = ["Rscript", "-e", R_CHILD, str(workdir), str(alpha)]
    else:
        python_engine = "pydeseq2" if engine == "stock" else "fast"
        command = [sys.executable, "-m", "fibroskin.benchmarking.de_engines", python_engine, str(workdir),
                   str(n_cpus), str(alpha)]
    load_before = os.getloadavg()
    completed = subprocess.run([sys.executable, "-c", WRAPPER, *command], check=True, capture_output=True, text=True)
    usage = json.loads(completed.stdout.strip().splitlines()[-1])
    if usage["returncode"] != 0:
        raise RuntimeError(f"engine {engine} failed:\n{usage['stdout'][-3000:]}\n{usage['stderr']}")
    if engine == "stock":  # the child names its file after the rnaseq engine
        os.replace(workdir / "results_pydeseq2.csv", workdir / "results_stock.csv")
    return {
        "engine": engine,
        "wall_s": round(usage["wall_s"], 2),
        # the child and its reaped descendants (joblib/loky workers of the stock engine)
        "cpu_s": round(usage["cpu_s"], 2),
        # largest single process of the child's tree
        "peak_rss_mib": round(usage["peak_mb"], 1),
        "load_before": " ".join(f"{v:.2f}" for v in load_before),
        "load_after": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def compare(workdir: Path, engine: str, reference: str, alpha: float) -> dict:
    """Agreement of two engines' results: Jaccard of ``padj < alpha`` calls, NA pattern, max |dLFC|."""
    ours = pd.read_csv(workdir / f"results_{engine}.csv", index_col="gene")
    ref = pd.read_csv(workdir / f"results_{reference}.csv", index_col="gene").loc[ours.index]
    a, b = ours["padj"] < alpha, ref["padj"] < alpha
    expressed = ref["baseMean"] >= 10
    dlfc = (ours["log2FoldChange"] - ref["log2FoldChange"]).abs()[expressed]
    return {
        "jaccard": round(float((a & b).sum() / max((a | b).sum(), 1)), 5),
        "na_match": round(float((ours["padj"].isna() == ref["padj"].isna()).mean()), 5),
        "max_dlfc_bm10": float(f"{dlfc.max():.3g}"),
        "n_calls": int(a.sum()),
        "n_calls_ref": int(b.sum()),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``fibroskin bench-de-engine``."""
    parser.add_argument("--samples", type=int, default=12)
    parser.add_argument("--genes", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-cpus", type=int, default=2)
    parser.add_argument("--alpha", type=float, default=0.1, help="R's results() default")
    parser.add_argument("--engines", nargs="+", default=["fast", "r"], choices=ENGINES)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the files here (default: a temporary directory)")
    parser.add_argument("--no-header", action="store_true")


def run(args: argparse.Namespace) -> int:
    """Write the counts, run the engines, print one TSV row per engine."""
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_de_"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        write_engine_counts(workdir, args.samples, args.genes, args.seed)
        rows = []
        for engine in args.engines:
            row = {"samples": args.samples, "genes": args.genes}
            row.update(run_engine(engine, workdir, args.n_cpus, args.alpha))
            rows.append(row)
        if "r" in args.engines:
            r_row = next(row for row in rows if row["engine"] == "r")
            for row in rows:
                row["wall_vs_r"] = round(row["wall_s"] / r_row["wall_s"], 3)
                row["rss_vs_r"] = round(row["peak_rss_mib"] / r_row["peak_rss_mib"], 3)
                if row["engine"] != "r":
                    row["vs_r"] = json.dumps(compare(workdir, row["engine"], "r", args.alpha))
        if not args.no_header:
            print("\t".join(rows[0]))
        for row in rows:
            print("\t".join(str(v) for v in row.values()))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    # The child of a Python engine: ENGINE WORKDIR N_CPUS ALPHA.
    fit_python_engine(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
