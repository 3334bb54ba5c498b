"""Seeded synthetic inputs for the benchmarks: qPCR plates, count tables, their sample sheets.

- qPCR (:func:`write_qpcr`): ``P`` plates of 384 wells in the long Cq format (one TSV:
  plate, well, sample, target, cq), 16 samples per plate x 8 targets (5 markers, 3
  reference genes) x 3 technical replicates, about 1% ``Undetermined``.
- RNA-seq (:func:`write_counts`, :func:`write_engine_counts`): negative-binomial counts,
  10% of genes changed, two groups, as a gene x sample TSV.
- RNA-seq cohorts (:func:`write_example_dataset`): R DESeq2's ``makeExampleDESeqDataSet``
  model (log2 intercepts ~ N(4, 2), dispersion ``4 / mean + 0.1``, condition A then B),
  with a condition effect ~ N(0, ``beta_sd``), written gene chunk by gene chunk so that
  thousands of samples never sit in memory at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

MARKERS = ["TGFB1", "COL1A1", "COL1A2", "COL3A1", "CCN2"]
REFERENCES = ["GAPDH", "ACTB", "RPLP0"]
SAMPLES_PER_PLATE = 16
REPLICATES = 3
N_GENES = 20_000


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
    """Negative-binomial counts (genes x samples TSV, Ensembl-like IDs) and their sample sheet.

    Groups ``healthy`` / ``lesional`` alternate; the benchmark's RNA-seq steps read these.
    """
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


def write_engine_counts(workdir: Path, samples: int, genes: int, seed: int) -> None:
    """Counts and sheet of the DE-engine comparison: ``counts.tsv`` (genes ``g0``...) and ``samples.tsv``.

    Groups ``A`` / ``B`` alternate; drawn sample-major (its own stream of random numbers,
    so results stay comparable with earlier runs of the comparison).
    """
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


def write_example_dataset(
    directory: Path,
    samples: int,
    genes: int,
    seed: int = 17,
    beta_sd: float = 0.5,
    chunk_genes: int = 2000,
) -> tuple[Path, Path]:
    """Counts as R DESeq2's ``makeExampleDESeqDataSet(n = genes, m = samples, betaSD = beta_sd)``.

    R's model: per gene, log2 mean ``beta0 ~ N(4, 2)`` and condition effect ``beta1 ~ N(0,
    beta_sd)``; dispersion ``4 / 2^beta0 + 0.1``; the first ``ceiling(m / 2)`` samples are
    condition ``A``, the rest ``B``; size factors 1; counts negative binomial. (NumPy's
    random numbers, not R's: the same model, other draws.) Written as ``counts.tsv``
    (``gene``, then ``sample0001`` ...) and ``samples.tsv`` (``sample``, ``condition``),
    ``chunk_genes`` genes at a time.

    Returns
    -------
    counts, samples
        The two paths.
    """
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"sample{index + 1:04d}" for index in range(samples)]
    is_b = np.arange(samples) >= -(-samples // 2)
    pd.DataFrame({"sample": names, "condition": np.where(is_b, "B", "A")}).to_csv(
        directory / "samples.tsv", sep="\t", index=False
    )
    counts_path = directory / "counts.tsv"
    with open(counts_path, "w", newline="\n") as handle:
        handle.write("\t".join(["gene", *names]) + "\n")
        for start in range(0, genes, chunk_genes):
            size = min(chunk_genes, genes - start)
            intercept = rng.normal(4.0, 2.0, size)
            effect = rng.normal(0.0, beta_sd, size)
            dispersion = 4.0 / 2.0**intercept + 0.1
            mu = 2.0 ** (intercept[:, None] + effect[:, None] * is_b[None, :])
            shape = 1.0 / dispersion[:, None]
            counts = rng.negative_binomial(shape, shape / (shape + mu))
            table = pd.DataFrame(counts, columns=names)
            table.insert(0, "gene", [f"gene{index + 1:06d}" for index in range(start, start + size)])
            table.to_csv(handle, sep="\t", index=False, header=False, lineterminator="\n")
    return counts_path, directory / "samples.tsv"
