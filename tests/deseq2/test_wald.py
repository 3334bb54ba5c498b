"""Wald test (fibroskin.deseq2.wald, through VectorizedInference.wald_test) against stock pydeseq2."""

from __future__ import annotations

import numpy as np
from pydeseq2.default_inference import DefaultInference

from fibroskin.deseq2.inference import VectorizedInference

from fits import pasilla_fit
from pasilla_data import pasilla_subset
from r_reference import r_stages, r_summary


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


def test_pasilla_lfc_se_and_pvalues_from_rs_dispersions_are_rs():
    """IRLS and Wald test fed R's size factors and final dispersions: R's results to 1e-12 (measured: LFC 2e-14, lfcSE 2e-15)."""
    dds = pasilla_fit()
    r = r_stages("pasilla")
    non_zero = dds.var["non_zero"].to_numpy()
    genes = dds.var_names[non_zero]
    size_factors = r_summary("pasilla")[[f"size_factor_{s}" for s in dds.obs_names]].to_numpy()
    np.testing.assert_allclose(dds.obs["size_factors"].to_numpy(), size_factors, rtol=1e-14)
    design = dds.obsm["design_matrix"].to_numpy(float)
    dispersions = r.loc[genes, "dispersion"].to_numpy()
    inference = VectorizedInference(mode="r")
    beta, mu, _, converged = inference.irls(dds.X[:, non_zero], size_factors, design, dispersions,
                                            dds.min_mu, dds.beta_tol)
    contrast = np.array([0.0, 1.0])
    pvalue, _, se = inference.wald_test(design, dispersions, beta, mu, np.zeros((2, 2)), contrast, 0.0)
    tested = r.loc[genes, "pvalue"].notna().to_numpy()  # R's NA: Cook's outliers
    assert converged.all()
    lfc = beta[:, 1] / np.log(2)
    np.testing.assert_allclose(lfc[tested], r.loc[genes, "log2FoldChange"].to_numpy()[tested], atol=1e-12, rtol=0)
    np.testing.assert_allclose(se[tested] / np.log(2), r.loc[genes, "lfcSE"].to_numpy()[tested], rtol=1e-12)
    np.testing.assert_allclose(pvalue[tested], r.loc[genes, "pvalue"].to_numpy()[tested], rtol=1e-10, atol=0)  # measured 1e-12
