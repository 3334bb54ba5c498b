"""R DESeq2's prior-variance simulation, vectorised, and the histograms it always gives.

For 1 to 3 residual degrees of freedom, ``estimateDispersionsPriorVar`` draws, after
``set.seed(2)``, ``log(rchisq(1e4, df)) + rnorm(1e4, 0, sqrt(v)) - log(df)`` for 200
candidate variances ``v`` and bins each sample with ``hist``. None of that depends on the
data, so the 3 x 200 histograms are a table (``fibroskin/data/prior_variance_histograms.tsv.gz``)
that :mod:`fibroskin.deseq2.dispersion_prior` reads instead of simulating at every fit; it
is made by :func:`write_histogram_table` and checked against R's own histograms and
against a fresh simulation in ``tests/deseq2/test_prior_simulation.py``.

The simulation itself (:func:`chisq_then_normal`) gives R's 2 x 2 million deviates per
residual df bit for bit in about a second, against 15 s for drawing them one by one with
:class:`fibroskin.deseq2.r_random.RRandom`. R's gamma generator draws by rejection, so how
many uniforms a deviate consumes depends on the uniforms themselves. Here one generator
*step* (one attempt of Ahrens & Dieter's GS algorithm, or the start or one rejection round
of their GD algorithm) is evaluated at every position of a long buffer of R's uniforms at
once; a walk through the buffer then follows the steps that R actually takes. The walk is
made fast by coalescence: walks started at nearby positions join after a few steps, so one
walk per block of the buffer is computed for all blocks at once (vectorised across
blocks), and the true walk only steps one by one until it joins the walk of the block it is
in.

Every accept/reject decision uses the C library's ``log``, ``exp`` and ``expm1``, which R
uses, so the decisions are R's on any CPU.
"""

from __future__ import annotations

import functools
import math
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fibroskin.deseq2.r_math import c_log
from fibroskin.deseq2.r_random import (
    _A,
    _BIG,
    _EXP_M1,
    _EXP_Q,
    RRandom,
    _qnorm_central,
    _qnorm_far_tail,
    _qnorm_tail,
)
from fibroskin.deseq2.r_stats import r_seq_length_out

#: Histogram breaks of R's simulation: -10, -9.5, ..., 10.
BREAKS = np.arange(-20, 21) / 2
N_DRAWS = 10_000
N_CANDIDATES = 200
SEED = 2
#: The table of simulated histogram counts, in the package's data folder.
HISTOGRAM_TABLE = "prior_variance_histograms.tsv.gz"

_EXP_QA = np.array(_EXP_Q)
#: More uniforms than any single step consumes (GS: 1, then exp_rand's 2 + 15).
_LOOKAHEAD = 24
#: Uniforms per chi-squared deviate, measured: 3.60 (df 1), 3.32 (df 2), 3.24 (df 3).
_UNIFORMS_PER_DEVIATE = {1: 3.65, 2: 3.37, 3: 3.29}
_BLOCK = 2048


def _repeated_sums(step: float, count: int) -> NDArray[np.float64]:
    """0, step, step + step, ...: added one at a time, as exp_rand accumulates its shift."""
    sums = [0.0]
    for _ in range(count):
        sums.append(sums[-1] + step)
    return np.array(sums)


_EXP_SHIFTS = _repeated_sums(_EXP_Q[0], 64)


@functools.cache
def numpy_exp_is_c_library() -> bool:
    """Whether NumPy's ``exp`` and ``expm1`` return the C library's results here.

    NumPy calls the C library for float64 ``exp`` on most CPUs but has its own SIMD code on
    some (AVX-512); R calls the C library. If a probe of 16,384 arguments finds a
    difference, :func:`_c_exp` and :func:`_c_expm1` use :mod:`math` (the C library).
    """
    probe = np.random.default_rng(20240601).uniform(-30.0, 30.0, 16_384)
    return (np.array_equal(np.exp(probe), [math.exp(v) for v in probe.tolist()])
            and np.array_equal(np.expm1(probe), [math.expm1(v) for v in probe.tolist()]))


def _c_exp(values: NDArray[np.float64]) -> NDArray[np.float64]:
    if numpy_exp_is_c_library():
        return np.exp(values)
    return np.array([math.exp(v) for v in values.tolist()], dtype=float)


def _c_expm1(values: NDArray[np.float64]) -> NDArray[np.float64]:
    if numpy_exp_is_c_library():
        return np.expm1(values)
    return np.array([math.expm1(v) for v in values.tolist()], dtype=float)


def r_qnorm_c(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """R's ``qnorm`` as :func:`fibroskin.deseq2.r_random.r_qnorm`, with a vectorised C ``log``."""
    q = p - 0.5
    out = np.empty_like(p)
    central = np.abs(q) <= 0.425
    qc = q[central]
    out[central] = _qnorm_central(qc, 0.180625 - qc * qc)
    qt = q[~central]
    # R computes 1 - p as 0.5 - p + 0.5 (R_DT_CIv)
    smaller = np.where(qt > 0, 0.5 - p[~central] + 0.5, p[~central])
    r = np.sqrt(-c_log(smaller))
    near = r <= 5.0
    value = np.empty_like(r)
    value[near] = _qnorm_tail(r[near] - 1.6)
    value[~near] = _qnorm_far_tail(r[~near] - 5.0)
    out[~central] = np.where(qt < 0, -value, value)
    return out


def normal_at(uniforms: NDArray[np.float64], start: NDArray[np.int64]) -> NDArray[np.float64]:
    """R's ``norm_rand()`` (inversion) begun at each position ``start`` of the buffer."""
    combined = np.floor(_BIG * uniforms[start]) + uniforms[start + 1]
    return r_qnorm_c(combined / _BIG)


def exp_rand_at(uniforms: NDArray[np.float64], start: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """R's ``exp_rand()`` begun at each position ``start``: the deviate and the uniforms used.

    Ahrens & Dieter (1972): the first uniform is doubled until it exceeds 1, adding
    ``log(2)`` per doubling (counted exactly with :func:`numpy.frexp`); its fraction is
    the deviate's fractional part, or, above ``log(2)``, the minimum of 2 to 16 more uniforms
    times ``log(2)`` is.
    """
    mantissa, exponent = np.frexp(uniforms[start])
    doublings = np.where(mantissa > 0.5, 1 - exponent, 2 - exponent)
    fraction = np.ldexp(mantissa, exponent + doublings) - 1.0
    shift = _EXP_SHIFTS[doublings - 1]
    value = shift + fraction
    consumed = np.ones(start.size, dtype=np.int64)
    tail = np.flatnonzero(fraction > _EXP_QA[0])
    if tail.size:
        extra = np.searchsorted(_EXP_QA, fraction[tail], side="left")
        tail_start = start[tail]
        lowest = np.minimum(uniforms[tail_start + 1], uniforms[tail_start + 2])
        longer = np.flatnonzero(extra >= 2)
        for index in range(2, int(extra.max()) + 1):
            longer = longer[extra[longer] >= index]
            lowest[longer] = np.minimum(lowest[longer], uniforms[tail_start[longer] + 1 + index])
        value[tail] = shift[tail] + lowest * _EXP_QA[0]
        consumed[tail] = 2 + extra
    return value, consumed


class _Steps:
    """One generator step at every buffer position and mode: uniforms used, next mode, output.

    Nodes are ``position * modes + mode``.
    """

    def __init__(self, positions: int, modes: int) -> None:
        self.modes = modes
        self.consumed = np.zeros(positions * modes, dtype=np.int64)
        self.emits = np.zeros(positions * modes, dtype=bool)
        self.next_mode = np.zeros(positions * modes, dtype=np.int64)

    def following(self, node: NDArray[np.int64] | int) -> NDArray[np.int64] | int:
        return (node // self.modes + self.consumed[node]) * self.modes + self.next_mode[node]


def _gd_constants(shape: float) -> tuple[float, ...]:
    generator = RRandom(1)
    generator._gamma_constants(shape)
    return generator._gamma


def _gd_quotient(t: NDArray[np.float64], s: float, s2: float, q0: float) -> NDArray[np.float64]:
    """GD's ``q(t)``, written in the scalar generator's operation order."""
    v = t / (s + s)
    small = np.abs(v) <= 0.25
    out = np.empty_like(t)
    ts, vs = t[small], v[small]
    out[small] = q0 + 0.5 * ts * ts * ((((((_A[6] * vs + _A[5]) * vs + _A[4]) * vs + _A[3]) * vs
                                         + _A[2]) * vs + _A[1]) * vs + _A[0]) * vs
    tl, vl = t[~small], v[~small]
    out[~small] = q0 - s * tl + 0.25 * tl * tl + (s2 + s2) * c_log(1.0 + vl)
    return out


def _gd_steps(uniforms: NDArray[np.float64], shape: float) -> _Steps:
    """GD (shape >= 1). Mode 0 starts a deviate; mode 1 is one round of its rejection loop."""
    s2, s, d, q0, b, si, c = _gd_constants(shape)
    size = uniforms.size - _LOOKAHEAD
    steps = _Steps(size, 2)
    # mode 0: a normal deviate t >= 0 (first uniform >= 1/2) is accepted after two uniforms
    steps.consumed[0::2] = 2
    steps.emits[0::2] = True
    negative = np.flatnonzero(uniforms[:size] < 0.5)
    t = normal_at(uniforms, negative)
    x = s + 0.5 * t
    u = uniforms[negative + 2]
    accept = d * u <= t * t * t
    check = np.flatnonzero(~accept & (x > 0))
    accept[check] = c_log(1.0 - u[check]) <= _gd_quotient(t[check], s, s2, q0)
    steps.consumed[2 * negative] = 3
    steps.emits[2 * negative] = accept
    steps.next_mode[2 * negative] = ~accept
    # mode 1 only where it can be entered: after a rejected mode 0 or mode 1 step
    frontier = negative[~accept] + 3
    seen = np.zeros(size, dtype=bool)
    while frontier.size:
        fresh = np.zeros(size, dtype=bool)
        fresh[frontier[frontier < size]] = True
        fresh &= ~seen
        frontier = np.flatnonzero(fresh)
        seen |= fresh
        if not frontier.size:
            break
        e, consumed = exp_rand_at(uniforms, frontier)
        u = uniforms[frontier + consumed]
        u = u + u - 1.0
        t = np.where(u < 0.0, b - si * e, b + si * e)
        accept = t >= -0.71874483771719
        check = np.flatnonzero(accept)
        q = _gd_quotient(t[check], s, s2, q0)
        positive = q > 0.0
        bound = np.full(check.size, -np.inf)
        tp, ep = t[check[positive]], e[check[positive]]
        bound[positive] = _c_expm1(q[positive]) * _c_exp(ep - 0.5 * tp * tp)
        accept[check] = positive & (c * np.abs(u[check]) <= bound)
        node = 2 * frontier + 1
        steps.consumed[node] = consumed + 1
        steps.emits[node] = accept
        steps.next_mode[node] = ~accept
        frontier = frontier[~accept] + consumed[~accept] + 1
    return steps


def _gs_steps(uniforms: NDArray[np.float64], shape: float) -> _Steps:
    """GS (shape < 1): every step is one attempt."""
    size = uniforms.size - _LOOKAHEAD
    steps = _Steps(size, 1)
    e = 1.0 + _EXP_M1 * shape
    p = e * uniforms[:size]
    deviate, consumed = exp_rand_at(uniforms, np.arange(1, size + 1))
    steps.consumed[:] = 1 + consumed
    x = _gs_values(p, shape)
    high = p >= 1.0
    accept = np.empty(size, dtype=bool)
    accept[high] = deviate[high] >= (1.0 - shape) * c_log(x[high])
    accept[~high] = deviate[~high] >= x[~high]
    steps.emits[:] = accept
    return steps


def _gs_values(p: NDArray[np.float64], shape: float) -> NDArray[np.float64]:
    e = 1.0 + _EXP_M1 * shape
    high = p >= 1.0
    x = np.empty(p.size)
    x[high] = -c_log((e - p[high]) / shape)
    x[~high] = _c_exp(c_log(p[~high]) / shape)
    return x


def _gamma_values(uniforms: NDArray[np.float64], nodes: NDArray[np.int64], shape: float, modes: int) -> NDArray[np.float64]:
    """``rgamma(1, shape)`` of the accepting step at each node."""
    positions = nodes // modes
    if modes == 1:
        return _gs_values((1.0 + _EXP_M1 * shape) * uniforms[positions], shape)
    s2, s, d, q0, b, si, c = _gd_constants(shape)
    first = nodes % modes == 0
    t = np.empty(positions.size)
    t[first] = normal_at(uniforms, positions[first])
    loop = positions[~first]
    e, consumed = exp_rand_at(uniforms, loop)
    u = uniforms[loop + consumed]
    u = u + u - 1.0
    t[~first] = np.where(u < 0.0, b - si * e, b + si * e)
    x = s + 0.5 * t
    return x * x


class _BlockWalks:
    """One walk per block of the buffer, each from the block's first position in mode 0."""

    def __init__(self, steps: _Steps, positions: int, block: int) -> None:
        self.steps, self.block = steps, block
        modes = steps.modes
        starts = np.arange(0, positions, block)
        ends = np.minimum(starts + block, positions)
        current = starts * modes
        active = np.ones(starts.size, dtype=bool)
        self.exit = np.full(starts.size, -1, dtype=np.int64)
        path = []
        while active.any():
            path.append(np.where(active, current, -1))
            following = steps.following(current)
            leaving = active & (following // modes >= ends)
            self.exit[leaving] = following[leaving]
            active &= ~leaving
            current = np.where(active, following, current)
        self.path = np.stack(path, axis=1)  # (blocks, steps), -1 past a walk's end
        on_path = self.path >= 0
        self.length = on_path.sum(axis=1)
        self.path_emits = np.zeros_like(on_path)
        self.path_emits[on_path] = steps.emits[self.path[on_path]]
        self.emits_through = np.cumsum(self.path_emits, axis=1)
        self.step_of = np.full(steps.consumed.size, -1, dtype=np.int64)
        rows, columns = np.nonzero(on_path)
        self.step_of[self.path[rows, columns]] = columns

    def emitting_nodes(self, node: int, wanted: int, limit: int) -> tuple[list[NDArray[np.int64]], int]:
        """The nodes that give the next ``wanted`` deviates from ``node``, and where they end.

        Steps one by one until the walk joins a block's walk, then takes that walk's nodes
        a block at a time. Raises :class:`IndexError` past ``limit`` (buffer too short).
        """
        steps, modes = self.steps, self.steps.modes
        pieces: list[NDArray[np.int64]] = []
        loose: list[int] = []
        while True:
            if node < 0 or node // modes >= limit:
                raise IndexError("the buffer of uniforms is too short")
            step = int(self.step_of[node])
            if step < 0:
                if steps.emits[node]:
                    loose.append(node)
                    wanted -= 1
                    if wanted == 0:
                        pieces.append(np.array(loose, dtype=np.int64))
                        return pieces, int(node // modes + steps.consumed[node])
                node = int(steps.following(node))
                continue
            if loose:
                pieces.append(np.array(loose, dtype=np.int64))
                loose = []
            walk = node // modes // self.block
            before = int(self.emits_through[walk, step - 1]) if step else 0
            available = int(self.emits_through[walk, self.length[walk] - 1]) - before
            if available >= wanted:
                last = int(np.searchsorted(self.emits_through[walk], before + wanted, side="left"))
                pieces.append(self.path[walk, step:last + 1][self.path_emits[walk, step:last + 1]])
                end = int(self.path[walk, last])
                return pieces, int(end // modes + steps.consumed[end])
            stop = int(self.length[walk])
            pieces.append(self.path[walk, step:stop][self.path_emits[walk, step:stop]])
            wanted -= available
            node = int(self.exit[walk])


def chisq_then_normal(
    seed: int, df: int, n_draws: int, sds: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """For each ``sd`` in turn, ``rchisq(n_draws, df)`` then ``rnorm(n_draws, 0, sd)``.

    One stream of R's random numbers after ``set.seed(seed)``, as DESeq2's simulation
    draws them; like R, ``rnorm`` with ``sd == 0`` draws nothing.

    Parameters
    ----------
    seed : int
        R's ``set.seed`` value.
    df : int
        Degrees of freedom of the chi-squared deviates (1 to 3 in DESeq2).
    n_draws : int
        Deviates of each kind per ``sd``.
    sds : ndarray
        Standard deviations of the normal deviates, in the order R draws them.

    Returns
    -------
    chisq, normal : ndarray
        ``(len(sds), n_draws)`` arrays of R's deviates, bit for bit.
    """
    sds = np.asarray(sds, dtype=float)
    shape = df / 2.0
    size = int(sds.size * n_draws * (_UNIFORMS_PER_DEVIATE.get(df, 4.0) + 2)) + 10_000
    while True:
        uniforms = RRandom(seed).uniforms(size + _LOOKAHEAD)
        steps = _gd_steps(uniforms, shape) if shape >= 1.0 else _gs_steps(uniforms, shape)
        walks = _BlockWalks(steps, size, _BLOCK)
        try:
            position, pieces, normal_starts = 0, [], []
            for sd in sds:
                found, position = walks.emitting_nodes(position * steps.modes, n_draws, size)
                pieces.extend(found)
                normal_starts.append(position)
                if sd != 0.0:
                    position += 2 * n_draws
                if position > size:
                    raise IndexError("the buffer of uniforms is too short")
        except IndexError:
            size = int(size * 1.25)
            continue
        break
    chisq = 2.0 * _gamma_values(uniforms, np.concatenate(pieces), shape, steps.modes)
    drawn = np.flatnonzero(sds != 0.0)
    normal = np.zeros((sds.size, n_draws))
    if drawn.size:
        starts = np.asarray(normal_starts)[drawn]
        index = (starts[:, None] + 2 * np.arange(n_draws)[None, :]).ravel()
        normal[drawn] = 0.0 + sds[drawn, None] * normal_at(uniforms, index).reshape(drawn.size, n_draws)
    return chisq.reshape(sds.size, n_draws), normal


def simulated_histogram_counts(residual_df: int) -> NDArray[np.int64]:
    """``hist()`` counts of DESeq2's 200 simulated samples for ``residual_df`` (200 x 40)."""
    candidates = r_seq_length_out(0.0, 8.0, N_CANDIDATES)
    chisq, normal = chisq_then_normal(SEED, residual_df, N_DRAWS, np.sqrt(candidates))
    simulated = np.log(chisq) + normal - np.log(residual_df)
    fuzz = 1e-7 * float(np.median(np.diff(BREAKS)))
    fuzzy = BREAKS + fuzz
    fuzzy[0] = BREAKS[0] - fuzz
    counts = np.zeros((N_CANDIDATES, BREAKS.size - 1), dtype=np.int64)
    for row, values in enumerate(simulated):
        inside = values[(values > BREAKS[0]) & (values < BREAKS[-1])]
        bins = np.searchsorted(fuzzy, inside, side="left") - 1
        counts[row] = np.bincount(bins, minlength=BREAKS.size - 1)
    return counts


def histogram_table() -> NDArray[np.int64]:
    """The shipped table as a ``(3, 200, 40)`` array: residual df 1-3, candidate, bin."""
    return _read_histogram_table().copy()


@functools.cache
def _read_histogram_table() -> NDArray[np.int64]:
    import pandas as pd

    with resources.as_file(resources.files("fibroskin") / "data" / HISTOGRAM_TABLE) as path:
        table = pd.read_csv(path, sep="\t")
    table = table.sort_values(["residual_df", "candidate"])
    counts = table.filter(like="bin").to_numpy(dtype=np.int64)
    return counts.reshape(3, N_CANDIDATES, BREAKS.size - 1)


def write_histogram_table(path: str | Path) -> None:
    """Write the table of :func:`simulated_histogram_counts` for residual df 1 to 3.

    ``python -c "from fibroskin.deseq2.prior_simulation import write_histogram_table;
    write_histogram_table('scripts/fibroskin/data/prior_variance_histograms.tsv.gz')"``
    """
    import gzip

    lines = ["\t".join(["residual_df", "candidate"] + [f"bin{index:02d}" for index in range(1, BREAKS.size)])]
    for residual_df in (1, 2, 3):
        for candidate, counts in enumerate(simulated_histogram_counts(residual_df), start=1):
            lines.append("\t".join(str(value) for value in [residual_df, candidate, *counts]))
    # mtime=0: the same bytes every time
    Path(path).write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
