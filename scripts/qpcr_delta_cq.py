"""Rule qpcr_delta_cq: wells -> per-well QC flags and per-(sample, target) dCq."""

from fibroskin.config import load_design
from fibroskin.qpcr_steps import delta_cq
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
qc, delta, notes = delta_cq(
    read_tsv(snakemake.input.wells), read_tsv(snakemake.input.efficiency), load_design(snakemake.config).qpcr
)
for note in notes:
    log.info(note)
write_tsv(qc, snakemake.output.qc)
write_tsv(delta, snakemake.output.delta_cq)
