"""Rule rnaseq_sample_figures: PCA and sample-distance heatmap of the VST (all samples)."""

from fibroskin.config import load_design
from fibroskin.plots.rnaseq import pca_plot, sample_distance_heatmap
from fibroskin.plots.theme import run_palette, save_figure
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_expression

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
contrast = design.contrasts[0]
sheet = design.samples.drop(columns="__line__")
palette = run_palette(design)
vst = read_expression(snakemake.input.vst)  # floats indexed by gene, read by blocks
save_figure(pca_plot(vst, sheet, palette, contrast.column), snakemake.output.pca)
save_figure(sample_distance_heatmap(vst, sheet, palette, contrast.column), snakemake.output.distances)
