"""Rule qpcr_contrast: dCq -> ddCq, fold change, tests, adjustments, linear model and relative expression of one contrast."""

from fibroskin.config import Contrast, load_design
from fibroskin.qpcr import relative_expression
from fibroskin.qpcr_steps import marker_statistics
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
contrast = Contrast(**snakemake.params.contrast)
delta = read_tsv(snakemake.input.delta_cq)
statistics, notes = marker_statistics(delta, design, contrast)
for note in notes:
    log.info(note)
log.info("marker statistics:\n%s", statistics.to_string())
write_tsv(statistics, snakemake.output.marker_stats)
arguments = (delta, design.samples, contrast, design.qpcr.reference_genes, design.markers)
write_tsv(relative_expression(*arguments), snakemake.output.relative_expression)
