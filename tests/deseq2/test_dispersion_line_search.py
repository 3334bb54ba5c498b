"""R's dispersion line search (fibroskin.deseq2.dispersion_line_search) against a literal port of fitDisp."""

from __future__ import annotations

import numpy as np

from fibroskin.deseq2.dispersion_line_search import (
    DistinctCounts,
    GramPlan,
    LogPosterior,
    r_dlog_posterior,
    r_fit_disp,
    r_log_posterior,
    sum_over_samples,
)
from fibroskin.deseq2.r_math import lgammafn

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


def test_sums_over_samples_are_in_sample_order():
    """Each gene's sum adds its samples one after another (R's loop), never pairwise."""
    rng = np.random.default_rng(11)
    for num_samples, num_genes in ((3, 1), (40, 1), (40, 2), (257, 3), (1000, 64)):
        terms = rng.normal(size=(num_samples, num_genes)) * 10.0 ** rng.integers(-8, 8, size=(num_samples, 1))
        expected = np.zeros(num_genes)  # Rcpp's sum: from 0, in order
        for row in terms:
            expected = expected + row
        np.testing.assert_array_equal(sum_over_samples(terms), expected)
        # a layout that is not samples x genes in C order is summed in order too
        np.testing.assert_array_equal(sum_over_samples(np.asfortranarray(terms)), expected)
    # a sum of negative zeros is +0.0, as R's
    assert not np.signbit(sum_over_samples(np.full((5, 3), -0.0))).any()
    assert not np.signbit(sum_over_samples(np.full((5, 1), -0.0))).any()
    # (the check has teeth: NumPy's pairwise sum along the contiguous axis gives other bits)
    terms = rng.normal(size=(1000, 64))
    in_order = np.zeros(64)
    for row in terms:
        in_order = in_order + row
    assert not np.array_equal(np.add.reduce(np.ascontiguousarray(terms.T), axis=1), in_order)


def test_gram_plan_takes_rs_products():
    """Indicator designs: one sum per distinct 0/1 column equals R's x_j * (x_i * w), signed zeros included."""
    rng = np.random.default_rng(12)
    n = 9
    group = np.arange(n) % 3
    designs = [
        np.column_stack([np.ones(n), group == 1, group == 2]).astype(float),
        np.column_stack([np.ones(n), np.arange(n) % 2]).astype(float),
        np.column_stack([np.ones(n), rng.normal(size=n)]),
    ]
    for design in designs:
        for weights in (rng.gamma(2.0, 3.0, size=(n, 50)), -rng.gamma(2.0, 3.0, size=(n, 50))):
            expected = np.empty((50, design.shape[1], design.shape[1]))
            for i in range(design.shape[1]):
                for j in range(design.shape[1]):
                    products = design[:, j, None] * (design[:, i, None] * weights)
                    total = np.zeros(50)  # the reference BLAS dgemm: C = 0, then C += ... in order
                    for row in products:
                        total = total + row
                    expected[:, i, j] = total
            ours = GramPlan(design).gram(np.ascontiguousarray(weights))
            np.testing.assert_array_equal(ours, expected)
            np.testing.assert_array_equal(np.signbit(ours), np.signbit(expected))


def test_distinct_counts_give_each_samples_value():
    """Evaluating per distinct (gene, count) and gathering back equals evaluating every sample."""
    rng = np.random.default_rng(13)
    counts = rng.poisson(rng.gamma(1.0, 4.0, size=(1, 30)), size=(200, 30)).astype(float)
    counts[:, 3] = 7.0  # a gene with a single distinct count
    distinct = DistinctCounts(counts)
    assert distinct.per_gene[3] == 1
    alpha_neg1 = rng.uniform(0.5, 200.0, size=30)
    for rows in (np.arange(30), np.array([0, 3, 4, 17, 29]), np.array([5])):
        at_counts, at_alpha = distinct.evaluate(lgammafn, rows, alpha_neg1[rows], rows.size == 30)
        np.testing.assert_array_equal(at_counts, lgammafn(counts[:, rows] + alpha_neg1[rows]))
        np.testing.assert_array_equal(at_alpha, lgammafn(alpha_neg1[rows]))


def test_log_posterior_does_not_depend_on_the_other_genes():
    """A gene's log posterior and derivative are the same alone, in any subset, with or without distinct counts."""
    rng = np.random.default_rng(14)
    n = 400  # many repeated counts: the distinct-count path
    counts = rng.negative_binomial(2, 0.2, size=(30, n)).astype(float)
    mu = np.repeat(counts.reshape(30, 2, n // 2).mean(2), n // 2, axis=1) + 0.5
    design = np.column_stack([np.ones(n), np.repeat([0.0, 1.0], n // 2)])
    log_alpha = rng.uniform(-6, 1, size=30)
    posterior = LogPosterior(counts, mu, design, np.full(30, -2.0), 0.5)
    everything = posterior.value(np.arange(30), log_alpha), posterior.derivative(np.arange(30), log_alpha)
    rows = np.array([2, 11, 29])
    some = posterior.value(rows, log_alpha[rows]), posterior.derivative(rows, log_alpha[rows])
    for whole, part in zip(everything, some):
        np.testing.assert_array_equal(whole[rows], part)
    for g in rows:
        alone = LogPosterior(counts[g:g + 1], mu[g:g + 1], design, np.full(1, -2.0), 0.5)
        assert alone.value(np.arange(1), log_alpha[g:g + 1])[0] == everything[0][g]
        assert alone.derivative(np.arange(1), log_alpha[g:g + 1])[0] == everything[1][g]
