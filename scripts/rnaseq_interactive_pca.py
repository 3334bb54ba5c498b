"""Rule rnaseq_interactive_pca: the PCA of the VST (all samples) as an interactive HTML page."""

from fibroskin.config import load_design
from fibroskin.plots.interactive import pca_page
from fibroskin.plots.palette import run_palette
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_expression, write_document

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
contrast = design.contrasts[0]
sheet = design.samples.drop(columns="__line__")
palette = run_palette(design)
vst = read_expression(snakemake.input.vst)  # floats indexed by gene, read by blocks
write_document(pca_page(vst, sheet, palette, contrast.column), snakemake.output.pca)
