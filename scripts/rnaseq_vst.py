"""Rule rnaseq_vst: counts (and lengths) -> the variance-stabilised expression of every sample, for the figures."""

from fibroskin.config import load_design
from fibroskin.rnaseq_steps import vst_table
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
lengths = read_tsv(snakemake.input.lengths) if "lengths" in snakemake.input.keys() else None
write_tsv(vst_table(load_design(snakemake.config), snakemake.input.counts, lengths, n_cpus=snakemake.threads),
          snakemake.output.vst)
