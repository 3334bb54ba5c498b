"""The profibrotic marker panel and matching of gene identifiers to its symbols.

The panel (``fibroskin/data/marker_panel.tsv``, built from the project's shared
``markers.tsv``) lists HGNC symbols, Ensembl gene IDs, aliases, role (profibrotic marker or
qPCR reference gene) and the direction expected in fibrotic lesional skin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

_ENSEMBL_VERSION = re.compile(r"^(ENS[A-Z]*G\d+)\.\d+(_PAR_Y)?$")


def load_panel() -> pd.DataFrame:
    """Return the bundled marker panel.

    Returns
    -------
    pandas.DataFrame
        Columns symbol, ensembl_gene_id, aliases (list of str), role, expected_in_lesion
        ("up", "down" or "" for reference genes), note.
    """
    with resources.files("fibroskin").joinpath("data/marker_panel.tsv").open() as handle:
        panel = pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False)
    panel["aliases"] = panel["aliases"].map(lambda text: [a for a in text.split(";") if a])
    return panel


def default_markers() -> list[str]:
    """Symbols of the profibrotic markers in the panel, TGFB1 and COL1A1 first."""
    panel = load_panel()
    return panel.loc[panel["role"] == "profibrotic_marker", "symbol"].tolist()


def expected_direction(symbol: str) -> str:
    """Direction expected in lesional skin ("up"/"down"), or "" if the panel has none."""
    panel = load_panel().set_index("symbol")
    return panel.at[symbol, "expected_in_lesion"] if symbol in panel.index else ""


def strip_ensembl_version(gene_id: str) -> str:
    """``ENSG00000105329.12`` -> ``ENSG00000105329``; other identifiers unchanged."""
    match = _ENSEMBL_VERSION.match(gene_id)
    return match.group(1) if match else gene_id


@dataclass(frozen=True)
class SymbolIndex:
    """Lookup from any known identifier (symbol, alias, Ensembl ID) to a panel symbol."""

    to_symbol: dict[str, str]

    @classmethod
    def build(cls, annotation: pd.DataFrame | None = None) -> "SymbolIndex":
        """Index the panel plus an optional annotation (columns gene_id, symbol).

        Symbols win over aliases when an alias of one gene is the symbol of another.
        """
        panel = load_panel()
        lookup: dict[str, str] = {}
        for row in panel.itertuples():
            for alias in row.aliases:
                lookup.setdefault(alias.upper(), row.symbol)
            lookup[row.ensembl_gene_id.upper()] = row.symbol
        for row in panel.itertuples():
            lookup[row.symbol.upper()] = row.symbol
        if annotation is not None:
            for gene_id, symbol in zip(annotation["gene_id"], annotation["symbol"]):
                if isinstance(symbol, str) and symbol:
                    lookup.setdefault(strip_ensembl_version(str(gene_id)).upper(), symbol)
        return cls(lookup)

    def symbol(self, gene_id: str) -> str:
        """Panel symbol for ``gene_id``, or ``gene_id`` itself when unknown."""
        key = strip_ensembl_version(str(gene_id)).upper()
        return self.to_symbol.get(key, str(gene_id))


def resolve_marker(name: str, index: SymbolIndex | None = None) -> str:
    """Canonical symbol of a configured marker name (``CTGF`` -> ``CCN2``)."""
    index = index or SymbolIndex.build()
    return index.symbol(name)


def gene_symbols(gene_ids: pd.Index, annotation: str | Path | pd.DataFrame | None = None) -> pd.Series:
    """Symbol for each gene identifier of a count table.

    Parameters
    ----------
    gene_ids
        Row index of a count table: Ensembl IDs (with or without version) or symbols.
    annotation
        Optional table (or path to a TSV) with columns gene_id and symbol.

    Returns
    -------
    pandas.Series
        Indexed by ``gene_ids``; the panel symbol when known, else the annotation's
        symbol, else the identifier itself.
    """
    if isinstance(annotation, (str, Path)):
        annotation = pd.read_csv(annotation, sep=None, engine="python", dtype=str)
    index = SymbolIndex.build(annotation)
    return pd.Series([index.symbol(g) for g in gene_ids], index=gene_ids, name="symbol")
