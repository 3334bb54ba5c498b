"""The vectorised pydeseq2 inference backend: every gene of a chunk is fitted at once.

:class:`VectorizedInference` implements the :class:`pydeseq2.inference.Inference`
interface with NumPy/SciPy array operations over genes instead of one SciPy optimiser
call per gene (which is what :class:`pydeseq2.default_inference.DefaultInference` does
through joblib). Each method hands one stage to its module (see :mod:`fibroskin.deseq2`).

Genes are processed in chunks of about 262,144 cells (:func:`~fibroskin.deseq2.arrays.
chunk_genes`: 131 genes of 2,000 samples, up to 16,384 genes of a few samples; or a fixed
``chunk_size``), so memory is bounded by a few chunk-sized arrays beside the caller's, and
the many temporaries of a dispersion search stay in the CPU's cache. With ``n_cpus`` above
one, chunks are fitted by that many threads (NumPy releases the interpreter lock in its
array loops). A gene's numbers never depend on the chunking or on the threads: the chunks
are the same for any ``n_cpus`` and each writes only its own genes, so results are
bit-identical whatever ``n_cpus`` says. Rare genes where IRLS diverges
(``|beta| > max_beta`` or ``maxiter`` reached) or the dispersion derivative is not finite
are handed to pydeseq2's own per-gene solvers, so their answers equal the stock backend's;
these are off the hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
from pydeseq2 import utils as pd_utils
from pydeseq2.inference import Inference

from fibroskin.deseq2.arrays import chunk_genes, each_chunk, gene_chunks
from fibroskin.deseq2.dispersion_optimum import minimise_log_dispersion
from fibroskin.deseq2.dispersion_trend import fit_gamma_identity_glm, stock_gamma_trend
from fibroskin.deseq2.genewise_dispersions import (
    linear_model_mu,
    r_genewise_dispersions,
    r_linear_model_mu,
    r_moments_dispersions,
    r_rough_dispersions,
    rough_dispersions,
)
from fibroskin.deseq2.irls import R_RIDGE, irls_chunk
from fibroskin.deseq2.map_dispersions import r_map_dispersions
from fibroskin.deseq2.nbinom_glm import fit_nbinom_glms
from fibroskin.deseq2.shrinkage import apeglm_map_chunk
from fibroskin.deseq2.wald import R_MIN_MU, wald_pvalues, wald_standard_errors

#: ``"exact"``: pydeseq2's estimators solved exactly; ``"r"``: R DESeq2's estimators.
InferenceMode = Literal["exact", "r"]


def _per_sample_and_gene(size_factors: np.ndarray) -> np.ndarray:
    """``(n,)`` size factors as a ``(n, 1)`` column, ``(n, genes)`` normalization factors as they are.

    Either divides and multiplies a ``(n, genes)`` count matrix element by element, so
    size factors give the same numbers as before normalization factors existed.
    """
    factors = np.asarray(size_factors, dtype=float)
    return factors if factors.ndim == 2 else factors[:, None]


class VectorizedInference(Inference):
    """pydeseq2 inference backend fitting all genes of a chunk simultaneously.

    Parameters
    ----------
    chunk_size : int, optional
        Genes per chunk; bounds memory to a few ``chunk_size x n_samples`` arrays.
        Default: :func:`~fibroskin.deseq2.arrays.chunk_genes` of the number of samples.
    n_cpus : int, optional
        Threads fitting chunks side by side (``DeseqDataSet``/``DeseqStats`` set it);
        results never depend on it.
    mode : {"exact", "r"}
        ``"exact"`` (default): pydeseq2's estimators solved exactly -- gene-wise and MAP
        dispersions are the optima of the loss to 1e-10 in ``log(alpha)``
        (:mod:`~fibroskin.deseq2.dispersion_optimum`), what pydeseq2's L-BFGS-B
        approximates. ``"r"``: R DESeq2's estimators. Dispersions by its Armijo line
        search with the ``dispTol = 1e-6`` stopping rule, "no increase" rule and grid
        fallback (:mod:`~fibroskin.deseq2.genewise_dispersions`,
        :mod:`~fibroskin.deseq2.map_dispersions`): R stops where the log posterior gains
        less than 1e-6 per step, which on flat posteriors is up to ~0.1 in
        ``log(alpha)`` from the optimum, and R's results are made of these estimates.
        IRLS and Wald test as R's ``fitBeta``: ridge ``1e-6`` on the log2 scale
        (``1e-6 / log(2)^2`` natural), no convergence test at the first iteration, and
        Wald weights from the mean bounded below by ``minmu = 0.5`` (pydeseq2 uses the
        unbounded mean, which inflates the SE of genes with an all-zero group by up to
        ~35%).
    """

    def __init__(
        self,
        chunk_size: int | None = None,
        n_cpus: int | None = None,
        mode: InferenceMode = "exact",
    ):
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if mode not in ("exact", "r"):
            raise ValueError(f"mode must be 'exact' or 'r', got {mode!r}")
        self.chunk_size = None if chunk_size is None else int(chunk_size)
        self._n_cpus = 1 if n_cpus is None else int(n_cpus)
        self.mode = mode

    @property
    def n_cpus(self) -> int:  # noqa: D102
        return self._n_cpus

    @n_cpus.setter
    def n_cpus(self, n_cpus: int | None) -> None:
        self._n_cpus = 1 if n_cpus is None else int(n_cpus)

    def _chunks(self, num_genes: int, num_samples: int) -> list[slice]:
        """The gene chunks of a stage (never dependent on ``n_cpus``)."""
        size = self.chunk_size if self.chunk_size is not None else chunk_genes(num_samples)
        return list(gene_chunks(num_genes, size))

    def _each_chunk(self, fit_chunk: Callable[[slice], None], chunks: list[slice]) -> None:
        """``fit_chunk(chunk)`` for every chunk, by ``n_cpus`` threads (:func:`~fibroskin.deseq2.arrays.each_chunk`)."""
        each_chunk(fit_chunk, chunks, self._n_cpus)

    # -- initial estimates ----------------------------------------------------------

    def lin_reg_mu(  # noqa: D102
        self,
        counts: np.ndarray,
        size_factors: np.ndarray,
        design_matrix: np.ndarray,
        min_mu: float,
    ) -> np.ndarray:
        factors = _per_sample_and_gene(size_factors)
        if self.mode == "r":
            # R's linearModelMuNormalized, bit for bit: the line search starts from R's mu;
            # gene by gene, so chunk by chunk into the one array it returns
            design_matrix = np.asarray(design_matrix, dtype=float)
            mu = np.empty(counts.shape)

            def fit_chunk(sl: slice) -> None:
                chunk_factors = factors[:, sl] if factors.shape[1] > 1 else factors
                normed = np.asarray(counts[:, sl], dtype=float) / chunk_factors
                fitted = r_linear_model_mu(normed.T, design_matrix)
                mu[:, sl] = np.maximum(fitted.T * chunk_factors, min_mu)

            self._each_chunk(fit_chunk, self._chunks(counts.shape[1], counts.shape[0]))
            return mu
        if np.ndim(size_factors) == 2:
            raise ValueError("normalization factors need mode='r' (R DESeq2's estimators)")
        return linear_model_mu(counts, size_factors, design_matrix, min_mu)

    def fit_rough_dispersions(  # noqa: D102
        self, normed_counts: np.ndarray, design_matrix: np.ndarray
    ) -> np.ndarray:
        if self.mode == "r":
            design_matrix = np.asarray(design_matrix, dtype=float)
            return self._per_gene(normed_counts, lambda chunk: r_rough_dispersions(chunk.T, design_matrix))
        return rough_dispersions(normed_counts, design_matrix)

    def fit_moments_dispersions(  # noqa: D102
        self, normed_counts: np.ndarray, size_factors: np.ndarray
    ) -> np.ndarray:
        if self.mode == "r":
            size_factors = np.asarray(size_factors)
            return self._per_gene(normed_counts, lambda chunk: r_moments_dispersions(chunk.T, size_factors))
        return pd_utils.fit_moments_dispersions(normed_counts, np.asarray(size_factors))

    def _per_gene(self, samples_by_genes: np.ndarray, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """``function`` (of a samples x genes float array, one value per gene) chunk by chunk."""
        num_samples, num_genes = samples_by_genes.shape
        out = np.empty(num_genes)

        def fit_chunk(sl: slice) -> None:
            out[sl] = function(np.asarray(samples_by_genes[:, sl], dtype=float))

        self._each_chunk(fit_chunk, self._chunks(num_genes, num_samples))
        return out

    # -- GLM coefficients -----------------------------------------------------------

    def irls(  # noqa: D102
        self,
        counts: np.ndarray,
        size_factors: np.ndarray,
        design_matrix: np.ndarray,
        disp: np.ndarray,
        min_mu: float,
        beta_tol: float,
        min_beta: float = -30,
        max_beta: float = 30,
        optimizer: Literal["BFGS", "L-BFGS-B"] = "L-BFGS-B",
        maxiter: int = 250,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        design_matrix = np.asarray(design_matrix, dtype=float)
        size_factors = np.asarray(size_factors, dtype=float)
        per_gene = size_factors.ndim == 2
        disp = np.asarray(disp, dtype=float)
        num_samples, num_genes = counts.shape
        num_coef = design_matrix.shape[1]
        beta = np.empty((num_genes, num_coef))
        mu = np.empty((num_samples, num_genes))
        hat = np.empty((num_samples, num_genes))
        converged = np.empty(num_genes, dtype=bool)
        r_rules = self.mode == "r"

        def fit_chunk(sl: slice) -> None:
            chunk_counts = np.asarray(counts[:, sl], dtype=float).T
            chunk_factors = size_factors[:, sl].T if per_gene else size_factors
            if r_rules:
                # R's fitNbinomGLMs (fitBeta and its optim fallback), bit for bit; each
                # gene's fit is its own, so chunks change nothing but memory
                fit = fit_nbinom_glms(chunk_counts, chunk_factors, design_matrix, disp[sl], min_mu=min_mu,
                                      chunk_size=sl.stop - sl.start)
                b, m, h, c = fit.beta_natural, fit.mu, fit.hat_diagonals, fit.converged
            else:
                b, m, h, c = irls_chunk(
                    chunk_counts, chunk_factors, design_matrix,
                    disp[sl], min_mu, beta_tol, max_beta, maxiter,
                )
            beta[sl], mu[:, sl], hat[:, sl], converged[sl] = b, m.T, h.T, c

        self._each_chunk(fit_chunk, self._chunks(num_genes, num_samples))
        if not r_rules:
            for gene in np.flatnonzero(~converged):
                # diverging IRLS: defer to pydeseq2's bounded optimiser + grid search
                beta[gene], mu[:, gene], hat[:, gene], converged[gene] = pd_utils.irls_solver(
                    counts=counts[:, gene], size_factors=size_factors[:, gene] if per_gene else size_factors,
                    design_matrix=design_matrix, disp=disp[gene], min_mu=min_mu,
                    beta_tol=beta_tol, min_beta=min_beta, max_beta=max_beta,
                    optimizer=optimizer, maxiter=maxiter,
                )
        return beta, mu, hat, converged

    # -- dispersions ----------------------------------------------------------------

    def alpha_mle(  # noqa: D102
        self,
        counts: np.ndarray,
        design_matrix: np.ndarray,
        mu: np.ndarray,
        alpha_hat: np.ndarray,
        min_disp: float,
        max_disp: float,
        prior_disp_var: float | None = None,
        cr_reg: bool = True,
        prior_reg: bool = False,
        optimizer: Literal["BFGS", "L-BFGS-B"] = "L-BFGS-B",
        genewise: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gene-wise (``prior_reg=False``) or MAP dispersions of every gene.

        pydeseq2's interface, plus ``genewise``: with ``mode="r"`` and
        ``prior_reg=True``, the gene-wise estimates that pick R's MAP starting point
        (gene-wise if above a tenth of the trend ``alpha_hat``, else the trend); without
        it the MAP search starts at the trend, as pydeseq2 does.
        """
        if prior_reg and prior_disp_var is None:
            raise ValueError("Sigma_prior is required for prior regularization")
        design_matrix = np.asarray(design_matrix, dtype=float)
        alpha_hat = np.asarray(alpha_hat, dtype=float)
        num_genes = counts.shape[1]
        if self.mode == "r" and cr_reg:
            return self._alpha_r(counts, design_matrix, mu, alpha_hat, min_disp, max_disp,
                                 prior_disp_var if prior_reg else None, genewise)
        log_alpha = np.empty(num_genes)
        ok = np.empty(num_genes, dtype=bool)
        def fit_chunk(sl: slice) -> None:
            log_start = np.log(alpha_hat[sl])
            log_alpha[sl], ok[sl] = minimise_log_dispersion(
                counts=np.asarray(counts[:, sl], dtype=float).T,
                mu=np.asarray(mu[:, sl], dtype=float).T,
                design_matrix=design_matrix,
                log_alpha_start=log_start,
                log_min_disp=np.log(min_disp),
                log_max_disp=np.log(max_disp),
                cr_reg=cr_reg,
                log_alpha_prior=log_start if prior_reg else None,
                prior_disp_var=prior_disp_var if prior_reg else None,
            )

        self._each_chunk(fit_chunk, self._chunks(num_genes, counts.shape[0]))
        alpha = np.exp(log_alpha)
        for gene in np.flatnonzero(~ok):
            alpha[gene], ok[gene] = pd_utils.fit_alpha_mle(
                counts=counts[:, gene], design_matrix=design_matrix, mu=mu[:, gene],
                alpha_hat=alpha_hat[gene], min_disp=min_disp, max_disp=max_disp,
                prior_disp_var=prior_disp_var, cr_reg=cr_reg, prior_reg=prior_reg,
                optimizer=optimizer,
            )
        return alpha, ok

    def _alpha_r(
        self,
        counts: np.ndarray,
        design_matrix: np.ndarray,
        mu: np.ndarray,
        alpha_hat: np.ndarray,
        min_disp: float,
        max_disp: float,
        prior_disp_var: float | None,
        genewise: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """R's gene-wise or MAP estimator, chunk by chunk (``mode="r"``)."""
        num_genes = counts.shape[1]
        alpha = np.empty(num_genes)
        def fit_chunk(sl: slice) -> None:
            c = np.asarray(counts[:, sl], dtype=float).T
            # R bounds the means of both searches below by minmu (estimateDispersionsGeneEst's
            # fitMu[fitMu < minmu] <- minmu); the GLM means of designs that are not one
            # group per coefficient arrive unbounded
            m = np.maximum(np.asarray(mu[:, sl], dtype=float).T, R_MIN_MU)
            if prior_disp_var is None:
                alpha[sl], _ = r_genewise_dispersions(c, m, design_matrix, alpha_hat[sl],
                                                      min_disp, max_disp)
            else:
                start = alpha_hat[sl] if genewise is None else np.asarray(genewise, float)[sl]
                alpha[sl], _ = r_map_dispersions(c, m, design_matrix, start, alpha_hat[sl],
                                                 prior_disp_var, min_disp, max_disp)

        self._each_chunk(fit_chunk, self._chunks(num_genes, counts.shape[0]))
        return alpha, np.isfinite(alpha)

    def dispersion_trend_gamma_glm(  # noqa: D102
        self, covariates: pd.Series, targets: pd.Series
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        x = np.column_stack([np.ones(len(covariates)), np.asarray(covariates, float)])
        y = np.asarray(targets, dtype=float)
        finite = np.isfinite(y) & np.isfinite(x).all(axis=1)
        coeffs = fit_gamma_identity_glm(x[finite], y[finite])
        if coeffs is None:
            return stock_gamma_trend(x, y)
        return coeffs, x @ coeffs, True

    # -- Wald test ------------------------------------------------------------------

    def wald_test(  # noqa: D102
        self,
        design_matrix: np.ndarray,
        disp: np.ndarray,
        lfc: np.ndarray,
        mu: np.ndarray,
        ridge_factor: np.ndarray,
        contrast: np.ndarray,
        lfc_null: np.ndarray,
        alt_hypothesis: (
            Literal["greaterAbs", "lessAbs", "greater", "less"] | None
        ) = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        design_matrix = np.asarray(design_matrix, dtype=float)
        contrast = np.asarray(contrast, dtype=float)
        lfc = np.asarray(lfc, dtype=float)
        disp = np.asarray(disp, dtype=float)
        num_genes = mu.shape[1]
        se = np.empty(num_genes)
        if self.mode == "r":
            # R's fitBeta: weights from the mean bounded below by minmu, and the ridge
            # lambda = 1e-6 on the log2 scale, i.e. 1e-6 / log(2)^2 on the natural scale
            ridge_factor = np.diag(np.full(design_matrix.shape[1], R_RIDGE))
        min_mu = R_MIN_MU if self.mode == "r" else None
        def fit_chunk(sl: slice) -> None:
            se[sl] = wald_standard_errors(design_matrix, disp[sl], np.asarray(mu[:, sl], dtype=float).T,
                                          ridge_factor, contrast, min_mu)

        self._each_chunk(fit_chunk, self._chunks(num_genes, mu.shape[0]))
        return wald_pvalues(lfc, se, contrast, float(lfc_null), alt_hypothesis)

    # -- apeglm shrinkage -----------------------------------------------------------

    def lfc_shrink_nbinom_glm(  # noqa: D102
        self,
        design_matrix: np.ndarray,
        counts: np.ndarray,
        size: np.ndarray,
        offset: np.ndarray,
        prior_no_shrink_scale: float,
        prior_scale: float,
        optimizer: str,
        shrink_index: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """apeglm MAPs (:func:`~fibroskin.deseq2.shrinkage.apeglm_map_chunk`).

        pydeseq2's interface; ``offset`` may also be ``(n, genes)`` (log normalization factors).
        """
        design_matrix = np.asarray(design_matrix, dtype=float)
        offset = np.asarray(offset, dtype=float)
        size = np.asarray(size, dtype=float)
        num_genes = counts.shape[1]
        num_coef = design_matrix.shape[1]
        beta = np.empty((num_genes, num_coef))
        inv_hess = np.empty((num_genes, num_coef, num_coef))
        converged = np.empty(num_genes, dtype=bool)
        def fit_chunk(sl: slice) -> None:
            beta[sl], inv_hess[sl], converged[sl] = apeglm_map_chunk(
                design_matrix, np.asarray(counts[:, sl], dtype=float).T, size[sl],
                offset[:, sl].T if offset.ndim == 2 else offset,
                prior_no_shrink_scale, float(prior_scale), shrink_index,
            )

        self._each_chunk(fit_chunk, self._chunks(num_genes, counts.shape[0]))
        return beta, inv_hess, converged
