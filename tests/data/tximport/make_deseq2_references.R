# R DESeq2 1.38.3 on tximport 1.26.1's import of the four GEUVADIS salmon samples (ERR188297,
# ERR188088 = A vs ERR188329, ERR188288 = B), in each countsFromAbundance mode, as a user of the
# tximport vignette runs it: DESeqDataSetFromTximport (counts rounded; average transcript
# lengths as offsets in mode "no"), genes with >= 10 reads in >= 2 samples (fibroskin's default
# prefilter: the smallest group's size), DESeq(), results(contrast B vs A, alpha = 0.05), MLE
# log2 fold changes. Run from this folder:
#   Rscript make_deseq2_references.R [tximportdata_geuvadis folder]
# Writes R_DESeq2_geuvadis_<mode>.tsv.gz: gene, baseMean, log2FoldChange, pvalue, padj (10
# significant digits; NA as R's NA), gzipped with `gzip -n`. Then the same for the RSEM
# genes.results of those samples (type = "rsem", txIn = FALSE): tximport keeps their estimated
# counts in every countsFromAbundance mode (it warns that the other modes need transcript-level
# estimates), so DESeqDataSetFromTximport always uses their lengths as offsets; one file,
# R_DESeq2_geuvadis_rsem.tsv.gz, serves the three modes.
suppressPackageStartupMessages({
  library(tximport)
  library(DESeq2)
})
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args)) args[1] else "../../../../shared/data/tximportdata_geuvadis"
runs <- head(read.table(file.path(data_dir, "samples.txt"), header = TRUE)$run, 4)
files <- setNames(file.path(data_dir, "salmon", paste0(runs, ".quant.sf.gz")), runs)
tx2gene <- read.csv(file.path(data_dir, "tx2gene.csv.gz"))
column_data <- data.frame(condition = factor(c("A", "A", "B", "B"), levels = c("A", "B")), row.names = runs)
write_results <- function(txi, name) {
  dds <- suppressMessages(DESeqDataSetFromTximport(txi, column_data, ~condition))
  dds <- dds[rowSums(counts(dds) >= 10) >= 2, ]
  dds <- DESeq(dds, quiet = TRUE)
  res <- results(dds, contrast = c("condition", "B", "A"), alpha = 0.05)
  out <- data.frame(gene = rownames(res))
  for (column in c("baseMean", "log2FoldChange", "pvalue", "padj")) {
    out[[column]] <- ifelse(is.na(res[[column]]), "NA", sprintf("%.10g", res[[column]]))
  }
  file <- sprintf("R_DESeq2_geuvadis_%s.tsv", name)
  write.table(out, file, sep = "\t", quote = FALSE, row.names = FALSE)
  system2("gzip", c("-n", "-f", file))
  cat(name, ": ", nrow(out), " genes, ", sum(res$padj < 0.05, na.rm = TRUE), " at padj < 0.05, ",
      sum(is.na(res$padj)), " NA\n", sep = "")
}
for (mode in c("no", "scaledTPM", "lengthScaledTPM")) {
  write_results(suppressMessages(tximport(files, type = "salmon", tx2gene = tx2gene, countsFromAbundance = mode)), mode)
}
rsem_files <- setNames(file.path(data_dir, "rsem", paste0(runs, ".genes.results.gz")), runs)
rsem <- suppressMessages(tximport(rsem_files, type = "rsem", txIn = FALSE, txOut = FALSE))
rsem$length[rsem$length == 0] <- 1  # the tximport vignette's step; none of these four samples has one
write_results(rsem, "rsem")
