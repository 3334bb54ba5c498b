"""fibroskin.deseq2.r_random reproduces R's random numbers draw for draw (tests/data/r_random)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import DATA
from fibroskin.deseq2.r_random import RRandom, _r_qnorm_scalar, r_qnorm

DRAWS = pd.read_csv(DATA / "r_random" / "draws.tsv.gz", sep="\t", float_precision="round_trip")


def r_values(call: str) -> np.ndarray:
    values = DRAWS.loc[DRAWS["call"] == call, "value"].to_numpy()
    assert values.size, call
    return values


@pytest.mark.parametrize(
    ("call", "probabilities"),
    [
        ("qnorm((1:2000) / 2003)", np.arange(1, 2001) / 2003),
        ("qnorm(2^-(3:60))", 2.0 ** -np.arange(3, 61)),
        ("qnorm(1 - 2^-(3:52))", 1 - 2.0 ** -np.arange(3, 53)),
    ],
)
def test_qnorm_is_rs_to_the_last_bit(call, probabilities):
    expected = r_values(call)
    np.testing.assert_array_equal(r_qnorm(probabilities), expected)
    np.testing.assert_array_equal([_r_qnorm_scalar(p) for p in probabilities], expected)


def test_uniform_normal_and_exponential_after_set_seed():
    np.testing.assert_array_equal(RRandom(2).uniforms(5), r_values("runif(5)"))
    rng = RRandom(2)
    np.testing.assert_array_equal([rng.unif_rand() for _ in range(5)], r_values("runif(5)"))
    np.testing.assert_array_equal(RRandom(2).rnorm(5), r_values("rnorm(5)"))
    rng = RRandom(2)
    np.testing.assert_array_equal([rng.norm_rand() for _ in range(5)], r_values("rnorm(5)"))
    rng = RRandom(2)
    np.testing.assert_array_equal([rng.exp_rand() for _ in range(5)], r_values("rexp(5)"))


def test_the_stream_deseq2_draws_for_the_prior_variance():
    """rchisq then rnorm, df 1 (GS algorithm), 2 and 3 (GD), with an sd = 0 call between."""
    rng = RRandom(2)
    normal = r_values("rnorm(3000, 0, 1.5)").reshape(3, 3000)
    for df in (1, 2, 3):
        np.testing.assert_array_equal(rng.rchisq(3000, df), r_values(f"rchisq(3000, df = {df})"))
        np.testing.assert_array_equal(rng.rnorm(3000, 0.0, 0.0), np.zeros(3000))  # draws nothing
        np.testing.assert_array_equal(rng.rnorm(3000, 0.0, 1.5), normal[df - 1])


def test_gamma_with_larger_shapes():
    rng = RRandom(20240601)
    np.testing.assert_array_equal([rng.rgamma(7.5, 2.0) for _ in range(3000)], r_values("rgamma(3000, shape = 7.5, scale = 2)"))
    np.testing.assert_array_equal([rng.rgamma(20.0) for _ in range(3000)], r_values("rgamma(3000, shape = 20)"))


def test_vectorised_and_one_by_one_uniforms_share_one_stream():
    one_by_one = RRandom(7)
    mixed = RRandom(7)
    first = [one_by_one.unif_rand() for _ in range(70_000)]
    combined = [mixed.unif_rand() for _ in range(3)] + mixed.uniforms(69_990).tolist()
    combined += [mixed.unif_rand() for _ in range(7)]
    assert combined == first
