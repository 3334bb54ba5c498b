"""With two contrasts, per-contrast work fans out into separate jobs; shared work does not.

Cluster-oriented (a scheduler runs the per-contrast jobs in parallel), so it lives with the
SLURM test, run by ``pytest tests/cluster``; it needs no cluster, only ``snakemake -n``.
"""

from __future__ import annotations

import yaml

from test_slurm_executor import dry_run_jobs, make_workdir

PER_CONTRAST = [
    "qpcr_contrast", "qpcr_marker_figure", "rnaseq_contrast", "rnaseq_contrast_figures",
    "finding_summary", "score_contrast", "concordance", "score_between_assays",
]
ONCE = [
    "qpcr_wells", "qpcr_efficiency", "qpcr_delta_cq", "qpcr_reference_stability", "qpcr_miqe",
    "rnaseq_import", "rnaseq_fit", "rnaseq_sample_figures", "profibrotic_score", "benchmark_summary",
]


def test_two_contrasts_fan_out_and_share_one_fit(tmp_path):
    workdir = make_workdir(tmp_path)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["contrasts"]["healthy_vs_lesional"] = {"column": "condition", "reference": "lesional", "target": "healthy"}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    jobs = dry_run_jobs(workdir)

    assert {rule: jobs[rule] for rule in PER_CONTRAST} == {rule: 2 for rule in PER_CONTRAST}
    # One pydeseq2 fit and one qPCR table, shared by both contrasts.
    assert {rule: jobs[rule] for rule in ONCE} == {rule: 1 for rule in ONCE}
