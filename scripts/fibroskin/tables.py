"""Writing result tables: atomic, deterministic TSVs with the documented columns."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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
    with atomic_path(path) as temporary:
        table.to_csv(temporary, sep="\t", index=False, float_format=float_format, na_rep="NA", lineterminator="\n")


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


def read_tsv(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`write_tsv` (``NA`` = missing; identifiers as text)."""
    header = pd.read_csv(path, sep="\t", nrows=0).columns
    dtypes = {column: str for column in header if column in TEXT_COLUMNS}
    table = pd.read_csv(path, sep="\t", na_values=["NA"], keep_default_na=False, dtype=dtypes)
    for column in dtypes:
        # An identifier is never missing; "NA" there is a name (e.g. an empty cq_raw stays "").
        table[column] = table[column].fillna("NA") if column != "cq_raw" else table[column].fillna("")
    return table
