"""R DESeq2's independent filtering of p-values, reproduced faithfully for pydeseq2 results.

R's ``DESeq2::results()`` adjusts p-values in ``pvalueAdjustment()``:

1. filter statistic = ``baseMean``; ``lowerQuantile = mean(filter == 0)``,
   ``upperQuantile = 0.95`` (or 1 if at least 95% of genes have ``baseMean`` 0);
   ``theta = seq(lowerQuantile, upperQuantile, length = 50)``;
2. ``genefilter::filtered_p``: for each ``theta``, genes with
   ``filter >= quantile(filter, theta)`` (type-7 quantile) are BH-adjusted among
   themselves (``p.adjust`` drops NA p-values, so ``n`` = non-NA p-values kept);
   everything else is NA;
3. ``numRej`` = rejections at ``alpha`` per ``theta``; ``lo.fit = lowess(numRej ~ theta,
   f = 1/5)`` (R's ``stats::lowess``, i.e. the ``clowess`` C routine with the default
   ``iter = 3`` and ``delta = 0.01 * diff(range(theta))``);
4. if ``max(numRej) <= 10`` take the first theta; otherwise
   ``thresh = max(lo.fit$y) - sqrt(mean(residual^2))`` with residuals taken over the
   thetas with ``numRej > 0``, and take the first theta with ``numRej > thresh``.

pydeseq2 0.5.4 (``DeseqStats._independent_filtering``) follows the same outline but uses
its own ``lowess`` (a different smoother: other neighbourhood size, no interpolation
``delta``, different robustness scale), which moves the chosen theta; on pasilla that
alone makes 475 genes non-NA that R sets to NA. Here ``r_lowess`` ports ``clowess``
line for line, quantiles use R's type-7 formula, ``theta`` uses R's ``seq``
arithmetic, and BH uses ``p.adjust``'s arithmetic, so the chosen threshold is R's.

Use::

    stats = DeseqStats(dds, contrast=[...])
    stats.summary()
    padj = r_faithful_padj(stats)          # pd.Series, R's padj

or construct :class:`RFaithfulDeseqStats` instead of ``DeseqStats`` so that
``summary()`` writes R's padj into ``results_df`` directly.

Cook's distance and all-zero genes (checked against R DESeq2 1.46 ``results()``)
------------------------------------------------------------------------------------
* All-zero genes: R reports baseMean 0 and NA for LFC/p-value/padj. pydeseq2 gives
  NaN p-values for them too, and NaN p-values never enter BH, so padj is NA as in R.
  Their ``baseMean == 0`` counts in ``lowerQuantile`` in both.
* Cook's outliers: both set the p-value of a gene to NA when its maximum Cook's
  distance over samples in cells with >= 3 replicates exceeds
  ``qf(0.99, p, m - p)``, before filtering. Departure kept: R applies the "three or
  more counts larger than the outlier count -> not an outlier" rescue only for designs
  with one two-level factor; pydeseq2 applies it for every design. For the two-group
  designs used in this project the two agree. Outlier replacement and refitting
  happens in both only when a cell has >= 7 replicates (``minReplicates = 7``).
* After outlier replacement R recomputes ``baseMean`` of refitted genes from the
  replaced counts; so does pydeseq2 (``_normed_means`` of the refitted genes), and this
  module filters on ``DeseqStats.base_mean``, i.e. on that baseMean, as R does.

Significance level: ``alpha`` is R's ``results(alpha=)``, the FDR level whose number of
rejections the filter maximises, and the level at which calls are read. R's default is
0.1; ``padj`` depends on it (:func:`fibroskin.rnaseq.test_contrast` documents the
workflow's use).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pydeseq2.ds import DeseqStats

NUM_THETA = 50
LOWESS_SPAN = 1 / 5
MIN_REJECTIONS_TO_FILTER = 10


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


def filtered_bh(filter_stat: np.ndarray, pvalue: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``genefilter::filtered_p(filter, test, theta, method = "BH")``.

    Parameters
    ----------
    filter_stat : ndarray
        ``(genes,)`` filter statistic (baseMean).
    pvalue : ndarray
        ``(genes,)`` p-values, NaN allowed.
    theta : ndarray
        ``(k,)`` quantile levels.

    Returns
    -------
    ndarray
        ``(genes, k)`` adjusted p-values, NaN for filtered-out genes.
    """
    cutoffs = r_quantile_type7(filter_stat, theta)
    result = np.full((filter_stat.size, theta.size), np.nan)
    for k, cutoff in enumerate(cutoffs):
        use = filter_stat >= cutoff
        if use.any():
            result[use, k] = r_p_adjust_bh(pvalue[use])
    return result


def choose_filter_theta(theta: np.ndarray, num_rejections: np.ndarray) -> int:
    """Index of the theta R's ``pvalueAdjustment`` picks from the rejection curve.

    Parameters
    ----------
    theta : ndarray
        Quantile levels.
    num_rejections : ndarray
        Rejections at each level.

    Returns
    -------
    int
        0-based index into ``theta``.
    """
    fit = r_lowess(theta, num_rejections.astype(float), f=LOWESS_SPAN)
    if num_rejections.max() <= MIN_REJECTIONS_TO_FILTER:
        return 0
    positive = num_rejections > 0
    residual = num_rejections[positive] - fit[positive] if positive.any() else np.zeros(1)
    thresh = fit.max() - math.sqrt(float(np.mean(residual**2)))
    above = np.flatnonzero(num_rejections > thresh)
    return int(above[0]) if above.size else 0


def independent_filtering(
    base_mean: np.ndarray | pd.Series,
    pvalue: np.ndarray | pd.Series,
    alpha: float = 0.1,
) -> np.ndarray | pd.Series:
    """R DESeq2 ``results()`` adjusted p-values with independent filtering on baseMean.

    Parameters
    ----------
    base_mean : ndarray or Series
        Mean of normalised counts per gene.
    pvalue : ndarray or Series
        Wald p-values, NaN where R would report NA (Cook's outliers, all-zero genes).
    alpha : float
        FDR level the filter is optimised for (R's ``alpha``; DESeq2's default 0.1,
        pydeseq2's default 0.05 -- pass the one you test at).

    Returns
    -------
    ndarray or Series
        padj, NaN for filtered genes; a Series with ``pvalue``'s index if a Series was
        given.
    """
    index = pvalue.index if isinstance(pvalue, pd.Series) else None
    filter_stat = np.asarray(base_mean, dtype=float)
    pvals = np.asarray(pvalue, dtype=float)
    if filter_stat.shape != pvals.shape:
        raise ValueError("base_mean and pvalue must have the same length")
    lower = float(np.mean(filter_stat == 0))
    upper = 0.95 if lower < 0.95 else 1.0
    theta = r_seq_length_out(lower, upper, NUM_THETA)
    filtered = filtered_bh(filter_stat, pvals, theta)
    num_rej = np.sum(filtered < alpha, axis=0)  # NaN compares False == na.rm
    padj = filtered[:, choose_filter_theta(theta, num_rej)]
    return pd.Series(padj, index=index, name="padj") if index is not None else padj


def r_faithful_padj(stats: DeseqStats) -> pd.Series:
    """R DESeq2 padj for a ``DeseqStats`` whose Wald test has been run.

    Uses ``stats.p_values`` (after pydeseq2's Cook's filtering if ``summary()`` ran
    with ``cooks_filter=True``), ``stats.base_mean`` and ``stats.alpha``.

    Parameters
    ----------
    stats : DeseqStats
        Statistics object after ``summary()`` (or ``run_wald_test()``).

    Returns
    -------
    pd.Series
        padj indexed by gene.
    """
    if not hasattr(stats, "p_values"):
        raise ValueError("run stats.summary() (or run_wald_test()) first")
    return independent_filtering(stats.base_mean, stats.p_values, stats.alpha)


class RFaithfulDeseqStats(DeseqStats):
    """``DeseqStats`` whose independent filtering is R DESeq2's (see module docstring)."""

    def _independent_filtering(self) -> None:
        if not hasattr(self, "p_values"):
            self.run_wald_test()
        self.padj = independent_filtering(self.base_mean, self.p_values, self.alpha)
