"""Rule qpcr_reference_stability_figure: geNorm M by exclusion step and V(n/n+1)."""

from fibroskin.config import load_design
from fibroskin.plots.miqe import plot_reference_stability
from fibroskin.qpcr_steps import reference_stability
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
_, _, genorm_result, _ = reference_stability(
    read_tsv(snakemake.input.wells), read_tsv(snakemake.input.efficiency), design.qpcr, None
)
plot_reference_stability(genorm_result, snakemake.output.figures)
