# R DESeq2 1.38.3 on nf-core/rnaseq's salmon table of SRP254919 (3 mCherry vs 3 hND6), with
# nf-core/differentialabundance's settings: counts rounded as DESeqDataSetFromTximport rounds
# them, genes with >= 10 reads in >= 1 sample, design ~treatment, results(alpha = 0.1), MLE
# log2 fold changes; once without length offsets, once with the lengths table as the
# avgTxLength assay (DESeq2's per-gene, per-sample normalization factors). Run from this folder:
#   Rscript make_deseq2_references.R [nfcore_srp254919 folder]
# (the table is public data, read from ../shared/data beside the checkout). Writes
# R_DESeq2_srp254919_{counts_only,length_offsets}.tsv.gz: gene, baseMean, log2FoldChange,
# lfcSE, pvalue, padj (12 significant digits; NA as R's NA), gzipped with `gzip -n`; for the
# run with offsets also R_normalized_srp254919_length_offsets.tsv.gz (counts(dds, normalized =
# TRUE), counts over the normalization factors) and R_VST_srp254919_length_offsets.tsv.gz
# (varianceStabilizingTransformation(dds, blind = TRUE): every gene, no subset), gene then
# samples, 12 significant digits.
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args)) args[1] else "../../../../shared/data/nfcore_srp254919"
table <- read.delim(file.path(data_dir, "SRP254919.salmon.merged.gene_counts.top1000cov.tsv"), check.names = FALSE)
lengths <- read.delim(file.path(data_dir, "SRP254919.spoofed_lengths.tsv"), check.names = FALSE)
sheet <- read.csv(file.path(data_dir, "SRP254919.samplesheet.csv"))
samples <- sheet$sample
counts <- round(as.matrix(table[, samples]))
mode(counts) <- "integer"
rownames(counts) <- table$gene_id
length_matrix <- as.matrix(lengths[match(table$gene_id, lengths$gene_id), samples])
rownames(length_matrix) <- table$gene_id
column_data <- data.frame(treatment = factor(sheet$treatment, levels = c("mCherry", "hND6")), row.names = samples)
for (variant in c("counts_only", "length_offsets")) {
  dds <- DESeqDataSetFromMatrix(counts, column_data, ~treatment)
  if (variant == "length_offsets") assays(dds)[["avgTxLength"]] <- length_matrix
  dds <- dds[rowSums(counts(dds) >= 10) >= 1, ]
  dds <- DESeq(dds, quiet = TRUE)
  res <- results(dds, contrast = c("treatment", "hND6", "mCherry"), alpha = 0.1)
  out <- data.frame(gene = rownames(res))
  for (column in c("baseMean", "log2FoldChange", "lfcSE", "pvalue", "padj")) {
    out[[column]] <- ifelse(is.na(res[[column]]), "NA", sprintf("%.12g", res[[column]]))
  }
  file <- sprintf("R_DESeq2_srp254919_%s.tsv", variant)
  write.table(out, file, sep = "\t", quote = FALSE, row.names = FALSE)
  system2("gzip", c("-n", "-f", file))
  if (variant == "length_offsets") {
    matrices <- list(normalized = counts(dds, normalized = TRUE),
                     VST = assay(varianceStabilizingTransformation(dds, blind = TRUE)))
    for (name in names(matrices)) {
      values <- matrices[[name]]
      table_out <- data.frame(gene = rownames(values))
      for (sample in colnames(values)) table_out[[sample]] <- sprintf("%.12g", values[, sample])
      file <- sprintf("R_%s_srp254919_length_offsets.tsv", name)
      write.table(table_out, file, sep = "\t", quote = FALSE, row.names = FALSE)
      system2("gzip", c("-n", "-f", file))
    }
  }
  cat(variant, ": ", nrow(out), " genes, ", sum(res$padj < 0.1, na.rm = TRUE), " at padj < 0.1, ",
      sum(is.na(res$padj)), " NA\n", sep = "")
}
