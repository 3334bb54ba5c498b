"""Read RNA-seq count matrices: plain gene x sample tables, featureCounts output, and
nf-core/rnaseq's merged tables (salmon or RSEM estimated counts, gene lengths).

Whatever the source, :func:`read_count_table` returns the same thing: a genes x samples
``int64`` DataFrame (index ``gene``, columns = sample names), the gene names a table
carries, what the table is, and notes on what was assumed. nf-core/rnaseq's merged tables
are told by their header (``gene_id`` then ``gene_name``, salmon; ``gene_id`` then
``transcript_id(s)``, RSEM); their estimated counts are rounded as R's ``round()`` rounds
them in ``DESeqDataSetFromTximport``. Rows of STAR's and HTSeq-count's summaries
(``N_unmapped``, ``__no_feature``, ...) in a merged matrix are dropped and reported. Every problem in the file is reported with its file, line (as an editor shows
it, header = line 1), column (the sample), the value as written and what was expected,
all problems of one file together.

Parsing uses pandas' C parser on the whole table, and validation is vectorised over
cells, so a 20,000 x 500 matrix reads in about a second; Python only touches the lines
that turned out to be wrong.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from fibroskin.errors import ErrorCollector
from fibroskin.io.gene_counts import is_special_row
from fibroskin.io.text import DecodedText, read_text, sniff_delimiter

#: Annotation columns written by featureCounts between ``Geneid`` and the samples.
FEATURECOUNTS_ANNOTATION = ("Chr", "Start", "End", "Strand", "Length")

#: File-name endings that aligners and BAM post-processing add to a sample name, removed
#: (repeatedly, longest first) to recover the sample from a featureCounts column.
BAM_SUFFIXES = (
    "Aligned.sortedByCoord.out",
    "Aligned.out",
    ".sortedByCoord.out",
    ".sortedByCoord",
    ".sorted",
    ".sort",
    ".markdup",
    ".markdups",
    ".dedup",
    ".deduplicated",
    ".filtered",
    ".aligned",
    ".primary",
    ".unique",
    ".bam",
    ".sam",
    ".cram",
)

#: At most this many locations are listed per kind of problem; the rest are counted, so
#: a matrix written with the wrong decimal mark does not produce a million-line message.
MAX_REPORTED_PER_PROBLEM = 20

_PROGRAM_FEATURECOUNTS = re.compile(r"^#\s*Program:\s*featureCounts", re.IGNORECASE)

#: nf-core/rnaseq merged tables: ``gene_id``, then this annotation column, then the samples.
NFCORE_ANNOTATION = {"gene_name": "salmon", "transcript_id(s)": "RSEM"}

#: nf-core/rnaseq's file names for salmon's counts from abundance (tximport's
#: ``countsFromAbundance``); the content does not tell them apart.
NFCORE_SCALED_NAMES = (("gene_counts_length_scaled", "lengthScaledTPM"), ("gene_counts_scaled", "scaledTPM"))

#: What the cells of a table must be: read counts, estimated counts, lengths.
VALUE_KINDS = {
    "read counts": "a non-negative integer count",
    "estimated counts": "a non-negative number (an estimated count)",
    "lengths": "a positive number (an average transcript length)",
}


@dataclass
class CountTable:
    """A count table as read.

    Attributes
    ----------
    counts
        Genes x samples, ``int64`` (estimated counts rounded as R rounds them).
    symbols
        Gene name per gene ID when the table has a ``gene_name`` column, else ``None``.
    layout
        What the file is, as the log names it (``count matrix``, ``featureCounts``,
        ``nf-core/rnaseq salmon merged gene counts``, ...).
    counts_from_abundance
        ``None`` for read counts; for estimated counts tximport's ``countsFromAbundance``
        they were made with (``no``, ``scaledTPM``, ``lengthScaledTPM``).
    notes
        What was assumed while reading, for the log.
    """

    counts: pd.DataFrame
    symbols: pd.Series | None
    layout: str
    counts_from_abundance: str | None
    notes: list[str]


def read_counts(path: str | Path, samples: Sequence[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The counts and notes of :func:`read_count_table` (for callers that need no more)."""
    table = read_count_table(path, samples)
    return table.counts, table.notes


def read_count_table(path: str | Path, samples: Sequence[str] | None = None) -> CountTable:
    """Read a count matrix (plain TSV/CSV, optionally gzipped, featureCounts output, or an
    nf-core/rnaseq merged table).

    Parameters
    ----------
    path
        Count file. Plain matrix: first column gene IDs, then one column per sample,
        delimiter sniffed from the header. featureCounts: recognised by its
        ``# Program:featureCounts`` comment and/or its ``Geneid Chr Start End Strand
        Length`` header; annotation columns are dropped.
    samples
        Sample names of the sample sheet. When given, columns are matched to them
        (exactly, else by BAM file name without aligner suffixes, else by the one sheet
        name found in the column as a whole word, e.g. in a BAM path), returned in sheet
        order; every sheet sample must have a column, and unmatched columns are dropped
        with a note.

    Returns
    -------
    CountTable
        ``counts``: genes x samples, ``int64``, index named ``gene``, columns named
        ``sample``; the table's gene names; its layout; notes on what was assumed while
        reading (encoding, format, dropped columns and rows, renamed columns, rounding).

    Raises
    ------
    InputErrors
        All problems of the file at once: empty file or no gene rows, read counts that
        are not non-negative integers (negative, fractional, non-numeric or missing),
        estimated counts that are not non-negative numbers, a table of TPM, duplicated
        or missing gene IDs, duplicated or unnamed sample columns, sheet samples without
        a column. ``12.0`` (as R writes integer-valued doubles) and ``1e+05`` are
        integers and accepted.
    """
    matrix = _read_matrix(path, samples, kind="read counts")
    notes = matrix.notes
    values, gene_ids = matrix.values, matrix.gene_ids
    special = np.array([is_special_row(gene) for gene in gene_ids], dtype=bool)
    if special.any():
        names = gene_ids[special]
        totals = "; ".join(
            f"{name} " + ", ".join(f"{int(v):d}" if float(v).is_integer() else f"{v:g}" for v in values[i])
            for name, i in zip(names, np.flatnonzero(special))
        )
        notes.append(
            f"{matrix.path}: {int(special.sum())} summary row(s) of STAR or HTSeq-count dropped, they are not genes "
            f"(per sample: {totals})"
        )
        values, gene_ids = values[~special], gene_ids[~special]
    counts_from_abundance = None
    symbols = None
    layout = matrix.layout
    if matrix.annotation_name is not None:
        tool = NFCORE_ANNOTATION[matrix.annotation_name]
        if tool == "salmon" and "kallisto" in matrix.path.name.lower():
            tool = "kallisto"  # nf-core/rnaseq's --pseudo_aligner kallisto writes the same layout
        counts_from_abundance = "no"
        for fragment, mode in NFCORE_SCALED_NAMES:
            if fragment in matrix.path.name:
                counts_from_abundance = mode
        layout = f"nf-core/rnaseq {tool} merged gene counts" + (
            f" ({counts_from_abundance}, counts from abundance)" if counts_from_abundance != "no" else ""
        )
        if matrix.annotation_name == "gene_name":
            names = matrix.annotation[~special] if special.any() else matrix.annotation
            symbols = pd.Series(names, index=gene_ids, name="symbol")
            symbols = symbols[symbols != ""]
            notes.append(f"{matrix.path}: gene_name column taken as the genes' symbols")
        rounded = np.rint(values)
        changed = int((rounded != values).sum())
        notes.append(
            f"{matrix.path}: {changed} of {values.size} estimated counts were not whole numbers; rounded to "
            "integers as R's round() does (halves to even), as DESeqDataSetFromTximport does"
        )
        values = rounded
    notes.insert(len(matrix.decoding_notes), f"{matrix.path}: read as {layout}")
    counts = pd.DataFrame(
        values.astype(np.int64, copy=False), index=pd.Index(gene_ids, name="gene"),
        columns=pd.Index(matrix.columns, name="sample"),
    )
    notes.append(f"{matrix.path}: read {counts.shape[0]} genes x {counts.shape[1]} samples")
    return CountTable(counts, symbols, layout, counts_from_abundance, notes)


def read_length_table(path: str | Path, samples: Sequence[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a genes x samples table of average transcript lengths (``rnaseq.lengths``).

    The layout of nf-core/rnaseq's ``salmon.merged.gene_lengths.tsv`` (``gene_id``,
    ``gene_name``, samples) or a plain matrix (gene ID, samples); every value a positive
    number. Columns are matched to the sheet's samples as count columns are.

    Returns
    -------
    lengths, notes
        Genes x samples ``float64``; what was assumed.
    """
    matrix = _read_matrix(path, samples, kind="lengths")
    lengths = pd.DataFrame(
        matrix.values, index=pd.Index(matrix.gene_ids, name="gene"), columns=pd.Index(matrix.columns, name="sample")
    )
    matrix.notes.append(f"{matrix.path}: read {lengths.shape[0]} genes x {lengths.shape[1]} samples of lengths")
    return lengths, matrix.notes


@dataclass
class _Matrix:
    """A gene x sample table after parsing and checking every cell."""

    path: Path
    values: np.ndarray
    gene_ids: np.ndarray
    columns: list[str]
    layout: str
    annotation_name: str | None
    annotation: np.ndarray | None
    notes: list[str]
    decoding_notes: list[str]


def _nfcore_annotation(header: list[str]) -> str | None:
    """The nf-core/rnaseq annotation column a header has in second place, if any."""
    if len(header) > 2 and header[0].strip().lower() == "gene_id" and header[1].strip() in NFCORE_ANNOTATION:
        return header[1].strip()
    return None


#: Count matrices of at least this many bytes are first read by :func:`_read_large_count_matrix`.
LARGE_MATRIX_BYTES = 64 * 2**20
#: Rows per block of :func:`_read_large_count_matrix`.
LARGE_MATRIX_BLOCK_ROWS = 4096


def _read_matrix(path: str | Path, samples: Sequence[str] | None, kind: str) -> _Matrix:
    """Parse a gene x sample table and check every cell against ``kind`` (:data:`VALUE_KINDS`)."""
    if kind == "read counts" and Path(path).is_file() and Path(path).stat().st_size >= LARGE_MATRIX_BYTES:
        large = _read_large_count_matrix(Path(path), samples)
        if large is not None:
            return large
    decoded = read_text(path)
    notes = list(decoded.notes)
    errors = ErrorCollector()
    lines = decoded.lines

    header_index, is_featurecounts_comment = _skip_comment_lines(lines)
    if header_index is None:
        errors.add("file has no header line, only comments", file=decoded.path, expected="a header line and gene rows")
        errors.raise_if_any()
    header_line_number = header_index + 1
    delimiter = sniff_delimiter(lines[header_index])
    header = [name.strip() for name in next(csv.reader([lines[header_index]], delimiter=delimiter))]

    body_lines, body_line_numbers = _non_blank_lines(lines, header_index + 1)
    if not body_lines:
        errors.add(
            "file has a header but no gene rows",
            file=decoded.path,
            row=header_line_number,
            expected="one row per gene after the header",
        )
        errors.raise_if_any()

    table, line_numbers, header = _parse_body(decoded, body_lines, body_line_numbers, header, delimiter, notes)
    if table.empty:
        errors.add("file has a header but only empty rows", file=decoded.path, row=header_line_number,
                   expected="one row per gene after the header")
        errors.raise_if_any()

    is_featurecounts = is_featurecounts_comment or _has_featurecounts_header(header)
    layout = "count matrix" if kind != "lengths" else "length matrix"
    if is_featurecounts:
        table, header = _drop_featurecounts_annotation(table, header, decoded.path, notes)
        layout = "featureCounts"
    annotation_name = _nfcore_annotation(header)
    annotation = None
    if annotation_name is not None:
        annotation = table[1].fillna("").astype(str).str.strip().to_numpy() if 1 in table.columns else None
        table = table.drop(columns=[1], errors="ignore")
        if kind == "read counts":
            kind = "estimated counts"

    gene_column_name = header[0] or "gene"
    sample_columns = [int(c) for c in table.columns[1:]]
    _check_sample_header(header, sample_columns, decoded.path, header_line_number, errors)
    if not sample_columns:
        errors.add(
            "count table has a gene column but no sample columns",
            file=decoded.path,
            row=header_line_number,
            expected="one column of counts per sample after the gene column",
        )
        errors.raise_if_any()

    gene_ids = table[0].fillna("").astype(str).str.strip()
    _check_gene_ids(gene_ids, line_numbers, decoded.path, gene_column_name, errors)
    values = _validate_values(table, sample_columns, header, line_numbers, decoded, delimiter, errors, kind)
    if kind == "estimated counts" and not errors:
        _check_not_tpm(values, header, sample_columns, decoded.path, header_line_number, errors)

    column_to_sample = _map_columns_to_samples(
        header, sample_columns, samples, is_featurecounts, decoded.path, header_line_number, errors, notes
    )
    errors.raise_if_any()

    columns = [column_to_sample.get(c, header[c]) for c in sample_columns]
    if samples is not None:
        order = [columns.index(sample) for sample in samples]
        values, columns = values[:, order], list(samples)
    return _Matrix(
        decoded.path, values, gene_ids.to_numpy(), columns, layout, annotation_name, annotation, notes,
        list(decoded.notes),
    )


def _read_large_count_matrix(path: Path, samples: Sequence[str] | None) -> _Matrix | None:
    """A large plain count matrix, read block by block straight into integers; ``None`` if unusual.

    The careful reader below holds a file's text several times over (bytes, text, lines,
    a joined copy) beside a float table: 6 GB for 2,000 samples x 60,000 genes. A plain
    matrix (UTF-8 without BOM, ``\\n`` line ends, a header of unique sample names, no
    comments, quotes, blank lines, featureCounts or nf-core columns) whose every count is
    a non-negative integer is read here by pandas in blocks of rows into one ``int64``
    array (the counts' own size), with the careful reader's checks of gene IDs and of the
    sample columns. Anything else -- including any count that is not a non-negative
    integer -- returns ``None``, and the careful reader reads the file and reports every
    problem as it always does.
    """
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as handle:
        head = handle.read(1 << 20)
    if head[:3] == b"\xef\xbb\xbf" or head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\r" in head or b'"' in head:
        return None
    first_newline = head.find(b"\n")
    if first_newline < 0 or head.startswith(b"#"):
        return None
    try:
        header_line = head[:first_newline].decode("utf-8")
    except UnicodeDecodeError:
        return None
    delimiter = sniff_delimiter(header_line)
    header = [name.strip() for name in header_line.split(delimiter)]
    if len(header) < 2 or not all(header) or _has_featurecounts_header(header) or _nfcore_annotation(header) is not None:
        return None
    num_rows = _count_lines(path, opener) - 1
    num_columns = len(header) - 1
    values = np.empty((num_rows, num_columns), dtype=np.int64)
    gene_ids: list[np.ndarray] = []
    filled = 0
    try:
        blocks = pd.read_csv(
            path, sep=delimiter, header=None, skiprows=1, names=list(range(len(header))), dtype={0: str},
            keep_default_na=False, na_values=[""], chunksize=LARGE_MATRIX_BLOCK_ROWS, engine="c",
            skip_blank_lines=False, quoting=csv.QUOTE_NONE, encoding="utf-8",
        )
        for block in blocks:
            counts = block.iloc[:, 1:]
            if filled + len(block) > num_rows or not all(np.issubdtype(dtype, np.integer) for dtype in counts.dtypes):
                return None  # blank or ragged lines, missing or non-integer counts: the careful reader says which
            block_values = counts.to_numpy(dtype=np.int64)
            if (block_values < 0).any():
                return None
            values[filled:filled + len(block)] = block_values
            gene_ids.append(block[0].fillna("").astype(str).str.strip().to_numpy())
            filled += len(block)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
        return None
    if filled != num_rows or filled == 0:
        return None
    genes = pd.Series(np.concatenate(gene_ids))
    errors = ErrorCollector()
    notes = [f"{path}: {path.stat().st_size / 2**20:.0f} MB count matrix read in blocks of {LARGE_MATRIX_BLOCK_ROWS} rows"]
    sample_columns = list(range(1, len(header)))
    _check_sample_header(header, sample_columns, path, 1, errors)
    _check_gene_ids(genes, np.arange(2, filled + 2), path, header[0] or "gene", errors)
    column_to_sample = _map_columns_to_samples(header, sample_columns, samples, False, path, 1, errors, notes)
    errors.raise_if_any()
    columns = [column_to_sample.get(c, header[c]) for c in sample_columns]
    if samples is not None:
        order = [columns.index(sample) for sample in samples]
        if order != list(range(len(columns))):
            values = values[:, order]
        columns = list(samples)
    return _Matrix(path, values, genes.to_numpy(), columns, "count matrix", None, None, notes, [])


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _count_lines(path: Path, opener) -> int:
    """Lines of a file (a last line without ``\\n`` counts), read in 16 MB pieces."""
    lines, last = 0, b"\n"
    with opener(path, "rb") as handle:
        while piece := handle.read(1 << 24):
            lines += piece.count(b"\n")
            last = piece[-1:]
    return lines + (last != b"\n")


def _check_not_tpm(
    values: np.ndarray, header: list[str], sample_columns: list[int], path: Path, header_line: int, errors: ErrorCollector
) -> None:
    """Refuse a table of TPM given as counts (nf-core writes ``gene_tpm.tsv`` beside ``gene_counts.tsv``).

    Every column of a TPM table sums to one million; counts do not.
    """
    sums = values.sum(axis=0)
    if len(sums) and np.all(np.abs(sums - 1e6) <= 1e3):
        errors.add(
            "every sample column sums to 1,000,000: these are TPM (abundances), not counts",
            file=path,
            row=header_line,
            column=header[sample_columns[0]],
            value=f"{sums[0]:.1f}",
            expected="estimated counts, e.g. nf-core/rnaseq's salmon.merged.gene_counts.tsv (not gene_tpm.tsv)",
        )


def _skip_comment_lines(lines: list[str]) -> tuple[int | None, bool]:
    """Index of the header line after leading ``#`` comments, and whether featureCounts wrote them."""
    is_featurecounts = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            is_featurecounts = is_featurecounts or bool(_PROGRAM_FEATURECOUNTS.match(stripped))
            continue
        return index, is_featurecounts
    return None, is_featurecounts


def _non_blank_lines(lines: list[str], start: int) -> tuple[list[str], np.ndarray]:
    """Lines after the header that hold anything, with their 1-based line numbers."""
    kept = [(number, line) for number, line in enumerate(lines[start:], start=start + 1) if line.strip()]
    if not kept:
        return [], np.array([], dtype=np.int64)
    numbers, body = zip(*kept)
    return list(body), np.asarray(numbers, dtype=np.int64)


def _field_counts(body_lines: list[str], delimiter: str) -> np.ndarray:
    """Number of fields per line; quoted lines are parsed properly, the rest counted fast."""
    counts = np.fromiter((line.count(delimiter) + 1 for line in body_lines), dtype=np.int64, count=len(body_lines))
    quoted = [i for i, line in enumerate(body_lines) if '"' in line]
    for i in quoted:
        counts[i] = len(next(csv.reader([body_lines[i]], delimiter=delimiter)))
    return counts


def _parse_body(
    decoded: DecodedText,
    body_lines: list[str],
    body_line_numbers: np.ndarray,
    header: list[str],
    delimiter: str,
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Parse the data rows with pandas, keeping each row's line number in the file.

    Rows consisting only of delimiters and columns that are empty in the header and in
    every row (spreadsheets add both) are dropped with a note.
    """
    width = max(len(header), int(_field_counts(body_lines, delimiter).max()))
    with warnings.catch_warnings():
        # Mixed numbers and text in one column are expected here: validation reports them.
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        table = _read_fields(body_lines, delimiter, width)
    header = header + [""] * (width - len(header))
    return _drop_empty(table, body_line_numbers, header, decoded, notes)


def _read_fields(body_lines: list[str], delimiter: str, width: int) -> pd.DataFrame:
    return pd.read_csv(
        io.StringIO("\n".join(body_lines)),
        sep=delimiter,
        header=None,
        names=list(range(width)),
        index_col=False,
        dtype={0: str},
        skip_blank_lines=False,
        keep_default_na=False,
        na_values=[""],
    )


def _drop_empty(
    table: pd.DataFrame, body_line_numbers: np.ndarray, header: list[str], decoded: DecodedText, notes: list[str]
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Drop rows that are only delimiters and columns empty in the header and every row."""
    empty_rows = table.isna().all(axis=1).to_numpy()
    if empty_rows.any():
        notes.append(f"{decoded.path}: {int(empty_rows.sum())} empty row(s) ignored")
        table = table.loc[~empty_rows].reset_index(drop=True)
        body_line_numbers = body_line_numbers[~empty_rows]

    empty_columns = [c for c in table.columns if c > 0 and not header[c] and table[c].isna().all()]
    if empty_columns:
        notes.append(f"{decoded.path}: {len(empty_columns)} empty trailing column(s) ignored")
        # Columns keep their field position in the line as label, so that a problem can
        # be quoted from the original text.
        table = table.drop(columns=empty_columns)
    return table, body_line_numbers, header


def _has_featurecounts_header(header: list[str]) -> bool:
    names = [name.lower() for name in header[:6]]
    return names == ["geneid"] + [name.lower() for name in FEATURECOUNTS_ANNOTATION]


def _drop_featurecounts_annotation(
    table: pd.DataFrame, header: list[str], path: Path, notes: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Remove featureCounts' Chr/Start/End/Strand/Length columns."""
    annotation = {name.lower() for name in FEATURECOUNTS_ANNOTATION}
    drop = [i for i, name in enumerate(header) if i > 0 and name.lower() in annotation]
    notes.append(f"{path}: featureCounts output; annotation column(s) {', '.join(header[i] for i in drop)} dropped")
    return table.drop(columns=[c for c in drop if c in table.columns]), header


def _check_sample_header(
    header: list[str], sample_columns: list[int], path: Path, header_line: int, errors: ErrorCollector
) -> None:
    """Every sample column needs a unique, non-empty name."""
    seen: dict[str, int] = {}
    for position, name in ((c + 1, header[c]) for c in sample_columns):
        if not name:
            errors.add(
                f"column {position} holds counts but has no sample name",
                file=path,
                row=header_line,
                column=f"column {position}",
                value=name,
                expected="a sample name in the header",
            )
        elif name in seen:
            errors.add(
                f"sample name appears in the header twice (columns {seen[name]} and {position})",
                file=path,
                row=header_line,
                column=name,
                value=name,
                expected="unique sample names",
            )
        else:
            seen[name] = position


def _check_gene_ids(
    gene_ids: pd.Series, line_numbers: np.ndarray, path: Path, column: str, errors: ErrorCollector
) -> None:
    """Gene IDs must be present and unique; a duplicate names both lines."""
    missing = np.flatnonzero((gene_ids == "").to_numpy())
    for i in missing[:MAX_REPORTED_PER_PROBLEM]:
        errors.add("row has counts but no gene ID", file=path, row=int(line_numbers[i]), column=column, value="",
                   expected="a gene ID in the first column")
    _add_overflow(errors, len(missing), "rows without a gene ID", path, column)

    present = (gene_ids != "").to_numpy()
    duplicated = gene_ids.duplicated(keep=False).to_numpy() & present
    if duplicated.any():
        first_line = pd.Series(line_numbers[duplicated]).groupby(gene_ids.to_numpy()[duplicated]).min()
        repeats = np.flatnonzero(gene_ids.duplicated(keep="first").to_numpy() & present)
        for i in repeats[:MAX_REPORTED_PER_PROBLEM]:
            gene = gene_ids.iloc[i]
            errors.add(
                f"gene ID '{gene}' appears twice (lines {int(first_line[gene])} and {int(line_numbers[i])})",
                file=path,
                row=int(line_numbers[i]),
                column=column,
                value=gene,
                expected="each gene ID once (sum or drop duplicated rows before the analysis)",
            )
        _add_overflow(errors, len(repeats), "duplicated gene IDs", path, column)


def _validate_values(
    table: pd.DataFrame,
    sample_columns: list[int],
    header: list[str],
    line_numbers: np.ndarray,
    decoded: DecodedText,
    delimiter: str,
    errors: ErrorCollector,
    kind: str = "read counts",
) -> np.ndarray:
    """Return the values as float array (genes x samples) after checking every cell.

    ``kind`` (:data:`VALUE_KINDS`): read counts must be non-negative integers, estimated
    counts non-negative numbers, lengths positive numbers. Checks are whole-array
    operations; only offending cells are re-read from their line to quote the value
    exactly as written.
    """
    expected_value = VALUE_KINDS[kind]
    raw = table[sample_columns]
    numeric = raw.apply(pd.to_numeric, errors="coerce") if (raw.dtypes == object).any() else raw
    values = numeric.to_numpy(dtype=np.float64)
    written_missing = raw.isna().to_numpy()
    not_a_number = np.isnan(values) & ~written_missing
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        negative = finite & (values < 0)
        not_positive = finite & (values <= 0) if kind == "lengths" else negative
        fractional = finite & ~negative & (values != np.floor(values)) if kind == "read counts" else np.zeros_like(finite)
        too_large = finite & (values > np.iinfo(np.int64).max)
    infinite = np.isinf(values)
    noun = "length" if kind == "lengths" else "count"

    problems = [
        (not_a_number | infinite, f"{noun} is not a number", expected_value),
        (written_missing, f"{noun} is missing", expected_value + (" (write 0 for no reads)" if noun == "count" else "")),
        (not_positive, f"{noun} is negative" if kind != "lengths" else "length is not positive", expected_value),
        (fractional, "count is not a whole number",
         "an integer read count (round estimated counts first, or give the upstream tool's own files: "
         "nf-core/rnaseq's merged tables or per-sample salmon, kallisto, RSEM files are read as they are)"),
        (too_large, f"{noun} is too large", f"a {noun} below 9.2e18"),
    ]
    for mask, message, expected in problems:
        rows, columns = np.nonzero(mask)
        for row, column in zip(rows[:MAX_REPORTED_PER_PROBLEM], columns[:MAX_REPORTED_PER_PROBLEM]):
            position = sample_columns[column]
            errors.add(
                message,
                file=decoded.path,
                row=int(line_numbers[row]),
                column=header[position],
                value=_cell_as_written(decoded, int(line_numbers[row]), position, delimiter),
                expected=expected,
            )
        _add_overflow(errors, len(rows), f"cells where {message}", decoded.path, None)
    return np.where(finite, values, 0.0)


def _cell_as_written(decoded: DecodedText, line_number: int, position: int, delimiter: str) -> str:
    fields = next(csv.reader([decoded.lines[line_number - 1]], delimiter=delimiter))
    return fields[position].strip() if position < len(fields) else ""


def _add_overflow(errors: ErrorCollector, total: int, what: str, path: Path, column: str | None) -> None:
    if total > MAX_REPORTED_PER_PROBLEM:
        errors.add(
            f"... and {total - MAX_REPORTED_PER_PROBLEM} more {what} (only the first {MAX_REPORTED_PER_PROBLEM} listed)",
            file=path,
            column=column,
        )


def strip_bam_suffixes(name: str) -> str:
    """``/data/aligned/lesional_1.sorted.bam`` -> ``lesional_1``.

    Directory and aligner/post-processing endings (:data:`BAM_SUFFIXES`) are removed
    repeatedly, so ``x.sorted.markdup.bam`` gives ``x``.
    """
    base = re.split(r"[\\/]", name)[-1]
    changed = True
    while changed:
        changed = False
        for suffix in BAM_SUFFIXES:
            if base.lower().endswith(suffix.lower()) and len(base) > len(suffix):
                base = base[: -len(suffix)].rstrip("._-") if suffix[0] != "." else base[: -len(suffix)]
                changed = True
                break
    return base


def match_sample(column: str, samples: Sequence[str]) -> str | None:
    """The sheet sample a count column belongs to, or ``None`` if none or ambiguous.

    Tried in order: exact name; file name without BAM suffixes; the single sheet name
    occurring in the column as a whole word (not followed or preceded by a letter or
    digit, so ``lesional_1`` is not found in ``lesional_10.bam``); the longest such name
    if it contains all others found.
    """
    sample_set = set(samples)
    if column in sample_set:
        return column
    base = strip_bam_suffixes(column)
    if base in sample_set:
        return base
    found = [s for s in samples if re.search(rf"(?<![A-Za-z0-9]){re.escape(s)}(?![A-Za-z0-9])", column)]
    if len(found) == 1:
        return found[0]
    if found:
        longest = max(found, key=len)
        if all(other in longest for other in found):
            return longest
    return None


def _map_columns_to_samples(
    header: list[str],
    sample_columns: list[int],
    samples: Sequence[str] | None,
    is_featurecounts: bool,
    path: Path,
    header_line: int,
    errors: ErrorCollector,
    notes: list[str],
) -> dict[int, str]:
    """Column position -> sample name.

    Without a sample sheet, featureCounts columns (BAM paths) become their file names
    without suffixes and plain matrix columns keep their names.
    """
    if samples is None:
        if not is_featurecounts:
            return {c: header[c] for c in sample_columns}
        mapping = {c: strip_bam_suffixes(header[c]) for c in sample_columns}
    else:
        mapping = {}
        for c in sample_columns:
            sample = match_sample(header[c], samples)
            if sample is not None:
                mapping[c] = sample
    renamed = [f"'{header[c]}' -> '{s}'" for c, s in mapping.items() if header[c] != s]
    if renamed:
        notes.append(f"{path}: count columns renamed to sample names: {'; '.join(renamed)}")

    by_sample: dict[str, int] = {}
    for c, sample in mapping.items():
        if sample in by_sample:
            errors.add(
                f"two count columns belong to sample '{sample}' ('{header[by_sample[sample]]}' and '{header[c]}')",
                file=path,
                row=header_line,
                column=header[c],
                value=header[c],
                expected="one count column per sample",
            )
        else:
            by_sample[sample] = c
    if samples is not None:
        unmatched = [header[c] for c in sample_columns if c not in mapping]
        if unmatched:
            notes.append(f"{path}: column(s) not in the sample sheet ignored: {', '.join(unmatched)}")
        for sample in samples:
            if sample not in by_sample:
                errors.add(
                    f"sample '{sample}' of the sample sheet has no count column",
                    file=path,
                    row=header_line,
                    value=sample,
                    expected="a count column named after every sample (columns: "
                    + ", ".join(header[c] for c in sample_columns[:10])
                    + (", ..." if len(sample_columns) > 10 else "")
                    + ")",
                )
    return mapping
