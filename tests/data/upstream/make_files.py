"""Write small files in the layouts upstream RNA-seq tools write, from one known truth.

Run from the checkout: ``python tests/data/upstream/make_files.py`` (then, for the tables
nf-core/rnaseq makes with R's tximport, ``Rscript make_nfcore_tables.R`` in this folder).
The files are committed; the tests import :func:`transcript_truth` and :func:`read_truth`
to know what each file must read to.

Two truths, four samples (``ctrl_1``, ``ctrl_2``, ``case_1``, ``case_2``):

* **transcripts** (:func:`transcript_truth`): TPM and effective length per transcript and
  sample; the estimated count is ``TPM * effective length / 100``. TPMs have at most four
  significant digits and effective lengths are multiples of 100, so every tool's rounding
  of its text output (kallisto's six significant digits, RSEM's two decimals) leaves the
  numbers exact, and the files of different tools must read to the same matrices. One
  gene (TNMD) has no reads anywhere, one (DPM1) none in ``case_1``: tximport's length
  fill-ins. Written as salmon ``quant.sf``, kallisto ``abundance.tsv`` and ``abundance.h5``,
  RSEM ``isoforms.results`` and ``genes.results``, nf-core/rnaseq's
  ``rsem.merged.gene_counts.tsv``, and the transcript-to-gene map as tximport's
  two-column CSV, nf-core's three-column ``tx2gene.tsv`` and a GENCODE-style GTF.
* **read counts** (:func:`read_truth`): a reverse-stranded library. Written as STAR
  ``ReadsPerGene.out.tab`` (unstranded, forward, reverse columns after the four ``N_``
  rows), HTSeq-count output (run with ``-s reverse``, ending with its ``__`` rows),
  featureCounts output (``-s 2``) and a plain count matrix: all read to the reverse column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SAMPLES = ["ctrl_1", "ctrl_2", "case_1", "case_2"]

#: gene_id, gene_name, transcript_id, transcript length, then per sample (TPM, effective
#: length). Every sample's TPMs sum to 1,000,000.
TRANSCRIPTS = [
    # gene_id, gene_name, transcript, length, (tpm, eff_length) x 4 samples
    ("ENSG00000108821.14", "COL1A1", "ENST00000225964.10", 5927,
     (250000, 5800), (240000, 5800), (410000, 5700), (398000, 5800)),
    ("ENSG00000108821.14", "COL1A1", "ENST00000474644.1", 611,
     (12000, 500), (15000, 500), (22000, 400), (18500, 500)),
    ("ENSG00000105329.13", "TGFB1", "ENST00000221930.6", 2346,
     (84000, 2200), (91000, 2200), (160000, 2100), (149000, 2200)),
    ("ENSG00000000003.15", "TSPAN6", "ENST00000373020.9", 3796,
     (301000, 3600), (298000, 3700), (190000, 3600), (205000, 3600)),
    ("ENSG00000000003.15", "TSPAN6", "ENST00000494424.1", 820,
     (0, 700), (4100, 700), (3000, 600), (0, 700)),
    ("ENSG00000000003.15", "TSPAN6", "ENST00000496771.5", 1025,
     (55000, 900), (49000, 900), (33000, 800), (41500, 900)),
    ("ENSG00000000005.6", "TNMD", "ENST00000373031.5", 1339,
     (0, 1200), (0, 1200), (0, 1100), (0, 1200)),
    ("ENSG00000000419.14", "DPM1", "ENST00000371588.10", 1161,
     (170000, 1000), (180000, 1000), (0, 1000), (88000, 1000)),
    ("ENSG00000000419.14", "DPM1", "ENST00000466152.5", 1073,
     (128000, 900), (122900, 900), (0, 900), (99000, 900)),
    ("ENSG00000000457.14", "SCYL3", "ENST00000367771.11", 6353,
     (0, 6200), (0, 6200), (182000, 6100), (1000, 6200)),
]


def transcript_truth() -> dict[str, pd.DataFrame]:
    """Transcript-level truth: ``tpm``, ``eff_length``, ``counts`` (transcripts x samples),
    and ``annotation`` (transcript, gene_id, gene_name, length)."""
    index = pd.Index([row[2] for row in TRANSCRIPTS], name="transcript")
    tpm = pd.DataFrame([[cell[0] for cell in row[4:]] for row in TRANSCRIPTS], index=index, columns=SAMPLES, dtype=float)
    eff_length = pd.DataFrame([[cell[1] for cell in row[4:]] for row in TRANSCRIPTS], index=index, columns=SAMPLES,
                              dtype=float)
    assert (tpm.sum() == 1e6).all()
    counts = tpm * eff_length / 100
    annotation = pd.DataFrame(
        [(row[2], row[0], row[1], row[3]) for row in TRANSCRIPTS], columns=["transcript", "gene_id", "gene_name", "length"]
    )
    return {"tpm": tpm, "eff_length": eff_length, "counts": counts, "annotation": annotation}


#: gene_id, per sample (unstranded, forward, reverse) for a reverse-stranded library.
READS = [
    ("ENSG00000108821.14", (1210, 31, 1170), (1150, 25, 1118), (2630, 60, 2561), (2484, 44, 2431)),
    ("ENSG00000105329.13", (402, 9, 390), (455, 12, 440), (880, 20, 855), (826, 15, 807)),
    ("ENSG00000000003.15", (733, 14, 713), (690, 18, 668), (512, 11, 497), (540, 10, 525)),
    ("ENSG00000000005.6", (0, 0, 0), (1, 1, 0), (0, 0, 0), (0, 0, 0)),
    ("ENSG00000000419.14", (318, 8, 307), (296, 4, 289), (301, 6, 292), (322, 9, 310)),
    ("ENSG00000000457.14", (57, 2, 55), (66, 3, 62), (71, 1, 69), (49, 0, 49)),
]
#: STAR's summary rows per sample (the same three values for unmapped and multimapping).
STAR_SUMMARY = {
    "N_unmapped": (812, 790, 901, 845),
    "N_multimapping": (1204, 1180, 1312, 1266),
    "N_noFeature": ((95, 2831, 170), (88, 2710, 155), (120, 4210, 201), (101, 4065, 188)),
    "N_ambiguous": ((41, 3, 12), (37, 2, 10), (52, 4, 15), (49, 5, 13)),
}
#: HTSeq-count's summary rows per sample (``-s reverse``).
HTSEQ_SUMMARY = {
    "__no_feature": (170, 155, 201, 188),
    "__ambiguous": (12, 10, 15, 13),
    "__too_low_aQual": (301, 288, 320, 295),
    "__not_aligned": (812, 790, 901, 845),
    "__alignment_not_unique": (1204, 1180, 1312, 1266),
}


def read_truth() -> pd.DataFrame:
    """The reverse-strand read counts (genes x samples), what every count format reads to."""
    return pd.DataFrame([[cell[2] for cell in row[1:]] for row in READS], index=pd.Index([r[0] for r in READS], name="gene"),
                        columns=SAMPLES)


def star_reads_per_gene(sample: int) -> str:
    """STAR --quantMode GeneCounts output of one sample."""
    lines = []
    for name, values in STAR_SUMMARY.items():
        cell = values[sample]
        three = cell if isinstance(cell, tuple) else (cell, cell, cell)
        lines.append("\t".join([name, *map(str, three)]))
    lines += ["\t".join([row[0], *map(str, row[1 + sample])]) for row in READS]
    return "\n".join(lines) + "\n"


def htseq_count(sample: int) -> str:
    """htseq-count -s reverse output of one sample: genes, then its summary rows."""
    lines = [f"{row[0]}\t{row[1 + sample][2]}" for row in READS]
    lines += [f"{name}\t{values[sample]}" for name, values in HTSEQ_SUMMARY.items()]
    return "\n".join(lines) + "\n"


def featurecounts() -> str:
    """featureCounts -s 2 output for the four samples' BAM files."""
    bams = [f"/data/star/{sample}.Aligned.sortedByCoord.out.bam" for sample in SAMPLES]
    lines = [
        '# Program:featureCounts v2.0.3; Command:"featureCounts" "-s" "2" "-a" "genes.gtf" "-o" "counts.txt" '
        + " ".join(f'"{bam}"' for bam in bams),
        "\t".join(["Geneid", "Chr", "Start", "End", "Strand", "Length", *bams]),
    ]
    for number, row in enumerate(READS):
        start = 1_000_000 + 50_000 * number
        lines.append("\t".join([row[0], "chr1", str(start), str(start + 4000), "+", "4001",
                                *(str(cell[2]) for cell in row[1:])]))
    return "\n".join(lines) + "\n"


def count_matrix() -> str:
    truth = read_truth()
    lines = ["\t".join(["gene_id", *SAMPLES])]
    lines += ["\t".join([gene, *map(str, truth.loc[gene])]) for gene in truth.index]
    return "\n".join(lines) + "\n"


def _g6(value: float) -> str:
    """C++ stream output with its default precision (six significant digits), as kallisto writes."""
    return f"{value:.6g}"


def salmon_quant_sf(sample: str, truth: dict[str, pd.DataFrame]) -> str:
    """salmon quant.sf (salmon 1.x: effective length and reads to 3 decimals, TPM to 6)."""
    lines = ["Name\tLength\tEffectiveLength\tTPM\tNumReads"]
    for row in truth["annotation"].itertuples():
        t = row.transcript
        lines.append(f"{t}\t{row.length}\t{truth['eff_length'].at[t, sample]:.3f}\t{truth['tpm'].at[t, sample]:.6f}\t"
                     f"{truth['counts'].at[t, sample]:.3f}")
    return "\n".join(lines) + "\n"


def kallisto_abundance_tsv(sample: str, truth: dict[str, pd.DataFrame]) -> str:
    lines = ["target_id\tlength\teff_length\test_counts\ttpm"]
    for row in truth["annotation"].itertuples():
        t = row.transcript
        lines.append("\t".join([t, str(row.length), _g6(truth["eff_length"].at[t, sample]),
                                _g6(truth["counts"].at[t, sample]), _g6(truth["tpm"].at[t, sample])]))
    return "\n".join(lines) + "\n"


def kallisto_abundance_h5(path: Path, sample: str, truth: dict[str, pd.DataFrame]) -> None:
    """kallisto's HDF5 output (no bootstraps): est_counts and aux/ datasets, no TPM."""
    import h5py

    annotation = truth["annotation"]
    with h5py.File(path, "w", track_order=True) as handle:
        handle.create_dataset("est_counts", data=truth["counts"][sample].to_numpy(), track_times=False)
        aux = handle.create_group("aux")
        aux.create_dataset("ids", data=np.array(annotation["transcript"], dtype="S"), track_times=False)
        aux.create_dataset("lengths", data=annotation["length"].to_numpy(dtype=np.int32), track_times=False)
        aux.create_dataset("eff_lengths", data=truth["eff_length"][sample].to_numpy(), track_times=False)
        aux.create_dataset("num_bootstrap", data=np.array([0], dtype=np.int32), track_times=False)
        aux.create_dataset("kallisto_version", data=np.array([b"0.48.0"]), track_times=False)
        aux.create_dataset("index_version", data=np.array([10], dtype=np.int32), track_times=False)
        aux.create_dataset("call", data=np.array([f"kallisto quant -i index -o {sample} r1.fq.gz r2.fq.gz".encode()]),
                           track_times=False)
        aux.create_dataset("start_time", data=np.array([b"Thu Jan  1 00:00:00 2026"]), track_times=False)


def _rsem_number(value: float) -> str:
    return f"{value:.2f}"


def rsem_results(sample: str, truth: dict[str, pd.DataFrame]) -> tuple[str, str]:
    """RSEM isoforms.results and genes.results of one sample (numbers to 2 decimals).

    A gene's lengths are its isoforms' weighted by their share of the gene's TPM; for a gene
    without expression, their plain mean.
    """
    annotation = truth["annotation"]
    tpm, eff_length, counts = truth["tpm"][sample], truth["eff_length"][sample], truth["counts"][sample]
    total = counts.sum()
    fpkm = counts / (eff_length / 1e3) / (total / 1e6)
    isoforms = ["transcript_id\tgene_id\tlength\teffective_length\texpected_count\tTPM\tFPKM\tIsoPct"]
    genes = ["gene_id\ttranscript_id(s)\tlength\teffective_length\texpected_count\tTPM\tFPKM"]
    for gene, rows in annotation.groupby("gene_id", sort=True):
        ids = rows["transcript"].tolist()
        gene_tpm = tpm[ids].sum()
        share = tpm[ids] / gene_tpm if gene_tpm > 0 else pd.Series(1 / len(ids), index=ids)
        for row in rows.itertuples():
            t = row.transcript
            isoforms.append("\t".join([t, gene, _rsem_number(row.length), _rsem_number(eff_length[t]),
                                       _rsem_number(counts[t]), _rsem_number(tpm[t]), _rsem_number(fpkm[t]),
                                       _rsem_number(100 * share[t] if gene_tpm > 0 else 0.0)]))
        lengths = rows.set_index("transcript")["length"].astype(float)
        genes.append("\t".join([gene, ",".join(ids), _rsem_number((share * lengths).sum()),
                                _rsem_number((share * eff_length[ids]).sum()), _rsem_number(counts[ids].sum()),
                                _rsem_number(gene_tpm), _rsem_number(fpkm[ids].sum())]))
    return "\n".join(isoforms) + "\n", "\n".join(genes) + "\n"


def nfcore_rsem_merged(gene_files: dict[str, str]) -> str:
    """nf-core/rnaseq's rsem.merged.gene_counts.tsv: ``cut -f 1,2`` of the first genes.results,
    then ``cut -f 5`` of each, headed by the sample name, ``paste``d together."""
    tables = {sample: [line.split("\t") for line in text.rstrip("\n").split("\n")] for sample, text in gene_files.items()}
    first = next(iter(tables.values()))
    rows = [[first[0][0], first[0][1], *tables]]
    for number in range(1, len(first)):
        rows.append([first[number][0], first[number][1], *(table[number][4] for table in tables.values())])
    return "\n".join("\t".join(row) for row in rows) + "\n"


def tx2gene_csv(truth: dict[str, pd.DataFrame]) -> str:
    """tximport's two-column tx2gene, as the vignette's (header TXNAME,GENEID)."""
    annotation = truth["annotation"]
    return "TXNAME,GENEID\n" + "".join(f"{t},{g}\n" for t, g in zip(annotation["transcript"], annotation["gene_id"]))


def nfcore_tx2gene(truth: dict[str, pd.DataFrame]) -> str:
    """nf-core/rnaseq's salmon tx2gene.tsv: transcript, gene ID, gene name; no header."""
    annotation = truth["annotation"]
    return "".join(f"{row.transcript}\t{row.gene_id}\t{row.gene_name}\n" for row in annotation.itertuples())


def gencode_gtf(truth: dict[str, pd.DataFrame]) -> str:
    """A GENCODE-style GTF: gene, transcript and exon lines with versioned IDs."""
    lines = ["##description: evidence-based annotation (fibroskin test file)", "##format: gtf"]
    start = 1_000_000
    for gene, rows in truth["annotation"].groupby("gene_id", sort=False):
        name = rows["gene_name"].iloc[0]
        gene_attributes = f'gene_id "{gene}"; gene_type "protein_coding"; gene_name "{name}"; level 2;'
        lines.append(f"chr1\tHAVANA\tgene\t{start}\t{start + 9000}\t.\t+\t.\t{gene_attributes}")
        for row in rows.itertuples():
            transcript_attributes = (f'gene_id "{gene}"; transcript_id "{row.transcript}"; gene_type "protein_coding"; '
                                     f'gene_name "{name}"; transcript_name "{name}-201"; level 2;')
            lines.append(f"chr1\tHAVANA\ttranscript\t{start}\t{start + row.length - 1}\t.\t+\t.\t{transcript_attributes}")
            lines.append(f"chr1\tHAVANA\texon\t{start}\t{start + row.length - 1}\t.\t+\t.\t{transcript_attributes} "
                         "exon_number 1;")
        start += 10_000
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main(folder: Path = HERE) -> None:
    truth = transcript_truth()
    gene_files = {}
    for position, sample in enumerate(SAMPLES):
        write(folder / "salmon" / sample / "quant.sf", salmon_quant_sf(sample, truth))
        write(folder / "kallisto" / sample / "abundance.tsv", kallisto_abundance_tsv(sample, truth))
        kallisto_abundance_h5(folder / "kallisto" / sample / "abundance.h5", sample, truth)
        isoforms, genes = rsem_results(sample, truth)
        write(folder / "rsem" / f"{sample}.isoforms.results", isoforms)
        write(folder / "rsem" / f"{sample}.genes.results", genes)
        gene_files[sample] = genes
        write(folder / "star" / f"{sample}.ReadsPerGene.out.tab", star_reads_per_gene(position))
        write(folder / "htseq" / f"{sample}.counts.txt", htseq_count(position))
    write(folder / "nfcore" / "rsem.merged.gene_counts.tsv", nfcore_rsem_merged(gene_files))
    write(folder / "featurecounts.txt", featurecounts())
    write(folder / "count_matrix.tsv", count_matrix())
    write(folder / "tx2gene.csv", tx2gene_csv(truth))
    write(folder / "salmon_tx2gene.tsv", nfcore_tx2gene(truth))
    write(folder / "annotation.gtf", gencode_gtf(truth))


if __name__ == "__main__":
    main()
