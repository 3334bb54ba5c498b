"""Rule rnaseq_contrast_figures: volcano, MA, marker heatmap and marker counts of one contrast."""

from fibroskin.config import Contrast, load_design
from fibroskin.plots.rnaseq import marker_count_plot, marker_heatmap, ma_plot, volcano_plot
from fibroskin.plots.theme import run_palette, save_figure
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, read_tsv_rows

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
contrast = Contrast(**snakemake.params.contrast)
palette = run_palette(design, contrast)
results, markers = read_tsv(snakemake.input.results), read_tsv(snakemake.input.markers)
sheet = design.samples.drop(columns="__line__")
chosen = sheet[sheet[contrast.column].isin([contrast.reference, contrast.target])]
alpha = design.rnaseq.alpha
output = snakemake.output
save_figure(volcano_plot(results, palette, contrast.reference, contrast.target, markers, alpha), output.volcano)
save_figure(ma_plot(results, palette, contrast.reference, contrast.target, markers, alpha), output.ma)
# the markers' rows only (the tables hold every gene of every sample)
marker_genes = {"gene": markers["gene"].astype(str).tolist()}
vst = read_tsv_rows(snakemake.input.vst, marker_genes).drop(columns="symbol")
counts = read_tsv_rows(snakemake.input.normalized_counts, marker_genes).drop(columns="symbol")
columns = ["gene"] + chosen["sample"].tolist()
save_figure(marker_heatmap(vst[columns], markers, chosen, palette, contrast.column), output.heatmap)
save_figure(marker_count_plot(counts[columns], markers, chosen, palette, contrast.column), output.counts)
