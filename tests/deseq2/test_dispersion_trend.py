"""The dispersion trend (fibroskin.deseq2.dispersion_trend) in FastDeseqDataSet."""

from __future__ import annotations

import pandas as pd
from pydeseq2.dds import DeseqDataSet
from pydeseq2.ds import DeseqStats

from fibroskin.deseq2.dataset import FastDeseqDataSet
from fibroskin.deseq2.inference import VectorizedInference

from pasilla_data import pasilla_counts


def _fit(dds_class) -> pd.DataFrame:
    counts, meta = pasilla_counts()
    inference = VectorizedInference()
    dds = dds_class(counts=counts, metadata=meta, design="~condition", inference=inference, quiet=True)
    dds.deseq2()
    stats = DeseqStats(dds, contrast=["condition", "untreated", "treated"], inference=inference, quiet=True)
    stats.summary()
    return stats.results_df


def test_vectorised_pydeseq2_trend_equals_pydeseq2s_own():
    """FastDeseqDataSet's trend without the per-gene pandas loop gives pydeseq2's LFCs."""
    ours, theirs = _fit(FastDeseqDataSet), _fit(DeseqDataSet)
    pd.testing.assert_series_equal(ours["log2FoldChange"], theirs["log2FoldChange"], rtol=1e-10)
