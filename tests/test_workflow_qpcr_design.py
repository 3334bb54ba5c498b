"""End to end: a three-group qPCR family with a covariate-adjusted linear model, through Snakemake.

The bundled example's Cq table with a sheet relabelled into healthy (6), non-lesional (3) and
lesional (3) biopsies in two batches with the donors' ages; the config asks for every pair of
the three levels and ``qpcr.design: "~batch + age + condition"``. The pairwise adjustment and
the model are recomputed here by hand from ``delta_cq.tsv`` (Holm's rule; least squares with a
hand-built design matrix), independently of the package's code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as scipy_stats

from conftest import ROOT, run_workflow

PAIRS = ["non-lesional_vs_healthy", "lesional_vs_healthy", "lesional_vs_non-lesional"]
LEVELS = {"H01": "healthy", "H02": "healthy", "H03": "healthy", "H04": "healthy", "H05": "healthy",
          "H06": "healthy", "L01": "lesional", "L02": "lesional", "L03": "non-lesional",
          "L04": "lesional", "L05": "non-lesional", "L06": "non-lesional"}
BATCHES = {sample: "run1" if sample[-1] in "135" else "run2" for sample in LEVELS}
AGES = {sample: 30 + 4 * number for number, sample in enumerate(LEVELS)}


@pytest.fixture(scope="module")
def three_group_run(tmp_path_factory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("three_groups") / "run"
    workdir.mkdir()
    shutil.copy(ROOT / "resources" / "example" / "qpcr_cq.tsv", workdir / "cq.tsv")
    sheet = pd.DataFrame(
        {"sample": list(LEVELS), "condition": list(LEVELS.values()), "batch": list(BATCHES.values()), "age": list(AGES.values())}
    )
    sheet.to_csv(workdir / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "samples.tsv",
        "contrasts": {"skin": {"column": "condition", "levels": ["healthy", "non-lesional", "lesional"]}},
        "markers": ["TGFB1", "COL1A1", "COL1A2", "COL3A1", "CCN2"],
        "qpcr": {"cq_tables": ["cq.tsv"], "reference_genes": ["GAPDH", "ACTB", "RPLP0"], "design": "~batch + age + condition"},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    dry = run_workflow(workdir, "-n")
    targets = [f"results/{pair}/qpcr/marker_stats.tsv" for pair in PAIRS]
    run_workflow(workdir, *targets)
    return workdir, dry.stdout + dry.stderr


def tables(workdir: Path) -> dict[str, pd.DataFrame]:
    return {pair: pd.read_csv(workdir / f"results/{pair}/qpcr/marker_stats.tsv", sep="\t").set_index("gene") for pair in PAIRS}


def test_one_job_per_pair_and_the_continuous_covariate_is_announced(three_group_run):
    _, dry_run = three_group_run
    jobs = {line.split()[0]: int(line.split()[1]) for line in dry_run.splitlines() if line.startswith("qpcr_")}
    assert jobs["qpcr_contrast"] == 3 and jobs["qpcr_marker_figure"] == 3
    assert "column 'age' holds only numbers, so the linear model takes it as a continuous covariate" in dry_run


def test_holm_over_the_three_pairs_by_hand(three_group_run):
    workdir, _ = three_group_run
    results = tables(workdir)
    for gene in results[PAIRS[0]].index:
        pvalues = np.array([results[pair].at[gene, "pvalue"] for pair in PAIRS])
        order = np.argsort(pvalues)
        holm = np.empty(3)
        holm[order] = np.minimum(1, np.maximum.accumulate(pvalues[order] * np.array([3, 2, 1])))
        for pair, expected in zip(PAIRS, holm):
            row = results[pair].loc[gene]
            assert row["padj_pairwise"] == pytest.approx(expected, rel=1e-9)
            assert row["padj_method"] == "BH"
            assert row["padj_pairwise_method"] == "holm over the 3 pairwise contrasts of condition (healthy, non-lesional, lesional)"
    # each pair is tested on its own two groups: 6 healthy, 3 non-lesional, 3 lesional
    assert results["lesional_vs_non-lesional"][["n_reference", "n_target"]].drop_duplicates().values.tolist() == [[3, 3]]


def test_linear_model_columns_equal_least_squares_by_hand(three_group_run):
    workdir, _ = three_group_run
    results = tables(workdir)
    delta = pd.read_csv(workdir / "results/qpcr/delta_cq.tsv", sep="\t")
    for gene in results[PAIRS[0]].index:
        dcq = delta[delta["target"] == gene].set_index("sample")["dcq"].dropna()
        samples = list(dcq.index)
        condition = [LEVELS[s] for s in samples]
        # intercept, batch run2, age, non-lesional, lesional (healthy as base)
        matrix = np.column_stack(
            [
                np.ones(len(samples)),
                [BATCHES[s] == "run2" for s in samples],
                [AGES[s] for s in samples],
                [c == "non-lesional" for c in condition],
                [c == "lesional" for c in condition],
            ]
        ).astype(float)
        coefficients, residual_sum, _, _ = np.linalg.lstsq(matrix, dcq.to_numpy(), rcond=None)
        df = len(samples) - matrix.shape[1]
        covariance = residual_sum[0] / df * np.linalg.inv(matrix.T @ matrix)
        for pair, weights in zip(PAIRS, ([0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, -1, 1])):
            weights = np.array(weights, dtype=float)
            estimate = weights @ coefficients
            se = np.sqrt(weights @ covariance @ weights)
            row = results[pair].loc[gene]
            assert row["lm_design"] == "~batch + age + condition"
            assert row["lm_n"] == len(samples) and row["lm_df"] == df
            assert row["lm_ddcq"] == pytest.approx(estimate, rel=1e-8, abs=1e-10)
            assert row["lm_ddcq_se"] == pytest.approx(se, rel=1e-8)
            assert row["lm_pvalue"] == pytest.approx(2 * scipy_stats.t.sf(abs(estimate / se), df), rel=1e-6)
            assert row["lm_fold_change"] == pytest.approx(2 ** -estimate, rel=1e-8)
            half = scipy_stats.t.ppf(0.975, df) * se
            assert row["lm_fold_change_ci_low"] == pytest.approx(2 ** -(estimate + half), rel=1e-8)
