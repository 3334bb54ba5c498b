"""Rule score_between_assays: the qPCR profibrotic score against the RNA-seq score."""

from fibroskin.config import Contrast, load_design
from fibroskin.plots.concordance import score_between_assays
from fibroskin.plots.theme import run_palette, save_figure
from fibroskin.qpcr import contrast_groups
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
contrast = Contrast(**snakemake.params.contrast)
figure = score_between_assays(
    read_tsv(snakemake.input.score),
    contrast_groups(design.samples, contrast),
    run_palette(design, contrast),
)
save_figure(figure, snakemake.output.figures)
