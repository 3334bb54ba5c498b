"""Rule rnaseq_import: the RNA-seq input, as the upstream tool wrote it -> one count table (and lengths)."""

from fibroskin.config import load_design
from fibroskin.rnaseq_steps import import_counts
from fibroskin.runlog import rule_logger
from fibroskin.tables import write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
outputs = import_counts(load_design(snakemake.config))
for note in outputs.notes:
    log.info(note)
write_tsv(outputs.counts, snakemake.output.counts)
if "lengths" in snakemake.output.keys():
    # the engine's offsets need the lengths as computed, not to 10 digits
    write_tsv(outputs.lengths, snakemake.output.lengths, float_format="%.17g")
