"""Transcript-to-gene tables: tximport's two-column ``tx2gene``, or the annotation's GTF.

``rnaseq.tx2gene`` names either

* a table as tximport takes it: transcript ID, then gene ID (TSV or CSV, optionally
  gzipped, with or without a header line; a third column, as in nf-core/rnaseq's
  ``tx2gene.tsv``, is taken as the gene name); or
* a GTF (optionally gzipped), told from its content: nine tab-separated fields with
  ``transcript_id "..."`` and ``gene_id "..."`` attributes; ``gene_name`` gives symbols.

As tximport's ``cleanTx2Gene``, a transcript listed twice keeps its first gene.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fibroskin.errors import ErrorCollector
from fibroskin.io.text import read_text, sniff_delimiter

_ATTRIBUTE = {name: re.compile(rf'(?:^|;)\s*{name} "([^"]*)"') for name in ("transcript_id", "gene_id", "gene_name")}


@dataclass
class Tx2Gene:
    """Gene (and optionally gene name) of each transcript.

    Attributes
    ----------
    genes
        Gene ID indexed by transcript ID (each transcript once).
    symbols
        Gene name indexed by gene ID, when the file gives names (GTF ``gene_name``, third
        column of the table), else ``None``.
    layout
        ``"table"`` or ``"GTF"``.
    notes
        What was assumed, for the log.
    """

    genes: pd.Series
    symbols: pd.Series | None
    layout: str
    notes: list[str] = field(default_factory=list)


def _is_gtf(first_line: str) -> bool:
    fields = first_line.split("\t")
    return len(fields) == 9 and "gene_id" in fields[8] and '"' in fields[8]


def _first_data_line(lines: list[str]) -> str:
    return next((line for line in lines if line.strip() and not line.startswith("#")), "")


def _from_gtf(text: str, path: Path, errors: ErrorCollector) -> Tx2Gene:
    rows = pd.read_csv(
        io.StringIO(text), sep="\t", header=None, comment=None, dtype=str, usecols=[0, 2, 8],
        names=list(range(9)), quoting=3, keep_default_na=False,
    )
    rows = rows[~rows[0].str.startswith("#")]
    with_transcript = rows[8].str.contains('transcript_id "', regex=False)
    transcript_rows = rows[with_transcript & (rows[2] == "transcript")]
    if transcript_rows.empty:
        transcript_rows = rows[with_transcript]
    if transcript_rows.empty:
        errors.add("the GTF has no line with a transcript_id attribute", file=path,
                   expected='lines with transcript_id "..." and gene_id "..." attributes (a GTF, not GFF3)')
        errors.raise_if_any()
    attributes = transcript_rows[8]
    pairs = pd.DataFrame({name: attributes.str.extract(pattern, expand=False) for name, pattern in _ATTRIBUTE.items()})
    pairs = pairs.dropna(subset=["transcript_id", "gene_id"]).drop_duplicates()
    notes = [f"{path}: GTF; {pairs['transcript_id'].nunique()} transcripts of {pairs['gene_id'].nunique()} genes"]
    genes = _first_gene_per_transcript(pairs["transcript_id"], pairs["gene_id"], path, notes)
    names = pairs.dropna(subset=["gene_name"]).drop_duplicates("gene_id")
    symbols = pd.Series(names["gene_name"].to_numpy(), index=names["gene_id"].to_numpy(), name="symbol") if len(names) else None
    return Tx2Gene(genes, symbols, "GTF", notes)


def _first_gene_per_transcript(transcripts: pd.Series, genes: pd.Series, path: Path, notes: list[str]) -> pd.Series:
    table = pd.DataFrame({"transcript": transcripts.to_numpy(), "gene": genes.to_numpy()})
    duplicated = table["transcript"].duplicated()
    if duplicated.any():
        notes.append(
            f"{path}: {int(duplicated.sum())} transcripts listed more than once (e.g. "
            f"'{table.loc[duplicated, 'transcript'].iloc[0]}'); each keeps its first gene, as tximport does"
        )
        table = table[~duplicated]
    return pd.Series(table["gene"].to_numpy(), index=pd.Index(table["transcript"].to_numpy(), name="transcript"), name="gene")


def _from_table(lines: list[str], path: Path, transcripts: Collection[str] | None, errors: ErrorCollector) -> Tx2Gene:
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    delimiter = sniff_delimiter(numbered[0][1])
    fields = [[cell.strip().strip('"') for cell in line.split(delimiter)] for _, line in numbered]
    notes: list[str] = []
    short = [(number, row) for (number, _), row in zip(numbered, fields) if len(row) < 2 or not row[0] or not row[1]]
    for number, row in short[:20]:
        errors.add(
            "row does not name a transcript and its gene",
            file=path, row=number, value=delimiter.join(row),
            expected="a transcript ID, then its gene ID (the two columns tximport takes as tx2gene)",
        )
    if short:
        return Tx2Gene(pd.Series(dtype=str), None, "table", notes)
    first_transcript = fields[0][0]
    # A header names the columns, not a transcript of the quantification: taking a
    # header-less file's first row for a header changes nothing when that transcript was
    # not quantified either, so the first row is data exactly when it is quantified.
    if transcripts is None or first_transcript not in transcripts:
        notes.append(f"{path}: first line taken as the header ({', '.join(fields[0])})")
        numbered, fields = numbered[1:], fields[1:]
    transcript_ids = pd.Series([row[0] for row in fields])
    gene_ids = pd.Series([row[1] for row in fields])
    notes.append(f"{path}: tx2gene table, {transcript_ids.nunique()} transcripts of {gene_ids.nunique()} genes")
    genes = _first_gene_per_transcript(transcript_ids, gene_ids, path, notes)
    symbols = None
    if fields and all(len(row) >= 3 for row in fields):
        names = pd.DataFrame({"gene": gene_ids, "name": [row[2] for row in fields]})
        names = names[names["name"] != ""].drop_duplicates("gene")
        symbols = pd.Series(names["name"].to_numpy(), index=names["gene"].to_numpy(), name="symbol")
        notes.append(f"{path}: third column taken as gene names (symbols)")
    return Tx2Gene(genes, symbols, "table", notes)


def read_tx2gene(path: str | Path, transcripts: Collection[str] | None = None) -> Tx2Gene:
    """Read ``rnaseq.tx2gene``: a two-column table or a GTF, told apart by content.

    Parameters
    ----------
    path
        The file.
    transcripts
        Transcript IDs of the quantification files, when known: a table's first row is
        data when it names one of them, else a header.

    Raises
    ------
    InputErrors
        Unreadable or empty file, rows without transcript or gene, a GTF without
        transcript lines.
    """
    decoded = read_text(path)
    errors = ErrorCollector()
    first = _first_data_line(decoded.lines)
    if _is_gtf(first):
        result = _from_gtf(decoded.text, decoded.path, errors)
    else:
        result = _from_table(decoded.lines, decoded.path, transcripts, errors)
    errors.raise_if_any()
    result.notes[:0] = decoded.notes
    return result


def version_free(ids: np.ndarray | pd.Index) -> np.ndarray:
    """IDs without a trailing version (``ENST00000456328.2`` -> ``ENST00000456328``)."""
    return np.array([re.sub(r"\.\d+$", "", str(i)) for i in ids])
