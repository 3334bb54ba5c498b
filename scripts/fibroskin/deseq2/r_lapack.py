"""The reference LAPACK and BLAS routines DESeq2's C++ ``fitBeta`` calls, stacked over genes.

R on Debian links the reference BLAS and LAPACK (3.11); DESeq2's ``fitBeta`` (Armadillo 12)
solves each IRLS step by ``qr_econ`` (``dgeqrf`` + ``dorgqr``, which for fewer than 32
columns are the unblocked ``dgeqr2`` + ``dorg2r``: Householder reflections from ``dlarfg``
and ``dlarf``), ``q.t() * z`` (``dgemv``) and ``solve`` on the triangular factor
(``dtrtrs`` -> ``dtrsm``). The functions here perform the same floating-point operations
in the same order for a stack of genes at once (every sum over rows accumulated in row
order, as the Fortran loops do; no BLAS, no pairwise summation), so a gene's coefficients
equal R's to the last bit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def ordered_sum(terms: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    """Sum along ``axis`` accumulated in index order (a Fortran/C loop, not NumPy's pairwise sum)."""
    terms = np.asarray(terms, dtype=float)
    if terms.shape[axis] == 0:
        return np.zeros(np.delete(terms.shape, axis % terms.ndim))
    return np.take(np.cumsum(terms, axis=axis), -1, axis=axis)


def _dlapy2(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """LAPACK ``dlapy2``: ``sqrt(x^2 + y^2)`` as ``w * sqrt(1 + (z / w)^2)``."""
    x_abs, y_abs = np.abs(x), np.abs(y)
    larger, smaller = np.maximum(x_abs, y_abs), np.minimum(x_abs, y_abs)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = smaller / larger
        scaled = larger * np.sqrt(1.0 + ratio * ratio)
    return np.where(smaller == 0.0, larger, scaled)


def _dlarf_left(v: NDArray[np.float64], tau: NDArray[np.float64], c: NDArray[np.float64]) -> None:
    """LAPACK ``dlarf('Left')`` in place: ``C := C - tau v (v^T C)``, for each gene.

    ``dgemv('T')`` forms ``work = C^T v`` with each entry summed over rows in order;
    ``dger`` adds ``v_i * (-tau * work_j)``. (``dlarf`` skips trailing zero rows of ``v`` and
    zero columns of ``C``; adding their zero products changes no finite value.)

    Parameters
    ----------
    v : ndarray
        ``(genes, m)`` reflector, first element 1.
    tau : ndarray
        ``(genes,)``.
    c : ndarray
        ``(genes, m, k)``, updated in place.
    """
    if c.shape[2] == 0:
        return
    work = ordered_sum(c * v[:, :, None], axis=1)
    temp = (-tau)[:, None] * work
    c += v[:, :, None] * temp[:, None, :]


def householder_qr_econ(a: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Armadillo's ``qr_econ`` with reference LAPACK (``dgeqr2`` then ``dorg2r``), per gene.

    Parameters
    ----------
    a : ndarray
        ``(genes, m, n)`` with ``m > n``, ``n < 32`` (LAPACK's block size, below which
        ``dgeqrf``/``dorgqr`` run unblocked).

    Returns
    -------
    q : ndarray
        ``(genes, m, n)`` orthonormal columns.
    r : ndarray
        ``(genes, n, n)`` upper triangular (zeros below the diagonal, as Armadillo copies it).
    """
    a = np.array(a, dtype=float)
    num_genes, m, n = a.shape
    tau = np.zeros((num_genes, n))
    for i in range(n):
        # dlarfg(m - i, a[i, i], a[i+1:, i])
        if m - i > 1:
            alpha = a[:, i, i].copy()
            x = a[:, i + 1:, i]
            xnorm = np.sqrt(ordered_sum(x * x, axis=1))  # dnrm2 (values in the normal range)
            reflect = xnorm != 0.0
            beta = -np.copysign(_dlapy2(alpha, xnorm), alpha)
            with np.errstate(invalid="ignore", divide="ignore"):
                tau_i = (beta - alpha) / beta
                scale = 1.0 / (alpha - beta)
            a[:, i + 1:, i] = np.where(reflect[:, None], scale[:, None] * x, x)
            a[:, i, i] = np.where(reflect, beta, alpha)
            tau[:, i] = np.where(reflect, tau_i, 0.0)
        if i < n - 1:
            saved = a[:, i, i].copy()
            v = a[:, i:, i].copy()
            v[:, 0] = 1.0
            block = a[:, i:, i + 1:]
            _dlarf_left(v, tau[:, i], block)
            a[:, i:, i + 1:] = block
            a[:, i, i] = saved
    r = np.triu(a[:, :n, :])
    # dorg2r: accumulate the reflectors backwards into the first n columns of Q
    q = a
    for i in range(n - 1, -1, -1):
        if i < n - 1:
            q[:, i, i] = 1.0
            v = q[:, i:, i].copy()
            block = q[:, i:, i + 1:]
            _dlarf_left(v, tau[:, i], block)
            q[:, i:, i + 1:] = block
        if i < m - 1:
            q[:, i + 1:, i] = (-tau[:, i])[:, None] * q[:, i + 1:, i]
        q[:, i, i] = 1.0 - tau[:, i]
        q[:, :i, i] = 0.0
    return q, r


def transposed_times(q: NDArray[np.float64], z: NDArray[np.float64]) -> NDArray[np.float64]:
    """``q.t() * z`` as reference ``dgemv('T')``: each entry summed over rows in order.

    Parameters
    ----------
    q : ndarray
        ``(genes, m, n)``.
    z : ndarray
        ``(genes, m)``.

    Returns
    -------
    ndarray
        ``(genes, n)``.
    """
    return ordered_sum(q * z[:, :, None], axis=1)


def solve_upper(r: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Back substitution ``r^-1 b`` as reference ``dtrsm('L', 'U', 'N', 'N')``, per gene.

    Parameters
    ----------
    r : ndarray
        ``(genes, n, n)`` upper triangular.
    b : ndarray
        ``(genes, n)``.

    Returns
    -------
    ndarray
        ``(genes, n)``.
    """
    x = np.array(b, dtype=float)
    n = r.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(n - 1, -1, -1):
            x[:, k] = x[:, k] / r[:, k, k]
            for i in range(k):
                x[:, i] = x[:, i] - x[:, k] * r[:, i, k]
    return x


def matrix_times_vectors(x: NDArray[np.float64], beta: NDArray[np.float64]) -> NDArray[np.float64]:
    """``x * beta`` for each gene's ``beta`` as reference ``dgemv('N')`` / ``dgemm``.

    Each entry ``sum_k x[j, k] beta[k]`` accumulated over ``k`` in order (also what R's
    ``modelMatrix %*% t(beta)`` computes).

    Parameters
    ----------
    x : ndarray
        ``(n, p)``.
    beta : ndarray
        ``(genes, p)``.

    Returns
    -------
    ndarray
        ``(genes, n)``.
    """
    out = np.zeros((beta.shape[0], x.shape[0]))
    for k in range(x.shape[1]):
        out = out + beta[:, k][:, None] * x[:, k][None, :]
    return out


def linpack_least_squares(x: NDArray[np.float64], y: NDArray[np.float64], tol: float = 1e-7) -> NDArray[np.float64]:
    """R's ``.Call(C_Cdqrls, x, y, tol)`` coefficients (LINPACK ``dqrdc2`` + ``dqrsl``), one fit.

    Householder QR with R's limited column pivoting, reference BLAS ``dnrm2``/``ddot``/
    ``daxpy`` (sums in row order), then ``t(Q) y`` and back substitution, as ``glm.fit``
    calls it. Columns found negligible (rank deficiency) get the coefficient 0, as
    ``glm.fit`` reports them as ``NA`` and R's callers here never meet them.

    Parameters
    ----------
    x : ndarray
        ``(n, p)``, ``n > p``.
    y : ndarray
        ``(n,)``.
    tol : float
        ``dqrdc2``'s tolerance (``glm.fit``: ``min(1e-7, epsilon / 1000)``).

    Returns
    -------
    ndarray
        ``(p,)`` coefficients in the original column order.
    """
    qr = np.array(x, dtype=float)
    n, p = qr.shape
    pivot = list(range(p))

    def dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
        return float(ordered_sum(a * b)) if a.size else 0.0

    def nrm2(a: NDArray[np.float64]) -> float:
        return float(np.sqrt(ordered_sum(a * a))) if a.size else 0.0

    qraux = np.array([nrm2(qr[:, j]) for j in range(p)])
    original = np.where(qraux == 0.0, 1.0, qraux)
    current = qraux.copy()
    k = p + 1
    lup = min(n, p)
    for col in range(lup):
        # move columns that became negligible to the end (dqrdc2's limited pivoting)
        while col + 1 < k and qraux[col] < original[col] * tol:
            order = list(range(col + 1, p)) + [col]
            qr[:, col:] = qr[:, order]
            pivot[col:] = [pivot[i] for i in order]
            qraux[col:], original[col:], current[col:] = qraux[order], original[order], current[order]
            k -= 1
        if col == n - 1:
            break
        norm = nrm2(qr[col:, col])
        if norm == 0.0:
            continue
        if qr[col, col] != 0.0:
            norm = float(np.copysign(norm, qr[col, col]))
        qr[col:, col] = (1.0 / norm) * qr[col:, col]
        qr[col, col] = 1.0 + qr[col, col]
        for j in range(col + 1, p):
            t = -dot(qr[col:, col], qr[col:, j]) / qr[col, col]
            qr[col:, j] = qr[col:, j] + t * qr[col:, col]
            if qraux[j] != 0.0:
                ratio = abs(qr[col, j]) / qraux[j]
                remaining = max(1.0 - ratio * ratio, 0.0)
                if abs(remaining) < 1e-6:
                    qraux[j] = nrm2(qr[col + 1:, j])
                    current[j] = qraux[j]
                else:
                    qraux[j] = qraux[j] * np.sqrt(remaining)
        qraux[col] = qr[col, col]
        qr[col, col] = -norm
    rank = min(k - 1, n)
    # dqrsl: qty = t(Q) y, then b = R^-1 qty[:rank]
    qty = np.array(y, dtype=float)
    for j in range(min(rank, n - 1)):
        if qraux[j] == 0.0:
            continue
        saved = qr[j, j]
        qr[j, j] = qraux[j]
        t = -dot(qr[j:, j], qty[j:]) / qr[j, j]
        qty[j:] = qty[j:] + t * qr[j:, j]
        qr[j, j] = saved
    b = qty[:rank].copy()
    for j in range(rank - 1, -1, -1):
        b[j] = b[j] / qr[j, j]
        if j > 0:
            b[:j] = b[:j] + (-b[j]) * qr[:j, j]
    coefficients = np.zeros(p)
    coefficients[np.asarray(pivot[:rank])] = b
    return coefficients
