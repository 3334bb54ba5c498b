"""Model matrices as R DESeq2 builds them: R's columns, R's coefficient names, nested designs.

``DESeq()`` fits ``model.matrix(design, colData)``: treatment coding with the first level
of each factor as reference, numeric columns as continuous covariates, interaction terms
after main effects (formulaic builds the same matrix, column for column). Its
coefficients are named by ``fitNbinomGLMs``: ``(Intercept)`` becomes ``Intercept``, names
pass through ``make.names`` (``siteq:conditionB`` -> ``siteq.conditionB``), and with an
intercept the main-effect columns of factors are renamed ``<factor>_<level>_vs_<reference>``
(``renameModelMatrixColumns``); these are ``resultsNames(dds)``, the names a contrast
(``results(name = )``, ``contrast = list(...)``) uses.

Designs with individuals nested within groups (the DESeq2 vignette's
``~ grp + grp:ind.n + grp:cnd``) give all-zero columns when the groups hold different
numbers of individuals; the vignette removes them and passes the matrix as
``DESeq(dds, full = mm)``. :func:`r_model_matrix` does the same: the all-zero columns are
dropped and the matrix is then "user-supplied" in R's sense (names not renamed, only
list and numeric contrasts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: R's reserved words, which ``make.names`` suffixes with a dot.
_R_RESERVED = frozenset({
    "if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE", "NULL",
    "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "NA_complex_", "in",
})


def make_names(name: str) -> str:
    """R's ``make.names`` for one name (ASCII letters): invalid characters become ``.``."""
    # the prefix is decided on the original first character, before translation
    if not re.match(r"^([A-Za-z]|\.(?![0-9]))", name):
        name = "X" + name
    valid = re.sub(r"[^A-Za-z0-9._]", ".", name)
    if valid in _R_RESERVED:
        valid += "."
    return valid


def _split_top_level(name: str, separator: str = ":") -> list[str]:
    """Split on ``separator`` outside brackets and parentheses."""
    parts, depth, current = [], 0, ""
    for char in name:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _variable_of(expression: str) -> str:
    """The sample-sheet column of a formula factor expression: ``C(batch)`` -> ``batch``."""
    match = re.fullmatch(r"\s*C\(\s*([^,)]+?)\s*(,.*)?\)\s*", expression)
    return (match.group(1) if match else expression.strip()).strip("`")


def r_column_name(formulaic_name: str) -> str:
    """R's ``model.matrix`` column name of a formulaic column (before ``make.names``).

    ``Intercept`` -> ``(Intercept)``, ``condition[T.B]`` -> ``conditionB``,
    ``grp[X]:ind[T.2]`` -> ``grpX:ind2``, ``C(batch)[T.2]`` -> ``batch2``, ``age`` -> ``age``.
    """
    if formulaic_name == "Intercept":
        return "(Intercept)"
    pieces = []
    for part in _split_top_level(formulaic_name):
        match = re.fullmatch(r"(.*)\[(?:T\.)?(.*)\]", part, flags=re.DOTALL)
        if match:
            pieces.append(_variable_of(match.group(1)) + match.group(2))
        else:
            pieces.append(_variable_of(part))
    return ":".join(pieces)


def design_variables(formula: str) -> list[str]:
    """Sample-sheet columns a formula names, in order (``C(x)`` gives ``x``)."""
    names = re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", formula.replace("~", " "))
    return list(dict.fromkeys(name for name in names if name not in {"C", "I", "1", "0"}))


@dataclass(frozen=True)
class RModelMatrix:
    """A design's model matrix with R's coefficient names.

    Attributes
    ----------
    matrix : pandas.DataFrame
        Samples x coefficients (float), columns named as ``resultsNames(dds)``.
    formula : str
        The design formula.
    user_supplied : bool
        All-zero columns were dropped (nested designs): R's ``DESeq(full = mm)``, whose
        coefficients keep ``model.matrix``'s names and take list or numeric contrasts only.
    dropped : tuple of str
        The dropped all-zero columns (R names).
    sources : tuple of tuple of str
        Per coefficient, the sample-sheet columns it derives from (empty: intercept).
    factor_columns : dict
        Main-effect coefficient of each ``(factor, level)`` pair (treatment coding).
    """

    matrix: pd.DataFrame
    formula: str
    user_supplied: bool = False
    dropped: tuple[str, ...] = ()
    sources: tuple[tuple[str, ...], ...] = ()
    factor_columns: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """``resultsNames(dds)``."""
        return [str(c) for c in self.matrix.columns]


def r_model_matrix(formula: str, metadata: pd.DataFrame, drop_zero_columns: bool = True) -> RModelMatrix:
    """``model.matrix(formula, colData)`` with R DESeq2's coefficient names.

    Parameters
    ----------
    formula : str
        Design formula, e.g. ``"~batch + condition"``, ``"~site + condition + site:condition"``,
        ``"~age + condition"``, ``"~grp + grp:ind.n + grp:cnd"``.
    metadata : pandas.DataFrame
        One row per sample: factors as ordered categoricals (reference level first),
        continuous covariates as floats.
    drop_zero_columns : bool
        Drop all-zero columns (nested designs, as the DESeq2 vignette does).

    Returns
    -------
    RModelMatrix
    """
    from formulaic import model_matrix

    built = model_matrix(formula, metadata, na_action="raise")
    spec = built.model_spec
    values = np.asarray(built, dtype=float)
    r_names = [r_column_name(str(c)) for c in built.columns]
    sources: list[tuple[str, ...]] = [()] * values.shape[1]
    for term in spec.terms:
        variables = tuple(dict.fromkeys(_variable_of(str(v)) for v in spec.term_variables[term] if str(v) != "C"))
        for index in range(*spec.term_slices[term].indices(values.shape[1])):
            sources[index] = tuple(v for v in variables if v in metadata.columns)
    zero = ~np.any(values != 0, axis=0) if drop_zero_columns else np.zeros(values.shape[1], dtype=bool)
    user_supplied = bool(zero.any())
    names = [make_names(name) for name in r_names]
    names = ["Intercept" if name == "X.Intercept." else name for name in names]
    has_intercept = "(Intercept)" in r_names
    factor_columns: dict[tuple[str, str], str] = {}
    for variable in metadata.columns:
        values_of = metadata[variable]
        if not isinstance(values_of.dtype, pd.CategoricalDtype):
            continue
        levels = [str(level) for level in values_of.cat.categories]
        for level in levels[1:]:
            original = make_names(f"{variable}{level}")
            renamed = make_names(f"{variable}_{level}_vs_{levels[0]}")
            for position, name in enumerate(names):
                if name == original and sources[position] == (variable,):
                    factor_columns[(variable, level)] = name
                    # fitNbinomGLMs(renameCols = hasIntercept) for a formula design
                    if has_intercept and not user_supplied:
                        names[position] = renamed
                        factor_columns[(variable, level)] = renamed
    keep = ~zero
    frame = pd.DataFrame(values[:, keep], index=metadata.index, columns=[n for n, k in zip(names, keep) if k])
    return RModelMatrix(
        matrix=frame,
        formula=formula,
        user_supplied=user_supplied,
        dropped=tuple(n for n, z in zip(names, zero) if z),
        sources=tuple(s for s, k in zip(sources, keep) if k),
        factor_columns={key: value for key, value in factor_columns.items() if value in frame.columns},
    )


def dependent_columns(matrix: pd.DataFrame) -> list[str]:
    """Columns taking part in a linear dependency of the model matrix (empty if full rank)."""
    values = np.asarray(matrix, dtype=float)
    if values.shape[1] == 0:
        return []
    _, singular, right = np.linalg.svd(values, full_matrices=True)
    tolerance = max(values.shape) * np.finfo(float).eps * (singular[0] if singular.size else 0.0)
    rank = int((singular > tolerance).sum())
    if rank == values.shape[1]:
        return []
    null_space = right[rank:]
    involved = (np.abs(null_space) > 1e-8).any(axis=0)
    return [str(c) for c, used in zip(matrix.columns, involved) if used]


def continuous_columns(sample_table: pd.DataFrame, formula: str, factors: Sequence[str] = ()) -> list[str]:
    """Design columns taken as continuous covariates: every value a number, not wrapped in ``C()``.

    As R reads a sample sheet (``read.table`` makes an all-number column numeric) and as
    the qPCR linear model does; ``C(batch)`` in the formula makes such a column a factor.
    Columns in ``factors`` (the contrast columns, those given a level order) stay factors.
    """
    wrapped = set(re.findall(r"C\(\s*`?([A-Za-z_.][A-Za-z0-9_.]*)", formula))
    found = []
    for column in design_variables(formula):
        if column not in sample_table.columns or column in wrapped or column in factors:
            continue
        values = sample_table[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        if len(numbers) and numbers.notna().all():
            found.append(column)
    return found


def design_metadata(
    sample_table: pd.DataFrame,
    formulas: Sequence[str],
    level_orders: Mapping[str, str | Sequence[str]] | None = None,
) -> pd.DataFrame:
    """The design columns of the samples as R's ``colData``: factors and numeric covariates.

    Parameters
    ----------
    sample_table : pandas.DataFrame
        One row per sample (in fit order), the sheet's columns as read.
    formulas : sequence of str
        The design (and the LRT's reduced design).
    level_orders : mapping, optional
        Per factor, its reference level or the order of its levels, reference first
        (R's ``factor(levels = )``); other levels follow alphabetically, as ``factor()``
        sorts them.

    Returns
    -------
    pandas.DataFrame
        The columns the formulas name: all-number columns as floats (unless ``C()``-wrapped
        or given a level order), the others as ordered categoricals.

    Raises
    ------
    ValueError
        A level order whose first level no sample has.
    """
    level_orders = dict(level_orders or {})
    variables = list(dict.fromkeys(v for f in formulas for v in design_variables(f) if v in sample_table.columns))
    metadata = sample_table[variables].copy()
    continuous: set[str] = set()
    for formula in formulas:
        continuous |= set(continuous_columns(metadata, formula, factors=list(level_orders)))
    for column in variables:
        values = metadata[column]
        if column in continuous:
            metadata[column] = pd.to_numeric(values).astype(float)
            continue
        levels = sorted(values.astype(str).unique())
        given = level_orders.get(column)
        if given is not None:
            order = [str(given)] if isinstance(given, str) else [str(level) for level in given]
            if order[0] not in levels:
                raise ValueError(f"reference level '{order[0]}' is not among the samples' values of '{column}' "
                                 f"({', '.join(levels)})")
            order = [level for level in order if level in levels]
            levels = order + [level for level in levels if level not in order]
        metadata[column] = pd.Categorical(values.astype(str), categories=levels)
    return metadata


def full_rank_problem(model: RModelMatrix, metadata: pd.DataFrame) -> tuple[str, str] | None:
    """R's ``checkFullRank``: what is wrong with a design whose coefficients are not all estimable.

    Returns
    -------
    (problem, expected) or None
        The problem names the model columns that are linear combinations of each other;
        when individuals (e.g. ``patient``) contribute one level of another factor only
        while others contribute several (healthy donors beside paired patients), the
        expectation spells out the DESeq2 vignette's nested coding. ``None``: full rank,
        with more samples than coefficients.
    """
    dependent = dependent_columns(model.matrix)
    samples, coefficients = model.matrix.shape
    if dependent:
        rank = int(np.linalg.matrix_rank(model.matrix.to_numpy(float)))
        problem = (f"the design '{model.formula}' is not full rank ({rank} independent of {coefficients} "
                   f"coefficients): the model columns {', '.join(dependent)} are linear combinations of each other, "
                   "so their effects cannot be told apart")
        return problem, nested_design_hint(metadata)
    if samples <= coefficients:
        return (f"the design '{model.formula}' has {coefficients} coefficients but only {samples} samples: no "
                "replicates to estimate the dispersion", "more samples than coefficients")
    return None


def nested_design_hint(metadata: pd.DataFrame) -> str:
    """The fix to suggest for a rank-deficient design: the vignette's nested coding where it applies."""
    factors = [c for c in metadata.columns if isinstance(metadata[c].dtype, pd.CategoricalDtype)]
    for individual in factors:
        for group in factors:
            if group == individual:
                continue
            per_individual = metadata.groupby(individual, observed=True)[group].nunique()
            if (per_individual == 1).any() and (per_individual > 1).any():
                single = ", ".join(map(str, per_individual.index[per_individual == 1][:4]))
                return (f"individuals nested within groups: some '{individual}' have samples of one '{group}' level "
                        f"only ({single}). Code them as the DESeq2 vignette does: a column 'group' (e.g. patient / "
                        "healthy), a column 'ind' numbering the individuals within their group (1, 2, ... in each "
                        "group; every unpaired donor 1) and a column for the paired factor (e.g. lesion: lesional / "
                        "non-lesional; healthy skin non-lesional), with design '~group + group:C(ind) + group:lesion' "
                        "(all-zero columns are dropped) and contrasts by coefficient name or weights")
    return "a design whose factors vary independently across the counted samples (drop or recode a dependent term)"
