"""Rule qpcr_marker_figure: the study figure (relative expression per marker and group)."""

from fibroskin.config import Contrast, load_design
from fibroskin.plots.qpcr import marker_panels
from fibroskin.plots.theme import run_palette, save_figure
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
contrast = Contrast(**snakemake.params.contrast)
figure = marker_panels(
    read_tsv(snakemake.input.relative_expression),
    read_tsv(snakemake.input.marker_stats),
    contrast,
    run_palette(design, contrast),
    design.markers,
)
save_figure(figure, snakemake.output.figures)
