"""Rule rnaseq_vst: counts -> the variance-stabilised expression of every sample, for the figures."""

from fibroskin.config import load_design
from fibroskin.rnaseq_steps import vst_table
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
write_tsv(vst_table(load_design(snakemake.config), read_tsv(snakemake.input.counts)), snakemake.output.vst)
