"""Write the QuantStudio XLSX example from the committed CSV export (needs openpyxl).

The workbook is built at test time (``tests/test_instruments.py`` calls
:func:`write_quantstudio_xlsx` into a temporary folder), so no binary file is committed
and the XLSX holds exactly the wells of ``quantstudio_results.csv``: the test compares the
two readers' output cell by cell.

Layout, as the QuantStudio Design & Analysis software writes its Excel export: a sheet
named ``Results`` whose first rows hold the header block as key/value cells (column A the
key, column B the value), one empty row, then the results table; numbers are numeric
cells, ``Undetermined`` a text cell.

Run directly to write ``quantstudio_results.xlsx`` next to this script for a look in a
spreadsheet program: ``python tests/data/formats/make_xlsx.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cell(value: str) -> object:
    """Numbers as numeric cells (as the instrument writes them), anything else as text."""
    try:
        number = float(value)
    except ValueError:
        return value if value != "" else None
    return int(number) if value.isdigit() else number


def write_quantstudio_xlsx(target: str | Path, source: str | Path = HERE / "quantstudio_results.csv") -> Path:
    """Convert the QuantStudio CSV example into an XLSX export at ``target``."""
    import openpyxl

    lines = Path(source).read_text(encoding="utf-8").splitlines()
    results_at = lines.index("[Results]")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Results"
    for line in lines[:results_at]:
        if line.startswith("* ") and " = " in line:
            key, value = line[2:].split(" = ", 1)
            sheet.append([key.strip(), value.strip() or None])
    sheet.append([])
    for row in csv.reader(lines[results_at + 1 :]):
        sheet.append([_cell(value) for value in row])
    workbook.create_sheet("Amplification Data").append(["Well", "Well Position", "Cycle", "Target Name", "Rn", "Delta Rn"])
    target = Path(target)
    workbook.save(target)
    return target


if __name__ == "__main__":
    print(write_quantstudio_xlsx(HERE / "quantstudio_results.xlsx"))
