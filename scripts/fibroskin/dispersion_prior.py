"""R DESeq2's dispersion prior variance for designs with 1 to 3 residual degrees of freedom.

With few residual degrees of freedom the log gene-wise dispersion estimates scatter
asymmetrically around the trend, and the MAD estimate of their variance is poor. R DESeq2's
``estimateDispersionsPriorVar`` then finds the prior variance by simulation: for each of
200 candidate variances ``v`` on ``[0, 8]`` it draws 10,000 values of
``log(chisq_df / df) + N(0, v)`` (``set.seed(2)``), compares their histogram with that
of the observed residuals ``log(gene-wise) - log(trend)`` by Kullback-Leibler divergence,
smooths the 200 divergences with ``loess(span = 0.2)`` and takes the variance of least
smoothed divergence on a 1,000-point grid (at least 0.25). pydeseq2 0.5 skips this and
uses ``max(MAD^2 - trigamma(df / 2), 0.25)`` for every design, which on pasilla with 3
treated and 2 untreated samples gives 0.25 against R's 0.52 and changes 15% of the calls.

:func:`r_prior_variance_small_df` reproduces R's computation to the last bit: R's random
numbers (:class:`fibroskin.r_random.RRandom`), R's ``hist`` binning (including its 1e-7
fuzz of the breaks) and R's ``loess`` surface (local quadratic fits at the vertices of a
k-d tree, joined by cubic Hermite interpolation, as ``surface = "interpolate"`` does).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fibroskin.independent_filtering import r_seq_length_out
from fibroskin.r_random import RRandom

#: Histogram breaks of R's simulation: -10, -9.5, ..., 10.
BREAKS = np.arange(-20, 21) / 2
#: Draws per candidate variance, candidate variances, fine grid, smoothing span, seed.
N_DRAWS = 10_000
N_CANDIDATES = 200
N_FINE = 1000
SPAN = 0.2
SEED = 2
MIN_PRIOR_VARIANCE = 0.25


def r_hist_density(values: NDArray[np.float64], breaks: NDArray[np.float64] = BREAKS) -> NDArray[np.float64]:
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
               span: float = SPAN, cell: float = 0.2) -> NDArray[np.float64]:
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
        loess's ``span`` and ``loess.control(cell)``.

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


def kl_divergences(residuals: NDArray[np.float64], residual_df: int,
                   candidates: NDArray[np.float64], seed: int = SEED) -> NDArray[np.float64]:
    """R's divergence of the residual histogram from each candidate's simulated histogram.

    Parameters
    ----------
    residuals : ndarray
        ``log(gene-wise dispersion) - log(trend)`` of the genes whose gene-wise estimate
        is at least 100 times the minimum dispersion.
    residual_df : int
        Samples minus model coefficients (1 to 3).
    candidates : ndarray
        Candidate prior variances, in R's order of simulation.
    seed : int
        R's ``set.seed`` value.

    Returns
    -------
    ndarray
        One Kullback-Leibler divergence per candidate.
    """
    inside = residuals[np.isfinite(residuals) & (residuals > BREAKS[0]) & (residuals < BREAKS[-1])]
    observed = r_hist_density(inside)
    rng = RRandom(seed)
    divergences = np.empty(candidates.size)
    for index, variance in enumerate(candidates):
        chisq = rng.rchisq(N_DRAWS, residual_df)
        simulated = np.log(chisq) + rng.rnorm(N_DRAWS, 0.0, float(np.sqrt(variance))) - np.log(residual_df)
        simulated = simulated[(simulated > BREAKS[0]) & (simulated < BREAKS[-1])]
        density = r_hist_density(simulated)
        both = np.concatenate([observed, density])
        small = both[both > 0].min()
        divergences[index] = np.sum(observed * (np.log(observed + small) - np.log(density + small)))
    return divergences


def r_prior_variance_small_df(residuals: NDArray[np.float64], residual_df: int, seed: int = SEED) -> float:
    """R DESeq2's dispersion prior variance when ``1 <= residual_df <= 3``.

    Parameters
    ----------
    residuals : ndarray
        ``log(gene-wise dispersion) - log(trend)`` of the genes whose gene-wise estimate
        is at least 100 times the minimum dispersion (R's ``aboveMinDisp``).
    residual_df : int
        Samples minus model coefficients.
    seed : int
        R's ``set.seed`` value (DESeq2 uses 2).

    Returns
    -------
    float
        The variance of least smoothed divergence, at least 0.25.
    """
    if not 1 <= residual_df <= 3:
        raise ValueError(f"R simulates the prior variance only for 1 to 3 residual df, not {residual_df}")
    candidates = r_seq_length_out(0.0, 8.0, N_CANDIDATES)
    divergences = kl_divergences(np.asarray(residuals, dtype=float), residual_df, candidates, seed)
    fine = r_seq_length_out(0.0, 8.0, N_FINE)
    smoothed = r_loess_1d(candidates, divergences, fine)
    return max(float(fine[np.argmin(smoothed)]), MIN_PRIOR_VARIANCE)
