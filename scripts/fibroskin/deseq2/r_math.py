"""R's mathematical functions as DESeq2's C++ calls them, rounding included.

R DESeq2's dispersion line search (:mod:`fibroskin.deseq2.dispersion_line_search`) stops
where one step gains less than ``dispTol``, and near the optimum it compares log
posteriors of thousands that differ in their last bits. To take R's decisions there, the
log posterior must be R's to the last bit, so its pieces are R's:

* :func:`lgammafn` and :func:`digamma`: R's ``nmath`` ``lgammafn`` (Chebyshev series of
  W. Fullerton for ``gamma`` on ``(0, 10]``, Stirling's series with ``lgammacor`` above)
  and ``digamma`` (D. E. Amos's ``dpsifn`` for ``n = 0``), ported operation for operation.
  SciPy's ``gammaln`` and ``psi`` differ from them in the last bit for a quarter to a third
  of arguments.
* :func:`c_log`, :func:`c_exp` and :func:`c_pow`: the C library's ``log``, ``exp`` and
  ``pow``, which R calls. NumPy's ``log`` and ``exp`` have their own SIMD versions on some
  CPUs (AVX-512), and ``x ** -1`` is ``1 / x``, which ``pow`` does not always return; here
  ``log`` and ``exp`` are SciPy's ``boxcox(x, 0)`` and ``inv_boxcox(x, 0)`` (compiled loops
  that call the C library's ``log`` and ``exp``), and ``pow`` is computed in extended
  precision, with ``math.pow`` (the C library's) wherever the exact power lies within 0.05
  units in the last place of a rounding boundary, where ``pow``'s own rounding decides.

Sources: R's ``src/nmath/{lgamma,gamma,lgammacor,chebyshev,polygamma}.c``; checked
against R 4.2.2 in ``tests/deseq2/test_r_math.py``.
"""

from __future__ import annotations

import functools
import math
import platform

import numpy as np
from numpy.typing import NDArray
from scipy.special import boxcox, inv_boxcox

M_LN_SQRT_2PI = 0.918938533204672741780329736406
# gammafn's Chebyshev coefficients (the 22 of 42 that R uses for double precision)
_GAMCS = np.array([
    +.8571195590989331421920062399942e-2, +.4415381324841006757191315771652e-2,
    +.5685043681599363378632664588789e-1, -.4219835396418560501012500186624e-2,
    +.1326808181212460220584006796352e-2, -.1893024529798880432523947023886e-3,
    +.3606925327441245256578082217225e-4, -.6056761904460864218485548290365e-5,
    +.1055829546302283344731823509093e-5, -.1811967365542384048291855891166e-6,
    +.3117724964715322277790254593169e-7, -.5354219639019687140874081024347e-8,
    +.9193275519859588946887786825940e-9, -.1577941280288339761767423273953e-9,
    +.2707980622934954543266540433089e-10, -.4646818653825730144081661058933e-11,
    +.7973350192007419656460767175359e-12, -.1368078209830916025799499172309e-12,
    +.2347319486563800657233471771688e-13, -.4027432614949066932766570534699e-14,
    +.6910051747372100912138336975257e-15, -.1185584500221992907052387126192e-15,
])
# lgammacor's (the 5 of 15 that R uses)
_ALGMCS = np.array([
    +.1666389480451863247205729650822e+0, -.1384948176067563840732986059135e-4,
    +.9810825646924729426157171547487e-8, -.1809129475572494194263306266719e-10,
    +.6221098041892605227126015543416e-13,
])
# dpsifn's Bernoulli numbers
_BVALUES = np.array([
    1.00000000000000000e+00, -5.00000000000000000e-01, 1.66666666666666667e-01,
    -3.33333333333333333e-02, 2.38095238095238095e-02, -3.33333333333333333e-02,
    7.57575757575757576e-02, -2.53113553113553114e-01, 1.16666666666666667e+00,
    -7.09215686274509804e+00, 5.49711779448621554e+01, -5.29124242424242424e+02,
    6.19212318840579710e+03, -8.65802531135531136e+04, 1.42551716666666667e+06,
    -2.72982310678160920e+07, 6.01580873900642368e+08, -1.51163157670921569e+10,
    4.29614643061166667e+11, -1.37116552050883328e+13, 4.88332318973593167e+14,
    -1.92965793419400681e+16,
])
# dpsifn's constants for IEEE doubles, in its own arithmetic
_DBL_EPSILON = float(np.finfo(float).eps)
_WDTOL = max(_DBL_EPSILON * 0.5, 0.5e-18)
_R1M5 = 0.301029995663981195213738894724  # log10(2)
_FLN = max(min(_R1M5 * 53, 18.06), 3.0) - 3.0
_PSI_XMIN = float(int(3.50 + 0.40 * _FLN) + 1)  # xmin for n = 0: 9
_PSI_LARGE = 1 / (2.0 * _DBL_EPSILON)
_EXTENDED = np.finfo(np.longdouble).nmant >= 63
_c_exp = np.frompyfunc(math.exp, 1, 1)
_c_log = np.frompyfunc(math.log, 1, 1)
_c_pow = np.frompyfunc(math.pow, 2, 1)


def _numpy_cpu_features() -> dict[str, bool]:
    """NumPy's record of the CPU features its dispatched loops may use."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__
    return dict(__cpu_features__)


@functools.cache
def numpy_calls_the_c_library() -> bool:
    """Whether NumPy's float64 ``log``, ``exp`` and ``power`` are the C library's here.

    NumPy's float64 loops of these functions call the C library element by element,
    except its AVX-512 versions (its own ``exp``/``log`` for AVX512F, SVML's for
    AVX512_SKX). So on x86-64 without AVX512F they are the C library's; this is then
    confirmed on 4,096 seeded arguments (``power`` with exponents -1 and -2, given as
    arrays) against Python's ``math`` functions, which call the C library. Anywhere else,
    or if any bit differs, :func:`c_log`, :func:`c_exp` and :func:`c_pow` take their
    slower element-wise paths.
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    features = _numpy_cpu_features()
    if features.get("AVX512F", True) or features.get("AVX512_SKX", True):
        return False
    rng = np.random.default_rng(20240601)
    x = np.concatenate([np.exp(rng.uniform(-40.0, 40.0, 2048)), rng.uniform(0.5, 2.0, 2048)])
    log_x = np.log(x)
    checks = [
        (log_x, _c_log(x)),
        (np.exp(log_x), _c_exp(log_x)),
        (np.power(x, np.full(x.shape, -1.0)), _c_pow(x, -1.0)),
        (np.power(x, np.full(x.shape, -2.0)), _c_pow(x, -2.0)),
    ]
    return all(np.array_equal(ours, np.asarray(theirs, dtype=float)) for ours, theirs in checks)


def c_log(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The C library's ``log`` (what R's ``log`` is), elementwise.

    Where NumPy's ``log`` is its own (AVX-512), SciPy's ``boxcox(x, 0)``, which is ``log(x)``
    from the C library in a compiled loop (three times faster than ``xlogy(1, x)``).
    """
    if numpy_calls_the_c_library():
        return np.log(x)
    return boxcox(x, 0.0)


def c_exp(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The C library's ``exp``, elementwise.

    Where NumPy's ``exp`` is its own (AVX-512), SciPy's ``inv_boxcox(x, 0)``, which is
    ``exp(x)`` from the C library in a compiled loop: 50 times faster than Python's
    ``math.exp`` element by element, and equal to it bit for bit
    (``tests/deseq2/test_r_math.py``).
    """
    x = np.asarray(x, dtype=float)
    if numpy_calls_the_c_library():
        return np.exp(x)
    return np.asarray(inv_boxcox(x, 0.0), dtype=float)


def c_pow(x: NDArray[np.float64], exponent: int) -> NDArray[np.float64]:
    """The C library's ``pow(x, exponent)`` for ``exponent`` -1 or -2 and positive ``x``.

    Where NumPy's ``power`` is the C library's (:func:`numpy_calls_the_c_library`), it is
    called with the exponent as an array (with a scalar ``-1`` NumPy returns ``1 / x``).
    Elsewhere :func:`c_pow_extended`.
    """
    x = np.asarray(x, dtype=float)
    if exponent not in (-1, -2):
        raise ValueError(f"c_pow covers exponents -1 and -2, not {exponent}")
    if numpy_calls_the_c_library():
        return np.power(x, np.full(x.shape, float(exponent)))
    return c_pow_extended(x, exponent)


def c_pow_extended(x: NDArray[np.float64], exponent: int) -> NDArray[np.float64]:
    """The C library's ``pow(x, exponent)`` (-1 or -2) without NumPy's ``power``.

    ``pow`` returns the correctly rounded power except, within its error bound, where the
    exact power lies next to the midpoint of two doubles. The power is computed in
    extended precision and rounded; where it lies within 0.05 ulp of a midpoint (and at
    powers of two), ``math.pow`` gives the C library's own answer. Without extended
    precision (``long double`` = ``double``) every element goes to ``math.pow``.
    """
    x = np.asarray(x, dtype=float)
    if not _EXTENDED:
        return np.asarray(_c_pow(x, float(exponent)), dtype=float).reshape(x.shape)
    # candidate: the double nearest to 1 / x or 1 / (x * x); check it against the exact
    # power with long double products (1 - r x or 1 - r x x, to 2^-64)
    rounded = 1.0 / x if exponent == -1 else 1.0 / (x * x)
    wide = x.astype(np.longdouble)
    product = rounded.astype(np.longdouble) * wide
    if exponent == -2:
        product = product * wide
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # the exact power is rounded / product; its offset from rounded in ulps of rounded
        offset = ((1 - product).astype(float) * rounded) / np.spacing(rounded)
    size = np.abs(offset)
    # a candidate whose exact power lies beyond half an ulp (only 1 / (x * x), where x * x
    # was rounded first) is moved to its neighbour; near 0.5 ulp, at powers of two (where
    # the ulp below is half the ulp above) and far off, the C library decides
    candidate_power_of_two = (rounded.view(np.int64) & 0xFFFFFFFFFFFFF) == 0
    move = (size > 0.55) & (size < 1.45)
    if move.any():
        rounded[move] = np.nextafter(rounded[move], np.where(offset[move] > 0, np.inf, -np.inf))
    power_of_two = candidate_power_of_two | ((rounded.view(np.int64) & 0xFFFFFFFFFFFFF) == 0)
    ambiguous = ((size >= 0.45) & (size <= 0.55)) | ~(size < 1.45) | power_of_two | ~np.isfinite(rounded)
    if ambiguous.any():
        rounded[ambiguous] = np.asarray(_c_pow(x[ambiguous], float(exponent)), dtype=float)
    return rounded


def _chebyshev_eval(x: NDArray[np.float64], coefficients: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``chebyshev_eval``: Clenshaw's recurrence, same operation order.

    R starts from ``b0 = b1 = b2 = 0``, so its first two steps give ``c[n-1]`` and
    ``twox * c[n-1] + c[n-2]`` exactly (adding or subtracting a zero changes no bit); they
    are taken as such, the rest in place.
    """
    twox = x * 2
    b2, b1 = 0.0, float(coefficients[-1])
    b0 = twox * b1
    b0 += coefficients[-2]
    for coefficient in coefficients[-3::-1]:
        released = b2  # R's b2 of the previous step: free once this step has begun
        b2, b1 = b1, b0
        b0 = released if isinstance(released, np.ndarray) else np.empty_like(twox)
        np.multiply(twox, b1, out=b0)
        b0 -= b2
        b0 += coefficient
    result = b0 - b2
    result *= 0.5
    return result


def _gammafn_up_to_10(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``gammafn`` for ``0 < x <= 10``."""
    whole = np.trunc(x)
    fraction = x - whole
    steps = whole - 1  # R's n after --n
    value = _chebyshev_eval(fraction * 2 - 1, _GAMCS)
    value += .9375
    below_one = steps < 0
    np.divide(value, x, out=value, where=below_one)  # 0 < x < 1: one division by x
    most = int(steps.max()) if steps.size else 0
    for i in range(1, min(most, 9) + 1):  # 2 <= x <= 10: value *= (y + i), i = 1..n
        np.multiply(value, fraction + i, out=value, where=steps >= i)
    return value


def _lgammacor(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``lgammacor`` for ``10 <= x < 94906265.62``."""
    tmp = 10 / x
    tmp *= tmp
    tmp *= 2
    tmp -= 1
    value = _chebyshev_eval(tmp, _ALGMCS)
    value /= x
    return value


def _lgamma_stirling(x: NDArray[np.float64], with_correction: bool) -> NDArray[np.float64]:
    """R's ``lgammafn`` above 10: ``M_LN_SQRT_2PI + (x - 0.5) * log(x) - x`` (+ ``lgammacor``)."""
    value = x - 0.5
    value *= c_log(x)
    value += M_LN_SQRT_2PI  # R: M_LN_SQRT_2PI + (x - 0.5) * log(x); addition commutes exactly
    value -= x
    if with_correction:
        value += _lgammacor(x)
    return value


def lgammafn(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``lgammafn`` (``lgamma``) for positive ``x``, bit for bit.

    Parameters
    ----------
    x : ndarray
        Positive arguments.

    Returns
    -------
    ndarray
        ``log(gamma(x))``, same shape.
    """
    x = np.asarray(x, dtype=float)
    if x.size and 10 < x.min() and x.max() <= 4934720.0:
        return _lgamma_stirling(x, True)  # the common case, without masks
    out = np.empty_like(x)
    small = x <= 10
    if small.any():
        out[small] = c_log(np.abs(_gammafn_up_to_10(x[small])))
    for low, high, with_correction in ((10, 4934720.0, True), (4934720.0, 1e17, False)):
        band = (x > low) & (x <= high)
        if band.any():
            out[band] = _lgamma_stirling(x[band], with_correction)
    huge = x > 1e17
    if huge.any():
        out[huge] = x[huge] * (c_log(x[huge]) - 1.0)
    return out


def digamma(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``digamma`` (``-dpsifn(x, 0, 1, 1)``) for positive ``x``, bit for bit.

    Parameters
    ----------
    x : ndarray
        Positive arguments.

    Returns
    -------
    ndarray
        ``psi(x)``, same shape.
    """
    x = np.asarray(x, dtype=float)
    flat = x.ravel()
    xln = c_log(flat)
    shift = flat < _PSI_XMIN
    any_shift = bool(shift.any())
    if any_shift:
        increment = np.where(shift, _PSI_XMIN - np.trunc(flat), 0.0)
        xdmy = np.where(shift, flat + increment, flat)
        xdmln = xln.copy()
        xdmln[shift] = c_log(xdmy[shift])
    else:
        xdmy, xdmln = flat, xln
    # asymptotic expansion at xdmy >= 9 (dpsifn's L10 with n = 0): every argument adds
    # terms until its own first negligible one; tk is the same for all still adding
    tt = 0.5 / xdmy
    tst = _WDTOL * tt
    rxsq = xdmy * xdmy
    np.divide(1.0, rxsq, out=rxsq)
    t = 0.5 * rxsq
    series = t * _BVALUES[2]
    alive = np.abs(series) >= tst
    # the arguments still adding terms are gathered once they are fewer than half of
    # those in hand (large arguments stop after two or three terms, those near 9 after
    # eight); each argument's own arithmetic is the same either way
    positions = None  # indices into series of the arguments in hand; None: all
    partial = series
    term = np.empty_like(t)
    magnitude = np.empty_like(t)
    tk = 2.0
    for k in range(4, 23):
        remaining = np.count_nonzero(alive)
        if remaining == 0:
            break
        if remaining < alive.size // 2:
            keep = np.flatnonzero(alive)
            if positions is not None:
                series[positions] = partial
            positions = keep if positions is None else positions[keep]
            t, rxsq, tst, partial = t[keep], rxsq[keep], tst[keep], partial[keep]
            term, magnitude = term[:remaining], magnitude[:remaining]
            alive = np.ones(remaining, dtype=bool)
        # dpsifn: t *= ((tk + n + 1) / (tk + 1)) * ((tk + n) / (tk + 2)) * rxsq, n = 0; its
        # first factor is exactly 1, and multiplying by 1 changes no bit
        t *= (tk + 0) / (tk + 2.0)
        t *= rxsq
        np.multiply(t, _BVALUES[k - 1], out=term)
        np.abs(term, out=magnitude)
        alive &= ~(magnitude < tst)
        np.add(partial, term, out=partial, where=alive)
        tk += 2.0
    if positions is not None:
        series[positions] = partial
    series += tt  # dpsifn: (s + t1) * tss with tss = 1 for n = 0
    if any_shift:
        # backward recurrence from xdmy to x (dpsifn's L20), smallest denominators last
        shifted = np.flatnonzero(shift)
        steps = increment[shifted].astype(np.int64)
        x_shifted, partial = flat[shifted], series[shifted]
        for i in range(1, int(_PSI_XMIN) + 1):
            take = i <= steps
            partial[take] = partial[take] + 1.0 / (x_shifted[take] + (steps[take] - i))
        series[shifted] = partial
    series -= xdmln
    np.negative(series, out=series)
    # dpsifn returns -log(x) (digamma log(x)) where x * log(x) exceeds 1 / (2 eps); the
    # product is non-decreasing in x above 1, so the largest argument decides whether any does
    largest = flat.max() if flat.size else 0.0
    if largest > 1.0 and largest * math.log(largest) > _PSI_LARGE * 0.5:
        series = np.where(flat * xln > _PSI_LARGE, xln, series)
    return series.reshape(x.shape)


def trigamma(x: float) -> float:
    """R's ``trigamma`` (``dpsifn(x, 1, 1, 1)``) of one argument ``x >= 0.5``, bit for bit.

    R's prior variance of log dispersion subtracts ``trigamma(df / 2)``; SciPy's
    ``polygamma(1, .)`` differs from R's in the last bit for three quarters of ``df``.

    Parameters
    ----------
    x : float
        Argument, at least 0.5 (the dpsifn path R takes for ``df / 2``).

    Returns
    -------
    float
        ``psi'(x)``.
    """
    x = float(x)
    if not x >= 0.5:
        raise ValueError(f"trigamma is ported for x >= 0.5, not {x}")
    xln = math.log(x)
    if x > _PSI_LARGE:
        return math.exp(-xln)
    xmin = float(int(3.50 + 0.40 * _FLN + (0.21 + _FLN * (0.0006038 * _FLN + 0.008677)) * 1) + 1)
    xdmy, xdmln, increment = x, xln, 0.0
    if x < xmin:
        increment = xmin - int(x)
        xdmy = x + increment
        xdmln = math.log(xdmy)
    tss = math.exp(-xdmln)
    tt = 0.5 / xdmy
    t1 = tt + 1.0 / 1
    tst = _WDTOL * tt
    rxsq = 1.0 / (xdmy * xdmy)
    ta = 0.5 * rxsq
    t = (1 + 1) * ta
    series = t * float(_BVALUES[2])
    if abs(series) >= tst:
        tk = 2.0
        for k in range(4, 23):
            t = t * ((tk + 1 + 1) / (tk + 1.0)) * ((tk + 1) / (tk + 2.0)) * rxsq
            term = t * float(_BVALUES[k - 1])
            if abs(term) < tst:
                break
            series += term
            tk += 2.0
    series = (series + t1) * tss
    if increment != 0.0:
        xm = increment - 1.0
        fx = x + xm
        for _ in range(int(increment)):
            series += float(c_pow(np.array([fx]), -2)[0])
            xm -= 1.0
            fx = x + xm
    return series
