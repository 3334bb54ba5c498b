"""Generate the bundled SIMULATED example cohort (seeded, reproducible).

This is simulated data, not patient data. It mirrors the design of the French multicentre
scleromyxedema study: 6 lesional scleromyxedema skin samples and 6 healthy skin samples,
measured by quantitative RT-PCR in technical triplicate, plus an RNA-seq count table of
the same 12 samples.

qPCR (``qpcr_cq.tsv``, long format: plate, well, sample, target, cq):

- reference genes GAPDH (Cq ~18), ACTB (~17), RPLP0 (~19);
- targets TGFB1 (~25 in healthy skin), COL1A1 (~20), COL1A2 (~21), COL3A1 (~22), CCN2 (~28);
- true log2 fold changes, lesional vs healthy (dCq shifted by minus these):
  TGFB1 +1.5, COL1A1 +2.0, COL1A2 +1.5, COL3A1 +1.2, CCN2 +1.0;
- per-sample RNA input offset shared by all genes (SD 0.5 cycles; cancels in dCq),
  biological SD of each gene 0.35 cycles, technical SD 0.12 cycles;
- two 384-well plates (samples 1-3 of each group on plate 1, 4-6 on plate 2);
- three ``Undetermined`` wells (CCN2 in healthy samples, two in H05, one in H02) and one
  outlying replicate (COL1A1 in L03, +1.6 cycles).

RNA-seq (``counts.tsv``, genes x samples): 2,000 genes; the 16 genes of the marker panel
under their Ensembl gene IDs with version suffixes, the rest named ``SIMGENE0001`` ...;
negative-binomial counts with DESeq2-like dispersion ``0.02 + 1/mean``, library size
factors between 0.6 and 1.5; the five qPCR targets raised in lesional skin by the same log2
fold changes as above, ACTA2/FN1/SERPINE1/COMP/THBS1 by +0.8, and 100 random background
genes changed by log2 fold changes drawn from N(0, 1.5).

Run ``python resources/example/make_example.py`` from the project root to regenerate;
the committed files are its output with the default seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20011201
REFERENCE_CQ = {"GAPDH": 18.0, "ACTB": 17.0, "RPLP0": 19.0}
TARGET_CQ = {"TGFB1": 25.0, "COL1A1": 20.0, "COL1A2": 21.0, "COL3A1": 22.0, "CCN2": 28.0}
LOG2_FOLD_CHANGE = {"TGFB1": 1.5, "COL1A1": 2.0, "COL1A2": 1.5, "COL3A1": 1.2, "CCN2": 1.0}
OTHER_PANEL_LOG2_FOLD_CHANGE = 0.8
N_PER_GROUP = 6
N_GENES = 2000
UNDETERMINED = [("H05", "CCN2", 0), ("H05", "CCN2", 2), ("H02", "CCN2", 1)]
OUTLIER = ("L03", "COL1A1", 1, 1.6)


def sample_sheet() -> pd.DataFrame:
    """12 samples: healthy H01-H06 and lesional L01-L06, each from a different donor."""
    rows = []
    for group, prefix in (("healthy", "H"), ("lesional", "L")):
        for number in range(1, N_PER_GROUP + 1):
            sample = f"{prefix}{number:02d}"
            rows.append(
                {
                    "sample": sample,
                    "condition": group,
                    "patient": f"donor_{sample}",
                    "batch": "run1" if number <= 3 else "run2",
                }
            )
    return pd.DataFrame(rows)


def simulate_qpcr(samples: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Triplicate Cq values for every (sample, gene) on two 384-well plates."""
    genes = list(REFERENCE_CQ) + list(TARGET_CQ)
    rows = []
    well_counter: dict[str, int] = {}
    for sample in samples.itertuples():
        plate = "plate1" if sample.batch == "run1" else "plate2"
        input_offset = rng.normal(0.0, 0.5)
        lesional = sample.condition == "lesional"
        for gene in genes:
            base = REFERENCE_CQ.get(gene, TARGET_CQ.get(gene))
            shift = -LOG2_FOLD_CHANGE.get(gene, 0.0) if lesional else 0.0
            biological = rng.normal(0.0, 0.35) if gene in TARGET_CQ else rng.normal(0.0, 0.1)
            for replicate in range(3):
                cq = base + shift + input_offset + biological + rng.normal(0.0, 0.12)
                if (sample.sample, gene, replicate) == OUTLIER[:3]:
                    cq += OUTLIER[3]
                index = well_counter.get(plate, 0)
                well_counter[plate] = index + 1
                well = f"{'ABCDEFGHIJKLMNOP'[index // 24]}{index % 24 + 1}"
                text = "Undetermined" if (sample.sample, gene, replicate) in UNDETERMINED else f"{cq:.2f}"
                rows.append({"plate": plate, "well": well, "sample": sample.sample, "target": gene, "cq": text})
    return pd.DataFrame(rows)


def simulate_counts(samples: pd.DataFrame, rng: np.random.Generator, panel: pd.DataFrame) -> pd.DataFrame:
    """Negative-binomial counts, genes x samples, markers raised in lesional skin."""
    panel_ids = [f"{gene_id}.{rng.integers(5, 20)}" for gene_id in panel["ensembl_gene_id"]]
    background = [f"SIMGENE{number:04d}" for number in range(1, N_GENES - len(panel_ids) + 1)]
    gene_ids = panel_ids + background
    base_mean = np.exp(rng.normal(np.log(300), 1.6, size=len(gene_ids)))
    panel_mean = {"GAPDH": 40000, "ACTB": 60000, "RPLP0": 30000, "COL1A1": 50000, "COL1A2": 30000,
                  "COL3A1": 25000, "TGFB1": 800, "CCN2": 400}
    for position, symbol in enumerate(panel["symbol"]):
        base_mean[position] = panel_mean.get(symbol, 1500)
    log2_fold_change = np.zeros(len(gene_ids))
    for position, (symbol, role) in enumerate(zip(panel["symbol"], panel["role"])):
        if symbol in LOG2_FOLD_CHANGE:
            log2_fold_change[position] = LOG2_FOLD_CHANGE[symbol]
        elif role == "profibrotic_marker":
            log2_fold_change[position] = OTHER_PANEL_LOG2_FOLD_CHANGE
    changed = rng.choice(np.arange(len(panel_ids), len(gene_ids)), size=100, replace=False)
    log2_fold_change[changed] = rng.normal(0.0, 1.5, size=len(changed))
    size_factors = rng.uniform(0.6, 1.5, size=len(samples))
    lesional = (samples["condition"] == "lesional").to_numpy()
    mean = base_mean[:, None] * size_factors[None, :] * np.where(lesional[None, :], 2.0 ** log2_fold_change[:, None], 1.0)
    dispersion = 0.02 + 1.0 / base_mean[:, None]
    # numpy's negative_binomial(n, p) has mean n(1-p)/p: n = 1/dispersion, p = n/(n + mean).
    shape = 1.0 / dispersion
    counts = rng.negative_binomial(shape, shape / (shape + mean))
    return pd.DataFrame(counts, index=pd.Index(gene_ids, name="gene_id"), columns=samples["sample"].tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--outdir", type=Path, default=Path(__file__).parent)
    parser.add_argument("--sheet", type=Path, default=Path(__file__).parents[2] / "config" / "samples.tsv")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    panel = pd.read_csv(Path(__file__).parents[2] / "scripts/fibroskin/data/marker_panel.tsv", sep="\t", dtype=str)
    samples = sample_sheet()
    samples.to_csv(args.sheet, sep="\t", index=False)
    simulate_qpcr(samples, rng).to_csv(args.outdir / "qpcr_cq.tsv", sep="\t", index=False)
    simulate_counts(samples, rng, panel).to_csv(args.outdir / "counts.tsv", sep="\t")


if __name__ == "__main__":
    main()
