"""Cook's outlier replacement and refit (fibroskin.deseq2.cooks)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fibroskin.deseq2.dataset import FastDeseqDataSet


def test_fast_engine_refit_of_cooks_outliers_uses_fast_class():
    # 7+ replicates per group: outliers are replaced and refitted on the same scheme
    rng = np.random.default_rng(11)
    n, g = 16, 300
    mu = rng.lognormal(4, 1.5, size=g)
    size = 1 / (0.05 + 1 / mu)
    counts = rng.negative_binomial(size, size / (size + mu), size=(n, g))
    counts[0, :5] = counts[0, :5] * 30 + 500  # outliers in sample 0
    meta = pd.DataFrame({"condition": ["a", "b"] * (n // 2)}, index=[f"s{i}" for i in range(n)])
    frame = pd.DataFrame(counts, index=meta.index, columns=[f"g{j}" for j in range(g)])
    dds = FastDeseqDataSet(counts=frame, metadata=meta, design="~condition",
                           trend_scheme="r", quiet=True)
    dds.deseq2()
    refitted = dds.var["refitted"].to_numpy(bool)
    assert refitted[:5].all()
    # refitted genes' baseMean comes from the replaced counts, as in R
    assert (dds.var["_normed_means"].to_numpy()[:5] < (frame.iloc[:, :5] / dds.obs["size_factors"].to_numpy()[:, None]).mean().to_numpy()).all()
    assert np.isfinite(dds.varm["LFC"].to_numpy()).all()
    assert not dds.cooks_outlier()[:5].any()


def test_chunked_cooks_distances_are_pydeseq2s(monkeypatch):
    """Cook's distances computed a chunk of genes at a time (in place with low_memory) equal pydeseq2's."""
    from pydeseq2.dds import DeseqDataSet

    import fibroskin.deseq2.dataset as dataset

    rng = np.random.default_rng(12)
    n, g = 10, 400
    mu = rng.lognormal(4, 1.5, size=g)
    size = 1 / (0.05 + 1 / mu)
    counts = rng.negative_binomial(size, size / (size + mu), size=(n, g))
    meta = pd.DataFrame({"condition": ["a", "b"] * (n // 2)}, index=[f"s{i}" for i in range(n)])
    frame = pd.DataFrame(counts, index=meta.index, columns=[f"g{j}" for j in range(g)])
    monkeypatch.setattr(dataset, "chunk_genes", lambda samples: 37)  # many chunks, a short last one
    def fitted(low_memory):
        dds = FastDeseqDataSet(counts=frame, metadata=meta, design="~condition", trend_scheme="r",
                               quiet=True, low_memory=low_memory)
        for step in ("fit_size_factors", "fit_genewise_dispersions", "fit_dispersion_trend",
                     "fit_dispersion_prior", "fit_MAP_dispersions", "fit_LFC"):
            getattr(dds, step)()
        return dds

    expected = fitted(False)
    DeseqDataSet.calculate_cooks(expected)  # pydeseq2's, whole matrices at once
    for low_memory in (False, True):
        dds = fitted(low_memory)
        dds.calculate_cooks()
        np.testing.assert_array_equal(dds.layers["cooks"], expected.layers["cooks"])
        assert ("_mu_LFC" in dds.obsm) == (not low_memory)
