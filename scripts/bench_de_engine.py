"""Time the DE step of fibroskin's engines and of R DESeq2 on the same count files.

Seeded synthetic negative-binomial counts (two groups, 10% of genes changed) are written
once to ``--workdir`` as ``counts.tsv`` (genes x samples) and ``samples.tsv``; every
engine then runs as a fresh child process that reads those files, fits, tests
(``condition B vs A``, Wald, Cook's, independent filtering at ``--alpha``) and writes
``results_<engine>.csv``. Wall time, CPU time (``resource.getrusage`` of the children,
which includes joblib/loky workers reaped through the child) and peak RSS (largest single
process) are those of the whole child process, imports and file reading included.
``os.getloadavg()`` is recorded before and after each run (the machine may be shared).

Engines: ``fast`` (``fibroskin.rnaseq``, ``engine="fast"``: the workflow's default),
``stock`` (``engine="pydeseq2"``), ``r`` (``Rscript``: ``DESeq()`` + ``results()``; needs
R with DESeq2, only for this comparison). No shrinkage in any engine.

Example::

    python scripts/bench_de_engine.py --samples 12 --genes 20000 --engines fast r
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

import numpy as np
import pandas as pd

PY_CHILD = r"""
import sys
import pandas as pd
from fibroskin import rnaseq
engine, workdir, n_cpus, alpha = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
counts = pd.read_csv(f"{workdir}/counts.tsv", sep="\t", index_col=0)
sheet = pd.read_csv(f"{workdir}/samples.tsv", sep="\t")
dds = rnaseq.fit_deseq(counts, sheet, "~condition", engine=engine, n_cpus=n_cpus,
                       reference_levels={"condition": "A"})
res = rnaseq.test_contrast(dds, "condition", "A", "B", alpha=alpha, shrink=False)
res.drop(columns=["symbol", "log2FoldChange_shrunk"]).to_csv(
    f"{workdir}/results_{engine}.csv", index=False)
"""

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

# Runs the engine's command and reports the resources of its own children only: ru_maxrss
# of RUSAGE_CHILDREN is a maximum over every child a process ever reaped, so each engine
# gets a fresh measuring process.
MEASURE = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(sys.argv[1:], check=True)
wall = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}))
"""

ENGINES = ("fast", "stock", "r")


def write_counts(workdir: Path, samples: int, genes: int, seed: int) -> None:
    """Write seeded synthetic counts (genes x samples) and the sample sheet."""
    rng = np.random.default_rng(seed)
    base = rng.lognormal(mean=4.0, sigma=2.0, size=genes)
    disp = 0.02 + 2.0 / base
    lfc = np.where(rng.uniform(size=genes) < 0.1, rng.normal(0, 1.5, size=genes), 0.0)
    group = np.arange(samples) % 2
    size_factors = rng.lognormal(0, 0.2, size=samples)
    mu = size_factors[:, None] * base[None, :] * np.exp(np.outer(group, lfc))
    size = 1.0 / disp
    counts = rng.negative_binomial(size[None, :], size[None, :] / (size[None, :] + mu))
    names = [f"s{i}" for i in range(samples)]
    table = pd.DataFrame(counts.T, index=pd.Index([f"g{j}" for j in range(genes)], name="gene"),
                         columns=names)
    table.to_csv(workdir / "counts.tsv", sep="\t")
    pd.DataFrame({"sample": names, "condition": np.where(group == 1, "B", "A")}).to_csv(
        workdir / "samples.tsv", sep="\t", index=False)


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
        command = [sys.executable, "-c", PY_CHILD, python_engine, str(workdir), str(n_cpus), str(alpha)]
    load_before = os.getloadavg()
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], check=True,
                         capture_output=True, text=True)
    usage = json.loads(out.stdout.strip().splitlines()[-1])
    if engine == "stock":  # the child names its file after the rnaseq engine
        os.replace(workdir / "results_pydeseq2.csv", workdir / "results_stock.csv")
    return {
        "engine": engine,
        "wall_s": round(usage["wall"], 2),
        # the child and its reaped descendants (joblib/loky workers of the stock engine)
        "cpu_s": round(usage["cpu"], 2),
        # largest single process of the child's tree (KiB on Linux)
        "peak_rss_mib": round(usage["maxrss_kib"] / 1024, 1),
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


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, write the counts, run the engines, print TSV rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=12)
    parser.add_argument("--genes", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-cpus", type=int, default=2)
    parser.add_argument("--alpha", type=float, default=0.1, help="R's results() default")
    parser.add_argument("--engines", nargs="+", default=["fast", "r"], choices=ENGINES)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the files here (default: a temporary directory)")
    parser.add_argument("--no-header", action="store_true")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_de_"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        write_counts(workdir, args.samples, args.genes, args.seed)
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


if __name__ == "__main__":
    main()
