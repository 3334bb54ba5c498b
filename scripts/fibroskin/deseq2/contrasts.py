"""Contrasts as R DESeq2's ``results()`` takes them: levels, a coefficient name, a list, a vector.

* ``levels``: ``contrast = c(factor, numerator, denominator)``. With an intercept, the
  denominator being the reference level makes it the coefficient
  ``<factor>_<numerator>_vs_<reference>``, the numerator being the reference its negation
  (LFC and statistic negated); otherwise the difference of the two coefficients.
  Not for user-supplied (nested) model matrices, as in R.
* ``name``: ``results(name = )``, one coefficient of ``resultsNames(dds)``.
* ``list``: ``contrast = list(numerator, denominator)`` with ``listValues`` (default
  ``c(1, -1)``): the named coefficients weighted by those values.
* ``numeric``: one weight per coefficient of ``resultsNames(dds)``.

:func:`resolve_contrast` turns each into R's weight vector, tells whether R reads the
results off one coefficient (``WaldStatistic_<name>``) or computes them with
``getContrast``, and which genes R sets to 0 because every sample the contrast compares
has a zero count (``contrastAllZeroCharacter`` / ``contrastAllZeroNumeric``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fibroskin.deseq2.design import make_names


@dataclass(frozen=True)
class ContrastSpec:
    """One contrast, in one of R's four forms (see the module docstring).

    Build with :meth:`levels`, :meth:`coefficient`, :meth:`of_list` or :meth:`of_weights`.
    """

    kind: str
    column: str | None = None
    numerator_level: str | None = None
    denominator_level: str | None = None
    name: str | None = None
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    list_values: tuple[float, float] = (1.0, -1.0)
    weights: tuple[float, ...] | dict[str, float] = field(default=())

    @classmethod
    def levels(cls, column: str, numerator: str, denominator: str) -> ContrastSpec:
        """``contrast = c(column, numerator, denominator)``."""
        return cls("levels", column=str(column), numerator_level=str(numerator), denominator_level=str(denominator))

    @classmethod
    def coefficient(cls, name: str) -> ContrastSpec:
        """``results(name = name)``."""
        return cls("name", name=str(name))

    @classmethod
    def of_list(cls, numerator: list[str], denominator: list[str] | None = None,
                list_values: tuple[float, float] = (1.0, -1.0)) -> ContrastSpec:
        """``contrast = list(numerator, denominator)``, ``listValues = list_values``."""
        return cls("list", numerator=tuple(numerator), denominator=tuple(denominator or ()),
                   list_values=(float(list_values[0]), float(list_values[1])))

    @classmethod
    def of_weights(cls, weights: list[float] | dict[str, float]) -> ContrastSpec:
        """A numeric contrast: a weight per coefficient (a list in ``resultsNames`` order, or a mapping)."""
        if isinstance(weights, dict):
            return cls("numeric", weights={str(k): float(v) for k, v in weights.items()})
        return cls("numeric", weights=tuple(float(w) for w in weights))


@dataclass(frozen=True)
class ResolvedContrast:
    """A contrast against one fit's coefficients.

    Attributes
    ----------
    vector : ndarray
        Weights over the coefficients (R's numeric contrast).
    coefficient : int or None
        Index of the coefficient R reads the results off, when it does (``name`` and
        ``levels`` against the reference level); ``None`` when R calls ``getContrast``.
    sign : float
        ``-1`` when R negates that coefficient's LFC and statistic (numerator = reference).
    all_zero : ndarray or None
        Genes R reports with LFC 0, statistic 0 and p-value 1 (every compared sample has a
        zero count); ``None`` for ``name`` contrasts, which R does not check.
    description : str
        R's name of the comparison, e.g. ``condition lesional vs healthy``.
    """

    vector: np.ndarray
    coefficient: int | None
    sign: float
    all_zero: np.ndarray | None
    description: str


class ContrastError(ValueError):
    """A contrast R's ``results()`` would refuse, with R's reason."""


def _levels_of(metadata: pd.DataFrame, column: str) -> list[str]:
    values = metadata[column]
    if not isinstance(values.dtype, pd.CategoricalDtype):
        raise ContrastError(f"'{column}' is not a factor of the design (a continuous covariate has no levels); "
                            "use a coefficient name or a numeric contrast")
    return [str(level) for level in values.cat.categories]


def resolve_contrast(
    spec: ContrastSpec,
    design: pd.DataFrame,
    metadata: pd.DataFrame,
    counts: np.ndarray,
    formula: str,
    user_supplied: bool = False,
) -> ResolvedContrast:
    """R's ``checkContrast`` + ``cleanContrast`` for one fit.

    Parameters
    ----------
    spec : ContrastSpec
    design : pandas.DataFrame
        The fit's model matrix, columns ``resultsNames(dds)``.
    metadata : pandas.DataFrame
        The samples' design variables (factors as categoricals).
    counts : ndarray
        ``(genes, samples)`` original counts (R's ``counts(dds)``).
    formula : str
        The design formula (for the intercept and the first variable).
    user_supplied : bool
        The model matrix is R's user-supplied kind (nested designs).

    Returns
    -------
    ResolvedContrast

    Raises
    ------
    ContrastError
        Where R's ``results()`` stops, with its reason.
    """
    names = [str(c) for c in design.columns]
    p = len(names)
    x = design.to_numpy(float)
    if spec.kind == "name":
        if spec.name not in names:
            raise ContrastError(f"'{spec.name}' is not a coefficient of the fit (resultsNames: {', '.join(names)})")
        vector = np.zeros(p)
        index = names.index(spec.name)
        vector[index] = 1.0
        return ResolvedContrast(vector, index, 1.0, None, spec.name)
    if spec.kind == "levels":
        return _resolve_levels(spec, names, x, metadata, counts, formula, user_supplied)
    if spec.kind == "list":
        unknown = [n for n in (*spec.numerator, *spec.denominator) if n not in names]
        if unknown:
            raise ContrastError(f"contrast list names {', '.join(unknown)}, which are not coefficients of the fit "
                                f"(resultsNames: {', '.join(names)})")
        if set(spec.numerator) & set(spec.denominator):
            raise ContrastError("a coefficient may appear in the numerator or the denominator of a list contrast, "
                                "not both")
        if not spec.numerator and not spec.denominator:
            raise ContrastError("a list contrast needs at least one coefficient")
        vector = np.zeros(p)
        vector[[names.index(n) for n in spec.numerator]] = spec.list_values[0]
        vector[[names.index(n) for n in spec.denominator]] = spec.list_values[1]
        description = " vs ".join(part for part in ("+".join(spec.numerator), "+".join(spec.denominator)) if part)
    else:
        if isinstance(spec.weights, dict):
            unknown = [n for n in spec.weights if n not in names]
            if unknown:
                raise ContrastError(f"contrast weights name {', '.join(unknown)}, which are not coefficients of the "
                                    f"fit (resultsNames: {', '.join(names)})")
            vector = np.array([spec.weights.get(n, 0.0) for n in names])
        else:
            if len(spec.weights) != p:
                raise ContrastError(f"a numeric contrast needs one weight per coefficient ({p}: {', '.join(names)}), "
                                    f"got {len(spec.weights)}")
            vector = np.asarray(spec.weights, dtype=float)
        if np.all(vector == 0):
            raise ContrastError("a numeric contrast cannot have all weights 0")
        description = ",".join(f"{w:+g}" if w > 0 else f"{w:g}" for w in vector)
    return ResolvedContrast(vector, None, 1.0, _all_zero_numeric(vector, x, counts), description)


def _resolve_levels(spec: ContrastSpec, names: list[str], x: np.ndarray, metadata: pd.DataFrame,
                    counts: np.ndarray, formula: str, user_supplied: bool) -> ResolvedContrast:
    """``cleanContrast`` for ``c(factor, numerator, denominator)``."""
    column, numerator, denominator = spec.column, spec.numerator_level, spec.denominator_level
    if user_supplied:
        raise ContrastError("only list and numeric contrasts (or a coefficient name) are supported for a "
                            "user-supplied model matrix (nested design with all-zero columns dropped)")
    if column not in metadata.columns:
        raise ContrastError(f"'{column}' should be the name of a factor of the design")
    if numerator == denominator:
        raise ContrastError(f"{numerator} and {denominator} should be different level names")
    levels = _levels_of(metadata, column)
    base = levels[0]
    from fibroskin.deseq2.design import design_variables

    has_intercept = "Intercept" in names
    first_var = bool(design_variables(formula)) and column == design_variables(formula)[0]
    pull = not has_intercept and not first_var and base in (numerator, denominator)
    values = metadata[column].astype(str).to_numpy()
    compared = np.isin(values, [numerator, denominator])
    all_zero = (counts[:, compared] == 0).all(axis=1)
    description = f"{column} {numerator} vs {denominator}"
    vector = np.zeros(len(names))
    if has_intercept or pull:
        def coefficient(level: str) -> str:
            return make_names(f"{column}{level}") if pull else make_names(f"{column}_{level}_vs_{base}")

        if denominator == base:
            name = coefficient(numerator)
            if name not in names:
                raise ContrastError(f"as {denominator} is the reference level, was expecting {name} to be present "
                                    f"in resultsNames ({', '.join(names)})")
            vector[names.index(name)] = 1.0
            return ResolvedContrast(vector, names.index(name), 1.0, all_zero, description)
        if numerator == base:
            name = coefficient(denominator)
            if name not in names:
                raise ContrastError(f"as {numerator} is the reference level, was expecting {name} to be present "
                                    f"in resultsNames ({', '.join(names)})")
            vector[names.index(name)] = -1.0
            return ResolvedContrast(vector, names.index(name), -1.0, all_zero, description)
        num_column, den_column = coefficient(numerator), coefficient(denominator)
    else:
        num_column, den_column = make_names(f"{column}{numerator}"), make_names(f"{column}{denominator}")
    if num_column not in names or den_column not in names:
        raise ContrastError(f"{numerator} and {denominator} should be levels of {column} such that {num_column} "
                            f"and {den_column} are in resultsNames ({', '.join(names)})")
    vector[names.index(num_column)] = 1.0
    vector[names.index(den_column)] = -1.0
    return ResolvedContrast(vector, None, 1.0, all_zero, description)


def _all_zero_numeric(vector: np.ndarray, x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """R's ``contrastAllZeroNumeric``: zero counts in every sample the contrast's coefficients touch.

    R checks only contrasts with weights of both signs.
    """
    if np.all(vector >= 0) or np.all(vector <= 0):
        return np.zeros(counts.shape[0], dtype=bool)
    touched = (x @ (vector != 0).astype(float)) != 0
    return (counts @ touched.astype(float)) == 0
