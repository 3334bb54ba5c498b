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
    return match.group(1) if match else expression.strip()


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
    return list(dict.fromkeys(name for name in names if name not in {"C", "I"}))


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
