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


def test_low_memory_fit_filters_cooks_outliers_as_the_full_fit():
    """R's two-level rule (keep an outlier when 3+ counts exceed its count) also after low_memory drops the distances."""
    from scipy.stats import f as f_distribution

    from fibroskin import rnaseq

    rng = np.random.default_rng(21)
    n, g = 8, 400
    mu = rng.lognormal(5, 1.0, size=g)
    size = 1 / (0.05 + 1 / mu)
    counts = rng.negative_binomial(size, size / (size + mu), size=(n, g))
    counts[0, :10] = counts[0, :10] * 40 + 2000  # a high outlier: filtered
    # a strong effect, and a healthy outlier below every lesional count: its Cook's distance
    # is the largest, yet 4 counts exceed it, so R keeps the gene
    counts[1::2, 10:20] *= 100
    counts[0, 10:20] = counts[1::2, 10:20].min(axis=0) // 2
    samples = [f"s{i}" for i in range(n)]
    sample_table = pd.DataFrame({"condition": ["healthy", "lesional"] * (n // 2)}, index=pd.Index(samples, name="sample"))
    table = pd.DataFrame(counts.T, index=[f"g{j}" for j in range(g)], columns=samples)

    results = {}
    for low_memory in (False, True):
        dds = rnaseq.fit_deseq(table, sample_table, "~condition", low_memory=low_memory)
        assert ("cooks" in dds.layers) == (not low_memory)
        results[low_memory] = rnaseq.test_contrast(dds, "condition", "healthy", "lesional", shrink=False)
    pd.testing.assert_frame_equal(results[True], results[False])
    cutoff = f_distribution.ppf(0.99, 2, n - 2)
    flagged = dds.var["r_max_cooks"].to_numpy(float) > cutoff
    pvalue = results[True].set_index("gene").loc[dds.var_names, "pvalue"].to_numpy(float)
    assert (flagged & np.isnan(pvalue)).sum() >= 5  # the high outliers lose their p-values
    assert (flagged & ~np.isnan(pvalue)).sum() >= 5  # the outliers below the other group keep theirs
