"""Tab-separated tables whose columns a tool fixes (salmon, kallisto, RSEM, STAR, HTSeq).

Each upstream tool writes one file per sample with the same columns every time. This module
splits such a file into its fields, keeping every row's line number as an editor shows it,
and converts numeric columns, reporting every cell that is not a number it may hold with
file, line, column, value as written and what was expected. pandas parses the fields; the
checks are vectorised, and Python only touches the offending lines.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fibroskin.errors import ErrorCollector
from fibroskin.io.text import read_text

#: At most this many cells are listed per kind of problem and column; the rest are counted.
MAX_REPORTED = 20


@dataclass
class FieldTable:
    """The fields of a tab-separated file, as text.

    Attributes
    ----------
    path
        The file.
    header
        Field names of the header line, or ``None`` for a file without one.
    fields
        One row per non-blank data line; columns numbered from 0; values as written
        (stripped).
    line_numbers
        Line of each row in the file (1-based, as an editor numbers them).
    notes
        What was assumed while decoding (gzip, line endings, ...).
    """

    path: Path
    header: list[str] | None
    fields: pd.DataFrame
    line_numbers: np.ndarray
    notes: list[str]

    def column_name(self, position: int) -> str:
        """The header's name of a column, else ``column N`` (1-based)."""
        if self.header is not None and position < len(self.header):
            return self.header[position]
        return f"column {position + 1}"


def first_lines(path: str | Path, count: int = 10) -> list[str]:
    """The first lines of a (possibly gzipped) text file, without reading the rest.

    Enough to tell a tool's layout from its header; undecodable bytes are replaced (the full
    read, :func:`read_fields`, reports encoding problems).
    """
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    lines = []
    with opener(path, "rb") as handle:
        for _ in range(count):
            line = handle.readline(65536)
            if not line:
                break
            lines.append(line.decode("utf-8", errors="replace").removeprefix("\ufeff").rstrip("\r\n"))
    return lines


def read_fields(path: str | Path, has_header: bool) -> FieldTable:
    """Split a tab-separated file into text fields (gzip, BOM and CRLF handled by ``read_text``).

    Raises
    ------
    InputErrors
        When the file cannot be read, holds no data rows, or its rows differ in width
        (each such row is named).
    """
    decoded = read_text(path)
    kept = [(number, line) for number, line in enumerate(decoded.lines, start=1) if line.strip()]
    header = None
    if has_header and kept:
        header = [name.strip() for name in kept[0][1].split("\t")]
        kept = kept[1:]
    errors = ErrorCollector()
    if not kept:
        errors.add("file has no data rows", file=decoded.path, expected="one row per transcript or gene")
        errors.raise_if_any()
    widths = np.fromiter((line.count("\t") + 1 for _, line in kept), dtype=np.int64, count=len(kept))
    expected_width = len(header) if header is not None else int(widths[0])
    for index in np.flatnonzero(widths != expected_width)[:MAX_REPORTED]:
        errors.add(
            f"row has {widths[index]} tab-separated fields but {'the header has' if header else 'the first row has'} "
            f"{expected_width}",
            file=decoded.path,
            row=int(kept[index][0]),
            expected=f"{expected_width} fields on every line, as the tool writes them",
        )
    errors.raise_if_any()
    numbers, body = zip(*kept)
    fields = pd.read_csv(
        io.StringIO("\n".join(body)),
        sep="\t",
        header=None,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        quoting=csv.QUOTE_NONE,
        engine="c",
    )
    fields = fields.apply(lambda column: column.str.strip())
    return FieldTable(decoded.path, header, fields, np.asarray(numbers, dtype=np.int64), list(decoded.notes))


def numeric_column(
    table: FieldTable,
    position: int,
    errors: ErrorCollector,
    what: str,
    minimum: float = 0.0,
    integer: bool = False,
) -> np.ndarray:
    """One column as float, every cell that is not an acceptable number reported.

    Parameters
    ----------
    table
        Output of :func:`read_fields`.
    position
        0-based column.
    errors
        Collector the problems are added to.
    what
        What the column holds, for messages ("an estimated count", "an effective length").
    minimum
        Smallest value allowed (0 by default: counts, TPM and lengths are never negative).
    integer
        Require whole numbers (read counts).

    Returns
    -------
    numpy.ndarray
        The values; cells in error are 0, and the caller raises once all are collected.
    """
    written = table.fields[position]
    values = pd.to_numeric(written, errors="coerce").to_numpy(dtype=float)
    not_number = ~np.isfinite(values)
    with np.errstate(invalid="ignore"):
        too_small = ~not_number & (values < minimum)
        fractional = ~not_number & integer & (values != np.floor(values))
    expected = f"{what}: a {'whole ' if integer else ''}number >= {minimum:g}"
    problems = (
        (not_number, "value is not a number"),
        (too_small, f"value is below {minimum:g}"),
        (fractional, "value is not a whole number"),
    )
    for mask, message in problems:
        rows = np.flatnonzero(mask)
        for row in rows[:MAX_REPORTED]:
            errors.add(
                message,
                file=table.path,
                row=int(table.line_numbers[row]),
                column=table.column_name(position),
                value=str(written.iloc[row]),
                expected=expected,
            )
        if len(rows) > MAX_REPORTED:
            errors.add(
                f"... and {len(rows) - MAX_REPORTED} more cells where {message.replace('value is', 'the value is')}",
                file=table.path,
                column=table.column_name(position),
            )
    return np.where(not_number | too_small | fractional, 0.0, values)
