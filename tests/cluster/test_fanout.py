"""With two contrasts, per-contrast work fans out into separate jobs; shared work does not.

Cluster-oriented (a scheduler runs the per-contrast jobs in parallel), so it lives with the
SLURM test, run by ``pytest tests/cluster``; it needs no cluster, only ``snakemake -n``.
The RNA-seq tests of the contrasts fan out only for a large count table
(``fibroskin.rnaseq_steps.contrasts_fan_out``): a small one is tested in the fit's job.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from fibroskin.rnaseq_steps import FAN_OUT_CELLS

from test_slurm_executor import dry_run_jobs, make_workdir

PER_CONTRAST = [
    "qpcr_contrast", "qpcr_marker_figure", "rnaseq_contrast_figures",
    "finding_summary", "score_contrast", "concordance", "score_between_assays",
]
ONCE = [
    "qpcr_wells", "qpcr_efficiency", "qpcr_delta_cq", "qpcr_reference_stability", "qpcr_miqe",
    "rnaseq_import", "rnaseq_fit", "rnaseq_vst", "rnaseq_sample_figures", "profibrotic_score", "benchmark_summary",
]


def two_contrasts(tmp_path):
    workdir = make_workdir(tmp_path)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["contrasts"]["healthy_vs_lesional"] = {"column": "condition", "reference": "lesional", "target": "healthy"}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir, config


def test_two_contrasts_fan_out_and_share_one_fit(tmp_path):
    workdir, _ = two_contrasts(tmp_path)

    jobs = dry_run_jobs(workdir)

    assert {rule: jobs[rule] for rule in PER_CONTRAST} == {rule: 2 for rule in PER_CONTRAST}
    # One pydeseq2 fit and one qPCR table, shared by both contrasts; the example's table is
    # small, so the fit's job tests both contrasts itself.
    assert {rule: jobs[rule] for rule in ONCE} == {rule: 1 for rule in ONCE}
    assert "rnaseq_contrast" not in jobs


def test_a_large_table_tests_each_contrast_in_its_own_job(tmp_path):
    workdir, config = two_contrasts(tmp_path)
    counts_path = workdir / config["rnaseq"]["counts"]
    counts = pd.read_csv(counts_path, sep="\t", index_col=0)
    # the example's samples with enough genes to pass the threshold (dry run: never fitted)
    genes = -(-FAN_OUT_CELLS // counts.shape[1])
    rng = np.random.default_rng(1)
    large = pd.DataFrame(rng.poisson(50, size=(genes, counts.shape[1])), columns=counts.columns,
                         index=pd.Index([f"ENSG{i:011d}" for i in range(genes)], name=counts.index.name))
    large.to_csv(counts_path, sep="\t")

    jobs = dry_run_jobs(workdir)

    assert jobs["rnaseq_contrast"] == 2 and jobs["rnaseq_fit"] == 1
