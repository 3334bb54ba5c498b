"""Rule profibrotic_score: mean marker z-score per sample, per assay."""

import pandas as pd

from fibroskin.config import load_design
from fibroskin.runlog import rule_logger
from fibroskin.score import profibrotic_score, qpcr_expression, rnaseq_expression
from fibroskin.tables import read_tsv, read_tsv_rows, write_tsv

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
markers = load_design(snakemake.config).markers
inputs = snakemake.input
scores = []
if "delta_cq" in inputs.keys():
    scores.append(profibrotic_score(qpcr_expression(read_tsv(inputs.delta_cq)), markers, "qpcr"))
if "vst" in inputs.keys():
    vst = read_tsv_rows(inputs.vst, {"gene": markers, "symbol": markers}).set_index("gene")  # the markers' rows
    scores.append(profibrotic_score(rnaseq_expression(vst.drop(columns="symbol"), vst["symbol"]), markers, "rnaseq"))
write_tsv(pd.concat(scores, ignore_index=True), snakemake.output.score)
