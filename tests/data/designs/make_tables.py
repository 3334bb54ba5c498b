"""Simulated RNA-seq tables for the design tests (tests/deseq2/test_designs.py), seeded.

Each case is a count table (genes x samples) and a sample sheet written to this folder as
``<case>_counts.tsv.gz`` and ``<case>_samples.tsv``. The tables are made to be hard, not
clean: a third of the genes have a mean of one to two reads (many zeros), cells are
unbalanced, some genes carry a single outlying count, dispersions vary widely. R DESeq2's
answers on them come from ``make_references.R`` (run after this script).

Run from the repository root: ``python tests/data/designs/make_tables.py``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def gene_means(rng: np.random.Generator, n_genes: int) -> np.ndarray:
    """Base means: a third at 1-2 reads, the rest log-normal (median ~100)."""
    low = rng.uniform(1.0, 2.0, n_genes // 3)
    high = rng.lognormal(4.5, 1.6, n_genes - low.size)
    means = np.concatenate([low, high])
    return means[rng.permutation(n_genes)]


def negative_binomial(rng: np.random.Generator, mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """NB counts with the given means (genes x samples) and per-gene dispersions."""
    size = 1.0 / dispersion[:, None]
    return rng.negative_binomial(size, size / (size + mean))


def dispersions(rng: np.random.Generator, means: np.ndarray) -> np.ndarray:
    """Trend ``0.02 + 2 / mean`` times log-normal scatter."""
    return (0.02 + 2.0 / means) * rng.lognormal(0.0, 0.6, means.size)


def effects(rng: np.random.Generator, n_genes: int, share: float, sd: float) -> np.ndarray:
    """log2 effects: ``share`` of the genes N(0, sd), the rest 0."""
    return np.where(rng.random(n_genes) < share, rng.normal(0.0, sd, n_genes), 0.0)


def with_outliers(rng: np.random.Generator, counts: np.ndarray, share: float) -> np.ndarray:
    """Multiply one count of ``share`` of the genes by 10-30 (a single outlying sample)."""
    counts = counts.copy()
    genes = np.flatnonzero(rng.random(counts.shape[0]) < share)
    samples = rng.integers(0, counts.shape[1], genes.size)
    counts[genes, samples] = counts[genes, samples] * rng.integers(10, 31, genes.size) + rng.integers(5, 50, genes.size)
    return counts


def write(case: str, counts: np.ndarray, samples: pd.DataFrame) -> None:
    genes = [f"gene{i + 1:05d}" for i in range(counts.shape[0])]
    table = pd.DataFrame(counts.astype(np.int64), index=pd.Index(genes, name="gene"), columns=samples["sample"])
    with gzip.GzipFile(HERE / f"{case}_counts.tsv.gz", "wb", mtime=0) as handle:
        handle.write(table.to_csv(sep="\t").encode())
    samples.to_csv(HERE / f"{case}_samples.tsv", sep="\t", index=False)


def log2_means(base: np.ndarray, terms: list[np.ndarray]) -> np.ndarray:
    """Means of genes x samples: base times 2 ** (sum of per-sample log2 effect terms)."""
    return base[:, None] * 2.0 ** np.sum(terms, axis=0)


def batch_condition(rng: np.random.Generator) -> None:
    """~batch + condition, 10 samples; batch A holds one lesional sample, batch B one healthy."""
    batch = ["A"] * 5 + ["B"] * 5
    condition = ["healthy"] * 4 + ["lesional"] + ["healthy"] + ["lesional"] * 4
    samples = pd.DataFrame({"sample": [f"s{i + 1:02d}" for i in range(10)], "batch": batch, "condition": condition})
    n = 3000
    base = gene_means(rng, n)
    lfc, batch_effect = effects(rng, n, 0.15, 1.5), effects(rng, n, 0.3, 0.7)
    lesional = np.array([c == "lesional" for c in condition], float)
    in_b = np.array([b == "B" for b in batch], float)
    mean = log2_means(base, [lfc[:, None] * lesional, batch_effect[:, None] * in_b])
    write("batch_condition", with_outliers(rng, negative_binomial(rng, mean, dispersions(rng, base)), 0.02), samples)


def three_levels(rng: np.random.Generator) -> None:
    """~batch + condition with healthy / non-lesional / lesional (5 / 4 / 5), two unbalanced batches."""
    condition = ["healthy"] * 5 + ["non-lesional"] * 4 + ["lesional"] * 5
    batch = ["b1", "b1", "b1", "b2", "b2", "b1", "b2", "b2", "b2", "b1", "b1", "b1", "b1", "b2"]
    samples = pd.DataFrame({"sample": [f"t{i + 1:02d}" for i in range(14)], "batch": batch, "condition": condition})
    n = 2500
    base = gene_means(rng, n)
    nl, les, batch_effect = effects(rng, n, 0.1, 1.0), effects(rng, n, 0.2, 1.5), effects(rng, n, 0.3, 0.6)
    mean = log2_means(base, [
        nl[:, None] * np.array([c == "non-lesional" for c in condition], float),
        les[:, None] * np.array([c == "lesional" for c in condition], float),
        batch_effect[:, None] * np.array([b == "b2" for b in batch], float),
    ])
    write("three_levels", with_outliers(rng, negative_binomial(rng, mean, dispersions(rng, base)), 0.02), samples)


def paired(rng: np.random.Generator, case: str, patients: int, column: str, levels: tuple[str, str], n: int) -> None:
    """~patient + <column>: each patient gives one sample of each level (TCGA-like, prostate-like)."""
    rows = [{"sample": f"{case[:2]}{p + 1:02d}_{level}", "patient": f"P{p + 1:02d}", column: level}
            for p in range(patients) for level in levels]
    samples = pd.DataFrame(rows)
    base = gene_means(rng, n)
    lfc = effects(rng, n, 0.2, 1.2)
    patient_effect = rng.normal(0.0, 0.5, (n, patients))
    index = np.array([int(p[1:]) - 1 for p in samples["patient"]])
    second = np.array([v == levels[1] for v in samples[column]], float)
    mean = log2_means(base, [lfc[:, None] * second, patient_effect[:, index]])
    write(case, with_outliers(rng, negative_binomial(rng, mean, dispersions(rng, base)), 0.01), samples)


def continuous(rng: np.random.Generator) -> None:
    """~age + condition, 12 samples, age a continuous covariate (years)."""
    condition = ["healthy", "lesional"] * 6
    age = rng.integers(22, 80, 12).astype(float)
    samples = pd.DataFrame({"sample": [f"c{i + 1:02d}" for i in range(12)], "age": age.astype(int), "condition": condition})
    n = 2000
    base = gene_means(rng, n)
    lfc, slope = effects(rng, n, 0.15, 1.2), effects(rng, n, 0.2, 0.03)
    mean = log2_means(base, [lfc[:, None] * np.array([c == "lesional" for c in condition], float),
                             slope[:, None] * (age - 50.0)[None, :]])
    write("continuous", negative_binomial(rng, mean, dispersions(rng, base)), samples)


def interaction(rng: np.random.Generator) -> None:
    """~site + condition + site:condition: 2 body sites x 2 conditions, cells of 3, 3, 2 and 4."""
    cells = [("arm", "healthy", 3), ("arm", "lesional", 3), ("back", "healthy", 2), ("back", "lesional", 4)]
    rows = [{"site": site, "condition": cond} for site, cond, k in cells for _ in range(k)]
    samples = pd.DataFrame(rows)
    samples.insert(0, "sample", [f"i{i + 1:02d}" for i in range(len(samples))])
    n = 2000
    base = gene_means(rng, n)
    lfc, site_effect, inter = effects(rng, n, 0.15, 1.2), effects(rng, n, 0.3, 0.8), effects(rng, n, 0.1, 1.5)
    les = np.array([c == "lesional" for c in samples["condition"]], float)
    back = np.array([s == "back" for s in samples["site"]], float)
    mean = log2_means(base, [lfc[:, None] * les, site_effect[:, None] * back, inter[:, None] * les * back])
    write("interaction", negative_binomial(rng, mean, dispersions(rng, base)), samples)


def nested(rng: np.random.Generator) -> None:
    """Paired lesional / non-lesional skin of 5 patients plus 4 unpaired healthy donors.

    Coded as the DESeq2 vignette's individuals nested within groups: ``group`` (healthy /
    patient), ``ind`` (individual within group; every healthy donor 1, as they are unpaired),
    ``lesion`` (non-lesional / lesional; healthy skin non-lesional); design
    ``~group + group:ind + group:lesion``. ``donor`` and ``condition`` are the plain coding
    (``~donor + condition`` is not full rank).
    """
    rows = []
    for p in range(5):
        for lesion in ("non-lesional", "lesional"):
            rows.append({"donor": f"P{p + 1}", "group": "patient", "ind": str(p + 1), "lesion": lesion,
                         "condition": lesion})
    for h in range(4):
        rows.append({"donor": f"H{h + 1}", "group": "healthy", "ind": "1", "lesion": "non-lesional",
                     "condition": "healthy"})
    samples = pd.DataFrame(rows)
    samples.insert(0, "sample", [f"{r['donor']}{r['lesion'][0]}" for r in rows])
    n = 2000
    base = gene_means(rng, n)
    disease, lfc = effects(rng, n, 0.15, 1.0), effects(rng, n, 0.2, 1.5)
    individual = rng.normal(0.0, 0.4, (n, 9))
    donor_index = np.array([int(d[1:]) - 1 + (0 if d[0] == "P" else 5) for d in samples["donor"]])
    patient = np.array([g == "patient" for g in samples["group"]], float)
    lesional = np.array([v == "lesional" for v in samples["lesion"]], float)
    mean = log2_means(base, [disease[:, None] * patient, lfc[:, None] * lesional,
                             individual[:, donor_index] * patient])
    write("nested", negative_binomial(rng, mean, dispersions(rng, base)), samples)


def outliers(rng: np.random.Generator) -> None:
    """~condition, 8 healthy and 8 lesional samples (>= 7: R replaces outlying counts), many outliers."""
    samples = pd.DataFrame({"sample": [f"o{i + 1:02d}" for i in range(16)],
                            "condition": ["healthy"] * 8 + ["lesional"] * 8})
    n = 2000
    base = gene_means(rng, n)
    lfc = effects(rng, n, 0.15, 1.2)
    mean = log2_means(base, [lfc[:, None] * np.array([c == "lesional" for c in samples["condition"]], float)])
    write("outliers", with_outliers(rng, negative_binomial(rng, mean, dispersions(rng, base)), 0.08), samples)


def main() -> None:
    batch_condition(np.random.default_rng(15001))
    three_levels(np.random.default_rng(15002))
    paired(np.random.default_rng(15003), "tcga_like", 16, "tissue", ("normal", "tumour"), 2000)
    paired(np.random.default_rng(15004), "prostate_like", 10, "prepost", ("pre", "post"), 2000)
    continuous(np.random.default_rng(15005))
    interaction(np.random.default_rng(15006))
    nested(np.random.default_rng(15007))
    outliers(np.random.default_rng(15008))


if __name__ == "__main__":
    main()
