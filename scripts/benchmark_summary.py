"""Rule benchmark_summary: every job's benchmark file -> results/benchmarks.tsv."""

from fibroskin.benchmarks import gather
from fibroskin.runlog import rule_logger
from fibroskin.tables import write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
table = gather(snakemake.params.jobs)
log.info("job benchmarks:\n%s", table.to_string())
write_tsv(table, snakemake.output.table)
