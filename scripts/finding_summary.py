"""Rule finding_summary: one row and one verdict per marker, whichever assays ran."""

from fibroskin.config import Contrast, load_design
from fibroskin.runlog import rule_logger
from fibroskin.summary import finding_summary
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
contrast = Contrast(**snakemake.params.contrast)
inputs = snakemake.input
summary = finding_summary(
    design.markers,
    read_tsv(inputs.qpcr) if "qpcr" in inputs.keys() else None,
    read_tsv(inputs.rnaseq) if "rnaseq" in inputs.keys() else None,
    target_level=contrast.target,
    alpha=design.rnaseq.alpha if design.rnaseq else 0.05,
)
for line in summary["verdict"]:
    log.info(line)
write_tsv(summary, snakemake.output.summary)
