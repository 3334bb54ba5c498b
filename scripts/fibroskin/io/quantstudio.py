"""Applied Biosystems QuantStudio, ViiA 7, 7500 and StepOne results exports.

Three layouts, one reader each:

Classic text export (QuantStudio Real-Time PCR Software, 7500 / ViiA 7 software; TXT with
tabs or CSV)
    A header block of ``* Key = value`` lines, then sections ``[Sample Setup]``,
    ``[Amplification Data]``, ..., ``[Results]``. The results table has ``Well``,
    ``Well Position``, ``Omit``, ``Sample Name``, ``Target Name`` (``Detector`` on the 7500),
    ``Task`` (UNKNOWN / STANDARD / NTC), ``CT``/``Ct``/``Cq``/``CRT`` (``Undetermined`` =
    not detected) and ``Quantity`` (``1,250.000``: thousands separators). Wells marked
    ``Omit = true`` were excluded in the instrument software and are dropped (noted). The
    2024 results-only export repeats ``Target Name`` and ``Task`` at the end of its header;
    the first of each is read.
Classic workbook (XLSX, or legacy XLS from the 7500 software)
    The same table in a ``Results`` sheet, below the header block as key/value cells; a
    footer (``Analysis Type``, ``Endogenous Control`` ...) may follow it.
Design & Analysis 2.x (QuantStudio 1/3/5/7 Pro; XLSX)
    ``Results`` sheet with ``Sample``, ``Target``, ``Task``, ``Cq`` (``UNDETERMINED``). The
    input amounts of standards are not in it: they are in ``Standard Curve Result``
    (``Quantity`` per well, standard-curve experiments) or ``Replicate Group Result``
    (``Quantity`` per sample and target, relative-quantification experiments with a
    standard curve). Every well of the plate layout is written, unused ones with a target,
    no sample and ``UNDETERMINED``: they are skipped (noted).

Files that hold no Cq-based quantification are refused with the reason: presence/absence
and genotyping experiments, and workbooks with setup and raw fluorescence only.

Values the software computed (standard-curve slope, intercept, R², efficiency; Ct mean;
Delta Ct mean) are collected as instrument values and checked against fibroskin's own
(:func:`fibroskin.miqe.compare_instrument_values`).

Why our own reader and not allotropy (Benchling's parser of these very files, 0.1.150):
measured on the 13 QuantStudio files of the project's real-export suite, allotropy returned
14 of 16 wells of ``appbio_quantstudio_example01`` and 3 of 16 of ``example05``, none of the
70 standard quantities of the Design & Analysis files (they live in the other sheets), and
the 3 unused wells of the QS7 Pro file as samples named after their well; it keeps no line
numbers for error messages and pulls in 13 packages. Workbooks are read with
python-calamine: the same cell values as openpyxl on every sheet read here, 10-40x faster.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fibroskin.errors import ErrorCollector
from fibroskin.io.exports import Parsed, header_key, instrument_value, map_columns, refuse, split_header
from fibroskin.io.text import DecodedText, read_table_text, unique_column_names

#: Tidy name -> header spellings (lower case, Cyrillic "т" already mapped to "t").
COLUMNS: dict[str, tuple[str, ...]] = {
    "well": ("well position", "well"),
    "sample": ("sample name", "sample"),
    "target": ("target name", "detector", "target", "detector name"),
    "task": ("task",),
    "cq": ("ct", "cq", "crt", "c(t)"),
    "quantity": ("quantity",),
    "omit": ("omit",),
}

#: Instrument value -> header spellings of the column holding it.
_VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "slope": ("slope",),
    "intercept": ("y-intercept",),
    "r_squared": ("r(superscript 2)", "r2", "r²"),
    "efficiency_pct": ("efficiency",),
    "cq_mean": ("ct mean", "cq mean", "crt mean"),
    "delta_cq_mean": ("delta ct mean", "delta crt mean", "delta cq mean"),
}

_NO_QUANTIFICATION = {
    "presence/absence": "presence/absence experiment",
    "genotyping": "genotyping experiment",
}


# --------------------------------------------------------------------------- text


def header_block(lines: list[str]) -> dict[str, str]:
    """``* Key = value`` lines of an Applied Biosystems export."""
    block: dict[str, str] = {}
    for line in lines:
        text = line.strip().strip(",;\t").strip().strip('"')
        if text.startswith("["):
            break
        if text.startswith("*") and "=" in text:
            key, value = text[1:].split("=", 1)
            block[key.strip()] = value.strip().strip(",;\t").strip()
    return block


def results_section(lines: list[str]) -> tuple[int, int] | None:
    """0-based index of the results header line and of the line after the section."""
    start = None
    for index, line in enumerate(lines):
        if line.strip().strip(",;\t").strip().lower() == "[results]":
            start = index + 1
            break
    if start is None:
        # Exports of the results table alone have no section marker.
        for index, line in enumerate(lines):
            headers = split_header(line)
            if "well" in headers and headers & {"ct", "cq", "crt"} and headers & {"sample name", "sample"}:
                return index, _section_end(lines, index + 1)
        return None
    while start < len(lines) and not lines[start].strip(" ,;\t"):
        start += 1
    if start >= len(lines):
        return None
    return start, _section_end(lines, start + 1)


def _section_end(lines: list[str], start: int) -> int:
    for index in range(start, len(lines)):
        if lines[index].strip().startswith("["):
            return index
    return len(lines)


def _block_columns(block: dict[str, str]) -> int:
    block_type = " ".join(f"{k} {v}" for k, v in block.items() if "block" in k.lower()).lower()
    return 24 if "384" in block_type else 12


def _refuse_without_quantification(path: Path, block: dict[str, str], headers: set[str]) -> None:
    experiment = block.get("Experiment Type", "")
    kind = next((name for key, name in _NO_QUANTIFICATION.items() if key in experiment.lower()), None)
    if kind is None and {"allele1 ct", "snp assay name"} & headers:
        kind = "genotyping experiment"
    if kind is None and "call" in headers and not headers & {"ct", "cq", "crt"} - {"call"} and "rn" in headers:
        kind = "presence/absence experiment"
    if kind:
        raise refuse(
            f"QuantStudio {kind} (Experiment Type = {experiment or 'not stated'}): its results are calls "
            "per well, with no Cq-based quantification of a target against reference genes",
            path,
            expected="a Standard Curve, Relative Standard Curve or Comparative Ct (ddCt) experiment's results export",
        )


def read_text(path: Path, decoded: DecodedText, errors: ErrorCollector) -> Parsed | None:
    """Read a classic QuantStudio / 7500 / ViiA 7 text export (TXT or CSV)."""
    lines = decoded.lines
    block = header_block(lines)
    section = results_section(lines)
    if section is None:
        _refuse_without_quantification(path, block, set())
        errors.add(
            "no [Results] section found",
            file=path,
            expected="a QuantStudio/7500 results export with a [Results] section (Export > Results)",
        )
        return None
    header_index, end_index = section
    _refuse_without_quantification(path, block, split_header(lines[header_index]))
    truncated = DecodedText(path=path, text="\n".join(lines[:end_index]), encoding=decoded.encoding, notes=decoded.notes)
    table, _ = read_table_text(truncated, first_line=header_index + 1)
    return results_table(path, table, header_index + 1, block, errors)


# --------------------------------------------------------------------------- workbooks


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value).strip()


def read_workbook(path: Path) -> dict[str, list[list[object]]]:
    """Every sheet of an XLSX or XLS workbook as rows of cell values (row 1 = index 0)."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    sheets = {}
    for name in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False)
        sheets[name] = rows
    return sheets


_WORKBOOK_SKIPPED = ("amplification data", "multicomponent", "raw data", "melt")


def read_xlsx(path: Path, errors: ErrorCollector) -> Parsed | None:
    """Read a QuantStudio / 7500 workbook (XLSX or XLS), classic or Design & Analysis."""
    from python_calamine import CalamineWorkbook

    names = CalamineWorkbook.from_path(str(path)).sheet_names
    wanted = [name for name in names if not name.lower().startswith(_WORKBOOK_SKIPPED)]
    sheets = {name: rows for name, rows in _read_sheets(path, wanted).items()}
    results = next((name for name in sheets if name.strip().lower() == "results"), None)
    candidates = [results] if results else list(sheets)
    for name in candidates:
        rows = [[_cell_text(value) for value in row] for row in sheets[name]]
        lines = ["\t".join(row) for row in rows]
        section = results_section(lines)
        if section is None:
            continue
        header = [cell.strip() for cell in rows[section[0]]]
        block = {row[0].lstrip("* ").strip(): row[1].strip() for row in rows[: section[0]] if len(row) > 1 and row[0]}
        _refuse_without_quantification(path, block, {header_key(cell) for cell in header})
        end = _table_end(rows, section[0] + 1)
        table = _rows_to_table(rows, section[0], end, path)
        keys = {header_key(cell) for cell in header}
        if "sample" in keys and "target" in keys and "sample name" not in keys:
            parsed = _design_and_analysis(path, table, section[0] + 1, block, sheets, errors)
        else:
            parsed = results_table(path, table, section[0] + 1, block, errors, sheet=name)
        if parsed is not None:
            parsed.notes.append(f"{path}: read sheet '{name}' of the workbook (line = spreadsheet row)")
            footer = {row[0]: row[1] for row in rows[end:] if len(row) > 1 and row[0] and row[1]}
            if footer.get("Endogenous Control"):
                parsed.notes.append(f"{path}: the export names its endogenous control: {footer['Endogenous Control']}")
        return parsed
    present = ", ".join(names)
    raw_only = all(name.lower().startswith(("sample setup", *_WORKBOOK_SKIPPED)) for name in names)
    if raw_only:
        setup = _read_sheets(path, names[:1])[names[0]]
        stated = next((str(row[1]) for row in setup[:40] if len(row) > 1 and str(row[0]).strip() == "Instrument Type"), "")
        instrument = "7500" if "7500" in stated or path.suffix.lower() == ".xls" else (stated or "QuantStudio")
        errors.add(
            f"{instrument} workbook holds only the {' and '.join(names)} sheets (plate setup and raw fluorescence), no Ct values",
            file=path,
            value=present,
            expected="an export that includes the Results (in the 7500 / QuantStudio software: File > Export, "
            "tick 'Results' along with the setup, one workbook)",
        )
    else:
        errors.add(
            "no results table found in the workbook",
            file=path,
            value=present,
            expected="a 'Results' sheet with Well, Sample Name, Target Name and CT/Cq columns",
        )
    return None


def _read_sheets(path: Path, names: list[str]) -> dict[str, list[list[object]]]:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    return {name: workbook.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in names}


def _table_end(rows: list[list[str]], start: int) -> int:
    """A workbook table ends at its first empty row, or at a footer line (``Analysis Type``)."""
    for index in range(start, len(rows)):
        cells = rows[index]
        if not any(cells) or not re.fullmatch(r"\d+", cells[0]) and not re.fullmatch(r"[A-Za-z]{1,2}\d+", cells[0]):
            return index
    return len(rows)


def _rows_to_table(rows: list[list[str]], header_index: int, end_index: int, path: Path) -> pd.DataFrame:
    """Spreadsheet rows -> the same string table :func:`read_table_text` gives for text."""
    header = [cell.strip() for cell in rows[header_index]]
    body, line_numbers = [], []
    for index in range(header_index + 1, end_index):
        cells = [cell.strip() for cell in rows[index]]
        if not any(cells):
            continue
        body.append((cells + [""] * len(header))[: len(header)])
        line_numbers.append(index + 1)
    names = [name if name else f"column_{i + 1}" for i, name in enumerate(header)]
    notes: list[str] = []
    unique = unique_column_names(names, path, notes)
    table = pd.DataFrame(body, columns=unique, dtype=object)
    table = table.loc[:, [name for name in unique if not name.startswith("column_") or (table[name] != "").any()]]
    table["__line__"] = line_numbers
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------- the results table


def results_table(
    path: Path,
    table: pd.DataFrame,
    header_line: int,
    block: dict[str, str],
    errors: ErrorCollector,
    sheet: str | None = None,
) -> Parsed | None:
    """Map a classic results table to tidy names, drop omitted wells, collect instrument values."""
    mapping = map_columns([c for c in table.columns if c != "__line__"], COLUMNS)
    missing = [name for name in ("well", "sample", "target", "cq") if name not in mapping.values()]
    if missing:
        errors.add(
            f"results table lacks column(s) {', '.join(missing)}" + (f" (sheet '{sheet}')" if sheet else ""),
            file=path,
            row=header_line,
            value=", ".join(c for c in table.columns if c != "__line__"),
            expected="Well / Well Position, Sample Name, Target Name (or Detector), CT / Ct / Cq",
        )
        return None
    values = _instrument_values(path, table, mapping)
    table = table.rename(columns=mapping)
    notes: list[str] = []
    details = ", ".join(f"{key} = {block[key]}" for key in ("Instrument Type", "Experiment Type", "Experiment Name") if key in block)
    if details:
        notes.append(f"{path}: Applied Biosystems export ({details})")
    if "omit" in table:
        omitted = table["omit"].str.strip().str.lower().isin({"true", "yes", "1"})
        if omitted.any():
            notes.append(
                f"{path}: {int(omitted.sum())} well(s) marked Omit in the instrument software dropped "
                f"(lines {', '.join(str(n) for n in table.loc[omitted, '__line__'])})"
            )
            table = table.loc[~omitted].reset_index(drop=True)
    return Parsed(table=table, plate=path.name, notes=notes, columns_per_row=_block_columns(block), instrument_values=values)


def _instrument_values(path: Path, table: pd.DataFrame, mapping: dict[str, str]) -> list[dict[str, object]]:
    """Per-target curve values and per-group Cq / Delta Cq means as the file prints them."""
    tidy = {value: key for key, value in mapping.items()}
    columns = map_columns([c for c in table.columns if c != "__line__"], _VALUE_COLUMNS)
    by_item = {item: column for column, item in columns.items()}
    rows: list[dict[str, object]] = []
    omitted = table[tidy["omit"]].str.lower().eq("true") if "omit" in tidy else pd.Series(False, index=table.index)
    kept = table.loc[~omitted]
    target_column, sample_column = tidy["target"], tidy["sample"]
    for item in ("slope", "intercept", "r_squared", "efficiency_pct"):
        if item not in by_item:
            continue
        for target, group in kept.groupby(target_column, sort=True):
            written = group[by_item[item]][group[by_item[item]] != ""]
            if len(written):
                row = instrument_value(path, path.name, item, written.iloc[0], target=target)
                rows += [row] if row else []
    task_column = tidy.get("task")
    for item in ("cq_mean", "delta_cq_mean"):
        if item not in by_item:
            continue
        keys = [sample_column, target_column] + ([task_column] if task_column else [])
        groups = [(key, group[by_item[item]][group[by_item[item]] != ""]) for key, group in kept.groupby(keys, sort=True)]
        # A replicate-group mean is one value per sample and target; a column that varies within
        # them (some exports repeat each well's own Ct there) is not one, and is not checked.
        if any(written.nunique() > 1 for _, written in groups):
            continue
        for key, written in groups:
            if len(written) and key[0] != "":
                row = instrument_value(path, path.name, item, written.iloc[0], target=key[1], sample=key[0])
                rows += [row] if row else []
    return rows


def _design_and_analysis(
    path: Path,
    table: pd.DataFrame,
    header_line: int,
    block: dict[str, str],
    sheets: dict[str, list[list[object]]],
    errors: ErrorCollector,
) -> Parsed | None:
    """Design & Analysis 2.x: wells from ``Results``, standard amounts from the result sheets."""
    parsed = results_table(path, table, header_line, block, errors, sheet="Results")
    if parsed is None:
        return None
    wells = parsed.table
    software = block.get("Software Name and Version", "Design & Analysis")
    parsed.notes.insert(0, f"{path}: QuantStudio Design & Analysis export ({block.get('Instrument Type', '')}, {software})")
    quantities: dict[tuple[str, str], str] = {}
    curve = _sheet_table(sheets, "Standard Curve Result")
    if curve is not None:
        standards = curve[curve["Task"].str.upper() == "STANDARD"]
        quantities = {("well", w, t): q for w, t, q in zip(standards["Well Position"], standards["Target"], standards["Quantity"])}
        source = "the 'Standard Curve Result' sheet (per well)"
        for target, group in curve.groupby("Target", sort=True):
            for item, column in (("slope", "Slope"), ("intercept", "Y-Intercept"), ("r_squared", "R2"), ("efficiency_pct", "Efficiency")):
                written = group[column][group[column] != ""] if column in group else []
                if len(written):
                    row = instrument_value(path, path.name, item, written.iloc[0], target=target)
                    parsed.instrument_values += [row] if row else []
    else:
        groups = _sheet_table(sheets, "Replicate Group Result")
        if groups is not None:
            quantities = {("group", s, t): q for s, t, q in zip(groups["Sample"], groups["Target"], groups["Quantity"]) if q not in ("", "-")}
        source = "the 'Replicate Group Result' sheet (per sample and target)"
    for sheet, items in (
        ("Replicate Group Result", (("cq_mean", "Cq Mean"),)),
        ("RQ Replicate Group Result", (("eqcq_mean", "EqCq Mean"), ("delta_eqcq_mean", "Delta EqCq Mean"))),
    ):
        groups = _sheet_table(sheets, sheet)
        if groups is None:
            continue
        for item, column in items:
            if column not in groups:
                continue
            for sample, target, text in zip(groups["Sample"], groups["Target"], groups[column]):
                row = instrument_value(path, path.name, item, text, target=target, sample=sample) if sample and text else None
                parsed.instrument_values += [row] if row else []
    standard = wells["task"].str.upper() == "STANDARD"
    if standard.any():
        if "quantity" not in wells:
            wells["quantity"] = ""
        for index in wells.index[standard]:
            key_well = ("well", wells.at[index, "well"], wells.at[index, "target"])
            key_group = ("group", wells.at[index, "sample"], wells.at[index, "target"])
            wells.at[index, "quantity"] = quantities.get(key_well, quantities.get(key_group, wells.at[index, "quantity"]))
        if quantities:
            parsed.notes.append(f"{path}: standard quantities of {int(standard.sum())} well(s) taken from {source}")
    return parsed


def _sheet_table(sheets: dict[str, list[list[object]]], name: str) -> pd.DataFrame | None:
    """A Design & Analysis result sheet: the header block, then a table from its header row on."""
    if name not in sheets:
        return None
    rows = [[_cell_text(value) for value in row] for row in sheets[name]]
    start = next((i for i, row in enumerate(rows) if row and row[0] in ("Well", "Sample")), None)
    if start is None:
        return None
    header = rows[start]
    body = []
    for row in rows[start + 1 :]:
        if not any(row):
            break
        body.append((row + [""] * len(header))[: len(header)])
    return pd.DataFrame(body, columns=unique_column_names(header, Path(name), []), dtype=object)
