"""Counts as the upstream tools write them: every format read to the same matrix.

The files in ``tests/data/upstream/`` were written by ``make_files.py`` there from one known
truth (imported here), and the nf-core/rnaseq salmon tables by R's tximport
(``make_nfcore_tables.R``), as nf-core makes them.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import DATA
from fibroskin.config import load_design
from fibroskin.errors import InputErrors
from fibroskin.io.counts import read_count_table, read_length_table
from fibroskin.io.gene_counts import detect_gene_counts, read_gene_count_files
from fibroskin.io.quantifications import detect_quantifier, read_quantifications
from fibroskin.io.tx2gene import read_tx2gene
from fibroskin.rnaseq_input import length_offsets_need_fast_engine, read_rnaseq_input
from fibroskin.tximport import round_counts, summarize_to_gene

UPSTREAM = DATA / "upstream"
_spec = importlib.util.spec_from_file_location("make_files", UPSTREAM / "make_files.py")
make_files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_files)
SAMPLES = make_files.SAMPLES


def per_sample(pattern: str) -> dict[str, Path]:
    return {sample: UPSTREAM / pattern.format(sample=sample) for sample in SAMPLES}


def nfcore_table(name: str) -> pd.DataFrame:
    """A table R wrote as nf-core does, genes x samples (gene_name dropped)."""
    table = pd.read_csv(UPSTREAM / "nfcore" / name, sep="\t", index_col="gene_id")
    return table.drop(columns=["gene_name"], errors="ignore").sort_index()


def design(tmp_path: Path, rnaseq: dict, files: dict[str, Path] | None = None, extra_columns: dict | None = None):
    """A Design of the four samples (ctrl vs case), with or without a counts_file column."""
    rows = ["sample\tcondition" + ("\tcounts_file" if files else "")]
    for sample in SAMPLES:
        condition = sample.split("_")[0]
        rows.append(f"{sample}\t{condition}" + (f"\t{files[sample]}" if files else ""))
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("\n".join(rows) + "\n")
    config = {
        "samples": str(sheet),
        "contrasts": {"case_vs_ctrl": {"column": "condition", "reference": "ctrl", "target": "case"}},
        "rnaseq": {"design": "~condition", **rnaseq},
    }
    return load_design(config)


def refused(function, *args, **kwargs) -> str:
    with pytest.raises(InputErrors) as raised:
        function(*args, **kwargs)
    return str(raised.value)


# ------------------------------------------------------------------ read counts per gene


def test_star_htseq_featurecounts_and_matrix_read_to_the_same_counts(tmp_path):
    truth = make_files.read_truth()
    star = read_rnaseq_input(design(tmp_path, {"strandedness": "reverse"}, per_sample("star/{sample}.ReadsPerGene.out.tab")))
    htseq = read_rnaseq_input(design(tmp_path, {}, per_sample("htseq/{sample}.counts.txt")))
    featurecounts = read_count_table(UPSTREAM / "featurecounts.txt", samples=SAMPLES)
    matrix = read_count_table(UPSTREAM / "count_matrix.tsv", samples=SAMPLES)
    for counts in (star.counts, htseq.counts, featurecounts.counts, matrix.counts):
        pd.testing.assert_frame_equal(counts.sort_index(), truth.sort_index(), check_names=False, check_dtype=False)
        assert counts.dtypes.eq(np.int64).all()
    assert star.lengths is None and htseq.lengths is None
    assert star.source == "STAR ReadsPerGene.out.tab files, one per sample"
    assert featurecounts.layout == "featureCounts" and matrix.layout == "count matrix"


def test_star_and_htseq_summary_rows_are_dropped_and_reported(tmp_path):
    star = read_rnaseq_input(design(tmp_path, {"strandedness": "reverse"}, per_sample("star/{sample}.ReadsPerGene.out.tab")))
    note = next(note for note in star.notes if "summary rows dropped" in note)
    # the reverse column's values of ctrl_1 (make_files.STAR_SUMMARY)
    assert "ctrl_1: N_unmapped 812, N_multimapping 1204, N_noFeature 170, N_ambiguous 12" in note
    assert "column 4 (reverse) used" in star.notes[1]
    htseq = read_rnaseq_input(design(tmp_path, {}, per_sample("htseq/{sample}.counts.txt")))
    note = next(note for note in htseq.notes if "summary rows dropped" in note)
    assert "case_2: __no_feature 188, __ambiguous 13, __too_low_aQual 295, __not_aligned 845, __alignment_not_unique 1266" in note
    assert not any(gene.startswith(("__", "N_")) for gene in star.counts.index.tolist() + htseq.counts.index.tolist())


def test_summary_rows_in_a_hand_merged_matrix_are_dropped_and_reported(tmp_path):
    text = (UPSTREAM / "count_matrix.tsv").read_text() + "N_unmapped\t812\t790\t901\t845\n__no_feature\t170\t155\t201\t188\n"
    path = tmp_path / "merged.tsv"
    path.write_text(text)
    table = read_count_table(path)
    assert table.counts.shape == (6, 4)
    assert any("2 summary row(s) of STAR or HTSeq-count dropped" in note and "N_unmapped 812, 790, 901, 845" in note
               for note in table.notes)


def test_star_strandedness_is_checked_against_the_counts(tmp_path):
    files = per_sample("star/{sample}.ReadsPerGene.out.tab")
    unstranded = read_rnaseq_input(design(tmp_path, {"strandedness": "unstranded"}, files))
    assert unstranded.counts.loc["ENSG00000108821.14", "ctrl_1"] == 1210  # column 2
    # forward / (forward + reverse) of ctrl_1: 64 / (64 + 2635)
    assert any("the counts say the library is reverse-stranded in 4 of 4 samples (share of the stranded counts on the "
               "forward strand: ctrl_1 2.4%, ctrl_2 2.4%, case_1 2.2%, case_2 1.9%)" in note for note in unstranded.notes)
    message = refused(read_rnaseq_input, design(tmp_path, {"strandedness": "forward"}, files))
    assert ("ctrl_1.ReadsPerGene.out.tab, column 'forward (3rd column)': the counts say the library is "
            "reverse-stranded in 4 of 4 samples") in message
    assert "expected rnaseq.strandedness: reverse" in message
    message = refused(read_rnaseq_input, design(tmp_path, {}, files))
    assert "config does not say which to use (the counts look reverse)" in message
    assert "(the counts say: reverse)" in message


# ------------------------------------------------------------------ transcript quantifiers


QUANTIFIERS = {
    "salmon": "salmon/{sample}/quant.sf",
    "kallisto": "kallisto/{sample}/abundance.tsv",
    "kallisto_h5": "kallisto/{sample}/abundance.h5",
    "rsem_isoforms": "rsem/{sample}.isoforms.results",
}


@pytest.mark.parametrize("layout", QUANTIFIERS)
@pytest.mark.parametrize("tx2gene", ["tx2gene.csv", "salmon_tx2gene.tsv", "annotation.gtf"])
def test_quantifiers_summarise_to_what_r_tximport_gives(layout, tx2gene):
    files = per_sample(QUANTIFIERS[layout])
    assert detect_quantifier(files["ctrl_1"]) == layout
    quant = read_quantifications(files, layout)
    mapping = read_tx2gene(UPSTREAM / tx2gene, set(quant.abundance.index))
    result = summarize_to_gene(quant.abundance, quant.counts, quant.length, mapping.genes, "no")
    # R's tximport made nf-core's tables from the salmon files (make_nfcore_tables.R)
    for matrix, name in (("counts", "gene_counts"), ("abundance", "gene_tpm"), ("length", "gene_lengths")):
        expected = nfcore_table(f"salmon.merged.{name}.tsv")
        np.testing.assert_allclose(getattr(result, matrix).to_numpy(), expected.to_numpy(), rtol=1e-13, err_msg=matrix)
    for mode, name in (("lengthScaledTPM", "gene_counts_length_scaled"), ("scaledTPM", "gene_counts_scaled")):
        scaled = summarize_to_gene(quant.abundance, quant.counts, quant.length, mapping.genes, mode)
        np.testing.assert_allclose(scaled.counts.to_numpy(), nfcore_table(f"salmon.merged.{name}.tsv").to_numpy(),
                                   rtol=1e-13)
    if tx2gene != "tx2gene.csv":
        assert mapping.symbols["ENSG00000108821.14"] == "COL1A1"


def test_rsem_isoforms_without_tx2gene_use_their_gene_column(tmp_path):
    with_own = read_rnaseq_input(design(tmp_path, {"counts_from_abundance": "lengthScaledTPM"},
                                        per_sample(QUANTIFIERS["rsem_isoforms"])))
    expected = round_counts(nfcore_table("salmon.merged.gene_counts_length_scaled.tsv"))
    pd.testing.assert_frame_equal(with_own.counts, expected, check_names=False)
    assert any("gene_id column" in note for note in with_own.notes)


def test_rsem_genes_results_are_the_files_columns():
    truth = make_files.transcript_truth()
    quant = read_quantifications(per_sample("rsem/{sample}.genes.results"), "rsem_genes")
    genes = truth["annotation"].set_index("transcript")["gene_id"]
    np.testing.assert_array_equal(quant.counts.sort_index(), truth["counts"].groupby(genes).sum().sort_index())
    np.testing.assert_array_equal(quant.abundance.sort_index(), truth["tpm"].groupby(genes).sum().sort_index())
    # RSEM writes 2 decimals; where a gene has abundance its length is tximport's weighted mean
    tximport_length = nfcore_table("salmon.merged.gene_lengths.tsv")
    expressed = quant.abundance.sort_index().to_numpy() > 0
    np.testing.assert_allclose(quant.length.sort_index().to_numpy()[expressed], tximport_length.to_numpy()[expressed],
                               rtol=1e-5)


def test_per_sample_salmon_through_the_sheet(tmp_path):
    files = per_sample(QUANTIFIERS["salmon"])
    no = read_rnaseq_input(design(tmp_path, {"tx2gene": str(UPSTREAM / "salmon_tx2gene.tsv")}, files))
    pd.testing.assert_frame_equal(no.counts, round_counts(nfcore_table("salmon.merged.gene_counts.tsv")),
                                  check_names=False)
    np.testing.assert_allclose(no.lengths.to_numpy(), nfcore_table("salmon.merged.gene_lengths.tsv").to_numpy(),
                               rtol=1e-13)
    assert no.symbols["ENSG00000105329.13"] == "TGFB1"
    assert no.source == "salmon quant.sf files, one per sample, through tximport (countsFromAbundance no)"
    scaled = read_rnaseq_input(design(tmp_path, {"tx2gene": str(UPSTREAM / "annotation.gtf"),
                                                 "counts_from_abundance": "lengthScaledTPM"}, files))
    assert scaled.lengths is None
    pd.testing.assert_frame_equal(scaled.counts, round_counts(nfcore_table("salmon.merged.gene_counts_length_scaled.tsv")),
                                  check_names=False)
    assert any("rounded to integers as R's round() does (halves to even)" in note for note in scaled.notes)


# ------------------------------------------------------------------ nf-core merged tables


def test_nfcore_salmon_tables_are_read_as_nfcore_wrote_them():
    table = read_count_table(UPSTREAM / "nfcore" / "salmon.merged.gene_counts_length_scaled.tsv")
    assert table.layout == "nf-core/rnaseq salmon merged gene counts (lengthScaledTPM, counts from abundance)"
    assert table.counts_from_abundance == "lengthScaledTPM"
    expected = round_counts(nfcore_table("salmon.merged.gene_counts_length_scaled.tsv"))
    pd.testing.assert_frame_equal(table.counts.sort_index(), expected, check_names=False)
    assert table.symbols["ENSG00000000419.14"] == "DPM1"
    lengths, _ = read_length_table(UPSTREAM / "nfcore" / "salmon.merged.gene_lengths.tsv", samples=SAMPLES)
    np.testing.assert_array_equal(lengths.sort_index(), nfcore_table("salmon.merged.gene_lengths.tsv"))


def test_nfcore_kallisto_table_is_named_as_such(tmp_path):
    path = tmp_path / "kallisto.merged.gene_counts.tsv"
    shutil.copy(UPSTREAM / "nfcore" / "salmon.merged.gene_counts.tsv", path)
    assert read_count_table(path).layout == "nf-core/rnaseq kallisto merged gene counts"


def test_nfcore_rsem_table_is_rounded_as_r_rounds():
    table = read_count_table(UPSTREAM / "nfcore" / "rsem.merged.gene_counts.tsv")
    assert table.layout == "nf-core/rnaseq RSEM merged gene counts" and table.symbols is None
    truth = make_files.transcript_truth()
    genes = truth["annotation"].set_index("transcript")["gene_id"]
    np.testing.assert_array_equal(table.counts.sort_index(), np.rint(truth["counts"].groupby(genes).sum().sort_index()))


def test_nfcore_tpm_table_is_refused_as_counts():
    message = refused(read_count_table, UPSTREAM / "nfcore" / "salmon.merged.gene_tpm.tsv")
    assert "every sample column sums to 1,000,000: these are TPM (abundances), not counts" in message
    assert "salmon.merged.gene_tpm.tsv, line 1, column 'ctrl_1'" in message


def test_nfcore_counts_with_lengths(tmp_path):
    rnaseq = {"counts": str(UPSTREAM / "nfcore" / "salmon.merged.gene_counts.tsv"),
              "lengths": str(UPSTREAM / "nfcore" / "salmon.merged.gene_lengths.tsv")}
    run = design(tmp_path, rnaseq)
    result = read_rnaseq_input(run)
    assert list(result.lengths.index) == list(result.counts.index)
    assert list(result.lengths.columns) == SAMPLES
    text = str(length_offsets_need_fast_engine(result, run.rnaseq))
    assert "length offsets need rnaseq.engine: fast: rnaseq.lengths" in text
    scaled = dict(rnaseq, counts=str(UPSTREAM / "nfcore" / "salmon.merged.gene_counts_length_scaled.tsv"))
    assert "correcting for length twice" in refused(read_rnaseq_input, design(tmp_path, scaled))


# ------------------------------------------------------------------ what is refused


def test_lengths_that_do_not_match_the_counts_are_refused(tmp_path):
    lengths = tmp_path / "lengths.tsv"
    lines = (UPSTREAM / "nfcore" / "salmon.merged.gene_lengths.tsv").read_text().splitlines()
    lengths.write_text("\n".join(lines[:-1]) + "\n")  # COL1A1's row lost
    rnaseq = {"counts": str(UPSTREAM / "nfcore" / "salmon.merged.gene_counts.tsv"), "lengths": str(lengths)}
    message = refused(read_rnaseq_input, design(tmp_path, rnaseq))
    assert f"{lengths}, column 'gene_id': gene 'ENSG00000108821.14' of the count table has no lengths" in message
    lengths.write_text("\n".join(lines).replace("1175\t1175", "1175\tNA") + "\n")
    message = refused(read_rnaseq_input, design(tmp_path, rnaseq))
    assert f"{lengths}, line 3, column 'ctrl_2': length is missing" in message or "length is not a number" in message


def test_missing_mixed_and_unrecognised_files_are_refused(tmp_path):
    files = per_sample(QUANTIFIERS["salmon"])
    files["case_2"] = tmp_path / "nowhere" / "quant.sf"
    message = refused(read_rnaseq_input, design(tmp_path, {"tx2gene": str(UPSTREAM / "tx2gene.csv")}, files))
    assert "samples.tsv, line 5, column 'counts_file': sample 'case_2': the counts file does not exist" in message
    files["case_2"] = UPSTREAM / "star" / "case_2.ReadsPerGene.out.tab"
    message = refused(read_rnaseq_input, design(tmp_path, {"tx2gene": str(UPSTREAM / "tx2gene.csv")}, files))
    assert ("sample 'case_2' has a STAR ReadsPerGene.out.tab file, but sample 'ctrl_1' has a salmon quant.sf file"
            in message)
    files["case_2"] = UPSTREAM / "make_files.py"
    message = refused(read_rnaseq_input, design(tmp_path, {"tx2gene": str(UPSTREAM / "tx2gene.csv")}, files))
    assert "make_files.py, line 1: sample 'case_2': the format of the counts file is not recognised" in message


def test_quantifications_of_another_index_are_refused(tmp_path):
    other = tmp_path / "quant.sf"
    lines = (UPSTREAM / "salmon" / "case_2" / "quant.sf").read_text().splitlines()
    lines[3], lines[4] = lines[4], lines[3]
    other.write_text("\n".join(lines) + "\n")
    files = dict(per_sample(QUANTIFIERS["salmon"]), case_2=other)
    message = refused(read_rnaseq_input, design(tmp_path, {"tx2gene": str(UPSTREAM / "tx2gene.csv")}, files))
    assert f"{other}, line 4, column 'Name': the file lists other IDs than" in message
    assert "expected 'ENST00000221930.6'" in message


def test_non_numbers_in_a_quantification_are_named(tmp_path):
    bad = tmp_path / "quant.sf"
    bad.write_text((UPSTREAM / "salmon" / "ctrl_1" / "quant.sf").read_text().replace("60000.000", "sixty", 1))
    files = dict(per_sample(QUANTIFIERS["salmon"]), ctrl_1=bad)
    message = refused(read_rnaseq_input, design(tmp_path, {"tx2gene": str(UPSTREAM / "tx2gene.csv")}, files))
    assert f"{bad}, line 3, column 'NumReads': value is not a number (found: 'sixty')" in message


def test_tx2gene_must_cover_the_transcripts_with_reads(tmp_path):
    files = per_sample(QUANTIFIERS["salmon"])
    partial = tmp_path / "tx2gene.csv"
    partial.write_text("".join(line + "\n" for line in (UPSTREAM / "tx2gene.csv").read_text().splitlines()
                               if not line.startswith("ENST00000221930.6")))
    message = refused(read_rnaseq_input, design(tmp_path, {"tx2gene": str(partial)}, files))
    assert ("transcript 'ENST00000221930.6' (" in message
            and "ctrl_1/quant.sf, line 4) is not in tx2gene but has 3.36e+06 estimated reads (sample 'case_1')" in message)
    unversioned = tmp_path / "unversioned.csv"
    unversioned.write_text(make_files.tx2gene_csv(make_files.transcript_truth()).replace(".10,", ",").replace(".1,", ",")
                           .replace(".6,", ",").replace(".9,", ",").replace(".5,", ",").replace(".11,", ","))
    message = refused(read_rnaseq_input, design(tmp_path, {"tx2gene": str(unversioned)}, files))
    assert "none of the 10 transcripts of the quantification files is in the first column of tx2gene" in message
    assert "they match once version suffixes such as '.2' are removed" in message
    message = refused(read_rnaseq_input, design(tmp_path, {}, files))
    assert "summarising them to genes needs a transcript-to-gene table" in message


def test_settings_that_do_not_apply_are_refused_or_noted(tmp_path):
    star = per_sample("star/{sample}.ReadsPerGene.out.tab")
    message = refused(read_rnaseq_input, design(tmp_path, {"strandedness": "reverse",
                                                           "counts_from_abundance": "scaledTPM"}, star))
    assert "rnaseq.counts_from_abundance scaledTPM applies to transcript quantifiers" in message
    message = refused(read_rnaseq_input, design(tmp_path, {"counts_from_abundance": "lengthScaledTPM"},
                                                per_sample("rsem/{sample}.genes.results")))
    assert "needs transcript-level estimates; RSEM genes.results holds gene-level ones" in message
    htseq = read_rnaseq_input(design(tmp_path, {"strandedness": "reverse"}, per_sample("htseq/{sample}.counts.txt")))
    assert any("rnaseq.strandedness is not used" in note for note in htseq.notes)
    both = design(tmp_path, {"counts": str(UPSTREAM / "count_matrix.tsv")}, star)
    assert "the sample sheet has a 'counts_file' column and the config sets rnaseq.counts" in refused(read_rnaseq_input, both)


def test_formats_are_told_by_content_not_name(tmp_path):
    for source, layout in ((QUANTIFIERS["kallisto_h5"], "kallisto_h5"), ("rsem/{sample}.genes.results", "rsem_genes")):
        renamed = tmp_path / "sample1.txt"
        shutil.copy(UPSTREAM / source.format(sample="ctrl_1"), renamed)
        assert detect_quantifier(renamed) == layout
    renamed = tmp_path / "sample1.txt"
    shutil.copy(UPSTREAM / "star" / "ctrl_1.ReadsPerGene.out.tab", renamed)
    assert detect_quantifier(renamed) is None and detect_gene_counts(renamed) == "star"
    shutil.copy(UPSTREAM / "htseq" / "ctrl_1.counts.txt", renamed)
    assert detect_gene_counts(renamed) == "htseq"
    counts = read_gene_count_files({"x": renamed}, "htseq").counts
    assert counts.loc["ENSG00000105329.13", "x"] == 390
