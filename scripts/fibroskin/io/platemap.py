"""Plate maps: the samples (and targets) of exports that carry only wells.

A plate map is a TSV/CSV with ``well`` and at least one of ``sample`` / ``target``; optional
``plate`` (empty = every plate), ``fluor`` (for multiplex wells, where one well holds one
target per dye) and ``task``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fibroskin.errors import ErrorCollector
from fibroskin.io.cq import parse_task
from fibroskin.io.exports import normalise_well
from fibroskin.io.text import read_table_text, read_text

PLATE_MAP_COLUMNS = ["file", "line", "plate", "well", "fluor", "sample", "target", "task"]


#: Other spellings of the plate map's columns: the LightCycler 480 sample information export
#: (``General:Pos``, ``General:Sample Name``, ``General:Target Name``, ...) is a plate map.
_ALIASES = {
    "pos": "well",
    "general:pos": "well",
    "well position": "well",
    "sample name": "sample",
    "general:sample name": "sample",
    "target name": "target",
    "general:target name": "target",
    "dye": "fluor",
    "reporter": "fluor",
    "rel quant:combined sample/target type": "task",
    "abs quant:sample type": "task",
}


def _task(value: str) -> str:
    """A plate map's role: unknown / standard / ntc, or LightCycler 480's "Target Negative" ..."""
    if value == "":
        return ""
    task = parse_task(value)
    if task is None:
        words = value.lower()
        # LightCycler 480: "Target Negative", "Ref Unknown", "Target PosCalibrator" (a sample
        # that calibrates Rel Quant runs: a sample well here), "Standard"
        if "negative" in words:
            task = "ntc"
        elif "standard" in words:
            task = "standard"
        elif "unknown" in words or "calibrator" in words:
            task = "unknown"
    return task or "?"


def read_plate_map(path: str | Path) -> pd.DataFrame:
    """Read a plate map.

    Columns are matched case-insensitively, with the LightCycler 480 sample information
    export's names as aliases (``General:Pos`` = well ...). Without a ``plate`` column the layout applies to every plate. Wells are normalised
    (``A01`` == ``A1``).

    Returns
    -------
    DataFrame
        :data:`PLATE_MAP_COLUMNS`; ``plate`` "" = every plate, ``fluor`` "" = every dye,
        ``sample``/``target``/``task`` "" = keep the export's.

    Raises
    ------
    InputErrors
        Missing columns, malformed or duplicated wells, unknown tasks - all at once.
    """
    decoded = read_text(path)
    table, _ = read_table_text(decoded)
    errors = ErrorCollector()
    columns: dict[str, str] = {}
    for name in table.columns:
        if name != "__line__":
            key = name.strip().lower()
            columns.setdefault(_ALIASES.get(key, key), name)
    if "well" not in columns or not ({"sample", "target"} & set(columns)):
        missing = ["well"] if "well" not in columns else []
        missing += [] if {"sample", "target"} & set(columns) else ["sample (or target)"]
        errors.add(
            f"plate map lacks column(s) {', '.join(missing)}",
            file=path,
            row=1,
            value=", ".join(columns.values()),
            expected="columns well and sample and/or target; optional plate, fluor, task",
        )
        errors.raise_if_any()

    def column(name: str) -> pd.Series | str:
        return table[columns[name]] if name in columns else ""

    plate_map = pd.DataFrame(
        {
            "file": str(path),
            "line": table["__line__"].astype(int),
            "plate": column("plate"),
            "well": table[columns["well"]].map(normalise_well),
            "fluor": column("fluor"),
            "sample": column("sample"),
            "target": column("target"),
            "task": table[columns["task"]].map(_task) if "task" in columns else "",
        }
    )
    for index in plate_map.index[plate_map["well"].isna()]:
        errors.add("not a well position", file=path, row=int(plate_map.at[index, "line"]), column="well", value=table.at[index, columns["well"]], expected="a row letter and column number, e.g. A1 or A01")
    for index in plate_map.index[plate_map["task"] == "?"]:
        errors.add("unknown well task", file=path, row=int(plate_map.at[index, "line"]), column="task", value=table.at[index, columns["task"]], expected="unknown, standard or ntc")
    duplicated = plate_map.duplicated(["plate", "well", "fluor"], keep="first") & plate_map["well"].notna()
    for index in plate_map.index[duplicated]:
        errors.add("well listed twice in the plate map", file=path, row=int(plate_map.at[index, "line"]), column="well", value=plate_map.at[index, "well"], expected="each plate and well once (once per fluor in multiplex wells)")
    errors.raise_if_any()
    return plate_map[PLATE_MAP_COLUMNS].reset_index(drop=True)


def apply_plate_map(table: pd.DataFrame, plate_map: pd.DataFrame, path: Path, errors: ErrorCollector) -> tuple[np.ndarray, list[str]]:
    """Fill empty samples, targets (and tasks) of ``table`` in place from the plate map.

    A plate-map row matches a well when its ``plate`` is empty (layout of every plate), the
    well's plate id, or that id without its file extension, and its ``fluor`` is empty or
    the well's dye. A sample or target that the export names differently from the plate map
    is an error: one of the two files is wrong. So is a sample well that neither the export
    nor the plate map names; it is left out (the returned mask) instead of being reported a
    second time as an empty sample.

    Returns
    -------
    keep, notes
        Boolean mask of the rows to keep, and what the plate map supplied.
    """
    keep = np.ones(len(table), dtype=bool)
    filled = {"sample": 0, "target": 0}
    fluor = table["fluor"] if "fluor" in table else pd.Series("", index=table.index)
    for position, index in enumerate(table.index):
        plate = str(table.at[index, "plate"])
        matching = plate_map[
            (plate_map["well"] == table.at[index, "well"])
            & plate_map["plate"].isin({"", plate, Path(plate).stem})
            & plate_map["fluor"].str.lower().isin({"", str(fluor[index]).lower()})
        ]
        if matching.empty:
            if table.at[index, "sample"] == "" and parse_task(str(table.at[index, "task"])) == "unknown":
                errors.add(
                    f"well {table.at[index, 'well']} has no sample: the export leaves it empty and the plate map has no row for it",
                    file=path,
                    row=int(table.at[index, "__line__"]),
                    column="sample",
                    value="",
                    expected=f"a row (plate {Path(plate).stem}, well {table.at[index, 'well']}, sample) in {plate_map['file'].iloc[0]}",
                )
                keep[position] = False
            continue
        # A plate- and fluor-specific row wins over a row for every plate or dye.
        specificity = (matching["plate"] != "").to_numpy(int) * 2 + (matching["fluor"] != "").to_numpy(int)
        entry = matching.iloc[int(np.argmax(specificity))]
        for column in ("sample", "target"):
            current, mapped = table.at[index, column], entry[column]
            if mapped == "":
                continue
            if current == "":
                table.at[index, column] = mapped
                filled[column] += 1
            elif current != mapped:
                errors.add(
                    f"{column} {current!r} of {path.name} line {int(table.at[index, '__line__'])} disagrees with the plate map",
                    file=entry["file"],
                    row=int(entry["line"]),
                    column=column,
                    value=mapped,
                    expected=f"the export's {column} {current!r}, or an empty {column} in the export",
                )
        if entry["task"] and str(table.at[index, "task"]).strip().lower() in ("", "unknown", "unkn"):
            table.at[index, "task"] = entry["task"]
    notes = [
        f"{path}: {count} well(s) took their {column} from the plate map {plate_map['file'].iloc[0]}"
        for column, count in filled.items()
        if count
    ]
    return keep, notes
