"""Per-sample outputs of transcript quantifiers: salmon, kallisto, RSEM.

Each file holds, per transcript (RSEM ``genes.results``: per gene), an abundance (TPM), an
estimated count and an effective length: the three things tximport reads, from the columns
R's tximport 1.26.1 reads them from:

==========================  ===============  ===========  ================  ==================
file                        ID               abundance    count             length
==========================  ===============  ===========  ================  ==================
salmon ``quant.sf``         Name             TPM          NumReads          EffectiveLength
kallisto ``abundance.tsv``  target_id        tpm          est_counts        eff_length
kallisto ``abundance.h5``   aux/ids          (computed)   est_counts        aux/eff_lengths
RSEM ``isoforms.results``   transcript_id    TPM          expected_count    effective_length
RSEM ``genes.results``      gene_id          TPM          expected_count    effective_length
==========================  ===============  ===========  ================  ==================

The format is told from the content (header line; HDF5 signature), never from the file
name. kallisto's HDF5 file holds no TPM: as tximport, it is ``1e6 * (count / length) /
sum(count / length)``. RSEM ``isoforms.results`` also name each transcript's gene, which
serves as tx2gene when none is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fibroskin.errors import ErrorCollector, InputError, InputErrors
from fibroskin.io.fixed_columns import FieldTable, first_lines, numeric_column, read_fields

#: Signature of HDF5 files (kallisto's ``abundance.h5``).
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@dataclass(frozen=True)
class QuantifierLayout:
    """Where a quantifier's file holds what tximport reads."""

    name: str
    tool: str
    header: tuple[str, ...]
    id_column: str
    abundance_column: str
    counts_column: str
    length_column: str
    gene_column: str | None = None
    transcript_level: bool = True


#: The layouts, keyed by the name used in notes and errors. ``header`` is the start of the
#: header line as the tool writes it (RSEM adds columns with ``--calc-pme``/``--calc-ci``).
LAYOUTS = {
    "salmon": QuantifierLayout(
        "salmon", "salmon quant.sf", ("Name", "Length", "EffectiveLength", "TPM", "NumReads"),
        "Name", "TPM", "NumReads", "EffectiveLength",
    ),
    "kallisto": QuantifierLayout(
        "kallisto", "kallisto abundance.tsv", ("target_id", "length", "eff_length", "est_counts", "tpm"),
        "target_id", "tpm", "est_counts", "eff_length",
    ),
    "rsem_isoforms": QuantifierLayout(
        "rsem_isoforms", "RSEM isoforms.results",
        ("transcript_id", "gene_id", "length", "effective_length", "expected_count", "TPM", "FPKM"),
        "transcript_id", "TPM", "expected_count", "effective_length", gene_column="gene_id",
    ),
    "rsem_genes": QuantifierLayout(
        "rsem_genes", "RSEM genes.results",
        ("gene_id", "transcript_id(s)", "length", "effective_length", "expected_count", "TPM", "FPKM"),
        "gene_id", "TPM", "expected_count", "effective_length", transcript_level=False,
    ),
}
KALLISTO_H5 = "kallisto_h5"
TOOL_NAMES = {**{name: layout.tool for name, layout in LAYOUTS.items()}, KALLISTO_H5: "kallisto abundance.h5"}


def detect_quantifier(path: str | Path) -> str | None:
    """The quantifier layout of a file (a key of :data:`LAYOUTS`, or ``kallisto_h5``), else ``None``."""
    path = Path(path)
    with open(path, "rb") as handle:
        if handle.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
            return KALLISTO_H5
    first = next((line for line in first_lines(path) if line.strip()), "")
    names = tuple(name.strip() for name in first.split("\t"))
    for name, layout in LAYOUTS.items():
        if names[: len(layout.header)] == layout.header:
            return name
    return None


@dataclass
class QuantificationFile:
    """One sample's estimates as read (IDs in file order)."""

    path: Path
    layout: str
    ids: np.ndarray
    abundance: np.ndarray
    counts: np.ndarray
    length: np.ndarray
    genes: np.ndarray | None
    line_numbers: np.ndarray | None
    notes: list[str] = field(default_factory=list)


def _read_text_quantification(path: str | Path, layout: QuantifierLayout) -> QuantificationFile:
    table: FieldTable = read_fields(path, has_header=True)
    errors = ErrorCollector()
    header = table.header or []
    position = {name: header.index(name) for name in header}
    ids = table.fields[position[layout.id_column]].to_numpy(dtype=str)
    missing_ids = np.flatnonzero(ids == "")
    for row in missing_ids[:20]:
        errors.add("row has no ID", file=table.path, row=int(table.line_numbers[row]), column=layout.id_column,
                   value="", expected="a transcript or gene ID")
    duplicated = pd.Index(ids).duplicated() & (ids != "")
    for row in np.flatnonzero(duplicated)[:20]:
        errors.add("ID appears twice in the file", file=table.path, row=int(table.line_numbers[row]),
                   column=layout.id_column, value=str(ids[row]), expected="each ID once")
    abundance = numeric_column(table, position[layout.abundance_column], errors, "an abundance (TPM)")
    counts = numeric_column(table, position[layout.counts_column], errors, "an estimated count")
    length = numeric_column(table, position[layout.length_column], errors, "an effective length")
    genes = table.fields[position[layout.gene_column]].to_numpy(dtype=str) if layout.gene_column else None
    errors.raise_if_any()
    return QuantificationFile(table.path, layout.name, ids, abundance, counts, length, genes, table.line_numbers,
                              table.notes)


def _read_kallisto_h5(path: str | Path) -> QuantificationFile:
    """kallisto's HDF5 output; TPM computed as tximport's ``read_kallisto_h5`` does."""
    import h5py

    path = Path(path)
    errors = ErrorCollector()
    try:
        with h5py.File(path, "r") as handle:
            for name in ("est_counts", "aux/ids", "aux/eff_lengths"):
                if name not in handle:
                    errors.add(f"kallisto HDF5 file has no '{name}' dataset", file=path, column=name,
                               expected="abundance.h5 as kallisto quant writes it (est_counts, aux/ids, aux/eff_lengths)")
            errors.raise_if_any()
            counts = np.asarray(handle["est_counts"][()], dtype=float)
            ids = np.array([i.decode() if isinstance(i, bytes) else str(i) for i in handle["aux/ids"][()]])
            length = np.asarray(handle["aux/eff_lengths"][()], dtype=float)
    except OSError as error:
        raise InputErrors(
            [InputError(f"file cannot be read as HDF5 ({error})", file=path, expected="kallisto's abundance.h5")]
        ) from None
    if not (len(counts) == len(ids) == len(length)):
        errors.add(
            f"kallisto HDF5 datasets differ in length (est_counts {len(counts)}, aux/ids {len(ids)}, "
            f"aux/eff_lengths {len(length)})",
            file=path,
            expected="one value per transcript in each",
        )
        errors.raise_if_any()
    for name, values in (("est_counts", counts), ("aux/eff_lengths", length)):
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        for index in bad[:20]:
            errors.add(f"value {index + 1} of '{name}' is not a non-negative number", file=path, column=name,
                       value=float(values[index]), expected="a number >= 0")
    errors.raise_if_any()
    rate = counts / length
    abundance = rate * (1e6 / rate.sum())
    notes = [f"{path}: kallisto HDF5 holds no TPM; computed from est_counts / eff_lengths, as tximport does"]
    return QuantificationFile(path, KALLISTO_H5, ids, abundance, counts, length, None, None, notes)


def read_quantification(path: str | Path, layout: str) -> QuantificationFile:
    """Read one per-sample quantifier file of a known layout (see :func:`detect_quantifier`)."""
    if layout == KALLISTO_H5:
        return _read_kallisto_h5(path)
    return _read_text_quantification(path, LAYOUTS[layout])


@dataclass
class Quantifications:
    """Every sample's estimates, ID x sample (IDs in the files' order).

    ``genes``: the gene of each transcript given by the files themselves (RSEM
    ``isoforms.results``), else ``None``.
    """

    layout: str
    abundance: pd.DataFrame
    counts: pd.DataFrame
    length: pd.DataFrame
    genes: pd.Series | None
    files: dict[str, QuantificationFile]
    notes: list[str]

    @property
    def transcript_level(self) -> bool:
        return self.layout != "rsem_genes"


def read_quantifications(files: Mapping[str, str | Path], layout: str) -> Quantifications:
    """Read one file per sample, all of one layout, quantified against one index.

    Parameters
    ----------
    files
        Sample name -> file, in the sample sheet's order.
    layout
        A key of :data:`LAYOUTS` or ``kallisto_h5``.

    Raises
    ------
    InputErrors
        Problems of every file at once; files whose IDs differ from the first file's
        (another index or annotation) are named with the first differing line.
    """
    errors = ErrorCollector()
    read: dict[str, QuantificationFile] = {}
    for sample, path in files.items():
        try:
            read[sample] = read_quantification(path, layout)
        except InputErrors as problems:
            errors.extend(problems.errors)
    errors.raise_if_any()
    samples = list(read)
    first = read[samples[0]]
    for sample in samples[1:]:
        other = read[sample]
        if len(other.ids) == len(first.ids) and (other.ids == first.ids).all():
            continue
        common = min(len(other.ids), len(first.ids))
        differing = np.flatnonzero(other.ids[:common] != first.ids[:common])
        index = int(differing[0]) if len(differing) else common
        where = f"line {int(first.line_numbers[index])}" if first.line_numbers is not None and index < len(first.ids) else f"entry {index + 1}"
        errors.add(
            f"the file lists other IDs than {first.path} ({len(other.ids)} against {len(first.ids)} IDs; "
            f"first difference at {where} of {first.path})",
            file=other.path,
            row=int(other.line_numbers[index]) if other.line_numbers is not None and index < len(other.ids) else None,
            column=LAYOUTS[layout].id_column if layout in LAYOUTS else "aux/ids",
            value=str(other.ids[index]) if index < len(other.ids) else "(end of file)",
            expected=f"'{first.ids[index] if index < len(first.ids) else '(end of file)'}': every sample quantified "
            "against the same index, so that the files list the same transcripts in the same order",
        )
    errors.raise_if_any()
    index = pd.Index(first.ids, name="transcript" if layout != "rsem_genes" else "gene")
    columns = pd.Index(samples, name="sample")

    def matrix(attribute: str) -> pd.DataFrame:
        return pd.DataFrame(np.column_stack([getattr(read[s], attribute) for s in samples]), index=index, columns=columns)

    genes = pd.Series(first.genes, index=index, name="gene") if first.genes is not None else None
    notes = [note for quantification in read.values() for note in quantification.notes]
    notes.append(f"{TOOL_NAMES[layout]}: {len(samples)} samples, {len(index)} {index.name}s each")
    return Quantifications(layout, matrix("abundance"), matrix("counts"), matrix("length"), genes, read, notes)
