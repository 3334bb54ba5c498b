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


def test_chunked_glm_fit_and_cooks_distances_equal_whole_matrix_ones(monkeypatch):
    """The GLM fit and R's Cook's distances by chunks of genes (in threads, low_memory too) equal one chunk's."""
    import fibroskin.deseq2.dataset as dataset
    from fibroskin.deseq2.cooks import r_cooks_distances
    from fibroskin.deseq2.inference import VectorizedInference

    rng = np.random.default_rng(12)
    n, g = 10, 400
    mu = rng.lognormal(4, 1.5, size=g)
    size = 1 / (0.05 + 1 / mu)
    counts = rng.negative_binomial(size, size / (size + mu), size=(n, g))
    counts[:, 3] = 0  # an all-zero gene: the fit and the distances skip it
    meta = pd.DataFrame({"condition": ["a", "b"] * (n // 2)}, index=[f"s{i}" for i in range(n)])
    frame = pd.DataFrame(counts, index=meta.index, columns=[f"g{j}" for j in range(g)])

    def fitted(low_memory, genes_per_chunk, threads):
        monkeypatch.setattr(dataset, "chunk_genes", lambda samples: genes_per_chunk)
        dds = FastDeseqDataSet(counts=frame, metadata=meta, design="~condition", trend_scheme="r",
                               quiet=True, low_memory=low_memory,
                               inference=VectorizedInference(mode="r", n_cpus=threads))
        for step in ("fit_size_factors", "fit_genewise_dispersions", "fit_dispersion_trend",
                     "fit_dispersion_prior", "fit_MAP_dispersions", "fit_LFC"):
            getattr(dds, step)()
        return dds

    expected = fitted(False, 10**6, 1)
    non_zero = expected.var["non_zero"].to_numpy()
    assert not non_zero[3] and non_zero.sum() == g - 1
    mu_whole, hat_whole = expected.obsm["_mu_LFC"].copy(), expected.obsm["_hat_diagonals"].copy()
    expected.calculate_cooks()
    kept = counts[:, non_zero].astype(float).T
    size_factors = expected.obs["size_factors"].to_numpy()
    whole = r_cooks_distances(kept, kept / size_factors, mu_whole.T, hat_whole.T,
                              expected.obsm["design_matrix"].to_numpy(float))
    np.testing.assert_array_equal(expected.layers["cooks"][:, non_zero], whole.T)
    assert np.isnan(expected.layers["cooks"][:, 3]).all()
    for low_memory, threads in ((False, 1), (True, 2)):
        dds = fitted(low_memory, 37, threads)  # many chunks, a short last one
        np.testing.assert_array_equal(dds.varm["LFC"].to_numpy(), expected.varm["LFC"].to_numpy())
        np.testing.assert_array_equal(dds.obsm["_mu_LFC"], mu_whole)
        np.testing.assert_array_equal(dds.obsm["_hat_diagonals"], hat_whole)
        dds.calculate_cooks()
        np.testing.assert_array_equal(dds.layers["cooks"], expected.layers["cooks"])
        np.testing.assert_array_equal(dds.var["r_max_cooks"].to_numpy(), expected.var["r_max_cooks"].to_numpy())
        assert ("_mu_LFC" in dds.obsm) == (not low_memory)
