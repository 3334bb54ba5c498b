"""One function per RNA-seq rule of the workflow: tables in, tables out.

The input, whichever upstream tool wrote it, is made into one count table first
(:func:`import_counts`, with the average transcript lengths when the input calls for length
offsets); the DESeq2 model is fitted once per run on that table (:func:`fit`) and every
contrast is tested on that fit (:func:`contrast_results`): in the fit's own job, or, for a
large table with several contrasts (:func:`contrasts_fan_out`), each in a job of its own
from the saved fit, so a cluster runs them in parallel without refitting. The VST for the
figures is its own job (:func:`vst_table`): the results table does not wait for it.
:mod:`fibroskin.rnaseq` imports pydeseq2 (seconds of start-up), so the functions that need
it import it themselves: jobs that only reshape tables (concordance) never load it.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fibroskin.config import Contrast, Design, RnaseqSettings
from fibroskin.markers import SymbolIndex, gene_symbols

if TYPE_CHECKING:
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.inference import Inference


def make_inference(engine: str, n_cpus: int = 1) -> Inference:
    """The pydeseq2 inference backend of ``rnaseq.engine`` (see :func:`fibroskin.rnaseq.make_inference`).

    ``fast`` is fibroskin's vectorised backend (all genes at once); ``pydeseq2`` is the
    stock per-gene backend. The engine as a whole (backend, dispersion-trend fit,
    independent filtering) is chosen by ``engine`` of :func:`fibroskin.rnaseq.fit_deseq`.
    """
    from fibroskin import rnaseq

    return rnaseq.make_inference(engine, n_cpus)


def read_annotation(path: Path | None) -> pd.DataFrame | None:
    """The optional gene_id -> symbol table (TSV or CSV)."""
    if path is None:
        return None
    return pd.read_csv(path, sep=None, engine="python", dtype=str)


@dataclass
class ImportOutputs:
    """The run's counts as DESeq2 takes them, and what the log should say.

    ``counts``: ``gene``, ``symbol``, then one integer column per sample (sheet order).
    ``lengths``: ``gene``, then one column per sample of average transcript lengths, when
    the input calls for length offsets (tximport's countsFromAbundance "no", or
    ``rnaseq.lengths``), else ``None``.
    """

    counts: pd.DataFrame
    lengths: pd.DataFrame | None
    notes: list[str]


def symbol_annotation(upstream: pd.Series | None, annotation: pd.DataFrame | None) -> pd.DataFrame | None:
    """One gene_id -> symbol table: the user's ``rnaseq.annotation`` first, then the upstream names."""
    tables = []
    if annotation is not None:
        tables.append(annotation[["gene_id", "symbol"]])
    if upstream is not None and len(upstream):
        tables.append(pd.DataFrame({"gene_id": upstream.index.astype(str), "symbol": upstream.astype(str).to_numpy()}))
    if not tables:
        return None
    return pd.concat(tables, ignore_index=True).drop_duplicates("gene_id")


def import_counts(design: Design) -> ImportOutputs:
    """Read the run's RNA-seq input (:func:`fibroskin.rnaseq_input.read_rnaseq_input`) into one table.

    The ``symbol`` column holds, per gene, the marker panel's symbol, else the user's
    ``rnaseq.annotation``, else the name the upstream files give (nf-core ``gene_name``,
    tx2gene's third column, GTF ``gene_name``), else the gene ID.
    """
    from fibroskin.rnaseq_input import read_rnaseq_input

    rnaseq_input = read_rnaseq_input(design)
    annotation = symbol_annotation(rnaseq_input.symbols, read_annotation(design.rnaseq.annotation))
    # the table around the reader's own integers (reset_index would copy them)
    counts = pd.DataFrame(rnaseq_input.counts.to_numpy(), columns=rnaseq_input.counts.columns, copy=False)
    counts.insert(0, "gene", rnaseq_input.counts.index.astype(str).to_numpy())
    counts.insert(1, "symbol", gene_symbols(pd.Index(counts["gene"]), annotation).to_numpy())
    lengths = rnaseq_input.lengths.reset_index() if rnaseq_input.lengths is not None else None
    return ImportOutputs(counts, lengths, rnaseq_input.notes)


def counts_from_table(table: pd.DataFrame, keep: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``counts.tsv`` of :func:`import_counts` -> (genes x samples integers, gene_id/symbol table).

    ``keep`` (a boolean per row) takes only those genes' counts, copied once from the
    table's own integer block.
    """
    values = table.iloc[:, 2:].to_numpy(dtype=np.int64)
    genes = pd.Index(table["gene"].astype(str), name="gene")
    if keep is not None:
        values, genes = values[keep], genes[keep]
    counts = pd.DataFrame(values, index=genes, columns=pd.Index(table.columns[2:], name="sample"), copy=False)
    annotation = pd.DataFrame({"gene_id": table["gene"].astype(str), "symbol": table["symbol"].astype(str)})
    return counts, annotation


#: A run with several contrasts tests each in its own job, from the pickled fit, when its
#: count table (after import) has at least this many cells (genes x samples). Below, the
#: fit's job tests them all: writing and reading the fit back would cost more than the
#: tests (pasilla-sized tables take well under a second per contrast).
FAN_OUT_CELLS = 5_000_000


def contrasts_fan_out(num_contrasts: int, cells: int) -> bool:
    """Whether each contrast is tested in a job of its own (``rnaseq_contrast``).

    Only for several contrasts of a large table (:data:`FAN_OUT_CELLS`): there the Wald
    tests and shrinkage of the contrasts run in parallel (on a cluster, on other nodes)
    and pay for saving and loading the fit.
    """
    return num_contrasts > 1 and cells >= FAN_OUT_CELLS


@dataclass
class FitOutputs:
    """The model and the contrast-independent tables of one fit."""

    dds: DeseqDataSet
    normalized_counts: pd.DataFrame
    size_factors: pd.DataFrame
    notes: list[str]


@dataclass
class PrefilteredCounts:
    """The counts that enter the fit, the sample table, the gene_id -> symbol table and lengths."""

    counts: pd.DataFrame | None
    sample_table: pd.DataFrame
    annotation: pd.DataFrame
    average_lengths: pd.DataFrame | None
    notes: list[str]

    def take_counts(self) -> pd.DataFrame:
        """The counts, handed over: this object no longer holds them (the fit copies them)."""
        counts, self.counts = self.counts, None
        return counts


def _with_symbols(table: pd.DataFrame, annotation: pd.DataFrame | None) -> pd.DataFrame:
    """Insert a ``symbol`` column after ``gene``, in place (callers pass tables of their own)."""
    table.insert(1, "symbol", gene_symbols(pd.Index(table["gene"]), annotation).to_numpy())
    return table


def sample_table_for(design: Design, samples: list[str]) -> pd.DataFrame:
    """The sheet's rows for the count table's samples, indexed by sample."""
    sheet = design.samples.drop(columns="__line__").set_index("sample")
    return sheet.loc[samples]


def reference_levels(design: Design) -> dict[str, str | list[str]]:
    """Level order per contrast column: the first contrast's reference, as in R scripts.

    A ``levels:`` family orders its column's levels as listed (R's ``factor(levels = )``),
    so its coefficients are ``<column>_<level>_vs_<first level>`` in that order. Only
    columns of the RNA-seq design (a coefficient, list or weights contrast may name a
    column outside it, for its figures and qPCR).
    """
    from fibroskin.deseq2.design import design_variables

    variables = set()
    if design.rnaseq is not None:
        variables = set(design_variables(design.rnaseq.design))
        if design.rnaseq.reduced:
            variables |= set(design_variables(design.rnaseq.reduced))
    levels: dict[str, str | list[str]] = {}
    for contrast in design.contrasts:
        if contrast.column not in variables:
            continue
        levels.setdefault(contrast.column, list(contrast.family_levels) if contrast.family_levels else contrast.reference)
    return levels


def contrast_spec(contrast: Contrast):
    """The RNA-seq test of a configured contrast in R's terms (:class:`fibroskin.deseq2.contrasts.ContrastSpec`)."""
    from fibroskin.deseq2.contrasts import ContrastSpec

    kind = contrast.rnaseq_kind
    if kind == "name":
        return ContrastSpec.coefficient(contrast.coefficient)
    if kind == "list":
        return ContrastSpec.of_list(list(contrast.numerator), list(contrast.denominator), contrast.list_values)
    if kind == "numeric":
        weights = contrast.weights
        if weights and isinstance(weights[0], tuple):
            return ContrastSpec.of_weights(dict(weights))
        return ContrastSpec.of_weights(list(weights))
    return ContrastSpec.levels(contrast.column, contrast.target, contrast.reference)


def prefilter_note(settings: RnaseqSettings, kept: int, total: int, smallest_group: int) -> str:
    """What the prefilter did, for the log."""
    rule = (f">= {settings.min_count} reads in >= {settings.min_samples} samples (rnaseq.min_samples)"
            if settings.min_samples is not None
            else f">= {settings.min_count} reads in >= {smallest_group} samples (the smallest group's size)")
    return f"prefilter ({rule}): removed {total - kept} of {total} genes, {kept} kept"


def prefiltered_counts(design: Design, counts_table: pd.DataFrame | str | Path,
                       lengths: pd.DataFrame | None = None) -> PrefilteredCounts:
    """``counts.tsv`` of :func:`import_counts`, prefiltered as ``rnaseq.min_count`` / ``min_samples`` say.

    ``counts_table`` is the table or its path; a path is read a block of genes at a time,
    each block prefiltered as it comes, so only the kept genes' counts are ever held (a
    table of 2,000 samples x 60,000 genes costs some 2 GB to read whole). With ``lengths``
    (``lengths.tsv``), also the kept genes' average transcript lengths.
    """
    from fibroskin import rnaseq

    settings: RnaseqSettings = design.rnaseq
    blocks = [counts_table] if isinstance(counts_table, pd.DataFrame) else _table_blocks(counts_table)
    group_column = design.contrasts[0].column
    kept_values, kept_genes, genes, symbols = [], [], [], []
    sample_table = samples = groups = None
    for block in blocks:
        if sample_table is None:
            samples = [str(name) for name in block.columns[2:]]
            sample_table = sample_table_for(design, samples)
            groups = sample_table.loc[samples, group_column]
        values = block.iloc[:, 2:].to_numpy(dtype=np.int64)
        passing = rnaseq.prefilter_mask(values, groups, settings.min_count, settings.min_samples)
        kept_values.append(values[passing])
        block_genes = block["gene"].astype(str).to_numpy()
        kept_genes.append(block_genes[passing])
        genes.append(block_genes)
        symbols.append(block["symbol"].astype(str).to_numpy())
        del block, values
    del blocks, counts_table
    values = kept_values[0] if len(kept_values) == 1 else np.concatenate(kept_values)
    del kept_values
    kept = pd.DataFrame(values, index=pd.Index(np.concatenate(kept_genes), name="gene"),
                        columns=pd.Index(samples, name="sample"), copy=False)
    annotation = pd.DataFrame({"gene_id": np.concatenate(genes), "symbol": np.concatenate(symbols)})
    smallest_group = int(sample_table[group_column].value_counts().min())
    notes = [prefilter_note(settings, len(kept), len(annotation), smallest_group)]
    average_lengths = None
    if lengths is not None:
        average_lengths = lengths.set_index("gene").loc[kept.index, list(kept.columns)].astype(float)
        notes.append(f"length offsets: average transcript lengths of the {len(kept)} kept genes as DESeq2's "
                     "normalization factors (R's avgTxLength), one per gene and sample")
    return PrefilteredCounts(kept, sample_table, annotation, average_lengths, notes)


def _table_blocks(path: str | Path, rows: int = 4096):
    """``counts.tsv`` read as :func:`fibroskin.tables.read_tsv` reads it, ``rows`` genes at a time."""
    from fibroskin.tables import read_tsv_blocks

    return read_tsv_blocks(path, rows)


def fit(design: Design, counts_table: pd.DataFrame | str | Path, lengths: pd.DataFrame | None = None,
        n_cpus: int = 1) -> FitOutputs:
    """Prefilter and fit the run's counts once; normalized counts and size factors.

    Parameters
    ----------
    design
        The run's design; ``design.rnaseq`` must be set. ``rnaseq.engine`` picks the
        engine: ``fast`` (R DESeq2's answers, vectorised) or ``pydeseq2`` (stock).
    counts_table
        ``counts.tsv`` of :func:`import_counts` (``gene``, ``symbol``, samples), or its path
        (read a block of genes at a time: :func:`prefiltered_counts`).
    lengths
        ``lengths.tsv`` of :func:`import_counts` (``gene``, samples): average transcript
        lengths, DESeq2's length offsets. The fit then uses R's per-gene, per-sample
        normalization factors of the genes the prefilter keeps, computed as R's
        ``estimateSizeFactors`` does on a ``DESeqDataSetFromTximport`` data set that was
        filtered before ``DESeq()`` (the tximport vignette's and nf-core's order).
        ``size_factors.tsv`` then holds each sample's geometric mean of its normalization
        factors (R keeps no size factors there; see :func:`fibroskin.rnaseq.size_factors`).
    n_cpus
        Processes for the stock backend (numbers do not depend on it).
    """
    from fibroskin import rnaseq

    settings: RnaseqSettings = design.rnaseq
    prefiltered = prefiltered_counts(design, counts_table, lengths)
    del counts_table
    annotation = prefiltered.annotation
    dds = rnaseq.fit_deseq_handed(
        [prefiltered.take_counts()],  # nothing holds the counts once the data set has copied them
        prefiltered.sample_table,
        settings.design,
        engine=settings.engine,
        n_cpus=n_cpus,
        reference_levels=reference_levels(design),
        test=settings.test,
        reduced=settings.reduced if settings.test == "lrt" else None,
        average_lengths=prefiltered.average_lengths,
        low_memory=True,
    )
    dds.uns["fibroskin"]["annotation"] = annotation.set_index("gene_id").loc[[str(g) for g in dds.var_names]].reset_index()
    return FitOutputs(
        dds=dds,
        normalized_counts=_with_symbols(rnaseq.normalized_counts(dds), annotation),
        size_factors=rnaseq.size_factors(dds),
        notes=prefiltered.notes,
    )


def vst_table(design: Design, counts_table: pd.DataFrame | str | Path,
              lengths: pd.DataFrame | None = None, n_cpus: int = 1) -> pd.DataFrame:
    """The VST of the prefiltered counts (``vst.tsv``), as :func:`fibroskin.rnaseq.vst` of :func:`fit`'s model.

    Blind to the design (DESeq2's default for QC figures), so it needs no DE fit: the same
    numbers, computed beside the fit rather than after it. ``lengths`` and ``n_cpus`` as for
    :func:`fit`.
    """
    from fibroskin import rnaseq

    settings: RnaseqSettings = design.rnaseq
    prefiltered = prefiltered_counts(design, counts_table, lengths)
    del counts_table
    transformed = rnaseq.vst_of_handed_counts(
        [prefiltered.take_counts()],  # nothing holds the counts once the data set has copied them
        prefiltered.sample_table,
        settings.design,
        engine=settings.engine,
        reference_levels=reference_levels(design),
        average_lengths=prefiltered.average_lengths,
        n_cpus=n_cpus,
    )
    return _with_symbols(transformed, prefiltered.annotation)


def fit_annotation(dds: DeseqDataSet) -> pd.DataFrame | None:
    """The gene_id -> symbol table :func:`fit` stored with the model."""
    return dds.uns.get("fibroskin", {}).get("annotation")


def save_fit(dds: DeseqDataSet, path: str | Path) -> None:
    """Pickle the fitted model atomically (temporary name, then rename).

    The engine's thread count is how this job ran, not part of the model: it is stored
    as one, so the file is the same byte for byte whatever threads the fit had. Jobs
    that load the model set their own.
    """
    from fibroskin.tables import atomic_path

    inference = getattr(dds, "inference", None)
    threads = getattr(inference, "n_cpus", None)
    if threads is not None:
        inference.n_cpus = 1
    try:
        with atomic_path(path) as temporary, open(temporary, "wb") as handle:
            pickle.dump(dds, handle, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        if threads is not None:
            inference.n_cpus = threads


def load_fit(path: str | Path) -> DeseqDataSet:
    """Load a model saved by :func:`save_fit` (a file this workflow wrote itself)."""
    from formulaic_contrasts import FormulaicContrasts

    with open(path, "rb") as handle:
        dds = pickle.load(handle)  # noqa: S301 - only our own intermediate file
    # formulaic registers the contrast materializer when FormulaicContrasts is built, and
    # that registration does not survive pickling: rebuild it from the same samples and design.
    # (The fast engine's design is R's model matrix itself, with nothing to rebuild.)
    if isinstance(dds.design, str):
        dds.formulaic_contrasts = FormulaicContrasts(dds.obs, dds.design)
    return dds


def contrast_results(
    dds: DeseqDataSet, contrast: Contrast, design: Design
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DESeq2 results of one contrast on the shared fit, and the marker rows.

    ``rnaseq.alpha`` is passed as R's ``results(alpha=)``: the level independent
    filtering optimises for and the level of the calls (see :mod:`fibroskin.rnaseq`).

    Returns
    -------
    results, markers
        ``deseq2_results.tsv`` and ``marker_results.tsv`` tables.
    """
    from fibroskin import rnaseq

    settings: RnaseqSettings = design.rnaseq
    annotation = fit_annotation(dds)
    results = rnaseq.test_contrast(
        dds,
        contrast.column,
        contrast.reference,
        contrast.target,
        alpha=settings.alpha,
        shrink=settings.shrink,
        annotation=annotation,
        contrast=contrast_spec(contrast) if contrast.rnaseq_kind != "levels" else None,
        lfc_threshold=contrast.lfc_threshold,
        alt_hypothesis=contrast.alt_hypothesis,
    )
    markers = rnaseq.marker_results(results, design.markers, SymbolIndex.build(annotation))
    return results, markers


def test_contrasts(dds: DeseqDataSet, design: Design) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """:func:`contrast_results` of every contrast of the run, in config order, on one fit."""
    return [contrast_results(dds, contrast, design) for contrast in design.contrasts]


# pytest would otherwise collect this function wherever a test module imports it by name.
test_contrasts.__test__ = False  # type: ignore[attr-defined]


def long_normalized_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Wide ``normalized_counts.tsv`` (gene, symbol, samples...) to long (gene, symbol, sample, normalized_count)."""
    return table.melt(id_vars=["gene", "symbol"], var_name="sample", value_name="normalized_count")
