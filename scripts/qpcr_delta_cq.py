"""Rule qpcr_delta_cq: Cq tables -> per-well QC flags and per-(sample, target) dCq."""

from fibroskin.config import load_design
from fibroskin.qpcr import delta_cq_from_files
from fibroskin.runlog import rule_logger
from fibroskin.tables import write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
qc, delta, notes = delta_cq_from_files(design.qpcr)
for note in notes:
    log.info(note)
write_tsv(qc, snakemake.output.qc)
write_tsv(delta, snakemake.output.delta_cq)
