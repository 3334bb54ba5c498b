"""R DESeq2's simulated dispersion prior variance (1-3 residual df), reproduced exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, shared_data
from fibroskin.deseq2.dispersion_prior import r_dispersion_prior_variance, r_prior_variance_small_df
from fibroskin.deseq2.r_stats import r_seq_length_out
from fibroskin.rnaseq import fit_deseq, test_contrast
from r_reference import r_stages, r_summary

PASILLA = DATA / "pasilla"


def test_only_one_to_three_residual_df():
    with pytest.raises(ValueError, match="1 to 3"):
        r_prior_variance_small_df(np.zeros(10), 4)


@pytest.fixture(scope="module")
def three_vs_two():
    """pasilla with 3 treated and 2 untreated samples: 3 residual df."""
    counts = pd.read_csv(shared_data("pasilla", "pasilla_counts.csv"), index_col=0)
    meta = pd.read_csv(shared_data("pasilla", "pasilla_metadata.csv"), index_col=0)
    keep = ["treated1", "treated2", "treated3", "untreated1", "untreated2"]
    dds = fit_deseq(counts[keep], meta.loc[keep], "~condition", reference_levels={"condition": "treated"})
    ours = test_contrast(dds, "condition", "treated", "untreated", alpha=0.05, shrink=False).set_index("gene")
    r = pd.read_csv(PASILLA / "R_DESeq2_1.38.3_3treated_2untreated.csv.gz", index_col=0).loc[ours.index]
    return dds, ours, r


def test_prior_variance_is_rs(three_vs_two):
    dds, _, _ = three_vs_two
    # R: attr(dispersionFunction(dds), "dispPriorVar") = 0.52052052052052056, the 66th
    # point of seq(0, 8, length = 1000); pydeseq2's analytic estimate would be 0.25
    assert dds.uns["prior_disp_var"] == r_seq_length_out(0.0, 8.0, 1000)[65]


def test_three_vs_two_matches_r(three_vs_two):
    _, ours, r = three_vs_two
    called, r_called = ours["padj"] < 0.05, r["padj"] < 0.05
    assert (called & r_called).sum() == (called | r_called).sum()  # Jaccard 1 (520 genes)
    assert (ours["padj"].isna() == r["padj"].isna()).all()
    expressed = r["baseMean"] >= 10
    assert (ours["log2FoldChange"] - r["log2FoldChange"]).abs()[expressed].max() < 1e-6
    tested = r["pvalue"].notna()
    relative = ((ours["pvalue"] - r["pvalue"]).abs() / r["pvalue"])[tested]
    assert relative.quantile(0.999) < 1e-6


@pytest.mark.parametrize(("data_set", "residual_df"), [("pasilla", 5), ("airway", 3)])
def test_prior_variance_from_rs_dispersions_is_rs(data_set, residual_df):
    """MAD path (pasilla, 5 df: R's logs and trigamma) and simulation path (airway, 3 df), exactly."""
    r = r_stages(data_set)
    r = r[r["baseMean"] > 0]
    _, prior = r_dispersion_prior_variance(r["dispGeneEst"].to_numpy(), r["dispFit"].to_numpy(), 1e-8, residual_df)
    # R: 0.4995050474267352 (pasilla), 0.5285285285285285 = point 67 of seq(0, 8, length = 1000)
    assert prior == r_summary(data_set)["prior_variance"]
