"""Writing result tables: atomic, deterministic TSVs with the documented columns."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def write_tsv(table: pd.DataFrame, path: str | Path, float_format: str = "%.10g") -> None:
    """Write ``table`` as TSV without its index, atomically.

    The file is written under a temporary name in the same directory and renamed, so a run
    that fails or is killed never leaves a half-written table, and an earlier complete table
    stays intact until the new one is whole.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    table.to_csv(temporary, sep="\t", index=False, float_format=float_format, na_rep="NA", lineterminator="\n")
    os.replace(temporary, path)


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
