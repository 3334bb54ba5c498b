"""The qPCR linear model on dCq against R 4.2.2's ``lm``, ``summary.lm`` and ``confint``.

Data and R's answers: ``tests/data/qpcr_lm/make_reference.R`` (seeded data the script draws
itself; a balanced and an unbalanced ``~batch + condition`` design with a missing dCq, a
continuous covariate, three condition levels with every pair, and ``~condition`` alone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from conftest import DATA
from fibroskin import linear_model, qpcr_model
from fibroskin.config import Contrast

TOLERANCE = 1e-10
THREE_LEVELS = ("healthy", "non-lesional", "lesional")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(DATA / "qpcr_lm" / "data.tsv.gz", sep="\t", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    table = pd.read_csv(DATA / "qpcr_lm" / "lm.tsv.gz", sep="\t", dtype=str, keep_default_na=False)
    for column in ("estimate", "std_error", "t_value", "pvalue", "ci_low", "ci_high"):
        table[column] = table[column].astype(float)
    table["df"] = table["df"].astype(int)
    return table


def fits(data: pd.DataFrame, reference: pd.DataFrame):
    """(R's rows, fibroskin's fit, the contrast) for every dataset, design, target and pair."""
    keys = ["dataset", "design", "target", "reference", "contrast_target"]
    for (dataset, design, target, level_reference, level_target), rows in reference.groupby(keys, sort=False):
        chosen = data[(data["dataset"] == dataset) & (data["target"] == target)]
        family = ("condition", THREE_LEVELS) if dataset == "three_level" else (None, ())
        contrast = Contrast("pair", "condition", level_reference, level_target, *family)
        # the sheet as fibroskin reads it: strings (age "43" is recognised as a number)
        sheet = qpcr_model.model_samples(chosen[["sample", "condition", "batch", "age"]], contrast)
        dcq = pd.to_numeric(chosen.set_index("sample")["dcq"], errors="coerce")
        yield rows, dcq, sheet, contrast, design


def relative(python: float, r: float) -> float:
    return abs(python - r) / abs(r)


def test_reference_covers_the_designs(reference):
    assert set(reference["dataset"]) == {"balanced", "unbalanced", "continuous", "three_level", "condition_only"}
    assert {"~batch + age + condition", "~age + condition"} <= set(reference["design"])
    pairs = reference[reference["dataset"] == "three_level"][["reference", "contrast_target"]].drop_duplicates()
    assert len(pairs) == 3


def test_condition_coefficient_se_ci_and_pvalue_equal_r_lm(data, reference):
    worst = dict.fromkeys(["lm_ddcq", "lm_ddcq_se", "lm_pvalue", "lm_ddcq_ci_low", "lm_ddcq_ci_high"], 0.0)
    compared = 0
    for rows, dcq, sheet, contrast, design in fits(data, reference):
        fitted = qpcr_model.fit_contrast(dcq, sheet, contrast, design)
        expected = rows[rows["term"] == f"condition{contrast.target}"].iloc[0]
        assert fitted["lm_df"] == expected["df"]
        assert fitted["lm_n"] == expected["df"] + len(rows)
        for column, r_column in [
            ("lm_ddcq", "estimate"),
            ("lm_ddcq_se", "std_error"),
            ("lm_pvalue", "pvalue"),
            ("lm_ddcq_ci_low", "ci_low"),
            ("lm_ddcq_ci_high", "ci_high"),
        ]:
            worst[column] = max(worst[column], relative(fitted[column], expected[r_column]))
        compared += 1
    assert compared == 4 * (1 + 1 + 2 + 3 + 1)
    assert max(worst.values()) <= TOLERANCE, worst


def test_every_coefficient_equals_r_lm(data, reference):
    """The whole fit, covariates included (R's and formulaic's columns come in the same order)."""
    for rows, dcq, sheet, contrast, design in fits(data, reference):
        present = dcq.reindex(sheet.index).dropna()
        frame = linear_model.design_frame(
            sheet.loc[present.index], linear_model.formula_variables(design), "condition", qpcr_model.model_levels(contrast)
        )
        matrix = linear_model.design_matrix(design, frame)
        fit = linear_model.fit_linear_model(matrix, present.to_numpy())
        assert len(fit.names) == len(rows)
        low, high = fit.confidence_intervals()
        for python, r_column in [
            (fit.coefficients, "estimate"),
            (fit.standard_errors, "std_error"),
            (fit.t_values, "t_value"),
            (fit.pvalues, "pvalue"),
            (low, "ci_low"),
            (high, "ci_high"),
        ]:
            np.testing.assert_allclose(python, rows[r_column].to_numpy(), rtol=TOLERANCE, atol=0)


def test_without_covariates_the_model_is_students_t_test(data):
    chosen = data[(data["dataset"] == "condition_only") & (data["target"] == "TGFB1")]
    contrast = Contrast("pair", "condition", "healthy", "lesional")
    dcq = chosen.set_index("sample")["dcq"].astype(float)
    fitted = qpcr_model.fit_contrast(dcq, qpcr_model.model_samples(chosen, contrast), contrast, "~condition")
    groups = chosen.set_index("sample")["condition"]
    student = scipy_stats.ttest_ind(dcq[groups == "lesional"], dcq[groups == "healthy"], equal_var=True)
    assert fitted["lm_pvalue"] == pytest.approx(student.pvalue, rel=1e-12)
    assert fitted["lm_ddcq"] == pytest.approx(dcq[groups == "lesional"].mean() - dcq[groups == "healthy"].mean(), rel=1e-12)


def test_numbers_in_a_column_make_it_a_continuous_covariate_and_c_makes_it_a_factor():
    sheet = pd.DataFrame(
        {"sample": list("abcdef"), "condition": ["h", "h", "h", "l", "l", "l"], "batch": ["1", "2", "3"] * 2}
    )
    frame = linear_model.design_frame(sheet, ["batch", "condition"], "condition", ["h", "l"])
    assert frame["batch"].dtype == float
    assert linear_model.design_matrix("~batch + condition", frame).values.shape[1] == 3
    assert linear_model.design_matrix("~C(batch) + condition", frame).values.shape[1] == 4


def test_rank_deficient_design_names_the_dependent_columns():
    sheet = pd.DataFrame(
        {"sample": list("abcdef"), "condition": ["h"] * 3 + ["l"] * 3, "batch": ["x"] * 3 + ["y"] * 3}
    )
    frame = linear_model.design_frame(sheet, ["batch", "condition"], "condition", ["h", "l"])
    matrix = linear_model.design_matrix("~batch + condition", frame)
    assert linear_model.dependent_columns(matrix) == ["batch[T.y]", "condition[T.l]"]
    with pytest.raises(linear_model.RankDeficientDesign, match=r"batch\[T.y\], condition\[T.l\]"):
        linear_model.fit_linear_model(matrix, np.arange(6.0))


def test_a_target_the_model_cannot_fit_gets_na_and_a_warning():
    samples = pd.DataFrame(
        {
            "sample": list("abcdefgh"),
            "condition": ["h"] * 4 + ["l"] * 4,
            "batch": ["x", "x", "y", "y"] * 2,
        }
    )
    delta = pd.DataFrame(
        {
            "sample": list("abcdefgh") * 2,
            "target": ["T1"] * 8 + ["T2"] * 8,
            # T2 is detected only in batch x among the lesional samples and only in y among healthy
            "dcq": [5.0, 5.5, 6.1, 6.3, 3.9, 4.2, 5.0, 5.1] + [np.nan, np.nan, 6.0, 6.2, 4.0, 4.1, np.nan, np.nan],
        }
    )
    contrast = Contrast("l_vs_h", "condition", "h", "l")
    table, notes = qpcr_model.model_statistics(delta, samples, contrast, "~batch + condition", ["T1", "T2"])
    assert np.isfinite(table.loc["T1", "lm_pvalue"]) and np.isnan(table.loc["T2", "lm_pvalue"])
    assert table.loc["T1", "lm_fold_change"] == pytest.approx(2 ** -table.loc["T1", "lm_ddcq"])
    assert table.loc["T1", "lm_padj"] == table.loc["T1", "lm_pvalue"]  # BH over the one fitted gene
    assert notes == [
        "WARNING: contrast 'l_vs_h', target 'T2': the linear model ~batch + condition cannot be fitted on the "
        "samples with a dCq (columns Intercept, batch[T.y], condition[T.l] are linearly dependent); its lm_ columns are NA"
    ]


@pytest.mark.parametrize("dataset", ["unbalanced", "three_level", "continuous"])
def test_model_statistics_table_equals_r_for_every_target(data, reference, dataset):
    """The table the workflow writes: every target of a dataset at once, missing dCq included."""
    chosen = data[data["dataset"] == dataset]
    sheet = chosen.drop_duplicates("sample")[["sample", "condition", "batch", "age"]]
    delta = chosen.assign(dcq=pd.to_numeric(chosen["dcq"], errors="coerce"))[["sample", "target", "dcq"]]
    rows = reference[(reference["dataset"] == dataset) & (reference["term"].str.startswith("condition"))]
    design = rows["design"].iloc[-1]
    rows = rows[rows["design"] == design]
    family = ("condition", THREE_LEVELS) if dataset == "three_level" else (None, ())
    for (level_reference, level_target), expected in rows.groupby(["reference", "contrast_target"]):
        expected = expected[expected["term"] == f"condition{level_target}"].set_index("target")
        contrast = Contrast("pair", "condition", level_reference, level_target, *family)
        table, notes = qpcr_model.model_statistics(delta, sheet, contrast, design, list(expected.index))
        assert notes == [] and (table["lm_design"] == design).all()
        np.testing.assert_allclose(table["lm_ddcq"], expected["estimate"], rtol=TOLERANCE)
        np.testing.assert_allclose(table["lm_pvalue"], expected["pvalue"], rtol=TOLERANCE)
        np.testing.assert_allclose(table["lm_fold_change"], 2.0 ** -expected["estimate"], rtol=TOLERANCE)
        np.testing.assert_allclose(table["lm_fold_change_ci_low"], 2.0 ** -expected["ci_high"], rtol=TOLERANCE)
        assert (table["lm_df"] == expected["df"]).all()
