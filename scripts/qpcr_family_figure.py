"""Rule qpcr_family_figure: every level of a ``levels:`` family per marker, with each pair's Holm p."""

from fibroskin.config import Contrast, load_design
from fibroskin.plots.qpcr import family_marker_panels, family_relative_expression
from fibroskin.plots.theme import run_palette, save_figure
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
pairs = [Contrast(**spec) for spec in snakemake.params.pairs]
levels = pairs[0].family_levels
relative = family_relative_expression([read_tsv(path) for path in snakemake.input.relative_expression], levels)
statistics = list(zip(pairs, (read_tsv(path) for path in snakemake.input.marker_stats)))
palette = run_palette(design, column=pairs[0].column)
save_figure(family_marker_panels(relative, statistics, levels, palette, design.markers), snakemake.output.figures)
