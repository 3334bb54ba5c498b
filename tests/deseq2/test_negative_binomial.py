"""Negative-binomial pieces (fibroskin.deseq2.negative_binomial) against pydeseq2 and SciPy."""

from __future__ import annotations

import numpy as np
from pydeseq2 import utils as pd_utils

from fibroskin.deseq2.negative_binomial import nb_nll_matrix, trigamma


def test_nb_nll_matches_pydeseq2():
    rng = np.random.default_rng(3)
    y = rng.poisson(30, size=(5, 7)).astype(float)
    mu = y.mean(1, keepdims=True).repeat(7, 1) + 0.5
    alpha = np.array([1e-3, 0.01, 0.1, 1.0, 5.0])
    expected = [pd_utils.nb_nll(y[i], mu[i], alpha[i]) for i in range(5)]
    np.testing.assert_allclose(nb_nll_matrix(y, mu, alpha), expected, rtol=1e-10)


def test_trigamma_matches_scipy():
    x = np.concatenate([np.logspace(-3, 9, 5000), np.arange(0.5, 60, 0.5)])
    np.testing.assert_allclose(trigamma(x), pd_utils.polygamma(1, x), rtol=5e-15)
