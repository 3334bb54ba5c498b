"""tximport in Python: R tximport 1.26.1's gene-level matrices, and DESeq2's length offsets.

Transcript quantifiers (salmon, kallisto, RSEM) estimate per transcript an abundance (TPM),
a count and an effective length. R's ``tximport()`` sums them to genes and returns three
genes x samples matrices; DESeq2 takes the counts (rounded) and, when the counts are the
estimated counts themselves (``countsFromAbundance = "no"``), the average transcript length
as a per-gene, per-sample offset (``DESeqDataSetFromTximport``). This module reproduces
those steps exactly as tximport 1.26.1 and DESeq2 1.38.3 compute them:

* :func:`summarize_to_gene` is ``summarizeToGene()``: abundance and counts summed per gene;
  length the abundance-weighted mean of the transcripts' effective lengths; where a gene
  has no abundance in a sample (0/0), the geometric mean of its lengths in the other
  samples, or, with no abundance in any sample, the mean of its transcripts' mean lengths;
  then ``countsFromAbundance`` (:func:`counts_from_abundance`).
* :func:`gene_level_estimates` is tximport on RSEM ``genes.results`` (``txIn = FALSE``):
  the files' columns as they are; counts from abundance need transcripts, so R keeps the
  estimated counts (and warns).
* :func:`round_counts` is R's ``round()``, which rounds halves to the even integer.
* :func:`length_normalization_factors` is what ``estimateSizeFactors()`` makes of an
  ``avgTxLength`` assay: ``normalizationFactors(dds)``, per gene and sample.

Genes come out sorted by code point, as R sorts them under ``LC_ALL=C``; R otherwise sorts
by its session's collation (ICU's, case-insensitive, in a UTF-8 locale), so the tests compare
with R gene by gene, by ID.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: ``countsFromAbundance`` values of tximport that fibroskin offers (``dtuScaledTPM`` is
#: for transcript-level analysis, which fibroskin does not do).
COUNTS_FROM_ABUNDANCE = ("no", "scaledTPM", "lengthScaledTPM")


@dataclass
class TximportResult:
    """Gene-level matrices as R's ``tximport()`` returns them (genes x samples).

    Attributes
    ----------
    abundance
        Summed TPM.
    counts
        Summed estimated counts, or counts from abundance (``counts_from_abundance``).
    length
        Average effective transcript length (abundance-weighted).
    counts_from_abundance
        ``"no"``, ``"scaledTPM"`` or ``"lengthScaledTPM"``: what ``counts`` are, as
        tximport records it. With ``"no"``, DESeq2 uses ``length`` as offsets.
    notes
        What was done, for the log.
    """

    abundance: pd.DataFrame
    counts: pd.DataFrame
    length: pd.DataFrame
    counts_from_abundance: str
    notes: list[str] = field(default_factory=list)


def _check_mode(mode: str) -> None:
    if mode not in COUNTS_FROM_ABUNDANCE:
        raise ValueError(f"countsFromAbundance must be one of {COUNTS_FROM_ABUNDANCE}, not {mode!r}")


def counts_from_abundance(
    counts: pd.DataFrame, abundance: pd.DataFrame, length: pd.DataFrame, mode: str
) -> pd.DataFrame:
    """Counts from abundance, as tximport's ``makeCountsFromAbundance()``.

    ``scaledTPM``: TPM scaled to each sample's total estimated count.
    ``lengthScaledTPM``: TPM times the gene's mean length over samples, scaled likewise.

    Parameters
    ----------
    counts, abundance, length
        Genes x samples, aligned.
    mode
        ``"scaledTPM"`` or ``"lengthScaledTPM"``.
    """
    if mode == "lengthScaledTPM":
        new_counts = abundance.to_numpy() * length.to_numpy().mean(axis=1, keepdims=True)
    elif mode == "scaledTPM":
        new_counts = abundance.to_numpy().copy()
    else:
        raise ValueError(f"expected 'scaledTPM' or 'lengthScaledTPM', not {mode!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        # a sample without abundance gets NaN counts (0/0), as in R; callers refuse it
        scale = counts.to_numpy().sum(axis=0) / new_counts.sum(axis=0)
    return pd.DataFrame(new_counts * scale, index=counts.index, columns=counts.columns)


def _replace_missing_length(length: np.ndarray, mean_transcript_length: np.ndarray) -> np.ndarray:
    """tximport's ``replaceMissingLength()``: fill the 0/0 lengths of genes without abundance.

    A gene without abundance in some samples takes the geometric mean of its lengths in
    the others; without abundance anywhere, the mean over its transcripts of their mean
    length across samples.
    """
    missing = np.isnan(length)
    if not missing.any():
        return length
    filled = length.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        log_length = np.where(missing, 0.0, np.log(np.where(missing, 1.0, length)))
        present = (~missing).sum(axis=1)
        geometric = np.exp(log_length.sum(axis=1) / present)
    all_missing = present == 0
    fill = np.where(all_missing, mean_transcript_length, geometric)
    filled[missing] = np.broadcast_to(fill[:, None], length.shape)[missing]
    return filled


def summarize_to_gene(
    abundance: pd.DataFrame,
    counts: pd.DataFrame,
    length: pd.DataFrame,
    tx2gene: pd.Series,
    counts_from_abundance_mode: str = "no",
) -> TximportResult:
    """Gene-level matrices from transcript-level ones, as tximport's ``summarizeToGene()``.

    Parameters
    ----------
    abundance, counts, length
        Transcripts x samples (TPM, estimated counts, effective lengths), same index.
    tx2gene
        Gene of each transcript, indexed by transcript ID (duplicated transcripts already
        resolved; see :func:`fibroskin.io.tx2gene.read_tx2gene`). Transcripts it lacks
        are dropped, as tximport drops them.
    counts_from_abundance_mode
        tximport's ``countsFromAbundance``: ``"no"``, ``"scaledTPM"``, ``"lengthScaledTPM"``.

    Returns
    -------
    TximportResult
        Genes sorted by code point.
    """
    _check_mode(counts_from_abundance_mode)
    transcripts = abundance.index
    mapped = transcripts.isin(tx2gene.index)
    notes = []
    if not mapped.all():
        notes.append(f"{int((~mapped).sum())} transcripts are not in tx2gene and were dropped, as tximport drops them")
    genes_of_transcripts = tx2gene.reindex(transcripts[mapped]).to_numpy()
    gene_ids, codes = np.unique(genes_of_transcripts.astype(str), return_inverse=True)

    def rowsum(values: np.ndarray) -> np.ndarray:
        summed = np.zeros((len(gene_ids), values.shape[1]))
        np.add.at(summed, codes, values)
        return summed

    abundance_tx = abundance.to_numpy(dtype=float)[mapped]
    counts_tx = counts.to_numpy(dtype=float)[mapped]
    length_tx = length.to_numpy(dtype=float)[mapped]
    gene_abundance = rowsum(abundance_tx)
    gene_counts = rowsum(counts_tx)
    with np.errstate(divide="ignore", invalid="ignore"):
        gene_length = rowsum(abundance_tx * length_tx) / gene_abundance
    transcripts_per_gene = np.bincount(codes, minlength=len(gene_ids))
    mean_transcript_length = rowsum(length_tx.mean(axis=1, keepdims=True))[:, 0] / transcripts_per_gene
    n_missing = int(np.isnan(gene_length).sum())
    gene_length = _replace_missing_length(gene_length, mean_transcript_length)
    if n_missing:
        notes.append(
            f"{n_missing} gene x sample lengths without abundance filled as tximport fills them "
            "(geometric mean of the gene's other samples, else the mean of its transcripts' lengths)"
        )

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=pd.Index(gene_ids, name="gene"), columns=abundance.columns.copy())

    result = TximportResult(frame(gene_abundance), frame(gene_counts), frame(gene_length), "no", notes)
    if counts_from_abundance_mode != "no":
        result.counts = counts_from_abundance(result.counts, result.abundance, result.length, counts_from_abundance_mode)
        result.counts_from_abundance = counts_from_abundance_mode
    notes.append(
        f"tximport: {len(transcripts)} transcripts summarised to {len(gene_ids)} genes, "
        f"countsFromAbundance = {counts_from_abundance_mode}"
    )
    return result


def gene_level_estimates(
    abundance: pd.DataFrame, counts: pd.DataFrame, length: pd.DataFrame, counts_from_abundance_mode: str = "no"
) -> TximportResult:
    """tximport on gene-level estimates (RSEM ``genes.results``, ``txIn = FALSE``).

    The matrices are the files' columns as they are. Counts from abundance need
    transcript-level estimates: R's tximport then warns and keeps the estimated counts
    (``countsFromAbundance`` "no"); so does this function, with a note saying so.
    """
    _check_mode(counts_from_abundance_mode)
    notes = []
    if counts_from_abundance_mode != "no":
        notes.append(
            f"WARNING: countsFromAbundance = {counts_from_abundance_mode} needs transcript-level estimates; "
            "gene-level estimates keep their estimated counts (countsFromAbundance no), as tximport does"
        )
    return TximportResult(abundance.copy(), counts.copy(), length.copy(), "no", notes)


def round_counts(values: pd.DataFrame | np.ndarray) -> pd.DataFrame | np.ndarray:
    """Round estimated counts to integers as R's ``round()`` does: halves to the even integer.

    ``DESeqDataSetFromTximport`` rounds this way (``round(txi$counts)``): 2.5 gives 2,
    3.5 gives 4. NumPy's ``rint`` is the same IEEE round-half-to-even.
    """
    if isinstance(values, pd.DataFrame):
        return pd.DataFrame(np.rint(values.to_numpy(dtype=float)).astype(np.int64), index=values.index, columns=values.columns)
    return np.rint(np.asarray(values, dtype=float)).astype(np.int64)


def length_normalization_factors(counts: pd.DataFrame, lengths: pd.DataFrame) -> pd.DataFrame:
    """DESeq2's normalization factors from average transcript lengths (genes x samples).

    What ``estimateSizeFactors(dds)`` computes for a ``DESeqDataSetFromTximport`` data set
    (``avgTxLength`` assay), ``normalizationFactors(dds)`` in R:

    1. ``nm = length / exp(rowMeans(log(length)))``: lengths over their per-gene geometric mean;
    2. size factors of ``counts / nm`` by the median-of-ratios (``estimateSizeFactorsForMatrix``);
    3. ``nf = nm * sf`` per sample, divided by each gene's geometric mean of ``nf``.

    The fitted mean of a gene in a sample is ``nf * q``; normalized counts are ``counts / nf``.

    Parameters
    ----------
    counts
        Genes x samples integer counts (as DESeq2 holds them: rounded), for the genes fitted.
    lengths
        Genes x samples average transcript lengths of the same genes and samples, all
        positive (RSEM's zero gene lengths are set to 1 first, as the tximport vignette does).

    Returns
    -------
    pandas.DataFrame
        Normalization factors, genes x samples, index and columns of ``counts``.

    Raises
    ------
    ValueError
        When genes or samples differ, a length is not positive, or every gene has a zero count.
    """
    if not counts.index.equals(lengths.index) or not counts.columns.equals(lengths.columns):
        raise ValueError("counts and lengths must have the same genes and samples, in the same order")
    from fibroskin.deseq2.size_factors import r_normalization_factors

    # the DE engine's own function (R's arithmetic), on its samples x genes orientation
    factors = r_normalization_factors(counts.to_numpy(dtype=float).T, lengths.to_numpy(dtype=float).T).T
    return pd.DataFrame(factors, index=counts.index, columns=counts.columns)


def offset_lengths(length: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Lengths ready for DESeq2: RSEM's zero effective lengths set to 1.

    RSEM gives genes shorter than its fragments an effective length of 0, which
    ``DESeqDataSetFromTximport`` refuses; the tximport vignette sets them to 1 first.
    """
    values = length.to_numpy(dtype=float)
    zero = values == 0
    if not zero.any():
        return length, []
    fixed = pd.DataFrame(np.where(zero, 1.0, values), index=length.index, columns=length.columns)
    return fixed, [f"{int(zero.sum())} gene x sample lengths of 0 set to 1 for the offsets, as the tximport vignette does"]
