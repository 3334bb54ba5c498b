"""Ordinary least squares as R's ``lm``: design tables, fits, t tests and rank diagnostics.

Used by the qPCR linear model on dCq (:mod:`fibroskin.qpcr_model`) and by the pre-run check
of its design (:mod:`fibroskin.validate`), so that the check refuses exactly the designs the
fit could not estimate. Design matrices come from formulaic (treatment coding, as R's
default ``contr.treatment``); the fit is a Householder QR as in R's ``lm.fit``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Names inside a formula that are functions, not sheet columns.
FORMULA_FUNCTIONS = frozenset({"C", "I", "np", "log", "log2", "log10", "exp", "scale", "center", "poly", "bs"})


class RankDeficientDesign(ValueError):
    """The design matrix does not have full column rank, or leaves no residual degree of freedom."""


def formula_variables(formula: str) -> list[str]:
    """Sheet columns named by a formula such as ``~batch + age + condition`` (in order, unique)."""
    names = re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", formula.replace("~", " "))
    return list(dict.fromkeys(name for name in names if name not in FORMULA_FUNCTIONS))


def numeric_columns(table: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Columns whose every value reads as a number: continuous covariates, as R's ``read.table``.

    A batch coded 1, 2, 3 would be numeric too; ``C(batch)`` in the formula makes it a factor.
    """
    found = []
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce")
        if len(values) and values.notna().all():
            found.append(column)
    return found


def design_frame(
    samples: pd.DataFrame, variables: Sequence[str], factor: str, levels: Sequence[str]
) -> pd.DataFrame:
    """The sheet's design columns typed for the model, one row per sample (sheet order kept).

    Parameters
    ----------
    samples
        Sample-sheet rows that enter the model (strings, as read).
    variables
        Columns the formula names (:func:`formula_variables`).
    factor
        The contrast column; it becomes a categorical with ``levels`` in the given order, so
        that treatment coding takes ``levels[0]`` as the reference level (R's ``relevel``).
    levels
        Levels of ``factor``, reference first.

    Returns
    -------
    pandas.DataFrame
        ``factor`` categorical; columns that are all numbers as floats (continuous
        covariates); other columns categorical with sorted levels (R's factor default).
    """
    frame = pd.DataFrame(index=samples.index)
    numeric = set(numeric_columns(samples, [v for v in variables if v != factor]))
    for column in variables:
        if column == factor:
            frame[column] = pd.Categorical(samples[column], categories=list(levels))
        elif column in numeric:
            frame[column] = pd.to_numeric(samples[column]).astype(float)
        else:
            frame[column] = pd.Categorical(samples[column], categories=sorted(samples[column].unique()))
    return frame


@dataclass(frozen=True)
class DesignMatrix:
    """A model matrix with its column names and, per column, the sheet columns it derives from."""

    values: np.ndarray
    names: tuple[str, ...]
    sources: tuple[tuple[str, ...], ...]

    def column_of_level(self, factor: str, level: str, frame: pd.DataFrame) -> int:
        """Index of the treatment-coded column of ``factor == level`` (R's ``<factor><level>``)."""
        indicator = (frame[factor].astype(str) == level).to_numpy(dtype=float)
        for index, sources in enumerate(self.sources):
            if sources == (factor,) and np.array_equal(self.values[:, index], indicator):
                return index
        raise KeyError(f"the design has no treatment-coded column for {factor} = {level!r}")


def design_matrix(formula: str, frame: pd.DataFrame) -> DesignMatrix:
    """formulaic's model matrix of ``formula`` over ``frame`` (no rows dropped)."""
    from formulaic import model_matrix

    matrix = model_matrix(formula, frame, na_action="raise")
    spec = matrix.model_spec
    sources: list[tuple[str, ...]] = [()] * matrix.shape[1]
    for term in spec.terms:
        variables = tuple(sorted(str(variable) for variable in spec.term_variables[term]))
        for index in range(*spec.term_slices[term].indices(matrix.shape[1])):
            sources[index] = variables
    return DesignMatrix(np.asarray(matrix, dtype=float), tuple(str(c) for c in matrix.columns), tuple(sources))


def dependent_columns(matrix: DesignMatrix) -> list[str]:
    """Names of the model columns that take part in a linear dependency (empty if full rank).

    A column with a non-negligible weight in a null-space vector of the matrix is one that
    the others can (partly) replace: those are the ones a user must drop or recode.
    """
    values = matrix.values
    if values.shape[1] == 0:
        return []
    _, singular, right = np.linalg.svd(values, full_matrices=True)
    tolerance = singular.max(initial=0.0) * max(values.shape) * np.finfo(float).eps
    rank = int((singular > tolerance).sum())
    null_space = right[rank:]
    if null_space.size == 0:
        return []
    involved = np.abs(null_space).max(axis=0) > 1e-8
    return [name for name, flag in zip(matrix.names, involved) if flag]


@dataclass(frozen=True)
class LinearModelFit:
    """Least-squares fit of one response, with R's ``summary.lm`` quantities.

    Attributes
    ----------
    names
        Column names of the design matrix.
    coefficients, standard_errors
        Estimates and their standard errors, sigma * sqrt(diag((X'X)^-1)).
    residual_df
        n - p.
    """

    names: tuple[str, ...]
    coefficients: np.ndarray
    standard_errors: np.ndarray
    residual_df: int

    @property
    def t_values(self) -> np.ndarray:
        return self.coefficients / self.standard_errors

    @property
    def pvalues(self) -> np.ndarray:
        """Two-sided t-test p-values on ``residual_df`` degrees of freedom."""
        from scipy import stats

        return 2.0 * stats.t.sf(np.abs(self.t_values), self.residual_df)

    def confidence_intervals(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """R's ``confint``: estimate -/+ the t quantile times the standard error."""
        from scipy import stats

        half_width = stats.t.ppf(0.5 + level / 2, self.residual_df) * self.standard_errors
        return self.coefficients - half_width, self.coefficients + half_width


def fit_linear_model(matrix: DesignMatrix, response: np.ndarray) -> LinearModelFit:
    """Ordinary least squares of ``response`` on ``matrix``, as R's ``lm``.

    Raises
    ------
    RankDeficientDesign
        When the matrix is not of full column rank (R would report ``NA`` coefficients) or
        leaves no residual degree of freedom (R's standard errors would be ``NaN``).
    """
    from scipy.linalg import solve_triangular

    values = matrix.values
    n, p = values.shape
    dependent = dependent_columns(matrix)
    if dependent:
        raise RankDeficientDesign(f"columns {', '.join(dependent)} are linearly dependent")
    if n <= p:
        raise RankDeficientDesign(f"{n} samples for {p} coefficients leave no residual degree of freedom")
    q, r = np.linalg.qr(values)
    coefficients = solve_triangular(r, q.T @ response)
    residuals = response - values @ coefficients
    residual_df = n - p
    sigma_squared = float(residuals @ residuals) / residual_df
    r_inverse = solve_triangular(r, np.eye(p))
    standard_errors = np.sqrt(sigma_squared * np.einsum("ij,ij->i", r_inverse, r_inverse))
    return LinearModelFit(matrix.names, coefficients, standard_errors, residual_df)
