"""The data set: pydeseq2's ``DeseqDataSet`` running R DESeq2's stages (``FastDeseqDataSet``).

``DeseqDataSet.deseq2()`` runs the stages of R's ``DESeq()`` in order; this subclass
routes them to :mod:`fibroskin.deseq2`'s modules: a :class:`~fibroskin.deseq2.inference.
VectorizedInference` backend by default, the trend of
:mod:`~fibroskin.deseq2.dispersion_trend` (without pydeseq2's per-gene pandas loop, which
takes seconds for 20,000 genes, more than all vectorised fits together), the prior of
:mod:`~fibroskin.deseq2.dispersion_prior`, the MAP start and dispersion outliers of
:mod:`~fibroskin.deseq2.map_dispersions`, and the Cook's refit of
:mod:`~fibroskin.deseq2.cooks`.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd
from pydeseq2.dds import DeseqDataSet
from pydeseq2.preprocessing import deseq2_norm_fit

from fibroskin.deseq2.arrays import chunk_genes, each_chunk, gene_chunks
from fibroskin.deseq2.cooks import r_cooks_distances, r_max_cooks, r_refit_without_outliers, refit_without_outliers
from fibroskin.deseq2.dispersion_prior import r_dispersion_prior_variance
from fibroskin.deseq2.dispersion_trend import pydeseq2_trend_keep, r_parametric_dispersion_fit
from fibroskin.deseq2.inference import InferenceMode, VectorizedInference
from fibroskin.deseq2.map_dispersions import dispersion_outliers
from fibroskin.deseq2.nbinom_glm import fit_nbinom_glms
from fibroskin.deseq2.r_stats import r_row_means
from fibroskin.deseq2.size_factors import geometric_mean_factors, r_normalization_factors, r_size_factors

def _norm_fit_by_blocks(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pydeseq2's ``deseq2_norm_fit`` (each gene's mean log count), a block of genes at a time.

    Each block's logs are laid out as pydeseq2's are (NumPy keeps the counts' memory
    order), so every gene's mean is summed in the same order: the same numbers without
    a samples x genes float copy.
    """
    num_samples, num_genes = counts.shape
    logmeans = np.empty(num_genes)
    block = max(2, 2**18 // max(1, num_samples))
    starts = list(range(0, num_genes, block))
    if len(starts) > 1 and num_genes - starts[-1] == 1:
        starts.pop()  # a block of one gene would be summed pairwise: it joins the one before
    with np.errstate(divide="ignore"):
        for start, end in zip(starts, starts[1:] + [num_genes]):
            genes = slice(start, end)
            logmeans[genes] = np.log(np.asarray(counts[:, genes], dtype=float)).mean(0)
    return logmeans, ~np.isinf(logmeans)


#: ``"pydeseq2"``: pydeseq2's trend fit; ``"r"``: R DESeq2's dispersion scheme.
TrendScheme = Literal["pydeseq2", "r"]


class FastDeseqDataSet(DeseqDataSet):
    """``DeseqDataSet`` defaulting to :class:`VectorizedInference`, with a fast trend fit.

    pydeseq2's ``_fit_parametric_dispersion_trend`` loops over genes with pandas
    ``.loc`` look-ups (seconds for 20,000 genes, more than all vectorised fits
    together); this override does the same work with array masks.

    Parameters
    ----------
    trend_scheme : {"pydeseq2", "r"}
        ``"pydeseq2"`` (default) reproduces pydeseq2's trend fit exactly;
        ``"r"`` is R DESeq2's dispersion scheme: R's ``parametricDispersionFit`` (see
        :func:`~fibroskin.deseq2.dispersion_trend.r_parametric_dispersion_fit`), R's
        prior variance, R's MAP starting point, and by default a
        ``VectorizedInference(mode="r")`` backend; with
        :class:`~fibroskin.deseq2.results.RFaithfulDeseqStats` this gives R's results.
        Where R would fall back to a local-regression trend, both schemes fall back to
        pydeseq2's mean trend (departure from R, with a warning).
    **kwargs
        Passed to :class:`pydeseq2.dds.DeseqDataSet`; ``inference`` defaults to a new
        :class:`VectorizedInference` (``mode="r"`` with ``trend_scheme="r"``, else
        ``"exact"``).
    average_lengths : pandas.DataFrame or ndarray, optional
        Average transcript lengths, samples x genes (a DataFrame is aligned to the counts by
        sample and gene names): R's ``avgTxLength`` assay (``DESeqDataSetFromTximport``).
        The size factors step then computes R's per-gene, per-sample normalization factors
        (:func:`~fibroskin.deseq2.size_factors.r_normalization_factors`, layer
        ``"normalization_factors"``), and every stage uses them where R uses
        ``normalizationFactors``: normalized counts and baseMean, the moments and linear-model
        starting values of the gene-wise dispersions, IRLS, Wald test, Cook's replacement
        and refit, apeglm's offsets and the VST. ``obs["size_factors"]`` then holds each
        sample's geometric mean of its factors
        (:func:`~fibroskin.deseq2.size_factors.geometric_mean_factors`); R has no size
        factors there. Needs ``trend_scheme="r"``.
    """

    def __init__(self, *, trend_scheme: TrendScheme = "pydeseq2",
                 average_lengths: pd.DataFrame | np.ndarray | None = None, **kwargs) -> None:
        if trend_scheme not in ("pydeseq2", "r"):
            raise ValueError(f"trend_scheme must be 'pydeseq2' or 'r', got {trend_scheme!r}")
        if average_lengths is not None and trend_scheme != "r":
            raise ValueError("average_lengths (length offsets) need trend_scheme='r'")
        if kwargs.get("inference") is None:
            solver: InferenceMode = "r" if trend_scheme == "r" else "exact"
            kwargs["inference"] = VectorizedInference(mode=solver)
        super().__init__(**kwargs)
        self.trend_scheme = trend_scheme
        if average_lengths is not None:
            if isinstance(average_lengths, pd.DataFrame):
                average_lengths = average_lengths.loc[self.obs_names, self.var_names].to_numpy(dtype=float)
            lengths = np.asarray(average_lengths, dtype=float)
            if lengths.shape != self.X.shape:
                raise ValueError(f"average_lengths have shape {lengths.shape}, the counts {self.X.shape}")
            self.layers["average_lengths"] = lengths

    @property
    def normalization_factors(self) -> np.ndarray | None:
        """R's ``normalizationFactors`` (samples x genes) once fitted from lengths, else ``None``."""
        return self.layers["normalization_factors"] if "normalization_factors" in self.layers else None

    def fit_size_factors(self, fit_type=None, control_genes=None) -> None:
        """pydeseq2's size factors; with ``trend_scheme="r"`` R's median of ratios, bit for bit.

        For ``fit_type="ratio"`` without control genes the size factors, normalised counts
        and baseMean are R's (:func:`fibroskin.deseq2.size_factors.r_size_factors`, R's
        ``rowMeans``); other types and control genes go to pydeseq2.
        """
        fit_type = fit_type if fit_type is not None else self.size_factors_fit_type
        if control_genes is None:
            control_genes = getattr(self, "control_genes", None)
        if "average_lengths" in self.layers:
            if fit_type != "ratio" or control_genes is not None:
                raise ValueError("length offsets take R's median-of-ratios factors, without control genes")
            self._fit_normalization_factors(np.asarray(self.X, dtype=float))
            return
        if (
            getattr(self, "trend_scheme", "pydeseq2") != "r"
            or fit_type != "ratio"
            or control_genes is not None
            or (self.X == 0).any(axis=0).all()
        ):
            super().fit_size_factors(fit_type=fit_type, control_genes=control_genes)
            return
        # without a samples x genes float copy of the counts: their logs a block at a time
        self.logmeans, self.filtered_genes = _norm_fit_by_blocks(self.X)
        size_factors = r_size_factors(self.X)
        self.obs["size_factors"] = size_factors
        self.layers["normed_counts"] = self.X / size_factors[:, None]
        self.var["_normed_means"] = r_row_means(self.layers["normed_counts"].T)

    def _fit_normalization_factors(self, counts: np.ndarray) -> None:
        """R's ``estimateSizeFactors`` with an ``avgTxLength`` assay: normalization factors."""
        # pydeseq2 keeps these for transforming new counts (vst_transform(counts))
        self.logmeans, self.filtered_genes = deseq2_norm_fit(counts)
        factors = r_normalization_factors(counts, self.layers["average_lengths"])
        self.layers["normalization_factors"] = factors
        self.obs["size_factors"] = geometric_mean_factors(factors)
        self.layers["normed_counts"] = counts / factors
        self.var["_normed_means"] = r_row_means(self.layers["normed_counts"].T)

    def _set_non_zero(self) -> np.ndarray:
        """pydeseq2's bookkeeping of the genes with a count; ``non_zero_idx`` a slice when all have one.

        After the workflow's prefilter every gene has counts, and ``X[:, non_zero_idx]``
        (pydeseq2 writes it at every stage) is then a view of the counts instead of a copy:
        one samples x genes array less at each stage.
        """
        non_zero = ~(self.X == 0).all(axis=0)
        self.var["non_zero"] = non_zero
        self.non_zero_idx = slice(None) if non_zero.all() else np.flatnonzero(non_zero)
        self.non_zero_genes = self.var_names[non_zero]
        return np.asarray(non_zero)

    def fit_genewise_dispersions(self, vst: bool = False) -> None:
        """pydeseq2's gene-wise step, without copies of the counts; with normalization factors, R's use of them.

        With ``trend_scheme="r"``: ``DeseqDataSet.fit_genewise_dispersions``'s arithmetic
        (the method-of-moments start, the starting means ``linearModelMu`` or, for designs
        that are not one factor, IRLS, then the line search), on views of the counts when
        every gene has counts (:meth:`_set_non_zero`), the means stored once. With
        normalization factors (R's ``estimateDispersionsGeneEst`` on a data set with
        ``normalizationFactors``): the rough estimate on ``counts / nf``, the moments
        estimate with ``mean(1 / colMeans(nf))`` in place of ``mean(1 / sizeFactors)``
        (``momentsDispEstimate``), and the starting means ``linearModelMu(counts / nf) * nf``
        (``linearModelMuNormalized``) or, for designs that are not one factor, IRLS with
        ``nf``; the line search itself takes only the counts and those means.
        """
        if "size_factors" not in self.obs:
            self.fit_size_factors(fit_type=self.size_factors_fit_type)
        factors = self.normalization_factors
        if factors is None and getattr(self, "trend_scheme", "pydeseq2") != "r":
            super().fit_genewise_dispersions(vst)
            return
        non_zero = self._set_non_zero()
        columns = self.non_zero_idx
        design = self.obsm["design_matrix"]
        design_matrix = design.values
        normed_counts = self.layers["normed_counts"][:, columns]
        rough = self.inference.fit_rough_dispersions(normed_counts, design_matrix)
        if factors is None:
            scale = self.obs["size_factors"].values
            moments = self.inference.fit_moments_dispersions(normed_counts, scale)
        else:
            scale = factors[:, columns]
            # momentsDispEstimate's xim = mean(1 / colMeans(nf)): R's colMeans are these rowMeans
            moments = self.inference.fit_moments_dispersions(normed_counts, r_row_means(scale))
        del normed_counts
        self.var["_MoM_dispersions"] = np.full(self.n_vars, np.nan)
        self.var.loc[non_zero, "_MoM_dispersions"] = np.clip(np.minimum(rough, moments), self.min_disp, self.max_disp)
        start = self.var.loc[non_zero, "_MoM_dispersions"].values
        counts = self.X[:, columns]
        if len(design.value_counts()) == design.shape[-1]:
            mu_hat = self.inference.lin_reg_mu(counts=counts, size_factors=scale,
                                               design_matrix=design_matrix, min_mu=self.min_mu)
        else:
            _, mu_hat, _, _ = self.inference.irls(counts=counts, size_factors=scale, design_matrix=design_matrix,
                                                  disp=start, min_mu=self.min_mu, beta_tol=self.beta_tol)
        mu_name = "_vst_mu_hat" if vst else "_mu_hat"
        disp_name = "vst_genewise_dispersions" if vst else "genewise_dispersions"
        if non_zero.all():
            self.layers[mu_name] = mu_hat
        else:
            self.layers[mu_name] = np.full((self.n_obs, self.n_vars), np.nan)
            self.layers[mu_name][:, non_zero] = mu_hat
        del mu_hat
        dispersions, converged = self.inference.alpha_mle(
            counts=counts, design_matrix=design_matrix, mu=self.layers[mu_name][:, columns],
            alpha_hat=start, min_disp=self.min_disp, max_disp=self.max_disp,
        )
        self.var[disp_name] = np.full(self.n_vars, np.nan)
        self.var.loc[non_zero, disp_name] = np.clip(dispersions, self.min_disp, self.max_disp)
        self.var["_genewise_converged"] = pd.array([pd.NA] * self.n_vars, dtype="boolean")
        self.var.loc[non_zero, "_genewise_converged"] = converged

    def contrast(self, column: str, baseline: str, group_to_compare: str) -> np.ndarray:
        """The contrast vector of ``group_to_compare`` vs ``baseline`` of ``column`` (pydeseq2's interface).

        For a design given as R's model matrix (:func:`fibroskin.rnaseq.fit_deseq`), the
        vector over its coefficients as R's ``results(contrast = c(column, group, baseline))``
        forms it (:func:`fibroskin.deseq2.contrasts.resolve_contrast`); for a formula,
        pydeseq2's.
        """
        if isinstance(self.design, str):
            return super().contrast(column=column, baseline=baseline, group_to_compare=group_to_compare)
        from fibroskin.deseq2.contrasts import ContrastSpec, resolve_contrast

        info = self.uns.get("fibroskin", {})
        resolved = resolve_contrast(ContrastSpec.levels(column, group_to_compare, baseline),
                                    self.obsm["design_matrix"], self.obs, np.zeros((0, self.n_obs)),
                                    info.get("design", ""), bool(info.get("user_supplied", False)))
        return resolved.vector

    def _r_scheme(self) -> bool:
        return getattr(self, "trend_scheme", "pydeseq2") == "r"

    def _gene_factors(self, genes: np.ndarray | slice = slice(None)) -> np.ndarray:
        """``(genes, n)`` size or normalization factors of ``genes`` (R's ``getSizeOrNormFactors``)."""
        factors = self.normalization_factors
        if factors is None:
            factors = np.broadcast_to(self.obs["size_factors"].to_numpy(float)[:, None], self.X.shape)
        return np.asarray(factors, dtype=float)[:, genes].T

    def fit_LFC(self) -> None:
        """pydeseq2's LFC fit; with ``trend_scheme="r"`` R's ``nbinomWaldTest`` GLM fit.

        R's ``fitNbinomGLMs`` (:func:`fibroskin.deseq2.nbinom_glm.fit_nbinom_glms`) at the
        final dispersions, with the size or normalization factors: coefficients, R's fitted
        means (for Cook's distances) and leverages.
        """
        if not self._r_scheme():
            super().fit_LFC()
            return
        if "dispersions" not in self.var:
            self.fit_MAP_dispersions()
        non_zero = self.var["non_zero"].to_numpy()
        design = self.obsm["design_matrix"]
        design_values = design.to_numpy(float)
        genes = np.flatnonzero(non_zero)
        alpha = self.var.loc[non_zero, "dispersions"].to_numpy(float)
        beta = np.empty((genes.size, design.shape[1]))
        mu = np.empty((self.n_obs, genes.size))
        hat = np.empty((self.n_obs, genes.size))
        converged = np.empty(genes.size, dtype=bool)

        def fit_chunk(chunk: slice) -> None:
            # each gene's fit is its own: chunks bound memory and run in threads
            fit = fit_nbinom_glms(np.asarray(self.X[:, genes[chunk]], dtype=float).T, self._gene_factors(genes[chunk]),
                                  design_values, alpha[chunk], min_mu=self.min_mu, chunk_size=chunk.stop - chunk.start)
            beta[chunk], mu[:, chunk], hat[:, chunk], converged[chunk] = (
                fit.beta_natural, fit.mu.T, fit.hat_diagonals.T, fit.converged)

        each_chunk(fit_chunk, list(gene_chunks(genes.size, chunk_genes(self.n_obs))),
                   getattr(self.inference, "n_cpus", 1))
        self.varm["LFC"] = pd.DataFrame(np.nan, index=self.var_names, columns=design.columns)
        self.varm["LFC"].loc[self.var_names[non_zero], :] = beta
        self.obsm["_mu_LFC"] = mu
        self.obsm["_hat_diagonals"] = hat
        self.var["_LFC_converged"] = pd.array([pd.NA] * self.n_vars, dtype="boolean")
        self.var.loc[non_zero, "_LFC_converged"] = converged

    def calculate_cooks(self) -> None:
        """pydeseq2's Cook's distances; with ``trend_scheme="r"`` R's ``calculateCooksDistance``.

        Also records R's ``maxCooks`` (``var["r_max_cooks"]``), what ``results()`` filters on.
        """
        if not self._r_scheme():
            super().calculate_cooks()
            return
        if "dispersions" not in self.var:
            self.fit_MAP_dispersions()
        non_zero = self.var["non_zero"].to_numpy()
        design = self.obsm["design_matrix"].to_numpy(float)
        genes = np.flatnonzero(non_zero)
        mu, hat = self.obsm["_mu_LFC"], self.obsm["_hat_diagonals"]
        cooks = np.empty((genes.size, self.n_obs))
        # a gene's distances are its own: by chunks of genes, no samples x genes temporaries
        for chunk in gene_chunks(genes.size, chunk_genes(self.n_obs)):
            counts = np.asarray(self.X[:, genes[chunk]], dtype=float).T
            normed = counts / self._gene_factors(genes[chunk])
            cooks[chunk] = r_cooks_distances(counts, normed, mu[:, chunk].T, hat[:, chunk].T, design)
        del counts, normed, mu, hat
        if self.low_memory:
            del self.obsm["_mu_LFC"]
            del self.obsm["_hat_diagonals"]
        max_cooks = np.full(self.n_vars, np.nan)
        max_cooks[non_zero] = r_max_cooks(cooks, design)
        self.var["r_max_cooks"] = max_cooks
        if non_zero.all():
            self.layers["cooks"] = cooks.T
        else:
            self.layers["cooks"] = np.full((self.n_obs, self.n_vars), np.nan)
            self.layers["cooks"][:, non_zero] = cooks.T

    def cooks_outlier(self) -> pd.Series:
        """pydeseq2's outlier flags; with ``trend_scheme="r"`` also each gene's count at its largest Cook's distance.

        R's ``results()`` keeps a Cook's outlier of a two-level design when three or more
        counts exceed the count at its largest distance
        (:func:`fibroskin.deseq2.results.cooks_outliers`); that count is recorded in
        ``var["_count_at_max_cooks"]`` because pydeseq2 drops the distances here with
        ``low_memory``.
        """
        if self._r_scheme() and "cooks" in self.layers and "_count_at_max_cooks" not in self.var:
            count_at_max = np.full(self.n_vars, np.nan)
            for chunk in gene_chunks(self.n_vars, chunk_genes(self.n_obs)):
                cooks = np.asarray(self.layers["cooks"][:, chunk], dtype=float)
                finite = ~np.isnan(cooks).all(axis=0)
                rows = np.argmax(np.where(np.isnan(cooks), -np.inf, cooks), axis=0)
                counts = np.asarray(self.X[:, chunk])
                values = counts[rows, np.arange(counts.shape[1])].astype(float)
                count_at_max[chunk] = np.where(finite, values, np.nan)
            self.var["_count_at_max_cooks"] = count_at_max
        return super().cooks_outlier()

    def refit(self) -> None:
        """pydeseq2's outlier refit; with ``trend_scheme="r"`` R's ``replaceOutliers`` and ``refitWithoutOutliers``.

        See :func:`fibroskin.deseq2.cooks.r_refit_without_outliers` (with normalization
        factors where R has them).
        """
        if not self._r_scheme():
            super().refit()
            return
        r_refit_without_outliers(self)

    def _refit_without_outliers(self) -> None:
        """R's ``refitWithoutOutliers`` on a data set of this class, scheme and backend.

        pydeseq2 refits the genes whose outlier counts were replaced on a plain
        ``DeseqDataSet``; :func:`fibroskin.deseq2.cooks.refit_without_outliers` refits them
        with the same estimators as the main fit.
        """
        refit_without_outliers(self)

    def fit_dispersion_prior(self) -> None:
        """pydeseq2's prior variance; with ``trend_scheme="r"`` R's.

        See :func:`fibroskin.deseq2.dispersion_prior.r_dispersion_prior_variance`: R's MAD
        constant, and with 1 to 3 residual degrees of freedom R's simulation.
        """
        if getattr(self, "trend_scheme", "pydeseq2") != "r":
            super().fit_dispersion_prior()
            return
        if "fitted_dispersions" not in self.var:
            self.fit_dispersion_trend()
        residual_df = self.n_obs - self.obsm["design_matrix"].shape[-1]
        non_zero = self.var["non_zero"].to_numpy()
        self.uns["_squared_logres"], self.uns["prior_disp_var"] = r_dispersion_prior_variance(
            self.var["genewise_dispersions"].to_numpy(float)[non_zero],
            self.var["fitted_dispersions"].to_numpy(float)[non_zero],
            self.min_disp,
            residual_df,
        )

    def fit_MAP_dispersions(self) -> None:
        """pydeseq2's MAP step; a ``mode="r"`` backend also gets R's start.

        Identical to ``DeseqDataSet.fit_MAP_dispersions`` except that a
        :class:`VectorizedInference` receives the gene-wise estimates, from which R
        chooses where the MAP line search starts.
        """
        if "prior_disp_var" not in self.uns:
            self.fit_dispersion_prior()
        design_matrix = self.obsm["design_matrix"].values
        non_zero = self.var["non_zero"].to_numpy()
        extra = {}
        if isinstance(self.inference, VectorizedInference):
            extra["genewise"] = self.var.loc[non_zero, "genewise_dispersions"].to_numpy(float)
        dispersions_, converged_ = self.inference.alpha_mle(
            counts=self.X[:, self.non_zero_idx],
            design_matrix=design_matrix,
            mu=self.layers["_mu_hat"][:, self.non_zero_idx],
            alpha_hat=self.var.loc[non_zero, "fitted_dispersions"].values,
            min_disp=self.min_disp,
            max_disp=self.max_disp,
            prior_disp_var=self.uns["prior_disp_var"].item(),
            cr_reg=True,
            prior_reg=True,
            **extra,
        )
        self.var["MAP_dispersions"] = np.full(self.n_vars, np.nan)
        self.var.loc[non_zero, "MAP_dispersions"] = np.clip(dispersions_, self.min_disp, self.max_disp)
        self.var["_MAP_converged"] = pd.array([pd.NA] * self.n_vars, dtype="boolean")
        self.var.loc[non_zero, "_MAP_converged"] = converged_
        # R's dispersion outliers keep their gene-wise estimate (outlierSD = 2)
        self.var["dispersions"] = self.var["MAP_dispersions"].copy()
        self.var["_outlier_genes"] = dispersion_outliers(
            self.var["genewise_dispersions"], self.var["fitted_dispersions"], self.uns["_squared_logres"]
        )
        self.var.loc[self.var["_outlier_genes"], "dispersions"] = self.var.loc[
            self.var["_outlier_genes"], "genewise_dispersions"
        ]
        if self.low_memory:
            del self.layers["_mu_hat"]

    def _fit_parametric_dispersion_trend(self, vst: bool = False) -> None:
        disp_param_name = "vst_genewise_dispersions" if vst else "genewise_dispersions"
        if disp_param_name not in self.var:
            self.fit_genewise_dispersions(vst)
        genes = self.non_zero_genes
        targets = self.var.loc[genes, disp_param_name].to_numpy(dtype=float)
        means = self.var.loc[genes, "_normed_means"].to_numpy(dtype=float)
        if getattr(self, "trend_scheme", "pydeseq2") == "r":
            coeffs = r_parametric_dispersion_fit(means, targets, self.min_disp)
        else:
            with np.errstate(divide="ignore"):
                covariates = 1.0 / means
            coeffs, _ = pydeseq2_trend_keep(self.inference, covariates, targets)
        if coeffs is None:
            warnings.warn(
                "The dispersion trend curve fitting did not converge. "
                "Switching to a mean-based dispersion trend.",
                UserWarning,
                stacklevel=2,
            )
            self._fit_mean_dispersion_trend(vst)
            return
        if vst:
            self.uns["vst_trend_coeffs"] = pd.Series(coeffs, index=["a0", "a1"])
        else:
            self.uns["trend_coeffs"] = pd.Series(coeffs, index=["a0", "a1"])
            self.var["fitted_dispersions"] = np.full(self.n_vars, np.nan)
            self.uns["disp_function_type"] = "parametric"
            self.var.loc[self.var["non_zero"], "fitted_dispersions"] = self.disp_function(
                self.var.loc[self.var["non_zero"], "_normed_means"]
            )
