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


def read_tsv(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`write_tsv` (``NA`` = missing)."""
    return pd.read_csv(path, sep="\t", na_values=["NA"], keep_default_na=False)
