"""Per-sample read counts per gene: STAR ``ReadsPerGene.out.tab`` and HTSeq-count output.

Both tools write one file per sample, without a header, and mix rows that are not genes
into the counts:

* STAR ``--quantMode GeneCounts``: four columns (gene, unstranded, counts of reads on the
  gene's strand = htseq-count ``-s yes``, counts on the opposite strand = ``-s reverse``),
  headed by the rows ``N_unmapped``, ``N_multimapping``, ``N_noFeature``, ``N_ambiguous``.
  ``rnaseq.strandedness`` (``unstranded``, ``forward``, ``reverse``) picks the column.
* HTSeq-count: two columns (gene, count), ending with ``__no_feature``, ``__ambiguous``,
  ``__too_low_aQual``, ``__not_aligned``, ``__alignment_not_unique``.

The special rows are dropped and reported in the log; were they kept, they would be tested
as genes and shift the size factors. Strandedness is also read off the counts: a library
whose reads fall on one strand for at least 80% of the stranded counts is stranded that way
(the threshold RSeQC's ``infer_experiment`` users and nf-core/rnaseq apply).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fibroskin.errors import ErrorCollector, InputErrors
from fibroskin.io.fixed_columns import first_lines, numeric_column, read_fields

#: STAR's summary rows at the top of ReadsPerGene.out.tab.
STAR_SPECIAL = ("N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous")
#: HTSeq-count's summary rows (all start with two underscores).
HTSEQ_SPECIAL = ("__no_feature", "__ambiguous", "__too_low_aQual", "__not_aligned", "__alignment_not_unique")
#: ``rnaseq.strandedness`` -> STAR column (0-based; column 0 holds the gene).
STAR_COLUMNS = {"unstranded": 1, "forward": 2, "reverse": 3}
#: STAR's count columns as messages name them.
STAR_COLUMN_NAMES = {"unstranded": "unstranded (2nd column)", "forward": "forward (3rd column)",
                     "reverse": "reverse (4th column)"}
#: Share of the stranded counts on one strand from which a library counts as stranded.
STRANDED_SHARE = 0.8

LAYOUT_NAMES = {"star": "STAR ReadsPerGene.out.tab", "htseq": "HTSeq-count"}


def is_special_row(gene: str) -> bool:
    """Whether a row of a count table is a STAR or HTSeq summary row rather than a gene."""
    return gene in STAR_SPECIAL or gene.startswith("__")


def detect_gene_counts(path: str | Path) -> str | None:
    """``"star"``, ``"htseq"`` or ``None``, from the first lines of the file."""
    lines = [line for line in first_lines(path) if line.strip()]
    if not lines:
        return None
    first = lines[0].split("\t")
    if first[0] == "N_unmapped" and len(first) == 4:
        return "star"
    if all(len(line.split("\t")) == 2 for line in lines) and all(
        line.split("\t")[1].strip().isdigit() for line in lines
    ):
        return "htseq"
    return None


@dataclass
class GeneCountFile:
    """One sample's counts as read: genes in file order, and the special rows apart."""

    path: Path
    layout: str
    genes: np.ndarray
    counts: np.ndarray
    special: dict[str, np.ndarray]
    line_numbers: np.ndarray


def read_gene_count_file(path: str | Path, layout: str) -> GeneCountFile:
    """Read one STAR or HTSeq-count file (``layout`` from :func:`detect_gene_counts`).

    ``counts`` holds the file's count columns (STAR: 3, HTSeq: 1); special rows are in
    ``special`` under their name.
    """
    table = read_fields(path, has_header=False)
    errors = ErrorCollector()
    width = 4 if layout == "star" else 2
    if table.fields.shape[1] != width:
        errors.add(f"rows have {table.fields.shape[1]} tab-separated fields", file=table.path,
                   row=int(table.line_numbers[0]), value=table.fields.shape[1],
                   expected=f"{width} fields per row, as {LAYOUT_NAMES[layout]} writes them")
        errors.raise_if_any()
    names = table.fields[0].to_numpy(dtype=str)
    counts = np.column_stack(
        [numeric_column(table, position, errors, "a read count", integer=True) for position in range(1, width)]
    )
    duplicated = pd.Index(names).duplicated()
    for row in np.flatnonzero(duplicated)[:20]:
        errors.add("gene appears twice in the file", file=table.path, row=int(table.line_numbers[row]),
                   column="column 1", value=str(names[row]), expected="each gene once")
    errors.raise_if_any()
    special_mask = np.array([is_special_row(name) for name in names], dtype=bool)
    special = {name: counts[i] for i, name in enumerate(names) if special_mask[i]}
    return GeneCountFile(table.path, layout, names[~special_mask], counts[~special_mask].astype(np.int64), special,
                         table.line_numbers[~special_mask])


def inferred_strandedness(file: GeneCountFile) -> tuple[str | None, float | None]:
    """What STAR's counts say about the library: ``forward``, ``reverse``, ``unstranded`` or unclear.

    Returns
    -------
    strandedness, forward_share
        ``forward_share`` = forward / (forward + reverse) counts over all genes; the
        library is forward (reverse) stranded when it is >= 0.8 (<= 0.2), unstranded
        between 0.4 and 0.6, unclear otherwise (``None``); ``(None, None)`` without reads.
    """
    forward, reverse = file.counts[:, 1].sum(), file.counts[:, 2].sum()
    if forward + reverse == 0:
        return None, None
    share = float(forward / (forward + reverse))
    if share >= STRANDED_SHARE:
        return "forward", share
    if share <= 1 - STRANDED_SHARE:
        return "reverse", share
    if 0.4 <= share <= 0.6:
        return "unstranded", share
    return None, share


@dataclass
class GeneCounts:
    """Counts of every sample, genes x samples, and what the log should say."""

    layout: str
    counts: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _special_rows_note(files: Mapping[str, GeneCountFile], column: int) -> str | None:
    names = list(dict.fromkeys(name for file in files.values() for name in file.special))
    if not names:
        return None
    totals = "; ".join(
        f"{sample}: " + ", ".join(f"{name} {int(file.special[name][column])}" for name in names if name in file.special)
        for sample, file in files.items()
    )
    return f"summary rows dropped, not genes ({', '.join(names)}): {totals}"


def _strandedness_problems(
    files: Mapping[str, GeneCountFile], strandedness: str | None, errors: ErrorCollector, notes: list[str]
) -> None:
    """Compare ``rnaseq.strandedness`` with what each sample's counts say.

    Refused: no strandedness configured, or a stranded library configured the other way
    round (the configured column would hold under 20% of the reads). Noted: an unstranded
    setting for a stranded library, a stranded setting for an unstranded-looking one.
    """
    inferred = {sample: inferred_strandedness(file) for sample, file in files.items()}
    if strandedness is None:
        seen = sorted({value for value, _ in inferred.values() if value})
        errors.add(
            "STAR ReadsPerGene.out.tab holds three count columns; the config does not say which to use"
            + (f" (the counts look {', '.join(seen)})" if seen else ""),
            column="rnaseq.strandedness",
            expected="rnaseq.strandedness: unstranded, forward or reverse"
            + (f" (the counts say: {seen[0]})" if len(seen) == 1 else ""),
        )
        return
    mismatched: dict[str, list[tuple[str, float]]] = {}
    contradicted: dict[str, list[tuple[str, float]]] = {}
    for sample, (value, share) in inferred.items():
        if value is None or share is None:
            continue
        if strandedness in ("forward", "reverse") and value in ("forward", "reverse") and value != strandedness:
            contradicted.setdefault(value, []).append((sample, share))
        elif value != strandedness and (strandedness == "unstranded" or value == "unstranded"):
            mismatched.setdefault(value, []).append((sample, share))
    for value, samples in contradicted.items():
        shares = ", ".join(f"{sample} {100 * share:.1f}%" for sample, share in samples)
        first = files[samples[0][0]].path
        errors.add(
            f"the counts say the library is {value}-stranded in {len(samples)} of {len(files)} samples (share of the "
            f"stranded counts on the forward strand: {shares}), but rnaseq.strandedness is {strandedness}: its "
            "column would hold a small part of the reads"
            + (f" (this file and {len(samples) - 1} more)" if len(samples) > 1 else ""),
            file=first,
            column=STAR_COLUMN_NAMES[strandedness],
            value=strandedness,
            expected=f"rnaseq.strandedness: {value} (check the library kit: dUTP/TruSeq stranded is reverse)",
        )
    for value, samples in mismatched.items():
        shares = ", ".join(f"{sample} {100 * share:.1f}%" for sample, share in samples)
        if strandedness == "unstranded":
            notes.append(
                f"NOTE: the counts say the library is {value}-stranded in {len(samples)} of {len(files)} samples "
                f"(share of the stranded counts on the forward strand: {shares}); rnaseq.strandedness is unstranded, "
                f"so reads of the opposite strand count too (rnaseq.strandedness: {value} would use the "
                "strand-specific column)"
            )
        else:
            notes.append(
                f"WARNING: the counts say the library is unstranded in {len(samples)} of {len(files)} samples "
                f"(share of the stranded counts on the forward strand: {shares}); rnaseq.strandedness {strandedness} "
                "keeps only about half of their reads (rnaseq.strandedness: unstranded would keep all)"
            )


def read_gene_count_files(
    files: Mapping[str, str | Path],
    layout: str,
    strandedness: str | None = None,
) -> GeneCounts:
    """Read one STAR or HTSeq-count file per sample into a genes x samples matrix.

    Parameters
    ----------
    files
        Sample -> file, in the sample sheet's order.
    layout
        ``"star"`` or ``"htseq"``.
    strandedness
        For STAR: ``unstranded``, ``forward`` or ``reverse`` (``rnaseq.strandedness``);
        required there, unused for HTSeq-count (which was run with its own ``-s``).

    Raises
    ------
    InputErrors
        Problems of every file; files listing other genes than the first; for STAR a
        missing or contradicted strandedness.
    """
    errors = ErrorCollector()
    read: dict[str, GeneCountFile] = {}
    for sample, path in files.items():
        try:
            read[sample] = read_gene_count_file(path, layout)
        except InputErrors as problems:
            errors.extend(problems.errors)
    errors.raise_if_any()
    notes: list[str] = []
    column = 0
    if layout == "star":
        _strandedness_problems(read, strandedness, errors, notes)
        errors.raise_if_any()
        column = STAR_COLUMNS[strandedness] - 1
        notes.insert(0, f"STAR ReadsPerGene.out.tab: column {STAR_COLUMNS[strandedness] + 1} ({strandedness}) used")
    samples = list(read)
    first = read[samples[0]]
    genes = pd.Index(first.genes, name="gene")
    matrix = np.empty((len(genes), len(samples)), dtype=np.int64)
    for position, sample in enumerate(samples):
        file = read[sample]
        other = pd.Index(file.genes)
        if not other.equals(genes):
            missing = genes.difference(other, sort=False)
            extra = other.difference(genes, sort=False)
            if len(missing) or len(extra):
                row = int(file.line_numbers[other.get_loc(extra[0])]) if len(extra) else None
                errors.add(
                    f"the file lists other genes than {first.path} ({len(extra)} not there, {len(missing)} of its missing"
                    + (f", e.g. '{missing[0]}'" if len(missing) else "") + ")",
                    file=file.path, row=row, column="column 1",
                    value=str(extra[0] if len(extra) else missing[0]),
                    expected="counts of every sample made with the same annotation",
                )
                continue
        matrix[:, position] = pd.Series(file.counts[:, column], index=other).reindex(genes).to_numpy()
    errors.raise_if_any()
    special = _special_rows_note(read, column)
    if special:
        notes.append(f"{LAYOUT_NAMES[layout]}: {special}")
    notes.append(f"{LAYOUT_NAMES[layout]}: {len(samples)} samples, {len(genes)} genes each")
    counts = pd.DataFrame(matrix, index=genes, columns=pd.Index(samples, name="sample"))
    return GeneCounts(layout, counts, notes)
