"""Rule rnaseq_interactive_contrast: the volcano and MA plots of one contrast as interactive HTML pages."""

from fibroskin.config import Contrast, load_design
from fibroskin.plots.interactive import ma_page, volcano_page
from fibroskin.plots.palette import run_palette
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, write_document

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
contrast = Contrast(**snakemake.params.contrast)
palette = run_palette(design, contrast)
results, markers = read_tsv(snakemake.input.results), read_tsv(snakemake.input.markers)
arguments = (results, palette, contrast.reference, contrast.target, markers, design.rnaseq.alpha, contrast.name)
write_document(volcano_page(*arguments), snakemake.output.volcano)
write_document(ma_page(*arguments), snakemake.output.ma)
