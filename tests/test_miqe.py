"""Tests of fibroskin.miqe: numbers checked against hand calculations, not the same calls."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import shared_data
from fibroskin import miqe
from fibroskin.io.cq import WELL_COLUMNS

DATA = Path(__file__).parent / "data"


def make_wells(records: list[dict]) -> pd.DataFrame:
    """A tidy well table from partial records (neutral defaults for the rest)."""
    wells = pd.DataFrame(records)
    defaults = {"file": "test.tsv", "plate": "plate1", "well": "", "task": "unknown", "quantity": np.nan, "sample": ""}
    for column, value in defaults.items():
        wells[column] = wells[column].fillna(value) if column in wells else value
    wells["line"] = np.arange(2, len(wells) + 2)
    wells["cq"] = wells["cq"].astype(float)
    wells["cq_raw"] = wells["cq"].map(lambda v: "Undetermined" if np.isnan(v) else f"{v}")
    return wells[WELL_COLUMNS]


# --------------------------------------------------------------------------- Livak dilution series

#: Livak & Schmittgen 2001 (Methods 25:402-408), Table 1: average CT of c-myc and GAPDH for
#: 1.0 ... 0.01 ng total RNA. Verified against the transcription of that table in the R
#: package "pcr" (MahShaaban/pcr, inst/extdata/ct3_ave.csv, and its vignette's Table 5,
#: which also reproduces the published SDs and the dCT column 2.95, 3.04, 3.02, 3.01, 2.97,
#: 2.82, 2.97 that these means reproduce to rounding). Not checked against the journal PDF
#: itself, which was not reachable. The values recalled in the task brief (28.25, 30.25,
#: 31.66, 32.96 / 25.21, 26.19, 27.16, 28.46, 29.85) differ and were not used.
LIVAK_INPUT_NG = [1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
LIVAK_CT = {
    "c_myc": [25.59, 26.77, 28.14, 29.18, 30.14, 31.44, 32.42],
    "GAPDH": [22.64, 23.73, 25.12, 26.16, 27.17, 28.62, 29.45],
}


def _hand_regression(x: list[float], y: list[float]) -> tuple[float, float, float]:
    """Least squares from the sums, as on paper: slope, intercept, r²."""
    n = len(x)
    sum_x, sum_y = math.fsum(x), math.fsum(y)
    sum_xy = math.fsum(a * b for a, b in zip(x, y))
    sum_xx = math.fsum(a * a for a in x)
    sum_yy = math.fsum(b * b for b in y)
    sxy = n * sum_xy - sum_x * sum_y
    sxx = n * sum_xx - sum_x**2
    syy = n * sum_yy - sum_y**2
    slope = sxy / sxx
    intercept = (sum_y - slope * sum_x) / n
    return slope, intercept, sxy**2 / (sxx * syy)


def _livak_wells() -> pd.DataFrame:
    return make_wells(
        [
            {"sample": f"dil_{q:g}ng", "target": target, "cq": ct, "task": "standard", "quantity": q}
            for target, cts in LIVAK_CT.items()
            for q, ct in zip(LIVAK_INPUT_NG, cts)
        ]
    )


def test_livak_dilution_series_standard_curves_match_hand_calculation():
    """Standard curves of the Livak 2001 validation experiment (7 dilutions, 1-0.01 ng).

    By hand, n = 7 and x = log10(ng): sum x = -7 exactly (0 - 0.30103 - 0.69897 - 1 -
    1.30103 - 1.69897 - 2), sum x² = 10.158356 for both genes;
    c-myc: sum y = 203.68, sum xy = -214.376250, sum y² = 5962.7626
      slope = (7 * -214.37625 - (-7 * 203.68)) / (7 * 10.158356 - 49) = -3.38665,
      r² = 0.99912, E = 10^(1/3.38665) = 1.97368 (97.37 %);
    GAPDH: sum y = 182.89, sum xy = -193.735075, sum y² = 4815.6583
      slope -3.43377, r² 0.99931, E 1.95535 (95.54 %).
    """
    x = [math.log10(q) for q in LIVAK_INPUT_NG]
    curves = miqe.fit_standard_curves(_livak_wells()).set_index("target")
    assert math.fsum(x) == pytest.approx(-7.0, abs=1e-12)
    assert math.fsum(a * a for a in x) == pytest.approx(10.158356, abs=1e-6)
    assert math.fsum(a * b for a, b in zip(x, LIVAK_CT["c_myc"])) == pytest.approx(-214.376250, abs=1e-6)
    expected = {"c_myc": (-3.38665, 0.99912, 1.97368), "GAPDH": (-3.43377, 0.99931, 1.95535)}
    for target, cts in LIVAK_CT.items():
        slope, intercept, r_squared = _hand_regression(x, cts)
        amplification = 10 ** (-1 / slope)
        row = curves.loc[target]
        assert row["slope"] == pytest.approx(slope, rel=1e-12)
        assert row["intercept"] == pytest.approx(intercept, rel=1e-12)
        assert row["r_squared"] == pytest.approx(r_squared, rel=1e-12)
        assert row["amplification"] == pytest.approx(amplification, rel=1e-12)
        assert row["efficiency_pct"] == pytest.approx((amplification - 1) * 100, rel=1e-12)
        # The rounded numbers written out in the docstring.
        assert (row["slope"], row["r_squared"], row["amplification"]) == pytest.approx(expected[target], abs=1e-5)
        assert row["n_points"] == 7 and row["n_dilutions"] == 7
        assert row["flag"] == ""


def test_livak_delta_ct_slope_is_below_validation_limit():
    """Livak's validation criterion: |slope of dCT vs log input| < 0.1 (equal efficiencies)."""
    x = [math.log10(q) for q in LIVAK_INPUT_NG]
    delta = [a - b for a, b in zip(LIVAK_CT["c_myc"], LIVAK_CT["GAPDH"])]
    slope, _, _ = _hand_regression(x, delta)
    assert slope == pytest.approx(0.04712, abs=1e-5)
    assert abs(slope) < 0.1


def test_standard_curve_flags():
    wells = make_wells(
        # slope -4 -> E = 10^0.25 = 1.778 (77.8 %); only two dilutions for GENE2
        [{"target": "GENE1", "cq": 30 - 4 * math.log10(q), "task": "standard", "quantity": q} for q in (1, 10, 100, 1000)]
        + [{"target": "GENE2", "cq": 30 - 3.32 * math.log10(q), "task": "standard", "quantity": q} for q in (1, 10)]
        + [{"target": "GENE2", "cq": np.nan, "task": "standard", "quantity": 0.1}]
    )
    curves = miqe.fit_standard_curves(wells).set_index("target")
    assert curves.at["GENE1", "efficiency_pct"] == pytest.approx((10**0.25 - 1) * 100)
    assert "efficiency 77.8% outside 90-110%" in curves.at["GENE1", "flag"]
    assert "fewer than 3 dilution points (2)" in curves.at["GENE2", "flag"]
    assert curves.at["GENE2", "n_not_detected"] == 1
    factors = miqe.amplification_factors(["GENE1", "GENE2", "GENE3"], curves.reset_index(), configured={"GENE2": 1.95})
    factors = factors.set_index("target")
    assert factors.at["GENE2", "amplification"] == 1.95 and factors.at["GENE2", "source"] == "config"
    assert factors.at["GENE1", "amplification"] == 2.0 and factors.at["GENE1", "source"].startswith("default (standard curve flagged")
    assert factors.at["GENE3", "source"].startswith("default (no standard curve")


def test_standard_curves_by_plate_keep_runs_apart():
    records = []
    for plate, shift in (("p1", 0.0), ("p2", 1.5)):
        records += [{"plate": plate, "target": "G", "cq": 20 + shift - 3.32 * math.log10(q), "task": "standard", "quantity": q} for q in (1, 10, 100)]
    curves = miqe.fit_standard_curves(make_wells(records), by_plate=True)
    assert list(curves["plate"]) == ["p1", "p2"]
    assert curves["slope"].to_numpy() == pytest.approx([-3.32, -3.32])
    assert curves["intercept"].to_numpy() == pytest.approx([20.0, 21.5])


# --------------------------------------------------------------------------- Pfaffl vs ddCq


def _livak_ct1_long() -> tuple[pd.DataFrame, list[str]]:
    table = pd.read_csv(shared_data("livak2001", "ct1_separate_tubes.csv"))
    long = table.melt(id_vars=["sample", "tissue"], value_vars=["c_myc", "GAPDH"], var_name="target", value_name="cq")
    brain = list(table.loc[table["tissue"] == "brain", "sample"])
    return long[["sample", "target", "cq"]], brain


def test_pfaffl_with_amplification_two_is_minus_delta_cq():
    cq, brain = _livak_ct1_long()
    expression = miqe.normalised_expression(cq, ["GAPDH"], amplification={"c_myc": 2.0, "GAPDH": 2.0})
    myc = expression[expression["target"] == "c_myc"].set_index("sample")
    wide = cq.pivot(index="sample", columns="target", values="cq")
    delta_cq = wide["c_myc"] - wide["GAPDH"]
    assert myc["log2_normalised_expression"].to_numpy() == pytest.approx(-delta_cq[myc.index].to_numpy(), abs=1e-12)
    assert myc["reference_cq"].to_numpy() == pytest.approx(wide.loc[myc.index, "GAPDH"].to_numpy())
    # Group difference = -ddCq; Livak & Schmittgen: ddCt -2.495, fold change 5.64.
    kidney = [s for s in myc.index if s.startswith("kidney")]
    difference = myc.loc[kidney, "log2_normalised_expression"].mean() - myc.loc[brain, "log2_normalised_expression"].mean()
    assert difference == pytest.approx(2.495, abs=5e-4)
    assert 2**difference == pytest.approx(5.64, abs=5e-3)


def test_pfaffl_calibrated_ratio_matches_formula_by_hand():
    """Pfaffl 2001 eq. 1: ratio = E_t^dCq_t(control - sample) / E_r^dCq_r(control - sample)."""
    cq = pd.DataFrame(
        {"sample": ["ctrl", "ctrl", "ctrl", "treated", "treated", "treated"],
         "target": ["T", "R1", "R2", "T", "R1", "R2"],
         "cq": [25.0, 18.0, 21.0, 23.0, 18.4, 20.8]}
    )
    amplification = {"T": 1.9, "R1": 1.95, "R2": 2.05}
    result = miqe.normalised_expression(cq, ["R1", "R2"], amplification, calibrator_samples=["ctrl"])
    treated = result[(result["sample"] == "treated") & (result["target"] == "T")].iloc[0]
    expected_ratio = 1.9 ** (25.0 - 23.0) / math.sqrt(1.95 ** (18.0 - 18.4) * 2.05 ** (21.0 - 20.8))
    assert treated["normalised_quantity"] == pytest.approx(expected_ratio, rel=1e-12)
    assert treated["log2_normalised_expression"] == pytest.approx(math.log2(expected_ratio), rel=1e-12)
    calibrator = result[(result["sample"] == "ctrl") & (result["target"] == "T")].iloc[0]
    assert calibrator["normalised_quantity"] == pytest.approx(1.0)


def test_missing_amplification_factor_is_named():
    cq = pd.DataFrame({"sample": ["a"], "target": ["T"], "cq": [20.0]})
    with pytest.raises(ValueError, match="no amplification factor for target"):
        miqe.relative_quantities(cq, {"R": 2.0})


# --------------------------------------------------------------------------- geNorm


def test_genorm_constant_ratios_give_m_zero():
    base = np.array([1.0, 4.0, 0.5, 2.0, 8.0])
    quantities = pd.DataFrame({"A": base, "B": 3 * base, "C": base / 2}, index=list("vwxyz"))
    result = miqe.genorm(quantities)
    assert result.stability["genorm_m"].to_numpy() == pytest.approx([0, 0, 0], abs=1e-12)
    assert result.pairwise_variation["v"].to_numpy() == pytest.approx([0.0], abs=1e-12)


def test_genorm_small_set_by_hand():
    """log2 quantities A = (0,0,0), B = (0,1,2), C = (0,0,0) over three samples.

    SD(A-B) = SD(0,-1,-2) = 1 (n-1), SD(A-C) = 0, SD(B-C) = 1:
    M_A = (1 + 0)/2 = 0.5, M_B = (1 + 1)/2 = 1, M_C = 0.5. B is excluded first; the pair
    A/C has M 0. V2/3 = SD(log2 NF2 - log2 NF3) = SD(0 - (0, 1/3, 2/3)) = 1/3.
    """
    quantities = pd.DataFrame({"A": [1.0, 1.0, 1.0], "B": [1.0, 2.0, 4.0], "C": [1.0, 1.0, 1.0]})
    result = miqe.genorm(quantities)
    stability = result.stability.set_index("gene")
    assert stability.loc[["A", "B", "C"], "genorm_m"].to_numpy() == pytest.approx([0.5, 1.0, 0.5])
    assert stability.loc[["A", "B", "C"], "genorm_rank"].tolist() == [1, 3, 1]
    first = result.steps[result.steps["step"] == 0]
    assert set(first["excluded"]) == {"B"}
    last = result.steps[result.steps["step"] == 1].set_index("gene")
    assert last["m"].to_numpy() == pytest.approx([0.0, 0.0])
    assert result.pairwise_variation.loc[0, "comparison"] == "V2/3"
    assert result.pairwise_variation.loc[0, "v"] == pytest.approx(1 / 3)


def _realistic_reference_cq(seed: int = 11) -> pd.DataFrame:
    """12 skin biopsies x 5 candidate reference genes: a shared RNA-input effect per sample
    plus gene-specific noise (B2M and HPRT1 noisy, as they often are in inflamed skin)."""
    rng = np.random.default_rng(seed)
    samples = [f"s{i:02d}" for i in range(12)]
    input_effect = rng.normal(0, 0.8, len(samples))
    noise = {"GAPDH": 0.15, "ACTB": 0.2, "RPLP0": 0.12, "B2M": 0.7, "HPRT1": 0.45}
    base = {"GAPDH": 18.0, "ACTB": 17.5, "RPLP0": 19.0, "B2M": 20.5, "HPRT1": 26.0}
    return pd.DataFrame({gene: base[gene] + input_effect + rng.normal(0, sd, len(samples)) for gene, sd in noise.items()}, index=samples)


def test_genorm_realistic_set_against_explicit_loops():
    cq = _realistic_reference_cq()
    quantities = 2.0 ** (-cq)
    result = miqe.genorm(quantities)
    genes = list(cq.columns)
    log2 = {g: [-v for v in cq[g]] for g in genes}
    by_hand = {
        j: statistics.mean(statistics.stdev([a - b for a, b in zip(log2[j], log2[k])]) for k in genes if k != j)
        for j in genes
    }
    stability = result.stability.set_index("gene")
    for gene in genes:
        assert stability.at[gene, "genorm_m"] == pytest.approx(by_hand[gene], rel=1e-12)
    # The noisy genes go first.
    order = result.steps.drop_duplicates("step")["excluded"].tolist()
    assert order[:2] == ["B2M", "HPRT1"]
    assert set(stability.index[stability["genorm_rank"] == 1]) <= {"GAPDH", "RPLP0", "ACTB"}
    # V2/3 by hand: ranking best-first = final pair + exclusions reversed.
    ranking = result.stability["gene"].tolist()
    nf2 = [statistics.mean(log2[g][s] for g in ranking[:2]) for s in range(len(cq))]
    nf3 = [statistics.mean(log2[g][s] for g in ranking[:3]) for s in range(len(cq))]
    assert result.pairwise_variation.loc[0, "v"] == pytest.approx(statistics.stdev([a - b for a, b in zip(nf2, nf3)]), rel=1e-12)
    assert result.pairwise_variation.loc[0, "v"] < miqe.GENORM_V_LIMIT


# --------------------------------------------------------------------------- NormFinder


def _normfinder_by_loops(data: dict[str, list[float]], groups: list[str]) -> dict[str, float]:
    """Andersen et al. 2004 written out element by element, independent of the vectorised code."""
    genes = list(data)
    k = len(genes)
    labels = sorted(set(groups))
    index = {g: [j for j, label in enumerate(groups) if label == g] for g in labels}
    s2, mean_ig = {}, {}
    for g in labels:
        cols = index[g]
        n = len(cols)
        gene_mean = {i: statistics.mean(data[i][j] for j in cols) for i in genes}
        sample_mean = {j: statistics.mean(data[i][j] for i in genes) for j in cols}
        group_mean = statistics.mean(gene_mean.values())
        a = {i: math.fsum((data[i][j] - gene_mean[i] - sample_mean[j] + group_mean) ** 2 for j in cols) / (n - 1) for i in genes}
        total = math.fsum(a.values())
        for i in genes:
            s2[i, g] = (a[i] - total / (k * (k - 1))) / (1 - 2 / k)
            assert s2[i, g] >= 0  # the constructed data never needs the fallback
            mean_ig[i, g] = gene_mean[i]
    gene_avg = {i: statistics.mean(mean_ig[i, g] for g in labels) for i in genes}
    group_avg = {g: statistics.mean(mean_ig[i, g] for i in genes) for g in labels}
    grand = statistics.mean(gene_avg.values())
    d = {(i, g): mean_ig[i, g] - gene_avg[i] - group_avg[g] + grand for i in genes for g in labels}
    G = len(labels)
    gamma2 = math.fsum(v * v for v in d.values()) / ((G - 1) * (k - 1)) - math.fsum(s2[i, g] / len(index[g]) for i in genes for g in labels) / (k * G)
    gamma2 = max(gamma2, 0.0)
    result = {}
    for i in genes:
        rho = []
        for g in labels:
            v = s2[i, g] / len(index[g])
            rho.append(abs(d[i, g] * gamma2 / (gamma2 + v)) + math.sqrt(v + gamma2 * v / (gamma2 + v)))
        result[i] = statistics.mean(rho)
    return result


def test_normfinder_finds_the_gene_that_differs_between_groups():
    rng = np.random.default_rng(5)
    groups = ["lesion"] * 8 + ["control"] * 8
    input_effect = rng.normal(0, 0.5, 16)
    data = {}
    for gene, sd in {"GAPDH": 0.15, "ACTB": 0.2, "RPLP0": 0.12, "TBP": 0.18}.items():
        data[gene] = list(-20 - input_effect + rng.normal(0, sd, 16))
    # B2M: as quiet within groups but 1.5 cycles higher in lesions (interferon-driven).
    data["B2M"] = list(-20 - input_effect + rng.normal(0, 0.15, 16) + np.where(np.array(groups) == "lesion", 1.5, 0.0))
    frame = pd.DataFrame(data, index=[f"s{i}" for i in range(16)])
    result = miqe.normfinder(frame, pd.Series(groups, index=frame.index)).set_index("gene")
    assert result["normfinder_stability"].idxmax() == "B2M"
    assert result.at["B2M", "intergroup_difference"] > 0.5
    by_hand = _normfinder_by_loops(data, groups)
    for gene, value in by_hand.items():
        assert result.at[gene, "normfinder_stability"] == pytest.approx(value, rel=1e-10)
    # Without groups the group shift is invisible to the intra-group part only partly:
    # B2M's pooled within-group SD stays small.
    assert result.at["B2M", "intragroup_sd"] < 0.4


def test_reference_stability_table_and_warnings():
    cq = _realistic_reference_cq()
    long = cq.reset_index(names="sample").melt(id_vars="sample", var_name="target", value_name="cq")
    table, pairwise, warnings = miqe.reference_stability(long, list(cq.columns))
    assert list(table.columns) == ["gene", "genorm_m", "genorm_rank", "normfinder_stability", "normfinder_rank", "n_samples", "flag"]
    assert (table["n_samples"] == 12).all()
    assert table.set_index("gene").at["B2M", "flag"] == "geNorm M > 0.5"
    assert any("B2M" in warning and "> 0.5" in warning for warning in warnings)
    assert list(pairwise["comparison"]) == ["V2/3", "V3/4", "V4/5"]
    single, single_v, single_warnings = miqe.reference_stability(long, ["GAPDH"])
    assert single_v.empty and single.at[0, "flag"] == "single reference gene"
    assert "only one reference gene" in single_warnings[0]


# --------------------------------------------------------------------------- NTC


def test_ntc_within_five_cycles_of_latest_sample_is_flagged():
    wells = make_wells(
        [{"sample": "s1", "target": "COL1A1", "cq": 24.0}, {"sample": "s2", "target": "COL1A1", "cq": 27.5},
         {"sample": "s3", "target": "COL1A1", "cq": np.nan},
         {"sample": "NTC", "target": "COL1A1", "cq": 31.0, "task": "ntc"},   # 3.5 after 27.5: flagged
         {"sample": "NTC", "target": "COL1A1", "cq": 33.0, "task": "ntc"},   # exactly 5.5 after: fine
         {"sample": "NTC", "target": "COL1A1", "cq": np.nan, "task": "ntc"},
         {"sample": "NTC", "target": "TGFB1", "cq": 35.0, "task": "ntc"}]     # no sample to compare
    )
    ntc = miqe.check_ntc(wells)
    assert ntc["flagged"].tolist() == [True, False, False, True]
    assert ntc["latest_sample_cq"].iloc[0] == 27.5
    assert ntc["cycles_after_latest_sample"].iloc[:2].tolist() == pytest.approx([3.5, 5.5])
    assert ntc["note"].iloc[2] == "not detected"
    assert ntc["note"].iloc[3] == "detected; no sample Cq to compare with"
    exactly_five = miqe.check_ntc(make_wells([{"sample": "s", "target": "G", "cq": 30.0}, {"target": "G", "cq": 35.0, "task": "ntc"}]))
    assert not exactly_five["flagged"].iloc[0]


def test_ntc_is_compared_only_with_the_sample_cq_that_enter_the_analysis():
    wells = make_wells(
        [{"sample": "s1", "target": "G", "cq": 25.0},
         {"sample": "s1", "target": "G", "cq": 38.0},   # above max_cq 35: not detected in the analysis
         {"sample": "s2", "target": "G", "cq": 33.0},   # a sample excluded (no reference gene)
         {"target": "G", "cq": 31.0, "task": "ntc"}]
    )
    analysed = pd.Series([True, False, False, False])
    ntc = miqe.check_ntc(wells, analysed=analysed)
    # latest analysed sample Cq is 25: the NTC at 31 is 6 cycles behind, not contamination
    assert ntc["latest_sample_cq"].tolist() == [25.0]
    assert ntc["cycles_after_latest_sample"].tolist() == [6.0]
    assert not ntc["flagged"].iloc[0]
    # counting the unused wells (latest 38) would call it within 5 cycles of the samples
    assert miqe.check_ntc(wells)["flagged"].iloc[0]


def test_analysed_sample_wells_follow_qc_and_excluded_samples():
    from fibroskin.qpcr_steps import analysed_sample_wells

    qc = pd.DataFrame({"sample": ["s1", "s1", "s2", ""], "target": ["G", "G", "G", "G"], "used": [True, False, True, False]})
    delta = pd.DataFrame({"sample": ["s1", "s2"], "target": ["G", "G"], "dcq": [1.5, np.nan]})
    assert analysed_sample_wells(qc, delta).tolist() == [True, False, False, False]


# --------------------------------------------------------------------------- instrument values


def test_instrument_values_are_checked_against_a_hand_calculation():
    # slope exactly -3.3: Cq 30.0, 26.7, 23.4 at 10, 100, 1000 copies; E = 10^(1/3.3) = 2.009233
    wells = make_wells(
        [{"sample": "std", "target": "G", "cq": cq, "task": "standard", "quantity": q} for cq, q in ((30.0, 10), (26.7, 100), (23.4, 1000))]
        + [{"sample": "s1", "target": "G", "cq": 24.0}, {"sample": "s1", "target": "G", "cq": 24.2},
           {"sample": "s1", "target": "R", "cq": 20.0}]
    )
    wells["cq_raw"] = wells["cq"].map(lambda value: f"{value:.3f}")
    values = pd.DataFrame(
        [
            {"file": "test.tsv", "plate": "", "target": "G", "sample": "", "item": "slope", "value": -3.3, "decimals": 3, "wells": ""},
            {"file": "test.tsv", "plate": "", "target": "G", "sample": "", "item": "efficiency_pct", "value": 100.923, "decimals": 3, "wells": ""},
            {"file": "test.tsv", "plate": "", "target": "G", "sample": "s1", "item": "cq_mean", "value": 24.1, "decimals": 3, "wells": ""},
            {"file": "test.tsv", "plate": "", "target": "R", "sample": "s1", "item": "cq_mean", "value": 20.0, "decimals": 3, "wells": ""},
            {"file": "test.tsv", "plate": "", "target": "G", "sample": "s1", "item": "delta_cq_mean", "value": 4.2, "decimals": 3, "wells": ""},
        ]
    )
    checks = miqe.compare_instrument_values(wells, values).set_index(["item", "target"])
    assert checks.at[("slope", "G"), "fibroskin_value"] == pytest.approx(-3.3, abs=1e-12)
    assert checks.at[("efficiency_pct", "G"), "fibroskin_value"] == pytest.approx((10 ** (1 / 3.3) - 1) * 100)
    assert (10 ** (1 / 3.3) - 1) * 100 == pytest.approx(100.9233, abs=1e-4)
    assert checks.at[("efficiency_pct", "G"), "agrees"] and checks.at[("slope", "G"), "agrees"]
    assert checks.at[("cq_mean", "G"), "fibroskin_value"] == pytest.approx(24.1)
    # Delta Cq against R, the target without a Delta of its own: 24.1 - 20.0 = 4.1, not 4.2
    assert checks.at[("delta_cq_mean", "G"), "fibroskin_value"] == pytest.approx(4.1)
    assert not checks.at[("delta_cq_mean", "G"), "agrees"]
    notes = miqe.instrument_check_notes(checks.reset_index())
    assert any(note.startswith("WARNING: test.tsv: instrument delta_cq_mean: 0 of 1 agree") for note in notes)
    summary = miqe.miqe_summary(wells, instrument_checks=checks.reset_index())
    row = summary[summary["item"] == "instrument delta cq mean"].iloc[0]
    assert row["value"] == "0/1" and "DIFFER: s1 4.2 vs 4.1" in row["note"]


# --------------------------------------------------------------------------- inter-plate calibration


def test_interplate_calibration_recovers_known_offsets():
    rng = np.random.default_rng(3)
    true_offset = {"p1": 0.0, "p2": 0.6, "p3": -0.3}
    centred = {plate: value - statistics.mean(true_offset.values()) for plate, value in true_offset.items()}
    biology = {"irc1": 22.0, "irc2": 25.0, "a": 23.1, "b": 24.4, "c": 21.7}
    layout = {"p1": ["irc1", "irc2", "a"], "p2": ["irc1", "irc2", "b"], "p3": ["irc1", "irc2", "c"]}
    records = []
    for plate, samples in layout.items():
        for sample in samples:
            for _ in range(3):
                records.append({"plate": plate, "sample": sample, "target": "COL1A1", "cq": biology[sample] + true_offset[plate]})
    records.append({"plate": "p1", "sample": "NTC", "target": "COL1A1", "cq": np.nan, "task": "ntc"})
    wells = make_wells(records)
    corrected, offsets = miqe.interplate_calibration(wells)
    estimated = offsets.set_index("plate")["plate_offset"]
    for plate, value in centred.items():
        assert estimated[plate] == pytest.approx(value, abs=1e-12)
    assert (offsets["n_calibrators"] == 2).all()
    unknown = corrected[corrected["task"] == "unknown"]
    # What is left after removing centred offsets is the mean run effect, the same on every plate.
    expected = unknown["sample"].map(biology) + statistics.mean(true_offset.values())
    assert unknown["cq"].to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-12)
    assert corrected["cq_before_calibration"].equals(wells["cq"])
    # Noise on top: the estimate stays within the noise of the calibrator means.
    noisy = wells.copy()
    noisy["cq"] = noisy["cq"] + rng.normal(0, 0.05, len(noisy))
    _, noisy_offsets = miqe.interplate_calibration(noisy)
    for plate, value in centred.items():
        assert noisy_offsets.set_index("plate").at[plate, "plate_offset"] == pytest.approx(value, abs=0.1)


def test_interplate_calibration_with_calibrator_missing_from_a_plate():
    """irc2 is not on p3: least squares still recovers offsets from the connected design."""
    true_offset = {"p1": -0.2, "p2": 0.5, "p3": -0.3}
    biology = {"irc1": 22.0, "irc2": 25.0}
    layout = {"p1": ["irc1", "irc2"], "p2": ["irc1", "irc2"], "p3": ["irc1"]}
    wells = make_wells(
        [{"plate": p, "sample": s, "target": "G", "cq": biology[s] + true_offset[p]} for p, samples in layout.items() for s in samples]
    )
    _, offsets = miqe.interplate_calibration(wells)
    assert offsets.set_index("plate")["plate_offset"].to_dict() == pytest.approx(true_offset)


# --------------------------------------------------------------------------- summary


def test_miqe_summary_covers_the_checklist_items():
    wells = pd.concat(
        [
            _livak_wells(),
            make_wells(
                [{"sample": f"s{i}", "target": t, "cq": 25.0 + 0.1 * r} for i in range(3) for t in ("c_myc", "GAPDH") for r in range(3)]
                + [{"sample": "s3", "target": "c_myc", "cq": np.nan}]
                + [{"sample": "NTC", "target": "c_myc", "cq": 28.0, "task": "ntc"}]
            ),
        ],
        ignore_index=True,
    )
    summary = miqe.miqe_summary(wells, cq_cutoff=35.0)
    assert list(summary.columns) == ["item", "target", "value", "note"]
    items = set(summary["item"])
    for item in ("amplification efficiency (%)", "standard curve r_squared", "technical replicates per sample (median)",
                 "replicate Cq SD (median)", "non-detects (sample wells)", "NTC", "Cq cut-off", "software"):
        assert item in items
    lookup = summary.set_index(["item", "target"])["value"]
    assert lookup["amplification efficiency (%)", "c_myc"] == pytest.approx(97.3681, abs=1e-4)
    assert lookup["non-detects (sample wells)", "c_myc"] == 1
    assert lookup["NTC", "c_myc"] == "fail"
    assert lookup["replicate Cq SD (median)", "GAPDH"] == pytest.approx(0.1)
    assert "pandas" in set(summary.loc[summary["item"] == "software", "target"])


# --------------------------------------------------------------------------- figures


def test_miqe_figures_are_written(tmp_path):
    from fibroskin.plots.miqe import plot_reference_stability, plot_standard_curves

    wells = _livak_wells()
    plot_standard_curves(wells, miqe.fit_standard_curves(wells), [tmp_path / "curves.png", tmp_path / "curves.svg"])
    cq = _realistic_reference_cq()
    plot_reference_stability(miqe.genorm(2.0 ** (-cq)), [tmp_path / "stability.png"])
    plot_reference_stability(miqe.genorm(2.0 ** (-cq[["GAPDH", "ACTB"]])), [tmp_path / "pair.png"])
    for name in ("curves.png", "curves.svg", "stability.png", "pair.png"):
        assert (tmp_path / name).stat().st_size > 1000
    # Deterministic SVG: same figure, same bytes.
    plot_standard_curves(wells, miqe.fit_standard_curves(wells), [tmp_path / "again.svg"])
    assert (tmp_path / "again.svg").read_bytes() == (tmp_path / "curves.svg").read_bytes()
