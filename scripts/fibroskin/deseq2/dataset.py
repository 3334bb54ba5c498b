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
from pydeseq2.utils import n_or_more_replicates, robust_method_of_moments_disp, trimmed_mean
from scipy.stats import f

from fibroskin.deseq2.arrays import chunk_genes, gene_chunks
from fibroskin.deseq2.cooks import refit_without_outliers
from fibroskin.deseq2.dispersion_prior import r_dispersion_prior_variance
from fibroskin.deseq2.dispersion_trend import pydeseq2_trend_keep, r_parametric_dispersion_fit
from fibroskin.deseq2.inference import InferenceMode, VectorizedInference
from fibroskin.deseq2.map_dispersions import dispersion_outliers
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

    def fit_LFC(self) -> None:
        """pydeseq2's LFC fit; with normalization factors, IRLS with R's ``nf`` (``fitNbinomGLMs``)."""
        factors = self.normalization_factors
        if factors is None:
            super().fit_LFC()
            return
        if "dispersions" not in self.var:
            self.fit_MAP_dispersions()
        non_zero = self.var["non_zero"].to_numpy()
        lfc, mu, hat_diagonals, converged = self.inference.irls(
            counts=self.X[:, self.non_zero_idx],
            size_factors=factors[:, self.non_zero_idx],
            design_matrix=self.obsm["design_matrix"].values,
            disp=self.var.loc[non_zero, "dispersions"].values,
            min_mu=self.min_mu,
            beta_tol=self.beta_tol,
        )
        columns = self.obsm["design_matrix"].columns
        self.varm["LFC"] = pd.DataFrame(np.nan, index=self.var_names, columns=columns)
        self.varm["LFC"].update(pd.DataFrame(lfc, index=self.non_zero_genes, columns=columns))
        self.obsm["_mu_LFC"] = mu
        self.obsm["_hat_diagonals"] = hat_diagonals
        self.var["_LFC_converged"] = pd.array([pd.NA] * self.n_vars, dtype="boolean")
        self.var.loc[non_zero, "_LFC_converged"] = converged

    def calculate_cooks(self) -> None:
        """pydeseq2's Cook's distances, gene chunk by gene chunk (``trend_scheme="r"``).

        ``DeseqDataSet.calculate_cooks``'s arithmetic, element by element the same, but
        computed for a chunk of genes at a time into the ``cooks`` layer: pydeseq2 holds
        four samples x genes temporaries beside the fit's arrays.
        """
        if getattr(self, "trend_scheme", "pydeseq2") != "r":
            super().calculate_cooks()
            return
        if "dispersions" not in self.var:
            self.fit_MAP_dispersions()
        non_zero = self.var["non_zero"].to_numpy()
        columns = self.non_zero_idx if isinstance(self.non_zero_idx, slice) else non_zero
        num_vars = self.obsm["design_matrix"].shape[-1]
        normed_counts = self.layers["normed_counts"][:, columns]
        counts = self.X[:, columns]
        mu = self.obsm["_mu_LFC"]
        hat = self.obsm["_hat_diagonals"]
        # with low_memory the means are dropped after this step: each chunk's distances
        # then take the place of its means, which it has read (one samples x genes array less)
        in_place = self.low_memory and non_zero.all() and mu.dtype == np.float64 and mu.flags.writeable
        cooks = mu if in_place else np.empty(mu.shape)
        samples, genes = mu.shape
        for sl in gene_chunks(genes, chunk_genes(samples)):
            dispersions = robust_method_of_moments_disp(normed_counts[:, sl], self.obsm["design_matrix"])
            squared_pearson_res = counts[:, sl] - mu[:, sl]
            squared_pearson_res **= 2
            variance = mu[:, sl] ** 2
            variance *= dispersions[None, :]
            variance += mu[:, sl]
            squared_pearson_res /= variance
            squared_pearson_res /= num_vars
            diag_mul = 1 - hat[:, sl]
            diag_mul **= 2
            diag_mul = hat[:, sl] / diag_mul
            squared_pearson_res *= diag_mul
            cooks[:, sl] = squared_pearson_res
        del normed_counts, counts, mu, hat
        if self.low_memory:
            del self.obsm["_mu_LFC"]
            del self.obsm["_hat_diagonals"]
        if non_zero.all():
            self.layers["cooks"] = cooks
        else:
            self.layers["cooks"] = np.full((self.n_obs, self.n_vars), np.nan)
            self.layers["cooks"][:, non_zero] = cooks

    def _replace_outliers(self) -> None:
        """pydeseq2's outlier replacement; with normalization factors, R's (``replaceOutliers``).

        R replaces an outlier count by ``as.integer(trimmed mean of counts / nf * nf)`` of
        its own gene and sample, where size factors give ``... * sizeFactor``.
        """
        factors = self.normalization_factors
        if factors is None:
            super()._replace_outliers()
            return
        if "cooks" not in self.layers:
            self.calculate_cooks()
        num_samples, num_vars = self.n_obs, self.obsm["design_matrix"].shape[1]
        self.obs["replaceable"] = n_or_more_replicates(self.obsm["design_matrix"], self.min_replicates).values
        if self.obs["replaceable"].sum() == 0:
            self.var["replaced"] = np.full(self.n_vars, False)
            return
        outlier = self.layers["cooks"] > f.ppf(0.99, num_vars, num_samples - num_vars)
        self.var["replaced"] = outlier.any(axis=0)
        if not self.var["replaced"].any():
            return
        replaced = self.var["replaced"].to_numpy()
        self.counts_to_refit = self[:, replaced].copy()
        gene_factors = factors[:, replaced]
        trimmed = np.asarray(trimmed_mean(self.counts_to_refit.X / gene_factors, trim=0.2, axis=0))
        replacement = (trimmed[None, :] * gene_factors).astype(int)
        take = self.obs["replaceable"].values[:, None] & outlier[:, replaced]
        self.counts_to_refit.X[take] = replacement[take]

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
