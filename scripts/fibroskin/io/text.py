"""Decode the text files labs actually produce: BOMs, UTF-16, Windows line endings.

Instrument software and Excel write tables in many encodings. Everything that can be read
unambiguously is accepted and noted (the notes end up in the rule's log), so a user learns
what was assumed without having to re-save the file.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fibroskin.errors import InputError, InputErrors


@dataclass
class DecodedText:
    """The text of a file plus what had to be assumed to read it."""

    path: Path
    text: str
    encoding: str
    notes: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def read_text(path: str | Path) -> DecodedText:
    """Read a (possibly gzipped) text file, detecting BOMs, UTF-16 and line endings.

    Parameters
    ----------
    path
        File to read; a ``.gz`` suffix or gzip magic bytes mean gzip.

    Returns
    -------
    DecodedText
        Text with ``\\n`` line endings, the encoding used and notes on what was assumed.

    Raises
    ------
    InputErrors
        When the file does not exist, is empty, or is not text in a known encoding.
    """
    path = Path(path)
    if not path.exists():
        raise InputErrors([InputError("file does not exist", file=path, expected="an existing file")])
    raw = path.read_bytes()
    notes: list[str] = []
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
        notes.append(f"{path}: read as gzip-compressed")
    return _decode(raw, path, notes)


def _decode(raw: bytes, path: Path, notes: list[str]) -> DecodedText:
    """:func:`read_text`'s decoding of a file's (decompressed) bytes."""
    if not raw.strip():
        raise InputErrors([InputError("file is empty", file=path, expected="a header line and data rows")])

    if raw[:3] == b"\xef\xbb\xbf":
        encoding, raw = "utf-8", raw[3:]
        notes.append(f"{path}: UTF-8 byte-order mark removed")
    elif raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
        notes.append(f"{path}: read as UTF-16 (as exported by some instrument software)")
    elif len(raw) > 3 and raw[1:2] == b"\x00" and raw[3:4] == b"\x00":
        encoding = "utf-16-le"
        notes.append(f"{path}: read as UTF-16 little-endian without byte-order mark")
    else:
        encoding = "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        # Excel on Windows still writes cp1252 ("Latin-1"); five bytes are undefined in it.
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as error:
            raise InputErrors(
                [
                    InputError(
                        f"file is not text in a known encoding (byte {raw[error.start]:#04x} at offset {error.start})",
                        file=path,
                        expected="a text table in UTF-8 (with or without BOM), UTF-16 or Windows-1252",
                    )
                ]
            ) from None
        encoding = "cp1252"
        notes.append(f"{path}: not valid UTF-8, read as Windows-1252 (Latin-1)")
    if "\r\n" in text or "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        notes.append(f"{path}: Windows line endings converted")
    if "\x00" in text:
        raise InputErrors(
            [InputError("file is binary, not a text table", file=path, expected="a TSV or CSV text file")]
        )
    return DecodedText(path=path, text=text, encoding=encoding, notes=notes)


def read_text_head(path: str | Path, max_bytes: int = 1 << 20) -> DecodedText:
    """:func:`read_text` of a file's first lines: the whole file if it is at most ``max_bytes``.

    For checks that look at a table's header only (its delimiter, its column names),
    so that a count table of thousands of samples is not decoded for them; the readers of
    the whole table check the rest. The text ends at the last line break within
    ``max_bytes`` (of the decompressed text, for gzip).
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size <= max_bytes:
        return read_text(path)
    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    with (gzip.open if compressed else open)(path, "rb") as handle:
        head = handle.read(max_bytes)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) > 3 and head[1:2] == b"\x00" and head[3:4] == b"\x00"):
        return read_text(path)  # UTF-16: not cut between the bytes of a character
    cut = max(head.rfind(b"\n"), head.rfind(b"\r"))
    if cut > 0:
        head = head[: cut + 1]
    return _decode(head, path, [f"{path}: read as gzip-compressed"] if compressed else [])


def sniff_delimiter(header_line: str) -> str:
    """Pick the delimiter of a table from its header line: tab, comma or semicolon.

    A header has no quoted numbers, so the most frequent candidate is reliable; tab wins
    ties because it is the documented format.
    """
    counts = {delimiter: header_line.count(delimiter) for delimiter in ("\t", ",", ";")}
    best = max(counts, key=lambda d: (counts[d], d == "\t"))
    return best if counts[best] > 0 else "\t"


def read_table_text(decoded: DecodedText, first_line: int = 1) -> tuple[pd.DataFrame, str]:
    """Parse a delimited table (all values as strings) from decoded text.

    Parameters
    ----------
    decoded
        Output of :func:`read_text`.
    first_line
        1-based line number of the header within the file, so that callers can keep
        reporting line numbers as the user sees them.

    Returns
    -------
    table, delimiter
        Values as stripped strings ("" for empty cells); entirely empty trailing rows and
        unnamed empty columns removed (noted). Column ``__line__`` holds the line number
        of each row in the original file.
    """
    lines = decoded.lines[first_line - 1 :]
    delimiter = sniff_delimiter(lines[0])
    joined = "\n".join(lines)
    if '"' in joined:
        rows = list(csv.reader(io.StringIO(joined), delimiter=delimiter))
    else:
        # Without quotes the csv module splits exactly at the delimiter, only much slower
        # (an empty line is an empty row; an empty last line, after the final newline, none).
        rows = [line.split(delimiter) if line else [] for line in (lines if lines[-1] else lines[:-1])]
    header = [name.strip() for name in rows[0]]
    n_header = len(header)
    body: list[list[str]] = []
    line_numbers: list[int] = []
    for offset, row in enumerate(rows[1:], start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) < n_header:
            cells += [""] * (n_header - len(cells))
        body.append(cells)
        line_numbers.append(first_line + offset)
    width = max([n_header] + [len(row) for row in body])
    header = header + [""] * (width - n_header)
    if width > n_header:
        body = [row + [""] * (width - len(row)) for row in body]
    table = pd.DataFrame(body, columns=range(width), dtype=object)
    keep = [i for i, name in enumerate(header) if name or (len(table) and (table[i] != "").any())]
    if len(keep) < width:
        decoded.notes.append(f"{decoded.path}: {width - len(keep)} empty trailing column(s) ignored")
    table = table[keep]
    names = [header[i] if header[i] else f"column_{i + 1}" for i in keep]
    table.columns = unique_column_names(names, decoded.path, decoded.notes, table)
    table["__line__"] = line_numbers
    return table.reset_index(drop=True), delimiter


def unique_column_names(names: list[str], path: Path, notes: list[str], table: pd.DataFrame | None = None) -> list[str]:
    """Keep the first of repeated header names; later ones become ``"<name> (2)"``, noted.

    QuantStudio's 2024 results export repeats ``Target Name`` and ``Task`` at the end of its
    header. The first occurrence is the one read; the note says whether the repeats hold the
    same values.
    """
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        key = name.strip().lower()
        seen[key] = seen.get(key, 0) + 1
        unique.append(name if seen[key] == 1 else f"{name} ({seen[key]})")
    repeated = [name for name in dict.fromkeys(names) if seen[name.strip().lower()] > 1]
    if repeated:
        agreement = ""
        if table is not None:
            positions = {name: [i for i, other in enumerate(names) if other.strip().lower() == name.strip().lower()] for name in repeated}
            same = all((table.iloc[:, cols[0]] == table.iloc[:, col]).all() for cols in positions.values() for col in cols[1:])
            agreement = " (the repeats hold the same values)" if same else " (the repeats hold DIFFERENT values; the first is used)"
        notes.append(f"{path}: the header repeats column(s) {', '.join(repeated)}; the first of each is read{agreement}")
    return unique


def extra_field_errors(
    table: pd.DataFrame, decoded: DecodedText, delimiter: str, first_line: int = 1, limit: int = 10
) -> list[InputError]:
    """Rows of :func:`read_table_text` output holding more fields than the header names.

    Such a row is shifted or split (a stray delimiter, or ``23,45`` in a comma-separated
    file); reading it anyway would put values in the wrong column. At most ``limit`` rows
    are listed, the rest counted.
    """
    header = [name.strip() for name in next(csv.reader([decoded.lines[first_line - 1]], delimiter=delimiter))]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    extra = [c for c in table.columns if isinstance(c, str) and c.startswith("column_") and c[7:].isdigit() and int(c[7:]) > width]
    if not extra:
        return []
    filled = table[extra] != ""
    rows = table[filled.any(axis=1)]
    problems = []
    for index in rows.index[:limit]:
        used = [c for c in extra if filled.at[index, c]]
        values = [str(table.at[index, c]) for c in used]
        hint = ""
        if delimiter == "," and any(value.isdigit() for value in values):
            hint = (
                " (a decimal comma in a comma-separated file splits a number in two: quote such values, "
                "or use tab or semicolon as the delimiter)"
            )
        problems.append(
            InputError(
                f"row has {max(int(c[7:]) for c in used)} fields but the header has {width}{hint}",
                file=decoded.path,
                row=int(table.at[index, "__line__"]),
                value=", ".join(values),
                expected=f"{width} fields per row, one per header column",
            )
        )
    if len(rows) > limit:
        problems.append(
            InputError(f"... and {len(rows) - limit} more rows with more fields than the header", file=decoded.path)
        )
    return problems
