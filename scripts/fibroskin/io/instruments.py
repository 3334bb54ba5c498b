"""Read qPCR instrument exports into the tidy well table of :mod:`fibroskin.io.cq`.

One reader per format family, each in its own module; the detection lives here, in
:func:`detect_format`, and tells them apart from their content, not their name:

``quantstudio`` (:mod:`fibroskin.io.quantstudio`)
    Applied Biosystems QuantStudio / ViiA 7 / 7500 results exports (TXT, CSV, XLSX, legacy
    XLS) and QuantStudio Design & Analysis 2.x workbooks.
``sds7900`` (:mod:`fibroskin.io.sds7900`)
    Applied Biosystems 7900HT SDS 2.x RQ and AQ results exports.
``cfx`` (:mod:`fibroskin.io.cfx`)
    Bio-Rad CFX Manager / CFX Maestro "Quantification Cq Results" CSV.
``rdml`` (:mod:`fibroskin.io.rdml`)
    RDML 1.0-1.4 from any vendor (``.rdml`` zip or the bare XML).
``lightcycler`` (:mod:`fibroskin.io.lightcycler`)
    Roche LightCycler 480 "Abs Quant/2nd Derivative Max" results text export.
``long``
    The project's own long table, read by :func:`fibroskin.io.cq.read_long_cq_table`.

Every reader returns the columns of :data:`fibroskin.io.cq.WELL_COLUMNS`; ``line`` is the
line of the well in the original file (the spreadsheet row for workbooks, the line of the
``<data>`` element for RDML), so every error message points where the user has to look.
Files that carry no Cq (raw or melting fluorescence, presence/absence or genotyping
experiments, sample sheets) are refused with a message saying so.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from fibroskin.errors import ErrorCollector, InputError, InputErrors
from fibroskin.io import cfx, lightcycler, quantstudio, rdml, sds7900
from fibroskin.io.cq import canonical_columns, read_long_cq_table
from fibroskin.io.exports import (  # noqa: F401  (re-exported: the public names of this module)
    INSTRUMENT_VALUE_COLUMNS,
    Parsed,
    finish,
    normalise_well,
    split_header,
    well_number_to_position,
)
from fibroskin.io.platemap import apply_plate_map, read_plate_map
from fibroskin.io.text import read_text, sniff_delimiter

#: Formats :func:`read_qpcr_file` understands.
FORMATS = ("long", "quantstudio", "sds7900", "cfx", "rdml", "lightcycler")

RDML_NAMESPACE = rdml.NAMESPACE


@dataclass
class Export:
    """What was read from one or more exports.

    Attributes
    ----------
    wells
        The tidy well table.
    notes
        What was assumed or left out, for the log.
    instrument_values
        :data:`~fibroskin.io.exports.INSTRUMENT_VALUE_COLUMNS`: values the instrument
        software computed and wrote into the files (slope, efficiency, Cq means ...).
    """

    wells: pd.DataFrame
    notes: list[str]
    instrument_values: pd.DataFrame


# --------------------------------------------------------------------------- detection


def _zip_names(path: Path) -> list[str] | None:
    if not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _is_legacy_excel(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 compound file (.xls)


def detect_format(path: str | Path) -> str:
    """Tell the export format of ``path`` from its content.

    Returns
    -------
    str
        One of :data:`FORMATS`. 7500 and Design & Analysis exports are ``"quantstudio"``.

    Raises
    ------
    InputErrors
        When the file is missing or matches no known format (the message lists what was
        looked for), or is a known export that holds no Cq (the message says which).
    """
    path = Path(path)
    if not path.exists():
        raise InputErrors([InputError("file does not exist", file=path, expected="an existing file")])
    names = _zip_names(path)
    if names is not None:
        if "xl/workbook.xml" in names:
            return "quantstudio"
        if rdml.is_rdml_archive(names):
            return "rdml"
        raise InputErrors(
            [
                InputError(
                    "zip archive is neither an RDML file nor an Excel workbook",
                    file=path,
                    value=", ".join(names[:5]),
                    expected="an .rdml file (with rdml_data.xml) or a QuantStudio .xlsx export",
                )
            ]
        )
    if _is_legacy_excel(path):
        return "quantstudio"
    decoded = read_text(path)
    head = decoded.text[:4096].lstrip()
    if head.startswith("<"):
        if RDML_NAMESPACE in head or re.search(r"<(\w+:)?rdml[\s>]", head):
            return "rdml"
        raise InputErrors(
            [InputError("XML file is not RDML", file=path, row=1, expected=f"an <rdml> root in namespace {RDML_NAMESPACE}")]
        )
    lines = decoded.lines[:200]
    if sds7900.is_sds(lines):
        return "sds7900"
    if lightcycler.kind(lines):
        return "lightcycler"
    for line in lines:
        stripped = line.strip().strip(",;\t").strip().lower()
        if stripped == "[results]" or (stripped.startswith("*") and " = " in stripped):
            return "quantstudio"
    for line in lines:
        headers = split_header(line)
        if {"well", "fluor", "content"} <= headers and headers & {"cq", "ct", "c(t)"}:
            return "cfx"
        if "well" in headers and headers & {"target name", "detector"} and headers & {"ct", "cq", "crt"}:
            return "quantstudio"
    first = next((line for line in decoded.lines if line.strip()), "")
    names_found = [name.strip() for name in first.split(sniff_delimiter(first))]
    if {"sample", "target", "cq"} <= set(canonical_columns(names_found).values()):
        return "long"
    raise InputErrors(
        [
            InputError(
                "file format not recognised",
                file=path,
                row=1,
                value=first[:80],
                expected=(
                    "a QuantStudio/7500 results export ([Results] section), a 7900HT SDS results export, a Bio-Rad CFX "
                    "'Quantification Cq Results' CSV (Well, Fluor, Content, Cq), an RDML file, a LightCycler 480 "
                    "Abs Quant export (Pos, Name, Cp), or a long table with sample, target, cq"
                ),
            )
        ]
    )


# --------------------------------------------------------------------------- reading


def _plate_map_frame(plate_map: str | Path | pd.DataFrame | None) -> pd.DataFrame | None:
    if plate_map is None or isinstance(plate_map, pd.DataFrame):
        return plate_map
    return read_plate_map(plate_map)


def _parse(path: Path, file_format: str, errors: ErrorCollector) -> tuple[Parsed | None, list[str]]:
    if file_format == "rdml":
        return rdml.read(path, errors), []
    if file_format == "quantstudio" and (_zip_names(path) is not None or _is_legacy_excel(path)):
        return quantstudio.read_xlsx(path, errors), []
    decoded = read_text(path)
    reader = {"quantstudio": quantstudio.read_text, "cfx": cfx.read_text, "sds7900": sds7900.read_text, "lightcycler": lightcycler.read_text}[file_format]
    parsed = reader(path, decoded, errors)
    return parsed, list(decoded.notes)


def _read(path: Path, file_format: str, plate_map: pd.DataFrame | None) -> Export:
    errors = ErrorCollector()
    if not path.exists():
        raise InputErrors([InputError("file does not exist", file=path, expected="an existing file")])
    parsed, notes = _parse(path, file_format, errors)
    if parsed is None:
        errors.raise_if_any()
        raise AssertionError("a reader returned nothing without an error")  # pragma: no cover
    if parsed.table.empty:
        errors.add("export holds no wells", file=path, expected="one row per well")
        errors.raise_if_any()
    wells, finish_notes = finish(parsed, path, plate_map, errors, apply_plate_map)
    errors.raise_if_any()
    values = pd.DataFrame(parsed.instrument_values, columns=INSTRUMENT_VALUE_COLUMNS)
    return Export(wells, notes + finish_notes, values)


def read_export(
    path: str | Path, format: str = "auto", plate_map: str | Path | pd.DataFrame | None = None
) -> Export:
    """Read one qPCR export of any supported format: wells, notes and instrument values.

    Parameters
    ----------
    path
        The export.
    format
        ``"auto"`` (detect from content) or one of :data:`FORMATS`.
    plate_map
        Optional plate map (path, or the frame of :func:`read_plate_map`) with ``well`` and
        ``sample`` and/or ``target`` (optional ``plate``, ``fluor``, ``task``): fills samples
        and targets of exports that carry only wells.

    Raises
    ------
    InputErrors
        Every problem of the file at once, each with file, line and column.
    """
    path = Path(path)
    if format not in ("auto", *FORMATS):
        raise InputErrors([InputError("unknown qPCR file format", file=path, column="format", value=format, expected="auto, " + ", ".join(FORMATS))])
    chosen = detect_format(path) if format == "auto" else format
    frame = _plate_map_frame(plate_map)
    if chosen == "long":
        wells, notes = read_long_cq_table(path)
        if frame is not None:
            notes.append(f"{path}: long tables name their samples; the plate map was not used for it")
        return Export(wells, notes, pd.DataFrame(columns=INSTRUMENT_VALUE_COLUMNS))
    export = _read(path, chosen, frame)
    if format == "auto":
        export.notes.insert(0, f"{path}: detected format '{chosen}'")
    return export


def read_qpcr_file(
    path: str | Path, format: str = "auto", plate_map: str | Path | pd.DataFrame | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Read one qPCR export into the tidy well table (see :func:`read_export`).

    Returns
    -------
    wells, notes
    """
    export = read_export(path, format, plate_map)
    return export.wells, export.notes


def read_exports(
    paths: Iterable[str | Path], format: str = "auto", plate_map: str | Path | pd.DataFrame | None = None
) -> Export:
    """Read several plates, possibly from different instruments, into one :class:`Export`.

    Errors of all files are collected and raised together. Two rows for the same plate,
    well and target (the same plate id given twice, e.g. two files with the same name) are
    an error, since inter-plate calibration would merge them.
    """
    frame = _plate_map_frame(plate_map)
    exports, problems = [], []
    for path in paths:
        try:
            exports.append(read_export(path, format=format, plate_map=frame))
        except InputErrors as error:
            problems.extend(error.errors)
    if problems:
        raise InputErrors(problems)
    if not exports:
        raise InputErrors([InputError("no qPCR files given", expected="at least one Cq export")])
    wells = pd.concat([export.wells for export in exports], ignore_index=True)
    located = wells[wells["well"] != ""]
    duplicated = located.duplicated(["plate", "well", "target"], keep="first")
    for index in located.index[duplicated]:
        row = wells.loc[index]
        problems.append(
            InputError(
                f"plate '{row['plate']}' well {row['well']} target {row['target']} appears twice (also in an earlier file)",
                file=row["file"],
                row=int(row["line"]),
                column="well",
                value=row["well"],
                expected="distinct plate names for distinct runs (rename one of the files)",
            )
        )
    if problems:
        raise InputErrors(problems)
    values = [export.instrument_values for export in exports if len(export.instrument_values)]
    instrument_values = pd.concat(values, ignore_index=True) if values else pd.DataFrame(columns=INSTRUMENT_VALUE_COLUMNS)
    return Export(wells, [note for export in exports for note in export.notes], instrument_values)


def read_qpcr_files(
    paths: Iterable[str | Path], format: str = "auto", plate_map: str | Path | pd.DataFrame | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Read several plates into one well table (see :func:`read_exports`)."""
    export = read_exports(paths, format, plate_map)
    return export.wells, export.notes
