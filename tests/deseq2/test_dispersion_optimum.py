"""Exact dispersion optimum (fibroskin.deseq2.dispersion_optimum, ``mode="exact"``) against a grid and stock."""

from __future__ import annotations

import numpy as np
from pydeseq2 import utils as pd_utils
from pydeseq2.default_inference import DefaultInference

from fibroskin.deseq2.dispersion_optimum import dispersion_objective, minimise_log_dispersion
from fibroskin.deseq2.inference import VectorizedInference

from pasilla_data import pasilla_subset

DESIGN = np.array([[1, 0], [1, 0], [1, 0], [1, 1], [1, 1], [1, 1]], dtype=float)


def test_dispersion_mle_matches_brute_force_grid():
    rng = np.random.default_rng(2)
    counts = rng.negative_binomial(4, 0.04, size=(6, 30)).astype(float).T
    mu = np.repeat(counts.reshape(30, 2, 3).mean(2), 3, axis=1) + 0.1
    grid = np.linspace(np.log(1e-8), np.log(10), 40001)
    log_alpha, ok = minimise_log_dispersion(
        counts, mu, DESIGN, np.log(np.full(30, 0.05)), np.log(1e-8), np.log(10)
    )
    assert ok.all()
    for g in range(30):
        # CR-adjusted loss of pydeseq2 on a fine grid
        loss = [
            pd_utils.nb_nll(counts[g], mu[g], np.exp(a))
            + 0.5 * np.linalg.slogdet(
                (DESIGN.T * (mu[g] / (1 + mu[g] * np.exp(a)))) @ DESIGN)[1]
            for a in grid[::40]
        ]
        coarse = grid[::40][int(np.argmin(loss))]
        assert abs(log_alpha[g] - coarse) <= 2 * (grid[40] - grid[0])


def test_alpha_matches_stock_where_stock_converges():
    x, design, sf = pasilla_subset()
    disp = np.full(x.shape[1], 0.05)
    _, mu_f, _, _ = VectorizedInference().irls(x, sf, design, disp, 0.5, 1e-8)
    a_f, _ = VectorizedInference().alpha_mle(x, design, mu_f, disp, 1e-8, 10.0)
    a_s, conv = DefaultInference(n_cpus=1).alpha_mle(x, design, mu_f, disp, 1e-8, 10.0)
    # away from the flat near-Poisson region both optimisers reach the same optimum;
    # L-BFGS-B's relative-reduction stop (ftol 2.2e-9) leaves a few genes up to ~3e-3
    # short in log(alpha) where the loss is flat, this backend polishes to 1e-10
    interior = conv & (a_s > 1e-4)
    dlog = np.abs(np.log(a_f[interior]) - np.log(a_s[interior]))
    assert np.quantile(dlog, 0.99) <= 1e-4
    # where they differ more (measured up to 0.02 on this subset), this backend's
    # estimate has the lower loss: L-BFGS-B stopped short, not this backend
    far = np.flatnonzero(interior)[dlog > 5e-3]
    loss = [dispersion_objective(np.log(a[far]), x[:, far].T, mu_f[:, far].T, design, True, None, None)
            for a in (a_f, a_s)]
    assert (loss[0] <= loss[1] + 1e-9 * np.abs(loss[1])).all()
