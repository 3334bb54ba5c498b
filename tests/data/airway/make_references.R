# R DESeq2 on airway (Himes et al. 2014; 4 cell lines, untreated and dexamethasone),
# paired design ~celltype + dex, stage by stage: for every gene the gene-wise dispersion
# and its line-search iterations, the trend, the MAP and final dispersions and the
# results() columns (dex treated vs untreated, alpha = 0.1). Genes prefiltered as the
# workflow does (>= 10 reads in >= 4 samples, the smaller dex group).
# Run from this folder: Rscript make_references.R [airway folder]
# (the counts are public data, read from ../shared/data/airway beside the checkout).
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
airway <- if (length(args)) args[1] else "../../../../shared/data/airway"
counts <- as.matrix(read.csv(file.path(airway, "airway_rawcounts.csv.gz"), row.names = 1, check.names = FALSE))
meta <- read.csv(file.path(airway, "airway_metadata.csv"), row.names = 1)[colnames(counts), ]
meta$dex <- factor(meta$dex, levels = c("control", "treated"))
meta$celltype <- factor(meta$celltype)
counts <- counts[rowSums(counts >= 10) >= 4, ]
dds <- DESeqDataSetFromMatrix(counts, meta[, c("celltype", "dex")], ~celltype + dex)
dds <- DESeq(dds, quiet = TRUE)
res <- results(dds, contrast = c("dex", "treated", "control"))
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
file <- sprintf("R_DESeq2_%s_celltype_dex.csv", packageVersion("DESeq2"))
write.csv(out, file, row.names = FALSE, quote = FALSE)
system2("gzip", c("-n", "-f", file))  # -n: no time stamp, so reruns give identical bytes
summary <- data.frame(
  quantity = c(paste0("size_factor_", colnames(dds)), "trend_a0", "trend_a1", "prior_variance"),
  value = sprintf("%.17g", c(sizeFactors(dds), attr(dispersionFunction(dds), "coefficients"),
                             attr(dispersionFunction(dds), "dispPriorVar")))
)
write.csv(summary, sub("\\.csv$", "_summary.csv", file), row.names = FALSE, quote = FALSE)

# The same design on every gene (no prefilter: the workflow's min_count 0), 30,633 of them
# all zero. Written for the genes with a count (the others are all NA in R, baseMean 0).
counts <- as.matrix(read.csv(file.path(airway, "airway_rawcounts.csv.gz"), row.names = 1, check.names = FALSE))
dds <- DESeqDataSetFromMatrix(counts, meta[, c("celltype", "dex")], ~celltype + dex)
dds <- DESeq(dds, quiet = TRUE)
res <- results(dds, contrast = c("dex", "treated", "control"))
stages <- mcols(dds)
counted <- !stages$allZero
out <- data.frame(
  gene_id = rownames(dds), baseMean = res$baseMean,
  dispGeneEst = stages$dispGeneEst, dispGeneIter = stages$dispGeneIter,
  dispFit = stages$dispFit, dispMAP = stages$dispMAP, dispersion = stages$dispersion,
  dispOutlier = stages$dispOutlier, log2FoldChange = res$log2FoldChange, lfcSE = res$lfcSE,
  pvalue = res$pvalue, padj = res$padj
)[counted, ]
for (column in names(out)[-1]) {
  if (is.numeric(out[[column]])) out[[column]] <- sprintf("%.17g", out[[column]])
}
file <- sprintf("R_DESeq2_%s_celltype_dex_all_genes.csv", packageVersion("DESeq2"))
write.csv(out, file, row.names = FALSE, quote = FALSE)
system2("gzip", c("-n", "-f", file))
summary <- data.frame(
  quantity = c("genes", "all_zero_genes", "trend_a0", "trend_a1", "prior_variance"),
  value = c(nrow(dds), sum(stages$allZero), sprintf("%.17g", c(attr(dispersionFunction(dds), "coefficients"),
                                                               attr(dispersionFunction(dds), "dispPriorVar"))))
)
write.csv(summary, sub("\\.csv$", "_summary.csv", file), row.names = FALSE, quote = FALSE)
