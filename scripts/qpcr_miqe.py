"""Rule qpcr_miqe: NTC check and the MIQE summary table."""

from fibroskin.config import load_design
from fibroskin.miqe import check_ntc, fit_standard_curves, miqe_summary
from fibroskin.qpcr_steps import analysed_sample_wells
from fibroskin.runlog import rule_logger
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
log = rule_logger(snakemake.log[0])
settings = load_design(snakemake.config).qpcr
wells = read_tsv(snakemake.input.wells)
analysed = analysed_sample_wells(read_tsv(snakemake.input.qc), read_tsv(snakemake.input.delta_cq))
ntc = check_ntc(wells, settings.ntc_margin, analysed=analysed)
for row in ntc[ntc["flagged"]].itertuples():
    log.warning("NTC %s %s (%s): %s", row.plate, row.well, row.target, row.note)
summary = miqe_summary(
    wells,
    standard_curves=fit_standard_curves(wells),
    reference_table=read_tsv(snakemake.input.stability),
    pairwise_variation=read_tsv(snakemake.input.pairwise_variation),
    ntc=ntc,
    cq_cutoff=settings.max_cq,
    instrument_checks=read_tsv(snakemake.input.instrument_values),
)
write_tsv(ntc, snakemake.output.ntc)
write_tsv(summary, snakemake.output.miqe)
