"""The pasilla counts (../shared/data) as the deseq2 tests use them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import shared_data


def pasilla_counts() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Samples x genes counts and the sample table, in the same sample order."""
    counts = pd.read_csv(shared_data("pasilla", "pasilla_counts.csv"), index_col=0).T
    meta = pd.read_csv(shared_data("pasilla", "pasilla_metadata.csv"), index_col=0).loc[counts.index]
    return counts, meta


def pasilla_subset() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of the first 1,500 genes with more than 50 reads, the design and total-count size factors."""
    counts, meta = pasilla_counts()
    x = counts.to_numpy()[:, :1500]
    x = x[:, x.sum(0) > 50].astype(float)
    design = np.column_stack([np.ones(7), (meta["condition"] == "untreated").to_numpy()])
    return x, design, x.sum(1) / x.sum(1).mean()
