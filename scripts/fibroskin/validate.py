"""Every check of the user's input that needs no computation, in one place.

:func:`validate_run` is called by the Snakefile while the DAG is built, so ``snakemake -n``
already refuses bad input, before any job starts. Each problem names the file, the line as
the user sees it, the column, the bad value and what was expected; all problems found are
reported together.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fibroskin.config import Design, load_design
from fibroskin.errors import ErrorCollector, InputErrors
from fibroskin.io.instruments import read_qpcr_files
from fibroskin.stats import PAIRED_TESTS


def closest(value: str, choices: list[str]) -> str:
    """" (did you mean 'x'?)" for the closest choice, or "" when none is close."""
    match = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    if not match:
        lowered = {choice.lower(): choice for choice in choices}
        match = [lowered[value.lower()]] if value.lower() in lowered else []
    return f" (did you mean '{match[0]}'?)" if match else ""


def check_sample_sheet(design: Design, errors: ErrorCollector, paired: bool) -> None:
    """Unique non-empty sample IDs, contrast columns and levels, group sizes, pairs."""
    samples, sheet = design.samples, design.sample_sheet
    for sample, line in zip(samples["sample"], samples["__line__"]):
        if not sample:
            errors.add("sample ID is empty", file=sheet, row=int(line), column="sample", value="", expected="a sample ID")
    duplicated = samples[samples["sample"].duplicated(keep=False) & (samples["sample"] != "")]
    for sample, rows in duplicated.groupby("sample")["__line__"]:
        lines = rows.tolist()
        errors.add(
            f"sample ID is used more than once (lines {', '.join(map(str, lines))})",
            file=sheet,
            row=lines[1],
            column="sample",
            value=sample,
            expected="unique sample IDs",
        )
    columns = [c for c in samples.columns if c != "__line__"]
    for contrast in design.contrasts:
        if contrast.column not in samples.columns:
            errors.add(
                f"contrast '{contrast.name}' uses column '{contrast.column}', which the sample sheet does not have"
                + closest(contrast.column, columns),
                file=sheet,
                row=1,
                column=contrast.column,
                value=", ".join(columns),
                expected=f"a column named '{contrast.column}'",
            )
            continue
        levels = samples[contrast.column]
        present = sorted(set(levels) - {""})
        for role, level in (("reference", contrast.reference), ("target", contrast.target)):
            if level not in present:
                errors.add(
                    f"contrast '{contrast.name}': {role} level '{level}' does not occur in column "
                    f"'{contrast.column}'" + closest(level, present),
                    file=sheet,
                    column=contrast.column,
                    value=level,
                    expected=f"one of {', '.join(present)}",
                )
                continue
            group = samples[levels == level]
            if len(group) < 2:
                errors.add(
                    f"contrast '{contrast.name}': level '{level}' has only {len(group)} sample; "
                    "a group needs at least 2 samples to estimate its variance",
                    file=sheet,
                    row=int(group["__line__"].iloc[0]),
                    column=contrast.column,
                    value=level,
                    expected="at least 2 samples per level",
                )
        if paired:
            check_pairs(design, contrast, errors)
        used = {contrast.reference, contrast.target}
        for level in sorted(set(present) - used):
            suggestion = closest(level, sorted(used))
            if suggestion:
                design.notes.append(
                    f"WARNING: {sheet}: level '{level}' of column '{contrast.column}' is used by no "
                    f"contrast{suggestion}; its samples are left out of contrast '{contrast.name}'"
                )


def check_pairs(design: Design, contrast, errors: ErrorCollector, pair_column: str = "patient") -> None:
    """For paired tests: each patient has exactly one sample at each level of the contrast."""
    samples, sheet = design.samples, design.sample_sheet
    if pair_column not in samples.columns:
        errors.add(
            f"a paired test needs a '{pair_column}' column pairing the samples",
            file=sheet,
            row=1,
            column=pair_column,
            value=", ".join(c for c in samples.columns if c != "__line__"),
            expected=f"a '{pair_column}' column",
        )
        return
    chosen = samples[samples[contrast.column].isin([contrast.reference, contrast.target])]
    for patient, rows in chosen.groupby(pair_column, sort=True):
        counts = rows[contrast.column].value_counts()
        if counts.get(contrast.reference, 0) != 1 or counts.get(contrast.target, 0) != 1:
            errors.add(
                f"contrast '{contrast.name}': patient '{patient}' has "
                f"{counts.get(contrast.reference, 0)} '{contrast.reference}' and "
                f"{counts.get(contrast.target, 0)} '{contrast.target}' sample(s)",
                file=sheet,
                row=int(rows["__line__"].iloc[0]),
                column=pair_column,
                value=patient,
                expected="exactly one sample per level for each patient (complete pairs)",
            )


def check_samples_match(
    data_samples: pd.DataFrame, design: Design, errors: ErrorCollector, what: str
) -> None:
    """Every sample of a data table is in the sheet, and every sheet sample has data.

    ``data_samples`` has columns sample, file, line (first occurrence in the data file).
    """
    sheet_samples = set(design.samples["sample"])
    known = sorted(sheet_samples)
    for row in data_samples.itertuples():
        if row.sample not in sheet_samples:
            errors.add(
                f"sample '{row.sample}' is not in the sample sheet {design.sample_sheet}" + closest(row.sample, known),
                file=row.file,
                row=row.line,
                column="sample",
                value=row.sample,
                expected="a sample ID listed in the sample sheet",
            )
    present = set(data_samples["sample"])
    for sample, line in zip(design.samples["sample"], design.samples["__line__"]):
        if sample and sample not in present:
            errors.add(
                f"sample '{sample}' has no {what}",
                file=design.sample_sheet,
                row=int(line),
                column="sample",
                value=sample,
                expected=f"{what} for every sample of the sheet (or remove the row)",
            )


def check_qpcr(design: Design, errors: ErrorCollector) -> list[str]:
    """Read the Cq tables and cross-check them with the sheet and the reference genes."""
    settings = design.qpcr
    try:
        wells, notes = read_qpcr_files(list(settings.cq_tables), format=settings.format, plate_map=settings.plate_map)
    except InputErrors as problems:
        errors.extend(problems.errors)
        return []
    design.facts["qpcr_has_standards"] = bool(((wells["task"] == "standard") & (wells["quantity"] > 0)).any())
    biological = wells[wells["task"] == "unknown"]
    first_rows = biological.drop_duplicates("sample")[["sample", "file", "line"]]
    check_samples_match(first_rows, design, errors, "Cq values")
    targets = sorted(wells["target"].unique())
    files = ", ".join(str(path) for path in settings.cq_tables)
    for gene in settings.reference_genes:
        if gene not in targets:
            errors.add(
                f"reference gene '{gene}' is not a target of the Cq table(s)" + closest(gene, targets),
                file=files,
                column="target",
                value=gene,
                expected=f"one of the targets {', '.join(targets)}",
            )
    if settings.missing_reference == "error":
        detected = biological.assign(detected=biological["cq"].notna() & (biological["cq"] <= settings.max_cq))
        per_pair = detected[detected["target"].isin(settings.reference_genes)].groupby(["sample", "target"])
        for (sample, gene), rows in per_pair:
            if not rows["detected"].any():
                errors.add(
                    f"reference gene '{gene}' was not detected in any replicate of sample '{sample}' "
                    f"(lines {', '.join(map(str, rows['line']))}), so the sample cannot be normalised",
                    file=rows["file"].iloc[0],
                    row=int(rows["line"].iloc[0]),
                    column="cq",
                    value=", ".join(rows["cq_raw"]),
                    expected=f"at least one Cq <= max_cq ({settings.max_cq:g}); or set "
                    "qpcr.missing_reference: exclude to analyse the other samples without it",
                )
    if len(settings.reference_genes) == 1:
        notes.append("only one reference gene is configured; MIQE recommends at least two validated ones")
    return notes


def design_columns(formula: str) -> list[str]:
    """Variable names of a formula such as ``~batch + condition`` (in order, unique)."""
    names = re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", formula.replace("~", " "))
    return list(dict.fromkeys(name for name in names if name not in {"C", "I", "np"}))


def confounded_pairs(table: pd.DataFrame, columns: list[str]) -> list[tuple[str, str]]:
    """Pairs of design factors whose levels determine each other (one is nested in the other)."""
    pairs = []
    for position, first in enumerate(columns):
        for second in columns[position + 1 :]:
            pairs_seen = table[[first, second]].drop_duplicates()
            if pairs_seen[first].is_unique or pairs_seen[second].is_unique:
                pairs.append((first, second))
    return pairs


def check_design(design: Design, counted: pd.DataFrame, errors: ErrorCollector) -> None:
    """The RNA-seq design formula names sheet columns, holds every contrast column, is full rank."""
    from formulaic import model_matrix

    settings = design.rnaseq
    columns = [c for c in design.samples.columns if c != "__line__"]
    variables = design_columns(settings.design)
    missing = [name for name in variables if name not in columns]
    for name in missing:
        errors.add(
            f"the design formula '{settings.design}' names '{name}', which is not a column of the sample sheet"
            + closest(name, columns),
            file=design.sample_sheet,
            row=1,
            column=name,
            value=settings.design,
            expected=f"a formula over the sheet's columns ({', '.join(columns)})",
        )
    if missing:
        return
    for contrast in design.contrasts:
        if contrast.column not in variables:
            errors.add(
                f"contrast '{contrast.name}' compares levels of '{contrast.column}', which the design "
                f"'{settings.design}' does not contain",
                column="rnaseq.design",
                value=settings.design,
                expected=f"a design including {contrast.column}, e.g. '~{contrast.column}'",
            )
    table = counted[variables].astype(str)
    matrix = model_matrix(settings.design, table)
    rank = np.linalg.matrix_rank(np.asarray(matrix, dtype=float))
    if rank < matrix.shape[1]:
        pairs = confounded_pairs(table, variables)
        detail = "; ".join(f"'{a}' is confounded with '{b}'" for a, b in pairs) or "some coefficients are linear combinations of others"
        errors.add(
            f"the design '{settings.design}' is not full rank ({rank} independent of {matrix.shape[1]} coefficients): "
            f"{detail}, so their effects cannot be told apart",
            file=design.sample_sheet,
            column=", ".join(variables),
            value=settings.design,
            expected="a design whose factors vary independently across the counted samples (drop a confounded term)",
        )
    elif len(table) <= rank:
        errors.add(
            f"the design '{settings.design}' has {rank} coefficients but only {len(table)} counted samples: "
            "no residual degrees of freedom to estimate dispersion",
            column="rnaseq.design",
            value=settings.design,
            expected="more samples than coefficients",
        )


def check_rnaseq(design: Design, errors: ErrorCollector) -> list[str]:
    """Read the count table and cross-check it with the sheet and the design."""
    from fibroskin.io.counts import read_counts

    settings = design.rnaseq
    try:
        counts, notes = read_counts(settings.counts, samples=design.samples["sample"].tolist())
    except InputErrors as problems:
        errors.extend(problems.errors)
        return []
    counted = pd.DataFrame({"sample": [str(c) for c in counts.columns], "file": str(settings.counts), "line": 1})
    check_samples_match(counted, design, errors, "column in the count table")
    sheet = design.samples.set_index("sample")
    present = [sample for sample in counted["sample"] if sample in sheet.index]
    if present:
        check_design(design, sheet.loc[present], errors)
    return notes


def validate_run(config: dict[str, Any]) -> Design:
    """Load the design and run every pre-flight check.

    Parameters
    ----------
    config
        The Snakemake config, already validated against the JSON schema.

    Returns
    -------
    Design
        With ``notes`` listing what was assumed while reading (encodings, decimal commas...).

    Raises
    ------
    InputErrors
        All problems found, together.
    """
    errors = ErrorCollector()
    paths = [("samples", config["samples"])]
    qpcr_section = config.get("qpcr") or {}
    tables = qpcr_section.get("cq_tables", [])
    paths += [("qpcr.cq_tables", table) for table in ([tables] if isinstance(tables, str) else tables)]
    if qpcr_section.get("plate_map"):
        paths.append(("qpcr.plate_map", qpcr_section["plate_map"]))
    rnaseq_section = config.get("rnaseq") or {}
    for key in ("counts", "annotation"):
        if rnaseq_section.get(key):
            paths.append((f"rnaseq.{key}", rnaseq_section[key]))
    for key, value in paths:
        if not Path(value).exists():
            errors.add(
                f"config key '{key}' names the file '{value}', which does not exist "
                f"(relative paths resolve against the working directory, {Path.cwd()})",
                expected="the path of an existing file",
            )
    errors.raise_if_any()
    design = load_design(config)
    paired = bool(design.qpcr and design.qpcr.test in PAIRED_TESTS)
    check_sample_sheet(design, errors, paired)
    if design.qpcr is not None:
        design.notes.extend(check_qpcr(design, errors))
    if design.rnaseq is not None:
        design.notes.extend(check_rnaseq(design, errors))
    errors.raise_if_any()
    return design
