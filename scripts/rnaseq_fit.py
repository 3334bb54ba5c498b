"""Rule rnaseq_fit: counts -> one DESeq2 fit per run, its contrasts' results (or the saved fit), normalized counts, size factors."""

from fibroskin.config import load_design
from fibroskin.rnaseq_steps import fit, save_fit, test_contrasts
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
lengths = read_tsv(snakemake.input.lengths) if "lengths" in snakemake.input.keys() else None
outputs = fit(design, snakemake.input.counts, lengths, n_cpus=snakemake.threads)  # read by blocks there
for note in outputs.notes:
    log.info(note)
write_tsv(outputs.normalized_counts, snakemake.output.normalized_counts)
write_tsv(outputs.size_factors, snakemake.output.size_factors)
if "fit" in snakemake.output.keys():
    save_fit(outputs.dds, snakemake.output.fit)  # each contrast is its own job (rule rnaseq_contrast)
else:
    tested = test_contrasts(outputs.dds, design)
    for contrast, (results, markers), results_path, markers_path in zip(
        design.contrasts, tested, snakemake.output.results, snakemake.output.markers
    ):
        log.info("%s markers:\n%s", contrast.name, markers.to_string())
        write_tsv(results, results_path)
        write_tsv(markers, markers_path)
