"""Rule qpcr_standard_curve_figure: Cq against log10 input of every standard dilution series."""

from fibroskin.miqe import fit_standard_curves
from fibroskin.plots.miqe import plot_standard_curves
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
wells = read_tsv(snakemake.input.wells)
plot_standard_curves(wells, fit_standard_curves(wells), snakemake.output.figures)
