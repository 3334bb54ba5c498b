"""The dispersion trend (fibroskin.deseq2.dispersion_trend) in FastDeseqDataSet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydeseq2.dds import DeseqDataSet
from pydeseq2.ds import DeseqStats

from fibroskin.deseq2.dataset import FastDeseqDataSet
from fibroskin.deseq2.dispersion_trend import r_parametric_dispersion_fit
from fibroskin.deseq2.inference import VectorizedInference

from pasilla_data import pasilla_counts
from r_reference import r_stages, r_summary


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


@pytest.mark.parametrize("data_set", ["pasilla", "airway"])
def test_trend_from_rs_genewise_dispersions_is_rs(data_set):
    """R's parametricDispersionFit on R's gene-wise dispersions: R's coefficients to 1e-13."""
    r = r_stages(data_set)
    r = r[r["baseMean"] > 0]
    coefficients = r_parametric_dispersion_fit(r["baseMean"].to_numpy(), r["dispGeneEst"].to_numpy(), 1e-8)
    expected = r_summary(data_set)[["trend_a0", "trend_a1"]].to_numpy()
    np.testing.assert_allclose(coefficients, expected, rtol=1e-13)  # measured 5e-15
