"""IRLS (fibroskin.deseq2.irls, through VectorizedInference.irls) against known answers and stock."""

from __future__ import annotations

import numpy as np
from pydeseq2.default_inference import DefaultInference

from fibroskin.deseq2.inference import VectorizedInference

from pasilla_data import pasilla_subset

DESIGN = np.array([[1, 0], [1, 0], [1, 0], [1, 1], [1, 1], [1, 1]], dtype=float)


def test_irls_two_groups_recovers_log_ratio_of_means():
    rng = np.random.default_rng(0)
    counts = rng.negative_binomial(5, 0.05, size=(6, 200)).astype(float) + 1
    size_factors = np.ones(6)
    beta, mu, hat, conv = VectorizedInference().irls(
        counts, size_factors, DESIGN, np.full(200, 0.1), min_mu=0.5, beta_tol=1e-10
    )
    expected = np.log(counts[3:].mean(0) / counts[:3].mean(0))
    assert conv.all()
    np.testing.assert_allclose(beta[:, 1], expected, atol=1e-6)
    np.testing.assert_allclose(beta[:, 0], np.log(counts[:3].mean(0)), atol=1e-6)
    # leverages of a saturated two-group model sum to p
    np.testing.assert_allclose(hat.sum(0), 2.0, atol=1e-5)


def test_irls_matches_stock_on_pasilla_genes():
    x, design, sf = pasilla_subset()
    disp = np.full(x.shape[1], 0.05)
    b_f, _, h_f, _ = VectorizedInference().irls(x, sf, design, disp, 0.5, 1e-8)
    b_s, _, h_s, _ = DefaultInference(n_cpus=1).irls(x, sf, design, disp, 0.5, 1e-8)
    np.testing.assert_allclose(b_f, b_s, atol=1e-6)
    np.testing.assert_allclose(h_f, h_s, atol=1e-6)
