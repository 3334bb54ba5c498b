"""Writing result tables: atomic, deterministic TSVs with the documented columns."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd


def temporary_path(path: str | Path) -> Path:
    """The name a file is written under before it is renamed to ``path``: ``.<name>.tmp``."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s directory; rename it to ``path`` when the block succeeds.

    If the block raises (or is interrupted: KeyboardInterrupt, SystemExit), the temporary
    file is removed and ``path`` is left exactly as it was, so an earlier complete result
    survives a failed write and no half-written file is left behind. ``os.replace`` is
    atomic within a file system, so readers see either the old or the new file. Every
    result of the workflow (tables, figures, the pickled fit) is written through this.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "table.tsv"
    >>> with atomic_path(target) as temporary:
    ...     _ = temporary.write_text("a\\n")
    >>> target.read_text()
    'a\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(path)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_tsv(table: pd.DataFrame, path: str | Path, float_format: str = "%.10g") -> None:
    """Write ``table`` as TSV without its index, atomically.

    The file is written under a temporary name in the same directory and renamed
    (:func:`atomic_path`), so a run that fails or is killed never leaves a half-written
    table, and an earlier complete table stays intact until the new one is whole.
    Output is deterministic: the same table gives the same bytes (``\\n`` line ends,
    ``NA`` for missing values, ``float_format`` for floats).
    """
    if table.size >= LARGE_TABLE_CELLS:
        split = _labels_and_values(table)
        if split is not None:
            write_gene_table(path, split[0], split[1], list(table.columns[len(split[0]):]), float_format)
            return
    with atomic_path(path) as temporary:
        table.to_csv(temporary, sep="\t", index=False, float_format=float_format, na_rep="NA", lineterminator="\n")


#: Tables of at least this many cells go through :func:`write_gene_table` when they can.
LARGE_TABLE_CELLS = 1_000_000
_NEEDS_QUOTES = ("\t", '"', "\n", "\r")


def _labels_and_values(table: pd.DataFrame) -> tuple[dict[str, list[str]], np.ndarray] | None:
    """Leading text columns and the numbers after them, if :func:`write_gene_table` writes them as pandas does.

    The numbers must be one integer or float dtype; the text must hold no missing value
    and nothing pandas would quote.
    """
    dtypes = list(table.dtypes)
    leading = 0
    while leading < len(dtypes) and dtypes[leading] == object:
        leading += 1
    numbers = dtypes[leading:]
    if not numbers or len(set(numbers)) != 1 or not (
        np.issubdtype(numbers[0], np.integer) or np.issubdtype(numbers[0], np.floating)
    ):
        return None
    labels = {}
    for name in table.columns[:leading]:
        column = table[name]
        if column.isna().any():
            return None
        text = column.astype(str).tolist()
        if any(mark in value for value in text for mark in _NEEDS_QUOTES):
            return None
        labels[str(name)] = text
    if any(mark in str(name) for name in table.columns for mark in _NEEDS_QUOTES):
        return None
    return labels, table.iloc[:, leading:].to_numpy()


def write_gene_table(
    path: str | Path,
    labels: dict[str, Sequence[str]],
    values: np.ndarray,
    columns: Sequence[str],
    float_format: str = "%.10g",
    rows_per_block: int = 2048,
) -> None:
    """Write a genes x samples table as :func:`write_tsv` would, without building it.

    ``labels`` are the leading text columns (``gene``, ``symbol``), ``values`` the
    ``(genes, len(columns))`` numbers, integers or floats. The bytes are those of
    ``write_tsv`` of the same table (floats with ``float_format``, ``NA`` for NaN), but
    the rows are formatted a block at a time straight from the array: no samples x genes
    table of text or objects is ever held, and it is several times faster than pandas'
    writer for floats (60,000 genes x 2,000 samples: minutes otherwise).
    """
    values = np.asarray(values)
    names = list(labels)
    label_columns = [list(map(str, labels[name])) for name in names]
    integer = np.issubdtype(values.dtype, np.integer)
    formatter = str if integer else float_format.__mod__
    with atomic_path(path) as temporary, open(temporary, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("\t".join([*names, *map(str, columns)]) + "\n")
        for start in range(0, values.shape[0], rows_per_block):
            block = values[start:start + rows_per_block]
            lines = []
            for offset, row in enumerate(block.tolist()):
                fields = [column[start + offset] for column in label_columns]
                if integer:
                    fields.extend(map(formatter, row))
                else:
                    fields.extend("NA" if value != value else formatter(value) for value in row)
                lines.append("\t".join(fields))
            handle.write("\n".join(lines) + "\n")


def write_document(text: str, path: str | Path) -> None:
    """Write a text document (an HTML page) atomically, UTF-8 with ``\n`` line ends, as :func:`write_tsv`."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="\n")


#: Identifier columns, always read as text: sample "001" must not become the number 1.
TEXT_COLUMNS = (
    "sample", "target", "gene", "symbol", "group", "plate", "well", "task", "file", "cq_raw",
    "test", "flag", "assay", "patient", "batch", "condition", "item", "note", "verdict",
)


def read_tsv_blocks(path: str | Path, rows: int) -> Iterator[pd.DataFrame]:
    """:func:`read_tsv`, ``rows`` rows at a time (for tables too large to hold whole)."""
    header = pd.read_csv(path, sep="\t", nrows=0).columns
    dtypes = {column: str for column in header if column in TEXT_COLUMNS}
    for table in pd.read_csv(path, sep="\t", na_values=["NA"], keep_default_na=False, dtype=dtypes, chunksize=rows):
        for column in dtypes:
            table[column] = table[column].fillna("NA") if column != "cq_raw" else table[column].fillna("")
        yield table


def read_tsv_rows(path: str | Path, keep: dict[str, Iterable[str]], rows: int = 4096) -> pd.DataFrame:
    """The rows of :func:`read_tsv`'s table whose value in one of ``keep``'s columns is among its values.

    Read a block of rows at a time, so a genes x samples table of a cohort is never held
    whole when a job needs its marker genes only. ``{"gene": ids, "symbol": names}``
    keeps the rows whose gene is in ``ids`` or whose symbol is in ``names``.
    """
    wanted = {column: set(map(str, values)) for column, values in keep.items()}
    parts = []
    for block in read_tsv_blocks(path, rows):
        mask = np.zeros(len(block), dtype=bool)
        for column, values in wanted.items():
            mask |= block[column].isin(values).to_numpy()
        parts.append(block[mask])
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


def read_expression(path: str | Path, rows: int = 4096) -> pd.DataFrame:
    """A genes x samples table (``vst.tsv``, ``normalized_counts.tsv``) as floats indexed by gene.

    The sample columns of :func:`read_tsv`'s table (``symbol`` dropped), read a block of
    rows at a time into one float array: reading a cohort's table whole costs pandas about
    twice its size, and the usual ``drop``/``set_index`` copies it again.
    """
    gene_ids: list[np.ndarray] = []
    blocks: list[np.ndarray] = []
    samples: list[str] = []
    for block in read_tsv_blocks(path, rows):
        samples = [column for column in block.columns if column not in ("gene", "symbol")]
        gene_ids.append(block["gene"].to_numpy())
        blocks.append(block[samples].to_numpy(dtype=float))
    values = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    del blocks
    genes = pd.Index(np.concatenate(gene_ids), name="gene")
    return pd.DataFrame(values, index=genes, columns=samples, copy=False)


def read_tsv(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`write_tsv` (``NA`` = missing; identifiers as text)."""
    header = pd.read_csv(path, sep="\t", nrows=0).columns
    dtypes = {column: str for column in header if column in TEXT_COLUMNS}
    table = pd.read_csv(path, sep="\t", na_values=["NA"], keep_default_na=False, dtype=dtypes)
    for column in dtypes:
        # An identifier is never missing; "NA" there is a name (e.g. an empty cq_raw stays "").
        table[column] = table[column].fillna("NA") if column != "cq_raw" else table[column].fillna("")
    return table
