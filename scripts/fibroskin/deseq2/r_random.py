"""R's default random number generator, for the one place where DESeq2 draws random numbers.

R DESeq2 estimates the dispersion prior variance of designs with 1 to 3 residual degrees
of freedom by simulation after ``set.seed(2)`` (``estimateDispersionsPriorVar``). To give
R's answer there, :class:`RRandom` reproduces R's default generators draw for draw:
``RNGkind("Mersenne-Twister", "Inversion")`` -- R's seeding of the Mersenne twister
(``set.seed``), ``unif_rand``, ``norm_rand`` by inversion (Wichura's AS 241 ``qnorm``),
``exp_rand`` (Ahrens & Dieter 1972), and ``rgamma`` (Ahrens & Dieter's GD algorithm for
shape >= 1, GS for shape < 1), hence ``rnorm`` and ``rchisq``. Sources: R's
``src/main/RNG.c`` and ``src/nmath/{snorm,sexp,rgamma,rchisq,rnorm,qnorm}.c``; the draws
are checked against R 4.2.2 in ``tests/data/r_random/``.

The Mersenne twister itself is NumPy's :class:`numpy.random.MT19937` (the same
generator) started from the state R's ``set.seed`` builds. Gamma deviates are drawn by
rejection, so how many uniforms each consumes depends on the uniforms themselves; they
are computed one by one, in plain Python (about 2 s for the 2 million that DESeq2 draws).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

#: R's ``unif_rand`` maps a 32-bit word to [0, 1) by this factor (2^-32)...
_TO_UNIT = 2.3283064365386963e-10
#: ... and replaces 0 and 1 by half of 1 / (2^32 - 1) away from them (``fixup``).
_HALF_I2_32M1 = 0.5 * 2.328306437080797e-10
#: ``norm_rand`` by inversion combines two uniforms for 2^27 * 2^32 resolution.
_BIG = 134217728.0
_BLOCK = 1 << 16

# Ahrens & Dieter (1972) exponential: q[k-1] = sum(log(2)^j / j!, j = 1..k)
_EXP_Q = (
    0.6931471805599453, 0.9333736875190459, 0.9888777961838675, 0.9984959252914960040,
    0.9998292811061389, 0.9999833164100727, 0.9999985508193981, 0.9999998906925558,
    0.9999999924734159, 0.9999999995283275, 0.9999999999728814, 0.9999999999985598,
    0.9999999999999289, 0.9999999999999968, 0.9999999999999999, 1.0000000000000000,
)
_EXP_M1 = 0.36787944117144233  # exp(-1)
_SQRT32 = 5.656854
# GD algorithm: q0 = sum(q_k a^-k); q = q0 + t^2/2 sum(a_k v^k)
_Q = (0.04166669, 0.02083148, 0.00801191, 0.00144121, -7.388e-5, 2.4511e-4, 2.424e-4)
_A = (0.3333333, -0.250003, 0.2000062, -0.1662921, 0.1423657, -0.1367177, 0.1233795)


# Wichura's AS 241 rational approximations, written out as R writes them so that the
# rounding is R's; each takes Python floats or NumPy arrays alike.
def _qnorm_central(q, r):
    """Quantile for |p - 0.5| <= 0.425; ``r = 0.180625 - q^2``."""
    return q * (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r
                     + 67265.770927008700853) * r + 45921.953931549871457) * r
                   + 13731.693765509461125) * r + 1971.5909503065514427) * r
                 + 133.14166789178437745) * r + 3.387132872796366608) / (
        ((((((r * 5226.495278852854561 + 28729.085735721942674) * r + 39307.89580009271061) * r
             + 21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r
         + 42.313330701600911252) * r + 1.0)


def _qnorm_tail(r):
    """|quantile| for min(p, 1 - p) >= exp(-25); ``r = sqrt(-log(min(p, 1 - p))) - 1.6``."""
    return (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r
                 + 0.24178072517745061177) * r + 1.27045825245236838258) * r
               + 3.64784832476320460504) * r + 5.7694972214606914055) * r
             + 4.6303378461565452959) * r + 1.42343711074968357734) / (
        ((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r
             + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
           + 0.68976733498510000455) * r + 1.6763848301838038494) * r
         + 2.05319162663775882187) * r + 1.0)


def _qnorm_far_tail(r):
    """|quantile| for min(p, 1 - p) < exp(-25); ``r = sqrt(-log(min(p, 1 - p))) - 5``."""
    return (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r
                 + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
               + 0.29656057182850489123) * r + 1.7848265399172913358) * r
             + 5.4637849111641143699) * r + 6.6579046435011037772) / (
        ((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r
             + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
           + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
         + 0.59983220655588793769) * r + 1.0)


def r_qnorm(p: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Standard normal quantile as R's ``qnorm(p)`` (Wichura 1988, AS 241), vectorised.

    Parameters
    ----------
    p : array_like
        Probabilities in (0, 1).

    Returns
    -------
    ndarray
        Quantiles, computed with R's own rational approximations so that
        :meth:`RRandom.rnorm` returns R's deviates to the last bit.
    """
    p = np.asarray(p, dtype=float)
    q = p - 0.5
    out = np.empty_like(p)
    central = np.abs(q) <= 0.425
    qc = q[central]
    out[central] = _qnorm_central(qc, 0.180625 - qc * qc)
    tail = ~central
    qt = q[tail]
    # R computes 1 - p as 0.5 - p + 0.5 (R_DT_CIv), which rounds differently; and the C
    # library's log (what R calls), not NumPy's SIMD log, which may differ in the last bit
    smaller = np.where(qt > 0, 0.5 - p[tail] + 0.5, p[tail])
    r = np.sqrt(-np.array([math.log(value) for value in smaller.tolist()], dtype=float))
    near = r <= 5.0
    value = np.empty_like(r)
    value[near] = _qnorm_tail(r[near] - 1.6)
    value[~near] = _qnorm_far_tail(r[~near] - 5.0)
    out[tail] = np.where(qt < 0, -value, value)
    return out


def _r_qnorm_scalar(p: float) -> float:
    """:func:`r_qnorm` of one probability in plain Python floats (no array overhead)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        return _qnorm_central(q, 0.180625 - q * q)
    r = math.sqrt(-math.log(0.5 - p + 0.5 if q > 0 else p))
    value = _qnorm_tail(r - 1.6) if r <= 5.0 else _qnorm_far_tail(r - 5.0)
    return -value if q < 0 else value


class RRandom:
    """R's random number stream after ``set.seed(seed)`` (default RNG kinds).

    Parameters
    ----------
    seed : int
        As given to R's ``set.seed``.

    Examples
    --------
    ``RRandom(2).rchisq(3, df=3)`` returns the three values that ``set.seed(2);
    rchisq(3, df = 3)`` gives in R.
    """

    def __init__(self, seed: int) -> None:
        # set.seed: 50 rounds of a linear congruential scrambler, then 625 more words,
        # the first of which is the twister's position (set to 624: twist on first use).
        word = seed & 0xFFFFFFFF
        for _ in range(50):
            word = (69069 * word + 1) & 0xFFFFFFFF
        key = np.empty(625, dtype=np.uint32)
        for index in range(625):
            word = (69069 * word + 1) & 0xFFFFFFFF
            key[index] = word
        self._generator = np.random.MT19937()
        self._generator.state = {"bit_generator": "MT19937", "state": {"key": key[1:], "pos": 624}}
        self._buffer: list[float] = []
        self._position = 0
        self._gamma_shape = math.nan  # rgamma's cached constants are per shape

    # -- uniforms ----------------------------------------------------------------------
    def _draw_words(self, n: int) -> NDArray[np.float64]:
        words = self._generator.random_raw(n).astype(np.float64) * _TO_UNIT
        words[words <= 0.0] = _HALF_I2_32M1
        words[1.0 - words <= 0.0] = 1.0 - _HALF_I2_32M1
        return words

    def uniforms(self, n: int) -> NDArray[np.float64]:
        """The next ``n`` values of R's ``unif_rand()``."""
        buffered = self._buffer[self._position:self._position + n]
        self._position += len(buffered)
        if len(buffered) == n:
            return np.asarray(buffered, dtype=float)
        return np.concatenate([np.asarray(buffered, dtype=float), self._draw_words(n - len(buffered))])

    def unif_rand(self) -> float:
        """R's ``unif_rand()``."""
        if self._position >= len(self._buffer):
            self._buffer = self._draw_words(_BLOCK).tolist()
            self._position = 0
        value = self._buffer[self._position]
        self._position += 1
        return value

    # -- normal and exponential ----------------------------------------------------------
    def norm_rand(self) -> float:
        """R's ``norm_rand()`` (inversion)."""
        u = self.unif_rand()
        u = int(_BIG * u) + self.unif_rand()
        return _r_qnorm_scalar(u / _BIG)

    def rnorm(self, n: int, mean: float = 0.0, sd: float = 1.0) -> NDArray[np.float64]:
        """R's ``rnorm(n, mean, sd)``; like R, draws nothing when ``sd == 0``."""
        if sd == 0.0:
            return np.full(n, float(mean))
        u = self.uniforms(2 * n).reshape(n, 2)
        combined = np.floor(_BIG * u[:, 0]) + u[:, 1]
        return mean + sd * r_qnorm(combined / _BIG)

    def exp_rand(self) -> float:
        """R's ``exp_rand()``: standard exponential (Ahrens & Dieter 1972)."""
        shift = 0.0
        u = self.unif_rand()
        while u <= 0.0 or u >= 1.0:
            u = self.unif_rand()
        while True:
            u += u
            if u > 1.0:
                break
            shift += _EXP_Q[0]
        u -= 1.0
        if u <= _EXP_Q[0]:
            return shift + u
        index = 0
        lowest = self.unif_rand()
        while True:
            candidate = self.unif_rand()
            lowest = min(lowest, candidate)
            index += 1
            if u <= _EXP_Q[index]:
                break
        return shift + lowest * _EXP_Q[0]

    # -- gamma and chi-squared -----------------------------------------------------------
    def _gamma_constants(self, a: float) -> None:
        self._gamma_shape = a
        s2 = a - 0.5
        s = math.sqrt(s2)
        r = 1.0 / a
        q0 = ((((((_Q[6] * r + _Q[5]) * r + _Q[4]) * r + _Q[3]) * r + _Q[2]) * r + _Q[1]) * r + _Q[0]) * r
        # b, si, c were set by Ahrens & Dieter from numerical experiments
        if a <= 3.686:
            b, si, c = 0.463 + s + 0.178 * s2, 1.235, 0.195 / s - 0.079 + 0.16 * s
        elif a <= 13.022:
            b, si, c = 1.654 + 0.0076 * s2, 1.68 / s + 0.275, 0.062 / s + 0.024
        else:
            b, si, c = 1.77, 0.75, 0.1515 / s
        self._gamma = (s2, s, _SQRT32 - s * 12.0, q0, b, si, c)

    @staticmethod
    def _gd_quotient(t: float, s: float, s2: float, q0: float) -> float:
        v = t / (s + s)
        if abs(v) <= 0.25:
            return q0 + 0.5 * t * t * ((((((_A[6] * v + _A[5]) * v + _A[4]) * v + _A[3]) * v
                                         + _A[2]) * v + _A[1]) * v + _A[0]) * v
        return q0 - s * t + 0.25 * t * t + (s2 + s2) * math.log(1.0 + v)

    def rgamma(self, a: float, scale: float = 1.0) -> float:
        """R's ``rgamma(1, shape = a, scale = scale)``."""
        if a < 1.0:  # GS algorithm
            e = 1.0 + _EXP_M1 * a
            while True:
                p = e * self.unif_rand()
                if p >= 1.0:
                    x = -math.log((e - p) / a)
                    if self.exp_rand() >= (1.0 - a) * math.log(x):
                        return scale * x
                else:
                    x = math.exp(math.log(p) / a)
                    if self.exp_rand() >= x:
                        return scale * x
        if a != self._gamma_shape:
            self._gamma_constants(a)
        s2, s, d, q0, b, si, c = self._gamma
        # GD algorithm: immediate, squeeze and quotient acceptance of a normal deviate ...
        t = self.norm_rand()
        x = s + 0.5 * t
        if t >= 0.0:
            return scale * (x * x)
        u = self.unif_rand()
        if d * u <= t * t * t:
            return scale * (x * x)
        if x > 0.0 and math.log(1.0 - u) <= self._gd_quotient(t, s, s2, q0):
            return scale * (x * x)
        # ... else double-exponential rejection
        while True:
            e = self.exp_rand()
            u = self.unif_rand()
            u = u + u - 1.0
            t = b - si * e if u < 0.0 else b + si * e
            if t >= -0.71874483771719:
                q = self._gd_quotient(t, s, s2, q0)
                if q > 0.0 and c * abs(u) <= math.expm1(q) * math.exp(e - 0.5 * t * t):
                    break
        x = s + 0.5 * t
        return scale * (x * x)

    def rchisq(self, n: int, df: float) -> NDArray[np.float64]:
        """R's ``rchisq(n, df)`` (``rgamma(df / 2, scale = 2)`` each)."""
        return np.array([self.rgamma(df / 2.0, 2.0) for _ in range(n)])
