"""R DESeq2's dispersion line search (C++ ``fitDisp``) and grid search (``fitDispGrid``).

Both the gene-wise step (:mod:`fibroskin.deseq2.genewise_dispersions`) and the MAP step
(:mod:`fibroskin.deseq2.map_dispersions`) maximise the Cox-Reid adjusted log posterior of
``log(alpha)`` with R's Armijo line search along the gradient, stopping where one
accepted step gains less than ``dispTol = 1e-6``; genes that do not converge go to R's
two-stage grid. R stops short of the optimum on flat posteriors (by up to ~0.1 in
``log(alpha)``), and R's results are made of those stops, so this module reproduces the
steps rather than the optimum (:mod:`fibroskin.deseq2.dispersion_optimum` finds the
optimum).

Near its stop the search compares log posteriors of thousands that differ by a few units
in the last place: whether a step is accepted, and so where the gene stops, depends on
the last bit of every term. The log posterior and its derivative are therefore evaluated
exactly as the C++ evaluates them -- R's ``lgammafn`` and ``digamma``, the C library's
``exp``/``log``/``pow`` (:mod:`fibroskin.deseq2.r_math`), sums over samples in order,
the Cox-Reid matrix in reference-BLAS order with Armadillo's 2 x 2 determinant and
inverse -- and no step uses BLAS or CPU-specific SIMD code. Given R's inputs, every
pasilla gene takes R's steps to the last bit (checked against DESeq2's own ``fitDisp``).
With three or more coefficients the determinant and inverse are NumPy's LU, which can
differ from R's LAPACK in the last bit (airway's five coefficients, given R's means:
every gene R's number of steps, estimates within 4e-11).
"""

from __future__ import annotations

import math

import numpy as np

from fibroskin.deseq2 import armadillo_linalg
from fibroskin.deseq2.r_math import c_exp, c_log, c_pow, digamma, lgammafn
from fibroskin.deseq2.r_stats import r_seq_length_out

# R DESeq2 defaults of estimateDispersionsGeneEst / estimateDispersionsMAP
R_KAPPA_0 = 1.0
R_DISP_TOL = 1e-6
R_DISP_MAXIT = 100
_R_ARMIJO_EPSILON = 1.0e-4
_R_GRID_SIZE = 20


def sequential_gram(design_matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``X^T diag(w) X`` for every gene, summed over samples in order as R's BLAS does.

    Armadillo evaluates DESeq2's ``x.t() * w * x`` as ``(x.t() * w) * x`` with the
    reference BLAS ``dgemm``, so entry ``(i, j)`` is ``sum_l x[l, j] * (x[l, i] * w[l])``
    accumulated over samples ``l`` in order. (OpenBLAS's blocked kernels sum in an order
    that depends on the CPU and on where the gene sits in its chunk.)

    Parameters
    ----------
    design_matrix : ndarray
        ``(n, p)``.
    weights : ndarray
        ``(genes, n)``.

    Returns
    -------
    ndarray
        ``(genes, p, p)``.
    """
    plan = GramPlan(design_matrix)
    return plan.gram(np.ascontiguousarray(np.asarray(weights, dtype=float).T))


class GramPlan:
    """How to form ``X^T diag(w) X`` of every gene, R's terms in R's order, with the least work.

    Entry ``(i, j)`` is ``sum_l x[l, j] * (x[l, i] * w[l])`` (:func:`sequential_gram`).
    When every entry of the design is 0 or 1 (intercept and factor indicators), that
    product is exactly ``(x[l, i] * x[l, j]) * w[l]``, signed zeros included, so the entry
    is the sum of ``w`` times a 0/1 column of samples: symmetric entries and entries with
    the same column are one sum, and the all-ones column (the intercept's) needs no
    product. Other designs take R's products for each of the ``p * p`` entries.
    """

    def __init__(self, design_matrix: np.ndarray) -> None:
        x = np.asarray(design_matrix, dtype=float)
        self.design = x
        self.num_coef = x.shape[1]
        self.indicator = bool(np.isin(x, (0.0, 1.0)).all())
        self.columns: list[np.ndarray | None] = []
        self.entry_column = np.empty((self.num_coef, self.num_coef), dtype=np.int64)
        if self.indicator:
            seen: dict[bytes, int] = {}
            for i in range(self.num_coef):
                for j in range(self.num_coef):
                    column = x[:, i] * x[:, j]
                    key = column.tobytes()
                    if key not in seen:
                        seen[key] = len(self.columns)
                        self.columns.append(None if (column == 1.0).all() else column[:, None])
                    self.entry_column[i, j] = seen[key]

    def gram(self, weights: np.ndarray) -> np.ndarray:
        """``(genes, p, p)`` from ``(n, genes)`` C-contiguous weights."""
        num_genes = weights.shape[1]
        gram = np.empty((num_genes, self.num_coef, self.num_coef))
        if self.indicator:
            sums = [sum_over_samples(weights if column is None else column * weights)
                    for column in self.columns]
            for i in range(self.num_coef):
                for j in range(self.num_coef):
                    gram[:, i, j] = sums[self.entry_column[i, j]]
            return gram
        x = self.design
        for i in range(self.num_coef):
            scaled = x[:, i, None] * weights
            for j in range(self.num_coef):
                gram[:, i, j] = sum_over_samples(x[:, j, None] * scaled)
        return gram


def _determinant(gram: np.ndarray) -> np.ndarray:
    """``det`` as Armadillo 12 computes it (:func:`fibroskin.deseq2.armadillo_linalg.det`)."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return armadillo_linalg.det(gram)


def _trace_of_inverse_times(gram: np.ndarray, d_gram: np.ndarray) -> np.ndarray:
    """``trace(b.i() * db)`` as DESeq2's C++ computes it with Armadillo 12 and reference LAPACK."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return armadillo_linalg.trace_of_product(armadillo_linalg.inv(gram), d_gram)


def sum_over_samples(terms: np.ndarray) -> np.ndarray:
    """Sums over the samples (axis 0 of ``(n, genes)``) from zero, one sample after another.

    Rcpp's ``sum`` and the reference BLAS both start from ``0`` and add the terms in
    order. NumPy reduces a C-contiguous array over its first axis one row at a time,
    adding row ``l`` to the running sums of all genes, so each gene's sum is accumulated
    in sample order (NumPy's pairwise summation applies only along the contiguous axis).
    With one gene, or another layout, the sums are accumulated explicitly. Adding ``0.0``
    at the end makes a sum of negative zeros ``+0.0``, as a sum started from ``0`` is, and
    changes no other value.
    """
    if terms.ndim == 2 and terms.shape[1] >= 2 and terms.flags.c_contiguous:
        total = np.add.reduce(terms, axis=0)
    else:
        total = np.add.accumulate(terms, axis=0)[-1]
    total += 0.0
    return total


class DistinctCounts:
    """Each gene's distinct counts, so ``f(y + 1/alpha)`` is evaluated once per distinct count.

    R evaluates ``lgamma(y + 1/alpha)`` and ``digamma(y + 1/alpha)`` for every sample;
    samples of a gene with the same count get the same value, so each distinct (gene,
    count) pair is evaluated once and the values are gathered back to the samples
    (``index``). Worth it when counts repeat: with hundreds of samples, or many zeros.

    Parameters
    ----------
    counts : ndarray
        ``(n, genes)`` counts.
    """

    def __init__(self, counts: np.ndarray) -> None:
        by_gene = np.ascontiguousarray(counts.T)
        num_genes, num_samples = by_gene.shape
        order = np.argsort(by_gene, axis=1, kind="stable")
        ordered = np.take_along_axis(by_gene, order, axis=1)
        first = np.ones(ordered.shape, dtype=bool)
        first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        self.per_gene = first.sum(axis=1)
        offsets = np.cumsum(self.per_gene) - self.per_gene
        self.values = ordered[first]
        self.gene = np.repeat(np.arange(num_genes), self.per_gene)
        position = (offsets[:, None] + np.cumsum(first, axis=1) - 1).astype(np.int64)
        index = np.empty_like(position)
        np.put_along_axis(index, order, position, axis=1)
        self.index = np.ascontiguousarray(index.T)
        self.num_samples = num_samples

    def worth_it(self, rows: np.ndarray, max_fraction: float) -> bool:
        """Whether the genes ``rows`` have at most ``max_fraction`` distinct counts per sample."""
        return self.per_gene[rows].sum() <= max_fraction * self.num_samples * rows.size

    def evaluate(self, function, rows: np.ndarray, alpha_neg1: np.ndarray, all_rows: bool) -> tuple[np.ndarray, np.ndarray]:
        """``function(counts + alpha_neg1)`` ``(n, len(rows))`` and ``function(alpha_neg1)``."""
        num_genes = self.per_gene.size
        if all_rows:
            values, genes = self.values, self.gene
            position = self.index
            offset = alpha_neg1
        else:
            chosen = np.zeros(num_genes, dtype=bool)
            chosen[rows] = True
            taken = np.flatnonzero(chosen[self.gene])
            values, genes = self.values[taken], self.gene[taken]
            offset = np.empty(num_genes)
            offset[rows] = alpha_neg1
            # positions among the taken entries: each taken gene's block moves up by the
            # entries of the genes before it that were not taken
            shift = np.cumsum(np.where(chosen, 0, self.per_gene))
            position = np.take(self.index, rows, axis=1) - shift[rows]
        arguments = np.concatenate([values + offset[genes], alpha_neg1])
        evaluated = function(arguments)
        return evaluated[position], evaluated[values.size:]


#: Largest fraction of distinct counts per sample at which each function is evaluated
#: per distinct count (:meth:`LogPosterior._at_counts`).
_DISTINCT_WORTH_IT = {lgammafn: 0.5, digamma: 0.85}


class LogPosterior:
    """R DESeq2's log posterior of ``log(alpha)`` and its derivative, for one chunk of genes.

    R's C++ ``log_posterior`` and ``dlog_posterior`` to the last bit: the same formula and
    operation order, R's ``lgammafn``/``digamma``, the C library's ``exp``/``log``/``pow``
    (:mod:`fibroskin.deseq2.r_math`), sums over samples in order, the Cox-Reid
    determinant from R's ``X^T W X`` (for designs of two coefficients the determinant and
    inverse are Armadillo's; with more, NumPy's LU can differ from R's LAPACK in the last
    bit). So the line search takes R's accept/stop decisions.

    What does not depend on ``alpha`` is prepared once: the arrays as samples x genes (so
    sums over samples run along the first axis, in order), ``1 / mu``, the design's Gram
    plan (:class:`GramPlan`) and each gene's distinct counts (:class:`DistinctCounts`).
    Each evaluation takes the genes ``rows`` still searching.

    Parameters
    ----------
    counts, mu : ndarray
        ``(genes, n)``.
    design_matrix : ndarray
        ``(n, p)``.
    log_alpha_prior_mean : ndarray, optional
        ``(genes,)``; with ``log_alpha_prior_sigmasq`` adds R's normal prior.
    log_alpha_prior_sigmasq : float, optional
        Prior variance.
    """

    def __init__(
        self,
        counts: np.ndarray,
        mu: np.ndarray,
        design_matrix: np.ndarray,
        log_alpha_prior_mean: np.ndarray | None = None,
        log_alpha_prior_sigmasq: float | None = None,
    ) -> None:
        self.counts = np.ascontiguousarray(np.asarray(counts, dtype=float).T)
        self.mu = np.ascontiguousarray(np.asarray(mu, dtype=float).T)
        with np.errstate(divide="ignore"):
            self.inverse_mu = 1.0 / self.mu
        self.plan = GramPlan(design_matrix)
        self.prior_mean = None if log_alpha_prior_mean is None else np.asarray(log_alpha_prior_mean, dtype=float)
        self.prior_sigmasq = log_alpha_prior_sigmasq
        self.distinct = DistinctCounts(self.counts)
        self.num_genes = self.counts.shape[1]

    def _columns(self, rows: np.ndarray) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray]:
        if rows.size == self.num_genes:  # rows are distinct and sorted: all genes
            return True, self.counts, self.mu, self.inverse_mu
        # np.take keeps samples x genes C-contiguous (arr[:, rows] would not)
        return (False, np.take(self.counts, rows, axis=1), np.take(self.mu, rows, axis=1),
                np.take(self.inverse_mu, rows, axis=1))

    def _at_counts(self, function, rows: np.ndarray, all_rows: bool, counts: np.ndarray,
                   alpha_neg1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``function(counts + 1/alpha)`` per sample and ``function(1/alpha)`` per gene.

        Per distinct count where that saves time: gathering the values back costs about
        what R's ``lgammafn`` costs on half the elements, or ``digamma`` on a sixth.
        """
        if self.distinct.worth_it(rows, _DISTINCT_WORTH_IT[function]):
            return self.distinct.evaluate(function, rows, alpha_neg1, all_rows)
        at_counts = counts + alpha_neg1
        evaluated = function(np.concatenate([at_counts.ravel(), alpha_neg1]))
        return evaluated[: at_counts.size].reshape(at_counts.shape), evaluated[at_counts.size:]

    def value(self, rows: np.ndarray, log_alpha: np.ndarray) -> np.ndarray:
        """R's ``log_posterior`` of the genes ``rows`` at ``log_alpha`` (``(len(rows),)``)."""
        all_rows, counts, mu, inverse_mu = self._columns(rows)
        alpha = c_exp(log_alpha)
        weights = inverse_mu + alpha
        np.divide(1.0, weights, out=weights)
        with np.errstate(divide="ignore", invalid="ignore"):
            cr_term = -0.5 * c_log(_determinant(self.plan.gram(weights)))
        alpha_neg1 = 1.0 / alpha
        lgamma_counts, lgamma_alpha = self._at_counts(lgammafn, rows, all_rows, counts, alpha_neg1)
        # lgamma(y + 1/a) - lgamma(1/a) - y log(mu + 1/a) - (1/a) log(1 + mu a), in R's order
        terms = lgamma_counts
        terms -= lgamma_alpha
        scratch = mu + alpha_neg1
        scratch = c_log(scratch)
        scratch *= counts
        terms -= scratch
        scratch = mu * alpha
        scratch += 1.0
        scratch = c_log(scratch)
        scratch *= alpha_neg1
        terms -= scratch
        ll_part = sum_over_samples(terms)
        prior_part = 0.0
        if self.prior_mean is not None:
            deviation = log_alpha - self.prior_mean[rows]
            prior_part = (-0.5 * (deviation * deviation)) / self.prior_sigmasq
        return (ll_part + prior_part) + cr_term

    def derivative(self, rows: np.ndarray, log_alpha: np.ndarray) -> np.ndarray:
        """R's ``dlog_posterior`` of the genes ``rows`` at ``log_alpha`` (``(len(rows),)``)."""
        all_rows, counts, mu, inverse_mu = self._columns(rows)
        alpha = c_exp(log_alpha)
        inverse_variance = inverse_mu + alpha
        weights = 1.0 / inverse_variance
        d_weights = c_pow(inverse_variance, -2)
        np.negative(d_weights, out=d_weights)  # -1.0 * pow(., -2)
        gram = self.plan.gram(weights)
        d_gram = self.plan.gram(d_weights)
        with np.errstate(divide="ignore", invalid="ignore"):
            det = _determinant(gram)
            cr_term = (-0.5 * (det * _trace_of_inverse_times(gram, d_gram))) / det
        alpha_neg1 = 1.0 / alpha
        alpha_neg2 = 1.0 / (alpha * alpha)
        digamma_counts, digamma_alpha = self._at_counts(digamma, rows, all_rows, counts, alpha_neg1)
        # digamma(1/a) + log(1 + mu a) - mu a / (1 + mu a) - digamma(y + 1/a) + y / (mu + 1/a)
        mu_alpha = mu * alpha
        one_plus = mu_alpha + 1.0
        terms = c_log(one_plus)
        terms += digamma_alpha  # R: digamma(1/a) + log(1 + mu a); addition commutes exactly
        one_plus = c_pow(one_plus, -1)
        one_plus *= mu_alpha
        terms -= one_plus
        terms -= digamma_counts
        scratch = mu + alpha_neg1
        scratch = c_pow(scratch, -1)
        scratch *= counts
        terms += scratch
        ll_part = alpha_neg2 * sum_over_samples(terms)
        prior_part = 0.0
        if self.prior_mean is not None:
            prior_part = (-1.0 * (log_alpha - self.prior_mean[rows])) / self.prior_sigmasq
        return (ll_part + cr_term) * alpha + prior_part


def r_log_posterior(
    log_alpha: np.ndarray,
    counts: np.ndarray,
    mu: np.ndarray,
    design_matrix: np.ndarray,
    log_alpha_prior_mean: np.ndarray | None = None,
    log_alpha_prior_sigmasq: float | None = None,
) -> np.ndarray:
    """Cox-Reid adjusted log posterior of ``log(alpha)``: R DESeq2's ``log_posterior``.

    :meth:`LogPosterior.value` of every gene (see :class:`LogPosterior`).

    Parameters
    ----------
    log_alpha : ndarray
        ``(genes,)``.
    counts, mu : ndarray
        ``(genes, n)``.
    design_matrix : ndarray
        ``(n, p)``.
    log_alpha_prior_mean : ndarray, optional
        ``(genes,)``; with ``log_alpha_prior_sigmasq`` adds R's normal prior.
    log_alpha_prior_sigmasq : float, optional
        Prior variance.

    Returns
    -------
    ndarray
        ``(genes,)`` log posteriors.
    """
    posterior = LogPosterior(counts, mu, design_matrix, log_alpha_prior_mean, log_alpha_prior_sigmasq)
    return posterior.value(np.arange(posterior.num_genes), np.asarray(log_alpha, dtype=float))


def r_dlog_posterior(
    log_alpha: np.ndarray,
    counts: np.ndarray,
    mu: np.ndarray,
    design_matrix: np.ndarray,
    log_alpha_prior_mean: np.ndarray | None = None,
    log_alpha_prior_sigmasq: float | None = None,
) -> np.ndarray:
    """Derivative of :func:`r_log_posterior` in ``log(alpha)``: R's ``dlog_posterior``.

    :meth:`LogPosterior.derivative` of every gene. Parameters and returns as
    :func:`r_log_posterior`.
    """
    posterior = LogPosterior(counts, mu, design_matrix, log_alpha_prior_mean, log_alpha_prior_sigmasq)
    return posterior.derivative(np.arange(posterior.num_genes), np.asarray(log_alpha, dtype=float))


def r_fit_disp(
    counts: np.ndarray,
    mu: np.ndarray,
    design_matrix: np.ndarray,
    log_alpha: np.ndarray,
    min_log_alpha: float,
    log_alpha_prior_mean: np.ndarray | None = None,
    log_alpha_prior_sigmasq: float | None = None,
    kappa_0: float = R_KAPPA_0,
    tol: float = R_DISP_TOL,
    maxit: int = R_DISP_MAXIT,
) -> dict[str, np.ndarray]:
    """R DESeq2's ``fitDisp``: Armijo line search along the gradient, all genes at once.

    Step ``kappa * dlp`` from ``log_alpha``; a step is accepted when the log posterior
    rises by at least ``1e-4 * kappa * dlp^2``; after an accepted step ``kappa`` grows by
    10% (capped at ``kappa_0``) and is halved every fifth acceptance; a rejected step
    halves ``kappa``. A gene stops when an accepted step raises the log posterior by
    less than ``tol``, when ``log(alpha)`` falls below ``min_log_alpha``, or after
    ``maxit`` proposals. ``log(alpha)`` is confined to ``[-30, 10]``. Every gene takes
    exactly the steps the C++ loop takes for it, to the last bit.

    Parameters
    ----------
    counts, mu : ndarray
        ``(genes, n)`` counts and fitted means.
    design_matrix : ndarray
        ``(n, p)``.
    log_alpha : ndarray
        ``(genes,)`` starting points.
    min_log_alpha : float
        ``log(minDisp / 10)``.
    log_alpha_prior_mean : ndarray, optional
        ``(genes,)`` prior means (MAP step); ``None`` for the gene-wise MLE.
    log_alpha_prior_sigmasq : float, optional
        Prior variance (MAP step).
    kappa_0, tol, maxit : float, float, int
        R's ``kappa_0``, ``dispTol`` and ``maxit``.

    Returns
    -------
    dict
        ``log_alpha``, ``iter``, ``iter_accept``, ``initial_lp``, ``last_lp``
        (``(genes,)`` arrays, as the C++ returns them).
    """
    posterior = LogPosterior(counts, mu, design_matrix, log_alpha_prior_mean, log_alpha_prior_sigmasq)
    lp_fn, dlp_fn = posterior.value, posterior.derivative

    num_genes = counts.shape[0]
    rows = np.arange(num_genes)
    a = np.asarray(log_alpha, dtype=float).copy()
    lp = lp_fn(rows, a)
    dlp = dlp_fn(rows, a)
    initial_lp = lp.copy()
    kappa = np.full(num_genes, float(kappa_0))
    iterations = np.zeros(num_genes, dtype=np.int64)
    accepted = np.zeros(num_genes, dtype=np.int64)
    active = np.ones(num_genes, dtype=bool)
    for _ in range(maxit):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        iterations[idx] += 1
        a_i, dlp_i, kappa_i, lp_i = a[idx], dlp[idx], kappa[idx], lp[idx]
        propose = a_i + kappa_i * dlp_i
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa_i = np.where(propose < -30.0, (-30.0 - a_i) / dlp_i, kappa_i)
            kappa_i = np.where(propose > 10.0, (10.0 - a_i) / dlp_i, kappa_i)
        step = a_i + kappa_i * dlp_i
        lp_new = lp_fn(idx, step)
        theta_kappa = -1.0 * lp_new
        theta_hat_kappa = -1.0 * lp_i - kappa_i * _R_ARMIJO_EPSILON * dlp_i**2
        accept = theta_kappa <= theta_hat_kappa
        # rejected: halve kappa
        kappa_i = np.where(accept, kappa_i, kappa_i / 2.0)
        acc = np.flatnonzero(accept)
        if acc.size:
            genes = idx[acc]
            accepted[genes] += 1
            a[genes] = step[acc]
            change = lp_new[acc] - lp_i[acc]
            small_change = change < tol
            lp[genes[small_change]] = lp_new[acc][small_change]
            below = ~small_change & (step[acc] < min_log_alpha)
            active[genes[small_change | below]] = False
            go = ~small_change & ~below
            genes_go = genes[go]
            lp[genes_go] = lp_new[acc][go]
            if genes_go.size:
                dlp[genes_go] = dlp_fn(genes_go, a[genes_go])
            k_go = np.fmin(kappa_i[acc][go] * 1.1, kappa_0)
            k_go = np.where(accepted[genes_go] % 5 == 0, k_go / 2.0, k_go)
            kappa_i[acc[go]] = k_go
        kappa[idx] = kappa_i
    return {"log_alpha": a, "iter": iterations, "iter_accept": accepted,
            "initial_lp": initial_lp, "last_lp": lp}


def r_fit_disp_grid(
    counts: np.ndarray,
    mu: np.ndarray,
    design_matrix: np.ndarray,
    log_alpha_prior_mean: np.ndarray | None = None,
    log_alpha_prior_sigmasq: float | None = None,
) -> np.ndarray:
    """R DESeq2's ``fitDispGridWrapper``: coarse then fine grid search of ``log(alpha)``.

    20 points from ``log(1e-8)`` to ``log(max(10, n))``, then 20 points spanning one
    coarse step either side of the best (first maximum, as Armadillo's
    ``index_max``).

    Parameters
    ----------
    counts, mu : ndarray
        ``(genes, n)``.
    design_matrix : ndarray
        ``(n, p)``.
    log_alpha_prior_mean, log_alpha_prior_sigmasq : optional
        Prior of the MAP step.

    Returns
    -------
    ndarray
        ``(genes,)`` dispersions (not logs).
    """
    design_matrix = np.asarray(design_matrix, dtype=float)
    num_genes, num_samples = counts.shape

    grid = r_seq_length_out(math.log(1e-8), math.log(max(10, num_samples)), _R_GRID_SIZE)
    delta = grid[1] - grid[0]

    posterior = LogPosterior(counts, mu, design_matrix, log_alpha_prior_mean, log_alpha_prior_sigmasq)
    rows = np.arange(num_genes)

    def best(points: np.ndarray) -> np.ndarray:
        values = np.column_stack([posterior.value(rows, points[:, t]) for t in range(points.shape[1])])
        values = np.where(np.isnan(values), -np.inf, values)
        return points[np.arange(num_genes), np.argmax(values, axis=1)]

    a_hat = best(np.tile(grid, (num_genes, 1)))
    # arma::linspace(start, end, n): start + i * (end - start) / (n - 1)
    steps = np.arange(_R_GRID_SIZE) * ((2 * delta) / (_R_GRID_SIZE - 1))
    fine = (a_hat - delta)[:, None] + steps[None, :]
    fine[:, -1] = a_hat + delta
    return c_exp(best(fine))
