"""Read qPCR instrument exports into the tidy well table of :mod:`fibroskin.io.cq`.

Supported exports (``detect_format`` tells them apart from their content, not their name):

``quantstudio``
    Applied Biosystems QuantStudio (Design & Analysis) and 7500 "Results" exports: TXT
    (tab), CSV or XLSX. A header block of ``* Key = value`` lines, then a ``[Results]``
    section whose table has ``Well``, ``Well Position``, ``Sample Name``, ``Target Name``
    (``Detector`` on the 7500), ``Task`` (UNKNOWN / STANDARD / NTC), ``CT``/``Ct``/``Cq``
    (``Undetermined`` = not detected) and ``Quantity``. Wells marked ``Omit = true`` were
    excluded by the user in the instrument software and are dropped (noted).
``cfx``
    Bio-Rad CFX Manager / Maestro "Quantification Cq Results" CSV: ``Well``, ``Fluor``,
    ``Target``, ``Content`` (Unkn-01, Std-03, NTC, NRT, Pos Ctrl ...), ``Sample``, ``Cq``
    (NaN or empty = not detected), ``Starting Quantity (SQ)``; usually a leading unnamed
    index column.
``rdml``
    RDML 1.0-1.3 (``.rdml`` zip holding ``rdml_data.xml``, or the bare XML), read with the
    standard library (see :func:`read_rdml` for why not ``rdmlpython``).
``long``
    The project's own long table, read by :func:`fibroskin.io.cq.read_long_cq_table`.

Every reader returns ``(wells, notes)`` with the columns of
:data:`fibroskin.io.cq.WELL_COLUMNS`; ``line`` is the line of the well in the original file
(the spreadsheet row for XLSX, the line of the ``<data>`` element for RDML), so every error
message points where the user has to look.

Well roles other than sample, standard and no-template control are mapped as follows:
negative controls (no-RT ``NRT``, ``NAC``, ``NTP``, ``Neg Ctrl``) count as ``ntc``, because
the same "is anything amplifying here?" check applies; positive controls (``Pos Ctrl``,
RDML ``pos``/``opt``) are neither samples nor standards and are dropped with a note.
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable
from xml.etree import ElementTree
from xml.parsers import expat

import numpy as np
import pandas as pd

from fibroskin.errors import ErrorCollector, InputError, InputErrors
from fibroskin.io.cq import (
    WELL_COLUMNS,
    canonical_columns,
    parse_task,
    read_long_cq_table,
    table_to_wells,
)
from fibroskin.io.text import DecodedText, read_table_text, read_text, sniff_delimiter

#: Formats :func:`read_qpcr_file` understands.
FORMATS = ("long", "quantstudio", "cfx", "rdml")

RDML_NAMESPACE = "http://www.rdml.org"

_WELL_POSITION = re.compile(r"^([A-Za-z]{1,2})0*([1-9][0-9]*)$")

#: Instrument spellings of roles that are not in the tidy contract (see module docstring).
_NEGATIVE_CONTROLS = {"nrt", "no rt", "-rt", "nac", "ntp", "neg", "neg ctrl", "negative control", "nrt control"}
_POSITIVE_CONTROLS = {"pos", "pos ctrl", "positive control", "opt", "ipc", "npc"}

#: Tidy name -> header spellings (lower case, Cyrillic "т" already mapped to "t").
_QUANTSTUDIO_COLUMNS: dict[str, tuple[str, ...]] = {
    "well": ("well position", "well"),
    "sample": ("sample name", "sample"),
    "target": ("target name", "detector", "target", "detector name"),
    "task": ("task",),
    "cq": ("ct", "cq", "crt", "c(t)"),
    "quantity": ("quantity",),
    "omit": ("omit",),
}
_CFX_COLUMNS: dict[str, tuple[str, ...]] = {
    "well": ("well",),
    "sample": ("sample",),
    "target": ("target",),
    "task": ("content",),
    "cq": ("cq", "c(t)", "ct"),
    "quantity": ("starting quantity (sq)", "sq"),
    "fluor": ("fluor",),
}


@dataclass
class _Parsed:
    """A reader's intermediate result: tidy-named string columns plus ``__line__``."""

    table: pd.DataFrame
    plate: str
    notes: list[str] = field(default_factory=list)
    columns_per_row: int = 12


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


def _canonical_well(value: str, columns_per_row: int) -> str | None:
    text = value.strip()
    if text.isdigit() and int(text) > 0:
        return well_number_to_position(int(text), columns_per_row)
    return normalise_well(text)


# --------------------------------------------------------------------------- detection


def _is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def detect_format(path: str | Path) -> str:
    """Tell the export format of ``path`` from its content.

    Returns
    -------
    str
        One of :data:`FORMATS`. The 7500 and XLSX QuantStudio exports are ``"quantstudio"``.

    Raises
    ------
    InputErrors
        When the file is missing or matches no known format (the message lists what was
        looked for).
    """
    path = Path(path)
    if not path.exists():
        raise InputErrors([InputError("file does not exist", file=path, expected="an existing file")])
    if _is_zip(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(Path(name).name.lower() == "rdml_data.xml" for name in names):
            return "rdml"
        if "xl/workbook.xml" in names:
            return "quantstudio"
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
    decoded = read_text(path)
    head = decoded.text[:4096].lstrip()
    if head.startswith("<"):
        if RDML_NAMESPACE in head or re.search(r"<(\w+:)?rdml[\s>]", head):
            return "rdml"
        raise InputErrors(
            [InputError("XML file is not RDML", file=path, row=1, expected=f"an <rdml> root in namespace {RDML_NAMESPACE}")]
        )
    lines = decoded.lines[:200]
    for line in lines:
        stripped = line.strip().strip(",;\t").strip().lower()
        if stripped == "[results]" or (stripped.startswith("*") and " = " in stripped):
            return "quantstudio"
    for line in lines:
        headers = _split_header(line)
        if {"well", "fluor", "content"} <= headers and headers & {"cq", "ct", "c(t)"}:
            return "cfx"
        if "well" in headers and headers & {"target name", "detector"} and headers & {"ct", "cq", "crt"}:
            return "quantstudio"
    first = next((line for line in decoded.lines if line.strip()), "")
    names = [name.strip() for name in first.split(sniff_delimiter(first))]
    if {"sample", "target", "cq"} <= set(canonical_columns(names).values()):
        return "long"
    raise InputErrors(
        [
            InputError(
                "file format not recognised",
                file=path,
                row=1,
                value=first[:80],
                expected=(
                    "a QuantStudio/7500 results export ([Results] section), a Bio-Rad CFX "
                    "'Quantification Cq Results' CSV (Well, Fluor, Content, Cq), an RDML file, "
                    "or a long table with sample, target, cq"
                ),
            )
        ]
    )


def _split_header(line: str) -> set[str]:
    if not line.strip():
        return set()
    delimiter = sniff_delimiter(line)
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return {_header_key(cell) for cell in cells}


def _header_key(name: str) -> str:
    # The 7500 software writes "Cт" with a Cyrillic "т"; people also write "C T".
    key = name.strip().lower().replace("\u0442", "t")
    return re.sub(r"\s+", " ", key)


def _map_columns(
    columns: Iterable[str], spellings: dict[str, tuple[str, ...]]
) -> dict[str, str]:
    """File column -> tidy name, preferring the earlier spelling (``Well Position`` over ``Well``)."""
    by_key = {}
    for column in columns:
        by_key.setdefault(_header_key(column), column)
    mapping: dict[str, str] = {}
    for tidy, candidates in spellings.items():
        for candidate in candidates:
            if candidate in by_key and by_key[candidate] not in mapping:
                mapping[by_key[candidate]] = tidy
                break
    return mapping


# --------------------------------------------------------------------------- QuantStudio


def _header_block(lines: list[str]) -> dict[str, str]:
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


def _results_section(lines: list[str]) -> tuple[int, int] | None:
    """0-based index of the results header line and of the line after the section."""
    start = None
    for index, line in enumerate(lines):
        if line.strip().strip(",;\t").strip().lower() == "[results]":
            start = index + 1
            break
    if start is None:
        # Exports of the results table alone have no section marker.
        for index, line in enumerate(lines):
            headers = _split_header(line)
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


def _quantstudio_text(path: Path, decoded: DecodedText, errors: ErrorCollector) -> _Parsed | None:
    lines = decoded.lines
    block = _header_block(lines)
    section = _results_section(lines)
    if section is None:
        errors.add(
            "no [Results] section found",
            file=path,
            expected="a QuantStudio/7500 results export with a [Results] section (Export > Results)",
        )
        return None
    header_index, end_index = section
    truncated = DecodedText(path=path, text="\n".join(lines[:end_index]), encoding=decoded.encoding, notes=decoded.notes)
    table, _ = read_table_text(truncated, first_line=header_index + 1)
    return _quantstudio_table(path, table, header_index + 1, block, errors)


def _quantstudio_xlsx(path: Path, errors: ErrorCollector) -> _Parsed | None:
    try:
        import openpyxl
    except ImportError as missing:  # pragma: no cover - depends on the environment
        raise ImportError("reading QuantStudio .xlsx exports needs openpyxl (pip install openpyxl)") from missing
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = {sheet.title: sheet for sheet in workbook.worksheets}
        chosen = next((sheets[name] for name in sheets if name.strip().lower() == "results"), None)
        candidates = [chosen] if chosen is not None else list(sheets.values())
        for sheet in candidates:
            rows = [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
            lines = ["\t".join(row) for row in rows]
            section = _results_section(lines)
            if section is None:
                continue
            block = {str(row[0]).lstrip("* ").strip(): str(row[1]).strip() for row in rows[: section[0]] if len(row) > 1 and row[0] and row[1]}
            block.update(_header_block(lines[: section[0]]))
            table = _rows_to_table(rows, section[0], section[1], path)
            parsed = _quantstudio_table(path, table, section[0] + 1, block, errors, sheet=sheet.title)
            if parsed is not None:
                parsed.notes.append(f"{path}: read sheet '{sheet.title}' of the workbook")
            return parsed
    finally:
        workbook.close()
    errors.add(
        "no results table found in the workbook",
        file=path,
        value=", ".join(sheets),
        expected="a 'Results' sheet with Well, Sample Name, Target Name and CT/Cq columns",
    )
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value).strip()


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
    table = pd.DataFrame(body, columns=names, dtype=object)
    table = table.loc[:, [name for name in names if not name.startswith("column_") or (table[name] != "").any()]]
    table["__line__"] = line_numbers
    return table.reset_index(drop=True)


def _quantstudio_table(
    path: Path,
    table: pd.DataFrame,
    header_line: int,
    block: dict[str, str],
    errors: ErrorCollector,
    sheet: str | None = None,
) -> _Parsed | None:
    mapping = _map_columns([c for c in table.columns if c != "__line__"], _QUANTSTUDIO_COLUMNS)
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
    table = table.rename(columns=mapping)
    notes: list[str] = []
    details = ", ".join(f"{key} = {block[key]}" for key in ("Instrument Type", "Experiment Name") if key in block)
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
    return _Parsed(table=table, plate=path.name, notes=notes, columns_per_row=_block_columns(block))


# --------------------------------------------------------------------------- Bio-Rad CFX


def _cfx_text(path: Path, decoded: DecodedText, errors: ErrorCollector) -> _Parsed | None:
    lines = decoded.lines
    header_index = None
    for index, line in enumerate(lines[:200]):
        headers = _split_header(line)
        if "well" in headers and headers & {"cq", "ct", "c(t)"} and headers & {"content", "sample", "target"}:
            header_index = index
            break
    if header_index is None:
        errors.add(
            "no Cq results header found",
            file=path,
            expected="a Bio-Rad 'Quantification Cq Results' CSV with Well, Target, Content, Sample, Cq columns",
        )
        return None
    table, _ = read_table_text(decoded, first_line=header_index + 1)
    mapping = _map_columns([c for c in table.columns if c != "__line__"], _CFX_COLUMNS)
    missing = [name for name in ("well", "target", "cq") if name not in mapping.values()]
    if "sample" not in mapping.values():
        table["Sample"] = ""
        mapping["Sample"] = "sample"
    if missing:
        errors.add(
            f"Cq results lack column(s) {', '.join(missing)}",
            file=path,
            row=header_index + 1,
            value=", ".join(c for c in table.columns if c != "__line__"),
            expected="Well, Fluor, Target, Content, Sample, Cq, Starting Quantity (SQ)",
        )
        return None
    table = table.rename(columns=mapping)
    notes = []
    if "fluor" in table:
        no_target = (table["target"] == "") & (table["fluor"] != "")
        if no_target.any():
            notes.append(
                f"{path}: {int(no_target.sum())} well(s) without a Target name; set targets in the "
                "CFX plate file or give them in the plate map"
            )
    return _Parsed(table=table, plate=path.name, notes=notes)


# --------------------------------------------------------------------------- RDML


class _LineTreeBuilder:
    """Drive an ElementTree ``TreeBuilder`` from expat and remember each element's line.

    ``xml.etree.ElementTree.parse`` forgets where elements were; error messages must name
    the line, so the expat parser is driven here and feeds the standard ``TreeBuilder``.
    """

    def __init__(self) -> None:
        self.builder = ElementTree.TreeBuilder()
        self.lines: dict[ElementTree.Element, int] = {}
        self.parser = expat.ParserCreate(namespace_separator="}")
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self.builder.data
        self.parser.buffer_text = True

    @staticmethod
    def _tag(name: str) -> str:
        return "{" + name if "}" in name else name

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        attributes = {self._tag(key): value for key, value in attributes.items()}
        element = self.builder.start(self._tag(name), attributes)
        self.lines[element] = self.parser.CurrentLineNumber

    def _end(self, name: str) -> None:
        self.builder.end(self._tag(name))

    def parse(self, data: bytes) -> ElementTree.Element:
        self.parser.Parse(data, True)
        return self.builder.close()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == name]


def _child_text(element: ElementTree.Element, name: str) -> str | None:
    found = _children(element, name)
    return (found[0].text or "").strip() if found else None


_RDML_TASKS = {"unkn": "unknown", "std": "standard", "ntc": "ntc", "nac": "ntc", "ntp": "ntc", "nrt": "ntc"}


def _rdml_bytes(path: Path) -> tuple[bytes, str]:
    if _is_zip(path):
        with zipfile.ZipFile(path) as archive:
            members = [name for name in archive.namelist() if Path(name).name.lower() == "rdml_data.xml"]
            if not members:
                raise InputErrors(
                    [InputError("RDML archive has no rdml_data.xml", file=path, expected="an .rdml zip holding rdml_data.xml")]
                )
            return archive.read(members[0]), f" (in {members[0]} inside the archive)"
    return path.read_bytes(), ""


def _rdml_table(path: Path, errors: ErrorCollector) -> _Parsed | None:
    data, inside = _rdml_bytes(path)
    tracker = _LineTreeBuilder()
    try:
        root = tracker.parse(data)
    except expat.ExpatError as error:
        if not data.strip():
            message = f"file is empty{inside}"
        elif error.code == expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]:
            # expat's "no element found" at (or past) the end means a cut-off file
            message = f"not well-formed XML{inside}: the file ends before its elements are closed (cut off?)"
        else:
            message = f"not well-formed XML{inside}: {expat.errors.messages[error.code]}"
        # after a final newline expat points at a line the file does not have
        last_line = max(data.count(b"\n") + (0 if data.endswith(b"\n") else 1), 1)
        errors.add(message, file=path, row=min(error.lineno, last_line), expected="a valid RDML file")
        return None
    notes: list[str] = []
    if _local(root.tag) != "rdml":
        errors.add(f"root element is <{_local(root.tag)}>{inside}", file=path, row=tracker.lines.get(root), expected="<rdml>")
        return None
    if not root.tag.startswith("{" + RDML_NAMESPACE):
        notes.append(f"{path}: RDML without the {RDML_NAMESPACE} namespace; read by element names")
    notes.append(f"{path}: RDML version {root.get('version', 'unknown')}")

    # Sample type and quantity may be target-specific since RDML 1.3 (attribute targetId).
    sample_types: dict[tuple[str, str | None], str] = {}
    sample_quantities: dict[tuple[str, str | None], str] = {}
    for sample in _children(root, "sample"):
        sample_id = sample.get("id", "")
        for type_element in _children(sample, "type"):
            sample_types[(sample_id, type_element.get("targetId"))] = (type_element.text or "unkn").strip()
        for quantity in _children(sample, "quantity"):
            sample_quantities[(sample_id, quantity.get("targetId"))] = _child_text(quantity, "value") or ""
    target_ids = {target.get("id", "") for target in _children(root, "target")}

    records: list[dict[str, object]] = []
    runs = [(experiment, run) for experiment in _children(root, "experiment") for run in _children(experiment, "run")]
    run_ids = [run.get("id", "") for _, run in runs]
    for experiment, run in runs:
        run_id = run.get("id", "")
        plate = run_id if run_ids.count(run_id) == 1 else f"{experiment.get('id', '')}/{run_id}"
        columns, row_label = _rdml_columns(run)
        for react in _children(run, "react"):
            react_id = react.get("id", "")
            sample_ref = _children(react, "sample")
            sample_id = sample_ref[0].get("id", "") if sample_ref else ""
            well = _rdml_well(react_id, columns, row_label)
            for data_element in _children(react, "data"):
                target_ref = _children(data_element, "tar")
                target = target_ref[0].get("id", "") if target_ref else ""
                line = tracker.lines.get(data_element, tracker.lines.get(react, 0))
                if target and target_ids and target not in target_ids:
                    errors.add(f"data refers to a target not defined in the file{inside}", file=path, row=line, column="tar", value=target, expected=", ".join(sorted(target_ids)))
                if _child_text(data_element, "excl") is not None:
                    notes.append(f"{path}: line {line}: well {well} {target} excluded in the file ({_child_text(data_element, 'excl') or 'no reason given'}); dropped")
                    continue
                rdml_type = sample_types.get((sample_id, target), sample_types.get((sample_id, None), "unkn"))
                quantity = sample_quantities.get((sample_id, target), sample_quantities.get((sample_id, None), ""))
                cq_text = _child_text(data_element, "cq")
                records.append(
                    {
                        "plate": plate,
                        "well": well,
                        "sample": sample_id,
                        "target": target,
                        "cq": cq_text or "",
                        "task": rdml_type,
                        "quantity": quantity if rdml_type == "std" else "",
                        "__line__": line,
                    }
                )
    if not records:
        errors.add(f"RDML file holds no reactions with data{inside}", file=path, expected="<experiment><run><react><data> elements")
        return None
    table = pd.DataFrame.from_records(records)
    # RDML writes -1 for "no Cq available"; keep what was written in cq_raw.
    table["cq_raw"] = table["cq"]
    negative = pd.to_numeric(table["cq"], errors="coerce") < 0
    if negative.any():
        notes.append(f"{path}: {int(negative.sum())} Cq value(s) of -1 (RDML for 'no Cq') read as not detected")
        table.loc[negative, "cq"] = ""
    unknown_types = ~table["task"].isin(list(_RDML_TASKS) + ["pos", "opt"])
    for index in table.index[unknown_types]:
        errors.add(f"unknown RDML sample type{inside}", file=path, row=int(table.at[index, "__line__"]), column="type", value=table.at[index, "task"], expected="unkn, std, ntc, nac, ntp, nrt, pos or opt")
    # reported here with RDML's own vocabulary, so dropped before the generic task check repeats it
    table = table.loc[~unknown_types].reset_index(drop=True)
    table["task"] = table["task"].map(lambda value: _RDML_TASKS.get(value, "pos ctrl" if value in {"pos", "opt"} else value))
    return _Parsed(table=table, plate=path.name, notes=notes)


def _rdml_columns(run: ElementTree.Element) -> tuple[int | None, str]:
    formats = _children(run, "pcrFormat")
    if not formats:
        return None, ""
    columns_text = _child_text(formats[0], "columns") or ""
    row_label = (_child_text(formats[0], "rowLabel") or "").upper()
    return (int(columns_text) if columns_text.isdigit() else None), row_label


def _rdml_well(react_id: str, columns: int | None, row_label: str) -> str:
    # RDML >= 1.1 numbers reactions row-major (1 = A1, 13 = B1 on a 96-well plate); rotors
    # (one column, "123" labels) keep their position number.
    if react_id.isdigit() and columns and columns > 1 and row_label == "ABC":
        return well_number_to_position(int(react_id), columns)
    return normalise_well(react_id) or react_id


# --------------------------------------------------------------------------- plate map


def read_plate_map(path: str | Path) -> pd.DataFrame:
    """Read a plate map: columns ``well`` and ``sample``; optional ``plate`` and ``task``.

    Without a ``plate`` column the layout applies to every plate. Wells are normalised
    (``A01`` == ``A1``).

    Returns
    -------
    DataFrame
        Columns ``file``, ``line``, ``plate`` ("" = every plate), ``well``, ``sample``,
        ``task`` ("" = keep the export's).

    Raises
    ------
    InputErrors
        Missing columns, malformed or duplicated wells, unknown tasks - all at once.
    """
    decoded = read_text(path)
    table, _ = read_table_text(decoded)
    errors = ErrorCollector()
    columns = {name.strip().lower(): name for name in table.columns if name != "__line__"}
    missing = [name for name in ("well", "sample") if name not in columns]
    if missing:
        errors.add(
            f"plate map lacks column(s) {', '.join(missing)}",
            file=path,
            row=1,
            value=", ".join(columns.values()),
            expected="columns plate (optional), well, sample, task (optional)",
        )
        errors.raise_if_any()
    plate_map = pd.DataFrame(
        {
            "file": str(path),
            "line": table["__line__"].astype(int),
            "plate": table[columns["plate"]] if "plate" in columns else "",
            "well": table[columns["well"]].map(normalise_well),
            "sample": table[columns["sample"]],
            "task": table[columns["task"]].map(lambda v: "" if v == "" else (parse_task(v) or "?")) if "task" in columns else "",
        }
    )
    for index in plate_map.index[plate_map["well"].isna()]:
        errors.add("not a well position", file=path, row=int(plate_map.at[index, "line"]), column="well", value=table.at[index, columns["well"]], expected="a row letter and column number, e.g. A1 or A01")
    for index in plate_map.index[plate_map["task"] == "?"]:
        errors.add("unknown well task", file=path, row=int(plate_map.at[index, "line"]), column="task", value=table.at[index, columns["task"]], expected="unknown, standard or ntc")
    duplicated = plate_map.duplicated(["plate", "well"], keep="first") & plate_map["well"].notna()
    for index in plate_map.index[duplicated]:
        errors.add("well listed twice in the plate map", file=path, row=int(plate_map.at[index, "line"]), column="well", value=plate_map.at[index, "well"], expected="each plate and well once")
    errors.raise_if_any()
    return plate_map.reset_index(drop=True)


def _apply_plate_map(table: pd.DataFrame, plate_map: pd.DataFrame, path: Path, errors: ErrorCollector) -> list[int]:
    """Fill empty samples (and tasks) of ``table`` in place from the plate map.

    A plate-map row matches a well when its ``plate`` is empty (layout of every plate), the
    well's plate id, or that id without its file extension. A sample that the export names
    differently from the plate map is an error: one of the two files is wrong. So is a sample
    well that neither the export nor the plate map names; its index is returned so that the
    caller drops it instead of reporting it a second time as an empty sample.
    """
    unnamed: list[int] = []
    for index in table.index:
        plate = str(table.at[index, "plate"])
        matching = plate_map[(plate_map["well"] == table.at[index, "well"]) & plate_map["plate"].isin({"", plate, Path(plate).stem})]
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
                unnamed.append(index)
            continue
        # A plate-specific row wins over a row for every plate.
        entry = matching.iloc[int(np.argmax((matching["plate"] != "").to_numpy()))]
        current = table.at[index, "sample"]
        if current == "":
            table.at[index, "sample"] = entry["sample"]
        elif current != entry["sample"]:
            errors.add(
                f"sample {current!r} of {path.name} line {int(table.at[index, '__line__'])} disagrees with the plate map",
                file=entry["file"],
                row=int(entry["line"]),
                column="sample",
                value=entry["sample"],
                expected=f"the export's sample {current!r}, or an empty sample in the export",
            )
        if entry["task"] and table.at[index, "task"].strip().lower() in ("", "unknown", "unkn"):
            table.at[index, "task"] = entry["task"]
    return unnamed


# --------------------------------------------------------------------------- common finish


def _finish(parsed: _Parsed, path: Path, plate_map: pd.DataFrame | None, errors: ErrorCollector) -> tuple[pd.DataFrame, list[str]]:
    """Normalise wells and roles, apply the plate map and build the tidy well table."""
    table = parsed.table.copy()
    notes = list(parsed.notes)
    for column in ("sample", "target", "cq", "task", "quantity", "well"):
        if column not in table:
            table[column] = ""
    table = table.fillna("")
    blank = (table["sample"] == "") & (table["target"] == "") & table["cq"].str.lower().isin({"", "undetermined", "nan"})
    if blank.any():
        notes.append(f"{path}: {int(blank.sum())} empty well(s) without sample or target skipped")
        table = table.loc[~blank]

    role = table["task"].str.strip().str.lower()
    positive = role.isin(_POSITIVE_CONTROLS) | role.str.startswith("pos")
    if positive.any():
        notes.append(f"{path}: {int(positive.sum())} positive-control well(s) are neither samples nor standards; skipped")
        table = table.loc[~positive]
        role = role[~positive]
    negative = role.isin(_NEGATIVE_CONTROLS) | role.str.startswith("neg")
    if negative.any():
        notes.append(f"{path}: {int(negative.sum())} negative-control well(s) (no-RT / no-amplification) checked like NTCs")
        table.loc[negative, "task"] = "ntc"
    table = table.reset_index(drop=True)

    wells_text = table["well"].astype(str)
    canonical = wells_text.map(lambda value: _canonical_well(value, parsed.columns_per_row) if value else "")
    for index in canonical.index[canonical.isna()]:
        errors.add("not a well position", file=path, row=int(table.at[index, "__line__"]), column="well", value=wells_text[index], expected="a well such as A1, A01 or a well number")
    table["well"] = canonical.fillna(wells_text)
    if "plate" not in table:
        table["plate"] = parsed.plate
    if plate_map is not None:
        table = table.drop(index=_apply_plate_map(table, plate_map, path, errors)).reset_index(drop=True)

    quantity_text = table.pop("quantity").astype(str).str.strip()
    cq_raw = table["cq_raw"] if "cq_raw" in table else None
    if "cq" in table:
        # CFX writes "NaN" for no Cq; it is one of the not-detected spellings already.
        table["cq"] = table["cq"].astype(str)
    wells, cq_notes = table_to_wells(table, path, parsed.plate, errors)
    notes += cq_notes
    if cq_raw is not None:
        wells["cq_raw"] = cq_raw.to_numpy()
    wells["quantity"] = _standard_quantities(quantity_text, wells, path, errors)
    return wells[WELL_COLUMNS].reset_index(drop=True), notes


def _standard_quantities(text: pd.Series, wells: pd.DataFrame, path: Path, errors: ErrorCollector) -> np.ndarray:
    """Input amounts of standard wells; NaN elsewhere.

    Instruments also write the quantity they interpolated for unknown wells into the same
    column; the contract keeps only the amount the user put into standards.
    """
    text = text.reset_index(drop=True)
    is_standard = (wells["task"] == "standard").to_numpy()
    numeric_like = text[(text != "") & ~text.str.lower().isin({"nan", "n/a", "na"})]
    uses_comma = numeric_like.str.fullmatch(r"-?\d+,\d+").any() and not numeric_like.str.contains(r"\.", regex=True).any()
    cleaned = text.str.replace(",", ".", regex=False) if uses_comma else text
    values = pd.to_numeric(cleaned.where(~cleaned.str.lower().isin({"", "nan", "n/a", "na"})), errors="coerce").to_numpy(dtype=float)
    for index in np.flatnonzero(is_standard & ~(values > 0)):
        errors.add(
            "standard well has no positive quantity",
            file=path,
            row=int(wells["line"].iloc[index]),
            column="quantity",
            value=text.iloc[index],
            expected="the input amount of the dilution (a number > 0, e.g. 1000 or 0.02)",
        )
    return np.where(is_standard, values, np.nan)


# --------------------------------------------------------------------------- public readers


def _plate_map_frame(plate_map: str | Path | pd.DataFrame | None) -> pd.DataFrame | None:
    if plate_map is None or isinstance(plate_map, pd.DataFrame):
        return plate_map
    return read_plate_map(plate_map)


def read_quantstudio(path: str | Path, plate_map: str | Path | pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read an Applied Biosystems QuantStudio or 7500 results export (TXT, CSV or XLSX).

    Parameters
    ----------
    path
        The export. Text is decoded with :func:`fibroskin.io.text.read_text` (UTF-16, BOMs,
        Windows line endings, decimal commas are accepted and noted).
    plate_map
        Optional plate map (path or output of :func:`read_plate_map`) filling empty samples.

    Returns
    -------
    wells, notes
        Tidy well table (plate = file name) and what was assumed.
    """
    return _read(Path(path), "quantstudio", _plate_map_frame(plate_map))


def read_cfx(path: str | Path, plate_map: str | Path | pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a Bio-Rad CFX "Quantification Cq Results" CSV export (see :func:`read_quantstudio`)."""
    return _read(Path(path), "cfx", _plate_map_frame(plate_map))


def read_rdml(path: str | Path, plate_map: str | Path | pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read an RDML 1.x file (``.rdml`` zip or bare XML) into the tidy well table.

    Samples give the role (``type``: unkn, std, ntc, nac ...) and the standard's quantity,
    optionally per target (RDML 1.3 ``targetId``); each ``run`` is a plate, each ``react``
    a well (``A1`` style when the run's ``pcrFormat`` has row letters and several columns,
    the reaction number otherwise); ``data/tar`` is the target and ``data/cq`` the Cq
    (absent or -1 = not detected). Data marked ``excl`` are dropped with a note.

    Why the standard library and not ``rdmlpython``: rdmlpython 1.7.2 (the current PyPI
    release, May 2023) is one 700 kB module that pulls in lxml and matplotlib and keeps no
    line numbers, while reading Cq values takes ~100 lines of ``xml.etree`` here, with
    every error pointing at the line of the ``<data>`` element.
    """
    return _read(Path(path), "rdml", _plate_map_frame(plate_map))


def _read(path: Path, file_format: str, plate_map: pd.DataFrame | None) -> tuple[pd.DataFrame, list[str]]:
    errors = ErrorCollector()
    notes: list[str] = []
    if not path.exists():
        raise InputErrors([InputError("file does not exist", file=path, expected="an existing file")])
    if file_format == "rdml":
        parsed = _rdml_table(path, errors)
    elif file_format == "quantstudio" and _is_zip(path):
        parsed = _quantstudio_xlsx(path, errors)
    else:
        decoded = read_text(path)
        notes += decoded.notes
        parser = _quantstudio_text if file_format == "quantstudio" else _cfx_text
        parsed = parser(path, decoded, errors)
    if parsed is None:
        errors.raise_if_any()
        raise AssertionError("a reader returned nothing without an error")  # pragma: no cover
    if parsed.table.empty:
        errors.add("export holds no wells", file=path, expected="one row per well")
        errors.raise_if_any()
    wells, finish_notes = _finish(parsed, path, plate_map, errors)
    errors.raise_if_any()
    return wells, notes + finish_notes


def read_qpcr_file(
    path: str | Path, format: str = "auto", plate_map: str | Path | pd.DataFrame | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Read one qPCR export of any supported format into the tidy well table.

    Parameters
    ----------
    path
        The export.
    format
        ``"auto"`` (detect from content) or one of :data:`FORMATS`.
    plate_map
        Optional plate map (path, or the frame of :func:`read_plate_map`) with ``plate``
        (optional; matches the plate id - the file name for text exports, its stem also
        works - or the RDML run id), ``well`` and ``sample``: fills samples of exports
        that carry only wells.

    Returns
    -------
    wells, notes

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
        return wells, notes
    wells, notes = _read(path, chosen, frame)
    if format == "auto":
        notes.insert(0, f"{path}: detected format '{chosen}'")
    return wells, notes


def read_qpcr_files(
    paths: Iterable[str | Path], format: str = "auto", plate_map: str | Path | pd.DataFrame | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Read several plates, possibly from different instruments, into one well table.

    Errors of all files are collected and raised together. Two rows for the same plate,
    well and target (the same plate id given twice, e.g. two files with the same name) are
    an error, since inter-plate calibration would merge them.
    """
    frame = _plate_map_frame(plate_map)
    frames, notes, problems = [], [], []
    for path in paths:
        try:
            wells, file_notes = read_qpcr_file(path, format=format, plate_map=frame)
        except InputErrors as error:
            problems.extend(error.errors)
            continue
        frames.append(wells)
        notes.extend(file_notes)
    if problems:
        raise InputErrors(problems)
    if not frames:
        raise InputErrors([InputError("no qPCR files given", expected="at least one Cq export")])
    wells = pd.concat(frames, ignore_index=True)
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
    return wells, notes
