"""Differential expression against R DESeq2 (pasilla, keloid) and on simulated data.

Everything runs with the workflow's default engine (``fast``: R DESeq2's estimators,
vectorised), so each real data set fits in about a second. The stored R tables were made
with ``results()`` defaults, i.e. ``alpha = 0.1`` for independent filtering, so the
comparisons pass ``alpha=0.1`` (R's ``results(alpha=)`` semantics, see
``fibroskin.rnaseq``) and read calls at ``padj < 0.05``. The stock pydeseq2 engine is
compared with the fast one in ``deseq2/test_engine_vs_stock.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pydeseq2.dds import DeseqDataSet
from pydeseq2.default_inference import DefaultInference

from fibroskin import rnaseq
from fibroskin.deseq2.dataset import FastDeseqDataSet
from fibroskin.deseq2.inference import VectorizedInference
from fibroskin.errors import InputErrors
from fibroskin.io.counts import read_counts
from fibroskin.markers import SymbolIndex, default_markers
from fibroskin.rnaseq_steps import FAN_OUT_CELLS, contrasts_fan_out, save_fit

from conftest import ROOT, shared_data


R_DEFAULT_ALPHA = 0.1


def agreement(ours: pd.DataFrame, r_results: pd.DataFrame) -> dict[str, float]:
    """Agreement of a results table with R's.

    Pearson of log2FC, share of baseMean >= 10 genes within 0.01, Jaccard of padj < 0.05
    calls, share of genes whose padj is NA in both or neither, and the largest |dLFC| and
    relative lfcSE difference over genes with baseMean >= 10.
    """
    ours = ours.set_index("gene").loc[r_results.index]
    both = ours["log2FoldChange"].notna() & r_results["log2FoldChange"].notna()
    pearson = np.corrcoef(ours.loc[both, "log2FoldChange"], r_results.loc[both, "log2FoldChange"])[0, 1]
    expressed = r_results["baseMean"] >= 10
    within = (ours["log2FoldChange"] - r_results["log2FoldChange"]).abs()[expressed] <= 0.01
    ours_called = set(ours.index[ours["padj"] < 0.05])
    r_called = set(r_results.index[r_results["padj"] < 0.05])
    return {
        "pearson": float(pearson),
        "within_0.01": float(within.mean()),
        "jaccard": len(ours_called & r_called) / len(ours_called | r_called),
        "na_pattern": float((ours["padj"].isna() == r_results["padj"].isna()).mean()),
        "max_dlfc": float((ours["log2FoldChange"] - r_results["log2FoldChange"]).abs()[expressed].max()),
        "max_dse": float((ours["lfcSE"] / r_results["lfcSE"] - 1).abs()[expressed].max()),
    }


# --------------------------------------------------------------------------- pasilla


@pytest.fixture(scope="module")
def pasilla():
    counts, _ = read_counts(shared_data("pasilla", "pasilla_counts.csv"))
    sheet = pd.read_csv(shared_data("pasilla", "pasilla_metadata.csv"))
    dds = rnaseq.fit_deseq(counts, sheet, "~condition", reference_levels={"condition": "treated"})
    results = rnaseq.test_contrast(dds, "condition", reference="treated", target="untreated",
                                   alpha=R_DEFAULT_ALPHA, shrink=False)
    r_results = pd.read_csv(shared_data("pasilla", "R_DESeq2_1.46.0_results_untreated_vs_treated.csv"), index_col=0)
    return dds, results, r_results


def test_pasilla_agrees_with_r(pasilla):
    dds, results, r_results = pasilla
    assert rnaseq.fit_engine(dds) == "fast"
    numbers = agreement(results, r_results)
    # issue 3's bar
    assert numbers["pearson"] >= 0.999
    assert numbers["within_0.01"] >= 0.99
    assert numbers["jaccard"] >= 0.95
    # issue 8's targets; measured: Jaccard 1.0 (845 calls), NA pattern 100%, max |dLFC|
    # 1.5e-9 and lfcSE within 4e-6 relative (R 1.38.3 on this machine, against which the
    # stored 1.46.0 table agrees to 1e-6)
    assert numbers["jaccard"] >= 0.99
    assert numbers["na_pattern"] >= 0.99
    assert numbers["max_dlfc"] <= 1e-4
    assert numbers["max_dse"] <= 1e-4


# R DESeq2 1.38.3 on this data, DESeq() then results(dds, contrast, alpha = a):
# metadata(res)$filterThreshold, calls padj < a, genes with non-NA padj
R_PASILLA_FILTERING = {0.05: (4.943574243106986, 838, 8561), 0.1: (6.5616880249505556, 1061, 8323)}


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_pasilla_alpha_is_r_results_alpha(pasilla, alpha):
    # alpha is both the level independent filtering optimises for and the level of the
    # calls, as R's results(alpha=): the baseMean threshold, the calls and the tested
    # genes are R's at either level (0.05 is the workflow's default, 0.1 R's).
    dds = pasilla[0]
    results = rnaseq.test_contrast(dds, "condition", "treated", "untreated", alpha=alpha, shrink=False)
    threshold, calls, tested = R_PASILLA_FILTERING[alpha]
    kept = results["padj"].notna()
    assert int(kept.sum()) == tested
    assert int((results["padj"] < alpha).sum()) == calls
    assert results.loc[kept, "baseMean"].min() >= threshold
    assert not (results["pvalue"].notna() & ~kept & (results["baseMean"] > threshold)).any()


def test_engines_and_their_classes(simulated):
    counts, sheet = simulated
    counts = counts.iloc[:300]
    fast = rnaseq.fit_deseq(counts, sheet, "~condition", reference_levels={"condition": "non-lesional"})
    stock = rnaseq.fit_deseq(counts, sheet, "~condition", engine="pydeseq2",
                             reference_levels={"condition": "non-lesional"})
    assert isinstance(fast, FastDeseqDataSet) and fast.trend_scheme == "r"
    assert isinstance(fast.inference, VectorizedInference) and fast.inference.mode == "r"
    assert type(stock) is DeseqDataSet and isinstance(stock.inference, DefaultInference)
    assert [rnaseq.fit_engine(d) for d in (fast, stock)] == ["fast", "pydeseq2"]
    with pytest.raises(ValueError, match="unknown DE engine"):
        rnaseq.fit_deseq(counts, sheet, "~condition", engine="deseq3")
    tables = [rnaseq.test_contrast(d, "condition", "non-lesional", "lesional", shrink=False) for d in (fast, stock)]
    merged = tables[0].set_index("gene").join(tables[1].set_index("gene"), rsuffix="_stock")
    expressed = merged["baseMean"] >= 10
    # the two engines estimate dispersions differently (R's line search and trend fit
    # vs pydeseq2's), so LFCs agree closely but not exactly
    np.testing.assert_allclose(merged.loc[expressed, "log2FoldChange"],
                               merged.loc[expressed, "log2FoldChange_stock"], atol=0.05)
    # VST and normalized counts work with both engines; size factors are shared
    for dds in (fast, stock):
        transformed = rnaseq.vst(dds)
        assert transformed.shape == (counts.shape[0], counts.shape[1] + 1)
        assert np.isfinite(transformed.drop(columns="gene").to_numpy()).all()
    pd.testing.assert_frame_equal(rnaseq.normalized_counts(fast), rnaseq.normalized_counts(stock))


def test_pasilla_table_layout(pasilla):
    _, results, r_results = pasilla
    assert results.columns.tolist() == rnaseq.RESULT_COLUMNS
    assert len(results) == len(r_results) == 14599
    padj = results["padj"].to_numpy()
    finite = padj[~np.isnan(padj)]
    assert np.all(np.diff(finite) >= 0)
    assert np.isnan(padj[len(finite):]).all()  # NaN last
    assert results["log2FoldChange_shrunk"].isna().all()  # shrink=False
    # All-zero genes: baseMean 0 and no test, as in R.
    zero = r_results.index[r_results["baseMean"] == 0]
    assert results.set_index("gene").loc[zero, "pvalue"].isna().all()


def test_pasilla_size_factors_and_normalized_counts(pasilla):
    dds, _, _ = pasilla
    factors = rnaseq.size_factors(dds)
    assert factors.columns.tolist() == ["sample", "size_factor"]
    assert factors["sample"].tolist() == ["treated1", "treated2", "treated3", "untreated1", "untreated2",
                                          "untreated3", "untreated4"]
    raw, _ = read_counts(shared_data("pasilla", "pasilla_counts.csv"))
    # Median of ratios (DESeq2's estimateSizeFactors), written out independently.
    with np.errstate(divide="ignore"):
        log_counts = np.log(raw.to_numpy(dtype=float))
    log_geomeans = log_counts.mean(axis=1)
    usable = np.isfinite(log_geomeans)
    expected = np.exp(np.median(log_counts[usable] - log_geomeans[usable, None], axis=0))
    np.testing.assert_allclose(factors["size_factor"].to_numpy(), expected, rtol=1e-10)
    normalized = rnaseq.normalized_counts(dds)
    assert normalized.columns.tolist() == ["gene"] + factors["sample"].tolist()
    recovered = normalized.set_index("gene").to_numpy() * factors["size_factor"].to_numpy()
    np.testing.assert_allclose(recovered, raw.to_numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- keloid


@pytest.fixture(scope="module")
def keloid():
    sheet = pd.read_csv(shared_data("keloid_gse188952", "metadata.csv"))
    sheet = sheet[sheet["condition"].isin(["Keloid Scar", "Normal Scar"])]
    counts, _ = read_counts(shared_data("keloid_gse188952", "counts.csv"), samples=sheet["sample"].tolist())
    dds = rnaseq.fit_deseq(counts, sheet, "~condition", reference_levels={"condition": "Normal Scar"})
    results = rnaseq.test_contrast(dds, "condition", reference="Normal Scar", target="Keloid Scar",
                                   alpha=R_DEFAULT_ALPHA, shrink=False)
    r_results = pd.read_csv(shared_data("keloid_gse188952", "R_DESeq2_1.38.3_keloid_vs_normal_scar.csv"), index_col=0)
    return dds, results, r_results


def test_keloid_collagens_up(keloid):
    _, results, _ = keloid
    table = results.set_index("symbol")
    for gene in ("COL1A1", "COL1A2", "COL3A1"):
        assert table.at[gene, "log2FoldChange"] > 1.0
        assert table.at[gene, "padj"] < 0.05


def test_keloid_tgfb1_matches_r(keloid):
    _, results, r_results = keloid
    ours = results.set_index("gene").at["TGFB1", "log2FoldChange"]
    theirs = r_results.at["TGFB1", "log2FoldChange"]
    assert theirs == pytest.approx(0.8136, abs=1e-3)
    assert abs(ours - theirs) <= 0.05


def test_keloid_agrees_with_r(keloid):
    _, results, r_results = keloid
    numbers = agreement(results, r_results)
    assert numbers["pearson"] >= 0.999
    assert numbers["within_0.01"] >= 0.99
    assert numbers["jaccard"] >= 0.95
    # measured: Jaccard 1.0 (1327 calls), NA pattern 100%, max |dLFC| 2e-14
    assert numbers["jaccard"] >= 0.99
    assert numbers["na_pattern"] >= 0.99
    assert numbers["max_dlfc"] <= 1e-4
    assert numbers["max_dse"] <= 1e-4


def test_keloid_levels_with_spaces_and_markers(keloid):
    dds, results, _ = keloid
    # R's coefficient name (resultsNames): make.names turns the spaces into dots
    assert "condition_Keloid.Scar_vs_Normal.Scar" in dds.obsm["design_matrix"].columns
    assert dds.uns["fibroskin"]["reference_levels"] == {"condition": "Normal Scar"}
    markers = rnaseq.marker_results(results, default_markers(), SymbolIndex.build())
    assert markers.columns.tolist() == rnaseq.MARKER_COLUMNS
    assert markers["symbol"].tolist() == default_markers()
    found = markers.set_index("symbol")["found"]
    # The keloid matrix has neither CTGF/CCN2 nor COMP: reported, not an error.
    assert not found["CCN2"] and not found["COMP"]
    assert found[["TGFB1", "COL1A1", "COL1A2", "COL3A1"]].all()
    missing = markers.set_index("symbol").loc["CCN2"]
    assert missing["gene"] == "" and np.isnan(missing["log2FoldChange"]) and np.isnan(missing["padj"])


def test_keloid_vst_is_deterministic_and_leaves_fit_alone(keloid):
    dds, _, _ = keloid
    dispersions = dds.var["dispersions"].to_numpy().copy()
    first = rnaseq.vst(dds)
    second = rnaseq.vst(dds)
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    np.testing.assert_array_equal(dds.var["dispersions"].to_numpy(), dispersions)
    assert first.columns.tolist() == ["gene"] + [str(s) for s in dds.obs_names]
    assert first["gene"].tolist() == [str(g) for g in dds.var_names]
    col1a1 = first.set_index("gene").loc["COL1A1"]
    # VST is on the log2 scale: ~log2 of normalized counts for highly expressed genes.
    normalized = rnaseq.normalized_counts(dds).set_index("gene").loc["COL1A1"]
    np.testing.assert_allclose(col1a1.to_numpy(), np.log2(normalized.to_numpy()), atol=0.05)


def test_vst_of_unfitted_counts_is_the_vst_of_the_fit(keloid):
    """The workflow's VST job (no DE fit) gives the fitted model's VST, bit for bit."""
    dds, _, _ = keloid
    counts = pd.DataFrame(np.asarray(dds.X).T, index=[str(g) for g in dds.var_names],
                          columns=[str(s) for s in dds.obs_names])
    sheet = dds.obs.reset_index().rename(columns={"index": "sample"})
    sheet["sample"] = sheet["sample"].astype(str)
    sheet["condition"] = sheet["condition"].astype(str)
    unfitted = rnaseq.vst_of_counts(counts, sheet, "~condition", reference_levels={"condition": "Normal Scar"})
    pd.testing.assert_frame_equal(unfitted, rnaseq.vst(dds), check_exact=True)
    # with two threads fitting the chunks (the workflow's VST job): the same numbers
    threaded = rnaseq.vst_of_handed_counts([counts], sheet, "~condition", reference_levels={"condition": "Normal Scar"},
                                           n_cpus=2)
    pd.testing.assert_frame_equal(threaded, unfitted, check_exact=True)


# --------------------------------------------------------------------------- simulated


@pytest.fixture(scope="module")
def simulated():
    return rnaseq.simulate_counts(n_genes=600, n_patients=4, seed=1)


@pytest.fixture(scope="module")
def simulated_fit(simulated):
    counts, sheet = simulated
    dds = rnaseq.fit_deseq(counts, sheet, "~patient + condition", reference_levels={"condition": "non-lesional"})
    results = rnaseq.test_contrast(dds, "condition", "non-lesional", "lesional")
    return dds, results


@pytest.mark.parametrize("engine", rnaseq.ENGINES)
def test_results_do_not_depend_on_n_cpus(simulated, engine, tmp_path):
    counts, sheet = simulated
    # the stock engine's per-gene shrinkage takes minutes: its check uses 300 genes, no shrinkage
    stock = engine == "pydeseq2"
    counts = counts.iloc[:300] if stock else counts
    tables, vsts, saved_fits = [], [], []
    for n_cpus in (1, 2):
        dds = rnaseq.fit_deseq(counts, sheet, "~batch + condition", engine=engine, n_cpus=n_cpus,
                               reference_levels={"condition": "non-lesional"})
        save_fit(dds, tmp_path / f"fit_{n_cpus}.pkl")
        saved_fits.append((tmp_path / f"fit_{n_cpus}.pkl").read_bytes())
        assert dds.inference.n_cpus == n_cpus  # saving leaves the live model as it was
        tables.append(rnaseq.test_contrast(dds, "condition", "non-lesional", "lesional", shrink=not stock))
        vsts.append(rnaseq.vst(dds))
    assert tables[0].to_csv().encode() == tables[1].to_csv().encode()
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)
    pd.testing.assert_frame_equal(vsts[0], vsts[1], check_exact=True)
    # the workflow's fit file is compared byte for byte between a local and a SLURM run
    assert saved_fits[0] == saved_fits[1]


def test_simulated_markers_found_by_alias_and_versioned_ensembl(simulated_fit):
    _, results = simulated_fit
    markers = rnaseq.marker_results(results, ["TGFB1", "CTGF", "collagen-1", "ENSG00000168542", "NOTAGENE"])
    table = markers.set_index("symbol")
    assert markers["symbol"].tolist() == ["TGFB1", "CCN2", "COL1A1", "COL3A1", "NOTAGENE"]
    assert table.at["CCN2", "gene"] == "CTGF"
    assert table.at["TGFB1", "gene"].startswith("ENSG00000105329.")
    assert table.at["COL3A1", "gene"].startswith("ENSG00000168542.")
    assert table.loc[["TGFB1", "CCN2", "COL1A1", "COL3A1"], "found"].all()
    assert not table.at["NOTAGENE", "found"]
    # Simulated truth: markers raised 1.5-3 log2 units in lesional skin.
    assert (table.loc[["TGFB1", "CCN2", "COL1A1", "COL3A1"], "log2FoldChange"] > 1.0).all()
    assert (table.loc[["TGFB1", "CCN2", "COL1A1", "COL3A1"], "padj"] < 0.05).all()


def test_shrunken_lfc_is_shrunk_towards_zero(simulated_fit):
    _, results = simulated_fit
    tested = results.dropna(subset=["log2FoldChange", "log2FoldChange_shrunk"])
    assert len(tested) > 550
    mle, shrunk = tested["log2FoldChange"].abs(), tested["log2FoldChange_shrunk"].abs()
    assert (shrunk <= mle + 1e-6).mean() > 0.95
    # Weak, noisy effects shrink a lot, strong well-measured ones barely.
    noisy = tested["pvalue"] > 0.5
    strong = tested["padj"] < 1e-10
    noisy_ratio = (shrunk[noisy] / mle[noisy]).median()
    strong_ratio = (shrunk[strong] / mle[strong]).median()
    assert noisy_ratio < 0.8
    assert strong_ratio > 0.95


def test_contrast_against_non_baseline_reference_is_reparametrised(simulated, simulated_fit):
    counts, sheet = simulated
    _, wanted = simulated_fit
    # Alphabetical levels make "lesional" the baseline: non-lesional is no coefficient.
    dds = rnaseq.fit_deseq(counts, sheet, "~patient + condition")
    assert dds.uns["fibroskin"]["reference_levels"]["condition"] == "lesional"
    results = rnaseq.test_contrast(dds, "condition", "non-lesional", "lesional")
    merged = wanted.set_index("gene").join(results.set_index("gene"), rsuffix="_other")
    # Two separate fits agree to the optimisers' tolerance: pydeseq2's L-BFGS-B fits of
    # dispersions and apeglm MAPs move LFCs by up to a few 1e-3 when reparametrised.
    np.testing.assert_allclose(merged["log2FoldChange"], merged["log2FoldChange_other"], atol=2e-3)
    np.testing.assert_allclose(merged["log2FoldChange_shrunk"], merged["log2FoldChange_shrunk_other"], atol=1e-2)
    np.testing.assert_allclose(-np.log10(merged["pvalue"]), -np.log10(merged["pvalue_other"]), rtol=0.01, atol=0.02)
    markers = rnaseq.marker_results(results, ["TGFB1", "COL1A1"])
    assert (markers["log2FoldChange_shrunk"] > 1.0).all()


def test_sort_order_is_stable():
    table = pd.DataFrame({
        "gene": ["c", "b", "a", "d", "e"],
        "padj": [0.1, 0.01, 0.1, np.nan, np.nan],
        "pvalue": [0.05, 0.001, 0.05, 0.2, np.nan],
    })
    assert rnaseq.sort_results(table)["gene"].tolist() == ["b", "a", "c", "d", "e"]


def test_prefilter_uses_smallest_group():
    counts = pd.DataFrame(
        {"a1": [10, 10, 0, 50], "a2": [10, 0, 0, 50], "a3": [10, 0, 0, 50], "b1": [0, 12, 9, 0], "b2": [0, 11, 30, 0]},
        index=["in_all_a", "two_samples", "one_sample", "a_only"],
    )
    groups = pd.Series(["A", "A", "A", "B", "B"], index=counts.columns)
    kept = rnaseq.prefilter(counts, groups, min_count=10)
    assert kept.index.tolist() == ["in_all_a", "two_samples", "a_only"]
    assert rnaseq.prefilter(counts, groups, min_count=0).index.tolist() == counts.index.tolist()
    # nf-core/differentialabundance's filter: >= 10 reads in >= 1 sample keeps one_sample too
    assert rnaseq.prefilter(counts, groups, min_count=10, min_samples=1).index.tolist() == counts.index.tolist()
    assert rnaseq.prefilter(counts, groups, min_count=10, min_samples=4).index.tolist() == []
    assert rnaseq.prefilter(counts, groups, min_count=11, min_samples=2).index.tolist() == ["two_samples", "a_only"]


def test_input_problems_are_reported(simulated, simulated_fit):
    counts, sheet = simulated
    with pytest.raises(InputErrors) as raised:
        rnaseq.fit_deseq(counts, sheet.iloc[1:], "~condition")
    assert "P1_non-lesional" in str(raised.value)
    with pytest.raises(InputErrors) as raised:
        rnaseq.fit_deseq(counts, sheet, "~condition", reference_levels={"condition": "healthy"})
    assert "healthy" in str(raised.value) and "non-lesional" in str(raised.value)
    dds, _ = simulated_fit
    with pytest.raises(InputErrors) as raised:
        rnaseq.test_contrast(dds, "condition", "non-lesional", "Lesional")
    assert "'Lesional'" in str(raised.value)


def test_table_steps_do_not_import_pydeseq2():
    """Jobs that only reshape tables (concordance) never pay pydeseq2's start-up."""
    code = (
        "import sys\n"
        "from fibroskin.rnaseq_steps import long_normalized_counts, read_annotation\n"
        "assert 'pydeseq2' not in sys.modules, sorted(m for m in sys.modules if 'pydeseq2' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_contrasts_fan_out_only_for_several_contrasts_of_a_large_table():
    assert not contrasts_fan_out(1, 10 * FAN_OUT_CELLS)  # nothing to run beside
    assert not contrasts_fan_out(3, FAN_OUT_CELLS - 1)  # small: tested in the fit's job
    assert contrasts_fan_out(2, FAN_OUT_CELLS)
