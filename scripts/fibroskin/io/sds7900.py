"""Applied Biosystems 7900HT, SDS 2.x results exports (text, tab-delimited).

Two layouts, told apart by the first line (``SDS 2.1 RQ Results``, ``SDS 2.2.2 AQ Results``):

RQ Results (relative quantification study)
    A header block (``Filename``, ``Assay Type``, ``Run DateTime`` ...), a blank line, then the
    well table ``Well``, ``PlateID``, ``Sample``, ``Detector``, ``Task`` (``Target`` or
    ``Endogenous Control``: both are sample wells; which gene normalises is fibroskin's
    ``reference_genes``), ``Ct`` (``Undetermined``), ``Ct Avg``, ``Avg Delta Ct`` ...,
    ``Filename`` (the plate, or TaqMan array card, each well belongs to). A blank line and a
    ``Summary Data`` section follow; it repeats per-sample results and is not read.
AQ Results (absolute quantification)
    The header block, a ``Sample Information`` line, then ``Well``, ``Sample Name``,
    ``Detector Name``, ``Reporter``, ``Task`` (Unknown / Standard / NTC), ``Ct``,
    ``Quantity`` ...

Wells are numbered row-major: 1-96 on a 96-well plate, 1-384 on a 384-well plate or array
card (read as 24 columns when a number above 96 occurs).

SDS writes ``Ct Avg`` 40 for a sample whose only replicate is ``Undetermined`` (40 = the run's
cycles): that is its convention for "no Ct", noted, and not compared with fibroskin's mean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fibroskin.errors import ErrorCollector
from fibroskin.io.exports import Parsed, instrument_value, map_columns
from fibroskin.io.text import DecodedText, read_table_text

COLUMNS: dict[str, tuple[str, ...]] = {
    "well": ("well",),
    "sample": ("sample", "sample name"),
    "target": ("detector", "detector name"),
    "task": ("task",),
    "cq": ("ct",),
    "quantity": ("quantity",),
    "plate": ("filename", "plateid"),
}

_TASKS = {"target": "unknown", "endogenous control": "unknown", "unknown": "unknown", "standard": "standard", "ntc": "ntc"}


def is_sds(lines: list[str]) -> bool:
    """The first line of an SDS 2.x results export: ``SDS 2.1RQ Results``, ``SDS 2.2.2\\tAQ Results``."""
    first = lines[0].strip().lower() if lines else ""
    return first.startswith("sds ") and "results" in first


def read_text(path: Path, decoded: DecodedText, errors: ErrorCollector) -> Parsed | None:
    """Read a 7900HT SDS 2.x RQ or AQ results export."""
    lines = decoded.lines
    header_index = next((i for i, line in enumerate(lines) if line.split("\t", 1)[0].strip().lower() == "well"), None)
    if header_index is None:
        errors.add("no well table found", file=path, expected="an SDS 2.x results export with a Well, Sample, Detector, Task, Ct table")
        return None
    end = next((i for i in range(header_index + 1, len(lines)) if not lines[i].strip()), len(lines))
    truncated = DecodedText(path=path, text="\n".join(lines[:end]), encoding=decoded.encoding, notes=decoded.notes)
    table, _ = read_table_text(truncated, first_line=header_index + 1)
    columns = [c for c in table.columns if c != "__line__"]
    mapping = map_columns(columns, COLUMNS)
    if "Filename" in columns and (table["Filename"] != "").any():
        mapping = {key: value for key, value in mapping.items() if value != "plate" or key == "Filename"}
    elif "PlateID" in columns and (table["PlateID"] != "").any():
        mapping = {key: value for key, value in mapping.items() if value != "plate" or key == "PlateID"}
    else:
        mapping = {key: value for key, value in mapping.items() if value != "plate"}
    missing = [name for name in ("well", "sample", "target", "cq") if name not in mapping.values()]
    if missing:
        errors.add(
            f"SDS results table lacks column(s) {', '.join(missing)}",
            file=path,
            row=header_index + 1,
            value=", ".join(columns),
            expected="Well, Sample (Name), Detector (Name), Task, Ct",
        )
        return None
    values = _instrument_values(path, table, mapping)
    table = table.rename(columns=mapping)
    notes = [f"{path}: ABI 7900HT {' '.join(lines[0].split())} export ({'; '.join(_block(lines[:header_index]))})"]
    if end < len(lines) and any(line.strip() for line in lines[end:]):
        notes.append(f"{path}: the section after line {end} (Summary Data) repeats per-sample results and is not read")
    if "task" in table:
        roles = table["task"].str.strip().str.lower()
        endogenous = roles == "endogenous control"
        if endogenous.any():
            genes = sorted(set(table.loc[endogenous, "target"]))
            notes.append(f"{path}: Endogenous Control wells ({', '.join(genes)}) are sample wells; the reference genes are qpcr.reference_genes")
        table["task"] = roles.map(lambda role: _TASKS.get(role, role))
    numbers = pd.to_numeric(table["well"], errors="coerce")
    columns_per_row = 24 if (numbers > 96).any() else 12
    notes.append(f"{path}: wells numbered 1-{int(numbers.max()) if numbers.notna().any() else 0} read as a {'384' if columns_per_row == 24 else '96'}-well layout")
    return Parsed(table=table, plate=path.name, notes=notes, columns_per_row=columns_per_row, instrument_values=values)


def _block(lines: list[str]) -> list[str]:
    shown = []
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.split("\t") if cell.strip()]
        if len(cells) >= 2 and cells[0] in ("Filename", "Assay Type", "Run DateTime", "EmbeddedFile"):
            shown.append(f"{cells[0]} {cells[1]}")
    return shown[:6]


def _instrument_values(path: Path, table: pd.DataFrame, mapping: dict[str, str]) -> list[dict[str, object]]:
    """``Ct Avg`` per plate, sample and detector; ``Avg Delta Ct`` against the endogenous control."""
    tidy = {value: key for key, value in mapping.items()}
    plate_column = tidy.get("plate")
    rows = []
    for item, column in (("cq_mean", "Ct Avg"), ("delta_cq_mean", "Avg Delta Ct")):
        if column not in table:
            continue
        keys = ([plate_column] if plate_column else []) + [tidy["sample"], tidy["target"]]
        for key, group in table.groupby(keys, sort=True):
            key = key if plate_column else (path.name, *key)
            written = group[column][group[column] != ""]
            if not len(written):
                continue
            if item == "cq_mean" and group[tidy["cq"]].str.lower().eq("undetermined").all() and written.iloc[0] in ("40", "40.0"):
                continue  # SDS's "no Ct" average (see the module docstring)
            row = instrument_value(path, key[0], item, written.iloc[0], target=key[2], sample=key[1])
            rows += [row] if row else []
    return rows


def undetermined_average_count(table: pd.DataFrame) -> int:
    """Wells whose ``Ct`` is Undetermined and whose ``Ct Avg`` is 40 (SDS's convention)."""
    if "Ct Avg" not in table:
        return 0
    return int(np.sum(table["Ct"].str.lower().eq("undetermined") & table["Ct Avg"].isin(["40", "40.0"])))
