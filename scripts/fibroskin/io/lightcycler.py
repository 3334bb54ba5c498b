"""Roche LightCycler 480 text exports (LightCycler 480 SW 1.5).

``Abs Quant/2nd Derivative Max`` results (the export fibroskin reads)
    Line 1 ``Experiment: <name>  Selected Filter: <channel>``, line 2 the header
    ``Include``, ``Color``, ``Pos``, ``Name``, ``Cp``, ``Concentration``, ``Standard``,
    ``Status``; one line per well, tab-delimited (UTF-16 or decimal commas on some
    installations, both read by :mod:`fibroskin.io.text`). ``Cp`` (crossing point, the
    LightCycler's Cq) is empty where no Cp was called. ``Include`` ``False`` marks wells the
    user excluded in the analysis: dropped (noted). ``Standard`` holds the known
    concentration of standard wells (``0`` for the others). The export names no target: the
    plate map's ``target`` column supplies it (the LightCycler 480 sample information export,
    ``General:Pos``, ``General:Sample Name``, ``General:Target Name``, can serve as the plate
    map), and its ``task`` column marks negative controls.
Raw fluorescence (``SamplePos``, ``Cycle#``, ``465-510`` ...) and sample information
(``General:Pos`` ...) exports hold no Cp; they are refused with what to export instead.

Layout from public examples of the export (laboratory import code and analysis scripts that
read it: ``Experiment: <name>  Selected Filter: SYBR Green I / HRM Dye (465-510)``, then
``Include Color Pos Name Cp Concentration Standard Status``, ``Cp`` and ``Concentration``
empty for wells in error).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fibroskin.errors import ErrorCollector
from fibroskin.io.exports import Parsed, map_columns, parse_number, refuse, split_header
from fibroskin.io.text import DecodedText, read_table_text

COLUMNS: dict[str, tuple[str, ...]] = {
    "well": ("pos",),
    "sample": ("name",),
    "cq": ("cp", "cq"),
    "include": ("include", "inc"),
    "standard": ("standard",),
    "status": ("status",),
}

_EXPORT_CP = (
    "in the LightCycler 480 software, analyse the run with Abs Quant/2nd Derivative Max, then export "
    "that analysis' results table as a text file (Pos, Name, Cp ...)"
)


def kind(lines: list[str]) -> str | None:
    """``"abs_quant"``, ``"raw"``, ``"sample_info"`` or None for other files."""
    first = lines[0].strip().lower() if lines else ""
    second = split_header(lines[1]) if len(lines) > 1 else set()
    if first.startswith("experiment:") and {"pos", "name"} <= second and second & {"cp", "cq"}:
        return "abs_quant"
    if {"samplepos", "cycle#"} <= second or ({"samplepos", "cycle#"} <= split_header(lines[0]) if lines else False):
        return "raw"
    if first.startswith("raw data"):
        return "raw"
    if {"general:pos", "general:sample name"} <= split_header(lines[0]):
        return "sample_info"
    return None


def refuse_without_cp(path: Path, lines: list[str]) -> None:
    """Refuse the LightCycler 480 exports that hold no Cp, naming what to export instead."""
    found = kind(lines)
    if found == "raw":
        wells = {line.split("\t", 1)[0] for line in lines[2:] if line.strip()}
        raise refuse(
            f"LightCycler 480 raw fluorescence export ({len(wells)} wells, cycle-by-cycle readings of channel "
            f"{lines[1].split(chr(9))[-1].strip() if len(lines) > 1 else '?'}): it holds no Cp; call Cp first",
            path,
            row=1,
            value=lines[0].strip()[:80],
            expected=_EXPORT_CP,
        )
    if found == "sample_info":
        raise refuse(
            "LightCycler 480 sample information export (positions, sample and target names): it holds no Cp "
            "(it can serve as the plate map, config qpcr.plate_map, of the Abs Quant results export)",
            path,
            row=1,
            value=lines[0].strip()[:80],
            expected=_EXPORT_CP,
        )


def read_text(path: Path, decoded: DecodedText, errors: ErrorCollector) -> Parsed | None:
    """Read a LightCycler 480 Abs Quant/2nd Derivative Max results export."""
    lines = decoded.lines
    refuse_without_cp(path, lines)
    table, _ = read_table_text(decoded, first_line=2)
    mapping = map_columns([c for c in table.columns if c != "__line__"], COLUMNS)
    missing = [name for name in ("well", "sample", "cq") if name not in mapping.values()]
    if missing:
        errors.add(
            f"LightCycler results lack column(s) {', '.join(missing)}",
            file=path,
            row=2,
            value=", ".join(c for c in table.columns if c != "__line__"),
            expected="Include, Color, Pos, Name, Cp, Concentration, Standard, Status",
        )
        return None
    table = table.rename(columns=mapping)
    experiment = re.sub(r"\s+", " ", lines[0].strip())
    notes = [f"{path}: LightCycler 480 Abs Quant/2nd Derivative Max export ({experiment}); Cp read as Cq"]
    if "include" in table:
        excluded = table["include"].str.strip().str.lower() == "false"
        if excluded.any():
            notes.append(
                f"{path}: {int(excluded.sum())} well(s) with Include = False (excluded in the LightCycler software) dropped "
                f"(lines {', '.join(str(n) for n in table.loc[excluded, '__line__'])})"
            )
            table = table.loc[~excluded].reset_index(drop=True)
    standard = table["standard"].map(parse_number) if "standard" in table else pd.Series(float("nan"), index=table.index)
    is_standard = standard > 0
    table["task"] = ["standard" if flag else "unknown" for flag in is_standard]
    table["quantity"] = [text if flag else "" for text, flag in zip(table.get("standard", ""), is_standard)]
    table["target"] = ""
    if is_standard.any():
        notes.append(f"{path}: {int(is_standard.sum())} standard well(s) (a concentration in column Standard)")
    return Parsed(table=table, plate=path.name, notes=notes)
