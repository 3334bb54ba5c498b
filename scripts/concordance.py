"""Rule concordance: qPCR against RNA-seq, per marker and per sample."""

from fibroskin.concordance import marker_concordance, sample_concordance
from fibroskin.config import Contrast, load_design
from fibroskin.plots.concordance import marker_scatter, sample_scatter
from fibroskin.plots.theme import run_palette, save_figure
from fibroskin.qpcr import contrast_groups
from fibroskin.rnaseq_steps import long_normalized_counts
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, read_tsv_rows, write_tsv

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
contrast = Contrast(**snakemake.params.contrast)
groups = contrast_groups(design.samples, contrast)
markers = marker_concordance(read_tsv(snakemake.input.qpcr), read_tsv(snakemake.input.rnaseq))
points, correlations = sample_concordance(
    read_tsv(snakemake.input.delta_cq),
    # the markers' rows only (the table holds every gene of every sample)
    long_normalized_counts(read_tsv_rows(snakemake.input.normalized_counts, {"symbol": markers["gene"].tolist()})),
    groups,
    markers["gene"].tolist(),
)
write_tsv(markers, snakemake.output.markers)
write_tsv(points, snakemake.output.samples)
write_tsv(correlations, snakemake.output.sample_correlation)
save_figure(marker_scatter(markers, contrast), snakemake.output.marker_figures)
palette = run_palette(design, contrast)
save_figure(sample_scatter(points, correlations, palette), snakemake.output.sample_figures)
