"""Sample sheets kept as spreadsheets: Excel (``.xlsx``, ``.xlsm``, ``.xls``) and OpenDocument (``.ods``).

Read with python-calamine (one Rust reader for all four formats): a 100-row sheet reads in
2 ms (xlsx) / 6 ms (ods) against 55 ms with openpyxl and 80 ms with odfpy, and it imports in
1 ms against openpyxl's 0.6 s, which every job that loads the sheet would pay
(``resources/benchmark/spreadsheet_readers.tsv``, ``compare_spreadsheet_readers.py``).

The table comes back exactly as :func:`fibroskin.io.text.read_table_text` returns a TSV:
values as stripped text, empty rows dropped, ``__line__`` the row number as the spreadsheet
shows it; the header is the first row with a ``sample`` cell, so a title above the table is
skipped. Errors name the file and sheet (:class:`SheetSource`), the row and the column by
header and letter (``column 'condition' (C)``).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fibroskin.errors import InputError, InputErrors

#: Suffixes read as spreadsheets.
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def is_spreadsheet(path: str | Path) -> bool:
    """Whether ``path`` is an Excel or OpenDocument workbook (by suffix, else by content)."""
    path = Path(path)
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        return True
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(8)
    if head == _OLE2_MAGIC:
        return True
    if head[:4] != _ZIP_MAGIC:
        return False
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return True
            return "mimetype" in names and b"opendocument.spreadsheet" in archive.read("mimetype")
    except zipfile.BadZipFile:
        return False


@dataclass(frozen=True)
class SheetSource:
    """A sheet of a workbook, as errors name it: ``samples.xlsx (sheet 'Samples'), row 3, column 'condition' (C)``.

    Behaves as a path (``os.fspath``) wherever the sample sheet's file is needed.
    """

    path: Path
    sheet: str
    letters: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    #: What :class:`fibroskin.errors.InputError` calls a line of this file.
    row_word = "row"

    def __str__(self) -> str:
        return f"{self.path} (sheet '{self.sheet}')"

    def __fspath__(self) -> str:
        return str(self.path)

    def column_label(self, column: str) -> str:
        """``'condition' (C)``: the header and, when the sheet has it, its letter."""
        letter = self.letters.get(column)
        return f"'{column}' ({letter})" if letter else f"'{column}'"


def cell_text(value: object) -> str:
    """A cell as the lab typed it: whole numbers without ``.0``, dates as ISO dates, text stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    return str(value).strip()


def _closest(name: str, choices: list[str]) -> str:
    import difflib

    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""


def read_spreadsheet_table(path: str | Path, sheet: str | None = None) -> tuple[pd.DataFrame, SheetSource, list[str]]:
    """Read one sheet of a workbook as a table of text, like a TSV.

    Parameters
    ----------
    path
        The workbook (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``).
    sheet
        Name of the sheet; ``None``: the first one.

    Returns
    -------
    table, source, notes
        ``table``: the header row (the first row with a ``sample`` cell, else the first row
        with a value) names the columns; one row
        per non-empty row below it, values as stripped text, ``__line__`` the spreadsheet's
        row number. ``source`` names the file, sheet and column letters for errors.

    Raises
    ------
    InputErrors
        When the file is not a readable workbook, the sheet does not exist or holds nothing.
    """
    from python_calamine import CalamineWorkbook

    path = Path(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as error:  # noqa: BLE001 - calamine raises its own types for every broken file
        raise InputErrors([
            InputError(
                f"file is not a readable spreadsheet ({type(error).__name__}: {str(error).splitlines()[0][:120]})",
                file=path,
                expected="an Excel (.xlsx, .xls) or OpenDocument (.ods) workbook, or a tab-separated text file",
            )
        ]) from None
    names = list(workbook.sheet_names)
    if sheet is None:
        if not names:
            raise InputErrors([InputError("the workbook has no sheet", file=path, expected="a sheet with the samples")])
        sheet = names[0]
    elif sheet not in names:
        raise InputErrors([
            InputError(
                f"the workbook has no sheet '{sheet}'" + _closest(sheet, names),
                file=path,
                column="samples_sheet",
                value=sheet,
                expected=f"one of its sheets: {', '.join(names)}",
            )
        ])
    rows = [[cell_text(value) for value in row] for row in workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)]
    notes = [f"{path}: read sheet '{sheet}' of {len(names)}"]
    filled = [index for index, row in enumerate(rows) if any(row)]
    # A title or notes above the table are common: the header is the first row naming a
    # 'sample' column, else the first row with a value.
    header_index = next((index for index in filled if "sample" in rows[index]), filled[0] if filled else None)
    if header_index is not None and header_index != filled[0]:
        notes.append(f"{path}: sheet '{sheet}': rows above the header (row {header_index + 1}) skipped")
    if header_index is None:
        raise InputErrors([
            InputError(f"sheet '{sheet}' is empty", file=SheetSource(path, sheet),
                       expected="a header row (sample, condition, ...) and one row per sample")
        ])
    header = rows[header_index]
    body = [(number, row) for number, row in enumerate(rows[header_index + 1 :], start=header_index + 2) if any(row)]
    width = max([len(header)] + [len(row) for _, row in body])
    header = header + [""] * (width - len(header))
    keep = [index for index in range(width) if header[index] or any(index < len(row) and row[index] for _, row in body)]
    # Columns left of the table (the sheet starts in column B) or empty to its right carry nothing.
    columns = [header[index] or f"column_{column_letter(index)}" for index in keep]
    values = [[row[index] if index < len(row) else "" for index in keep] for _, row in body]
    table = pd.DataFrame(values, columns=columns, dtype=object) if values else pd.DataFrame(columns=columns, dtype=object)
    table["__line__"] = [number for number, _ in body]
    table = table.reset_index(drop=True)
    table.attrs["header_row"] = header_index + 1
    letters = {name: column_letter(index) for name, index in zip(columns, keep)}
    return table, SheetSource(path, sheet, letters), notes
