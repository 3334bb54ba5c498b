"""Armadillo 12's ``det``, ``inv`` and ``trace(A * B)`` as DESeq2's C++ evaluates them, stacked over genes.

The Cox-Reid term of DESeq2's dispersion log posterior is ``-0.5 log(det(b))`` and its
derivative uses ``trace(b.i() * db)``, with ``b = X' W X`` (``p x p``). Armadillo 12.0
(RcppArmadillo 0.12.0.1, what R's DESeq2 1.38.3 is built with here) computes them as:

* ``det``: ``p = 1`` the entry; ``p = 2, 3, 4`` closed formulas (``apply_tiny_*``) when
  ``eps < |det| < 1 / eps``; otherwise the product of the diagonal for a diagonal or
  triangular matrix, else LAPACK ``dgetrf`` (the product of U's diagonal, sign from the
  pivots).
* ``inv`` (``.i()``): ``p = 1`` the reciprocal; ``p = 2`` the closed form when the
  determinant is in range; a diagonal matrix elementwise; ``p >= 4`` and "likely symmetric
  positive definite" (``guess_sympd``) by Cholesky (``dpotrf`` + ``dpotri``, mirrored);
  otherwise ``dgetrf`` + ``dgetri``.
* ``trace(A * B)``: two interleaved accumulators over ``k`` and even/odd ``j``.

The LAPACK routines are the reference ones (3.11; all unblocked below 64 columns:
``dgetrf2``, ``dgetri``'s unblocked loop, ``dtrti2``, ``dpotrf2``, ``dlauu2``), with their
BLAS calls written out in the same operation order, for every gene at once. With these
the line search's log posterior and derivative are R's to the last bit for designs of any
number of coefficients (NumPy's LU, from OpenBLAS, differs in the last bits and by CPU).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_EPS = np.finfo(float).eps
_SFMIN = np.finfo(float).tiny


def _in_range(det: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Armadillo's test for trusting a closed-form determinant: ``eps < |det| < 1/eps``."""
    magnitude = np.abs(det)
    with np.errstate(invalid="ignore"):
        return (magnitude > _EPS) & (magnitude < 1.0 / _EPS)


def _tiny_det(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """``op_det::apply_tiny_2x2/3x3/4x4`` (``a`` is ``(genes, p, p)``, ``p`` 2 to 4)."""
    p = a.shape[-1]
    m = lambda i, j: a[:, i, j]  # noqa: E731 - Armadillo's Xm[pos<i,j>]
    if p == 2:
        return m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0)
    if p == 3:
        val1 = m(0, 0) * (m(2, 2) * m(1, 1) - m(2, 1) * m(1, 2))
        val2 = m(1, 0) * (m(2, 2) * m(0, 1) - m(2, 1) * m(0, 2))
        val3 = m(2, 0) * (m(1, 2) * m(0, 1) - m(1, 1) * m(0, 2))
        return val1 - val2 + val3
    v = {(i, j, k, l): m(i, j) * m(k, l) for (i, j, k, l) in [
        (0, 3, 1, 2), (0, 2, 1, 3), (0, 3, 1, 1), (0, 1, 1, 3), (0, 2, 1, 1), (0, 1, 1, 2), (0, 3, 1, 0),
        (0, 0, 1, 3), (0, 2, 1, 0), (0, 0, 1, 2), (0, 1, 1, 0), (0, 0, 1, 1), (2, 1, 3, 0), (2, 2, 3, 0),
        (2, 3, 3, 0), (2, 0, 3, 1), (2, 2, 3, 1), (2, 3, 3, 1), (2, 0, 3, 2), (2, 1, 3, 2), (2, 3, 3, 2),
        (2, 0, 3, 3), (2, 1, 3, 3), (2, 2, 3, 3)]}
    terms = [
        (+1, (0, 3, 1, 2), (2, 1, 3, 0)), (-1, (0, 2, 1, 3), (2, 1, 3, 0)), (-1, (0, 3, 1, 1), (2, 2, 3, 0)),
        (+1, (0, 1, 1, 3), (2, 2, 3, 0)), (+1, (0, 2, 1, 1), (2, 3, 3, 0)), (-1, (0, 1, 1, 2), (2, 3, 3, 0)),
        (-1, (0, 3, 1, 2), (2, 0, 3, 1)), (+1, (0, 2, 1, 3), (2, 0, 3, 1)), (+1, (0, 3, 1, 0), (2, 2, 3, 1)),
        (-1, (0, 0, 1, 3), (2, 2, 3, 1)), (-1, (0, 2, 1, 0), (2, 3, 3, 1)), (+1, (0, 0, 1, 2), (2, 3, 3, 1)),
        (+1, (0, 3, 1, 1), (2, 0, 3, 2)), (-1, (0, 1, 1, 3), (2, 0, 3, 2)), (-1, (0, 3, 1, 0), (2, 1, 3, 2)),
        (+1, (0, 0, 1, 3), (2, 1, 3, 2)), (+1, (0, 1, 1, 0), (2, 3, 3, 2)), (-1, (0, 0, 1, 1), (2, 3, 3, 2)),
        (-1, (0, 2, 1, 1), (2, 0, 3, 3)), (+1, (0, 1, 1, 2), (2, 0, 3, 3)), (+1, (0, 2, 1, 0), (2, 1, 3, 3)),
        (-1, (0, 0, 1, 2), (2, 1, 3, 3)), (-1, (0, 1, 1, 0), (2, 2, 3, 3)), (+1, (0, 0, 1, 1), (2, 2, 3, 3)),
    ]
    total = None
    for sign, left, right in terms:
        product = v[left] * v[right]
        total = product if total is None else (total + product if sign > 0 else total - product)
    return total


def _is_diagonal(a: NDArray[np.float64]) -> NDArray[np.bool_]:
    off = a.copy()
    index = np.arange(a.shape[-1])
    off[:, index, index] = 0.0
    return ~np.any(off != 0, axis=(1, 2))


def _is_triangular(a: NDArray[np.float64]) -> NDArray[np.bool_]:
    """``trimat_helper::is_triu`` or ``is_tril`` (square, at least 2 x 2)."""
    lower = np.tril(a, -1)
    upper = np.triu(a, 1)
    return ~np.any(lower != 0, axis=(1, 2)) | ~np.any(upper != 0, axis=(1, 2))


def _diagonal_product(a: NDArray[np.float64]) -> NDArray[np.float64]:
    value = np.ones(a.shape[0])
    for i in range(a.shape[-1]):
        value = value * a[:, i, i]
    return value


def dgetrf(a: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Reference LAPACK ``dgetrf`` (``dgetrf2``, recursive, partial pivoting) of square matrices.

    Returns
    -------
    lu : ndarray
        ``(genes, n, n)``: L (unit, below the diagonal) and U.
    pivots : ndarray
        ``(genes, n)`` 0-based ``ipiv``: row ``i`` was interchanged with row ``pivots[i]``.
    """
    lu = np.array(a, dtype=float)
    pivots = np.zeros(lu.shape[:2], dtype=np.int64)
    _dgetrf2(lu, pivots, 0, 0, lu.shape[1], lu.shape[2])
    return lu, pivots


def _swap_rows(a: NDArray[np.float64], rows: NDArray[np.int64], first: int, other: NDArray[np.int64],
               col0: int, col1: int) -> None:
    """Swap row ``first`` with row ``other[g]`` of columns ``col0:col1`` for every gene ``g``."""
    genes = np.arange(a.shape[0])
    upper = a[genes, first, col0:col1].copy()
    a[genes, first, col0:col1] = a[genes, other, col0:col1]
    a[genes, other, col0:col1] = upper


def _dgetrf2(a: NDArray[np.float64], ipiv: NDArray[np.int64], r0: int, c0: int, m: int, n: int) -> None:
    """``dgetrf2`` on the block ``a[:, r0:r0+m, c0:c0+n]``; pivots in ``ipiv[:, c0:c0+min(m, n)]`` (absolute rows)."""
    genes = np.arange(a.shape[0])
    if m == 1:
        ipiv[:, c0] = r0
        return
    if n == 1:
        column = a[:, r0:r0 + m, c0]
        pivot = np.argmax(np.abs(column), axis=1)  # idamax: first largest
        ipiv[:, c0] = r0 + pivot
        value = column[genes, pivot]
        nonzero = value != 0
        swap = nonzero & (pivot != 0)
        if swap.any():
            rows = genes[swap]
            top = a[rows, r0, c0].copy()
            a[rows, r0, c0] = a[rows, r0 + pivot[swap], c0]
            a[rows, r0 + pivot[swap], c0] = top
        head = a[:, r0, c0]
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = (1.0 / head)[:, None] * a[:, r0 + 1:r0 + m, c0]
            divided = a[:, r0 + 1:r0 + m, c0] / head[:, None]
        use_reciprocal = (np.abs(head) >= _SFMIN)[:, None]
        a[:, r0 + 1:r0 + m, c0] = np.where(nonzero[:, None], np.where(use_reciprocal, scaled, divided),
                                           a[:, r0 + 1:r0 + m, c0])
        return
    n1 = min(m, n) // 2
    n2 = n - n1
    _dgetrf2(a, ipiv, r0, c0, m, n1)
    # dlaswp on A12 / A22: rows r0 .. r0+n1-1 in order
    for i in range(n1):
        _swap_rows(a, genes, r0 + i, ipiv[:, c0 + i], c0 + n1, c0 + n)
    # dtrsm('L', 'L', 'N', 'U'): A12 := inv(L11) A12
    for j in range(c0 + n1, c0 + n):
        for k in range(n1):
            b_k = a[:, r0 + k, j]
            for i in range(k + 1, n1):
                a[:, r0 + i, j] = a[:, r0 + i, j] - b_k * a[:, r0 + i, c0 + k]
    # dgemm: A22 := A22 - A21 A12 (sum over l in order)
    for j in range(c0 + n1, c0 + n):
        for l in range(n1):
            temp = -a[:, r0 + l, j]
            a[:, r0 + n1:r0 + m, j] = a[:, r0 + n1:r0 + m, j] + temp[:, None] * a[:, r0 + n1:r0 + m, c0 + l]
    _dgetrf2(a, ipiv, r0 + n1, c0 + n1, m - n1, n2)
    # dlaswp on A21 for the rows pivoted in the second half
    for i in range(n1, min(m, n)):
        _swap_rows(a, genes, r0 + i, ipiv[:, c0 + i], c0, c0 + n1)


def det(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Armadillo 12's ``det`` of each ``(p, p)`` matrix of ``a`` (``(genes, p, p)``)."""
    a = np.asarray(a, dtype=float)
    p = a.shape[-1]
    if p == 1:
        return a[:, 0, 0].copy()
    out = np.full(a.shape[0], np.nan)
    todo = np.ones(a.shape[0], dtype=bool)
    if p <= 4:
        with np.errstate(invalid="ignore", over="ignore"):
            tiny = _tiny_det(a)
        ok = _in_range(tiny)
        out[ok] = tiny[ok]
        todo = ~ok
    if todo.any():
        rest = a[todo]
        simple = _is_diagonal(rest) | _is_triangular(rest)
        values = np.empty(rest.shape[0])
        if simple.any():
            values[simple] = _diagonal_product(rest[simple])
        if (~simple).any():
            lu, pivots = dgetrf(rest[~simple])
            value = lu[:, 0, 0].copy()
            for i in range(1, p):
                value = value * lu[:, i, i]
            flips = (pivots != np.arange(p)[None, :]).sum(axis=1)
            values[~simple] = np.where(flips % 2 == 1, -value, value)
        out[todo] = values
    return out


def _dgetri(lu: NDArray[np.float64], pivots: NDArray[np.int64]) -> NDArray[np.float64]:
    """Reference ``dgetri`` (unblocked): ``inv(A)`` from ``dgetrf``'s factors."""
    a = _dtrti2_upper(lu)
    n = a.shape[-1]
    for j in range(n - 1, -1, -1):
        work = a[:, j + 1:, j].copy()
        a[:, j + 1:, j] = 0.0
        # dgemv('N', n, n-j-1, -1, A(:, j+1:), work, 1, A(:, j))
        for k in range(j + 1, n):
            temp = -work[:, k - j - 1]
            a[:, :, j] = a[:, :, j] + temp[:, None] * a[:, :, k]
    genes = np.arange(a.shape[0])
    for j in range(n - 2, -1, -1):
        other = pivots[:, j]
        swap = other != j
        if swap.any():
            rows = genes[swap]
            column = a[rows, :, j].copy()
            a[rows, :, j] = a[rows, :, other[swap]]
            a[rows, :, other[swap]] = column
    return a


def _dtrti2_upper(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Reference ``dtrti2('U', 'N')``: inverse of the upper triangle (strict lower part kept)."""
    a = np.array(a, dtype=float)
    n = a.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(n):
            a[:, j, j] = 1.0 / a[:, j, j]
            ajj = -a[:, j, j]
            # dtrmv('U', 'N', 'N', j, A, A(:, j)): x := U x on the leading j x j block
            for k in range(j):
                temp = a[:, k, j]
                for i in range(k):
                    a[:, i, j] = a[:, i, j] + temp * a[:, i, k]
                a[:, k, j] = a[:, k, j] * a[:, k, k]
            a[:, :j, j] = ajj[:, None] * a[:, :j, j]
    return a


def _dpotrf2_lower(a: NDArray[np.float64], start: int, n: int, ok: NDArray[np.bool_]) -> None:
    """Reference ``dpotrf2('L')`` on ``a[:, start:start+n, start:start+n]`` in place; ``ok`` False where not PD."""
    if n == 1:
        value = a[:, start, start]
        good = ~(value <= 0) & ~np.isnan(value)
        ok &= good
        with np.errstate(invalid="ignore"):
            a[:, start, start] = np.sqrt(value)
        return
    n1 = n // 2
    n2 = n - n1
    _dpotrf2_lower(a, start, n1, ok)
    s1, s2 = start, start + n1
    # dtrsm('R', 'L', 'T', 'N'): A21 := A21 inv(L11)'
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(n1):
            temp = 1.0 / a[:, s1 + k, s1 + k]
            a[:, s2:s2 + n2, s1 + k] = temp[:, None] * a[:, s2:s2 + n2, s1 + k]
            for j in range(k + 1, n1):
                factor = a[:, s1 + j, s1 + k]
                a[:, s2:s2 + n2, s1 + j] = a[:, s2:s2 + n2, s1 + j] - factor[:, None] * a[:, s2:s2 + n2, s1 + k]
    # dsyrk('L', 'N'): A22 := A22 - A21 A21' (lower triangle, sum over l in order)
    for j in range(n2):
        for l in range(n1):
            temp = -1.0 * a[:, s2 + j, s1 + l]
            a[:, s2 + j:s2 + n2, s2 + j] = a[:, s2 + j:s2 + n2, s2 + j] + temp[:, None] * a[:, s2 + j:s2 + n2, s1 + l]
    _dpotrf2_lower(a, s2, n2, ok)


def _dtrti2_lower(a: NDArray[np.float64]) -> None:
    """Reference ``dtrti2('L', 'N')`` in place."""
    n = a.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(n - 1, -1, -1):
            a[:, j, j] = 1.0 / a[:, j, j]
            ajj = -a[:, j, j]
            if j < n - 1:
                # dtrmv('L', 'N', 'N', n-j-1, A(j+1:, j+1:), A(j+1:, j)): x := L x
                offset = j + 1
                for col in range(n - 1, offset - 1, -1):
                    temp = a[:, col, j]
                    for row in range(n - 1, col, -1):
                        a[:, row, j] = a[:, row, j] + temp * a[:, row, col]
                    a[:, col, j] = a[:, col, j] * a[:, col, col]
                a[:, offset:, j] = ajj[:, None] * a[:, offset:, j]


def _dlauu2_lower(a: NDArray[np.float64]) -> None:
    """Reference ``dlauu2('L')`` in place: the lower triangle of ``L' L``."""
    n = a.shape[-1]
    for i in range(n):
        aii = a[:, i, i].copy()
        if i < n - 1:
            column = a[:, i:, i]
            dot = np.cumsum(column * column, axis=1)[:, -1]
            a[:, i, i] = dot
            if i > 0:
                # dgemv('T', n-i-1, i, 1, A(i+1:, :i), A(i+1:, i), aii, A(i, :i) as a row)
                below = a[:, i + 1:, i]
                temps = np.cumsum(a[:, i + 1:, :i] * below[:, :, None], axis=1)[:, -1, :]
                row = a[:, i, :i]
                scaled = np.where((aii != 1.0)[:, None], aii[:, None] * row, row)
                a[:, i, :i] = scaled + 1.0 * temps
        else:
            a[:, i, :i + 1] = aii[:, None] * a[:, i, :i + 1]


def _guess_sympd(a: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Armadillo's ``sym_helper::guess_sympd`` (matrices of 4 x 4 and larger)."""
    n = a.shape[-1]
    tol = 100 * _EPS
    diagonal = np.diagonal(a, axis1=1, axis2=2)
    good = np.all(diagonal > 0, axis=1)
    max_diag = diagonal.max(axis=1)
    for j in range(n - 1):
        for i in range(j + 1, n):
            a_ij, a_ji = a[:, i, j], a[:, j, i]
            ij_abs, ji_abs = np.abs(a_ij), np.abs(a_ji)
            good &= ij_abs < max_diag
            delta = np.abs(a_ij - a_ji)
            good &= ~((delta > tol) & (delta > np.maximum(ij_abs, ji_abs) * tol))
            good &= (ij_abs + ij_abs) < (a[:, i, i] + a[:, j, j])
    return good


def inv(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Armadillo 12's ``inv`` (``.i()``) of each matrix of ``a`` (``(genes, p, p)``)."""
    a = np.asarray(a, dtype=float)
    p = a.shape[-1]
    if p == 1:
        return 1.0 / a
    out = np.full(a.shape, np.nan)
    todo = np.ones(a.shape[0], dtype=bool)
    if p == 2:
        with np.errstate(invalid="ignore", over="ignore"):
            determinant = a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0]
        ok = _in_range(determinant)
        if ok.any():
            d = determinant[ok]
            out[ok, 0, 0] = a[ok, 1, 1] / d
            out[ok, 0, 1] = -a[ok, 0, 1] / d
            out[ok, 1, 0] = -a[ok, 1, 0] / d
            out[ok, 1, 1] = a[ok, 0, 0] / d
        todo = ~ok
    if not todo.any():
        return out
    rest = a[todo]
    result = np.full(rest.shape, np.nan)
    diagonal = _is_diagonal(rest)
    if diagonal.any():
        index = np.arange(p)
        values = np.zeros((int(diagonal.sum()), p, p))
        values[:, index, index] = 1.0 / rest[diagonal][:, index, index]
        result[diagonal] = values
    general = ~diagonal
    if p >= 4:
        sympd = general & _guess_sympd(rest)
        if sympd.any():
            factor = rest[sympd].copy()
            positive = np.ones(factor.shape[0], dtype=bool)
            _dpotrf2_lower(factor, 0, p, positive)
            _dtrti2_lower(factor)
            _dlauu2_lower(factor)
            lower = np.tril(factor)
            symmetric = lower + np.transpose(np.tril(factor, -1), (0, 2, 1))
            block = result[sympd]
            block[positive] = symmetric[positive]
            result[sympd] = block
            # not positive definite after all: Armadillo falls back to the LU inverse
            fallback = np.flatnonzero(sympd)[~positive]
            general = general & ~sympd
            general[fallback] = True
    if general.any():
        lu, pivots = dgetrf(rest[general])
        result[general] = _dgetri(lu, pivots)
    out[todo] = result
    return out


def trace_of_product(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Armadillo's ``trace(A * B)``: accumulators over ``k`` for even and odd inner indices, then summed."""
    n = a.shape[-1]
    acc1 = np.zeros(a.shape[0])
    acc2 = np.zeros(a.shape[0])
    for k in range(min(a.shape[1], b.shape[2])):
        j = 1
        while j < n:
            i = j - 1
            acc1 = acc1 + a[:, k, i] * b[:, i, k]
            acc2 = acc2 + a[:, k, j] * b[:, j, k]
            j += 2
        i = j - 1
        if i < n:
            acc1 = acc1 + a[:, k, i] * b[:, i, k]
    return acc1 + acc2
