"""Rule qpcr_reference_stability: geNorm M, V(n/n+1) and NormFinder of the reference genes."""

from fibroskin.config import load_design
from fibroskin.qpcr_steps import reference_stability
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
groups = design.samples.set_index("sample")[snakemake.params.group_column]
stability, variation, _, warnings = reference_stability(
    read_tsv(snakemake.input.wells), read_tsv(snakemake.input.efficiency), design.qpcr, groups
)
for warning in warnings:
    log.warning(warning)
write_tsv(stability, snakemake.output.stability)
write_tsv(variation, snakemake.output.pairwise_variation)
