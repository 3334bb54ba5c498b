# R DESeq2 on all of pasilla (~condition), stage by stage: for every gene the gene-wise
# dispersion and its line-search iterations, the trend, the MAP and final dispersions and
# the results() columns. The reference for fibroskin's per-stage tests (tests/deseq2/).
# Run from this folder: Rscript make_stage_references.R [pasilla folder]
# (the counts are public data, read from ../shared/data/pasilla beside the checkout).
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
pasilla <- if (length(args)) args[1] else "../../../../shared/data/pasilla"
counts <- as.matrix(read.csv(file.path(pasilla, "pasilla_counts.csv"), row.names = 1, check.names = FALSE))
meta <- read.csv(file.path(pasilla, "pasilla_metadata.csv"), row.names = 1)[colnames(counts), , drop = FALSE]
meta$condition <- factor(meta$condition, levels = c("treated", "untreated"))
dds <- DESeqDataSetFromMatrix(counts, meta[, "condition", drop = FALSE], ~condition)
dds <- DESeq(dds, quiet = TRUE)
res <- results(dds, contrast = c("condition", "untreated", "treated"))  # alpha = 0.1, R's default
stages <- mcols(dds)
out <- data.frame(
  gene_id = rownames(dds), baseMean = res$baseMean,
  dispGeneEst = stages$dispGeneEst, dispGeneIter = stages$dispGeneIter,
  dispFit = stages$dispFit, dispMAP = stages$dispMAP, dispersion = stages$dispersion,
  dispOutlier = stages$dispOutlier, log2FoldChange = res$log2FoldChange, lfcSE = res$lfcSE,
  pvalue = res$pvalue, padj = res$padj
)
for (column in names(out)[-1]) {
  if (is.numeric(out[[column]])) out[[column]] <- sprintf("%.17g", out[[column]])
}
file <- sprintf("R_DESeq2_%s_stages.csv", packageVersion("DESeq2"))
write.csv(out, file, row.names = FALSE, quote = FALSE)
system2("gzip", c("-n", "-f", file))  # -n: no time stamp, so reruns give identical bytes
summary <- data.frame(
  quantity = c(paste0("size_factor_", colnames(dds)), "trend_a0", "trend_a1", "prior_variance"),
  value = sprintf("%.17g", c(sizeFactors(dds), attr(dispersionFunction(dds), "coefficients"),
                             attr(dispersionFunction(dds), "dispPriorVar")))
)
write.csv(summary, sub("\\.csv$", "_summary.csv", file), row.names = FALSE, quote = FALSE)
