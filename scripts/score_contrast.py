"""Rule score_contrast: compare the profibrotic score between the contrast's groups."""

from fibroskin.config import Contrast, load_design
from fibroskin.plots.concordance import score_by_group
from fibroskin.plots.theme import run_palette, save_figure
from fibroskin.qpcr import contrast_groups
from fibroskin.runlog import rule_logger
from fibroskin.score import score_test
from fibroskin.tables import read_tsv, write_tsv

snakemake = globals()["snakemake"]
rule_logger(snakemake.log[0])
design = load_design(snakemake.config)
contrast = Contrast(**snakemake.params.contrast)
groups = contrast_groups(design.samples, contrast)
palette = run_palette(design, contrast)
scores = read_tsv(snakemake.input.score)
tests = score_test(scores, groups, contrast)
write_tsv(tests, snakemake.output.test)
save_figure(score_by_group(scores, tests, groups, contrast, palette), snakemake.output.figures)
