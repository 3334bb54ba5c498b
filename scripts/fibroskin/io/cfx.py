"""Bio-Rad CFX Manager / CFX Maestro "Quantification Cq Results" CSV.

Columns ``Well``, ``Fluor``, ``Target``, ``Content`` (Unkn-01, Std-03, NTC, NRT, Pos Ctrl
...), ``Sample``, ``Cq`` (``NaN`` or empty = not detected), ``Starting Quantity (SQ)``;
usually a leading unnamed index column. Multiplex wells have one row per fluor. CFX Maestro
leaves ``Target`` empty when no target was set in the plate editor: the plate map's
``target`` column (with ``fluor`` for multiplex wells) supplies them.

Why our own reader and not allotropy's CFX Maestro parser: on the project's CFX Maestro file
it reads every Cq, but keeps no line numbers for error messages and its target is empty just
the same; this reader is 40 lines of the shared text reader.
"""

from __future__ import annotations

from pathlib import Path

from fibroskin.errors import ErrorCollector
from fibroskin.io.exports import Parsed, map_columns, split_header
from fibroskin.io.text import DecodedText, read_table_text

COLUMNS: dict[str, tuple[str, ...]] = {
    "well": ("well",),
    "sample": ("sample",),
    "target": ("target",),
    "task": ("content",),
    "cq": ("cq", "c(t)", "ct"),
    "quantity": ("starting quantity (sq)", "sq"),
    "fluor": ("fluor",),
}


def read_text(path: Path, decoded: DecodedText, errors: ErrorCollector) -> Parsed | None:
    """Read a CFX "Quantification Cq Results" CSV (comma or semicolon, any encoding of text.py)."""
    lines = decoded.lines
    header_index = None
    for index, line in enumerate(lines[:200]):
        headers = split_header(line)
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
    mapping = map_columns([c for c in table.columns if c != "__line__"], COLUMNS)
    missing = [name for name in ("well", "cq") if name not in mapping.values()]
    for optional in ("sample", "target"):
        if optional not in mapping.values():
            table[optional.title()] = ""
            mapping[optional.title()] = optional
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
    notes = [f"{path}: Bio-Rad CFX Cq results"]
    if "fluor" in table:
        no_target = (table["target"] == "") & (table["fluor"] != "")
        if no_target.any():
            notes.append(
                f"{path}: {int(no_target.sum())} well(s) without a Target name (fluor {', '.join(sorted(set(table.loc[no_target, 'fluor'])))}); "
                "the plate map's target column names them"
            )
    return Parsed(table=table, plate=path.name, notes=notes)
