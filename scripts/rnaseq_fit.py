"""Rule rnaseq_fit: counts -> one DESeq2 fit per run, normalized counts, VST, size factors."""

from fibroskin.config import load_design
from fibroskin.rnaseq_steps import fit, save_fit
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
lengths = read_tsv(snakemake.input.lengths) if "lengths" in snakemake.input.keys() else None
outputs = fit(load_design(snakemake.config), read_tsv(snakemake.input.counts), lengths, n_cpus=snakemake.threads)
for note in outputs.notes:
    log.info(note)
write_tsv(outputs.normalized_counts, snakemake.output.normalized_counts)
write_tsv(outputs.vst, snakemake.output.vst)
write_tsv(outputs.size_factors, snakemake.output.size_factors)
save_fit(outputs.dds, snakemake.output.fit)
