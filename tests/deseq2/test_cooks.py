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
