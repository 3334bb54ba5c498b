"""A linear model on dCq with covariates: the condition effect adjusted for batch, age, ...

With ``qpcr.design: "~batch + condition"``, each target's per-sample dCq is fitted by ordinary
least squares (R's ``lm(dcq ~ batch + condition)``, :mod:`fibroskin.linear_model`) on the
samples of the contrast's levels (the two levels of a contrast; every level of a ``levels:``
family, so that its pairs share one residual variance). The contrast column is treatment coded
with the contrast's reference level as the base (R's ``relevel``), so its coefficient for the
target level is the covariate-adjusted ddCq, minus the log2 fold change; its standard error,
t-test p-value and confidence interval are R's ``summary.lm`` and ``confint``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fibroskin.config import Contrast
from fibroskin.linear_model import (
    RankDeficientDesign,
    design_frame,
    design_matrix,
    fit_linear_model,
    formula_variables,
)
from fibroskin.stats import benjamini_hochberg

#: Columns the linear model adds to ``marker_stats.tsv`` (NA when ``qpcr.design`` is unset).
MODEL_COLUMNS = [
    "lm_design",
    "lm_n",
    "lm_df",
    "lm_ddcq",
    "lm_ddcq_se",
    "lm_ddcq_ci_low",
    "lm_ddcq_ci_high",
    "lm_fold_change",
    "lm_fold_change_ci_low",
    "lm_fold_change_ci_high",
    "lm_pvalue",
    "lm_padj",
]


def model_levels(contrast: Contrast) -> list[str]:
    """Levels of the contrast column in the model, the contrast's reference first (R's ``relevel``)."""
    return [contrast.reference] + [level for level in contrast.levels if level != contrast.reference]


def model_samples(samples: pd.DataFrame, contrast: Contrast) -> pd.DataFrame:
    """Sample-sheet rows whose level of the contrast column enters the model, indexed by sample."""
    chosen = samples[samples[contrast.column].isin(contrast.levels)]
    return chosen.set_index("sample", drop=False)


def fit_contrast(
    dcq: pd.Series, sheet: pd.DataFrame, contrast: Contrast, formula: str, confidence_level: float = 0.95
) -> dict[str, float]:
    """The contrast's coefficient in ``lm(dcq ~ formula)`` for one target.

    Parameters
    ----------
    dcq
        dCq per sample (index: sample), NaN where the target had no dCq (left out, as R's
        ``na.omit``).
    sheet
        :func:`model_samples` of the contrast.
    contrast
        Target vs reference level; its other family levels stay in the model.
    formula
        Right-hand side such as ``~batch + condition``.

    Raises
    ------
    RankDeficientDesign
        When this target's samples cannot estimate the model (a level or a covariate cell
        without any detected sample).
    """
    present = dcq.reindex(sheet.index).dropna()
    # Typed on the whole sheet of the contrast (as the pre-run check does), then restricted to
    # the samples with a dCq; a level without any of them drops out of the model.
    frame = design_frame(sheet, formula_variables(formula), contrast.column, model_levels(contrast)).loc[present.index]
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].cat.remove_unused_categories()
    for level in (contrast.reference, contrast.target):
        if level not in frame[contrast.column].cat.categories:
            raise RankDeficientDesign(f"no sample of level '{level}' has a dCq")
    matrix = design_matrix(formula, frame)
    fit = fit_linear_model(matrix, present.to_numpy(dtype=float))
    index = matrix.column_of_level(contrast.column, contrast.target, frame)
    low, high = fit.confidence_intervals(confidence_level)
    return {
        "lm_n": len(present),
        "lm_df": fit.residual_df,
        "lm_ddcq": fit.coefficients[index],
        "lm_ddcq_se": fit.standard_errors[index],
        "lm_ddcq_ci_low": low[index],
        "lm_ddcq_ci_high": high[index],
        "lm_pvalue": fit.pvalues[index],
    }


def model_statistics(
    delta: pd.DataFrame,
    samples: pd.DataFrame,
    contrast: Contrast,
    formula: str | None,
    genes: Sequence[str],
    confidence_level: float = 0.95,
) -> tuple[pd.DataFrame, list[str]]:
    """:data:`MODEL_COLUMNS` for each gene of a contrast, and log lines for genes it could not fit.

    Parameters
    ----------
    delta
        dCq table (``sample, target, dcq``).
    samples
        The sample sheet.
    contrast
        The contrast.
    formula
        ``qpcr.design``; None gives rows of NA (no model configured).
    genes
        Targets, in the order of the marker statistics table.

    Returns
    -------
    table, notes
        One row per gene (index: gene); ``lm_padj`` is Benjamini-Hochberg over the genes.
    """
    table = pd.DataFrame(np.nan, index=pd.Index(list(genes), name="gene"), columns=MODEL_COLUMNS, dtype=object)
    notes: list[str] = []
    if formula is None:
        return table, notes
    sheet = model_samples(samples, contrast)
    for gene in genes:
        values = delta[delta["target"] == gene].set_index("sample")["dcq"].astype(float)
        try:
            fitted = fit_contrast(values, sheet, contrast, formula, confidence_level)
        except RankDeficientDesign as problem:
            notes.append(f"WARNING: contrast '{contrast.name}', target '{gene}': the linear model {formula} "
                         f"cannot be fitted on the samples with a dCq ({problem}); its lm_ columns are NA")
            continue
        for column, value in fitted.items():
            table.loc[gene, column] = value
    table["lm_design"] = formula
    numeric = [column for column in MODEL_COLUMNS if column != "lm_design"]
    table[numeric] = table[numeric].astype(float)
    table["lm_fold_change"] = 2.0 ** -table["lm_ddcq"]
    # A higher ddCq means lower expression, so the interval's bounds swap.
    table["lm_fold_change_ci_low"] = 2.0 ** -table["lm_ddcq_ci_high"]
    table["lm_fold_change_ci_high"] = 2.0 ** -table["lm_ddcq_ci_low"]
    table["lm_padj"] = benjamini_hochberg(table["lm_pvalue"].to_numpy(dtype=float))
    return table, notes
