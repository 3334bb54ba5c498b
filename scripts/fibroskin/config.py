"""The validated configuration as plain dataclasses, and the sample sheet reader.

Snakemake validates the config against ``workflow/schemas/config.schema.yaml`` (which also
fills defaults); :func:`load_design` turns the validated dict into a :class:`Design` that the
rest of the package uses. Relative paths resolve against the working directory, as every
Snakemake user expects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd

from fibroskin.errors import ErrorCollector, InputErrors
from fibroskin.io.spreadsheet import SheetSource, is_spreadsheet, read_spreadsheet_table
from fibroskin.io.text import read_table_text, read_text
from fibroskin.markers import SymbolIndex, default_markers


@dataclass(frozen=True)
class Contrast:
    """A comparison of two levels of one sample-sheet column (target vs reference).

    A contrast configured with ``levels:`` (e.g. healthy, non-lesional, lesional) expands to
    one :class:`Contrast` per pair of levels, all with the configured name as ``family`` and
    the listed levels as ``family_levels``; the earlier level of a pair is its reference.
    """

    name: str
    column: str
    reference: str
    target: str
    family: str | None = None
    family_levels: tuple[str, ...] = ()
    #: RNA-seq only (R's ``results()``): the coefficient to test (config key ``name``) ...
    coefficient: str | None = None
    #: ... or a list contrast (``contrast = list(numerator, denominator)``, ``listValues``) ...
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    list_values: tuple[float, float] = (1.0, -1.0)
    #: ... or a numeric contrast: weights in ``resultsNames`` order, or (coefficient, weight) pairs.
    weights: tuple = ()
    #: R's ``lfcThreshold`` (log2) and ``altHypothesis``.
    lfc_threshold: float = 0.0
    alt_hypothesis: str = "greaterAbs"

    def __post_init__(self) -> None:
        # Snakemake params arrive as lists; a frozen dataclass must hold tuples to hash.
        object.__setattr__(self, "family_levels", tuple(str(level) for level in self.family_levels))
        object.__setattr__(self, "numerator", tuple(str(n) for n in self.numerator))
        object.__setattr__(self, "denominator", tuple(str(n) for n in self.denominator))
        object.__setattr__(self, "list_values", tuple(float(v) for v in self.list_values))
        weights = self.weights.items() if isinstance(self.weights, dict) else self.weights
        object.__setattr__(self, "weights", tuple(
            (str(item[0]), float(item[1])) if isinstance(item, (list, tuple)) else float(item) for item in weights))
        object.__setattr__(self, "lfc_threshold", float(self.lfc_threshold))

    @property
    def rnaseq_kind(self) -> str:
        """How the RNA-seq branch tests it: ``levels`` (target vs reference), ``name``, ``list`` or ``numeric``."""
        if self.coefficient is not None:
            return "name"
        if self.numerator or self.denominator:
            return "list"
        if self.weights:
            return "numeric"
        return "levels"

    @property
    def levels(self) -> tuple[str, ...]:
        """Levels whose samples enter this contrast's linear model: the family's, else the pair."""
        return self.family_levels or (self.reference, self.target)


@dataclass(frozen=True)
class QpcrSettings:
    """The ``qpcr:`` section of the config."""

    cq_tables: tuple[Path, ...]
    reference_genes: tuple[str, ...]
    test: str = "welch"
    design: str | None = None
    max_cq: float = 35.0
    replicate_max_spread: float = 0.5
    drop_replicate_outliers: bool = False
    missing_reference: str = "exclude"
    format: str = "auto"
    plate_map: Path | None = None
    efficiency: dict[str, float] | None = None
    calibrate_plates: bool = True
    ntc_margin: float = 5.0


@dataclass(frozen=True)
class RnaseqSettings:
    """The ``rnaseq:`` section of the config.

    ``counts`` is ``None`` when the sample sheet names one file per sample
    (``counts_file``); ``min_samples`` ``None`` means the smallest group's size.
    """

    counts: Path | None
    annotation: Path | None = None
    design: str = "~condition"
    min_count: int = 10
    min_samples: int | None = None
    alpha: float = 0.05
    shrink: bool = True
    engine: str = "fast"
    lengths: Path | None = None
    tx2gene: Path | None = None
    counts_from_abundance: str = "no"
    strandedness: str | None = None
    test: str = "wald"
    reduced: str | None = None


@dataclass
class Design:
    """Everything a run needs to know: samples, contrasts, markers and branch settings."""

    samples: pd.DataFrame
    #: The sheet's file, or the workbook sheet (:class:`SheetSource`) errors name.
    sample_sheet: Path | SheetSource
    contrasts: list[Contrast]
    markers: list[str]
    qpcr: QpcrSettings | None = None
    rnaseq: RnaseqSettings | None = None
    figure_formats: tuple[str, ...] = ("svg", "png", "pdf")
    notes: list[str] = field(default_factory=list)
    #: What validation learnt about the data that decides which outputs exist.
    facts: dict[str, object] = field(default_factory=dict)

    def contrast(self, name: str) -> Contrast:
        for contrast in self.contrasts:
            if contrast.name == name:
                return contrast
        raise KeyError(name)


def pair_name(reference: str, target: str) -> str:
    """Stable name of a pairwise contrast of a ``levels:`` family: ``<target>_vs_<reference>``.

    Characters that do not belong in a path (spaces, slashes, ...) become ``-``, so that the
    name can be a results folder: level 'non lesional' gives 'non-lesional'.
    """

    def safe(level: str) -> str:
        return re.sub(r"[^A-Za-z0-9._+-]+", "-", level).strip("-") or "level"

    return f"{safe(target)}_vs_{safe(reference)}"


def expand_contrasts(specs: dict[str, dict[str, Any]]) -> list[Contrast]:
    """The configured contrasts, each ``levels:`` family expanded to all its pairs.

    A family ``{column: condition, levels: [healthy, non-lesional, lesional]}`` named ``skin``
    gives ``non-lesional_vs_healthy``, ``lesional_vs_healthy`` and
    ``lesional_vs_non-lesional`` (pairs in the order of the list, earlier level = reference).
    """
    contrasts = []
    for name, spec in specs.items():
        column = spec.get("column", "condition")
        tests = {
            "lfc_threshold": float(spec.get("lfc_threshold", 0.0)),
            "alt_hypothesis": str(spec.get("alt_hypothesis", "greaterAbs")),
        }
        if "levels" in spec:
            levels = tuple(str(level) for level in spec["levels"])
            for reference, target in combinations(levels, 2):
                contrasts.append(Contrast(pair_name(reference, target), column, reference, target, name, levels,
                                          **tests))
        else:
            weights = spec.get("weights") or ()
            contrasts.append(Contrast(
                name=name, column=column, reference=str(spec["reference"]), target=str(spec["target"]),
                coefficient=str(spec["name"]) if spec.get("name") is not None else None,
                numerator=tuple(spec.get("numerator") or ()), denominator=tuple(spec.get("denominator") or ()),
                list_values=tuple(spec.get("list_values") or (1.0, -1.0)),
                weights=tuple(weights.items()) if isinstance(weights, dict) else tuple(weights),
                **tests,
            ))
    return contrasts


def as_path_list(value: str | list[str]) -> tuple[Path, ...]:
    """One path or a list of paths, as configured, to a tuple of paths."""
    if isinstance(value, (str, Path)):
        return (Path(value),)
    return tuple(Path(item) for item in value)


def optional_path(section: dict[str, Any], key: str) -> Path | None:
    """A config path that may be absent or null."""
    return Path(section[key]) if section.get(key) else None


def read_sample_sheet(path: str | Path, sheet: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read the sample sheet (TSV; CSV and semicolons detected; or a spreadsheet) as strings.

    Returns
    -------
    samples, notes
        One row per sample with the sheet's columns as stripped strings, plus ``__line__``
        (line number in the file, or row number in the spreadsheet). The index is the
        default range index.
    """
    table, notes, _ = open_sample_sheet(path, sheet)
    return table, notes


def open_sample_sheet(
    path: str | Path, sheet: str | None = None
) -> tuple[pd.DataFrame, list[str], Path | SheetSource]:
    """:func:`read_sample_sheet` plus the source errors should name.

    A workbook (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``) is read from its sheet ``sheet``
    (default: the first), and errors name that sheet, its row numbers and column letters;
    a text file is named by its path.
    """
    if is_spreadsheet(path):
        table, source, notes = read_spreadsheet_table(path, sheet)
        return table, notes, source
    decoded = read_text(path)
    table, _ = read_table_text(decoded)
    notes = decoded.notes
    if sheet is not None:
        notes.append(f"{path}: samples_sheet '{sheet}' ignored: the sample sheet is a text file, not a workbook")
    return table, notes, Path(path)


def header_row(samples: pd.DataFrame) -> int:
    """Line (row) number of the sheet's header: 1 in a text file, the first filled row of a spreadsheet."""
    return int(samples.attrs.get("header_row", 1))


def load_design(config: dict[str, Any]) -> Design:
    """Build the :class:`Design` from a schema-validated config dict.

    Only reads the sample sheet; the cross-checks with data tables live in
    :mod:`fibroskin.validate`.

    Raises
    ------
    InputErrors
        When the sample sheet cannot be read or lacks the ``sample`` column.
    """
    samples, notes, sheet_path = open_sample_sheet(Path(config["samples"]), config.get("samples_sheet"))
    if "sample" not in samples.columns:
        errors = ErrorCollector()
        errors.add(
            "the sample sheet has no 'sample' column",
            file=sheet_path,
            row=header_row(samples),
            column="sample",
            value=", ".join(c for c in samples.columns if c != "__line__"),
            expected="a header with a 'sample' column" + ("" if isinstance(sheet_path, SheetSource) else " (tab-separated)"),
        )
        raise InputErrors(errors.errors)
    contrasts = expand_contrasts(config["contrasts"])
    index = SymbolIndex.build()
    markers = [index.symbol(name) for name in (config.get("markers") or default_markers())]
    qpcr = None
    if config.get("qpcr"):
        section = config["qpcr"]
        qpcr = QpcrSettings(
            cq_tables=as_path_list(section["cq_tables"]),
            reference_genes=tuple(section["reference_genes"]),
            test=section.get("test", "welch"),
            design=section.get("design") or None,
            max_cq=float(section.get("max_cq", 35.0)),
            replicate_max_spread=float(section.get("replicate_max_spread", 0.5)),
            drop_replicate_outliers=bool(section.get("drop_replicate_outliers", False)),
            missing_reference=section.get("missing_reference", "exclude"),
            format=section.get("format", "auto"),
            plate_map=Path(section["plate_map"]) if section.get("plate_map") else None,
            efficiency={str(k): float(v) for k, v in section["efficiency"].items()} if section.get("efficiency") else None,
            calibrate_plates=bool(section.get("calibrate_plates", True)),
            ntc_margin=float(section.get("ntc_margin", 5.0)),
        )
    rnaseq = None
    if config.get("rnaseq"):
        section = config["rnaseq"]
        rnaseq = RnaseqSettings(
            counts=optional_path(section, "counts"),
            annotation=optional_path(section, "annotation"),
            design=section.get("design", "~condition"),
            min_count=int(section.get("min_count", 10)),
            min_samples=int(section["min_samples"]) if section.get("min_samples") is not None else None,
            alpha=float(section.get("alpha", 0.05)),
            shrink=bool(section.get("shrink", True)),
            engine=section.get("engine", "fast"),
            lengths=optional_path(section, "lengths"),
            tx2gene=optional_path(section, "tx2gene"),
            # YAML 1.1 reads an unquoted `no` as false
            counts_from_abundance=section.get("counts_from_abundance") or "no",
            strandedness=section.get("strandedness"),
            test=section.get("test", "wald"),
            reduced=section.get("reduced") or None,
        )
    formats = tuple((config.get("figures") or {}).get("format", ["svg", "png", "pdf"]))
    return Design(
        samples=samples,
        sample_sheet=sheet_path,
        contrasts=contrasts,
        markers=list(dict.fromkeys(markers)),
        qpcr=qpcr,
        rnaseq=rnaseq,
        figure_formats=formats,
        notes=notes,
    )
