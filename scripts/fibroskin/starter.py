"""``fibroskin init``: a working directory for a new cohort, from the lab's own data files.

Reads every given Cq export and count table with the workflow's own readers
(:func:`fibroskin.io.instruments.read_qpcr_files`, :func:`fibroskin.io.counts.read_counts`,
so every format they read is accepted), then writes

- ``samples.tsv``: every biological sample found, one per row, with an empty
  ``condition`` column for the lab to fill;
- ``config.yaml``: one contrast (target vs reference level of ``condition``), the targets
  found as markers, the reference genes guessed from the bundled panel (GAPDH, ACTB, ...),
  the data files;

and says which single ``snakemake`` command runs the workflow on them. It never replaces
a file already there unless asked to (``force``).
"""

from __future__ import annotations

import csv
import io
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from fibroskin.errors import InputError, InputErrors
from fibroskin.markers import SymbolIndex, load_panel
from fibroskin.tables import atomic_path

CONFIG_NAME = "config.yaml"
SHEET_NAME = "samples.tsv"


class StarterError(RuntimeError):
    """``init`` cannot write the working directory (files exist, nothing to read, ...)."""


@dataclass
class Cohort:
    """What the data files say about a cohort."""

    samples: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    reference_genes: list[str] = field(default_factory=list)
    qpcr_samples: list[str] = field(default_factory=list)
    count_samples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def panel_reference_genes() -> list[str]:
    """Symbols of the panel's qPCR reference genes (GAPDH, ACTB, RPLP0, ...)."""
    panel = load_panel()
    return panel.loc[panel["role"] == "reference_gene", "symbol"].tolist()


def guess_reference_genes(targets: list[str]) -> list[str]:
    """The targets that are reference genes of the panel, as the files spell them.

    Matched through the panel's symbols, aliases and Ensembl IDs, case-insensitively
    (``Gapdh``, ``beta-actin`` are found).
    """
    index = SymbolIndex.build()
    references = set(panel_reference_genes())
    return [target for target in targets if index.symbol(target) in references]


def read_cohort(
    cq_files: list[Path], counts: Path | None, plate_map: Path | None = None, qpcr_format: str = "auto"
) -> Cohort:
    """Samples and targets of the data files, in the order the files give them.

    Raises
    ------
    InputErrors
        What the readers refuse in the files (the same messages as a run).
    """
    from fibroskin.io.counts import read_counts, strip_bam_suffixes
    from fibroskin.io.instruments import read_qpcr_files

    cohort = Cohort()
    if cq_files:
        wells, notes = read_qpcr_files(cq_files, format=qpcr_format, plate_map=plate_map)
        cohort.notes += notes
        biological = wells[(wells["task"] == "unknown") & (wells["sample"].astype(str) != "")]
        cohort.qpcr_samples = list(dict.fromkeys(biological["sample"].astype(str)))
        cohort.targets = list(dict.fromkeys(biological["target"].astype(str)))
        cohort.reference_genes = guess_reference_genes(cohort.targets)
    if counts is not None:
        table, notes = read_counts(counts)
        cohort.notes += notes
        columns = [str(column) for column in table.columns]
        # featureCounts names its columns after the BAM files: the sample is the file name.
        stripped = [strip_bam_suffixes(column) for column in columns]
        names = stripped if len(set(stripped)) == len(stripped) else columns
        cohort.count_samples = names
    cohort.samples = list(dict.fromkeys(cohort.qpcr_samples + cohort.count_samples))
    return cohort


def config_path_text(path: Path, directory: Path) -> str:
    """A data path as the config should name it: relative to the working directory when inside it."""
    absolute = path.resolve()
    try:
        return absolute.relative_to(directory.resolve()).as_posix()
    except ValueError:
        return absolute.as_posix()


def flow_list(values: list[str]) -> str:
    """A YAML flow list of strings, each quoted (JSON strings are valid YAML)."""
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def config_text(
    directory: Path,
    cohort: Cohort,
    cq_files: list[Path],
    counts: Path | None,
    plate_map: Path | None,
    column: str,
    reference: str,
    target: str,
) -> str:
    """The ``config.yaml`` of the new working directory, commented for the lab."""
    markers = [gene for gene in cohort.targets if gene not in cohort.reference_genes]
    lines = [
        "# fibroskin configuration written by `fibroskin init`. Every key is explained in",
        "# fibroskin's config/README.md. Paths resolve against this directory (snakemake -d).",
        f"samples: {SHEET_NAME}",
        "",
        "contrasts:",
        f"  {target}_vs_{reference}:",
        f"    column: {json.dumps(column)}",
        f"    reference: {json.dumps(reference)}",
        f"    target: {json.dumps(target)}",
        "",
    ]
    if markers:
        lines += ["# the non-reference targets of the Cq files", f"markers: {flow_list(markers)}", ""]
    if cq_files:
        lines += [
            "qpcr:",
            f"  cq_tables: {flow_list([config_path_text(path, directory) for path in cq_files])}",
            "  # guessed from the marker panel's reference genes: check them",
            f"  reference_genes: {flow_list(cohort.reference_genes)}",
        ]
        if plate_map is not None:
            lines.append(f"  plate_map: {json.dumps(config_path_text(plate_map, directory))}")
        lines.append("")
    if counts is not None:
        lines += [
            "rnaseq:",
            f"  counts: {json.dumps(config_path_text(counts, directory))}",
            f"  design: {json.dumps('~' + column)}",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def sheet_text(samples: list[str], column: str) -> str:
    """``samples.tsv``: one row per sample, the contrast column left empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["sample", column])
    writer.writerows([sample, ""] for sample in samples)
    return buffer.getvalue()


def run_command(directory: Path, snakefile: Path) -> str:
    """The one command that runs the workflow on the new working directory."""
    return shlex.join(
        ["snakemake", "-s", str(snakefile), "-d", str(directory), "--configfile",
         str(directory / CONFIG_NAME), "--cores", "all"]
    )


@dataclass
class Started:
    """What :func:`init_cohort` wrote and what the lab does next."""

    config: Path
    sheet: Path
    cohort: Cohort
    command: str
    warnings: list[str]


def init_cohort(
    directory: Path,
    cq_files: list[Path],
    counts: Path | None = None,
    plate_map: Path | None = None,
    reference_genes: list[str] | None = None,
    column: str = "condition",
    reference: str = "healthy",
    target: str = "lesional",
    qpcr_format: str = "auto",
    force: bool = False,
    snakefile: Path | None = None,
) -> Started:
    """Write ``config.yaml`` and ``samples.tsv`` for the cohort of the given data files.

    Parameters
    ----------
    directory
        The working directory to write (created when missing).
    cq_files
        qPCR exports or long Cq tables (any format the workflow reads).
    counts
        An RNA-seq count table (matrix or featureCounts output).
    plate_map
        Plate map naming the samples of exports that hold only wells.
    reference_genes
        Reference genes to use instead of the guess from the panel.
    column, reference, target
        The sample-sheet column to fill and the contrast's two levels.
    force
        Replace ``config.yaml`` / ``samples.tsv`` if they exist.
    snakefile
        The workflow's Snakefile, for the command printed (default: the clone's).

    Raises
    ------
    StarterError
        When a file would be replaced without ``force``, when no data file is given, when
        no reference gene can be told, or when the files hold no sample.
    InputErrors
        When a data file is refused by its reader.
    """
    if not cq_files and counts is None:
        raise StarterError("give the data: --cq FILE... (qPCR exports or Cq tables) and/or --counts FILE")
    directory = Path(directory)
    config_file, sheet_file = directory / CONFIG_NAME, directory / SHEET_NAME
    existing = [path for path in (config_file, sheet_file) if path.exists()]
    if existing and not force:
        raise StarterError(
            f"{', '.join(map(str, existing))} already exist{'s' if len(existing) == 1 else ''}; "
            "nothing was written (add --force to replace them)"
        )
    missing = [path for path in [*cq_files, counts, plate_map] if path is not None and not Path(path).exists()]
    if missing:
        raise InputErrors([InputError("file does not exist", file=path, expected="an existing file") for path in missing])
    cohort = read_cohort(cq_files, counts, plate_map, qpcr_format)
    if not cohort.samples:
        raise StarterError("the data files hold no biological sample (only standards, NTCs or empty wells)")
    if cq_files:
        if reference_genes:
            unknown = [gene for gene in reference_genes if gene not in cohort.targets]
            if unknown:
                raise StarterError(
                    f"reference gene(s) {', '.join(unknown)} are not targets of the Cq files "
                    f"(targets: {', '.join(cohort.targets)})"
                )
            cohort.reference_genes = list(reference_genes)
        elif not cohort.reference_genes:
            raise StarterError(
                f"none of the targets ({', '.join(cohort.targets)}) is a reference gene of the panel "
                f"({', '.join(panel_reference_genes())}); name yours with --reference-genes"
            )
    warnings = []
    if cq_files and counts is not None:
        for what, missing_samples in (
            ("have Cq values but no count column", sorted(set(cohort.qpcr_samples) - set(cohort.count_samples))),
            ("have a count column but no Cq values", sorted(set(cohort.count_samples) - set(cohort.qpcr_samples))),
        ):
            if missing_samples:
                warnings.append(
                    f"samples {', '.join(missing_samples)} {what}: the run needs every sample in both "
                    "(rename them to match, or remove their rows from samples.tsv)"
                )
    if len(cohort.reference_genes) == 1:
        warnings.append("only one reference gene; MIQE recommends at least two validated ones")
    if snakefile is None:
        from fibroskin.checkout import SNAKEFILE as snakefile
    directory.mkdir(parents=True, exist_ok=True)
    texts = {
        config_file: config_text(directory, cohort, list(cq_files), counts, plate_map, column, reference, target),
        sheet_file: sheet_text(cohort.samples, column),
    }
    for path, text in texts.items():
        with atomic_path(path) as temporary:
            temporary.write_text(text)
    return Started(config_file, sheet_file, cohort, run_command(directory, Path(snakefile)), warnings)


def next_steps(started: Started, column: str, reference: str, target: str) -> str:
    """What ``fibroskin init`` prints: what it found, what to fill, the command to run."""
    cohort = started.cohort
    lines = [f"wrote {started.config} and {started.sheet}: {len(cohort.samples)} samples"]
    if cohort.targets:
        lines.append(f"  targets: {', '.join(cohort.targets)}")
        lines.append(f"  reference genes: {', '.join(cohort.reference_genes)}")
    lines += [f"WARNING: {warning}" for warning in started.warnings]
    lines += [
        "",
        f"Next: fill the '{column}' column of {started.sheet} with '{target}' or '{reference}' for each sample,",
        "then run:",
        "",
        f"  {started.command}",
    ]
    return "\n".join(lines)

