"""MAP dispersions (fibroskin.deseq2.map_dispersions) from R's own inputs, against R DESeq2 1.38.3.

Fed R's gene-wise dispersions, trend and prior variance, the MAP line search takes R's
steps for every gene, to the last bit; the dispersion-outlier rule flags R's genes.
"""

from __future__ import annotations

import numpy as np

from fibroskin.deseq2.arrays import DEFAULT_CHUNK_SIZE, gene_chunks
from fibroskin.deseq2.dispersion_prior import r_dispersion_prior_variance
from fibroskin.deseq2.map_dispersions import dispersion_outliers, r_map_dispersions

from fits import pasilla_fit
from r_reference import r_stages, r_summary


def test_pasilla_map_dispersions_from_rs_inputs_are_rs_bit_for_bit():
    dds = pasilla_fit()
    non_zero = dds.var["non_zero"].to_numpy()
    r = r_stages("pasilla").loc[dds.var_names[non_zero]]
    counts = dds.X[:, non_zero].T.astype(float)
    mu = dds.layers["_mu_hat"][:, non_zero].T
    design = dds.obsm["design_matrix"].to_numpy(float)
    estimate = np.empty(len(r))
    for chunk in gene_chunks(len(r), DEFAULT_CHUNK_SIZE):
        estimate[chunk], _ = r_map_dispersions(
            counts[chunk], mu[chunk], design, r["dispGeneEst"].to_numpy()[chunk],
            r["dispFit"].to_numpy()[chunk], r_summary("pasilla")["prior_variance"], dds.min_disp, dds.max_disp,
        )
    np.testing.assert_array_equal(estimate, r["dispMAP"].to_numpy())


def test_pasilla_dispersion_outliers_are_rs():
    r = r_stages("pasilla")
    r = r[r["baseMean"] > 0]
    squared_logres, _ = r_dispersion_prior_variance(r["dispGeneEst"].to_numpy(), r["dispFit"].to_numpy(), 1e-8, 5)
    flagged = dispersion_outliers(r["dispGeneEst"].to_numpy(), r["dispFit"].to_numpy(), squared_logres)
    np.testing.assert_array_equal(flagged, r["dispOutlier"].to_numpy(bool))
    assert 0 < flagged.sum() < len(r)  # 108 outliers keep their gene-wise estimate
