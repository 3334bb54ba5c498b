"""Rule qpcr_efficiency: standard curves and the amplification factor of every target."""

from fibroskin.config import load_design
from fibroskin.qpcr_steps import efficiency_table
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
table = efficiency_table(read_tsv(snakemake.input.wells), load_design(snakemake.config).qpcr)
log.info("efficiency:\n%s", table.to_string())
write_tsv(table, snakemake.output.efficiency)
