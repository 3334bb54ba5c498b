"""Rule rnaseq_contrast: Wald test, independent filtering and shrinkage of one contrast."""

from fibroskin.config import Contrast, load_design
from fibroskin.rnaseq_steps import contrast_results, load_fit
from fibroskin.runlog import rule_logger
from fibroskin.tables import write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
results, markers = contrast_results(load_fit(snakemake.input.fit), Contrast(**snakemake.params.contrast), design)
log.info("markers:\n%s", markers.to_string())
write_tsv(results, snakemake.output.results)
write_tsv(markers, snakemake.output.markers)
