"""The whole RNA-seq workflow against R DESeq2 on the same files, side by side (``fibroskin benchmark``).

What a user waits for: a cold ``snakemake --cores 2`` run to the results table
(``results/<contrast>/rnaseq/deseq2_results.tsv``: validation, import, fit and test), against
an ``Rscript`` reading the same count file and sample sheet, prefiltering as the workflow
does (at least 10 reads in at least as many samples as the smallest group has), and
running ``DESeq()`` and ``results(alpha = 0.05)``. Both are child processes measured whole
(:func:`fibroskin.benchmarking.measure.measure`: wall and CPU time of the process tree,
peak resident memory of its largest process), and their calls are compared gene by gene.

Data sets: R DESeq2's ``makeExampleDESeqDataSet`` model
(:func:`fibroskin.benchmarking.synthetic.write_example_dataset`) at several sizes, and the
airway table (``../shared/data/airway``, ``~celltype + dex``) when present. Above
``r_max_samples`` R would take hours: the workflow runs on the whole table, and both run on a
balanced subset of ``r_max_samples`` samples for the comparison.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from fibroskin.benchmarking.measure import load, log, measure, snakemake_command
from fibroskin.benchmarking.synthetic import write_example_dataset
from fibroskin.checkout import require_workflow

#: R's side: the same files, the workflow's prefilter, DESeq() + results().
R_DESEQ2 = r"""
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
counts_path <- args[1]; sheet_path <- args[2]; design <- as.formula(args[3])
column <- args[4]; reference <- args[5]; target <- args[6]; out <- args[7]
separator <- if (grepl("\\.csv(\\.gz)?$", counts_path)) "," else "\t"
counts <- as.matrix(read.delim(counts_path, sep = separator, row.names = 1, check.names = FALSE))
sheet <- read.delim(sheet_path, row.names = 1, colClasses = "character")[colnames(counts), , drop = FALSE]
for (name in all.vars(design)) sheet[[name]] <- factor(sheet[[name]])
sheet[[column]] <- relevel(sheet[[column]], ref = reference)
keep <- rowSums(counts >= 10) >= min(table(sheet[[column]]))
dds <- DESeqDataSetFromMatrix(counts[keep, ], sheet, design = design)
dds <- DESeq(dds, quiet = TRUE)
res <- results(dds, contrast = c(column, target, reference), alpha = 0.05)
write.csv(data.frame(gene = rownames(res), baseMean = res$baseMean, log2FoldChange = res$log2FoldChange,
                     padj = res$padj), out, row.names = FALSE)
"""


@dataclass
class Dataset:
    """Files and design of one comparison."""

    name: str
    counts: Path
    samples: Path
    design: str
    column: str
    reference: str
    target: str
    num_samples: int
    num_genes: int
    note: str


def simulated(directory: Path, samples: int, genes: int) -> Dataset:
    """``makeExampleDESeqDataSet``'s model, ``samples`` x ``genes``, condition B vs A."""
    counts, sheet = write_example_dataset(directory, samples, genes)
    return Dataset(f"simulated_{samples}x{genes}", counts, sheet, "~condition", "condition", "A", "B",
                   samples, genes, f"{samples} samples x {genes:,} genes (makeExampleDESeqDataSet model)")


def airway(directory: Path, shared: Path) -> Dataset | None:
    """The airway table (treated vs control, ``~celltype + dex``), or ``None`` when absent."""
    counts = shared / "airway" / "airway_rawcounts.csv.gz"
    metadata = shared / "airway" / "airway_metadata.csv"
    if not counts.exists() or not metadata.exists():
        return None
    directory.mkdir(parents=True, exist_ok=True)
    sheet = pd.read_csv(metadata, dtype=str).rename(columns={"id": "sample"})[["sample", "dex", "celltype"]]
    sheet.to_csv(directory / "samples.tsv", sep="\t", index=False)
    genes = sum(len(block) for block in pd.read_csv(counts, usecols=[0], chunksize=100_000))
    return Dataset("airway", counts, directory / "samples.tsv", "~celltype + dex", "dex", "control", "treated",
                   len(sheet), genes, f"airway (Himes 2014), {len(sheet)} samples x {genes:,} genes, ~celltype + dex")


def balanced_subset(dataset: Dataset, directory: Path, samples: int) -> Dataset:
    """The first ``samples / 2`` samples of each condition, as files of their own."""
    sheet = pd.read_csv(dataset.samples, sep="\t", dtype=str)
    per_group = samples // 2
    chosen = pd.concat([group.head(per_group) for _, group in sheet.groupby(dataset.column, sort=True)])
    chosen = sheet[sheet["sample"].isin(chosen["sample"])]
    directory.mkdir(parents=True, exist_ok=True)
    chosen.to_csv(directory / "samples.tsv", sep="\t", index=False)
    columns = ["gene", *chosen["sample"]]
    with open(directory / "counts.tsv", "w", newline="\n") as handle:
        handle.write("\t".join(columns) + "\n")
        for block in pd.read_csv(dataset.counts, sep="\t", usecols=columns, chunksize=5000):
            block[columns].to_csv(handle, sep="\t", index=False, header=False, lineterminator="\n")
    return Dataset(f"{dataset.name}_subset{len(chosen)}", directory / "counts.tsv", directory / "samples.tsv",
                   dataset.design, dataset.column, dataset.reference, dataset.target, len(chosen),
                   dataset.num_genes, f"balanced subset of {len(chosen)} samples of {dataset.note}")


def workflow_directory(directory: Path, dataset: Dataset) -> Path:
    """A fresh working directory whose config runs the RNA-seq branch on ``dataset``."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    config = {
        "samples": str(dataset.samples),
        "contrasts": {"benchmark": {"column": dataset.column, "reference": dataset.reference,
                                    "target": dataset.target}},
        "rnaseq": {"counts": str(dataset.counts), "design": dataset.design},
    }
    (directory / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return directory


def run_workflow(workdir: Path, target: str | None) -> dict:
    """``snakemake --cores 2`` on ``workdir``, cold, to ``target`` (``None``: everything), measured."""
    command = [
        snakemake_command(), "-s", str(require_workflow()), "-d", str(workdir),
        "--configfile", str(workdir / "config.yaml"), "--cores", "2", "--quiet", "all",
    ]
    if target is not None:
        command += ["--", target]
    return measure(command, env=dict(os.environ, PYTHONHASHSEED="0"))


def run_r(dataset: Dataset, output: Path) -> dict:
    """The ``Rscript`` of :data:`R_DESEQ2` on the dataset's files, measured."""
    script = output.with_suffix(".R")
    script.write_text(R_DESEQ2)
    return measure(["Rscript", str(script), str(dataset.counts), str(dataset.samples), dataset.design,
                    dataset.column, dataset.reference, dataset.target, str(output)])


def agreement(ours_path: Path, r_path: Path) -> dict:
    """Calls (padj < 0.05) and NA pattern of our results table against R's, and the largest |dLFC|."""
    ours = pd.read_csv(ours_path, sep="\t", dtype={"gene": str}).set_index("gene")
    r = pd.read_csv(r_path, dtype={"gene": str}).set_index("gene")
    ours = ours.loc[r.index]
    called, r_called = ours["padj"] < 0.05, r["padj"] < 0.05
    expressed = r["baseMean"] >= 10
    dlfc = (ours["log2FoldChange"] - r["log2FoldChange"]).abs()[expressed]
    union = int((called | r_called).sum())
    return {
        "calls": int(called.sum()), "r_calls": int(r_called.sum()),
        "jaccard": round(float((called & r_called).sum() / union), 6) if union else 1.0,
        "na_match": round(float((ours["padj"].isna() == r["padj"].isna()).mean()), 6),
        "max_dlfc": float(f"{np.nanmax(dlfc.to_numpy()):.3g}") if len(dlfc) else 0.0,
    }


def compare(dataset: Dataset, work: Path, row, with_r: bool, whole_workflow: bool = False) -> list[dict]:
    """Rows for ``dataset``: our run to the results table, R's run, and (optionally) our whole workflow."""
    target = "results/benchmark/rnaseq/deseq2_results.tsv"
    rows = []
    workdir = workflow_directory(work / f"workflow_{dataset.name}", dataset)
    log(f"RNA-seq workflow, {dataset.note}: snakemake to the results table")
    before = load()
    ours = run_workflow(workdir, target)
    rows.append(row("rnaseq_workflow", dataset.num_samples, "samples", "workflow_to_results", ours, before,
                    engine="fibroskin", note=dataset.note))
    if with_r:
        log(f"RNA-seq workflow, {dataset.note}: Rscript DESeq() + results()")
        before = load()
        r_output = work / f"r_{dataset.name}.csv"
        r_run = run_r(dataset, r_output)
        rows.append(row("rnaseq_workflow", dataset.num_samples, "samples", "r_deseq2", r_run, before,
                        engine="R DESeq2", note=dataset.note))
        rows[0]["r_ratio"] = round(ours["wall_s"] / r_run["wall_s"], 3)
        rows[0]["note"] += "; vs R: " + ", ".join(f"{k} {v}" for k, v in agreement(workdir / target, r_output).items())
    if whole_workflow:
        log(f"RNA-seq workflow, {dataset.note}: the whole workflow (figures, VST, report tables)")
        workdir = workflow_directory(work / f"workflow_all_{dataset.name}", dataset)
        before = load()
        rows.append(row("rnaseq_workflow", dataset.num_samples, "samples", "workflow_all", run_workflow(workdir, None),
                        before, engine="fibroskin", note=dataset.note))
    return rows
