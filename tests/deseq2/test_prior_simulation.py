"""R's prior-variance simulation, vectorised, and the histogram table the engine ships."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import DATA
from fibroskin.deseq2.prior_simulation import (
    chisq_then_normal,
    exp_rand_at,
    histogram_table,
    simulated_histogram_counts,
)
from fibroskin.deseq2.r_random import RRandom

R_HISTOGRAMS = DATA / "r_random" / "prior_histograms.tsv.gz"


def r_histograms() -> np.ndarray:
    table = pd.read_csv(R_HISTOGRAMS, sep="\t").sort_values(["residual_df", "candidate"])
    return table.filter(like="bin").to_numpy().reshape(3, 200, 40)


def test_shipped_table_is_rs_histograms():
    # every count of R 4.2.2's 3 x 200 x 10,000 simulated values (make_prior_histograms.R)
    np.testing.assert_array_equal(histogram_table(), r_histograms())


@pytest.mark.parametrize("residual_df", [1, 2, 3])
def test_vectorised_simulation_makes_the_shipped_table(residual_df):
    np.testing.assert_array_equal(simulated_histogram_counts(residual_df), histogram_table()[residual_df - 1])


@pytest.mark.parametrize("df", [1, 2, 3])
def test_stream_equals_rs_generators_one_by_one(df):
    # 40 blocks of 500 deviates, the first normal block with sd 0 (draws nothing), as DESeq2
    sds = np.sqrt(np.linspace(0.0, 8.0, 40))
    chisq, normal = chisq_then_normal(2, df, 500, sds)
    scalar = RRandom(2)
    for row, sd in enumerate(sds):
        np.testing.assert_array_equal(chisq[row], scalar.rchisq(500, df))
        np.testing.assert_array_equal(normal[row], scalar.rnorm(500, 0.0, float(sd)))


def test_first_block_is_rs_reference_draws():
    # make_reference.R: set.seed(2); rchisq(3000, df = 1); rnorm(3000, 0, 0); rnorm(3000, 0, 1.5)
    draws = pd.read_csv(DATA / "r_random" / "draws.tsv.gz", sep="\t", float_precision="round_trip")
    chisq, normal = chisq_then_normal(2, 1, 3000, np.array([1.5]))
    np.testing.assert_array_equal(chisq[0], draws.loc[draws["call"] == "rchisq(3000, df = 1)", "value"])
    np.testing.assert_array_equal(normal[0], draws.loc[draws["call"] == "rnorm(3000, 0, 1.5)", "value"][:3000])


def test_exp_rand_at_any_position_is_rs_and_counts_its_uniforms():
    uniforms = RRandom(11).uniforms(40_000)
    starts = np.arange(0, 39_000, 7)
    values, consumed = exp_rand_at(uniforms, starts)
    # fractions above log(2) take 2 to 16 more uniforms: all kinds occur among 5,572 starts
    assert set(consumed.tolist()) >= {1, 3, 4}
    for start, value, used in zip(starts[::10], values[::10], consumed[::10]):
        generator = RRandom(11)
        generator.uniforms(int(start))
        assert generator.exp_rand() == value
        assert generator._position == used
