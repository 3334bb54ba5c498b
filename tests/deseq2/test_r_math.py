"""R's special functions and the C library's exp/log/pow (fibroskin.deseq2.r_math), bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fibroskin.deseq2 import r_math
from fibroskin.deseq2.r_math import c_exp, c_log, c_pow, digamma, lgammafn, trigamma

from conftest import DATA

R_VALUES = pd.read_csv(DATA / "r_math" / "lgamma_digamma_trigamma.csv.gz", float_precision="round_trip")


def test_lgammafn_is_rs():
    x = R_VALUES["x"].to_numpy()
    np.testing.assert_array_equal(lgammafn(x), R_VALUES["lgamma"].to_numpy())
    # (why a port: SciPy's gammaln differs from R's in the last bit for 22% of these)


def test_digamma_is_rs():
    x = R_VALUES["x"].to_numpy()
    np.testing.assert_array_equal(digamma(x), R_VALUES["digamma"].to_numpy())
    np.testing.assert_array_equal(digamma(x.reshape(2, -1)), R_VALUES["digamma"].to_numpy().reshape(2, -1))
    # (SciPy's psi: 33% differ)


def test_trigamma_is_rs():
    table = R_VALUES[R_VALUES["trigamma"].notna()]
    ours = [trigamma(x) for x in table["x"]]
    np.testing.assert_array_equal(ours, table["trigamma"].to_numpy())
    # (SciPy's polygamma(1, .): 77% of df / 2 differ)
    with pytest.raises(ValueError, match="0.5"):
        trigamma(0.25)


def _math_exp(value: float) -> float:
    """Python's ``math.exp`` (the C library's), with the C library's ``inf`` where Python raises."""
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


@pytest.mark.parametrize("forced_element_wise", [False, True], ids=["this-machine", "element-wise"])
def test_c_functions_are_the_c_librarys(forced_element_wise, monkeypatch):
    """Both paths (NumPy's loops where they call the C library, else element-wise) are the C library's."""
    if forced_element_wise:
        monkeypatch.setattr(r_math, "numpy_calls_the_c_library", lambda: False)
    rng = np.random.default_rng(0)
    x = np.exp(rng.uniform(-20, 20, 200_000))
    for exponent in (-1, -2):
        expected = np.array([math.pow(v, exponent) for v in x])
        np.testing.assert_array_equal(c_pow(x, exponent), expected)
    # (glibc's pow(x, -1) differs from 1 / x for 0.09% of these: pow rounds by 0.52 ulp;
    # NumPy's power with a scalar -1 returns 1 / x)
    assert (np.power(x, -1.0) != np.array([math.pow(v, -1) for v in x])).any()
    # exp over its whole range (underflow to subnormals and 0, up to overflow), in 2-D
    exponents = np.concatenate([rng.uniform(-750, 710, 100_000), rng.uniform(-2, 2, 100_000)]).reshape(400, 500)
    expected = np.array([[_math_exp(v) for v in row] for row in exponents])
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(c_exp(exponents), expected)
    edges = np.array([0.0, np.inf, 5e-324, 1e-310, 1.0, 2.0, 1.7976931348623157e308])
    np.testing.assert_array_equal(c_log(edges), [-np.inf if v == 0 else math.log(v) for v in edges])
    np.testing.assert_array_equal(c_log(x), [math.log(v) for v in x])
    with pytest.raises(ValueError, match="-1 and -2"):
        c_pow(x, 2)
