"""Read qPCR Cq tables in the long format into the tidy well table.

The tidy well table (:data:`WELL_COLUMNS`) is what every qPCR reader returns, whatever the
instrument: one row per well, ``cq`` as float with NaN meaning "not detected".
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from fibroskin.errors import ErrorCollector, InputErrors
from fibroskin.io.text import DecodedText, extra_field_errors, read_table_text, read_text

#: Columns of the tidy well table, in order.
WELL_COLUMNS = [
    "file",  # path of the source file, as configured
    "line",  # 1-based line of the well in that file (for error messages)
    "plate",  # plate identifier ("" when the file has none: the file name is used)
    "well",  # well position ("" when unknown)
    "sample",  # biological sample ID (matches the sample sheet for task "unknown")
    "target",  # gene symbol of the assay
    "cq",  # float; NaN = not detected
    "cq_raw",  # Cq as written in the file
    "task",  # "unknown" (biological sample) | "standard" | "ntc"
    "quantity",  # input amount of a standard well, NaN otherwise
]

#: Header spellings accepted for each tidy column (compared case-insensitively).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "sample": ("sample", "sample name", "sample_name", "samplename", "sample id", "sample_id"),
    "target": ("target", "target name", "target_name", "gene", "detector", "assay"),
    "cq": ("cq", "ct", "c(t)", "cp", "crt", "cq mean"),
    # QuantStudio's "Well" is a number; its "Well Position" (A1) is the well we want.
    "well": ("well position", "well_position", "well", "pos"),
    "plate": ("plate", "plate id", "plate_id", "run"),
    "task": ("task", "content", "role"),
    "quantity": ("quantity", "starting quantity (sq)", "sq", "qty"),
}

#: Cq spellings that mean "not detected".
NOT_DETECTED = {"", "undetermined", "na", "nan", "n/a", "-", "no ct", "no cq", "none", "nd", "n.d."}

#: Cq values beyond this are not plausible cycle numbers (runs have at most ~50 cycles).
MAX_PLAUSIBLE_CQ = 50.0

_TASK_ALIASES = {
    "unknown": "unknown",
    "unkn": "unknown",
    "sample": "unknown",
    "": "unknown",
    "standard": "standard",
    "std": "standard",
    "ntc": "ntc",
    "neg": "ntc",
    "negative": "ntc",
    "no template control": "ntc",
}

_COMMA_DECIMAL = re.compile(r"^-?\d+,\d+$")


def canonical_columns(columns: list[str]) -> dict[str, str]:
    """Map the file's column names to tidy names via :data:`COLUMN_ALIASES`."""
    by_key = {name.strip().lower(): name for name in reversed(columns)}
    mapping: dict[str, str] = {}
    for tidy, aliases in COLUMN_ALIASES.items():
        # Aliases are in order of preference: the first one present wins.
        for alias in aliases:
            if alias in by_key and by_key[alias] not in mapping:
                mapping[by_key[alias]] = tidy
                break
    return mapping


def parse_task(value: str) -> str | None:
    """Normalise an instrument's well role (``Task``/``Content``) to unknown|standard|ntc."""
    key = value.strip().lower()
    if key in _TASK_ALIASES:
        return _TASK_ALIASES[key]
    # Bio-Rad writes "Unkn-01", "Std-03", "NTC" ...
    for prefix, task in (("unkn", "unknown"), ("std", "standard"), ("ntc", "ntc")):
        if key.startswith(prefix):
            return task
    return None


def exact_floats(text: pd.Series) -> np.ndarray:
    """Strings to floats exactly as Python reads them (NaN where not a number).

    ``pd.to_numeric`` may land one unit in the last place away from the written decimal
    (``26.776044845581055`` -> ``26.77604484558105``); instrument workbooks hold full doubles,
    which must come back bit for bit.
    """

    def convert(value: object) -> float:
        if isinstance(value, str) and "_" in value:
            return float("nan")  # float() reads "1_000"; no instrument writes it
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return float("nan")

    return np.fromiter((convert(value) for value in text.to_numpy()), dtype=float, count=len(text))


def parse_cq_values(
    raw: pd.Series, lines: pd.Series, file: str | Path, column: str, errors: ErrorCollector
) -> tuple[np.ndarray, list[str]]:
    """Convert Cq strings to floats, NaN for not-detected spellings.

    Comma decimal separators (``23,45``) are accepted when every numeric value of the column
    uses them, which is unambiguous in a tab- or semicolon-delimited file.

    Returns
    -------
    values, notes
    """
    notes: list[str] = []
    text = raw.astype(str).str.strip()
    not_detected = text.str.lower().isin(NOT_DETECTED)
    candidates = text[~not_detected]
    if len(candidates) and candidates.str.match(_COMMA_DECIMAL).any():
        has_point = candidates.str.contains(r"\.", regex=True).any()
        if has_point:
            for index in candidates.index[candidates.str.match(_COMMA_DECIMAL)]:
                errors.add(
                    "decimal comma mixed with decimal points in the same column is ambiguous",
                    file=file,
                    row=int(lines[index]),
                    column=column,
                    value=text[index],
                    expected="one decimal separator throughout the column, e.g. 23.45",
                )
        else:
            text = text.where(not_detected, text.str.replace(",", ".", regex=False))
            notes.append(f"{file}: column '{column}' uses decimal commas; read 23,45 as 23.45")
    values = exact_floats(text.where(~not_detected, ""))
    bad = np.isnan(values) & ~not_detected.to_numpy()
    for index in np.flatnonzero(bad):
        if _COMMA_DECIMAL.match(text.iloc[index]):
            continue  # already reported as ambiguous
        errors.add(
            "Cq is not a number",
            file=file,
            row=int(lines.iloc[index]),
            column=column,
            value=raw.iloc[index],
            expected="a number, or Undetermined / NA / empty / - for not detected",
        )
    implausible = ~np.isnan(values) & ((values < 0) | (values > MAX_PLAUSIBLE_CQ))
    for index in np.flatnonzero(implausible):
        errors.add(
            "Cq outside the possible range of a qPCR run",
            file=file,
            row=int(lines.iloc[index]),
            column=column,
            value=raw.iloc[index],
            expected=f"a cycle number between 0 and {MAX_PLAUSIBLE_CQ:g}",
        )
    return values, notes


def parse_quantities(raw: pd.Series, lines: pd.Series, file: str | Path, errors: ErrorCollector) -> np.ndarray:
    """Standard input amounts: ``1000``, ``1,000.5`` (thousands separator) or ``0,02`` (decimal comma)."""
    text = raw.astype(str).str.strip()
    thousands = text.str.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?")
    text = text.where(~thousands, text.str.replace(",", "", regex=False))
    text = text.where(thousands, text.str.replace(",", ".", regex=False))
    empty = text.str.lower().isin({"", "na", "nan", "n/a", "-"})
    values = exact_floats(text.where(~empty, ""))
    for index in np.flatnonzero(np.isnan(values) & ~empty.to_numpy()):
        errors.add(
            "quantity is not a number",
            file=file,
            row=int(lines.iloc[index]),
            column="quantity",
            value=raw.iloc[index],
            expected="the input amount of a standard, e.g. 1000 or 0.02, or empty",
        )
    return values


def table_to_wells(
    table: pd.DataFrame, file: str | Path, default_plate: str, errors: ErrorCollector
) -> tuple[pd.DataFrame, list[str]]:
    """Turn a string table with tidy-named columns into the tidy well table.

    ``table`` must hold ``__line__`` and the tidy names of :data:`WELL_COLUMNS` it has
    (``sample``, ``target``, ``cq`` required). Problems are added to ``errors``.
    """
    notes: list[str] = []
    lines = table["__line__"]
    wells = pd.DataFrame({"file": str(file), "line": lines.astype(int)})
    wells["plate"] = table["plate"] if "plate" in table else default_plate
    wells["plate"] = wells["plate"].replace("", default_plate)
    wells["well"] = table["well"] if "well" in table else ""
    wells["sample"] = table["sample"]
    wells["target"] = table["target"]
    cq, cq_notes = parse_cq_values(table["cq"], lines, file, "cq", errors)
    notes += cq_notes
    wells["cq"] = cq
    wells["cq_raw"] = table["cq"]
    if "task" in table:
        tasks = table["task"].map(parse_task)
        for index in tasks.index[tasks.isna()]:
            errors.add(
                "unknown well task",
                file=file,
                row=int(lines[index]),
                column="task",
                value=table["task"][index],
                expected="unknown, standard or ntc",
            )
        wells["task"] = tasks.fillna("unknown")
    else:
        wells["task"] = "unknown"
    if "quantity" in table:
        wells["quantity"] = parse_quantities(table["quantity"], lines, file, errors)
    else:
        wells["quantity"] = np.nan
    for column in ("sample", "target"):
        missing = (wells[column] == "") & (wells["task"] == "unknown")
        for index in wells.index[missing]:
            errors.add(
                f"{column} is empty",
                file=file,
                row=int(lines[index]),
                column=column,
                value="",
                expected=f"a {column} name",
            )
    return wells[WELL_COLUMNS], notes


def read_long_cq_table(path: str | Path, decoded: DecodedText | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a long-format Cq table (TSV or CSV; delimiter detected).

    Parameters
    ----------
    path
        The table. Required columns ``sample``, ``target``, ``cq`` (aliases in
        :data:`COLUMN_ALIASES`); optional ``well``, ``plate``, ``task``, ``quantity``.
    decoded
        Already decoded text of ``path``, to avoid reading it twice.

    Returns
    -------
    wells, notes
        The tidy well table and what was assumed while reading it.

    Raises
    ------
    InputErrors
        Every problem of the file at once.
    """
    decoded = decoded or read_text(path)
    errors = ErrorCollector()
    table, delimiter = read_table_text(decoded)
    errors.extend(extra_field_errors(table, decoded, delimiter))
    notes = list(decoded.notes)
    mapping = canonical_columns([c for c in table.columns if c != "__line__"])
    missing = [name for name in ("sample", "target", "cq") if name not in mapping.values()]
    if missing:
        found = [c for c in table.columns if c != "__line__"]
        hint = ""
        if len(found) == 1 and delimiter == "\t":
            hint = " (the header has a single column: is the file delimited by something other than tab, comma or semicolon?)"
        errors.add(
            f"missing required column(s) {', '.join(missing)}{hint}",
            file=path,
            row=1,
            value=", ".join(found),
            expected="columns sample, target, cq (or Sample Name, Target Name, Ct/CT/Cq/C(t))",
        )
        errors.raise_if_any()
    if table.empty:
        errors.add("table has a header but no data rows", file=path, row=2, expected="one row per well")
        errors.raise_if_any()
    table = table.rename(columns=mapping)
    wells, cq_notes = table_to_wells(table, path, Path(path).name, errors)
    errors.raise_if_any()
    return wells, notes + cq_notes


def read_cq_tables(paths: list[str | Path]) -> tuple[pd.DataFrame, list[str]]:
    """Read several long Cq tables into one tidy well table, collecting every error."""
    frames, notes, problems = [], [], []
    for path in paths:
        try:
            wells, file_notes = read_long_cq_table(path)
        except InputErrors as error:
            problems.extend(error.errors)
            continue
        frames.append(wells)
        notes.extend(file_notes)
    if problems:
        raise InputErrors(problems)
    return pd.concat(frames, ignore_index=True), notes


def wells_from_frame(frame: pd.DataFrame, file: str = "<memory>") -> pd.DataFrame:
    """Complete a frame holding at least sample, target, cq (float) into a tidy well table.

    For programmatic use and tests: missing optional columns get their neutral values.
    """
    wells = frame.copy()
    defaults = {"file": file, "plate": "plate1", "well": "", "task": "unknown", "quantity": np.nan}
    for column, value in defaults.items():
        if column not in wells:
            wells[column] = value
    if "line" not in wells:
        wells["line"] = np.arange(2, len(wells) + 2)
    wells["cq"] = pd.to_numeric(wells["cq"], errors="coerce").astype(float)
    if "cq_raw" not in wells:
        wells["cq_raw"] = wells["cq"].map(lambda value: "" if np.isnan(value) else repr(float(value)))
    return wells[WELL_COLUMNS].reset_index(drop=True)
