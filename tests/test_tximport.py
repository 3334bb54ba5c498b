"""tximport in Python against R tximport 1.26.1 and DESeq2 1.38.3 on the GEUVADIS files.

The R references (``tests/data/tximport/``, made by ``make_tximport_references.R`` there)
hold R's matrices to 12 significant digits; Python must agree within 1e-10 relative, gene
by gene (R orders genes by its session's collation, Python by code point).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, shared_data
from fibroskin.io.quantifications import detect_quantifier, read_quantifications
from fibroskin.io.tx2gene import read_tx2gene
from fibroskin.tximport import (
    counts_from_abundance,
    gene_level_estimates,
    length_normalization_factors,
    offset_lengths,
    round_counts,
    summarize_to_gene,
)

REFERENCES = DATA / "tximport"
RUNS = ["ERR188297", "ERR188088", "ERR188329", "ERR188288"]
MODES = ["no", "scaledTPM", "lengthScaledTPM"]
TOLERANCE = 1e-10


def r_matrix(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCES / f"{name}.tsv.gz", sep="\t", index_col="gene", keep_default_na=False)


def max_relative_difference(python: pd.DataFrame, r: pd.DataFrame) -> float:
    assert sorted(map(str, r.index)) == list(python.index), "gene sets differ"
    assert list(r.columns) == list(python.columns)
    expected = r.loc[python.index].to_numpy(dtype=float)
    found = python.to_numpy(dtype=float)
    assert np.isfinite(found).all()
    scale = np.maximum(np.abs(expected), np.finfo(float).tiny)
    difference = np.where((found == 0) & (expected == 0), 0.0, np.abs(found - expected) / scale)
    return float(difference.max())


def quantifications(tool: str):
    folder = shared_data("tximportdata_geuvadis")
    suffix = ".quant.sf.gz" if tool == "salmon" else ".genes.results.gz"
    files = {run: folder / tool / f"{run}{suffix}" for run in RUNS}
    return read_quantifications(files, detect_quantifier(files[RUNS[0]]))


@pytest.fixture(scope="module")
def salmon():
    quant = quantifications("salmon")
    tx2gene = read_tx2gene(shared_data("tximportdata_geuvadis", "tx2gene.csv.gz"), set(quant.abundance.index))
    return quant, tx2gene


@pytest.mark.parametrize("mode", MODES)
def test_salmon_matrices_equal_r_tximport(salmon, mode):
    quant, tx2gene = salmon
    assert quant.layout == "salmon" and quant.abundance.shape == (48009, 4)
    result = summarize_to_gene(quant.abundance, quant.counts, quant.length, tx2gene.genes, mode)
    assert result.counts_from_abundance == mode
    assert result.counts.shape == (25343, 4)
    assert max_relative_difference(result.abundance, r_matrix("salmon_abundance")) < TOLERANCE
    assert max_relative_difference(result.length, r_matrix("salmon_length")) < TOLERANCE
    assert max_relative_difference(result.counts, r_matrix(f"salmon_counts_{mode}")) < TOLERANCE
    # tximport drops the three transcripts tx2gene lacks (NR_001526, _1, _2; no reads)
    assert any("3 transcripts are not in tx2gene" in note for note in result.notes)
    # genes without abundance in a sample get R's replacement lengths (tested above against R)
    assert any("lengths without abundance filled" in note for note in result.notes)


@pytest.mark.parametrize("mode", MODES)
def test_rsem_gene_level_equal_r_tximport(mode):
    quant = quantifications("rsem")
    assert quant.layout == "rsem_genes" and not quant.transcript_level
    result = gene_level_estimates(quant.abundance, quant.counts, quant.length, mode)
    for matrix in ("abundance", "counts", "length"):
        frame = getattr(result, matrix).copy()
        frame.index.name = "gene"
        assert max_relative_difference(frame, r_matrix(f"rsem_{matrix}")) < TOLERANCE, matrix
    # as R: counts from abundance need transcripts; the estimated counts are kept, with a warning
    assert result.counts_from_abundance == "no"
    assert any(note.startswith("WARNING") for note in result.notes) == (mode != "no")


def test_counts_are_rounded_as_r_rounds_them():
    ties = pd.read_csv(REFERENCES / "rounding_ties.tsv.gz", sep="\t", keep_default_na=False)
    assert len(ties) > 500 and set(ties["source"]) == {"salmon", "rsem"}
    # R's round() takes halves to the even integer: 9173.5 -> 9174, 2624.5 -> 2624
    np.testing.assert_array_equal(round_counts(ties["count"].to_numpy()), ties["deseq2_count"].to_numpy())
    exact_halves = ties[ties["count"] % 1 == 0.5]
    assert len(exact_halves) > 500 and (exact_halves["deseq2_count"] % 2 == 0).all()
    np.testing.assert_array_equal(round_counts(np.array([0.5, 1.5, 2.5, 3.4999, 3.5])), [0, 2, 2, 3, 4])


def test_normalization_factors_equal_r_deseq2(salmon):
    quant, tx2gene = salmon
    result = summarize_to_gene(quant.abundance, quant.counts, quant.length, tx2gene.genes, "no")
    lengths, notes = offset_lengths(result.length)
    assert notes == []  # salmon lengths are positive
    factors = length_normalization_factors(round_counts(result.counts), lengths)
    assert max_relative_difference(factors, r_matrix("salmon_normalization_factors")) < TOLERANCE
    # DESeq2 centres each gene's factors: their geometric mean is 1
    np.testing.assert_allclose(np.exp(np.log(factors.to_numpy()).mean(axis=1)), 1.0, rtol=1e-12)


def test_summarisation_by_hand():
    """Two genes, three samples: sums, abundance-weighted lengths and tximport's fill-ins."""
    samples = ["a", "b", "c"]
    index = pd.Index(["t1", "t2", "t3"], name="transcript")
    abundance = pd.DataFrame([[10.0, 0.0, 30.0], [30.0, 0.0, 10.0], [0.0, 0.0, 0.0]], index=index, columns=samples)
    counts = pd.DataFrame([[5.0, 0.0, 9.0], [15.0, 0.0, 4.0], [0.0, 0.0, 0.0]], index=index, columns=samples)
    length = pd.DataFrame([[100.0, 110.0, 120.0], [200.0, 210.0, 220.0], [50.0, 60.0, 70.0]], index=index,
                          columns=samples)
    tx2gene = pd.Series({"t1": "G1", "t2": "G1", "t3": "G2"})
    result = summarize_to_gene(abundance, counts, length, tx2gene, "no")
    assert result.counts.loc["G1"].tolist() == [20.0, 0.0, 13.0]
    assert result.abundance.loc["G1"].tolist() == [40.0, 0.0, 40.0]
    length_a = (10 * 100 + 30 * 200) / 40
    length_c = (30 * 120 + 10 * 220) / 40
    # sample b has no abundance: geometric mean of the gene's other samples
    np.testing.assert_allclose(result.length.loc["G1"], [length_a, np.sqrt(length_a * length_c), length_c])
    # no abundance anywhere: the mean of its transcripts' mean lengths, in every sample
    np.testing.assert_allclose(result.length.loc["G2"], [60.0, 60.0, 60.0])
    scaled = counts_from_abundance(result.counts, result.abundance, result.length, "scaledTPM")
    np.testing.assert_allclose(scaled[["a", "c"]].sum(), result.counts[["a", "c"]].sum())
    np.testing.assert_allclose(scaled.loc["G1", "a"], 40.0 * 20.0 / 40.0)
    # a sample without any abundance has no scale (0/0), as in R
    assert scaled["b"].isna().all()


def test_zero_rsem_lengths_become_one_for_offsets():
    lengths = pd.DataFrame([[0.0, 150.5], [20.0, 0.0]], index=["G1", "G2"], columns=["a", "b"])
    fixed, notes = offset_lengths(lengths)
    assert fixed.to_numpy().tolist() == [[1.0, 150.5], [20.0, 1.0]]
    assert "2 gene x sample lengths of 0 set to 1" in notes[0]
    with pytest.raises(ValueError, match="positive"):
        length_normalization_factors(pd.DataFrame([[1, 2], [3, 4]], index=["G1", "G2"], columns=["a", "b"]), lengths)
