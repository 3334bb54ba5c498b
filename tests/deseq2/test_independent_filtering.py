"""R DESeq2's independent filtering (fibroskin.deseq2.independent_filtering, .results)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fibroskin.deseq2.dataset import FastDeseqDataSet
from fibroskin.deseq2.independent_filtering import independent_filtering
from fibroskin.deseq2.r_stats import r_p_adjust_bh
from fibroskin.deseq2.results import RFaithfulDeseqStats

from conftest import shared_data


def _jaccard(a: pd.Series, b: pd.Series) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_no_filtering_when_few_rejections():
    rng = np.random.default_rng(1)
    base_mean = rng.gamma(1.0, 50.0, size=2000)
    pvalue = rng.uniform(size=2000)
    padj = independent_filtering(base_mean, pvalue, alpha=0.1)
    # max(numRej) <= 10 -> theta[1] = lowerQuantile = 0: nothing filtered
    np.testing.assert_allclose(padj, r_p_adjust_bh(pvalue))


def test_all_zero_genes_stay_na():
    base_mean = np.array([0.0, 0.0, 10.0, 20.0])
    pvalue = np.array([np.nan, np.nan, 0.01, 0.02])
    padj = independent_filtering(base_mean, pvalue, alpha=0.1)
    assert np.isnan(padj[:2]).all() and np.isfinite(padj[2:]).all()


# -- end to end against R DESeq2 ----------------------------------------------------


def _r_faithful_results(counts, metadata, contrast):
    dds = FastDeseqDataSet(counts=counts, metadata=metadata, design="~condition",
                           trend_scheme="r", quiet=True)
    dds.deseq2()
    # R's results() default alpha is 0.1; calls are then read at 0.05
    stats = RFaithfulDeseqStats(dds, contrast=contrast, alpha=0.1, inference=dds.inference, quiet=True)
    stats.summary()
    return stats.results_df


@pytest.fixture(scope="module")
def pasilla_vs_r():
    counts = pd.read_csv(shared_data("pasilla", "pasilla_counts.csv"), index_col=0).T
    meta = pd.read_csv(shared_data("pasilla", "pasilla_metadata.csv"), index_col=0).loc[counts.index]
    ours = _r_faithful_results(counts, meta, ["condition", "untreated", "treated"])
    r = pd.read_csv(shared_data("pasilla", "R_DESeq2_1.46.0_results_untreated_vs_treated.csv"),
                    index_col=0).loc[ours.index]
    return ours, r


@pytest.fixture(scope="module")
def keloid_vs_r():
    counts = pd.read_csv(shared_data("keloid_gse188952", "counts.csv"), index_col=0).T
    meta = pd.read_csv(shared_data("keloid_gse188952", "metadata.csv"), index_col=0)
    meta = meta[meta["condition"].isin(["Keloid Scar", "Normal Scar"])][["condition"]]
    # R's parametrisation (normal scar the baseline, LFC a coefficient); with keloid as
    # baseline the IRLS stopping point moves LFCs of a few high-count genes by ~5e-5
    meta["condition"] = pd.Categorical(
        meta["condition"].map({"Keloid Scar": "keloid", "Normal Scar": "normal"}),
        categories=["normal", "keloid"])
    ours = _r_faithful_results(counts.loc[meta.index], meta,
                               ["condition", "keloid", "normal"])
    r = pd.read_csv(shared_data("keloid_gse188952", "R_DESeq2_1.38.3_keloid_vs_normal_scar.csv"),
                    index_col=0).loc[ours.index]
    return ours, r


def test_pasilla_na_pattern_matches_r(pasilla_vs_r):
    ours, r = pasilla_vs_r
    assert (ours["padj"].isna() == r["padj"].isna()).mean() >= 0.99


def test_pasilla_calls_match_r(pasilla_vs_r):
    ours, r = pasilla_vs_r
    # issue 8's target 0.99; measured 1.0 (845 calls) since the fast engine uses R's
    # dispersion estimator (deseq2.dispersion_line_search.r_fit_disp)
    assert _jaccard(ours["padj"] < 0.05, r["padj"] < 0.05) >= 0.99
    # the threshold R chose: every gene R tests is tested here and no other
    assert (ours["padj"].isna() == r["padj"].isna()).all()


def test_pasilla_lfc_and_padj_match_r(pasilla_vs_r):
    ours, r = pasilla_vs_r
    expressed = r["baseMean"] >= 10
    diff = (ours["log2FoldChange"] - r["log2FoldChange"]).abs()[expressed]
    assert diff.max() < 1e-6  # measured 1.5e-9 (R 1.46.0's table)
    _assert_padj_close(ours, r)


def _assert_padj_close(ours: pd.DataFrame, r: pd.DataFrame) -> None:
    """padj equal to R's up to floating-point noise, wherever R tests the gene.

    The gene-wise dispersions are R's bit for bit (R's arithmetic in the line search,
    ``fibroskin.deseq2.r_math``), so no CPU's rounding moves a search a step; what is left
    is the trend's last bits (our ``glm.fit`` against R's), which moves the MAP step of a
    handful of genes by at most 8e-6 in dispersion. Measured: pasilla 4e-8 at the 99.9th
    percentile, 1.4e-6 at most (against DESeq2 1.46.0's table); keloid 2.6e-12.
    """
    tested = r["padj"].notna()
    relative = ((ours["padj"] - r["padj"]).abs() / r["padj"])[tested]
    assert relative.quantile(0.999) < 1e-6
    assert relative.max() < 1e-5


def test_keloid_matches_r(keloid_vs_r):
    ours, r = keloid_vs_r
    assert (ours["padj"].isna() == r["padj"].isna()).mean() >= 0.99  # measured 100%
    assert _jaccard(ours["padj"] < 0.05, r["padj"] < 0.05) >= 0.99  # measured 1.0
    _assert_padj_close(ours, r)
