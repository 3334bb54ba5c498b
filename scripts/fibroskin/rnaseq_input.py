"""The RNA-seq input of a run, as the upstream tools wrote it, made into DESeq2's counts.

Two ways in, each told from the files' content and named in the log:

* ``rnaseq.counts``: one table (:mod:`fibroskin.io.counts`): a count matrix, featureCounts
  output, or an nf-core/rnaseq merged table (salmon ``salmon.merged.gene_counts*.tsv``, RSEM
  ``rsem.merged.gene_counts.tsv``), optionally with ``rnaseq.lengths``
  (``salmon.merged.gene_lengths.tsv``);
* the sample sheet's ``counts_file`` column: one file per sample, paths relative to the
  working directory: salmon ``quant.sf``, kallisto ``abundance.tsv``/``abundance.h5``, RSEM
  ``isoforms.results``/``genes.results`` (:mod:`fibroskin.io.quantifications`, summarised
  to genes by :mod:`fibroskin.tximport` with ``rnaseq.tx2gene`` and
  ``rnaseq.counts_from_abundance``), or STAR ``ReadsPerGene.out.tab`` / HTSeq-count
  (:mod:`fibroskin.io.gene_counts`, ``rnaseq.strandedness``).

:func:`read_rnaseq_input` returns integer counts (estimated counts rounded as R rounds them)
and, where DESeq2 would use them as offsets (tximport's ``countsFromAbundance = "no"``, or
``rnaseq.lengths``), the average transcript lengths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fibroskin.config import Design, RnaseqSettings
from fibroskin.errors import ErrorCollector, InputError, InputErrors
from fibroskin.io.counts import read_count_table, read_length_table
from fibroskin.io.gene_counts import LAYOUT_NAMES, detect_gene_counts, read_gene_count_files
from fibroskin.io.quantifications import LAYOUTS, TOOL_NAMES, Quantifications, detect_quantifier, read_quantifications
from fibroskin.io.tx2gene import Tx2Gene, read_tx2gene, version_free
from fibroskin.tximport import gene_level_estimates, offset_lengths, round_counts, summarize_to_gene

#: The sample sheet's column naming each sample's file.
COUNTS_FILE_COLUMN = "counts_file"

#: Every per-sample format, for messages.
PER_SAMPLE_FORMATS = (
    "salmon quant.sf, kallisto abundance.tsv or abundance.h5, RSEM isoforms.results or genes.results, "
    "STAR ReadsPerGene.out.tab, HTSeq-count output"
)


@dataclass
class RnaseqInput:
    """What enters DESeq2.

    Attributes
    ----------
    counts
        Genes x samples, ``int64``, samples in the sheet's order.
    lengths
        Average transcript length per gene and sample (DESeq2's ``avgTxLength``) when the
        input calls for length offsets, else ``None``.
    symbols
        Gene name per gene ID from the upstream files (nf-core ``gene_name``, tx2gene's
        third column, GTF ``gene_name``), else ``None``.
    source
        What was read, as the log names it.
    notes
        What was assumed and done, for the log.
    """

    counts: pd.DataFrame
    lengths: pd.DataFrame | None
    symbols: pd.Series | None
    source: str
    notes: list[str] = field(default_factory=list)


def sample_files(design: Design) -> dict[str, Path] | None:
    """Sample -> ``counts_file`` of the sheet, or ``None`` when the sheet has no such column."""
    if COUNTS_FILE_COLUMN not in design.samples.columns:
        return None
    return {row["sample"]: Path(row[COUNTS_FILE_COLUMN]) for _, row in design.samples.iterrows()}


def _sheet_lines(design: Design) -> dict[str, int]:
    return dict(zip(design.samples["sample"], design.samples["__line__"].astype(int)))


def _check_sample_files(design: Design, errors: ErrorCollector) -> dict[str, Path]:
    """Every sample names an existing, readable file."""
    files = sample_files(design) or {}
    lines = _sheet_lines(design)
    for sample, path in files.items():
        where = {"file": design.sample_sheet, "row": lines[sample], "column": COUNTS_FILE_COLUMN}
        if str(path) in ("", "."):
            errors.add(f"sample '{sample}' names no counts file", value="", **where,
                       expected=f"the path of the sample's file ({PER_SAMPLE_FORMATS})")
        elif not path.exists():
            errors.add(
                f"sample '{sample}': the counts file does not exist (paths resolve against the working directory, "
                f"{Path.cwd()})",
                value=str(path), **where, expected="the path of an existing file",
            )
        elif path.is_dir():
            errors.add(f"sample '{sample}': the counts file is a folder", value=str(path), **where,
                       expected="the file itself, e.g. <folder>/quant.sf or <folder>/abundance.h5")
        else:
            try:
                with open(path, "rb") as handle:
                    handle.read(1)
            except OSError as error:
                errors.add(f"sample '{sample}': the counts file cannot be read ({error.strerror})", value=str(path),
                           **where, expected="a file the workflow may read")
    return files


def _detect_layouts(files: dict[str, Path], design: Design, errors: ErrorCollector) -> str | None:
    """The one format all per-sample files share (quantifier or gene-count layout name)."""
    lines = _sheet_lines(design)
    layouts: dict[str, str] = {}
    for sample, path in files.items():
        try:
            layout = detect_quantifier(path) or detect_gene_counts(path)
        except InputErrors as problems:
            errors.extend(problems.errors)
            continue
        if layout is None and path.stat().st_size == 0:
            errors.add(f"sample '{sample}': the counts file is empty", file=path,
                       expected=f"the tool's output ({PER_SAMPLE_FORMATS})")
            continue
        if layout is None:
            errors.add(
                f"sample '{sample}': the format of the counts file is not recognised",
                file=path, row=1, value=_first_line(path),
                expected=f"one of: {PER_SAMPLE_FORMATS} (as the tools write them, header included)",
            )
            continue
        layouts[sample] = layout
    kinds = sorted(set(layouts.values()))
    if len(kinds) > 1:
        first = layouts[next(iter(layouts))]
        for sample, layout in layouts.items():
            if layout != first:
                errors.add(
                    f"sample '{sample}' has a {_layout_name(layout)} file, but sample '{next(iter(layouts))}' has a "
                    f"{_layout_name(first)} file",
                    file=design.sample_sheet, row=lines[sample], column=COUNTS_FILE_COLUMN, value=str(files[sample]),
                    expected="the same tool's output for every sample",
                )
        return None
    return kinds[0] if kinds else None


def _first_line(path: Path) -> str:
    with open(path, "rb") as handle:
        return handle.readline(120).decode("utf-8", errors="replace").rstrip("\r\n")


def _layout_name(layout: str) -> str:
    return TOOL_NAMES.get(layout) or LAYOUT_NAMES[layout]


def _tx2gene_for(quantifications: Quantifications, settings: RnaseqSettings, errors: ErrorCollector) -> Tx2Gene | None:
    """tx2gene from ``rnaseq.tx2gene``, else from RSEM isoforms' own gene_id column."""
    transcripts = quantifications.abundance.index
    if settings.tx2gene is not None:
        try:
            return read_tx2gene(settings.tx2gene, set(transcripts))
        except InputErrors as problems:
            errors.extend(problems.errors)
            return None
    if quantifications.genes is not None:
        first = next(iter(quantifications.files.values())).path
        return Tx2Gene(quantifications.genes, None, "RSEM gene_id column",
                       [f"transcripts summarised to the genes of the gene_id column of {first} (no rnaseq.tx2gene)"])
    errors.add(
        f"{_layout_name(quantifications.layout)} files estimate transcripts; summarising them to genes needs "
        "a transcript-to-gene table",
        column="rnaseq.tx2gene",
        expected="rnaseq.tx2gene: a two-column table (transcript, gene) as tximport takes it, or the GTF "
        "the index was built from",
    )
    return None


def _check_coverage(quantifications: Quantifications, tx2gene: Tx2Gene, settings: RnaseqSettings,
                    errors: ErrorCollector, notes: list[str]) -> None:
    """Refuse a tx2gene that misses transcripts carrying reads; note those without any."""
    transcripts = quantifications.abundance.index
    mapped = transcripts.isin(tx2gene.genes.index)
    source = settings.tx2gene if settings.tx2gene is not None else tx2gene.layout
    if not mapped.any():
        hint = ""
        if pd.Index(version_free(transcripts)).isin(version_free(tx2gene.genes.index)).any():
            hint = " (they match once version suffixes such as '.2' are removed: make tx2gene with the IDs as the index has them)"
        errors.add(
            f"none of the {len(transcripts)} transcripts of the quantification files is in the first column of "
            f"tx2gene{hint}; file IDs e.g. {', '.join(map(str, transcripts[:3]))}; tx2gene IDs e.g. "
            f"{', '.join(map(str, tx2gene.genes.index[:3]))}",
            file=source, column="transcript",
            expected="a tx2gene made from the annotation the quantification index was built from",
        )
        return
    unmapped = ~mapped
    if not unmapped.any():
        return
    reads = quantifications.counts.to_numpy()[unmapped]
    with_reads = np.flatnonzero(reads.max(axis=1) > 0)
    if len(with_reads):
        ids = transcripts[unmapped][with_reads]
        first_file = next(iter(quantifications.files.values()))
        for position in with_reads[:10]:
            transcript = transcripts[unmapped][position]
            row_in_file = int(np.flatnonzero(transcripts == transcript)[0])
            line = int(first_file.line_numbers[row_in_file]) if first_file.line_numbers is not None else row_in_file + 1
            sample = quantifications.counts.columns[int(np.argmax(reads[position]))]
            errors.add(
                f"transcript '{transcript}' ({first_file.path}, line {line}) is not in tx2gene but has "
                f"{reads[position].max():g} estimated reads (sample '{sample}'); {len(ids)} transcript(s) with reads "
                "are missing from tx2gene, whose reads would be lost",
                file=source, column="transcript", value=transcript,
                expected="a tx2gene row for every transcript with reads (a tx2gene made from the annotation the "
                "quantification index was built from)",
            )
        return
    notes.append(
        f"{int(unmapped.sum())} transcripts of the quantification files are not in tx2gene and have no reads "
        f"(e.g. {transcripts[unmapped][0]}); dropped, as tximport drops them"
    )


def _from_quantifications(files: dict[str, Path], layout: str, settings: RnaseqSettings,
                          errors: ErrorCollector) -> RnaseqInput | None:
    quantifications = read_quantifications(files, layout)
    notes = list(quantifications.notes)
    mode = settings.counts_from_abundance
    if not quantifications.transcript_level:
        if mode != "no":
            errors.add(
                f"rnaseq.counts_from_abundance {mode} needs transcript-level estimates; RSEM genes.results holds "
                "gene-level ones (R's tximport would keep the estimated counts, with a warning)",
                column="rnaseq.counts_from_abundance", value=mode,
                expected="counts_from_abundance: no with genes.results, or RSEM's isoforms.results with rnaseq.tx2gene",
            )
            return None
        if settings.tx2gene is not None:
            notes.append("WARNING: rnaseq.tx2gene is not used: RSEM genes.results are gene-level already")
        result = gene_level_estimates(quantifications.abundance, quantifications.counts, quantifications.length, mode)
        result.abundance.index.name = result.counts.index.name = result.length.index.name = "gene"
        symbols = None
    else:
        tx2gene = _tx2gene_for(quantifications, settings, errors)
        if tx2gene is None:
            return None
        notes.extend(tx2gene.notes)
        _check_coverage(quantifications, tx2gene, settings, errors, notes)
        if errors:
            return None
        mapped = quantifications.abundance.index.isin(tx2gene.genes.index)
        result = summarize_to_gene(
            quantifications.abundance[mapped], quantifications.counts[mapped], quantifications.length[mapped],
            tx2gene.genes, mode,
        )
        symbols = tx2gene.symbols.reindex(result.counts.index).dropna() if tx2gene.symbols is not None else None
    notes.extend(result.notes)
    for sample in result.counts.columns[~np.isfinite(result.counts.to_numpy()).all(axis=0)]:
        errors.add(
            f"sample '{sample}' has no abundance in any transcript, so counts from abundance cannot be scaled",
            file=files[sample], column=LAYOUTS[layout].abundance_column if layout in LAYOUTS else "est_counts",
            expected="a quantification with reads (or remove the sample)",
        )
    if errors:
        return None
    counts = round_counts(result.counts)
    changed = int((counts.to_numpy() != result.counts.to_numpy()).sum())
    notes.append(
        f"{changed} of {counts.size} gene counts were not whole numbers; rounded to integers as R's round() does "
        "(halves to even), as DESeqDataSetFromTximport does"
    )
    lengths = None
    if result.counts_from_abundance == "no":
        lengths, length_notes = offset_lengths(result.length)
        notes.extend(length_notes)
    else:
        notes.append(f"counts from abundance ({result.counts_from_abundance}): no length offsets, as DESeq2 uses them")
    source = f"{_layout_name(layout)} files, one per sample, through tximport (countsFromAbundance {result.counts_from_abundance})"
    return RnaseqInput(counts, lengths, symbols, source, notes)


def _from_gene_counts(files: dict[str, Path], layout: str, settings: RnaseqSettings,
                      errors: ErrorCollector) -> RnaseqInput | None:
    notes = []
    if settings.counts_from_abundance != "no":
        errors.add(
            f"rnaseq.counts_from_abundance {settings.counts_from_abundance} applies to transcript quantifiers "
            f"(salmon, kallisto, RSEM); {_layout_name(layout)} files hold read counts",
            column="rnaseq.counts_from_abundance", value=settings.counts_from_abundance,
            expected="counts_from_abundance: no (or leave it out)",
        )
    if settings.tx2gene is not None:
        notes.append(f"WARNING: rnaseq.tx2gene is not used: {_layout_name(layout)} files count genes already")
    if layout != "star" and settings.strandedness is not None:
        notes.append(f"NOTE: rnaseq.strandedness is not used: {_layout_name(layout)} was run with its own -s setting")
    if errors:
        return None
    gene_counts = read_gene_count_files(files, layout, settings.strandedness)
    return RnaseqInput(gene_counts.counts, None, None, f"{_layout_name(layout)} files, one per sample",
                       notes + gene_counts.notes)


def _lengths_for(counts: pd.DataFrame, settings: RnaseqSettings, samples: list[str],
                 errors: ErrorCollector) -> tuple[pd.DataFrame | None, list[str]]:
    """``rnaseq.lengths`` aligned to the counts, every mismatch refused."""
    lengths, notes = read_length_table(settings.lengths, samples=samples)
    missing = counts.index.difference(lengths.index, sort=False)
    extra = lengths.index.difference(counts.index, sort=False)
    for gene in missing[:10]:
        errors.add(f"gene '{gene}' of the count table has no lengths ({len(missing)} gene(s) of the count table "
                   "without lengths in all)",
                   file=settings.lengths, column="gene_id", value=gene,
                   expected=f"a row of lengths for every gene of {settings.counts} (the same nf-core/rnaseq run)")
    for gene in extra[:10]:
        errors.add(f"gene '{gene}' has lengths but is not in the count table ({len(extra)} such gene(s) in all)",
                   file=settings.lengths, column="gene_id", value=gene,
                   expected=f"the genes of {settings.counts}, no more (the same nf-core/rnaseq run)")
    if len(missing) or len(extra):
        return None, notes
    return lengths.loc[counts.index, counts.columns], notes


def _from_table(settings: RnaseqSettings, samples: list[str], errors: ErrorCollector) -> RnaseqInput | None:
    table = read_count_table(settings.counts, samples=samples)
    notes = list(table.notes)
    if settings.counts_from_abundance != "no":
        scaled_name = "salmon.merged.gene_counts_length_scaled.tsv" if settings.counts_from_abundance == "lengthScaledTPM" else "salmon.merged.gene_counts_scaled.tsv"
        errors.add(
            f"rnaseq.counts_from_abundance {settings.counts_from_abundance} applies to per-sample transcript "
            f"quantifications; {settings.counts} is a {table.layout} table whose counts are made already",
            column="rnaseq.counts_from_abundance", value=settings.counts_from_abundance,
            expected=f"counts_from_abundance: no (for nf-core's counts from abundance give its {scaled_name})",
        )
    if settings.strandedness is not None:
        notes.append(f"NOTE: rnaseq.strandedness is not used: {settings.counts} is a {table.layout} table")
    if settings.tx2gene is not None:
        notes.append(f"WARNING: rnaseq.tx2gene is not used: {settings.counts} is a gene-level {table.layout} table")
    lengths = None
    if settings.lengths is not None:
        if table.counts_from_abundance in ("scaledTPM", "lengthScaledTPM"):
            errors.add(
                f"rnaseq.lengths given with counts from abundance ({table.counts_from_abundance}): DESeq2 uses "
                "such counts without length offsets (correcting for length twice would bias the fold changes)",
                column="rnaseq.lengths", value=str(settings.lengths),
                expected="rnaseq.lengths with salmon.merged.gene_counts.tsv, or no rnaseq.lengths with the scaled tables",
            )
        else:
            lengths, length_notes = _lengths_for(table.counts, settings, samples, errors)
            notes.extend(length_notes)
    return RnaseqInput(table.counts, lengths, table.symbols, table.layout, notes)


def read_rnaseq_input(design: Design) -> RnaseqInput:
    """Read the run's RNA-seq input, whichever tool wrote it (see the module docstring).

    Parameters
    ----------
    design
        The run's design; ``design.rnaseq`` set. The sheet's ``counts_file`` column (when
        present) names one file per sample, else ``rnaseq.counts`` the table.

    Raises
    ------
    InputErrors
        Every problem found: both or neither of ``rnaseq.counts`` and ``counts_file``,
        missing or unreadable files, unrecognised or mixed formats, files of different
        indexes or annotations, a tx2gene that misses transcripts with reads, settings
        that do not apply to the files (``counts_from_abundance``), a missing or
        contradicted ``strandedness``, lengths that do not match the counts.
    """
    settings = design.rnaseq
    errors = ErrorCollector()
    samples = design.samples["sample"].tolist()
    has_files = COUNTS_FILE_COLUMN in design.samples.columns
    if has_files and settings.counts is not None:
        errors.add(
            f"the sample sheet has a '{COUNTS_FILE_COLUMN}' column and the config sets rnaseq.counts: "
            "which should be read is not clear",
            file=design.sample_sheet, row=1, column=COUNTS_FILE_COLUMN, value=str(settings.counts),
            expected=f"either rnaseq.counts (one table) or the sheet's {COUNTS_FILE_COLUMN} column (one file per sample)",
        )
    if not has_files and settings.counts is None:
        errors.add(
            "the RNA-seq input is not given",
            column="rnaseq.counts",
            expected=f"rnaseq.counts (one table) or a '{COUNTS_FILE_COLUMN}' column in the sample sheet "
            f"{design.sample_sheet} (one file per sample)",
        )
    errors.raise_if_any()
    if not has_files:
        result = _from_table(settings, samples, errors)
    else:
        if settings.lengths is not None:
            errors.add(
                "rnaseq.lengths goes with an nf-core/rnaseq merged table in rnaseq.counts; per-sample files "
                "carry their own lengths",
                column="rnaseq.lengths", value=str(settings.lengths),
                expected="no rnaseq.lengths with the sheet's counts_file column",
            )
        files = _check_sample_files(design, errors)
        errors.raise_if_any()
        layout = _detect_layouts(files, design, errors)
        errors.raise_if_any()
        if layout in TOOL_NAMES:
            result = _from_quantifications(files, layout, settings, errors)
        else:
            result = _from_gene_counts(files, layout, settings, errors)
    errors.raise_if_any()
    assert result is not None
    result.counts.index.name, result.counts.columns.name = "gene", "sample"
    result.notes.insert(0, f"RNA-seq input: {result.source}")
    return result


def length_offsets_need_fast_engine(rnaseq_input: RnaseqInput, settings: RnaseqSettings) -> InputError:
    """The refusal of an input calling for length offsets with ``rnaseq.engine: pydeseq2``.

    Length offsets are DESeq2's per-gene, per-sample normalization factors, which only the
    fast engine applies (stock pydeseq2 has per-sample size factors only).
    """
    given = f"rnaseq.lengths ({settings.lengths})" if settings.lengths is not None else (
        f"{rnaseq_input.source.split(',')[0]} with rnaseq.counts_from_abundance: no"
    )
    return InputError(
        f"length offsets need rnaseq.engine: fast: {given} asks DESeq2 to correct each gene's counts by its "
        "average transcript length per sample (normalization factors), which stock pydeseq2 cannot do; "
        "its results would silently ignore them",
        column="rnaseq.engine",
        value=settings.engine,
        expected="rnaseq.engine: fast (the default), or counts that need no offsets (rnaseq.counts_from_abundance: "
        "lengthScaledTPM; with nf-core/rnaseq, its salmon.merged.gene_counts_length_scaled.tsv without rnaseq.lengths)",
    )
