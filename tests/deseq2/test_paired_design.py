"""airway ``~celltype + dex`` (four cell lines, each untreated and treated) against R DESeq2 1.38.3.

A design that is not one group per coefficient takes its gene-wise means from R's GLM
(``fitNbinomGLMs`` -> C++ ``fitBeta``), which :mod:`fibroskin.deseq2.nbinom_glm` reproduces
to the last bit (tests/deseq2/test_nbinom_glm.py). So the gene-wise dispersion search
starts from R's means and takes R's steps: estimates within 4.1e-11 of R's (the Cox-Reid
determinant of five coefficients is NumPy's, not Armadillo's), the trend to 2e-15, the
dispersion-outlier flags R's. MAP estimates within 1.2e-8 at the 99.9th percentile (17
genes between 1e-8 and 5.8e-5, where a line-search comparison falls the other way), LFCs
within 4.7e-8, p-values within 3e-9 at the 99.9th percentile; calls and NA pattern R's.
With every gene (``min_count: 0``, 30,633 all-zero genes) the trend is R's to 2.9e-10 (a0
0.0095222, a1 3.6001; the issue measured 0.00974 / 3.455 before) and the results agree as closely.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fibroskin import rnaseq

from conftest import DATA, shared_data
from designs import agreement
from fits import airway_fit
from r_reference import r_stages, r_summary


@pytest.fixture(scope="module")
def airway_vs_r():
    dds = airway_fit()
    ours = rnaseq.test_contrast(dds, "dex", "control", "treated", alpha=0.1, shrink=False).set_index("gene")
    return dds, ours, r_stages("airway").loc[ours.index]


def test_airway_calls_na_pattern_and_numbers_are_rs(airway_vs_r):
    _, ours, r = airway_vs_r
    numbers = agreement(ours, r, alpha=0.1)
    assert numbers["jaccard"] == 1.0 and numbers["calls"] > 4000  # 4,077 genes
    assert numbers["na_pattern"] == 1.0
    assert numbers["max_dlfc"] <= 1e-6  # measured 4.7e-8
    assert numbers["p_q999"] <= 1e-6  # measured 3.0e-9


def test_airway_dispersions_are_rs(airway_vs_r):
    dds, ours, r = airway_vs_r
    var = dds.var.loc[ours.index]

    def relative(column, r_column):
        return np.abs(var[column].to_numpy(float) / r[r_column].to_numpy() - 1)

    assert relative("genewise_dispersions", "dispGeneEst").max() <= 1e-10  # measured 4.1e-11
    assert relative("fitted_dispersions", "dispFit").max() <= 1e-14
    assert np.quantile(relative("dispersions", "dispersion"), 0.999) <= 1e-6  # measured 1.2e-8
    assert (var["_outlier_genes"].to_numpy(bool) == r["dispOutlier"].to_numpy(bool)).all()
    summary = r_summary("airway")
    np.testing.assert_allclose(dds.uns["trend_coeffs"].to_numpy(), summary[["trend_a0", "trend_a1"]].to_numpy(),
                               rtol=1e-14)


def test_airway_every_gene_is_rs():
    """``min_count: 0``: all 64,102 genes, 30,633 of them all zero (NA results, baseMean 0)."""
    counts = pd.read_csv(shared_data("airway", "airway_rawcounts.csv.gz"), index_col=0)
    sheet = pd.read_csv(shared_data("airway", "airway_metadata.csv")).rename(columns={"id": "sample"})
    dds = rnaseq.fit_deseq(counts, sheet, "~celltype + dex", reference_levels={"dex": "control"})
    ours = rnaseq.test_contrast(dds, "dex", "control", "treated", alpha=0.1, shrink=False).set_index("gene")
    folder = DATA / "airway"
    r = pd.read_csv(folder / "R_DESeq2_1.38.3_celltype_dex_all_genes.csv.gz", index_col=0, float_precision="round_trip")
    summary = pd.read_csv(folder / "R_DESeq2_1.38.3_celltype_dex_all_genes_summary.csv", index_col=0,
                          float_precision="round_trip")["value"]
    # measured 2.9e-10: one gene-wise dispersion of 33,469 differs from R's by 6.9e-7 (a line-search
    # comparison that falls the other way, see the module docstring)
    np.testing.assert_allclose(dds.uns["trend_coeffs"].to_numpy(), summary[["trend_a0", "trend_a1"]].to_numpy(float),
                               rtol=1e-9)
    zero = ~ours.index.isin(r.index)
    assert zero.sum() == int(summary["all_zero_genes"]) == 30633
    assert (ours.loc[zero, "baseMean"] == 0).all()
    assert ours.loc[zero, ["log2FoldChange", "pvalue", "padj"]].isna().all().all()
    numbers = agreement(ours.loc[r.index], r, alpha=0.1)
    assert numbers["jaccard"] == 1.0 and numbers["na_pattern"] == 1.0
    assert numbers["max_dlfc"] <= 1e-6  # measured 3.2e-9
    assert numbers["p_q999"] <= 1e-6  # measured 2.3e-8
