"""Every check of the user's input that needs no computation, in one place.

:func:`validate_run` is called by the Snakefile while the DAG is built, so ``snakemake -n``
already refuses bad input, before any job starts. Each problem names the file, the line as
the user sees it, the column, the bad value and what was expected; all problems found are
reported together.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from fibroskin.config import Contrast, Design, header_row, load_design
from fibroskin.errors import ErrorCollector, InputError, InputErrors
from fibroskin.io.cq import canonical_columns, read_long_cq_table
from fibroskin.io.instruments import read_qpcr_files
from fibroskin.io.text import extra_field_errors, read_table_text, read_text, read_text_head
from fibroskin.stats import PAIRED_TESTS

#: The JSON schema of the config (the same file Snakemake validates against).
CONFIG_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"

#: Delimiters the readers accept, as the user would name them.
ACCEPTED_DELIMITERS = "tab, comma or semicolon"


def closest(value: str, choices: list[str]) -> str:
    """" (did you mean 'x'?)" for the closest choice, or "" when none is close."""
    match = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    if not match:
        lowered = {choice.lower(): choice for choice in choices}
        match = [lowered[value.lower()]] if value.lower() in lowered else []
    return f" (did you mean '{match[0]}'?)" if match else ""


@functools.lru_cache(maxsize=1)
def config_schema() -> dict[str, Any]:
    """The config's JSON schema (``workflow/schemas/config.schema.yaml``)."""
    return yaml.safe_load(CONFIG_SCHEMA.read_text())


def _unknown_keys(value: Any, schema: dict[str, Any], path: str, errors: ErrorCollector) -> None:
    """Walk ``value`` along the schema's ``properties``; report keys the schema does not know."""
    if not isinstance(value, dict) or not isinstance(schema, dict):
        return
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        name = f"{path}.{key}" if path else str(key)
        if properties is not None and key in properties:
            _unknown_keys(item, properties[key], name, errors)
        elif isinstance(extra, dict):
            _unknown_keys(item, extra, name, errors)
        elif properties is not None and extra is False:
            known = sorted(properties)
            where = f"under '{path}'" if path else "at the top level"
            errors.add(
                f"config key '{name}' is not known" + closest(str(key), known),
                expected=f"one of the keys {where}: {', '.join(known)} (see config/README.md)",
            )


def _schema_path(error: Any) -> str:
    return ".".join(str(part) for part in error.absolute_path)


def check_config(config: Any) -> None:
    """Check the config's keys and value types before anything else, one line per problem.

    Unknown (usually misspelled) keys come first, each with the closest valid key; then the
    JSON schema's type, range and choice checks, each naming the key path. Snakemake's own
    schema validation (which also fills defaults) runs after this and then finds nothing.

    Raises
    ------
    InputErrors
        Every unknown key at once; otherwise every schema violation at once.
    """
    errors = ErrorCollector()
    if not isinstance(config, dict):
        errors.add("the config is not a mapping of keys to values", value=type(config).__name__,
                   expected="a YAML mapping such as config/config.yaml")
        errors.raise_if_any()
    if not CONFIG_SCHEMA.exists():  # pragma: no cover - only outside a checkout
        return
    schema = config_schema()
    _unknown_keys(config, schema, "", errors)
    errors.raise_if_any()
    import jsonschema

    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    for error in sorted(validator.iter_errors(config), key=lambda e: (_schema_path(e), e.message)):
        key = _schema_path(error)
        message = error.message.splitlines()[0]
        expected = _schema_expectation(error)
        if error.validator == "oneOf" and key.endswith("cq_tables"):
            message = f"{error.instance!r} is neither a path nor a list of paths"
        path = list(error.absolute_path)
        if error.validator == "oneOf" and len(path) == 2 and path[0] == "contrasts" and isinstance(error.instance, dict):
            given = [name for name in ("reference", "target", "levels") if name in error.instance]
            message = f"contrast '{path[1]}' gives {' and '.join(given) or 'no levels'}"
            expected = "either 'reference' and 'target' (one comparison) or 'levels' (every pair of them), not both"
        if len(path) == 3 and path[0] == "contrasts" and path[2] == "levels":
            expected = "a list of two or more different levels of the contrast column, reference first"
        errors.add((f"config key '{key}': " if key else "config: ") + message, expected=expected)
    errors.raise_if_any()
    check_rnaseq_tests(config, errors)
    errors.raise_if_any()


#: Contrast keys that set the RNA-seq test other than target vs reference (R's results()).
CONTRAST_TEST_KEYS = ("name", "numerator", "denominator", "list_values", "weights")


def check_rnaseq_tests(config: dict[str, Any], errors: ErrorCollector) -> None:
    """The RNA-seq test settings that contradict each other, before any file is read.

    R's ``DESeq``/``results()`` stop on the same combinations: an LRT without a reduced
    design (or a reduced design without the LRT), a threshold test under the LRT,
    ``lessAbs`` without a positive threshold; and a contrast names one test only.
    """
    rnaseq = config.get("rnaseq") or {}
    test = rnaseq.get("test", "wald")
    if test == "lrt" and not rnaseq.get("reduced"):
        errors.add("rnaseq.test is lrt but no reduced design is given", column="rnaseq.reduced",
                   expected="the reduced formula of the likelihood ratio test, nested in rnaseq.design, e.g. '~patient' "
                            "or '~1' (R's DESeq(test = 'LRT', reduced = ))")
    if test == "wald" and rnaseq.get("reduced"):
        errors.add("rnaseq.reduced is set but rnaseq.test is wald: a reduced design is used by the likelihood ratio "
                   "test only", column="rnaseq.reduced", value=rnaseq["reduced"],
                   expected="rnaseq.test: lrt, or no rnaseq.reduced")
    engine = rnaseq.get("engine", "fast")
    if config.get("rnaseq") and engine != "fast" and test == "lrt":
        errors.add("the likelihood ratio test is computed by the fast engine only", column="rnaseq.engine",
                   value=engine, expected="fast")
    for name, spec in (config.get("contrasts") or {}).items():
        if not isinstance(spec, dict):
            continue
        given = [key for key in CONTRAST_TEST_KEYS if spec.get(key) not in (None, [], {})]
        if "levels" in spec and given:
            errors.add(f"contrast '{name}' is a levels family but sets {', '.join(given)}: a family tests every pair "
                       "of its levels", column=f"contrasts.{name}", value=", ".join(given),
                       expected="'name', 'numerator'/'denominator' or 'weights' on a contrast with reference and target")
        kinds = [kind for kind, keys in (("name", ("name",)), ("list", ("numerator", "denominator")),
                                         ("weights", ("weights",)))
                 if any(spec.get(key) not in (None, [], {}) for key in keys)]
        if len(kinds) > 1:
            errors.add(f"contrast '{name}' gives {' and '.join(kinds)}: one RNA-seq test per contrast",
                       column=f"contrasts.{name}", value=", ".join(kinds),
                       expected="one of 'name' (a coefficient), 'numerator'/'denominator' (a list contrast) or "
                                "'weights' (a numeric contrast)")
        if spec.get("list_values") is not None and "list" not in kinds:
            errors.add(f"contrast '{name}' sets list_values without numerator or denominator",
                       column=f"contrasts.{name}.list_values", value=spec["list_values"],
                       expected="list_values only with a list contrast (numerator / denominator)")
        values = spec.get("list_values")
        if isinstance(values, list) and len(values) == 2 and not (values[0] > 0 and values[1] < 0):
            errors.add(f"contrast '{name}': list_values must be a positive then a negative number (R's listValues)",
                       column=f"contrasts.{name}.list_values", value=values, expected="e.g. [1, -1]")
        threshold = spec.get("lfc_threshold", 0) or 0
        alternative = spec.get("alt_hypothesis", "greaterAbs")
        if alternative == "lessAbs" and threshold == 0:
            errors.add(f"contrast '{name}' tests alt_hypothesis lessAbs with lfc_threshold 0",
                       column=f"contrasts.{name}.lfc_threshold", value=0,
                       expected="a positive lfc_threshold for lessAbs (R's results() stops here)")
        thresholded = threshold != 0 or alternative != "greaterAbs"
        if thresholded and test == "lrt":
            errors.add(f"contrast '{name}' sets lfc_threshold / alt_hypothesis but rnaseq.test is lrt",
                       column=f"contrasts.{name}.lfc_threshold", value=threshold,
                       expected="threshold tests with rnaseq.test: wald (R: tests of log fold change above or below "
                                "a threshold must be Wald tests)")
        if config.get("rnaseq") and engine != "fast" and (given or thresholded):
            errors.add(f"contrast '{name}' sets {', '.join(given + (['a threshold'] if thresholded else []))}, "
                       "which the fast engine computes", column="rnaseq.engine", value=engine, expected="fast")


def _schema_expectation(error: Any) -> str | None:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return " or ".join("null" if t == "null" else f"a {t}" for t in types)
    return "a value as described in config/README.md"


def header_line(decoded) -> tuple[int, str] | None:
    """1-based number and text of the first line that is neither blank nor a ``#`` comment."""
    for number, line in enumerate(decoded.lines, start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            return number, line
    return None


def delimiter_problem(path: str | Path, decoded=None) -> InputError | None:
    """An error when the header of a delimited table has a single column.

    Every table of the workflow needs at least two columns, so a one-column header means
    the file is delimited by something the readers do not accept (``|``, spaces, ...).
    """
    decoded = decoded or read_text(path)
    found = header_line(decoded)
    if found is None:
        return None
    number, line = found
    if any(delimiter in line for delimiter in ("\t", ",", ";")):
        return None
    stripped = line.strip()
    guess = ""
    for candidate, name in (("|", "'|'"), (":", "':'"), (" ", "spaces")):
        if candidate in stripped:
            guess = f" (it seems to use {name})"
            break
    return InputError(
        f"the header has a single column, so the file is not delimited by {ACCEPTED_DELIMITERS}{guess}",
        file=path,
        row=number,
        value=stripped[:80],
        expected="columns separated by tabs (TSV; commas or semicolons are also accepted)",
    )


def check_sample_sheet(design: Design, errors: ErrorCollector, paired: bool) -> None:
    """Unique non-empty sample IDs, contrast columns and levels, group sizes, pairs."""
    samples, sheet = design.samples, design.sample_sheet
    if samples.empty:
        errors.add(
            "the sample sheet has a header but no samples",
            file=sheet,
            row=2,
            expected="one row per biological sample after the header",
        )
        return
    for sample, line in zip(samples["sample"], samples["__line__"]):
        if not sample:
            errors.add("sample ID is empty", file=sheet, row=int(line), column="sample", value="", expected="a sample ID")
    duplicated = samples[samples["sample"].duplicated(keep=False) & (samples["sample"] != "")]
    for sample, rows in duplicated.groupby("sample")["__line__"]:
        lines = rows.tolist()
        errors.add(
            f"sample ID is used more than once ({getattr(sheet, 'row_word', 'line')}s {', '.join(map(str, lines))})",
            file=sheet,
            row=lines[1],
            column="sample",
            value=sample,
            expected="unique sample IDs",
        )
    columns = [c for c in samples.columns if c != "__line__"]
    check_contrast_names(design, errors)
    specs = configured_contrasts(design)
    # a level that one contrast leaves out but another uses is no typo
    used_in_column: dict[str, set[str]] = {}
    for spec in specs:
        used_in_column.setdefault(spec.column, set()).update(level for _, level in spec.roles)
    for spec in specs:
        if spec.column not in samples.columns:
            errors.add(
                f"contrast '{spec.name}' uses column '{spec.column}', which the sample sheet does not have"
                + closest(spec.column, columns),
                file=sheet,
                row=header_row(samples),
                column=spec.column,
                value=", ".join(columns),
                expected=f"a column named '{spec.column}'",
            )
            continue
        levels = samples[spec.column]
        present = sorted(set(levels) - {""})
        if empty_contrast_cells(design, spec, errors):
            continue
        for role, level in spec.roles:
            if level not in present:
                errors.add(
                    f"contrast '{spec.name}': {role} '{level}' does not occur in column "
                    f"'{spec.column}'" + closest(level, present),
                    file=sheet,
                    column=spec.column,
                    value=level,
                    expected=f"one of {', '.join(present)}",
                )
                continue
            group = samples[levels == level]
            if len(group) < 2:
                errors.add(
                    f"contrast '{spec.name}': level '{level}' has only {len(group)} sample; "
                    "a group needs at least 2 samples to estimate its variance",
                    file=sheet,
                    row=int(group["__line__"].iloc[0]),
                    column=spec.column,
                    value=level,
                    expected="at least 2 samples per level",
                )
        if paired and all(level in present for _, level in spec.roles):
            for contrast in spec.pairs:
                check_pairs(design, contrast, errors)
        used = {level for _, level in spec.roles}
        for level in sorted(set(present) - used_in_column[spec.column]):
            suggestion = closest(level, sorted(used))
            if suggestion:
                design.notes.append(
                    f"WARNING: {sheet}: level '{level}' of column '{spec.column}' is used by no "
                    f"contrast{suggestion}; its samples are left out of contrast '{spec.name}'"
                )


@dataclass(frozen=True)
class ConfiguredContrast:
    """A contrast as the user configured it: one pair, or a ``levels:`` family of pairs."""

    name: str
    column: str
    #: (how the message names it, level): ("reference level", ...), or ("level", ...) per family level
    roles: tuple[tuple[str, str], ...]
    pairs: tuple[Contrast, ...]


def configured_contrasts(design: Design) -> list[ConfiguredContrast]:
    """The config's contrasts before expansion, so that a family's levels are checked once."""
    specs: dict[str, ConfiguredContrast] = {}
    for contrast in design.contrasts:
        if contrast.family is None:
            roles = (("reference level", contrast.reference), ("target level", contrast.target))
            specs[contrast.name] = ConfiguredContrast(contrast.name, contrast.column, roles, (contrast,))
        elif contrast.family in specs:
            family = specs[contrast.family]
            specs[contrast.family] = ConfiguredContrast(family.name, family.column, family.roles, family.pairs + (contrast,))
        else:
            roles = tuple(("level", level) for level in contrast.family_levels)
            specs[contrast.family] = ConfiguredContrast(contrast.family, contrast.column, roles, (contrast,))
    return list(specs.values())


def check_contrast_names(design: Design, errors: ErrorCollector) -> None:
    """Every contrast (a family's pairs included) has its own name, hence its own results folder."""
    seen: dict[str, Contrast] = {}
    for contrast in design.contrasts:
        first = seen.setdefault(contrast.name, contrast)
        if first is contrast:
            continue
        sources = [
            f"contrast '{item.family}' (levels {', '.join(item.family_levels)}) expands to '{item.name}'"
            if item.family
            else f"contrast '{item.name}'"
            for item in (first, contrast)
        ]
        errors.add(
            f"two contrasts would write to results/{contrast.name}/: {sources[0]}, and {sources[1]}",
            column="contrasts",
            value=contrast.name,
            expected="distinct contrast names (drop the single contrast: the family already compares that pair)",
        )


def empty_contrast_cells(design: Design, spec: "ConfiguredContrast", errors: ErrorCollector, limit: int = 10) -> bool:
    """Report samples whose contrast column is still empty (as ``fibroskin init`` leaves it).

    A sample without a level would silently drop out of the contrast while its data are
    still required, so every empty cell is an error. Returns whether any was found.
    """
    samples, sheet = design.samples, design.sample_sheet
    empty = samples[(samples[spec.column] == "") & (samples["sample"] != "")]
    if empty.empty:
        return False
    # a pair names its target first (lesional or healthy); a family its levels in order
    levels = [level for _, level in (spec.roles[::-1] if len(spec.pairs) == 1 and len(spec.roles) == 2 else spec.roles)]
    choice = " or ".join(f"'{level}'" for level in levels) if len(levels) <= 2 else (
        ", ".join(f"'{level}'" for level in levels[:-1]) + f" or '{levels[-1]}'")
    fill = f"fill the {spec.column} column with {choice} (the levels contrast '{spec.name}' compares) for every sample"
    if len(empty) == len(samples):
        errors.add(
            f"the '{spec.column}' column of the sample sheet is empty: {fill}",
            file=sheet,
            row=int(samples["__line__"].iloc[0]),
            column=spec.column,
            value="",
            expected=f"{choice} in each of the {len(samples)} rows",
        )
        return True
    for sample, line in zip(empty["sample"][:limit], empty["__line__"][:limit]):
        errors.add(
            f"sample '{sample}' has no {spec.column}: {fill}",
            file=sheet,
            row=int(line),
            column=spec.column,
            value="",
            expected=f"{choice} (or another level of the column)",
        )
    if len(empty) > limit:
        errors.add(f"... and {len(empty) - limit} more samples with an empty {spec.column}", file=sheet)
    return True


def check_pairs(design: Design, contrast, errors: ErrorCollector, pair_column: str = "patient") -> None:
    """For paired tests: each patient has exactly one sample at each level of the contrast."""
    samples, sheet = design.samples, design.sample_sheet
    if pair_column not in samples.columns:
        errors.add(
            f"a paired test needs a '{pair_column}' column pairing the samples",
            file=sheet,
            row=header_row(samples),
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


def explain_unrecognised(problems: list[InputError]) -> list[InputError]:
    """Replace "file format not recognised" by what is actually wrong, where that can be told.

    A one-column header means an unaccepted delimiter; a header naming some of sample,
    target, cq is a long table missing a column, which the long reader names exactly.
    """
    explained: list[InputError] = []
    for problem in problems:
        if problem.message != "file format not recognised" or problem.file is None:
            explained.append(problem)
            continue
        try:
            decoded = read_text(problem.file)
            delimiter = delimiter_problem(problem.file, decoded)
            if delimiter is not None:
                explained.append(delimiter)
                continue
            found = header_line(decoded)
            names = re.split(r"[\t,;]", found[1]) if found else []
            if found and set(canonical_columns(names).values()) & {"sample", "target", "cq"}:
                read_long_cq_table(problem.file, decoded)
        except InputErrors as specific:
            explained.extend(specific.errors)
            continue
        explained.append(problem)
    return explained


def check_qpcr(design: Design, errors: ErrorCollector) -> list[str]:
    """Read the Cq tables and cross-check them with the sheet and the reference genes."""
    settings = design.qpcr
    try:
        wells, notes = read_qpcr_files(list(settings.cq_tables), format=settings.format, plate_map=settings.plate_map)
    except InputErrors as problems:
        errors.extend(explain_unrecognised(problems.errors))
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
    detected = biological.assign(detected=biological["cq"].notna() & (biological["cq"] <= settings.max_cq))
    per_pair = detected[detected["target"].isin(settings.reference_genes)].groupby(["sample", "target"], sort=True)
    for (sample, gene), rows in per_pair:
        if rows["detected"].any():
            continue
        if settings.missing_reference != "error":
            notes.append(
                f"WARNING: sample '{sample}': reference gene '{gene}' was not detected in any replicate "
                f"({rows['file'].iloc[0]}, lines {', '.join(map(str, rows['line']))}); the sample is excluded "
                "from every test (qpcr.missing_reference: exclude)"
            )
        else:
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


def shortened(names: list[str], limit: int = 4) -> str:
    """The first ``limit`` names, then how many more: a design with a column per patient is long."""
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def check_qpcr_design(design: Design, errors: ErrorCollector) -> list[str]:
    """``qpcr.design``: a formula over sheet columns, holding each contrast column as a main
    effect only, with complete covariates and full rank on the samples of every contrast.

    Runs the same design construction as the fit (:mod:`fibroskin.linear_model`), so that a
    design refused here is one the linear model could not estimate.
    """
    from fibroskin.linear_model import dependent_columns, design_frame, design_matrix, formula_variables, numeric_columns
    from fibroskin.qpcr_model import model_levels

    formula, samples, sheet = design.qpcr.design, design.samples, design.sample_sheet
    columns = [c for c in samples.columns if c != "__line__"]
    variables = formula_variables(formula)
    contrast_columns = {spec.column for spec in configured_contrasts(design)}
    missing = [name for name in variables if name not in columns]
    for name in missing:
        if name in contrast_columns:
            continue  # already reported as the contrast's missing column
        errors.add(
            f"the qPCR design '{formula}' names '{name}', which is not a column of the sample sheet"
            + closest(name, columns),
            file=sheet,
            row=header_row(samples),
            column=name,
            value=formula,
            expected=f"a formula over the sheet's columns ({', '.join(columns)})",
        )
    if missing:
        return []
    notes = []
    for name in numeric_columns(samples, [v for v in variables if v not in contrast_columns]):
        notes.append(
            f"qpcr.design: column '{name}' holds only numbers, so the linear model takes it as a continuous "
            f"covariate (write C({name}) in the formula to make it a factor)"
        )
    for spec in configured_contrasts(design):
        if spec.column not in variables:
            errors.add(
                f"contrast '{spec.name}' compares levels of '{spec.column}', which the qPCR design "
                f"'{formula}' does not contain",
                column="qpcr.design",
                value=formula,
                expected=f"a design including {spec.column}, e.g. '~batch + {spec.column}'",
            )
            continue
        levels = [level for _, level in spec.roles]
        rows = samples[samples[spec.column].isin(levels)]
        if not set(levels) <= set(rows[spec.column]):
            continue  # a level missing from the sheet is reported by the sheet check
        blank = False
        for column in variables:
            for line in rows.loc[rows[column] == "", "__line__"]:
                blank = True
                errors.add(
                    f"sample has no value in column '{column}', which the qPCR design '{formula}' uses "
                    f"(contrast '{spec.name}')",
                    file=sheet,
                    row=int(line),
                    column=column,
                    value="",
                    expected=f"a value of '{column}' for every sample of levels {', '.join(levels)}",
                )
        if blank:
            continue
        contrast = spec.pairs[0]
        frame = design_frame(rows, variables, spec.column, model_levels(contrast))
        try:
            matrix = design_matrix(formula, frame)
        except Exception as problem:  # formulaic's parse errors have no common base class
            errors.add(
                f"the qPCR design '{formula}' cannot be read as a formula: {str(problem).splitlines()[0]}",
                column="qpcr.design",
                value=formula,
                expected="a formula such as '~batch + condition' (terms joined by +)",
            )
            return notes
        interacting = sorted({" x ".join(sources) for sources in matrix.sources if spec.column in sources and len(sources) > 1})
        if interacting:
            errors.add(
                f"the qPCR design '{formula}' lets the effect of '{spec.column}' depend on another column "
                f"({', '.join(interacting)}); the linear model reports one '{spec.column}' effect per contrast",
                column="qpcr.design",
                value=formula,
                expected=f"'{spec.column}' as a main effect only, e.g. '~batch + {spec.column}'",
            )
            continue
        dependent = dependent_columns(matrix)
        if dependent:
            sources = dict(zip(matrix.names, matrix.sources))
            involved = sorted({column for name in dependent for column in sources[name]})
            if len(involved) > 1:
                reason = f"{' and '.join(repr(c) for c in involved)} are confounded"
            else:
                reason = f"{''.join(repr(c) for c in involved) or 'a column'} is constant, so it duplicates the intercept"
            errors.add(
                f"the qPCR design '{formula}' is not full rank on the samples of contrast '{spec.name}' "
                f"({int(np.linalg.matrix_rank(matrix.values))} independent of {matrix.values.shape[1]} coefficients): "
                f"{reason} (model columns {shortened(dependent)} are linearly dependent), so their effects "
                "cannot be told apart",
                file=sheet,
                column=", ".join(involved),
                value=formula,
                expected=f"covariates that vary within the levels of '{spec.column}' (drop or recode a confounded column)",
            )
        elif len(rows) <= matrix.values.shape[1]:
            errors.add(
                f"the qPCR design '{formula}' has {matrix.values.shape[1]} coefficients but contrast '{spec.name}' "
                f"has only {len(rows)} samples: no residual degree of freedom to test with",
                file=sheet,
                column=", ".join(variables),
                value=formula,
                expected="more samples than coefficients (drop a covariate)",
            )
    return notes


def confounded_pairs(table: pd.DataFrame, columns: list[str]) -> list[tuple[str, str]]:
    """Pairs of design factors whose levels determine each other (one is nested in the other)."""
    pairs = []
    for position, first in enumerate(columns):
        for second in columns[position + 1 :]:
            pairs_seen = table[[first, second]].drop_duplicates()
            if pairs_seen[first].is_unique or pairs_seen[second].is_unique:
                pairs.append((first, second))
    return pairs


def check_design(design: Design, counted: pd.DataFrame, errors: ErrorCollector) -> list[str]:
    """The RNA-seq design (and the LRT's reduced design) against the counted samples.

    Runs the model-matrix construction of the fit (:mod:`fibroskin.deseq2.design`) so that
    a design refused here is one R's ``DESeq`` would refuse too: formulas naming sheet
    columns, every ``target`` vs ``reference`` contrast's column in the design, full rank
    (naming the dependent model columns, and the nested coding where individuals are
    nested in groups), the reduced design nested with at least one degree of freedom, and
    each contrast's coefficients among ``resultsNames``.

    Returns
    -------
    list of str
        Notes: continuous covariates, all-zero columns dropped from a nested design.
    """
    from fibroskin.deseq2.contrasts import ContrastError, resolve_contrast
    from fibroskin.deseq2.design import design_metadata, design_variables, full_rank_problem, r_model_matrix
    from fibroskin.rnaseq_steps import contrast_spec, reference_levels

    settings = design.rnaseq
    notes: list[str] = []
    columns = [c for c in design.samples.columns if c != "__line__"]
    formulas = {"rnaseq.design": settings.design}
    if settings.test == "lrt" and settings.reduced:
        formulas["rnaseq.reduced"] = settings.reduced
    missing = False
    for key, formula in formulas.items():
        for name in design_variables(formula):
            if name not in columns:
                missing = True
                errors.add(
                    f"the {'design formula' if key == 'rnaseq.design' else 'reduced design'} '{formula}' names "
                    f"'{name}', which is not a column of the sample sheet" + closest(name, columns),
                    file=design.sample_sheet,
                    row=header_row(design.samples),
                    column=name,
                    value=formula,
                    expected=f"a formula over the sheet's columns ({', '.join(columns)})",
                )
    if missing:
        return notes
    variables = design_variables(settings.design)
    for contrast in design.contrasts:
        if contrast.rnaseq_kind == "levels" and contrast.column not in variables:
            errors.add(
                f"contrast '{contrast.name}' compares levels of '{contrast.column}', which the design "
                f"'{settings.design}' does not contain",
                column="rnaseq.design",
                value=settings.design,
                expected=f"a design including {contrast.column}, e.g. '~{contrast.column}', or the contrast's "
                         "coefficient ('name') or weights",
            )
    try:
        metadata = design_metadata(counted, list(formulas.values()), reference_levels(design))
        model = r_model_matrix(settings.design, metadata)
    except Exception as problem:  # formulaic's parse errors have no common base class
        errors.add(
            f"the design '{settings.design}' cannot be built: {str(problem).splitlines()[0]}",
            column="rnaseq.design",
            value=settings.design,
            expected="a formula such as '~batch + condition' (terms joined by +, interactions with :)",
        )
        return notes
    for name in [c for c in metadata.columns if metadata[c].dtype == float]:
        notes.append(f"rnaseq.design: column '{name}' holds only numbers, so DESeq2 takes it as a continuous covariate "
                     f"(write C({name}) in the formula to make it a factor)")
    if model.dropped:
        notes.append(f"rnaseq.design: the all-zero model columns {', '.join(model.dropped)} are dropped (individuals "
                     "nested within groups, as the DESeq2 vignette does); the coefficients are "
                     f"{', '.join(model.names)}, tested by name or weights")
    problem = full_rank_problem(model, metadata)
    if problem is not None:
        factors = [v for v in variables if v in metadata.columns and metadata[v].dtype != float]
        pairs = confounded_pairs(metadata[factors].astype(str), factors)
        detail = "".join(f"; '{a}' is confounded with '{b}'" for a, b in pairs)
        errors.add(problem[0] + detail, file=design.sample_sheet, column=", ".join(variables), value=settings.design,
                   expected=problem[1])
        return notes
    if "rnaseq.reduced" in formulas:
        from fibroskin.deseq2.lrt import check_nested

        reduced = r_model_matrix(settings.reduced, metadata)
        try:
            check_nested(model.matrix, reduced.matrix, design_variables(settings.design),
                         design_variables(settings.reduced))
            reduced_problem = full_rank_problem(reduced, metadata)
            if reduced_problem is not None:
                raise ValueError(reduced_problem[0])
        except ValueError as reason:
            errors.add(f"the reduced design '{settings.reduced}' does not fit the design '{settings.design}': {reason}",
                       column="rnaseq.reduced", value=settings.reduced,
                       expected=f"a full-rank formula nested in '{settings.design}' with fewer coefficients, "
                                "e.g. '~1' or the design without the tested term")
    empty = np.zeros((0, len(metadata)))
    for contrast in design.contrasts:
        if contrast.rnaseq_kind == "levels":
            values = metadata[contrast.column] if contrast.column in metadata else None
            levels = set(values.cat.categories) if values is not None and values.dtype == "category" else set()
            if not {contrast.reference, contrast.target} <= levels:
                continue  # an absent level or a continuous column is reported by the sheet check
        try:
            resolve_contrast(contrast_spec(contrast), model.matrix, metadata, empty, settings.design,
                             model.user_supplied)
        except ContrastError as reason:
            errors.add(f"contrast '{contrast.name}': {reason}", column=f"contrasts.{contrast.family or contrast.name}",
                       value=contrast.coefficient or ", ".join(contrast.numerator + contrast.denominator) or None,
                       expected=f"a contrast of the coefficients {', '.join(model.names)}")
    return notes


def check_count_columns(decoded, samples: list[str], errors: ErrorCollector) -> None:
    """Every count column belongs to a sheet sample (as for the Cq tables).

    featureCounts' annotation columns and nf-core/rnaseq's ``gene_name`` /
    ``transcript_id(s)`` are not samples; BAM paths are matched as the reader matches
    them (:func:`fibroskin.io.counts.match_sample`).
    """
    import csv

    from fibroskin.io.counts import FEATURECOUNTS_ANNOTATION, NFCORE_ANNOTATION, match_sample
    from fibroskin.io.text import sniff_delimiter

    found = header_line(decoded)
    if found is None:
        return
    number, line = found
    header = [name.strip() for name in next(csv.reader([line], delimiter=sniff_delimiter(line)))]
    annotation = {name.lower() for name in FEATURECOUNTS_ANNOTATION}
    nfcore = len(header) > 2 and header[0].lower() == "gene_id" and header[1] in NFCORE_ANNOTATION
    columns = [
        name for position, name in enumerate(header[1:], start=1)
        if name and name.lower() not in annotation and not (nfcore and position == 1)
    ]
    matched = {name: match_sample(name, samples) for name in columns}
    without_column = [sample for sample in samples if sample not in set(matched.values())]
    for name, sample in matched.items():
        if sample is None:
            errors.add(
                f"count column '{name}' matches no sample of the sample sheet"
                + closest(name, without_column or samples),
                file=decoded.path,
                row=number,
                column=name,
                value=name,
                expected="a column per sample of the sheet (add the sample to the sheet, or remove the column)",
            )


def check_rnaseq(design: Design, errors: ErrorCollector) -> list[str]:
    """Read the RNA-seq input (whichever tool wrote it) and cross-check it with the sheet and design.

    Also records in ``design.facts["rnaseq_lengths"]`` whether the input calls for
    length offsets, which only the fast engine applies: with ``rnaseq.engine: pydeseq2``
    such an input is refused; and in ``design.facts["rnaseq_cells"]`` the size of the count
    table (genes x samples).
    """
    from fibroskin.rnaseq_input import COUNTS_FILE_COLUMN, length_offsets_need_fast_engine, read_rnaseq_input

    settings = design.rnaseq
    sheet_samples = design.samples["sample"].tolist()
    if settings.counts is not None and COUNTS_FILE_COLUMN not in design.samples.columns:
        try:
            decoded = read_text_head(settings.counts)  # the header checks below need its first lines
        except InputErrors as problems:
            errors.extend(problems.errors)
            return []
        problem = delimiter_problem(settings.counts, decoded)
        if problem is not None:
            errors.extend([problem])
            return []
        check_count_columns(decoded, sheet_samples, errors)
    try:
        rnaseq_input = read_rnaseq_input(design)
    except InputErrors as problems:
        errors.extend(problems.errors)
        return []
    design.facts["rnaseq_lengths"] = rnaseq_input.lengths is not None
    # genes x samples: whether contrasts are tested in the fit's job (rnaseq_steps.contrasts_fan_out)
    design.facts["rnaseq_cells"] = int(rnaseq_input.counts.size)
    if rnaseq_input.lengths is not None and settings.engine != "fast":
        errors.extend([length_offsets_need_fast_engine(rnaseq_input, settings)])
    counts = rnaseq_input.counts
    source = str(settings.counts) if settings.counts is not None else str(design.sample_sheet)
    counted = pd.DataFrame({"sample": [str(c) for c in counts.columns], "file": source, "line": 1})
    check_samples_match(counted, design, errors, "column in the count table")
    if settings.min_samples is not None and settings.min_samples > counts.shape[1]:
        errors.add(
            f"rnaseq.min_samples is {settings.min_samples} but the count table has {counts.shape[1]} samples, "
            "so the prefilter would remove every gene",
            column="rnaseq.min_samples",
            value=settings.min_samples,
            expected=f"at most {counts.shape[1]}",
        )
    sheet = design.samples.set_index("sample")
    present = [sample for sample in counted["sample"] if sample in sheet.index]
    notes = list(rnaseq_input.notes)
    if present:
        notes.extend(check_design(design, sheet.loc[present], errors))
    return notes


def check_sheet_workbook(path: Path, sheet: str | None, errors: ErrorCollector) -> None:
    """What can be wrong with a spreadsheet sample sheet as a file: unreadable, no such sheet, no rows."""
    from fibroskin.io.spreadsheet import read_spreadsheet_table

    try:
        table, source, _ = read_spreadsheet_table(path, sheet)
    except InputErrors as problems:
        errors.extend(problems.errors)
        return
    if table.empty:
        errors.add(
            "the sample sheet has a header but no samples",
            file=source,
            row=header_row(table) + 1,
            expected="one row per biological sample after the header",
        )


def check_sheet_text(path: Path, errors: ErrorCollector) -> None:
    """What can be wrong with the sample sheet as a file: encoding, delimiter, ragged rows."""
    try:
        decoded = read_text(path)
    except InputErrors as problems:
        errors.extend(problems.errors)
        return
    problem = delimiter_problem(path, decoded)
    if problem is not None:
        errors.extend([problem])
        return
    found = header_line(decoded)
    if found is None:
        errors.add("the sample sheet holds only comments", file=path, expected="a header line and one row per sample")
        return
    table, delimiter = read_table_text(decoded, first_line=found[0])
    errors.extend(extra_field_errors(table, decoded, delimiter, first_line=found[0]))
    if table.empty:
        errors.add(
            "the sample sheet has a header but no samples",
            file=path,
            row=found[0] + 1,
            expected="one row per biological sample after the header",
        )


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
    check_config(config)
    errors = ErrorCollector()
    paths = [("samples", config["samples"])]
    qpcr_section = config.get("qpcr") or {}
    tables = qpcr_section.get("cq_tables", [])
    paths += [("qpcr.cq_tables", table) for table in ([tables] if isinstance(tables, str) else tables)]
    if qpcr_section.get("plate_map"):
        paths.append(("qpcr.plate_map", qpcr_section["plate_map"]))
    rnaseq_section = config.get("rnaseq") or {}
    for key in ("counts", "annotation", "lengths", "tx2gene"):
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
    from fibroskin.io.spreadsheet import is_spreadsheet

    if is_spreadsheet(config["samples"]):
        check_sheet_workbook(Path(config["samples"]), config.get("samples_sheet"), errors)
    else:
        check_sheet_text(Path(config["samples"]), errors)
    errors.raise_if_any()
    design = load_design(config)
    paired = bool(design.qpcr and design.qpcr.test in PAIRED_TESTS)
    check_sample_sheet(design, errors, paired)
    if design.qpcr is not None:
        design.notes.extend(check_qpcr(design, errors))
        if design.qpcr.design:
            design.notes.extend(check_qpcr_design(design, errors))
    if design.rnaseq is not None:
        design.notes.extend(check_rnaseq(design, errors))
    errors.raise_if_any()
    return design


def describe_schema_error(error: BaseException) -> str:
    """One readable line for Snakemake's schema-validation error: the key path and the reason."""
    import jsonschema

    for argument in getattr(error, "args", ()):
        if isinstance(argument, jsonschema.ValidationError):
            key = _schema_path(argument)
            return (f"config key '{key}': " if key else "") + argument.message.splitlines()[0]
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = next((line for line in lines if line.startswith("ValidationError")), lines[0] if lines else repr(error))
    reason = reason.removeprefix("ValidationError:").strip()
    instance = next((line for line in lines if line.startswith("On instance")), "")
    key = ".".join(re.findall(r"\[['\"]?([^\]'\"]*)['\"]?\]", instance))
    return (f"config key '{key}': " if key else "") + reason
