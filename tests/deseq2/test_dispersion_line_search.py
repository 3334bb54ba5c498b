"""R's dispersion line search (fibroskin.deseq2.dispersion_line_search) against a literal port of fitDisp."""

from __future__ import annotations

import numpy as np

from fibroskin.deseq2.dispersion_line_search import r_dlog_posterior, r_fit_disp, r_log_posterior

DESIGN = np.array([[1, 0], [1, 0], [1, 0], [1, 1], [1, 1], [1, 1]], dtype=float)


def test_r_fit_disp_matches_scalar_port_of_the_cpp():
    """The vectorised line search takes the same steps as a literal port of fitDisp."""
    rng = np.random.default_rng(5)
    counts = rng.negative_binomial(3, 0.05, size=(40, 6)).astype(float)
    counts[:5] = rng.poisson(20, size=(5, 6))  # near-Poisson genes walk to the floor
    mu = np.repeat(counts.reshape(40, 2, 3).mean(2), 3, axis=1) + 0.5
    start = np.log(np.full(40, 0.2))
    min_log_alpha = np.log(1e-9)
    fit = r_fit_disp(counts, mu, DESIGN, start, min_log_alpha)

    def lp(g, a):
        return r_log_posterior(np.array([a]), counts[g:g + 1], mu[g:g + 1], DESIGN)[0]

    def dlp(g, a):
        return r_dlog_posterior(np.array([a]), counts[g:g + 1], mu[g:g + 1], DESIGN)[0]

    for g in range(40):
        a, kappa, accepted, iterations = start[g], 1.0, 0, 0
        cur_lp, cur_dlp = lp(g, a), dlp(g, a)
        for _ in range(100):
            iterations += 1
            propose = a + kappa * cur_dlp
            if propose < -30.0:
                kappa = (-30.0 - a) / cur_dlp
            if propose > 10.0:
                kappa = (10.0 - a) / cur_dlp
            theta_kappa = -lp(g, a + kappa * cur_dlp)
            if theta_kappa <= -cur_lp - kappa * 1e-4 * cur_dlp**2:
                accepted += 1
                a = a + kappa * cur_dlp
                new_lp = lp(g, a)
                if new_lp - cur_lp < 1e-6:
                    cur_lp = new_lp
                    break
                if a < min_log_alpha:
                    break
                cur_lp, cur_dlp = new_lp, dlp(g, a)
                kappa = min(kappa * 1.1, 1.0)
                if accepted % 5 == 0:
                    kappa /= 2
            else:
                kappa /= 2
        assert fit["iter"][g] == iterations and fit["iter_accept"][g] == accepted
        # every gene's arithmetic is its own (no BLAS, sums in sample order): bit for bit
        assert fit["log_alpha"][g] == a
        assert fit["last_lp"][g] == cur_lp
