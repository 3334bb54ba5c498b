"""What every instrument-export reader shares: wells, column names, roles, the tidy finish.

A vendor reader (``quantstudio.py``, ``sds7900.py``, ``cfx.py``, ``rdml.py``,
``lightcycler.py``) turns its file into a :class:`Parsed` table of strings with tidy column
names and the line of each well; :func:`finish` turns that into the tidy well table of
:mod:`fibroskin.io.cq`, the same way for every instrument. :mod:`fibroskin.io.instruments`
tells the formats apart and calls the reader.

Well roles other than sample, standard and no-template control are mapped as follows:
negative controls (no-RT ``NRT``, ``NAC``, ``NTP``, ``Neg Ctrl``) count as ``ntc``, because
the same "is anything amplifying here?" check applies; positive controls (``Pos Ctrl``,
RDML ``pos``/``opt``) are neither samples nor standards and are dropped with a note.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from fibroskin.errors import ErrorCollector, InputError, InputErrors
from fibroskin.io.cq import WELL_COLUMNS, exact_floats, parse_task, table_to_wells
from fibroskin.io.text import sniff_delimiter

#: Columns of the table of values the instrument software computed and wrote into its export
#: (checked against fibroskin's own numbers by :mod:`fibroskin.miqe`).
INSTRUMENT_VALUE_COLUMNS = ["file", "plate", "target", "sample", "item", "value", "decimals", "wells"]

_WELL_POSITION = re.compile(r"^([A-Za-z]{1,2})0*([1-9][0-9]*)$")

#: Cq spellings of a well without a Cq.
NO_CQ = {"", "undetermined", "nan", "n/a", "no ct", "no cq"}

#: Instrument spellings of roles that are not in the tidy contract (see module docstring).
NEGATIVE_CONTROLS = {"nrt", "no rt", "-rt", "nac", "ntp", "neg", "neg ctrl", "negative control", "nrt control"}
POSITIVE_CONTROLS = {"pos", "pos ctrl", "positive control", "opt", "ipc", "npc"}


@dataclass
class Parsed:
    """A reader's intermediate result.

    Attributes
    ----------
    table
        Tidy-named string columns (``well``, ``sample``, ``target``, ``cq``, ``task``,
        ``quantity``, optional ``plate``, ``fluor``) plus ``__line__``.
    plate
        Plate id for wells without a ``plate`` column (the file name).
    notes
        What was assumed, for the log.
    columns_per_row
        Plate width, to turn well numbers into positions (12 for 96 wells, 24 for 384).
    instrument_values
        Rows of :data:`INSTRUMENT_VALUE_COLUMNS` (slope, efficiency, Cq mean ... as the file
        states them).
    """

    table: pd.DataFrame
    plate: str
    notes: list[str] = field(default_factory=list)
    columns_per_row: int = 12
    instrument_values: list[dict[str, object]] = field(default_factory=list)


def refuse(message: str, path: Path, expected: str, row: int | None = None, value: object = None) -> InputErrors:
    """The error for a file that is not a Cq export at all (raised by the caller)."""
    return InputErrors([InputError(message, file=path, row=row, value=value, expected=expected)])


# --------------------------------------------------------------------------- wells


def normalise_well(well: str) -> str | None:
    """Canonical well position: ``"a01"``, ``"A01"`` and ``"A1"`` all become ``"A1"``.

    Returns ``None`` when ``well`` is not a row-letter/column-number position.
    """
    match = _WELL_POSITION.match(well.strip())
    if not match:
        return None
    return f"{match.group(1).upper()}{int(match.group(2))}"


def well_number_to_position(number: int, columns: int = 12) -> str:
    """Convert a row-major well number (1 = A1, 13 = B1 on a 96-well plate) to ``A1`` style."""
    row, column = divmod(number - 1, columns)
    letters = ""
    row += 1
    while row:  # A..Z, then AA, AB ... for 1536-well plates
        row, remainder = divmod(row - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return f"{letters}{column + 1}"


def canonical_well(value: str, columns_per_row: int) -> str | None:
    """``A01``/``A1`` -> ``A1``; a well number (``13``, ``13.0``) -> its position."""
    text = value.strip()
    if re.fullmatch(r"[0-9]+(\.0+)?", text) and float(text) > 0:
        return well_number_to_position(int(float(text)), columns_per_row)
    return normalise_well(text)


# --------------------------------------------------------------------------- column names


def split_header(line: str) -> set[str]:
    """Normalised cell names of a delimited header line."""
    if not line.strip():
        return set()
    delimiter = sniff_delimiter(line)
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return {header_key(cell) for cell in cells}


def header_key(name: str) -> str:
    """Compare column names case- and space-insensitively; the 7500 writes "Cт" (Cyrillic т)."""
    key = name.strip().lower().replace("\u0442", "t")
    return re.sub(r"\s+", " ", key)


def map_columns(columns: Iterable[str], spellings: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """File column -> tidy name, preferring the earlier spelling (``Well Position`` over ``Well``)."""
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(header_key(column), column)
    mapping: dict[str, str] = {}
    for tidy, candidates in spellings.items():
        for candidate in candidates:
            if candidate in by_key and by_key[candidate] not in mapping:
                mapping[by_key[candidate]] = tidy
                break
    return mapping


def parse_number(text: str) -> float:
    """A number as instruments print it: ``1,250.000`` (thousands separator), ``1e8``; NaN if none."""
    cleaned = text.strip()
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return float("nan")


def instrument_value(
    path: Path, plate: str, item: str, text: object, target: str = "", sample: str = "", wells: str = ""
) -> dict[str, object] | None:
    """One row of :data:`INSTRUMENT_VALUE_COLUMNS`; ``decimals`` is the precision printed.

    Spreadsheet cells hold full doubles; their printed precision is unknown (``decimals``
    -1), so comparisons use a relative tolerance there.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value, decimals = float(text), -1
    else:
        cleaned = str(text or "").strip()
        value = parse_number(cleaned)
        decimals = len(cleaned.split(".", 1)[1]) if "." in cleaned and "e" not in cleaned.lower() else 0
    if not np.isfinite(value):
        return None
    return {"file": str(path), "plate": plate, "target": target, "sample": sample, "item": item, "value": value, "decimals": decimals, "wells": wells}


# --------------------------------------------------------------------------- the tidy finish


def finish(
    parsed: Parsed,
    path: Path,
    plate_map: pd.DataFrame | None,
    errors: ErrorCollector,
    apply_plate_map=None,
) -> tuple[pd.DataFrame, list[str]]:
    """Normalise wells and roles, apply the plate map and build the tidy well table.

    Wells are left out, with a note, when the file itself says they hold nothing to analyse:
    empty wells (no sample, no target, no Cq), unused wells (a target assigned but no sample
    and no Cq, as Design & Analysis writes every well of a plate layout) and positive
    controls.
    """
    table = parsed.table.copy()
    notes = list(parsed.notes)
    for column in ("sample", "target", "cq", "task", "quantity", "well"):
        if column not in table:
            table[column] = ""
    table = table.fillna("")
    no_cq = table["cq"].str.strip().str.lower().isin(NO_CQ)
    blank = (table["sample"] == "") & (table["target"] == "") & no_cq & (table["task"].map(lambda task: parse_task(str(task))) == "unknown")
    if blank.any():
        notes.append(f"{path}: {int(blank.sum())} empty well(s) without sample, target or Cq skipped")
        table = table.loc[~blank]
        no_cq = no_cq[~blank]

    role = table["task"].str.strip().str.lower()
    positive = role.isin(POSITIVE_CONTROLS) | role.str.startswith("pos")
    if positive.any():
        notes.append(f"{path}: {int(positive.sum())} positive-control well(s) are neither samples nor standards; skipped")
        table = table.loc[~positive]
        role, no_cq = role[~positive], no_cq[~positive]
    negative = role.isin(NEGATIVE_CONTROLS) | role.str.startswith("neg")
    if negative.any():
        notes.append(f"{path}: {int(negative.sum())} negative-control well(s) (no-RT / no-amplification) checked like NTCs")
        table.loc[negative, "task"] = "ntc"
    table = table.reset_index(drop=True)
    no_cq = no_cq.reset_index(drop=True)

    wells_text = table["well"].astype(str)
    canonical = wells_text.map(lambda value: canonical_well(value, parsed.columns_per_row) if value else "")
    for index in canonical.index[canonical.isna()]:
        errors.add("not a well position", file=path, row=int(table.at[index, "__line__"]), column="well", value=wells_text[index], expected="a well such as A1, A01 or a well number")
    table["well"] = canonical.fillna(wells_text)
    if "plate" not in table:
        table["plate"] = parsed.plate
    if plate_map is not None and apply_plate_map is not None:
        keep, map_notes = apply_plate_map(table, plate_map, path, errors)
        notes += map_notes
        table, no_cq = table.loc[keep].reset_index(drop=True), no_cq.loc[keep].reset_index(drop=True)

    if len(table) and (table["target"] == "").all():
        has_fluor = "fluor" in table and (table["fluor"] != "").any()
        errors.add(
            f"the export names no target for any of its {len(table)} wells",
            file=path,
            column="target",
            value="",
            expected="target names set in the instrument software before export, or a plate map "
            + ("with columns well, fluor and target (one row per well and dye)" if has_fluor else "with columns well and target")
            + " (config qpcr.plate_map)",
        )
        return pd.DataFrame(columns=WELL_COLUMNS), notes

    unused = (table["sample"] == "") & table["task"].map(lambda task: parse_task(str(task)) == "unknown") & no_cq
    if unused.any():
        lines = table.loc[unused, "__line__"].astype(int).tolist()
        notes.append(
            f"{path}: {int(unused.sum())} unused well(s) (a target assigned, no sample, no Cq) skipped: "
            f"lines {_line_list(lines)}"
        )
        table = table.loc[~unused].reset_index(drop=True)

    quantity_text = table.pop("quantity").astype(str).str.strip()
    cq_raw = table["cq_raw"] if "cq_raw" in table else None
    table["cq"] = table["cq"].astype(str)
    wells, cq_notes = table_to_wells(table, path, parsed.plate, errors)
    notes += cq_notes
    if cq_raw is not None:
        wells["cq_raw"] = cq_raw.to_numpy()
    quantities, quantity_notes = standard_quantities(quantity_text, wells, path, errors)
    wells["quantity"] = quantities
    notes += quantity_notes
    return wells[WELL_COLUMNS].reset_index(drop=True), notes


def _line_list(lines: list[int], limit: int = 12) -> str:
    shown = ", ".join(str(line) for line in lines[:limit])
    return shown + (f" ... ({len(lines)} in all)" if len(lines) > limit else "")


def standard_quantities(text: pd.Series, wells: pd.DataFrame, path: Path, errors: ErrorCollector) -> tuple[np.ndarray, list[str]]:
    """Input amounts of standard wells; NaN elsewhere.

    Instruments also write the quantity they interpolated for unknown wells into the same
    column; the contract keeps only the amount the user put into standards. Accepted:
    ``1000``, ``1e8``, ``1,250.000`` (thousands separators, as QuantStudio prints) and
    ``0,02`` (decimal commas used throughout the column). A standard without any amount in
    the file is kept as a standard without quantity (it cannot enter a standard curve) and
    noted; a written amount that is not a positive number is an error.
    """
    notes: list[str] = []
    text = text.reset_index(drop=True)
    is_standard = (wells["task"] == "standard").to_numpy()
    empty = text.str.lower().isin({"", "nan", "n/a", "na", "-"})
    numeric_like = text[~empty]
    thousands = numeric_like.str.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
    decimal_comma = numeric_like.str.fullmatch(r"-?\d+,\d+") & ~thousands
    if thousands.any() and not decimal_comma.any():
        cleaned = text.str.replace(",", "", regex=False)
        notes.append(f"{path}: quantities written with thousands separators (e.g. {numeric_like[thousands].iloc[0]!r}) read without them")
    elif decimal_comma.any() and not numeric_like.str.contains(r"\.", regex=True).any():
        cleaned = text.str.replace(",", ".", regex=False)
    else:
        cleaned = text
    values = exact_floats(cleaned.where(~empty, ""))
    missing = is_standard & empty.to_numpy()
    if missing.any():
        targets = sorted(set(wells.loc[missing, "target"]))
        notes.append(
            f"WARNING: {path}: {int(missing.sum())} standard well(s) of {', '.join(targets)} carry no quantity in the file, "
            "so no standard curve can be fitted from them; they are kept as standards and enter no test"
        )
    for index in np.flatnonzero(is_standard & ~empty.to_numpy() & ~(values > 0)):
        errors.add(
            "standard well has no positive quantity",
            file=path,
            row=int(wells["line"].iloc[index]),
            column="quantity",
            value=text.iloc[index],
            expected="the input amount of the dilution (a number > 0, e.g. 1000 or 0.02)",
        )
    return np.where(is_standard, values, np.nan), notes
