"""What the RNA-seq figures show, computed from the tables: no drawing, no matplotlib.

Shared by the static figures (:mod:`fibroskin.plots.rnaseq`) and the interactive pages
(:mod:`fibroskin.plots.interactive`), which draw in the browser and so do not import
matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

NOT_SIGNIFICANT_COLOUR = "#BBBBBB"


def expression_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """Genes x samples float matrix from a table with a ``gene`` column (or gene index)."""
    if "gene" in table.columns:
        table = table.set_index("gene")
    return table.astype(float, copy=False)  # (a cohort's VST is large: no copy when already floats)


def sample_sheet(sample_table: pd.DataFrame) -> pd.DataFrame:
    """Sample table indexed by sample name."""
    if "sample" in sample_table.columns:
        sample_table = sample_table.set_index("sample")
    table = sample_table.copy()
    table.index = table.index.astype(str)
    return table


def condition_order(conditions: Sequence[str], palette: dict[str, str]) -> list[str]:
    """Conditions present, palette order first (reference, target), then the rest sorted."""
    present = set(map(str, conditions))
    return [c for c in palette if c in present] + sorted(present - set(palette))


def short_sample_names(samples: Sequence[str]) -> list[str]:
    """Drop the prefix shared by all names (GEO pseudo-bulk names repeat ~25 characters)."""
    names = [str(s) for s in samples]
    if len(names) < 2:
        return names
    prefix = ""
    for chars in zip(*names):
        if len(set(chars)) != 1:
            break
        prefix += chars[0]
    # Cut at a separator so "pseudo_bulk_GSE_188952_keloid" does not lose half a word.
    cut = max(prefix.rfind(sep) for sep in "_- .") + 1 if prefix else 0
    return [name[cut:] or name for name in names] if cut >= 4 else names


def significance_classes(results: pd.DataFrame, alpha: float, reference: str, target: str) -> pd.Series:
    """``target`` / ``reference`` (higher there, padj < alpha) or ``"n.s."`` per gene."""
    significant = results["padj"].to_numpy() < alpha
    up = results["log2FoldChange"].to_numpy() > 0
    classes = np.where(significant & up, target, np.where(significant & ~up, reference, "n.s."))
    return pd.Series(classes, index=results.index)


def found_mask(markers: pd.DataFrame) -> pd.Series:
    """The ``found`` column as booleans, also when read back from a TSV as text."""
    if "found" not in markers:
        return pd.Series(True, index=markers.index)
    return markers["found"].map(lambda value: str(value).strip().lower() in {"true", "1", "yes"})


def found_markers(markers: pd.DataFrame | None) -> pd.DataFrame:
    """The markers found in the counts, one row per gene (``gene`` as text)."""
    if markers is None or markers.empty:
        return pd.DataFrame(columns=["gene", "symbol"])
    found = markers[found_mask(markers)]
    return found.assign(gene=found["gene"].astype(str)).drop_duplicates("gene")


def pca_coordinates(vst_table: pd.DataFrame, ntop: int = 500) -> tuple[pd.DataFrame, np.ndarray]:
    """PCA of the ``ntop`` most variable genes, as DESeq2's ``plotPCA``.

    Returns
    -------
    coordinates, percent_variance
        Samples x (PC1, PC2, ...) and the % of variance of each component (over the
        components of those genes, as ``plotPCA`` reports).
    """
    matrix = expression_matrix(vst_table)
    variances = matrix.var(axis=1, ddof=1).to_numpy()
    # Stable sort so ties between equally variable genes resolve by table order.
    top = np.argsort(-variances, kind="stable")[: min(ntop, len(variances))]
    data = matrix.iloc[top].to_numpy().T
    centred = data - data.mean(axis=0)
    u, singular, _ = np.linalg.svd(centred, full_matrices=False)
    scores = u * singular
    # Fix the sign so the largest-|loading| sample is positive: same picture every run.
    signs = np.sign(scores[np.abs(scores).argmax(axis=0), np.arange(scores.shape[1])])
    signs[signs == 0] = 1
    scores = scores * signs
    percent = singular**2 / np.sum(singular**2) * 100
    columns = [f"PC{i + 1}" for i in range(scores.shape[1])]
    return pd.DataFrame(scores, index=matrix.columns, columns=columns), percent
