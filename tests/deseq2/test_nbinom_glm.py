"""R's GLM fit (fibroskin.deseq2.nbinom_glm: fitNbinomGLMs, C++ fitBeta) and R's dnbinom, against R.

References: tests/data/designs/make_glm_reference.R (DESeq2 1.38.3, R 4.2.2) on the simulated
three-level table (~batch + condition, 2,500 genes, 14 samples) at R's gene-wise starting
dispersions, and a seeded grid of dnbinom arguments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fibroskin.deseq2.design import design_metadata, r_model_matrix
from fibroskin.deseq2.nbinom_glm import fit_nbinom_glms
from fibroskin.deseq2.r_dnbinom import log_dnbinom_mu
from fibroskin.deseq2.size_factors import r_size_factors

from designs import DESIGNS, table

R_GLM = pd.read_csv(DESIGNS / "R_DESeq2_1.38.3_fitNbinomGLMs.csv.gz", float_precision="round_trip").set_index("gene")


def fitted():
    counts, samples = table("three_levels")
    metadata = design_metadata(samples.set_index("sample"), ["~batch + condition"],
                               {"condition": ["healthy", "non-lesional", "lesional"]})
    design = r_model_matrix("~batch + condition", metadata).matrix.to_numpy(float)
    size_factors = r_size_factors(counts.to_numpy(float).T)
    return fit_nbinom_glms(counts.loc[R_GLM.index].to_numpy(float), size_factors, design, R_GLM["alpha"].to_numpy())


def test_fit_beta_means_and_coefficients_are_rs_bit_for_bit():
    fit = fitted()
    r_mu = R_GLM[[c for c in R_GLM.columns if c.startswith("mu_")]].to_numpy()
    r_beta = R_GLM[[f"beta{i}" for i in range(1, 5)]].to_numpy()
    np.testing.assert_array_equal(fit.iterations, R_GLM["iter"].to_numpy())
    np.testing.assert_array_equal(fit.converged, R_GLM["conv"].to_numpy(bool))
    irls = np.setdiff1d(np.arange(len(R_GLM)), fit.optim_rows)
    # every gene R's IRLS converged for: means and coefficients to the last bit
    np.testing.assert_array_equal(fit.mu[irls], r_mu[irls])
    np.testing.assert_array_equal(fit.beta[irls], r_beta[irls])
    # the 10 genes R hands to optim (L-BFGS-B; ours SciPy's): to the optimiser's tolerance
    assert 0 < len(fit.optim_rows) <= 20
    np.testing.assert_allclose(fit.beta[fit.optim_rows], r_beta[fit.optim_rows], rtol=0, atol=1e-9)  # measured 3.4e-11
    r_se = R_GLM[[f"se{i}" for i in range(1, 5)]].to_numpy()
    np.testing.assert_allclose(fit.beta_se, r_se, rtol=1e-11)  # measured 1.3e-12


def test_dnbinom_is_rs():
    grid = pd.read_csv(DESIGNS / "R_4.2.2_dnbinom.csv.gz", float_precision="round_trip")
    ours = log_dnbinom_mu(grid["x"].to_numpy(), grid["size"].to_numpy(), grid["mu"].to_numpy())
    theirs = grid["log_density"].to_numpy()
    assert (ours == theirs).mean() >= 0.99  # measured 99.3% to the last bit
    assert np.max(np.abs(ours / theirs - 1)) <= 4.5e-16  # the rest within 2 units in the last place
    # SciPy's nbinom.logpmf, for comparison, loses up to 1e-6 (relative) on this grid
