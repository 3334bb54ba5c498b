"""Rule qpcr_wells: instrument exports -> one tidy well table, plate offsets corrected."""

from fibroskin.config import load_design
from fibroskin.qpcr_steps import read_wells
from fibroskin.runlog import rule_logger
from fibroskin.tables import write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
result = read_wells(load_design(snakemake.config).qpcr)
for note in result.notes:
    log.info(note)
write_tsv(result.wells, snakemake.output.wells)
write_tsv(result.plate_offsets, snakemake.output.plate_offsets)
write_tsv(result.instrument_values, snakemake.output.instrument_values)
