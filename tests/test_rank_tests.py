"""Rank tests and Holm's adjustment against R 4.2.2's ``wilcox.test``, ``pairwise.wilcox.test``
and ``pairwise.t.test``.

The cases and R's answers are made by ``tests/data/rank_tests/make_reference.R`` (seeded data
written by the script itself, values to 17 significant digits, so both sides test the same
doubles). Families: unpaired and paired, exact and normal approximation, with and without
ties (and zero differences for paired), group sizes 3 to 60.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from conftest import DATA
from fibroskin import stats

CASES = DATA / "rank_tests" / "wilcox_cases.tsv.gz"
PAIRWISE = DATA / "rank_tests" / "pairwise_cases.tsv.gz"
TOLERANCE = 1e-9


def values(text: str) -> np.ndarray:
    return np.array([float(value) for value in text.split(",")])


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    table = pd.read_csv(CASES, sep="\t", dtype=str, keep_default_na=False)
    results = []
    for case in table.itertuples():
        target, reference = values(case.target), values(case.reference)
        paired = case.paired == "TRUE"
        test = stats.wilcoxon_test(reference, target) if paired else stats.mannwhitney_test(reference, target)
        results.append((test.pvalue, test.statistic, test.exact))
    table[["python_pvalue", "python_statistic", "python_exact"]] = pd.DataFrame(results, index=table.index)
    table["r_pvalue"] = table["pvalue"].astype(float)  # sprintf writes R's NA p-values as "NaN"
    table["r_statistic"] = table["statistic"].astype(float)
    table["r_exact"] = table["method"].str.contains("exact")
    return table


def relative_difference(python: pd.Series, r: pd.Series) -> pd.Series:
    return (python - r).abs() / r.abs()


def test_the_reference_covers_every_family_and_sizes_3_to_60(cases):
    families = set(cases["family"])
    assert {
        "unpaired_exact",
        "unpaired_normal",
        "unpaired_ties",
        "paired_exact",
        "paired_normal",
        "paired_ties",
        "paired_zeros",
        "paired_zeros_ties",
        "unpaired_exact_issue_12v12",
    } <= families
    sizes = pd.concat([cases["n_target"], cases["n_reference"]]).astype(int)
    assert sizes.min() == 3 and sizes.max() == 60
    assert (cases["r_pvalue"] < 1e-10).sum() >= 10  # far tails too, where approximations drift
    assert cases["r_exact"].sum() >= 100 and (~cases["r_exact"]).sum() >= 100


@pytest.mark.parametrize(
    "family",
    [
        "unpaired_exact",
        "unpaired_normal",
        "unpaired_ties",
        "paired_exact",
        "paired_normal",
        "paired_ties",
        "paired_zeros",
        "paired_zeros_ties",
    ],
)
def test_pvalues_equal_r_wilcox_test(cases, family):
    chosen = cases[cases["family"] == family]
    assert len(chosen) >= 16
    # R chose the exact distribution exactly where fibroskin did
    assert (chosen["python_exact"] == chosen["r_exact"]).all()
    assert (chosen["python_statistic"] == chosen["r_statistic"]).all()
    difference = relative_difference(chosen["python_pvalue"], chosen["r_pvalue"])
    assert difference.max() <= TOLERANCE, chosen.loc[difference.idxmax(), ["case", "python_pvalue", "r_pvalue"]]


def test_degenerate_cases_are_missing_where_r_gives_na(cases):
    chosen = cases[cases["family"] == "degenerate"]
    np.testing.assert_array_equal(np.isnan(chosen["python_pvalue"]), np.isnan(chosen["r_pvalue"]))
    present = chosen.dropna(subset=["r_pvalue"])
    assert len(present) == 1 and (present["python_pvalue"] == present["r_pvalue"]).all()


def test_exact_where_r_is_and_not_at_50_or_with_zeros():
    rng = np.random.default_rng(7)
    assert stats.mannwhitney_test(rng.normal(size=49), rng.normal(size=49)).exact
    assert not stats.mannwhitney_test(rng.normal(size=49), rng.normal(size=50)).exact
    assert stats.wilcoxon_test(np.zeros(49), rng.normal(size=49)).exact
    assert not stats.wilcoxon_test(np.zeros(50), rng.normal(size=50)).exact
    with_zero = rng.normal(size=10)
    with_zero[3] = 0.0  # one pair measured identically: R switches to the approximation
    assert not stats.wilcoxon_test(np.zeros(10), with_zero).exact
    tied = np.array([1.0, 2.0, 2.0, 3.0])
    assert not stats.mannwhitney_test(tied, tied + 0.5).exact


def test_issue_case_12_vs_12_is_exact_and_twenty_fold_below_the_approximation(cases):
    case = cases[cases["family"] == "unpaired_exact_issue_12v12"].iloc[0]
    target, reference = values(case.target), values(case.reference)
    assert case.python_exact and case.r_exact
    assert case.python_pvalue == pytest.approx(2 * 4 / 2704156, rel=1e-12)  # 2 * P(W <= 2), C(24, 12) = 2704156
    assert abs(case.python_pvalue - case.r_pvalue) / case.r_pvalue <= TOLERANCE
    approximation = scipy_stats.mannwhitneyu(target, reference, method="asymptotic").pvalue
    assert approximation == pytest.approx(6.0e-5, rel=0.01)
    assert approximation / case.python_pvalue > 20


@pytest.fixture(scope="module")
def pairwise() -> pd.DataFrame:
    return pd.read_csv(PAIRWISE, sep="\t", dtype=str, keep_default_na=False)


def pairwise_raw_pvalues(rows: pd.DataFrame, rank: bool) -> np.ndarray:
    """The three pairwise p-values of one case, in the rows' order, unadjusted."""
    first = rows.iloc[0]
    data = pd.DataFrame(
        {"value": values(first["values"]), "group": first["groups"].split(","), "patient": first["patients"].split(",")}
    )
    paired = first["paired"] == "TRUE"
    raw = []
    for row in rows.itertuples():
        reference = data[data["group"] == row.reference].set_index("patient")["value"]
        target = data[data["group"] == row.target].set_index("patient")["value"]
        if paired:
            target = target.reindex(reference.index)
            raw.append((stats.wilcoxon_pvalue if rank else stats.paired_t_pvalue)(reference.to_numpy(), target.to_numpy()))
        else:
            raw.append((stats.mannwhitney_pvalue if rank else stats.welch_pvalue)(reference.to_numpy(), target.to_numpy()))
    return np.array(raw)


@pytest.mark.parametrize("rank", [True, False], ids=["pairwise.wilcox.test", "pairwise.t.test"])
def test_holm_over_pairwise_contrasts_equals_r(pairwise, rank):
    column = "holm_wilcox" if rank else "holm_t"
    differences = []
    for _, rows in pairwise.groupby("case", sort=False):
        adjusted = stats.holm(pairwise_raw_pvalues(rows, rank))
        expected = rows[column].astype(float).to_numpy()
        differences.extend(np.abs(adjusted - expected) / expected)
    assert len(differences) == 72
    assert max(differences) <= TOLERANCE


def test_holm_by_hand_with_missing_values():
    adjusted = stats.holm(np.array([0.01, np.nan, 0.04, 0.03]))
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1, then running maximum
    np.testing.assert_allclose(adjusted, [0.03, np.nan, 0.06, 0.06])
    assert stats.holm(np.array([0.6, 0.7])).tolist() == [1.0, 1.0]
