"""R's ``dnbinom(x, size = , mu = , log = TRUE)`` (nmath ``dnbinom_mu``), vectorised.

DESeq2 uses it for the deviance of every IRLS step in ``fitBeta`` (``Rf_dnbinom_mu``: the
convergence test) and for the log-likelihoods of the LRT (``nbinomLogLike``). SciPy's
``nbinom.logpmf`` subtracts log-gamma functions of large arguments and loses up to ten
digits when ``size = 1 / dispersion`` is large; R's saddle-point form (Loader's
``stirlerr`` and ``bd0``, as ``dbinom_raw``) keeps full precision, and so does this port.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fibroskin.deseq2.r_math import c_log, lgammafn

_M_LN_SQRT_2PI = 0.918938533204672741780329736406
_M_LN_2PI = 1.837877066409345483560659472811
# stirlerr(n) for n = 0, 0.5, 1, ..., 15 (R's sferr_halves)
_SFERR_HALVES = np.array([
    0.0, 0.1534264097200273452913848, 0.0810614667953272582196702, 0.0548141210519176538961390,
    0.0413406959554092940938221, 0.03316287351993628748511048, 0.02767792568499833914878929,
    0.02374616365629749597132920, 0.02079067210376509311152277, 0.01848845053267318523077934,
    0.01664469118982119216319487, 0.01513497322191737887351255, 0.01387612882307074799874573,
    0.01281046524292022692424986, 0.01189670994589177009505572, 0.01110455975820691732662991,
    0.010411265261972096497478567, 0.009799416126158803298389475, 0.009255462182712732917728637,
    0.008768700134139385462952823, 0.008330563433362871256469318, 0.007934114564314020547248100,
    0.007573675487951840794972024, 0.007244554301320383179543912, 0.006942840107209529865664152,
    0.006665247032707682442354394, 0.006408994188004207068439631, 0.006171712263039457647532867,
    0.005951370112758847735624416, 0.005746216513010115682023589, 0.005554733551962801371038690,
])
_S0, _S1, _S2, _S3, _S4 = (0.083333333333333333333, 0.00277777777777777777778,
                          0.00079365079365079365079365, 0.000595238095238095238095238,
                          0.0008417508417508417508417508)


def stirlerr(n: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n / e)^n)`` for ``n >= 0``."""
    n = np.asarray(n, dtype=float)
    out = np.empty_like(n)
    small = n <= 15.0
    if small.any():
        ns = n[small]
        twice = ns + ns
        half_integer = twice == np.floor(twice)
        value = np.empty_like(ns)
        value[half_integer] = _SFERR_HALVES[twice[half_integer].astype(np.int64)]
        other = ~half_integer
        if other.any():
            no = ns[other]
            value[other] = lgammafn(no + 1.0) - (no + 0.5) * c_log(no) + no - _M_LN_SQRT_2PI
        out[small] = value
    large = ~small
    if large.any():
        nl = n[large]
        nn = nl * nl
        value = np.where(
            nl > 500, (_S0 - _S1 / nn) / nl,
            np.where(nl > 80, (_S0 - (_S1 - _S2 / nn) / nn) / nl,
                     np.where(nl > 35, (_S0 - (_S1 - (_S2 - _S3 / nn) / nn) / nn) / nl,
                              (_S0 - (_S1 - (_S2 - (_S3 - _S4 / nn) / nn) / nn) / nn) / nl)))
        out[large] = value
    return out


def bd0(x: NDArray[np.float64], np_: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``bd0(x, np) = x log(x / np) + np - x``, by its Taylor series where ``x ~ np``."""
    x = np.asarray(x, dtype=float)
    np_ = np.asarray(np_, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * c_log(x / np_) + np_ - x
    close = np.abs(x - np_) < 0.1 * (x + np_)
    if close.any():
        xc, nc = x[close], np_[close]
        v = (xc - nc) / (xc + nc)
        s = (xc - nc) * v
        done = np.abs(s) < np.finfo(float).tiny
        ej = 2 * xc * v
        v = v * v
        for j in range(1, 1000):
            if done.all():
                break
            ej = np.where(done, ej, ej * v)
            s1 = s + ej / ((j << 1) + 1)
            converged = (s1 == s) & ~done
            s = np.where(done, s, s1)
            done = done | converged
        out[close] = s
    return out


def _dbinom_raw_log(x: NDArray[np.float64], n: NDArray[np.float64], p: NDArray[np.float64],
                    q: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``dbinom_raw(x, n, p, q, log = TRUE)`` for ``0 < x < n`` and ``0 < p, q``."""
    lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q)
    lf = _M_LN_2PI + c_log(x) + np.log1p(-x / n)
    return lc - 0.5 * lf


def log_dnbinom_mu(x: NDArray[np.float64], size: NDArray[np.float64], mu: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``dnbinom(x, size = size, mu = mu, log = TRUE)`` for counts ``x >= 0``, ``size > 0``.

    Parameters
    ----------
    x, size, mu : ndarray
        Broadcast together; ``x`` non-negative integers, ``size`` positive finite, ``mu``
        non-negative.

    Returns
    -------
    ndarray
        Log densities.
    """
    x, size, mu = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(size, dtype=float),
                                      np.asarray(mu, dtype=float))
    out = np.empty(x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        zero = x == 0
        if zero.any():
            s, m = size[zero], mu[zero]
            out[zero] = s * np.where(s < m, c_log(s / (s + m)), np.log1p(-m / (s + m)))
        few = ~zero & (x < 1e-10 * size)
        if few.any():
            xf, s, m = x[few], size[few], mu[few]
            out[few] = (xf * c_log(s * m / (s + m)) - m - lgammafn(xf + 1.0)
                        + np.log1p(xf * (xf - 1) / (2 * s)))
        rest = ~zero & ~few
        if rest.any():
            xr, s, m = x[rest], size[rest], mu[rest]
            ans = _dbinom_raw_log(s, xr + s, s / (s + m), m / (s + m))
            out[rest] = c_log(s / (s + xr)) + ans
    return out



class NegativeBinomialLogDensity:
    """:func:`log_dnbinom_mu` for fixed counts and sizes, evaluated at many means.

    The terms that do not depend on the mean (Loader's ``stirlerr`` sums, ``log(2 pi x
    (1 - x / n))``, ``lgamma(x + 1)``) are computed once; each call adds the terms in the
    mean with the same operations in the same order as :func:`log_dnbinom_mu`, so the
    values are identical. IRLS evaluates the deviance of the same genes at every iteration.

    Parameters
    ----------
    x : ndarray
        ``(genes, n)`` counts.
    size : ndarray
        ``(genes, 1)`` or ``(genes, n)`` sizes (``1 / dispersion``).
    """

    def __init__(self, x: NDArray[np.float64], size: NDArray[np.float64]) -> None:
        self.x, self.size = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(size, dtype=float))
        self.zero = self.x == 0
        self.few = ~self.zero & (self.x < 1e-10 * self.size)
        self.rest = ~self.zero & ~self.few
        self.constant = np.full(self.x.shape, np.nan)  # stirlerr sums (rest) or lgamma(x + 1) (few)
        self.lf = np.full(self.x.shape, np.nan)
        self.log_p = np.full(self.x.shape, np.nan)
        if self.rest.any():
            s, xr = self.size[self.rest], self.x[self.rest]
            n = xr + s
            with np.errstate(divide="ignore", invalid="ignore"):
                self.constant[self.rest] = stirlerr(n) - stirlerr(s) - stirlerr(n - s)
                self.lf[self.rest] = _M_LN_2PI + c_log(s) + np.log1p(-s / n)
                self.log_p[self.rest] = c_log(s / (s + xr))
        if self.few.any():
            self.constant[self.few] = lgammafn(self.x[self.few] + 1.0)

    def __call__(self, mu: NDArray[np.float64], rows: NDArray[np.int64]) -> NDArray[np.float64]:
        """Log densities of genes ``rows`` at means ``mu`` (``(len(rows), n)``)."""
        x, size = self.x[rows], self.size[rows]
        out = np.empty(mu.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            zero = self.zero[rows]
            if zero.any():
                s, m = size[zero], mu[zero]
                out[zero] = s * np.where(s < m, c_log(s / (s + m)), np.log1p(-m / (s + m)))
            few = self.few[rows]
            if few.any():
                xf, s, m = x[few], size[few], mu[few]
                out[few] = (xf * c_log(s * m / (s + m)) - m - self.constant[rows][few]
                            + np.log1p(xf * (xf - 1) / (2 * s)))
            rest = self.rest[rows]
            if rest.any():
                xr, s, m = x[rest], size[rest], mu[rest]
                n = xr + s
                lc = self.constant[rows][rest] - bd0(s, n * (s / (s + m))) - bd0(n - s, n * (m / (s + m)))
                out[rest] = self.log_p[rows][rest] + (lc - 0.5 * self.lf[rows][rest])
        return out
