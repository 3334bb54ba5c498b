"""R's base and stats functions that DESeq2's stages call, with R's arithmetic.

Where a stage's decision depends on the last bits of a number (which theta independent
filtering picks, which prior variance the simulation picks), the R function behind it is
reproduced operation for operation: ``seq(length.out=)``, ``quantile`` (type 7),
``p.adjust(method = "BH")``, ``lowess`` (R's ``clowess``), ``hist(plot = FALSE)$density``,
one-predictor ``loess`` with ``surface = "interpolate"``, ``rowSums``/``rowMeans`` (``long
double`` accumulators), ``mean``, ``matrixStats::rowVars``, ``qr`` (LINPACK ``dqrdc2``) with
``qr.Q`` and ``solve(qr.R)``, and ``%*%`` (reference BLAS ``dgemm`` order).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray


def r_seq_length_out(start: float, stop: float, length_out: int) -> np.ndarray:
    """``seq(start, stop, length.out = length_out)`` with R's arithmetic.

    Parameters
    ----------
    start, stop : float
        End points.
    length_out : int
        Number of points (>= 2).

    Returns
    -------
    ndarray
        The sequence; interior points are ``start + k * ((stop - start) / (n - 1))``
        and the last point is exactly ``stop``, as in ``seq.default``.
    """
    if length_out < 2:
        raise ValueError("length_out must be >= 2")
    if start == stop:
        return np.full(length_out, float(start))
    n1 = length_out - 1
    by = (stop - start) / n1
    interior = start + np.arange(1, n1) * by
    return np.concatenate([[start], interior, [stop]]).astype(float)


def r_quantile_type7(values: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's ``quantile(values, probs)`` (default type 7), same arithmetic.

    Parameters
    ----------
    values : ndarray
        Data without NaN.
    probs : ndarray
        Probabilities in [0, 1].

    Returns
    -------
    ndarray
        Quantiles.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    index = 1 + max(n - 1, 0) * np.asarray(probs, dtype=float)
    lo = np.floor(index).astype(int)
    hi = np.ceil(index).astype(int)
    qs = x[lo - 1]
    x_hi = x[hi - 1]
    interpolate = (index > lo) & (x_hi != qs)
    h = index - lo
    return np.where(interpolate, (1 - h) * qs + h * x_hi, qs)


def r_p_adjust_bh(pvalues: np.ndarray) -> np.ndarray:
    """R's ``p.adjust(p, "BH")``: NaN entries stay NaN and do not count in ``n``.

    Parameters
    ----------
    pvalues : ndarray
        P-values, possibly with NaN.

    Returns
    -------
    ndarray
        Adjusted p-values.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    keep = ~np.isnan(p)
    pk = p[keep]
    n = pk.size
    if n == 0:
        return out
    order = np.argsort(-pk, kind="stable")  # decreasing, ties in original order
    ranks_desc = np.arange(n, 0, -1, dtype=float)  # i <- lp:1
    adjusted = np.minimum(1.0, np.minimum.accumulate(n / ranks_desc * pk[order]))
    res = np.empty(n)
    res[order] = adjusted
    out[keep] = res
    return out


def _lowest(
    x: np.ndarray,
    y: np.ndarray,
    xs: float,
    nleft: int,
    nright: int,
    robustness: np.ndarray | None,
) -> float | None:
    """Local weighted linear fit at ``xs`` (``lowest`` in R's lowess.c, 0-based).

    Returns ``None`` when all weights are zero (R's ``ok = FALSE``).
    """
    n = x.size
    x_range = x[-1] - x[0]
    h = max(xs - x[nleft], x[nright] - xs)
    h9, h1 = 0.999 * h, 0.001 * h
    # neighbourhood runs from nleft through all ties on the right of nright
    r = np.abs(x[nleft:] - xs)
    beyond = (r > h9) & (x[nleft:] > xs)
    stop = nleft + (int(np.argmax(beyond)) if beyond.any() else n - nleft)
    r = r[: stop - nleft]
    w = np.where(r <= h1, 1.0, (1.0 - (r / h) ** 3) ** 3) if h > 0 else np.ones_like(r)
    w = np.where(r <= h9, w, 0.0)
    if robustness is not None:
        w = w * robustness[nleft:stop]
    total = _seq_dot(w, np.ones_like(w))  # sequential sum, as in C
    if total <= 0.0:
        return None
    w = w / total
    xj = x[nleft:stop]
    if h > 0.0:
        centre = _seq_dot(w, xj)
        b = xs - centre
        c = _seq_dot(w, (xj - centre) ** 2)
        if math.sqrt(c) > 0.001 * x_range:
            b /= c
            w = w * (b * (xj - centre) + 1.0)
    return _seq_dot(w, y[nleft:stop])


def _seq_dot(a: np.ndarray, b: np.ndarray) -> float:
    """Left-to-right sum of products, the summation order of the C loops."""
    total = 0.0
    for u, v in zip(a.tolist(), b.tolist()):
        total += u * v
    return total


def r_lowess(
    x: np.ndarray,
    y: np.ndarray,
    f: float = 2 / 3,
    iterations: int = 3,
    delta: float | None = None,
) -> np.ndarray:
    """R's ``stats::lowess`` (the ``clowess`` algorithm), returning fitted ``y``.

    Ported from R's ``src/library/stats/src/lowess.c``: span ``ns = max(2, min(n,
    floor(f*n + 1e-7)))`` nearest points, tricube weights, local linear fit, linear
    interpolation over points within ``delta`` of the last fitted one, and
    ``iterations`` bisquare robustness passes with scale ``6 * median|res|`` (stopping
    early when that scale is below ``1e-7 * mean|res|``).

    Parameters
    ----------
    x, y : ndarray
        Data. Sorted by ``x`` internally (stable), like R.
    f : float
        Smoother span. (default: ``2/3``, R's default).
    iterations : int
        Robustness iterations. (default: ``3``).
    delta : float, optional
        Interpolation distance; R's default ``0.01 * diff(range(x))`` if ``None``.

    Returns
    -------
    ndarray
        Fitted values in the order of ``x`` sorted ascending (R's ``lowess(...)$y``).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if delta is None:
        delta = 0.01 * (x.max() - x.min())
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    n = x.size
    if n < 2:
        return y.copy()
    ns = max(2, min(n, int(f * n + 1e-7)))
    fitted = np.zeros(n)
    robustness: np.ndarray | None = None
    for iteration in range(iterations + 1):
        nleft, nright = 0, ns - 1
        last = -1
        i = 0
        while True:
            if nright < n - 1:
                # slide the window right while that shrinks the radius
                if x[i] - x[nleft] > x[nright + 1] - x[i]:
                    nleft += 1
                    nright += 1
                    continue
            value = _lowest(x, y, x[i], nleft, nright, robustness)
            fitted[i] = y[i] if value is None else value
            if last < i - 1:
                denom = x[i] - x[last]
                for j in range(last + 1, i):
                    a = (x[j] - x[last]) / denom
                    fitted[j] = a * fitted[i] + (1.0 - a) * fitted[last]
            last = i
            cut = x[last] + delta
            i = last + 1
            while i < n:
                if x[i] > cut:
                    break
                if x[i] == x[last]:
                    fitted[i] = fitted[last]
                    last = i
                i += 1
            i = max(last + 1, i - 1)
            if last >= n - 1:
                break
        residuals = y - fitted
        scale = float(np.sum(np.abs(residuals))) / n
        if iteration >= iterations:
            break
        abs_res = np.sort(np.abs(residuals))
        m1 = n // 2
        cmad = 3.0 * (abs_res[m1] + abs_res[n - m1 - 1]) if n % 2 == 0 else 6.0 * abs_res[m1]
        if cmad < 1e-7 * scale:
            break
        r = np.abs(residuals)
        with np.errstate(divide="ignore", invalid="ignore"):  # cmad may be 0; masked
            robustness = np.where(
                r <= 0.001 * cmad,
                1.0,
                np.where(r <= 0.999 * cmad, (1 - (r / cmad) ** 2) ** 2, 0.0),
            )
    return fitted


def r_hist_density(values: NDArray[np.float64], breaks: NDArray[np.float64]) -> NDArray[np.float64]:
    """``hist(values, breaks, plot = FALSE)$density`` for values inside the breaks.

    R counts right-closed bins ``(a, b]`` (the first closed on both sides) after moving
    every break but the first up by ``1e-7`` times the median bin width, and the first
    down by as much; densities divide the counts by ``length(values)`` and the widths of
    the original breaks.

    Parameters
    ----------
    values : ndarray
        Finite values strictly inside ``(breaks[0], breaks[-1])``.
    breaks : ndarray
        Increasing bin edges.

    Returns
    -------
    ndarray
        ``len(breaks) - 1`` densities.
    """
    widths = np.diff(breaks)
    fuzz = 1e-7 * float(np.median(widths))
    fuzzy = breaks + fuzz
    fuzzy[0] = breaks[0] - fuzz
    bins = np.searchsorted(fuzzy, values, side="left") - 1
    counts = np.bincount(bins, minlength=breaks.size - 1)[: breaks.size - 1]
    return counts / (values.size * widths)


def _local_quadratic(x: NDArray[np.float64], y: NDArray[np.float64], at: NDArray[np.float64],
                     span: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Value and slope at ``at`` of loess's tricube-weighted local quadratic fit."""
    n_neighbours = int(np.floor(x.size * span))
    distance = np.abs(at[:, None] - x[None, :])
    radius = np.sort(distance, axis=1)[:, n_neighbours - 1]
    weight = np.clip(1.0 - (distance / radius[:, None]) ** 3, 0.0, None) ** 3
    offset = x[None, :] - at[:, None]
    design = np.stack([np.ones_like(offset), offset, offset**2], axis=-1)
    weighted = design.transpose(0, 2, 1) * weight[:, None, :]
    coefficients = np.linalg.solve(weighted @ design, (weighted @ y)[..., None])[..., 0]
    return coefficients[:, 0], coefficients[:, 1]


def r_loess_1d(x: NDArray[np.float64], y: NDArray[np.float64], new_x: NDArray[np.float64],
               span: float = 0.75, cell: float = 0.2) -> NDArray[np.float64]:
    """``predict(loess(y ~ x, span = span), new_x)`` for one predictor with distinct values.

    R's default loess (degree 2, gaussian family, ``surface = "interpolate"``): the
    x range, widened by 0.5% on each side, is cut at data medians until every cell holds
    at most ``floor(n * span * cell)`` points; at each cut and end point the local
    quadratic fit gives a value and a slope, and between them the surface is the cubic
    Hermite interpolant.

    Parameters
    ----------
    x, y : ndarray
        Data; ``x`` must have distinct values.
    new_x : ndarray
        Where to predict, inside the widened x range.
    span, cell : float
        loess's ``span`` (R's default 0.75) and ``loess.control(cell)``.

    Returns
    -------
    ndarray
        Predictions at ``new_x``.
    """
    ordered = np.sort(np.asarray(x, dtype=float))
    if np.any(np.diff(ordered) == 0):
        raise ValueError("r_loess_1d needs distinct x values")
    max_cell_points = int(np.floor(ordered.size * span * cell))
    margin = 0.005 * max(ordered[-1] - ordered[0], 1e-10 * max(abs(ordered[0]), abs(ordered[-1])) + 1e-30)
    vertices = [ordered[0] - margin, ordered[-1] + margin]
    cells = [(0, ordered.size - 1)]
    while cells:
        low, high = cells.pop()
        if high - low + 1 <= max_cell_points:
            continue
        middle = (low + high + 2) // 2 - 1  # Fortran's m = (l + u) / 2 on 1-based indices
        vertices.append(ordered[middle])
        cells += [(low, middle), (middle + 1, high)]
    vertex = np.array(sorted(vertices))
    value, slope = _local_quadratic(np.asarray(x, dtype=float), np.asarray(y, dtype=float), vertex, span)
    new_x = np.asarray(new_x, dtype=float)
    cell_index = np.clip(np.searchsorted(vertex, new_x, side="left") - 1, 0, vertex.size - 2)
    left, width = vertex[cell_index], np.diff(vertex)[cell_index]
    h = (new_x - left) / width
    return ((1 - h) ** 2 * (1 + 2 * h) * value[cell_index] + h**2 * (3 - 2 * h) * value[cell_index + 1]
            + (h * (1 - h) ** 2 * slope[cell_index] - h**2 * (1 - h) * slope[cell_index + 1]) * width)


def r_row_sums(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``rowSums``: each row summed left to right in ``long double``, then rounded.

    Parameters
    ----------
    x : ndarray
        ``(rows, columns)``.

    Returns
    -------
    ndarray
        ``(rows,)``.
    """
    x = np.asarray(x, dtype=float)
    total = np.zeros(x.shape[0], dtype=np.longdouble)
    for column in range(x.shape[1]):
        total += x[:, column]
    return total.astype(float)


def r_row_means(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``rowMeans``: the ``long double`` row sum divided in ``long double``, then rounded."""
    x = np.asarray(x, dtype=float)
    total = np.zeros(x.shape[0], dtype=np.longdouble)
    for column in range(x.shape[1]):
        total += x[:, column]
    return (total / x.shape[1]).astype(float)


def r_mean(x: NDArray[np.float64]) -> float:
    """R's ``mean`` of a numeric vector: ``long double`` sum, then one correction pass."""
    values = np.asarray(x, dtype=float)
    total = np.longdouble(0.0)
    for value in values:
        total += np.longdouble(value)
    total /= values.size
    if np.isfinite(float(total)):
        correction = np.longdouble(0.0)
        for value in values:
            correction += np.longdouble(value) - total
        total += correction / values.size
    return float(total)


def r_row_vars(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``matrixStats::rowVars`` (what DESeq2 calls): two passes in ``double``, in order."""
    x = np.asarray(x, dtype=float)
    total = np.zeros(x.shape[0])
    for column in range(x.shape[1]):
        total += x[:, column]
    mean = total / x.shape[1]
    squares = np.zeros(x.shape[0])
    for column in range(x.shape[1]):
        deviation = x[:, column] - mean
        squares += deviation * deviation
    return squares / (x.shape[1] - 1)


def _blas_dnrm2(x: NDArray[np.float64]) -> float:
    """Reference BLAS ``dnrm2`` for moderate values: the square root of an ordered sum of squares."""
    total = 0.0
    for value in np.abs(x).tolist():
        total += value * value
    return math.sqrt(total)


def _blas_ddot(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Reference BLAS ``ddot``: products summed in order."""
    total = 0.0
    for a, b in zip(x.tolist(), y.tolist()):
        total += a * b
    return total


def r_qr_q_and_r_inverse(
    x: NDArray[np.float64], tol: float = 1e-7
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``qr.Q(qr(x))`` and ``solve(qr.R(qr(x)))`` for a full-rank design, with R's arithmetic.

    See :func:`r_qr_q_and_r`; ``solve`` of the triangular factor is LAPACK's ``dgesv``,
    whose LU of a triangular matrix is itself, so back substitution as ``dtrsm``.
    """
    q, triangular = r_qr_q_and_r(x, tol)
    p = triangular.shape[0]
    r_inverse = np.eye(p)
    for j in range(p):
        for k in range(p - 1, -1, -1):
            if r_inverse[k, j] != 0.0:
                r_inverse[k, j] = r_inverse[k, j] / triangular[k, k]
                for i in range(k):
                    r_inverse[i, j] = r_inverse[i, j] - r_inverse[k, j] * triangular[i, k]
    return q, r_inverse


def r_qr_q_and_r(
    x: NDArray[np.float64], tol: float = 1e-7
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``qr.Q(qr(x))`` and ``qr.R(qr(x))`` for a full-rank design, with R's arithmetic.

    LINPACK's ``dqrdc2`` (R's ``qr``: Householder reflections, reference BLAS ``dnrm2``,
    ``ddot``, ``daxpy``) and ``dqrsl`` applying them to the identity (``qr.Q``), operation
    for operation.

    Parameters
    ----------
    x : ndarray
        ``(n, p)`` design matrix of full column rank, ``n > p``.
    tol : float
        ``qr``'s rank tolerance.

    Returns
    -------
    q : ndarray
        ``(n, p)``.
    r : ndarray
        ``(p, p)`` upper triangular.
    """
    qr = np.array(x, dtype=float)
    n, p = qr.shape
    qraux = np.array([_blas_dnrm2(qr[:, j]) for j in range(p)])
    work = np.where(qraux == 0.0, 1.0, qraux)
    for col in range(min(n, p)):
        if not qraux[col] >= work[col] * tol:
            raise ValueError("design matrix is not of full column rank")
        if col == n - 1:
            continue
        norm = _blas_dnrm2(qr[col:, col])
        if norm == 0.0:
            continue
        if qr[col, col] != 0.0:
            norm = math.copysign(norm, qr[col, col])
        qr[col:, col] = (1.0 / norm) * qr[col:, col]
        qr[col, col] = 1.0 + qr[col, col]
        for j in range(col + 1, p):
            t = -_blas_ddot(qr[col:, col], qr[col:, j]) / qr[col, col]
            qr[col:, j] = qr[col:, j] + t * qr[col:, col]
            if qraux[j] != 0.0:
                ratio = abs(qr[col, j]) / qraux[j]
                remaining = max(1.0 - ratio * ratio, 0.0)
                if abs(remaining) < 1e-6:
                    qraux[j] = _blas_dnrm2(qr[col + 1:, j])
                    work[j] = qraux[j]
                else:
                    qraux[j] = qraux[j] * math.sqrt(remaining)
        qraux[col] = qr[col, col]
        qr[col, col] = -norm
    # qr.Q: dqrsl applies the reflections, last first, to the columns of the identity
    q = np.zeros((n, p))
    q[np.arange(p), np.arange(p)] = 1.0
    for j in range(p):
        for col in range(min(p, n - 1) - 1, -1, -1):
            if qraux[col] == 0.0:
                continue
            saved = qr[col, col]
            qr[col, col] = qraux[col]
            t = -_blas_ddot(qr[col:, col], q[col:, j]) / qr[col, col]
            q[col:, j] = q[col:, j] + t * qr[col:, col]
            qr[col, col] = saved
    return q, np.triu(qr[:p, :p])


def r_matprod(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """``a %*% b`` as R's reference BLAS ``dgemm``: each entry summed over the inner index in order."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.zeros((a.shape[0], b.shape[1]))
    for inner in range(a.shape[1]):
        out = out + b[inner][None, :] * a[:, inner][:, None]
    return out
