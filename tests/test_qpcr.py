"""Each step of the comparative Cq method on small tables checked by hand."""

import numpy as np
import pandas as pd
import pytest

from fibroskin import qpcr
from fibroskin.config import Contrast
from fibroskin.io.cq import wells_from_frame

CONTRAST = Contrast("lesional_vs_healthy", "condition", "healthy", "lesional")


def make_wells(rows):
    return wells_from_frame(pd.DataFrame(rows, columns=["sample", "target", "cq"]))


def test_replicate_mean_spread_and_outlier_flag():
    wells = make_wells([("S1", "TGFB1", 25.0), ("S1", "TGFB1", 25.2), ("S1", "TGFB1", 26.0)])
    qc = qpcr.flag_wells(wells, replicate_max_spread=0.5)
    # median 25.2: deviations 0.2, 0, 0.8 -> only the third is an outlier
    np.testing.assert_allclose(qc["deviation_from_median"], [0.2, 0.0, 0.8])
    assert qc["replicate_outlier"].tolist() == [False, False, True]
    summary = qpcr.summarise_replicates(qc)
    row = summary.iloc[0]
    assert row["mean_cq"] == pytest.approx((25.0 + 25.2 + 26.0) / 3)  # flagged, kept
    assert row["replicate_spread"] == pytest.approx(0.8)
    assert bool(row["flagged"]) and row["n_replicates"] == 3 and row["n_detected"] == 3


def test_dropping_outliers_when_configured():
    wells = make_wells([("S1", "TGFB1", 25.0), ("S1", "TGFB1", 25.2), ("S1", "TGFB1", 26.0)])
    qc = qpcr.flag_wells(wells, replicate_max_spread=0.5, drop_replicate_outliers=True)
    assert qpcr.summarise_replicates(qc)["mean_cq"].iloc[0] == pytest.approx(25.1)


def test_non_detects_and_cq_cutoff_are_excluded_not_imputed():
    wells = make_wells(
        [("S1", "CCN2", np.nan), ("S1", "CCN2", 36.0), ("S1", "CCN2", 30.0), ("S2", "CCN2", np.nan), ("S2", "CCN2", np.nan)]
    )
    qc = qpcr.flag_wells(wells, max_cq=35)
    assert qc["not_detected"].tolist() == [True, True, False, True, True]
    assert qc["above_max_cq"].tolist() == [False, True, False, False, False]
    summary = qpcr.summarise_replicates(qc).set_index("sample")
    assert summary.at["S1", "mean_cq"] == pytest.approx(30.0)
    assert summary.at["S1", "n_detected"] == 1
    assert np.isnan(summary.at["S2", "mean_cq"]) and summary.at["S2", "n_detected"] == 0


def test_reference_is_mean_cq_of_reference_genes_and_missing_reference_gives_nan():
    wells = make_wells(
        [
            ("S1", "GAPDH", 18.0), ("S1", "ACTB", 17.0), ("S1", "TGFB1", 25.0),
            ("S2", "GAPDH", 19.0), ("S2", "ACTB", np.nan), ("S2", "TGFB1", 25.0),
        ]
    )
    _, delta = qpcr.analyse_wells(wells, ["GAPDH", "ACTB"])
    delta = delta.set_index(["sample", "target"])
    assert delta.at[("S1", "TGFB1"), "reference_cq"] == pytest.approx(17.5)
    assert delta.at[("S1", "TGFB1"), "dcq"] == pytest.approx(7.5)
    # mean Cq = log2 of the geometric mean of quantities 2^-18 and 2^-17
    assert 2 ** -17.5 == pytest.approx(np.sqrt(2**-18 * 2**-17))
    assert np.isnan(delta.at[("S2", "TGFB1"), "dcq"])
    assert qpcr.samples_without_reference(delta.reset_index()) == ["S2"]


def small_cohort(shift=None):
    """Two groups of three; TGFB1 dCq healthy 7, 7.5, 8 and lesional 5, 5.5, 6.5."""
    shift = shift or {}
    rows, sheet = [], []
    design = {"H1": ("healthy", 7.0), "H2": ("healthy", 7.5), "H3": ("healthy", 8.0),
              "L1": ("lesional", 5.0), "L2": ("lesional", 5.5), "L3": ("lesional", 6.5)}
    for sample, (group, dcq) in design.items():
        offset = shift.get(sample, 0.0)
        rows += [(sample, "GAPDH", 18.0 + offset), (sample, "TGFB1", 18.0 + dcq + offset)]
        sheet.append({"sample": sample, "condition": group, "patient": f"P{sample[1]}"})
    return make_wells(rows), pd.DataFrame(sheet)


def test_ddcq_fold_change_and_ci_by_hand():
    wells, sheet = small_cohort()
    _, delta = qpcr.analyse_wells(wells, ["GAPDH"])
    table = qpcr.contrast_statistics(delta, sheet, CONTRAST, ["GAPDH"], ["TGFB1"]).set_index("gene")
    row = table.loc["TGFB1"]
    assert row["mean_dcq_reference"] == pytest.approx(7.5)
    assert row["mean_dcq_target"] == pytest.approx(17 / 3)
    assert row["ddcq"] == pytest.approx(17 / 3 - 7.5)
    assert row["fold_change"] == pytest.approx(2 ** (7.5 - 17 / 3))
    # Welch: variances 0.25 and 0.58333, n = 3 -> se^2 = 0.27778
    se = np.sqrt(0.25 / 3 + (7 / 12) / 3)
    df = se**4 / ((0.25 / 3) ** 2 / 2 + ((7 / 12) / 3) ** 2 / 2)
    from scipy.stats import t

    half = t.ppf(0.975, df) * se
    assert row["fold_change_ci_low"] == pytest.approx(2 ** -(row["ddcq"] + half))
    assert row["fold_change_ci_high"] == pytest.approx(2 ** -(row["ddcq"] - half))
    assert row["pvalue"] == pytest.approx(2 * t.sf(abs(row["ddcq"]) / se, df))
    assert row["pvalue_mannwhitney"] == pytest.approx(0.1)  # separated 3 vs 3: 2/20
    assert row["padj"] == pytest.approx(row["pvalue"])  # one gene tested


def test_relative_expression_is_two_to_minus_dcq_relative_to_reference_group():
    wells, sheet = small_cohort()
    _, delta = qpcr.analyse_wells(wells, ["GAPDH"])
    relative = qpcr.relative_expression(delta, sheet, CONTRAST, ["GAPDH"], ["TGFB1"]).set_index("sample")
    assert relative.at["H1", "relative_expression"] == pytest.approx(2 ** 0.5)
    assert relative.at["L1", "relative_expression"] == pytest.approx(2 ** 2.5)
    assert list(relative["group"]) == ["healthy"] * 3 + ["lesional"] * 3
    healthy = np.log2(relative.loc[relative["group"] == "healthy", "relative_expression"])
    assert healthy.mean() == pytest.approx(0.0)


def test_adding_a_constant_to_every_cq_of_a_sample_changes_nothing():
    wells, sheet = small_cohort()
    shifted, _ = small_cohort(shift={"H2": 1.7, "L3": -2.3})
    results = []
    for table in (wells, shifted):
        _, delta = qpcr.analyse_wells(table, ["GAPDH"])
        results.append(qpcr.contrast_statistics(delta, sheet, CONTRAST, ["GAPDH"], ["TGFB1"]))
    pd.testing.assert_frame_equal(results[0], results[1])


@pytest.mark.parametrize("test", ["paired_t", "wilcoxon"])
def test_paired_tests_pair_samples_by_patient(test):
    wells, sheet = small_cohort()
    _, delta = qpcr.analyse_wells(wells, ["GAPDH"])
    row = qpcr.contrast_statistics(delta, sheet, CONTRAST, ["GAPDH"], ["TGFB1"], test=test).iloc[0]
    # pairs P1: 7 -> 5, P2: 7.5 -> 5.5, P3: 8 -> 6.5; differences -2, -2, -1.5
    differences = np.array([-2.0, -2.0, -1.5])
    from scipy.stats import t

    if test == "paired_t":
        statistic = differences.mean() / (differences.std(ddof=1) / np.sqrt(3))
        assert row["pvalue"] == pytest.approx(2 * t.sf(abs(statistic), 2))
    else:
        # |differences| 2 and 2 are tied, so R uses the normal approximation, not the exact 2 / 2^3:
        # R 4.2.2: wilcox.test(c(5, 5.5, 6.5), c(7, 7.5, 8), paired = TRUE)$p.value
        assert row["pvalue"] == pytest.approx(0.17356816655592155, rel=1e-12)
    assert row["test"] == test


def test_markers_come_first_then_other_targets_alphabetically():
    assert qpcr.target_order(["ACTA2", "COL1A1", "FN1", "TGFB1"], ["TGFB1", "COL1A1", "CCN2"]) == [
        "TGFB1",
        "COL1A1",
        "ACTA2",
        "FN1",
    ]
