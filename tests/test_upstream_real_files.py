"""Real upstream outputs, as the tools wrote them: nf-core/rnaseq's merged salmon table of
SRP254919 and the GEUVADIS salmon and RSEM files of the tximport vignette (``../shared/data``),
read, validated and run through the workflow."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import DATA, run_workflow, shared_data
from fibroskin.config import load_design
from fibroskin.errors import InputErrors
from fibroskin.rnaseq_input import read_rnaseq_input
from fibroskin.tables import read_tsv
from fibroskin.validate import validate_run

NFCORE_COUNTS = "SRP254919.salmon.merged.gene_counts.top1000cov.tsv"
NFCORE_LENGTHS = "SRP254919.spoofed_lengths.tsv"
GEUVADIS_RUNS = {"ERR188297": "A", "ERR188088": "A", "ERR188329": "B", "ERR188288": "B"}


def nfcore_config(workdir: Path, **rnaseq) -> dict:
    """nf-core's own files in ``workdir``: its sample sheet (column ``treatment``) and table."""
    folder = shared_data("nfcore_srp254919")
    for name in (NFCORE_COUNTS, NFCORE_LENGTHS, "SRP254919.samplesheet.csv"):
        shutil.copy(folder / name, workdir / name)
    return {
        "samples": "SRP254919.samplesheet.csv",
        "contrasts": {"hND6_vs_mCherry": {"column": "treatment", "reference": "mCherry", "target": "hND6"}},
        "markers": ["Rho", "Ighg2b"],
        "figures": {"format": ["svg"]},  # one format: the tests read tables
        "rnaseq": {"counts": NFCORE_COUNTS, "design": "~treatment", "min_count": 10, "min_samples": 1,
                   "alpha": 0.1, **rnaseq},
    }


def geuvadis_config(workdir: Path, tool: str, **rnaseq) -> dict:
    """The four GEUVADIS samples (2 vs 2), one file per sample named in the sheet."""
    folder = shared_data("tximportdata_geuvadis")
    suffix = ".quant.sf.gz" if tool == "salmon" else ".genes.results.gz"
    rows = ["sample\tcondition\tcounts_file"]
    rows += [f"{run}\t{group}\t{folder / tool / (run + suffix)}" for run, group in GEUVADIS_RUNS.items()]
    (workdir / "samples.tsv").write_text("\n".join(rows) + "\n")
    return {
        "samples": "samples.tsv",
        "contrasts": {"B_vs_A": {"column": "condition", "reference": "A", "target": "B"}},
        "figures": {"format": ["svg"]},
        "rnaseq": {"tx2gene": str(folder / "tx2gene.csv.gz"), "min_count": 10, **rnaseq},
    }


def refusal(config: dict) -> str:
    with pytest.raises(InputErrors) as raised:
        validate_run(config)
    return str(raised.value)


def r_counts(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / "tximport" / f"{name}.tsv.gz", sep="\t", index_col="gene", keep_default_na=False)


def test_nfcore_table_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    design = validate_run(nfcore_config(tmp_path))
    result = read_rnaseq_input(design)
    written = pd.read_csv(NFCORE_COUNTS, sep="\t", index_col="gene_id")
    assert result.counts.shape == (1000, 6)
    np.testing.assert_array_equal(result.counts.to_numpy(), np.rint(written.drop(columns="gene_name").to_numpy()))
    assert result.symbols["ENSMUSG00000030324"] == "Rho"
    assert result.lengths is None
    assert any("989 of 6000 estimated counts were not whole numbers; rounded to integers as R's round() does" in note
               for note in design.notes)
    assert "RNA-seq input: nf-core/rnaseq salmon merged gene counts" in design.notes


def test_nfcore_lengths_are_read_and_need_the_fast_engine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = nfcore_config(tmp_path, lengths=NFCORE_LENGTHS)
    design = validate_run(config)  # the CRLF lengths table is read as it is
    result = read_rnaseq_input(design)
    lengths = pd.read_csv(NFCORE_LENGTHS, sep="\t", index_col="gene_id").drop(columns="gene_name")
    np.testing.assert_array_equal(result.lengths.to_numpy(), lengths.loc[result.counts.index].to_numpy())
    config["rnaseq"]["engine"] = "pydeseq2"
    message = refusal(config)
    assert message.count("  - ") == 1, message
    assert ("column 'rnaseq.engine': length offsets need rnaseq.engine: fast: rnaseq.lengths "
            f"({NFCORE_LENGTHS}) asks DESeq2 to correct") in message


def test_geuvadis_salmon_files_per_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    design = validate_run(geuvadis_config(tmp_path, "salmon", counts_from_abundance="lengthScaledTPM"))
    result = read_rnaseq_input(design)
    expected = r_counts("salmon_counts_lengthScaledTPM").loc[result.counts.index]
    # R's counts rounded as DESeqDataSetFromTximport rounds them. Stored to 12 digits, R's numbers
    # still decide every rounding: the count closest to a half, 20700.4999996, is 4e-7 from it,
    # the storage error at most 5e-8.
    assert np.abs(expected.to_numpy() % 1 - 0.5).min() > 1e-7
    np.testing.assert_array_equal(result.counts.to_numpy(), np.rint(expected.to_numpy()))
    assert any("3 transcripts of the quantification files are not in tx2gene and have no reads" in note
               for note in design.notes)
    # the default, countsFromAbundance "no", gives estimated counts with their lengths as offsets,
    # which the stock engine cannot apply
    assert read_rnaseq_input(validate_run(geuvadis_config(tmp_path, "salmon"))).lengths is not None
    message = refusal(geuvadis_config(tmp_path, "salmon", engine="pydeseq2"))
    assert "length offsets need rnaseq.engine: fast: salmon quant.sf files with rnaseq.counts_from_abundance: no" in message


def test_geuvadis_rsem_files_per_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = geuvadis_config(tmp_path, "rsem")
    result = read_rnaseq_input(load_design(config))
    np.testing.assert_array_equal(result.counts.to_numpy(), r_counts("rsem_counts").loc[result.counts.index].round())
    np.testing.assert_array_equal(result.lengths.to_numpy(), r_counts("rsem_length").loc[result.counts.index])
    validate_run(config)
    assert "length offsets need rnaseq.engine: fast: RSEM genes.results files" in refusal(
        geuvadis_config(tmp_path, "rsem", engine="pydeseq2"))
    config["rnaseq"]["counts_from_abundance"] = "scaledTPM"
    assert "needs transcript-level estimates" in refusal(config)


def test_workflow_on_the_nfcore_table_as_written(tmp_path):
    # nf-core/differentialabundance's run: the merged table and its lengths table, as written
    workdir = tmp_path / "run"
    workdir.mkdir()
    config = nfcore_config(workdir, lengths=NFCORE_LENGTHS)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run_workflow(workdir)
    counts = read_tsv(workdir / "results" / "rnaseq" / "counts.tsv")
    assert counts.shape == (1000, 8) and counts.loc[counts["gene"] == "ENSMUSG00000030324", "symbol"].item() == "Rho"
    assert read_tsv(workdir / "results" / "rnaseq" / "lengths.tsv").shape == (1000, 7)
    results = read_tsv(workdir / "results" / "hND6_vs_mCherry" / "rnaseq" / "deseq2_results.tsv").set_index("gene")
    assert len(results) == 983  # >= 10 reads in >= 1 sample keeps 983 of the 1,000 genes
    assert results.loc["ENSMUSG00000076613", "symbol"] == "Ighg2b"
    r = pd.read_csv(DATA / "nfcore_srp254919" / "R_DESeq2_srp254919_length_offsets.tsv.gz", sep="\t", index_col="gene")
    numbers = agreement(results, r, alpha=0.1)
    assert numbers["calls"] == 5 and numbers["jaccard"] == 1.0 and numbers["na_pattern"] == 1.0
    assert numbers["max_dlfc"] < 1e-6
    markers = read_tsv(workdir / "results" / "hND6_vs_mCherry" / "rnaseq" / "marker_results.tsv")
    assert markers["found"].all() and markers["gene"].tolist() == ["ENSMUSG00000030324", "ENSMUSG00000076613"]
    # the strongest call keeps its size under apeglm's shrinkage (MLE log2FC 11.0)
    assert markers.set_index("symbol").loc["Ighg2b", "log2FoldChange_shrunk"] > 10
    import_log = (workdir / "logs" / "rnaseq" / "import.log").read_text()
    assert "read as nf-core/rnaseq salmon merged gene counts" in import_log
    assert "rounded to integers as R's round() does (halves to even)" in import_log
    fit_log = (workdir / "logs" / "rnaseq" / "fit.log").read_text()
    assert "prefilter (>= 10 reads in >= 1 samples (rnaseq.min_samples)): removed 17 of 1000 genes, 983 kept" in fit_log
    assert "length offsets: average transcript lengths of the 983 kept genes" in fit_log


def test_workflow_on_geuvadis_salmon_files_with_lengths(tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    # countsFromAbundance "no" (the default): estimated counts, their lengths as offsets
    config = geuvadis_config(workdir, "salmon")
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run_workflow(workdir)
    counts = read_tsv(workdir / "results" / "rnaseq" / "counts.tsv").set_index("gene")
    expected = r_counts("salmon_counts_no").loc[counts.index]
    np.testing.assert_array_equal(counts[list(GEUVADIS_RUNS)].to_numpy(), np.rint(expected.to_numpy()))
    lengths = read_tsv(workdir / "results" / "rnaseq" / "lengths.tsv").set_index("gene")
    np.testing.assert_allclose(lengths[list(GEUVADIS_RUNS)].to_numpy(),
                               r_counts("salmon_length").loc[lengths.index].to_numpy(), rtol=1e-10)
    results = read_tsv(workdir / "results" / "B_vs_A" / "rnaseq" / "deseq2_results.tsv").set_index("gene")
    r = pd.read_csv(DATA / "tximport" / "R_DESeq2_geuvadis_no.tsv.gz", sep="\t", index_col="gene")
    # the workflow's alpha is 0.05, as the reference's
    numbers = agreement(results, r, alpha=0.05)
    assert numbers["calls"] == 44 and numbers["jaccard"] == 1.0 and numbers["na_pattern"] == 1.0
    assert numbers["max_dlfc"] < 1e-6
    assert "salmon quant.sf files, one per sample, through tximport (countsFromAbundance no)" in (
        workdir / "logs" / "rnaseq" / "import.log").read_text()


def agreement(python: pd.DataFrame, r: pd.DataFrame, alpha: float) -> dict[str, float]:
    """Calls (padj < alpha), NA pattern and largest log2FC difference, gene by gene."""
    assert set(python.index) == set(r.index)
    r = r.loc[python.index]
    calls_python, calls_r = set(python.index[python["padj"] < alpha]), set(r.index[r["padj"] < alpha])
    return {
        "calls": len(calls_r),
        "jaccard": len(calls_python & calls_r) / len(calls_python | calls_r),
        "na_pattern": float((python["padj"].isna() == r["padj"].isna()).mean()),
        "max_dlfc": float(np.nanmax(np.abs(python["log2FoldChange"] - r["log2FoldChange"]))),
    }


def fibroskin_results(counts: pd.DataFrame, groups: pd.Series, reference: str, target: str, alpha: float,
                      min_samples: int | None = None, lengths: pd.DataFrame | None = None,
                      shrink: bool = False) -> tuple[pd.DataFrame, object]:
    """The fast engine as the workflow runs it: prefilter, fit (with length offsets when given), contrast."""
    from fibroskin import rnaseq

    kept = rnaseq.prefilter(counts, groups, 10, min_samples)
    dds = rnaseq.fit_deseq(kept, groups.to_frame(), f"~{groups.name}", reference_levels={groups.name: reference},
                           average_lengths=None if lengths is None else lengths.loc[kept.index])
    results = rnaseq.test_contrast(dds, groups.name, reference, target, alpha=alpha, shrink=shrink).set_index("gene")
    return results, dds


# The bar against R: the same calls and NA pattern, log2FC within 1e-6. Genes whose IRLS
# R hands to optim (maxit or |beta| > 30) follow R's L-BFGS-B with SciPy's; their log2FC agree to
# 1e-6, every other gene (R's fitBeta, bit for bit) to the references' printed digits.


def geuvadis_agreement(tmp_path, tool: str, mode: str, reference: str) -> dict[str, float]:
    design = load_design(geuvadis_config(tmp_path, tool, counts_from_abundance=mode))
    imported = read_rnaseq_input(design)
    assert (imported.lengths is not None) == (mode == "no")
    groups = pd.Series(GEUVADIS_RUNS, name="condition")
    results, _ = fibroskin_results(imported.counts, groups, "A", "B", alpha=0.05, lengths=imported.lengths)
    r = pd.read_csv(DATA / "tximport" / f"R_DESeq2_geuvadis_{reference}.tsv.gz", sep="\t", index_col="gene")
    return agreement(results, r, alpha=0.05)


@pytest.mark.parametrize("mode", ["no", "scaledTPM", "lengthScaledTPM"])
def test_geuvadis_salmon_agrees_with_r_tximport_and_deseq2(tmp_path, monkeypatch, mode):
    monkeypatch.chdir(tmp_path)
    numbers = geuvadis_agreement(tmp_path, "salmon", mode, mode)
    assert numbers["calls"] == {"no": 44, "scaledTPM": 46, "lengthScaledTPM": 43}[mode]
    assert numbers["jaccard"] == 1.0 and numbers["na_pattern"] == 1.0
    # measured: 7.6e-10 (no: length offsets), 5.0e-10 (scaledTPM), 5.0e-9 (lengthScaledTPM)
    assert numbers["max_dlfc"] < 1e-6


def test_geuvadis_rsem_agrees_with_r_tximport_and_deseq2(tmp_path, monkeypatch):
    # R's tximport keeps RSEM genes.results' estimated counts in every countsFromAbundance mode
    # (with a warning), so its three tables are this one; fibroskin refuses the other two modes
    monkeypatch.chdir(tmp_path)
    numbers = geuvadis_agreement(tmp_path, "rsem", "no", "rsem")
    assert numbers["calls"] == 41
    assert numbers["jaccard"] == 1.0 and numbers["na_pattern"] == 1.0
    assert numbers["max_dlfc"] < 1e-6  # measured 4.3e-9


def test_nfcore_counts_agree_with_r_deseq2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    design = load_design(nfcore_config(tmp_path))
    counts = read_rnaseq_input(design).counts
    groups = design.samples.set_index("sample")["treatment"]
    results, _ = fibroskin_results(counts, groups, "mCherry", "hND6", alpha=0.1, min_samples=1)
    r = pd.read_csv(DATA / "nfcore_srp254919" / "R_DESeq2_srp254919_counts_only.tsv.gz", sep="\t", index_col="gene")
    numbers = agreement(results, r, alpha=0.1)
    assert numbers["calls"] == 10 and len(results) == 983
    assert numbers["jaccard"] == 1.0 and numbers["na_pattern"] == 1.0
    assert numbers["max_dlfc"] < 1e-6


@pytest.fixture(scope="module")
def nfcore_with_lengths(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nfcore_lengths")
    with contextlib.chdir(workdir):
        design = load_design(nfcore_config(workdir, lengths=NFCORE_LENGTHS))
        imported = read_rnaseq_input(design)
    groups = design.samples.set_index("sample")["treatment"]
    return fibroskin_results(imported.counts, groups, "mCherry", "hND6", alpha=0.1, min_samples=1,
                             lengths=imported.lengths)


def test_nfcore_with_lengths_equals_r_deseq2_with_the_same_offsets(nfcore_with_lengths):
    results, _ = nfcore_with_lengths
    r = pd.read_csv(DATA / "nfcore_srp254919" / "R_DESeq2_srp254919_length_offsets.tsv.gz", sep="\t",
                    index_col="gene").loc[results.index]
    numbers = agreement(results, r, alpha=0.1)
    assert numbers["calls"] == 5 and int(r["padj"].isna().sum()) == 22
    assert numbers["jaccard"] == 1.0 and numbers["na_pattern"] == 1.0
    assert numbers["max_dlfc"] < 1e-6  # measured 9.8e-7: ENSMUSG00000086503, through R's optim; the others 5e-12
    np.testing.assert_allclose(results["baseMean"], r["baseMean"], rtol=1e-10)
    np.testing.assert_allclose(results["lfcSE"], r["lfcSE"], rtol=1e-5)
    tested = r["pvalue"].notna()
    np.testing.assert_allclose(results.loc[tested, "pvalue"], r.loc[tested, "pvalue"], rtol=1e-5)


def test_nfcore_with_lengths_calls_nfcore_differentialabundance_genes(nfcore_with_lengths):
    results, _ = nfcore_with_lengths
    nfcore = pd.read_csv(shared_data("nfcore_srp254919", "treatment_mCherry_hND6_.deseq2.results.tsv"), sep="\t",
                         index_col="gene_id")
    # nf-core filters the counts as salmon wrote them, fibroskin (as DESeqDataSetFromTximport) the
    # rounded ones: Spag17's largest count, 9.848, rounds to 10 and is kept here only
    assert set(results.index) - set(nfcore.index) == {"ENSMUSG00000027867"}
    assert set(nfcore.index) <= set(results.index)
    results = results.loc[nfcore.index]
    assert set(results.index[results["padj"] < 0.1]) == set(nfcore.index[nfcore["padj"] < 0.1])
    assert set(results.index[results["padj"].isna()]) == set(nfcore.index[nfcore["padj"].isna()])


def test_nfcore_with_lengths_normalized_counts_and_vst_are_r_s(nfcore_with_lengths):
    from fibroskin import rnaseq

    _, dds = nfcore_with_lengths
    for name, ours in (("normalized", rnaseq.normalized_counts(dds)), ("VST", rnaseq.vst(dds))):
        r = pd.read_csv(DATA / "nfcore_srp254919" / f"R_{name}_srp254919_length_offsets.tsv.gz", sep="\t",
                        index_col="gene")
        ours = ours.set_index("gene")
        np.testing.assert_allclose(ours.to_numpy(), r.loc[ours.index, ours.columns].to_numpy(), rtol=1e-10)
    # R keeps no size factors with normalization factors: size_factors.tsv holds their geometric means
    factors = np.asarray(dds.layers["normalization_factors"])
    np.testing.assert_allclose(rnaseq.size_factors(dds)["size_factor"], np.exp(np.log(factors).mean(axis=1)),
                               rtol=1e-14)
