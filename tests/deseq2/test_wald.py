"""Wald test (fibroskin.deseq2.wald, through VectorizedInference.wald_test) against stock pydeseq2."""

from __future__ import annotations

import numpy as np
from pydeseq2.default_inference import DefaultInference

from fibroskin.deseq2.inference import VectorizedInference

from pasilla_data import pasilla_subset


def test_wald_matches_stock_on_same_inputs():
    x, design, sf = pasilla_subset()
    disp = np.full(x.shape[1], 0.05)
    fast, stock = VectorizedInference(), DefaultInference(n_cpus=1)
    b_f, mu_f, _, _ = fast.irls(x, sf, design, disp, 0.5, 1e-8)
    ridge = np.diag([1e-6, 1e-6])
    contrast = np.array([0.0, 1.0])
    p_f, s_f, se_f = fast.wald_test(design, disp, b_f, mu_f, ridge, contrast, 0.0)
    p_s, s_s, se_s = stock.wald_test(design, disp, b_f, mu_f, ridge, contrast, 0.0)
    np.testing.assert_allclose(se_f, se_s, rtol=1e-9)
    np.testing.assert_allclose(p_f, p_s, rtol=1e-7, atol=1e-300)
