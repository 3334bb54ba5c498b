# R DESeq2 on a pasilla subset with 3 residual degrees of freedom, where R
# estimates the dispersion prior variance by simulation (estimateDispersionsPriorVar,
# set.seed(2)). The reference for fibroskin's port of that simulation.
# Run from this folder: Rscript make_small_design_references.R [pasilla folder]
# (the counts are public data, read from ../shared/data/pasilla beside the checkout).
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
pasilla <- if (length(args)) args[1] else "../../../../shared/data/pasilla"
counts <- as.matrix(read.csv(file.path(pasilla, "pasilla_counts.csv"), row.names = 1, check.names = FALSE))
meta <- read.csv(file.path(pasilla, "pasilla_metadata.csv"), row.names = 1)
subsets <- list(
  "3treated_2untreated" = c("treated1", "treated2", "treated3", "untreated1", "untreated2")
)
for (name in names(subsets)) {
  keep <- subsets[[name]]
  sub_meta <- meta[keep, , drop = FALSE]
  sub_meta$condition <- factor(sub_meta$condition, levels = c("treated", "untreated"))
  dds <- DESeqDataSetFromMatrix(counts[, keep], sub_meta, ~condition)
  dds <- DESeq(dds, quiet = TRUE)
  res <- results(dds, contrast = c("condition", "untreated", "treated"), alpha = 0.05)
  out <- as.data.frame(res)
  out$dispersion <- dispersions(dds)
  out <- cbind(gene_id = rownames(out), out)
  for (column in names(out)[-1]) out[[column]] <- sprintf("%.12g", out[[column]])
  file <- sprintf("R_DESeq2_%s_%s.csv", packageVersion("DESeq2"), name)
  write.csv(out, file, row.names = FALSE, quote = FALSE)
  system2("gzip", c("-n", "-f", file))  # -n: no time stamp, so reruns give identical bytes
  cat(name, "prior variance", sprintf("%.17g", attr(dispersionFunction(dds), "dispPriorVar")), "\n")
}
