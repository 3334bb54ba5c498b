"""Designs, contrasts, thresholds, the LRT and outlier replacement against R DESeq2 1.38.3.

Simulated tables (tests/data/designs/make_tables.py: a third of the genes at 1-2 reads,
unbalanced cells, outlying counts), R's answers from make_references.R. For every
contrast the issue's agreement: padj calls at 0.05 with Jaccard 1.0, the NA pattern of
log2FoldChange, pvalue and padj 100% R's, log2FoldChange within 1e-6, p-values within
1e-6 (relative) at the 99.9th percentile. Measured: on the paired (TCGA-like, prostate-like),
interaction, nested and outlier cases every log2 fold change is R's to 2e-15 and every
p-value to 8e-13; on ~batch + condition, the three-level factor and the continuous
covariate log2FC within 1.5e-7 / 3.8e-7 / 1.2e-7 and p-values within 5.5e-11 / 7.9e-8 /
1.0e-10 at the 99.9th percentile. The rest comes from genes whose GLM R hands to ``optim``
(L-BFGS-B; 1 to 17 per table, all at 1-2 reads): their gene-wise means differ from R's by
~1e-11, which moves the trend and prior by ~1e-12 and, through one line-search comparison,
a few MAP dispersions.
"""

from __future__ import annotations

import numpy as np
import pytest

from fibroskin import rnaseq
from fibroskin.errors import InputErrors

from designs import CASES, agreement, lrt_fit, r_results, r_stages, wald_fit

WALD = [(case, label) for case, spec in CASES.items() for label in spec.contrasts]
LRT = [(case, label) for case, spec in CASES.items() for label in spec.lrt_contrasts]


def ours(dds, spec, **options):
    table = rnaseq.test_contrast(dds, "unused", "a", "b", alpha=0.05, shrink=False, contrast=spec, **options)
    return table.set_index("gene")


def assert_agrees_with_r(table, case, label):
    r = r_results(case)
    numbers = agreement(table, r[r["contrast"] == label].set_index("gene"))
    assert numbers["jaccard"] == 1.0, numbers
    assert numbers["na_pattern"] == 1.0, numbers
    assert numbers["max_dlfc"] <= 1e-6, numbers
    assert numbers["p_q999"] <= 1e-6, numbers
    assert numbers["calls"] > 0, numbers  # every case has calls to agree on
    return numbers


@pytest.mark.parametrize(("case", "label"), WALD, ids=[f"{c}-{l}" for c, l in WALD])
def test_wald_contrasts_are_rs(case, label):
    assert_agrees_with_r(ours(wald_fit(case), CASES[case].contrasts[label]), case, label)


@pytest.mark.parametrize(("case", "label"), LRT, ids=[f"{c}-{l}" for c, l in LRT])
def test_lrt_is_rs(case, label):
    assert_agrees_with_r(ours(lrt_fit(case), CASES[case].lrt_contrasts[label]), case, label)


@pytest.mark.parametrize("alternative", ["greaterAbs", "lessAbs", "greater", "less"])
def test_lfc_threshold_1_is_rs(alternative):
    spec = CASES["three_levels"].contrasts["lesional_vs_healthy"]
    table = ours(wald_fit("three_levels"), spec, lfc_threshold=1.0, alt_hypothesis=alternative)
    assert_agrees_with_r(table, "three_levels", f"threshold_{alternative}")
    r = r_results("three_levels")
    theirs = r[r["contrast"] == f"threshold_{alternative}"].set_index("gene").loc[table.index]
    # the statistic is R's too (0 where R's pmax / pmin clips it)
    np.testing.assert_allclose(table["stat"], theirs["stat"], rtol=1e-5, atol=1e-6)


def test_lrt_degrees_of_freedom():
    assert lrt_fit("three_levels").uns["lrt_df"] == 2  # ~batch + condition (3 levels) vs ~batch
    assert lrt_fit("tcga_like").uns["lrt_df"] == 1
    assert lrt_fit("outliers").uns["lrt_df"] == 1  # ~condition vs ~1


def test_lrt_through_fit_deseq_equals_the_added_test():
    from designs import table

    counts, samples = table("outliers")
    dds = rnaseq.fit_deseq(counts, samples, "~condition", reference_levels={"condition": "healthy"},
                           test="lrt", reduced="~1")
    np.testing.assert_array_equal(dds.var["lrt_pvalue"].to_numpy(), lrt_fit("outliers").var["lrt_pvalue"].to_numpy())


def test_lrt_keeps_the_wald_log2_fold_change():
    spec = CASES["tcga_like"].contrasts["tumour_vs_normal"]
    wald, lrt = ours(wald_fit("tcga_like"), spec), ours(lrt_fit("tcga_like"), spec)
    np.testing.assert_array_equal(wald["log2FoldChange"].to_numpy(), lrt.loc[wald.index, "log2FoldChange"].to_numpy())
    assert not np.allclose(wald["stat"].fillna(0), lrt.loc[wald.index, "stat"].fillna(0))


@pytest.mark.parametrize("case", list(CASES))
def test_dispersions_and_cooks_are_rs(case):
    dds = wald_fit(case)
    r = r_stages(case)
    r = r[r["fit"] == "wald"].set_index("gene").loc[dds.var_names]
    counted = r["dispGeneEst"].notna().to_numpy()
    assert (dds.var["genewise_dispersions"].notna().to_numpy() == counted).all()
    for ours_column, r_column in [("genewise_dispersions", "dispGeneEst"), ("fitted_dispersions", "dispFit"),
                                  ("dispersions", "dispersion")]:
        relative = np.abs(dds.var[ours_column].to_numpy(float)[counted] / r[r_column].to_numpy()[counted] - 1)
        # measured: at most 1e-12 but for a few genes of the optim cases (module docstring)
        assert np.quantile(relative, 0.999) <= 1e-9, (ours_column, np.quantile(relative, 0.999))
    max_cooks = dds.var["r_max_cooks"].to_numpy(float)
    assert (np.isnan(max_cooks) == r["maxCooks"].isna().to_numpy()).all()
    finite = ~np.isnan(max_cooks)
    np.testing.assert_allclose(max_cooks[finite], r["maxCooks"].to_numpy()[finite], rtol=1e-6)


def test_cooks_outliers_are_nas_as_in_r():
    """~batch + condition: R sets the p-value of Cook's outliers to NA; no two-level exemption here."""
    table = ours(wald_fit("batch_condition"), CASES["batch_condition"].contrasts["lesional_vs_healthy"])
    r = r_results("batch_condition").set_index("gene").loc[table.index]
    outliers = r["pvalue"].isna() & r["baseMean"].gt(0)
    assert outliers.sum() >= 5  # measured: R flags these genes as Cook's outliers
    assert table.loc[outliers[outliers].index, "pvalue"].isna().all()


def test_outlier_replacement_is_rs():
    """8 + 8 samples (>= minReplicatesForReplace = 7): R replaces outlying counts and refits those genes."""
    dds = wald_fit("outliers")
    r = r_stages("outliers")
    r = r[r["fit"] == "wald"].set_index("gene").loc[dds.var_names]
    replaced = dds.var["replaced"].to_numpy(bool)
    np.testing.assert_array_equal(replaced, r["replace"].fillna(False).to_numpy(bool))
    assert replaced.sum() >= 20  # measured: 131 genes replaced and refitted
    assert dds.obs["replaceable"].all()
    # every sample replaceable: R records no maxCooks, so no gene's p-value is filtered
    assert np.isnan(dds.var["r_max_cooks"].to_numpy(float)).all()
    relative = np.abs(dds.var["dispersions"].to_numpy(float)[replaced] / r["dispersion"].to_numpy()[replaced] - 1)
    assert relative.max() <= 1e-10


def test_nested_design_drops_all_zero_columns():
    dds = wald_fit("nested")
    info = dds.uns["fibroskin"]
    assert info["user_supplied"]
    assert info["dropped_columns"] == ["grouphealthy.ind2", "grouphealthy.ind3", "grouphealthy.ind4",
                                       "grouphealthy.ind5", "grouphealthy.lesionlesional"]
    assert list(dds.obsm["design_matrix"].columns) == [
        "Intercept", "grouppatient", "grouppatient.ind2", "grouppatient.ind3", "grouppatient.ind4",
        "grouppatient.ind5", "grouppatient.lesionlesional"]
    with pytest.raises(InputErrors, match="only list and numeric contrasts .or a coefficient name. are supported"):
        rnaseq.test_contrast(dds, "lesion", "non-lesional", "lesional")


def test_model_matrices_carry_rs_coefficient_names():
    assert list(wald_fit("interaction").obsm["design_matrix"].columns) == [
        "Intercept", "site_back_vs_arm", "condition_lesional_vs_healthy", "siteback.conditionlesional"]
    assert list(wald_fit("continuous").obsm["design_matrix"].columns) == ["Intercept", "age",
                                                                          "condition_lesional_vs_healthy"]
    assert list(wald_fit("three_levels").obsm["design_matrix"].columns) == [
        "Intercept", "batch_b2_vs_b1", "condition_non.lesional_vs_healthy", "condition_lesional_vs_healthy"]


def test_design_not_full_rank_names_columns_and_suggests_nested_coding():
    from designs import table

    counts, samples = table("nested")
    with pytest.raises(InputErrors) as raised:
        rnaseq.fit_deseq(counts, samples, "~donor + condition", reference_levels={"condition": "healthy"})
    text = str(raised.value)
    assert "the design '~donor + condition' is not full rank" in text
    assert "the model columns donor_P1_vs_H1, donor_P2_vs_H1" in text and "condition_lesional_vs_healthy" in text
    assert "some 'donor' have samples of one 'condition' level only (H1, H2, H3, H4)" in text
    assert "individuals nested within groups" in text and "'~group + group:C(ind) + group:lesion'" in text
