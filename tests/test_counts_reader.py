"""Count matrix reader: formats, sample-name matching and exact error locations."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fibroskin.errors import InputErrors
from fibroskin.io.counts import match_sample, read_counts, strip_bam_suffixes
from fibroskin.markers import SymbolIndex

from conftest import shared_data

DATA = Path(__file__).resolve().parent / "data"
FEATURECOUNTS = DATA / "counts" / "featurecounts_small.txt"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def errors_of(path: Path, **kwargs) -> list:
    with pytest.raises(InputErrors) as raised:
        read_counts(path, **kwargs)
    return raised.value.errors


# --------------------------------------------------------------------------- formats


def test_plain_tsv(tmp_path):
    path = write(tmp_path / "counts.tsv", "gene_id\ts1\ts2\nG1\t10\t0\nG2\t3\t7\n")
    counts, notes = read_counts(path)
    assert counts.index.tolist() == ["G1", "G2"]
    assert counts.columns.tolist() == ["s1", "s2"]
    assert counts.index.name == "gene"
    assert (counts.dtypes == np.int64).all()
    assert counts.to_numpy().tolist() == [[10, 0], [3, 7]]
    assert any("2 genes x 2 samples" in note for note in notes)


def test_pasilla_csv_matches_pandas():
    pasilla = shared_data("pasilla", "pasilla_counts.csv")
    counts, _ = read_counts(pasilla)
    expected = pd.read_csv(pasilla, index_col=0)
    assert counts.shape == (14599, 7)
    np.testing.assert_array_equal(counts.to_numpy(), expected.to_numpy())
    assert counts.index.tolist() == expected.index.tolist()


def test_keloid_sample_names_with_spaces_and_crlf():
    sample = "pseudo_bulk_GSE_188952_keloid scar_1"
    counts, notes = read_counts(shared_data("keloid_gse188952", "counts.csv"), samples=[sample, "pseudo_bulk_GSE_188952_normotropic_scar_1"])
    assert counts.columns.tolist() == [sample, "pseudo_bulk_GSE_188952_normotropic_scar_1"]
    assert counts.shape == (8467, 2)
    assert counts.loc["COL1A1", sample] > 0
    assert any("line endings" in note for note in notes)
    assert any("not in the sample sheet ignored" in note for note in notes)


def test_gzipped_csv(tmp_path):
    path = tmp_path / "counts.csv.gz"
    path.write_bytes(gzip.compress(b"gene,a,b\nG1,1,2\nG2,3,4\n"))
    counts, notes = read_counts(path)
    assert counts.to_numpy().tolist() == [[1, 2], [3, 4]]
    assert any("gzip" in note for note in notes)


def test_semicolon_utf8_bom_and_r_doubles(tmp_path):
    # R's write.csv writes integer-valued doubles as 12.0 or 1e+05, and an empty name
    # for the row-name column.
    path = tmp_path / "counts.csv"
    path.write_bytes('\ufeff"";"s1";"s2"\n"G1";12.0;1e+05\n"G2";0;3\n'.encode("utf-8"))
    counts, notes = read_counts(path)
    assert counts.loc["G1"].tolist() == [12, 100000]
    assert counts.columns.tolist() == ["s1", "s2"]
    assert any("byte-order mark" in note for note in notes)


def test_trailing_empty_columns_and_rows_tolerated(tmp_path):
    path = write(tmp_path / "counts.csv", "gene,s1,s2,,\nG1,1,2,,\nG2,3,4,,\n,,,,\n\n\n")
    counts, notes = read_counts(path)
    assert counts.columns.tolist() == ["s1", "s2"]
    assert counts.to_numpy().tolist() == [[1, 2], [3, 4]]
    assert any("empty trailing column" in note for note in notes)
    assert any("empty row" in note for note in notes)


def test_featurecounts_columns_reduced_to_sheet_samples():
    sheet = ["lesional_1", "lesional_2", "nonlesional_1", "nonlesional_2"]
    counts, notes = read_counts(FEATURECOUNTS, samples=sheet)
    assert counts.columns.tolist() == sheet  # sheet order, not file order
    assert counts.shape == (6, 4)
    assert counts.loc["ENSG00000105329.12"].tolist() == [2110, 2388, 812, 905]
    assert any("featureCounts" in note and "Length" in note for note in notes)
    assert any("'/data/fibroskin/aligned/lesional_1.sorted.bam' -> 'lesional_1'" in note for note in notes)


def test_featurecounts_without_sheet_uses_bam_names():
    counts, _ = read_counts(FEATURECOUNTS)
    assert counts.columns.tolist() == ["nonlesional_1", "nonlesional_2", "lesional_1", "lesional_2"]


def test_featurecounts_detected_by_header_alone(tmp_path):
    text = FEATURECOUNTS.read_text().split("\n", 1)[1]  # without the "# Program" line
    counts, _ = read_counts(write(tmp_path / "fc.txt", text))
    assert "Chr" not in counts.columns and "Length" not in counts.columns
    assert counts.shape == (6, 4)


def test_featurecounts_error_lines_count_the_comment_line(tmp_path):
    lines = FEATURECOUNTS.read_text().split("\n")
    lines[4] = lines[4].replace("\t3302\t", "\t-3302\t")  # CTGF/CCN2, lesional_1
    errors = errors_of(write(tmp_path / "fc.txt", "\n".join(lines)), samples=["nonlesional_1", "nonlesional_2", "lesional_1", "lesional_2"])
    assert len(errors) == 1
    assert errors[0].row == 5
    assert errors[0].column == "/data/fibroskin/aligned/lesional_1.sorted.bam"
    assert errors[0].value == "-3302"


def test_sample_matching_rules():
    sheet = ["lesional_1", "lesional_10", "P1 skin"]
    assert strip_bam_suffixes("/x/y/lesional_1.sorted.markdup.bam") == "lesional_1"
    assert strip_bam_suffixes("star/lesional_10Aligned.sortedByCoord.out.bam") == "lesional_10"
    assert match_sample("/x/lesional_10/accepted_hits.bam", sheet) == "lesional_10"
    assert match_sample("/x/lesional_1/accepted_hits.bam", sheet) == "lesional_1"
    assert match_sample("/runs/P1 skin.bam", sheet) == "P1 skin"
    assert match_sample("/x/unknown.bam", sheet) is None


def test_ensembl_versions_map_to_markers():
    counts, _ = read_counts(FEATURECOUNTS)
    index = SymbolIndex.build()
    symbols = [index.symbol(gene) for gene in counts.index]
    assert symbols[:4] == ["TGFB1", "COL1A1", "CCN2", "GAPDH"]


# --------------------------------------------------------------------------- errors


def test_every_bad_count_named_with_file_line_column_value(tmp_path):
    path = write(
        tmp_path / "counts.tsv",
        "gene\tctrl_1\tlesion_1\n"
        "G1\t10\t-4\n"  # line 2
        "G2\t12.5\t3\n"  # line 3
        "G3\t7\tabc\n"  # line 4
        "G4\t\t2\n",  # line 5
    )
    errors = errors_of(path)
    found = {(e.row, e.column, e.value) for e in errors}
    assert found == {(2, "lesion_1", "-4"), (3, "ctrl_1", "12.5"), (4, "lesion_1", "abc"), (5, "ctrl_1", "")}
    for error in errors:
        text = str(error)
        assert str(path) in text
        assert f"line {error.row}" in text
        assert f"column '{error.column}'" in text
        assert "expected" in text and "integer" in text
    messages = {e.row: e.message for e in errors}
    assert "negative" in messages[2]
    assert "whole number" in messages[3]
    assert "not a number" in messages[4]
    assert "missing" in messages[5]


def test_line_numbers_survive_blank_lines(tmp_path):
    path = write(tmp_path / "counts.csv", "gene,s1\n\nG1,1\n\n\nG2,2.5\n")
    (error,) = errors_of(path)
    assert (error.row, error.column, error.value) == (6, "s1", "2.5")


def test_duplicated_gene_names_both_lines(tmp_path):
    path = write(tmp_path / "counts.csv", "gene,s1\nG1,1\nG2,2\nG1,3\n")
    (error,) = errors_of(path)
    assert error.row == 4 and error.value == "G1" and error.column == "gene"
    assert "lines 2 and 4" in str(error)


def test_empty_and_header_only_files(tmp_path):
    (empty,) = errors_of(write(tmp_path / "empty.tsv", ""))
    assert "empty" in str(empty)
    (header_only,) = errors_of(write(tmp_path / "header.tsv", "gene\ts1\ts2\n"))
    assert header_only.row == 1 and "no gene rows" in str(header_only)


def test_header_problems(tmp_path):
    errors = errors_of(write(tmp_path / "counts.csv", "gene,s1,s1,\nG1,1,2,3\n"))
    messages = " | ".join(str(e) for e in errors)
    assert "appears in the header twice" in messages
    assert "column 4 holds counts but has no sample name" in messages


def test_sheet_sample_without_column(tmp_path):
    path = write(tmp_path / "counts.tsv", "gene\ts1\ts2\nG1\t1\t2\n")
    (error,) = errors_of(path, samples=["s1", "s3"])
    assert error.value == "s3" and error.row == 1
    assert "s1, s2" in str(error)


def test_error_list_is_capped(tmp_path):
    body = "".join(f"G{i},{i}.5\n" for i in range(100))
    errors = errors_of(write(tmp_path / "counts.csv", "gene,s1\n" + body))
    assert len(errors) == 21
    assert "80 more" in str(errors[-1])


def test_large_matrix_reads_exactly(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.negative_binomial(2, 0.01, size=(2000, 120))
    frame = pd.DataFrame(values, index=[f"ENSG{i:011d}.1" for i in range(2000)],
                         columns=[f"sample {i}" for i in range(120)])
    frame.index.name = "gene_id"
    path = tmp_path / "big.tsv.gz"
    frame.to_csv(path, sep="\t")
    counts, _ = read_counts(path)
    np.testing.assert_array_equal(counts.to_numpy(), values)
    assert counts.columns.tolist() == frame.columns.tolist()


# --------------------------------------------------------------------------- large matrices


def test_large_matrices_read_by_blocks_as_the_careful_reader_reads_them(tmp_path, monkeypatch):
    """The block reader of large plain matrices gives the careful reader's table; anything unusual goes to the careful reader."""
    import fibroskin.io.counts as counts_module

    rng = np.random.default_rng(5)
    values = rng.poisson(30, size=(1000, 6))
    names = [f"S{i}" for i in range(6)]
    table = pd.DataFrame(values, columns=names, index=pd.Index([f"G{i:04d}" for i in range(1000)], name="gene_id"))
    plain = tmp_path / "plain.tsv"
    table.to_csv(plain, sep="\t")
    gzipped = tmp_path / "plain.tsv.gz"
    gzipped.write_bytes(gzip.compress(plain.read_bytes()))
    careful = {path: read_counts(path, samples=names[::-1]) for path in (plain, gzipped)}
    monkeypatch.setattr(counts_module, "LARGE_MATRIX_BYTES", 0)
    monkeypatch.setattr(counts_module, "LARGE_MATRIX_BLOCK_ROWS", 97)
    for path in (plain, gzipped):
        fast, notes = read_counts(path, samples=names[::-1])
        pd.testing.assert_frame_equal(fast, careful[path][0])
        assert any("read in blocks" in note for note in notes), notes
    # what the block reader leaves to the careful reader, with the careful reader's message
    text = plain.read_text().splitlines()
    cases = {
        "fraction.tsv": (3, "\t12.5"), "negative.tsv": (4, "\t-3"), "missing.tsv": (5, "\t"),
        "word.tsv": (6, "\tabc"),
    }
    for name, (line, cell) in cases.items():
        broken = list(text)
        fields = broken[line - 1].split("\t")
        fields[2] = cell.strip("\t")
        broken[line - 1] = "\t".join(fields)
        path = write(tmp_path / name, "\n".join(broken) + "\n")
        problems = errors_of(path)
        assert [(p.row, p.column) for p in problems] == [(line, "S1")], (name, problems)
    duplicated = list(text)
    duplicated[9] = duplicated[8]
    problems = errors_of(write(tmp_path / "duplicated.tsv", "\n".join(duplicated) + "\n"))
    assert problems[0].row == 10 and "appears twice" in problems[0].message
    blank = text[:5] + [""] + text[5:]
    fast, notes = read_counts(write(tmp_path / "blank.tsv", "\n".join(blank) + "\n"))
    # (a blank line: the careful reader, which skips it)
    assert len(fast) == 1000 and not any("read in blocks" in note for note in notes), notes
